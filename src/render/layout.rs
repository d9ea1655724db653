//! The label layout: GB/T 41833 zones from top to bottom, scaled to the spec.
//!
//! | zone | holds |
//! |---|---|
//! | header | carrier, date, service |
//! | 目的地 | routing code (大头笔) large, consolidation hub (集包地) |
//! | 码号区 | Code 128 of the tracking number and its text |
//! | 收件人 | masked name, phone, address |
//! | 寄件人 | masked name, phone, address |
//! | bottom | 内件 (count and weight), 签收区, the QR token and its caption |
//!
//! Zone heights are set in tenths of a millimetre for a 100 × 150 mm label and
//! scaled to the space the QR code leaves; sizes scale with the resolution.

use super::code128::{self, Code128};
use super::font::{Fonts, Weight};
use super::qr::{self, Qr};
use super::text::{self, Align, Rect, Style};
use super::{Bitmap, CodeKind, Label, LabelSpec, PlacedCode, RenderWarning};
use crate::error::RenderError;
use crate::mask::{MaskedParty, MaskedWaybill};

/// Reference heights (0.1 mm) of the zones above the bottom one.
const HEADER: u32 = 100;
const DEST: u32 = 190;
const BARCODE: u32 = 200;
const RECIPIENT: u32 = 280;
const SENDER: u32 = 180;
const CAPTION: &str = "扫码派件 · 隐私信息已加密";

/// Renders a label from masked data and the token's text.
///
/// `token_text` is printed as a QR code (level M); it should be the sealed
/// token's text and never personal data. Nothing here accepts a full
/// [`Waybill`](crate::Waybill): only masked text reaches the label.
///
/// Rendering is CPU work, about 0.1–0.3 ms a label: under an async runtime, call it
/// from `tokio::task::spawn_blocking` or a worker pool rather than on the runtime's
/// threads. [`Fonts`] is cheap to clone and shares its glyph cache across threads.
///
/// ```
/// # #[cfg(feature = "bundled-font")] {
/// use time::OffsetDateTime;
/// use waybill_redact::{
///     mask, render, Fonts, KeyRing, LabelSpec, MaskPolicy, PngMode, Validity, Waybill,
/// };
///
/// let waybill = Waybill::from_json(r#"{"tracking_number": "SF1234567890123", "zone": 755021,
///   "recipient": {"name": "张三", "phone": "13812345678",
///                 "address": "广东省深圳市南山区深南大道10000号腾讯大厦1栋1001室"}}"#)?;
/// let ring = KeyRing::generate();
/// let now = OffsetDateTime::now_utc();
/// let token = ring.seal(&waybill, &Validity::days(now, 30)?)?;
/// let label = render(
///     &mask(&waybill, &MaskPolicy::default()),
///     token.as_str(),
///     &LabelSpec::MM_100X150,
///     &Fonts::bundled(),
/// )?;
/// assert_eq!(label.bitmap().width(), 799); // 100 mm at 203 dpi
/// let png = label.to_png(PngMode::OneBit)?;
/// assert!(png.starts_with(b"\x89PNG"));
/// # }
/// # Ok::<(), waybill_redact::Error>(())
/// ```
///
/// # Errors
/// - [`RenderError::MissingGlyph`] when a character is in no font (add a fallback
///   with [`Fonts::with_fallback`]);
/// - [`RenderError::TokenTooLong`] when the QR code does not fit the label;
/// - [`RenderError::Barcode`] when the tracking number cannot be drawn.
pub fn render(
    masked: &MaskedWaybill,
    token_text: &str,
    spec: &LabelSpec,
    fonts: &Fonts,
) -> Result<Label, RenderError> {
    let mut l = Layout {
        bm: Bitmap::new(spec.width_dots(), spec.height_dots()),
        spec: *spec,
        fonts,
        warnings: Vec::new(),
        codes: Vec::new(),
    };
    let (w, h) = (spec.width_dots(), spec.height_dots());
    let margin = spec.dots(20);
    let rule = spec.scale_min(2);
    let inner = w - 2 * margin;

    let qr = Qr::encode(token_text)?;
    let qmod = spec.scale_min(4);
    let qr_side = (qr.width() + 2 * qr::QUIET) * qmod;
    let caption_h = spec.dots(40);
    let bottom_min = qr_side + caption_h;
    let avail = h - 2 * margin;
    if qr_side > inner * 3 / 4 || bottom_min > avail / 2 {
        return Err(RenderError::TokenTooLong {
            len: token_text.len(),
        });
    }
    // Zones above the bottom one share what the QR code leaves, up to 1.25× their
    // reference size; any more goes to the bottom zone.
    let refs = [HEADER, DEST, BARCODE, RECIPIENT, SENDER].map(|r| spec.dots(r));
    let ref_sum: u32 = refs.iter().sum();
    let top_space = (avail - bottom_min).min(ref_sum * 5 / 4);
    let hs = refs.map(|r| r * top_space / ref_sum);

    let mut y = margin;
    let zone = |y: u32, h: u32| Rect::new(margin, y, inner, h);
    l.header(masked, zone(y, hs[0]))?;
    y += hs[0];
    l.rule(y, rule);
    l.destination(masked, zone(y, hs[1]))?;
    y += hs[1];
    l.rule(y, rule);
    l.barcode(masked, zone(y, hs[2]))?;
    y += hs[2];
    l.rule(y, rule);
    l.party(masked.recipient(), "收", "recipient", zone(y, hs[3]), true)?;
    y += hs[3];
    l.rule(y, rule);
    if let Some(sender) = masked.sender() {
        l.party(sender, "寄", "sender", zone(y, hs[4]), false)?;
    }
    y += hs[4];
    l.rule(y, rule);
    l.bottom(masked, &qr, qmod, zone(y, h - margin - y), rule, token_text)?;
    Ok(Label {
        bitmap: l.bm,
        spec: *spec,
        codes: l.codes,
        warnings: l.warnings,
    })
}

struct Layout<'a> {
    bm: Bitmap,
    spec: LabelSpec,
    fonts: &'a Fonts,
    warnings: Vec<RenderWarning>,
    codes: Vec<PlacedCode>,
}

impl Layout<'_> {
    fn text(
        &mut self,
        s: &str,
        field: &'static str,
        r: Rect,
        st: Style,
    ) -> Result<text::Placed, RenderError> {
        text::draw(
            &mut self.bm,
            self.fonts,
            &mut self.warnings,
            s,
            field,
            r,
            st,
        )
    }

    /// A full-width horizontal rule whose top edge is `y`.
    fn rule(&mut self, y: u32, t: u32) {
        let m = self.spec.dots(20);
        self.bm
            .fill_rect(m, y.saturating_sub(t / 2), self.bm.width() - 2 * m, t, true);
    }

    fn d(&self, tenth_mm: u32) -> u32 {
        self.spec.dots(tenth_mm)
    }

    fn header(&mut self, m: &MaskedWaybill, r: Rect) -> Result<(), RenderError> {
        let pad = self.d(10);
        let inner = Rect::new(r.x, r.y + pad, r.w, r.h - 2 * pad);
        let mut right = inner.x + inner.w;
        if let Some(service) = m.service() {
            let bw = inner.w * 3 / 10;
            right -= bw;
            self.bm.fill_rect(right, inner.y, bw, inner.h, true);
            let b = Rect::new(right + pad, inner.y, bw - 2 * pad, inner.h);
            let st = Style::new(Weight::Bold, inner.h * 7 / 10, self.d(25))
                .align(Align::Center)
                .inverted();
            self.text(service, "service", b, st)?;
            right -= pad;
        }
        let date_w = inner.w / 4;
        if let Some(t) = m.created_at() {
            right -= date_w;
            let date = format!("{}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day());
            let b = Rect::new(right, inner.y, date_w, inner.h);
            let st = Style::new(Weight::Regular, self.d(32), self.d(20)).align(Align::Right);
            self.text(&date, "created_at", b, st)?;
        }
        let carrier = m.carrier().unwrap_or("快递电子运单");
        let b = Rect::new(
            inner.x,
            inner.y,
            right.saturating_sub(inner.x + pad),
            inner.h,
        );
        let st = Style::new(Weight::Bold, inner.h * 8 / 10, self.d(25));
        self.text(carrier, "carrier", b, st)?;
        Ok(())
    }

    fn destination(&mut self, m: &MaskedWaybill, r: Rect) -> Result<(), RenderError> {
        // Without a sort code: the zone id, or for an international parcel (zone 0)
        // its destination country, so that the sorting zone is never blank.
        let country = m.recipient().country();
        let fallback = match m.zone() {
            0 if country != "CN" => Some(format!("国际 → {country}")),
            0 => None,
            zone => Some(zone.to_string()),
        };
        let sort = m
            .routing()
            .and_then(|r| r.sort_code())
            .map(str::to_owned)
            .or(fallback);
        let hub = m.routing().and_then(|r| r.hub());
        let pad = self.d(8);
        let hub_h = if hub.is_some() { r.h * 3 / 10 } else { 0 };
        if let Some(sort) = sort {
            let b = Rect::new(r.x, r.y + pad, r.w, r.h - hub_h - 2 * pad);
            let st = Style::new(Weight::Bold, b.h * 85 / 100, self.d(40)).align(Align::Center);
            self.text(&sort, "routing.sort_code", b, st)?;
        }
        if let Some(hub) = hub {
            let b = Rect::new(r.x, r.y + r.h - hub_h - pad / 2, r.w, hub_h);
            let st = Style::new(Weight::Bold, hub_h * 8 / 10, self.d(22)).align(Align::Center);
            self.text(&format!("集包地：{hub}"), "routing.hub", b, st)?;
        }
        Ok(())
    }

    fn barcode(&mut self, m: &MaskedWaybill, r: Rect) -> Result<(), RenderError> {
        let tn = m.tracking_number().as_str();
        let code = Code128::encode(tn)?;
        let minimum = self.spec.scale_min(3);
        let full = self.bm.width();
        // The quiet zones may reach into the white side margins, not past the edge.
        let fits = |module: u32| {
            (code.modules() + 2 * code128::QUIET) * module <= full && code.modules() * module <= r.w
        };
        let module = (1..=minimum * 2)
            .rev()
            .find(|&k| fits(k))
            .ok_or(RenderError::Barcode {
                reason: "tracking number too long for the label width",
            })?;
        if module < minimum {
            self.warnings
                .push(RenderWarning::NarrowBars { module, minimum });
        }
        let pad = self.d(12);
        let text_h = r.h * 26 / 100;
        let bar_h = r.h - text_h - 2 * pad;
        let bw = code.modules() * module;
        let x = (full - bw) / 2;
        code.draw(&mut self.bm, x, r.y + pad, module, bar_h);
        self.codes.push(PlacedCode {
            kind: CodeKind::Code128,
            data: tn.to_owned(),
            x,
            y: r.y + pad,
            width: bw,
            height: bar_h,
            module,
        });
        let b = Rect::new(r.x, r.y + pad + bar_h, r.w, text_h + pad / 2);
        let st = Style::new(Weight::Bold, text_h * 9 / 10, self.d(25)).align(Align::Center);
        self.text(tn, "tracking_number", b, st)?;
        Ok(())
    }

    fn party(
        &mut self,
        p: &MaskedParty,
        tag: &str,
        who: &'static str,
        r: Rect,
        big: bool,
    ) -> Result<(), RenderError> {
        let col = self.d(80);
        let t = self.spec.scale_min(2);
        self.bm.fill_rect(r.x + col, r.y, t, r.h, true);
        let tag_em = (col * 8 / 10).min(r.h * 8 / 10);
        self.text(
            tag,
            "label",
            Rect::new(r.x, r.y, col, r.h),
            Style::new(Weight::Bold, tag_em, tag_em).align(Align::Center),
        )?;
        let pad = self.d(15);
        let x = r.x + col + t + pad;
        let w = r.w - col - t - pad;
        let line_h = r.h * if big { 34 } else { 36 } / 100;
        let (name_em, addr_em, min_em) = if big {
            (self.d(48), self.d(40), self.d(28))
        } else {
            (self.d(36), self.d(30), self.d(24))
        };
        let top = r.y + self.d(8);
        // Name and phone share a line: the name gets at most 40 %, the phone
        // follows it.
        let name_w = w * 40 / 100;
        let field = |f: &'static str| match (who, f) {
            ("recipient", "name") => "recipient.name",
            ("recipient", "phone") => "recipient.phone",
            ("recipient", _) => "recipient.address",
            (_, "name") => "sender.name",
            (_, "phone") => "sender.phone",
            _ => "sender.address",
        };
        let weight = if big { Weight::Bold } else { Weight::Regular };
        let st = Style::new(weight, name_em, min_em);
        let name = self.text(
            p.name().as_str(),
            field("name"),
            Rect::new(x, top, name_w, line_h),
            st,
        )?;
        let px = x + name.width + 2 * pad;
        let phone_w = (x + w).saturating_sub(px);
        self.text(
            p.phone().as_str(),
            field("phone"),
            Rect::new(px, top, phone_w, line_h),
            st,
        )?;
        let ay = top + line_h;
        let b = Rect::new(x, ay, w, (r.y + r.h).saturating_sub(ay + self.d(8)));
        self.text(
            p.address().as_str(),
            field("address"),
            b,
            Style::new(weight, addr_em, min_em).top(),
        )?;
        Ok(())
    }

    fn bottom(
        &mut self,
        m: &MaskedWaybill,
        qr: &Qr,
        qmod: u32,
        r: Rect,
        t: u32,
        token: &str,
    ) -> Result<(), RenderError> {
        let quiet = qr::QUIET * qmod;
        let side = qr.width() * qmod + 2 * quiet;
        let qx = r.x + r.w - side;
        let qy = r.y + t;
        qr.draw(&mut self.bm, qx + quiet, qy + quiet, qmod);
        self.codes.push(PlacedCode {
            kind: CodeKind::Qr,
            data: token.to_owned(),
            x: qx + quiet,
            y: qy + quiet,
            width: qr.width() * qmod,
            height: qr.width() * qmod,
            module: qmod,
        });
        let cap = Rect::new(qx, qy + side, side, self.d(36));
        let st = Style::new(Weight::Bold, self.d(30), self.d(20)).align(Align::Center);
        self.text(CAPTION, "label", cap, st)?;
        // Left of the QR code: contents and weight, then the signature box.
        self.bm.fill_rect(qx - t, r.y, t, r.h, true);
        let pad = self.d(15);
        let lw = qx - t - r.x - pad;
        let em = self.d(32);
        let mut contents = String::from("内件：");
        contents.push_str(if m.items().as_str().is_empty() {
            "—"
        } else {
            m.items().as_str()
        });
        if let Some(g) = m.weight_grams() {
            contents.push_str(&format!("  重量：{}.{}kg", g / 1000, (g % 1000) / 100));
        }
        let items_h = r.h * 30 / 100;
        let b = Rect::new(r.x, r.y + pad, lw, items_h - pad);
        self.text(
            &contents,
            "items",
            b,
            Style::new(Weight::Regular, em, self.d(22)).top(),
        )?;
        let sy = r.y + items_h;
        self.bm.fill_rect(r.x, sy, lw + pad, t, true);
        let sign_h = r.h - items_h - t;
        let st = Style::new(Weight::Regular, self.d(30), self.d(20)).top();
        self.text(
            "签收区",
            "label",
            Rect::new(r.x, sy + pad, lw, self.d(40)),
            st,
        )?;
        let line_y = sy + sign_h / 2;
        self.text(
            "签收人：",
            "label",
            Rect::new(r.x, line_y - self.d(40), lw, self.d(40)),
            st,
        )?;
        self.text(
            "时间：",
            "label",
            Rect::new(r.x, sy + sign_h - self.d(50), lw, self.d(40)),
            st,
        )?;
        Ok(())
    }
}

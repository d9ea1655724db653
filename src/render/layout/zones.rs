//! The zones of the label, top to bottom, as [`Layout`] draws them. Each part
//! is tagged static (drawn into the per-spec template) or data (drawn per label).

use super::{Layout, CAPTION};
use crate::mask::{MaskedParty, MaskedWaybill};
use crate::render::code128::{self, Code128};
use crate::render::font::Weight;
use crate::render::qr::{self, Qr};
use crate::render::text::{Align, Rect, Style};
use crate::render::RenderError;
use crate::render::{CodeKind, PlacedCode, RenderWarning};

impl Layout<'_> {
    pub(super) fn header(&mut self, m: &MaskedWaybill, r: Rect) -> Result<(), RenderError> {
        let pad = self.d(10);
        let inner = Rect::new(r.x, r.y + pad, r.w, r.h - 2 * pad);
        // The logo depends on the spec alone: it is part of the template.
        #[cfg_attr(not(feature = "image"), allow(unused_mut))]
        let mut left = inner.x;
        #[cfg(feature = "image")]
        if let Some(logo) = self.spec.logo() {
            let logo = logo.fitted(inner.w / 4, inner.h);
            if self.statics() {
                let y = inner.y + (inner.h - logo.height()) / 2;
                self.bm.draw_bitmap(&logo, left, y);
            }
            left += logo.width() + pad;
        }
        if !self.data() {
            return Ok(());
        }
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
        let b = Rect::new(left, inner.y, right.saturating_sub(left + pad), inner.h);
        let st = Style::new(Weight::Bold, inner.h * 8 / 10, self.d(25));
        self.text(carrier, "carrier", b, st)?;
        Ok(())
    }

    pub(super) fn destination(&mut self, m: &MaskedWaybill, r: Rect) -> Result<(), RenderError> {
        if !self.data() {
            return Ok(());
        }
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

    pub(super) fn barcode(&mut self, m: &MaskedWaybill, r: Rect) -> Result<(), RenderError> {
        if !self.data() {
            return Ok(());
        }
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

    pub(super) fn party(
        &mut self,
        p: &MaskedParty,
        tag: &str,
        who: &'static str,
        r: Rect,
        big: bool,
    ) -> Result<(), RenderError> {
        let col = self.d(80);
        let t = self.spec.scale_min(2);
        if self.statics() {
            self.bm.fill_rect(r.x + col, r.y, t, r.h, true);
            let tag_em = (col * 8 / 10).min(r.h * 8 / 10);
            self.text(
                tag,
                "label",
                Rect::new(r.x, r.y, col, r.h),
                Style::new(Weight::Bold, tag_em, tag_em).align(Align::Center),
            )?;
        }
        if !self.data() {
            return Ok(());
        }
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
        // A name's character no font has prints as the mask mark: the name is
        // masked anyway, and the label still prints.
        let name_text = self.fonts.mask_uncovered(p.name().as_str(), p.mask_char());
        if name_text.is_some() {
            self.warnings.push(RenderWarning::NameGlyphMasked {
                field: field("name"),
            });
        }
        let name = self.text(
            name_text.as_deref().unwrap_or(p.name().as_str()),
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

    pub(super) fn bottom(
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
        let pad = self.d(15);
        let lw = qx - t - r.x - pad;
        let items_h = r.h * 30 / 100;
        if self.data() {
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
        }
        if self.statics() {
            let cap = Rect::new(qx, qy + side, side, self.d(36));
            let st = Style::new(Weight::Bold, self.d(30), self.d(20)).align(Align::Center);
            self.text(CAPTION, "label", cap, st)?;
            // Left of the QR code: contents and weight, then the signature box.
            self.bm.fill_rect(qx - t, r.y, t, r.h, true);
        }
        if self.data() {
            let mut contents = String::from("内件：");
            contents.push_str(if m.items().as_str().is_empty() {
                "—"
            } else {
                m.items().as_str()
            });
            if let Some(g) = m.weight_grams() {
                contents.push_str(&format!("  重量：{}.{}kg", g / 1000, (g % 1000) / 100));
            }
            let b = Rect::new(r.x, r.y + pad, lw, items_h - pad);
            let st = Style::new(Weight::Regular, self.d(32), self.d(22)).top();
            self.text(&contents, "items", b, st)?;
        }
        if self.statics() {
            self.signature(r, lw, items_h, t)?;
        }
        Ok(())
    }

    /// The signature box below the contents: its rule and captions.
    fn signature(&mut self, r: Rect, lw: u32, items_h: u32, t: u32) -> Result<(), RenderError> {
        let pad = self.d(15);
        let sy = r.y + items_h;
        self.bm.fill_rect(r.x, sy, lw + pad, t, true);
        let sign_h = r.h - items_h - t;
        let st = Style::new(Weight::Regular, self.d(30), self.d(20)).top();
        let h = self.d(40);
        self.text("签收区", "label", Rect::new(r.x, sy + pad, lw, h), st)?;
        let line_y = sy + sign_h / 2;
        self.text("签收人：", "label", Rect::new(r.x, line_y - h, lw, h), st)?;
        let ty = sy + sign_h - self.d(50);
        self.text("时间：", "label", Rect::new(r.x, ty, lw, h), st)?;
        Ok(())
    }
}

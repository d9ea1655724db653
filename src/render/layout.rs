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

mod zones;

use super::font::Fonts;
use super::qr::{self, Qr};
use super::template;
use super::text::{self, Blit, Rect, Style};
use super::{Bitmap, Label, LabelSpec, PlacedCode, RenderWarning};
use crate::mask::MaskedWaybill;
use crate::render::RenderError;

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
    render_recorded(masked, token_text, spec, fonts, false).map(|(label, _)| label)
}

/// [`render`], also returning every glyph drawn when `record` is set (benches
/// time drawing them alone).
pub(crate) fn render_recorded(
    masked: &MaskedWaybill,
    token_text: &str,
    spec: &LabelSpec,
    fonts: &Fonts,
    record: bool,
) -> Result<(Label, Vec<Blit>), RenderError> {
    let qr = Qr::encode(token_text)?;
    let geometry = Geometry::new(spec, &qr, token_text.len())?;
    let sender = masked.sender().is_some();
    // The static parts come from a copy of a template drawn once per spec, QR
    // size and sender presence, unless glyphs are recorded or no template could
    // be made (a static caption failed or was cut: then all is drawn as before).
    let template = match record {
        true => None,
        false => template::get((fonts.id(), spec.clone(), qr.width(), sender), || {
            let blank = Bitmap::new(geometry.w, geometry.h);
            let mut l = Layout::new(blank, spec, fonts, Pass::Static);
            match l.draw(masked, &qr, &geometry, token_text) {
                Ok(()) if l.warnings.is_empty() => Some(l.bm),
                _ => None,
            }
        }),
    };
    let (bm, pass) = match template {
        Some(t) => (Bitmap::clone(&t), Pass::Dynamic),
        None => (Bitmap::new(geometry.w, geometry.h), Pass::All),
    };
    let mut l = Layout::new(bm, spec, fonts, pass);
    l.record = record;
    l.draw(masked, &qr, &geometry, token_text)?;
    let mut warnings: Vec<RenderWarning> =
        masked.warnings().iter().map(RenderWarning::from).collect();
    warnings.append(&mut l.warnings);
    let label = Label {
        bitmap: l.bm,
        spec: spec.clone(),
        codes: l.codes,
        warnings,
    };
    Ok((label, l.blits))
}

/// Where the zones go, from the spec and the QR code's size.
struct Geometry {
    w: u32,
    h: u32,
    margin: u32,
    rule: u32,
    qmod: u32,
    /// Heights of the zones above the bottom one.
    hs: [u32; 5],
}

impl Geometry {
    fn new(spec: &LabelSpec, qr: &Qr, token_len: usize) -> Result<Geometry, RenderError> {
        let (w, h) = (spec.width_dots(), spec.height_dots());
        let margin = spec.dots(20);
        let inner = w - 2 * margin;
        let qmod = spec.scale_min(4);
        let qr_side = (qr.width() + 2 * qr::QUIET) * qmod;
        let caption_h = spec.dots(40);
        let bottom_min = qr_side + caption_h;
        let avail = h - 2 * margin;
        if qr_side > inner * 3 / 4 || bottom_min > avail / 2 {
            return Err(RenderError::TokenTooLong { len: token_len });
        }
        // Zones above the bottom one share what the QR code leaves, up to 1.25×
        // their reference size; any more goes to the bottom zone.
        let refs = [HEADER, DEST, BARCODE, RECIPIENT, SENDER].map(|r| spec.dots(r));
        let ref_sum: u32 = refs.iter().sum();
        let top_space = (avail - bottom_min).min(ref_sum * 5 / 4);
        Ok(Geometry {
            w,
            h,
            margin,
            rule: spec.scale_min(2),
            qmod,
            hs: refs.map(|r| r * top_space / ref_sum),
        })
    }
}

/// Which parts of the label a layout pass draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Everything, in one pass.
    All,
    /// The parts that depend only on the spec, the QR code's size and whether
    /// there is a sender (rules, frames, fixed captions): a template.
    Static,
    /// The rest, onto a copy of the template.
    Dynamic,
}

struct Layout<'a> {
    bm: Bitmap,
    spec: LabelSpec,
    fonts: &'a Fonts,
    warnings: Vec<RenderWarning>,
    codes: Vec<PlacedCode>,
    /// Glyphs of the text being drawn; all of the label's when `record` is set.
    blits: Vec<Blit>,
    record: bool,
    pass: Pass,
}

impl<'a> Layout<'a> {
    fn new(bm: Bitmap, spec: &LabelSpec, fonts: &'a Fonts, pass: Pass) -> Layout<'a> {
        Layout {
            bm,
            spec: spec.clone(),
            fonts,
            warnings: Vec::new(),
            codes: Vec::new(),
            blits: Vec::new(),
            record: false,
            pass,
        }
    }

    /// True when this pass draws the static parts.
    fn statics(&self) -> bool {
        self.pass != Pass::Dynamic
    }

    /// True when this pass draws the label's own data.
    fn data(&self) -> bool {
        self.pass != Pass::Static
    }

    /// Draws the zones, top to bottom.
    fn draw(
        &mut self,
        masked: &MaskedWaybill,
        qr: &Qr,
        g: &Geometry,
        token_text: &str,
    ) -> Result<(), RenderError> {
        let (hs, rule, margin) = (g.hs, g.rule, g.margin);
        let inner = g.w - 2 * margin;
        let mut y = margin;
        let zone = |y: u32, h: u32| Rect::new(margin, y, inner, h);
        self.header(masked, zone(y, hs[0]))?;
        y += hs[0];
        self.rule(y, rule);
        self.destination(masked, zone(y, hs[1]))?;
        y += hs[1];
        self.rule(y, rule);
        self.barcode(masked, zone(y, hs[2]))?;
        y += hs[2];
        self.rule(y, rule);
        self.party(masked.recipient(), "收", "recipient", zone(y, hs[3]), true)?;
        y += hs[3];
        self.rule(y, rule);
        if let Some(sender) = masked.sender() {
            self.party(sender, "寄", "sender", zone(y, hs[4]), false)?;
        }
        y += hs[4];
        self.rule(y, rule);
        let bottom = zone(y, g.h - margin - y);
        self.bottom(masked, qr, g.qmod, bottom, rule, token_text)
    }

    fn text(
        &mut self,
        s: &str,
        field: &'static str,
        r: Rect,
        st: Style,
    ) -> Result<text::Placed, RenderError> {
        if !self.record {
            self.blits.clear();
        }
        let start = self.blits.len();
        let placed = text::draw(
            &mut self.blits,
            self.fonts,
            &mut self.warnings,
            s,
            field,
            r,
            st,
        )?;
        for b in self.blits.get(start..).unwrap_or_default() {
            b.draw(&mut self.bm);
        }
        Ok(placed)
    }

    /// A full-width horizontal rule whose top edge is `y`.
    fn rule(&mut self, y: u32, t: u32) {
        if !self.statics() {
            return;
        }
        let m = self.spec.dots(20);
        self.bm
            .fill_rect(m, y.saturating_sub(t / 2), self.bm.width() - 2 * m, t, true);
    }

    fn d(&self, tenth_mm: u32) -> u32 {
        self.spec.dots(tenth_mm)
    }
}

//! Text fitting and drawing: shrink to a minimum size, then wrap, then ellipsis.
//! Text never leaves its box: every dot is clipped to it.

use std::rc::Rc;

use ab_glyph::GlyphId;
use unicode_segmentation::UnicodeSegmentation;

use super::bitmap::{Clip, Packed};
use super::font::{Fonts, Glyph, Weight};
use super::label::RenderWarning;
use super::shape::{self, needs_shaping};
use super::Bitmap;
use crate::render::RenderError;

/// Baseline below the line's top, in ems (CJK ideographs reach up to about 0.88).
const BASELINE: f32 = 0.90;
/// Line advance, in ems.
const LINE: f32 = 1.18;

/// A box in dots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    pub fn new(x: u32, y: u32, w: u32, h: u32) -> Rect {
        Rect { x, y, w, h }
    }
}

/// One glyph placed on the label: drawn by [`Blit::draw`], kept by the layout
/// when a label's glyphs are recorded (benches).
#[derive(Debug, Clone)]
pub(crate) struct Blit {
    glyph: Rc<Glyph>,
    /// Top-left dot of the glyph's ink.
    x: i32,
    y: i32,
    clip: Clip,
    black: bool,
}

impl Blit {
    /// Draws the glyph into `bm`, clipped to its text box.
    pub fn draw(&self, bm: &mut Bitmap) {
        let g = &self.glyph;
        let src = Packed {
            bits: &g.bits,
            stride: g.stride,
            width: g.width,
            words: &g.words,
        };
        bm.blit(src, self.x, self.y, self.clip, self.black);
    }
}

/// Horizontal alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// How a piece of text is set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub weight: Weight,
    /// Largest em size, dots.
    pub max_em: u16,
    /// Smallest em size before wrapping, then ellipsis.
    pub min_em: u16,
    pub align: Align,
    /// Centre the block vertically in its box (otherwise top-aligned).
    pub middle: bool,
    /// White text (on a black box the caller filled).
    pub invert: bool,
}

impl Style {
    /// Left-aligned, vertically centred, black.
    pub fn new(weight: Weight, max_em: u32, min_em: u32) -> Style {
        let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        Style {
            weight,
            max_em: clamp(max_em),
            min_em: clamp(min_em),
            align: Align::Left,
            middle: true,
            invert: false,
        }
    }

    /// With this horizontal alignment.
    pub fn align(mut self, align: Align) -> Style {
        self.align = align;
        self
    }

    /// Top-aligned instead of centred.
    pub fn top(mut self) -> Style {
        self.middle = false;
        self
    }

    /// White on black.
    pub fn inverted(mut self) -> Style {
        self.invert = true;
        self
    }
}

/// One glyph of shaped text.
#[derive(Debug, Clone, Copy)]
struct G {
    face: u8,
    id: GlyphId,
    /// First glyph of a grapheme cluster: a line may break before it.
    starts: bool,
    space: bool,
    /// From the shaper: advance and offset (x, y up) in font units; `None` for
    /// the face's own advance and no offset.
    pos: Option<(i32, i32, i32)>,
}

/// The advance of `g` at em size `em`, in dots.
fn advance(fonts: &Fonts, g: &G, em: u16) -> f32 {
    match g.pos {
        Some((a, _, _)) => a as f32 * fonts.dots_per_unit(g.face, em),
        None => fonts.advance(g.face, g.id, em),
    }
}

/// Where text went: the em size used and the widest line's width.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    #[allow(dead_code)] // read by the unit tests
    pub em: u16,
    pub width: u32,
}

/// Characters that have no glyph and take no room (joiners, variation selectors,
/// BOM); they are skipped rather than reported.
pub(crate) fn ignorable(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{E0100}'..='\u{E01EF}')
}

/// The byte length of the run at the start of `s` that the shaper takes: from a
/// character that needs it to the last one, with the spaces, joiners and
/// combining marks between them; 0 when `s` does not start with one.
fn complex_run(s: &str) -> usize {
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if needs_shaping(c) || (end > 0 && (ignorable(c) || ('\u{300}'..='\u{36F}').contains(&c))) {
            end = i + c.len_utf8();
        } else if !(end > 0 && c == ' ') {
            break;
        }
    }
    end
}

fn shape(fonts: &Fonts, w: Weight, text: &str, field: &'static str) -> Result<Vec<G>, RenderError> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let run = complex_run(rest);
        let n = if run > 0 {
            run
        } else {
            rest.find(needs_shaping).unwrap_or(rest.len())
        };
        let (part, after) = rest.split_at(n);
        if run == 0 || !shape_run(fonts, w, part, &mut out) {
            shape_simple(fonts, w, part, field, &mut out)?;
        }
        rest = after;
    }
    Ok(out)
}

/// Shapes a run with the face of its first character; false (and nothing
/// pushed) when that face lacks some of it.
fn shape_run(fonts: &Fonts, w: Weight, run: &str, out: &mut Vec<G>) -> bool {
    let Some((face, _)) = run.chars().next().and_then(|c| fonts.lookup(w, c)) else {
        return false;
    };
    let Some(glyphs) = shape::shape(fonts, face, run) else {
        return false;
    };
    let mut last = None;
    for s in glyphs {
        let at = usize::try_from(s.cluster).unwrap_or(usize::MAX);
        out.push(G {
            face,
            id: s.id,
            starts: last != Some(s.cluster),
            space: run.get(at..).is_some_and(|r| r.starts_with(' ')),
            pos: Some((s.advance, s.dx, s.dy)),
        });
        last = Some(s.cluster);
    }
    true
}

fn shape_simple(
    fonts: &Fonts,
    w: Weight,
    text: &str,
    field: &'static str,
    out: &mut Vec<G>,
) -> Result<(), RenderError> {
    for cluster in text.graphemes(true) {
        let mut starts = true;
        for ch in cluster.chars() {
            if ignorable(ch) {
                continue;
            }
            let ch = if ch.is_whitespace() { ' ' } else { ch };
            let (face, id) = fonts
                .lookup(w, ch)
                .ok_or(RenderError::MissingGlyph { ch, field })?;
            out.push(G {
                face,
                id,
                starts,
                space: ch == ' ',
                pos: None,
            });
            starts = false;
        }
    }
    Ok(())
}

fn width(fonts: &Fonts, gs: &[G], em: u16) -> f32 {
    gs.iter().map(|g| advance(fonts, g, em)).sum()
}

/// Greedy line breaking at grapheme boundaries, preferring the last space.
/// Returns `[start, end)` ranges into `gs`, spaces at the break dropped.
fn wrap(fonts: &Fonts, gs: &[G], em: u16, max_w: f32) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    while start < gs.len() {
        while gs.get(start).is_some_and(|g| g.space) {
            start += 1;
        }
        if start >= gs.len() {
            break;
        }
        let (mut x, mut i, mut last_space) = (0.0, start, None);
        while let Some(g) = gs.get(i) {
            let a = advance(fonts, g, em);
            if g.starts && x + a > max_w && i > start {
                break;
            }
            if g.space {
                last_space = Some(i);
            }
            x += a;
            i += 1;
        }
        let mut end = i;
        if i < gs.len() {
            // Break at the last space if the line holds one (keep Latin words whole).
            if let Some(s) = last_space.filter(|s| *s > start) {
                end = s;
            }
            // Never split a cluster: move back to its first glyph.
            while end > start + 1 && gs.get(end).is_some_and(|g| !g.starts) {
                end -= 1;
            }
        }
        lines.push((start, end));
        start = end.max(start + 1);
    }
    lines
}

fn line_h(em: u16) -> u32 {
    (f32::from(em) * LINE).ceil() as u32
}

/// Sets `text` in `rect`, fitted: the largest size from `max_em` down to
/// `min_em` at which it fits on one line, else wrapped at the largest size that
/// fits, else wrapped at `min_em` with the last line cut and ended by an ellipsis
/// (reported as a warning naming `field`). The glyphs are appended to `out`,
/// for the caller to [draw](Blit::draw).
pub(crate) fn draw(
    out: &mut Vec<Blit>,
    fonts: &Fonts,
    warnings: &mut Vec<RenderWarning>,
    text: &str,
    field: &'static str,
    rect: Rect,
    style: Style,
) -> Result<Placed, RenderError> {
    let gs = shape(fonts, style.weight, text, field)?;
    let max_w = rect.w as f32;
    // The box may be shorter than the styles assume: cap the sizes to its height.
    let cap = ((rect.h as f32) / LINE).floor().max(1.0) as u16;
    let max_em = style.max_em.min(cap).max(1);
    let min_em = style.min_em.min(max_em).max(1);
    let sizes = || (min_em..=max_em).rev();
    let mut chosen = None;
    for em in sizes() {
        if width(fonts, &gs, em) <= max_w {
            chosen = Some((em, vec![(0, gs.len())]));
            break;
        }
    }
    if chosen.is_none() {
        for em in sizes() {
            let lines = wrap(fonts, &gs, em, max_w);
            if lines.len() as u32 * line_h(em) <= rect.h {
                chosen = Some((em, lines));
                break;
            }
        }
    }
    let (em, lines, cut) = match chosen {
        Some((em, lines)) => (em, lines, None),
        None => {
            let keep = (rect.h / line_h(min_em)).max(1) as usize;
            let mut lines = wrap(fonts, &gs, min_em, max_w);
            lines.truncate(keep);
            warnings.push(RenderWarning::Truncated { field });
            (min_em, lines, Some(ellipsis(fonts, style.weight)))
        }
    };
    let n = lines.len();
    let block_h = n as u32 * line_h(em);
    let mut top = rect.y;
    if style.middle && block_h < rect.h {
        top += (rect.h - block_h) / 2;
    }
    let mut widest = 0u32;
    for (k, &(s, e)) in lines.iter().enumerate() {
        let mut line: Vec<G> = gs.get(s..e).unwrap_or_default().to_vec();
        while line.last().is_some_and(|g| g.space) {
            line.pop();
        }
        if k + 1 == n {
            if let Some(ell) = &cut {
                let ell_w = width(fonts, ell, em);
                while !line.is_empty() && width(fonts, &line, em) + ell_w > max_w {
                    line.pop();
                    while line.last().is_some_and(|g| !g.starts) {
                        line.pop();
                    }
                }
                line.extend_from_slice(ell);
            }
        }
        let w = width(fonts, &line, em);
        widest = widest.max(w.ceil() as u32);
        let x = match style.align {
            Align::Left => 0.0,
            Align::Center => ((max_w - w) / 2.0).max(0.0),
            Align::Right => (max_w - w).max(0.0),
        };
        let baseline = top as f32 + (k as u32 * line_h(em)) as f32 + f32::from(em) * BASELINE;
        let origin = (rect.x as f32 + x, baseline.round() as i32);
        place_line(out, fonts, &line, em, rect, origin, !style.invert);
    }
    Ok(Placed {
        em,
        width: widest.min(rect.w),
    })
}

fn ellipsis(fonts: &Fonts, w: Weight) -> Vec<G> {
    let g = |ch| {
        fonts.lookup(w, ch).map(|(face, id)| G {
            face,
            id,
            starts: true,
            space: false,
            pos: None,
        })
    };
    match g('…') {
        Some(e) => vec![e],
        None => g('.').map(|d| vec![d; 3]).unwrap_or_default(),
    }
}

fn place_line(
    out: &mut Vec<Blit>,
    fonts: &Fonts,
    line: &[G],
    em: u16,
    rect: Rect,
    (x0, baseline): (f32, i32),
    black: bool,
) {
    let clip = Clip {
        x0: rect.x as i32,
        y0: rect.y as i32,
        x1: rect.x.saturating_add(rect.w) as i32,
        y1: rect.y.saturating_add(rect.h) as i32,
    };
    let mut pen = x0;
    for g in line {
        let glyph = fonts.glyph(g.face, g.id, em);
        // A shaped glyph's offset: marks placed on their base (y is up in fonts).
        let (ox, oy) = match g.pos {
            Some((_, dx, dy)) => {
                let k = fonts.dots_per_unit(g.face, em);
                (dx as f32 * k, (dy as f32 * k).round() as i32)
            }
            None => (0.0, 0),
        };
        let advance = match g.pos {
            Some(_) => advance(fonts, g, em),
            None => glyph.advance,
        };
        if !glyph.bits.is_empty() {
            out.push(Blit {
                x: (pen + ox).round() as i32 + glyph.left,
                y: baseline - oy + glyph.top,
                clip,
                black,
                glyph,
            });
        }
        pen += advance;
    }
}

#[cfg(all(test, feature = "bundled-font"))]
mod tests {
    use super::*;

    fn style(max: u32, min: u32) -> Style {
        Style::new(Weight::Regular, max, min).top()
    }

    /// Sets and draws, as the layout does.
    fn draw_into(
        bm: &mut Bitmap,
        fonts: &Fonts,
        warnings: &mut Vec<RenderWarning>,
        text: &str,
        field: &'static str,
        rect: Rect,
        style: Style,
    ) -> Result<Placed, RenderError> {
        let mut blits = Vec::new();
        let placed = draw(&mut blits, fonts, warnings, text, field, rect, style)?;
        for b in &blits {
            b.draw(bm);
        }
        Ok(placed)
    }

    fn ink(bm: &Bitmap) -> Vec<(u32, u32)> {
        let mut v = Vec::new();
        for y in 0..bm.height() {
            for x in 0..bm.width() {
                if bm.get(x, y) {
                    v.push((x, y));
                }
            }
        }
        v
    }

    #[test]
    fn shrinks_then_wraps_then_cuts_and_never_leaves_the_box() {
        let f = Fonts::bundled();
        let r = Rect::new(10, 10, 200, 60);
        let cases = [
            ("短", false, 40),
            ("广东省深圳市南山区深南大道", false, 0),
            ("广".repeat(200).as_str().to_owned().leak() as &str, true, 0),
        ];
        for (text, truncated, em) in cases {
            let mut bm = Bitmap::new(240, 100);
            let mut w = Vec::new();
            let p = draw_into(&mut bm, &f, &mut w, text, "t", r, style(40, 16)).unwrap();
            assert_eq!(!w.is_empty(), truncated, "{text}");
            if em > 0 {
                assert_eq!(p.em, em);
            }
            let dots = ink(&bm);
            assert!(!dots.is_empty());
            assert!(dots
                .iter()
                .all(|&(x, y)| (10..210).contains(&x) && (10..70).contains(&y)));
        }
    }

    #[test]
    fn missing_character_is_an_error_naming_it() {
        let f = Fonts::bundled();
        let mut bm = Bitmap::new(100, 100);
        let e = draw_into(
            &mut bm,
            &f,
            &mut Vec::new(),
            "张😀",
            "recipient.name",
            Rect::new(0, 0, 100, 100),
            style(20, 10),
        );
        assert!(matches!(
            e,
            Err(RenderError::MissingGlyph {
                ch: '😀',
                field: "recipient.name"
            })
        ));
    }

    #[test]
    fn latin_wraps_at_spaces() {
        let f = Fonts::bundled();
        let gs = shape(&f, Weight::Regular, "Alice Johnson", "t").unwrap();
        let lines = wrap(&f, &gs, 20, width(&f, &gs, 20) - 5.0);
        assert_eq!(lines, vec![(0, 5), (6, 13)]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_text_stays_in_its_box(
            text in "[a-zA-Z0-9 广东省深圳市南山区硚埇*＊·の-]{1,120}",
            (x, y, w, h) in (0u32..40, 0u32..40, 1u32..300, 1u32..120),
            (max, min) in (1u32..80, 1u32..40),
        ) {
            let f = Fonts::bundled();
            let mut bm = Bitmap::new(360, 180);
            let mut warns = Vec::new();
            draw_into(&mut bm, &f, &mut warns, &text, "t", Rect::new(x, y, w, h), style(max, min)).unwrap();
            for (px, py) in ink(&bm) {
                proptest::prop_assert!((x..x + w).contains(&px) && (y..y + h).contains(&py));
            }
        }
    }
}

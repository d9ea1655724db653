//! Fonts: a regular and a bold face plus a fallback chain, and a cache of
//! rasterised, thresholded glyphs shared by every label rendered with them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ab_glyph::{Font, FontArc, FontVec, GlyphId, PxScale, ScaleFont};

use crate::error::RenderError;

/// Coverage at or above which a dot is printed. Slightly below one half, so that
/// thin horizontal strokes of small hanzi survive thresholding on thermal paper.
const CUTOFF: f32 = 0.42;

/// Entries kept in the glyph cache before it is cleared (a few sizes of a few
/// thousand distinct characters; each entry is a few hundred bytes).
const CACHE_LIMIT: usize = 50_000;

/// Which weight a piece of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// A glyph ready to blit: horizontal runs of black dots relative to the pen
/// position on the baseline, and the advance to the next pen position.
#[derive(Debug)]
pub(crate) struct Glyph {
    /// Advance in dots (fractional; the caller accumulates and rounds).
    pub advance: f32,
    /// `(dy, dx0, dx1)`: dots `dx0..dx1` of row `dy`, relative to the pen.
    pub runs: Vec<(i32, i32, i32)>,
}

/// The fonts labels are set in: a regular face, a bold face (the regular one
/// unless given), and fallback faces tried in order for characters the main
/// faces lack.
///
/// Cloning is cheap and clones share one glyph cache: glyphs are rasterised once
/// per (face, glyph, size) and blitted from the cache afterwards, which is
/// several times faster than rasterising each time.
///
/// A character no face has is never drawn as the font's `.notdef` box: rendering
/// fails with [`RenderError::MissingGlyph`] instead.
#[derive(Clone)]
pub struct Fonts {
    inner: Arc<Inner>,
}

struct Inner {
    /// Index 0 regular, 1 bold, then fallbacks.
    faces: Vec<FontArc>,
    cache: RwLock<HashMap<(u8, u16, u16), Arc<Glyph>>>,
}

impl core::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fonts")
            .field("faces", &self.inner.faces.len())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "bundled-font")]
fn parse_static(bytes: &'static [u8], index: u32) -> Result<FontArc, RenderError> {
    ab_glyph::FontRef::try_from_slice_and_index(bytes, index)
        .map(FontArc::new)
        .map_err(|_| RenderError::InvalidFont { index })
}

fn parse_owned(bytes: Vec<u8>, index: u32) -> Result<FontArc, RenderError> {
    FontVec::try_from_vec_and_index(bytes, index)
        .map(FontArc::new)
        .map_err(|_| RenderError::InvalidFont { index })
}

impl Fonts {
    /// The bundled Noto Sans CJK SC subset (GBK, Latin, kana), regular and bold.
    /// All calls share one glyph cache.
    #[cfg(feature = "bundled-font")]
    pub fn bundled() -> Fonts {
        static BUNDLED: std::sync::OnceLock<Fonts> = std::sync::OnceLock::new();
        BUNDLED
            .get_or_init(|| {
                let faces = [
                    waybill_redact_fonts::NOTO_SANS_CJK_SC_REGULAR,
                    waybill_redact_fonts::NOTO_SANS_CJK_SC_BOLD,
                ]
                .map(|b| {
                    // The bundled files are checked by tests; failing to parse them
                    // is a build defect, not an input error.
                    #[allow(clippy::expect_used)]
                    parse_static(b, 0).expect("bundled font parses")
                });
                Fonts::from_faces(faces.to_vec())
            })
            .clone()
    }

    /// Fonts from the caller's font file (TrueType, OpenType or a collection; `index`
    /// picks the face of a collection, 0 otherwise). Bold text uses the same face
    /// until [`with_bold`](Self::with_bold) gives one.
    ///
    /// # Errors
    /// [`RenderError::InvalidFont`] when the bytes are not a font or the index is out
    /// of range.
    pub fn from_bytes(bytes: Vec<u8>, index: u32) -> Result<Fonts, RenderError> {
        let face = parse_owned(bytes, index)?;
        Ok(Fonts::from_faces(vec![face.clone(), face]))
    }

    /// Sets the face used for bold text (the routing code, headings).
    ///
    /// # Errors
    /// [`RenderError::InvalidFont`] as for [`from_bytes`](Self::from_bytes).
    pub fn with_bold(self, bytes: Vec<u8>, index: u32) -> Result<Fonts, RenderError> {
        let mut faces = self.inner.faces.clone();
        if let Some(b) = faces.get_mut(1) {
            *b = parse_owned(bytes, index)?;
        }
        Ok(Fonts::from_faces(faces))
    }

    /// Appends a fallback face, tried (after the main face and earlier fallbacks)
    /// for characters the main faces do not have.
    ///
    /// # Errors
    /// [`RenderError::InvalidFont`] as for [`from_bytes`](Self::from_bytes), or
    /// [`RenderError::TooManyFonts`] past 32 fallbacks.
    pub fn with_fallback(self, bytes: Vec<u8>, index: u32) -> Result<Fonts, RenderError> {
        let mut faces = self.inner.faces.clone();
        if faces.len() >= 34 {
            return Err(RenderError::TooManyFonts);
        }
        faces.push(parse_owned(bytes, index)?);
        Ok(Fonts::from_faces(faces))
    }

    fn from_faces(faces: Vec<FontArc>) -> Fonts {
        Fonts {
            inner: Arc::new(Inner {
                faces,
                cache: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// True when some face has a glyph for `ch` (the `.notdef` glyph does not count).
    pub fn has_glyph(&self, ch: char) -> bool {
        self.lookup(Weight::Regular, ch).is_some()
    }

    /// The face index and glyph for `ch` in `weight`'s chain, or `None` when no
    /// face maps it (glyph id 0 is `.notdef`, never a real glyph).
    pub(crate) fn lookup(&self, weight: Weight, ch: char) -> Option<(u8, GlyphId)> {
        let first = match weight {
            Weight::Regular => 0,
            Weight::Bold => 1,
        };
        let chain = core::iter::once(first).chain(2..self.inner.faces.len());
        for i in chain {
            let face = self.inner.faces.get(i)?;
            let id = face.glyph_id(ch);
            if id.0 != 0 {
                return Some((u8::try_from(i).ok()?, id));
            }
        }
        None
    }

    /// Advance width of glyph `id` of face `face` at an em size of `em` dots.
    pub(crate) fn advance(&self, face: u8, id: GlyphId, em: u16) -> f32 {
        match self.inner.faces.get(usize::from(face)) {
            Some(font) => font.as_scaled(px_scale(font, em)).h_advance(id),
            None => 0.0,
        }
    }

    /// The cached glyph `id` of face `face` at an em size of `em` dots,
    /// rasterising it on first use.
    pub(crate) fn glyph(&self, face: u8, id: GlyphId, em: u16) -> Arc<Glyph> {
        let key = (face, id.0, em);
        if let Ok(cache) = self.inner.cache.read() {
            if let Some(g) = cache.get(&key) {
                return Arc::clone(g);
            }
        }
        let g = Arc::new(self.rasterise(face, id, em));
        if let Ok(mut cache) = self.inner.cache.write() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, Arc::clone(&g));
        }
        g
    }

    /// Rasterises and thresholds one glyph (on a cache miss).
    fn rasterise(&self, face: u8, id: GlyphId, em: u16) -> Glyph {
        let Some(font) = self.inner.faces.get(usize::from(face)) else {
            return Glyph {
                advance: 0.0,
                runs: Vec::new(),
            };
        };
        let scale = px_scale(font, em);
        let advance = font.as_scaled(scale).h_advance(id);
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(0.0, 0.0));
        let mut runs = Vec::new();
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            let (w, h) = (b.width() as usize, b.height() as usize);
            let mut cov = vec![0f32; w * h];
            outline.draw(|x, y, c| {
                if let Some(v) = cov.get_mut(y as usize * w + x as usize) {
                    *v = c;
                }
            });
            let (ox, oy) = (b.min.x as i32, b.min.y as i32);
            for (y, row) in cov.chunks(w.max(1)).enumerate() {
                let mut x = 0;
                while x < row.len() {
                    if row.get(x).is_some_and(|c| *c >= CUTOFF) {
                        let start = x;
                        while row.get(x).is_some_and(|c| *c >= CUTOFF) {
                            x += 1;
                        }
                        runs.push((oy + y as i32, ox + start as i32, ox + x as i32));
                    } else {
                        x += 1;
                    }
                }
            }
        }
        Glyph { advance, runs }
    }

    /// Number of cached glyphs (for tests and benches).
    pub fn cached_glyphs(&self) -> usize {
        self.inner.cache.read().map(|c| c.len()).unwrap_or(0)
    }
}

/// The `PxScale` whose em square is `em` dots. ab_glyph's `PxScale` is the
/// ascent-to-descent height, not the em, so convert through the font's metrics.
fn px_scale(font: &FontArc, em: u16) -> PxScale {
    let upem = font.units_per_em().unwrap_or(1000.0);
    let height = font.height_unscaled();
    PxScale::from(f32::from(em) * height / upem)
}

#[cfg(all(test, feature = "bundled-font"))]
mod tests {
    use super::*;

    #[test]
    fn rare_gbk_characters_are_present_and_arabic_is_not() {
        let f = Fonts::bundled();
        for ch in ['硚', '埇', '堃', '喆', 'A', '9', 'の', '＊', '·'] {
            assert!(f.has_glyph(ch), "{ch}");
        }
        for ch in ['م', '😀', '\u{10FFFF}'] {
            assert!(!f.has_glyph(ch), "{ch}");
        }
    }

    #[test]
    fn em_size_is_the_em_not_the_line_height() {
        let f = Fonts::bundled();
        let (face, id) = f.lookup(Weight::Regular, '国').unwrap();
        let g = f.glyph(face, id, 100);
        // A hanzi's advance is one em.
        assert!((g.advance - 100.0).abs() < 0.5, "{}", g.advance);
        let top = g.runs.iter().map(|r| r.0).min().unwrap_or(0);
        let bottom = g.runs.iter().map(|r| r.0).max().unwrap_or(0);
        // Ink spans most of the em, above and slightly below the baseline.
        assert!((-90..=-75).contains(&top) && (0..=12).contains(&bottom));
        assert!(f.cached_glyphs() > 0);
    }
}

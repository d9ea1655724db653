//! Fonts: a regular and a bold face plus a fallback chain, and a cache of
//! rasterised, thresholded glyphs shared by every label rendered with them.
//!
//! The cache has two levels: a map shared by all threads (behind a lock, taken
//! only when a thread meets a glyph for the first time) and a per-thread copy
//! that the hot path reads without any lock or atomic operation.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ab_glyph::{Font, FontArc, FontVec, GlyphId, PxScale, ScaleFont};

use crate::render::RenderError;

/// Coverage at or above which a dot is printed. Slightly below one half, so that
/// thin horizontal strokes of small hanzi survive thresholding on thermal paper.
const CUTOFF: f32 = 0.42;

/// Entries kept in the glyph cache before it is cleared (a few sizes of a few
/// thousand distinct characters; each entry is a few hundred bytes).
const CACHE_LIMIT: usize = 50_000;

/// Entries kept in each thread's copy of the cache before it is cleared. Lower
/// than the shared limit: a thread's copy also holds glyphs of `Fonts` that were
/// dropped (a program that makes a `Fonts` per request), until it is cleared.
const LOCAL_LIMIT: usize = 20_000;

/// Which weight a piece of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// A glyph ready to blit: its thresholded ink as packed 1-bit rows (the layout
/// of [`Bitmap`](super::Bitmap)), placed relative to the pen position on the
/// baseline, and the advance to the next pen position.
#[derive(Debug, Clone)]
pub(crate) struct Glyph {
    /// Advance in dots (fractional; the caller accumulates and rounds).
    pub advance: f32,
    /// Column of the ink's left edge, relative to the pen.
    pub left: i32,
    /// Row of the ink's first row, relative to the baseline (negative: above).
    pub top: i32,
    /// Ink width in dots.
    pub width: u32,
    /// Bytes per row (`ceil(width / 8)`).
    pub stride: usize,
    /// `stride` bytes per row, most significant bit first, padding bits 0; empty
    /// rows at the top and bottom are left out.
    pub bits: Vec<u8>,
    /// The same rows as words, when the ink is at most 57 dots wide (so that it
    /// still fits a word once shifted into place), else empty.
    pub words: Vec<u64>,
}

#[cfg(test)]
impl Glyph {
    /// Number of rows of ink.
    pub fn height(&self) -> usize {
        self.bits.len().checked_div(self.stride).unwrap_or(0)
    }
}

/// Cache key: fonts instance, face, glyph id, em size.
type Key = (u64, u8, u16, u16);

/// What [`Fonts::lookup`] finds for a character: a face index and its glyph.
type Found = Option<(u8, GlyphId)>;

/// A multiply-rotate hasher for the small integer keys of the glyph cache
/// (SipHash costs more than the blit it guards).
#[derive(Default)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

thread_local! {
    /// This thread's copy of the glyphs it has drawn, for every `Fonts`.
    static LOCAL: RefCell<FastMap<Key, Rc<Glyph>>> = RefCell::default();
    /// This thread's answers of [`Fonts::lookup`] (fonts instance, weight,
    /// character): a hash costs less than the faces' character maps.
    static LOOKUPS: RefCell<FastMap<(u64, Weight, char), Found>> = RefCell::default();
}

/// Source of the ids that tell `Fonts` instances apart in the per-thread caches.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

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
    /// Tells this instance's glyphs apart in the per-thread caches.
    id: u64,
    /// Index 0 regular, 1 bold, then fallbacks.
    faces: Vec<FontArc>,
    /// Each face's file and face index, for the shaper.
    data: Vec<FaceData>,
    /// Each face's height (ascent − descent) and units per em, in font units,
    /// read once: measuring text needs them for every glyph.
    metrics: Vec<(f32, f32)>,
    /// Glyphs rasterised by any thread.
    cache: RwLock<HashMap<(u8, u16, u16), Arc<Glyph>>>,
}

impl core::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fonts")
            .field("faces", &self.inner.faces.len())
            .finish_non_exhaustive()
    }
}

/// A face's font file and its index in it, kept for the shaper (ab_glyph does
/// not lend its bytes).
#[derive(Clone)]
pub(crate) enum FaceData {
    /// Bundled bytes.
    Static(&'static [u8], u32),
    /// The caller's bytes.
    Shared(Arc<[u8]>, u32),
}

impl FaceData {
    /// The file's bytes and the face's index.
    pub(crate) fn bytes(&self) -> (&[u8], u32) {
        match self {
            FaceData::Static(b, i) => (b, *i),
            FaceData::Shared(b, i) => (b, *i),
        }
    }
}

fn parse_static(bytes: &'static [u8], index: u32) -> Result<(FontArc, FaceData), RenderError> {
    ab_glyph::FontRef::try_from_slice_and_index(bytes, index)
        .map(|f| (FontArc::new(f), FaceData::Static(bytes, index)))
        .map_err(|_| RenderError::InvalidFont { index })
}

fn parse_owned(bytes: Vec<u8>, index: u32) -> Result<(FontArc, FaceData), RenderError> {
    let shared: Arc<[u8]> = Arc::from(bytes.as_slice());
    FontVec::try_from_vec_and_index(bytes, index)
        .map(|f| (FontArc::new(f), FaceData::Shared(shared, index)))
        .map_err(|_| RenderError::InvalidFont { index })
}

impl Fonts {
    /// The bundled Noto fonts: Noto Sans CJK SC (GBK, Big5, Latin, kana), regular
    /// and bold, then regular fallback faces for Latin Extended, Vietnamese, Greek,
    /// Cyrillic, Hangul, Arabic, Hebrew, Thai, Devanagari, Tibetan, Mongolian and
    /// Yi. All calls share one glyph cache.
    #[cfg(feature = "bundled-font")]
    #[cfg_attr(docsrs, doc(cfg(feature = "bundled-font")))]
    pub fn bundled() -> Fonts {
        static BUNDLED: std::sync::OnceLock<Fonts> = std::sync::OnceLock::new();
        BUNDLED
            .get_or_init(|| {
                let faces = [
                    waybill_redact_fonts::NOTO_SANS_CJK_SC_REGULAR,
                    waybill_redact_fonts::NOTO_SANS_CJK_SC_BOLD,
                ]
                .iter()
                .chain(waybill_redact_fonts_world::FACES.iter())
                .map(|b| {
                    // The bundled files are checked by tests; failing to parse them
                    // is a build defect, not an input error.
                    #[allow(clippy::expect_used)]
                    parse_static(b, 0).expect("bundled font parses")
                })
                .collect();
                Fonts::from_faces(faces)
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

    /// Fonts from font data the program already holds for its whole run (an
    /// `include_bytes!`, a leaked buffer, a memory map kept open): nothing is
    /// copied, unlike [`from_bytes`](Self::from_bytes).
    ///
    /// ```
    /// # #[cfg(feature = "bundled-font")] {
    /// use waybill_redact::Fonts;
    /// // Any `&'static [u8]` holding a TrueType or OpenType font works.
    /// static MY_FONT: &[u8] = waybill_redact_fonts::NOTO_SANS_CJK_SC_REGULAR;
    /// let fonts = Fonts::from_static(MY_FONT, 0)?;
    /// assert!(fonts.has_glyph('硚'));
    /// # }
    /// # Ok::<(), waybill_redact::RenderError>(())
    /// ```
    ///
    /// # Errors
    /// [`RenderError::InvalidFont`] when the bytes are not a font or the index is out
    /// of range.
    pub fn from_static(bytes: &'static [u8], index: u32) -> Result<Fonts, RenderError> {
        let face = parse_static(bytes, index)?;
        Ok(Fonts::from_faces(vec![face.clone(), face]))
    }

    /// Sets the face used for bold text (the routing code, headings).
    ///
    /// # Errors
    /// [`RenderError::InvalidFont`] as for [`from_bytes`](Self::from_bytes).
    pub fn with_bold(self, bytes: Vec<u8>, index: u32) -> Result<Fonts, RenderError> {
        let mut faces = self.faces();
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
        let mut faces = self.faces();
        if faces.len() >= 34 {
            return Err(RenderError::TooManyFonts);
        }
        faces.push(parse_owned(bytes, index)?);
        Ok(Fonts::from_faces(faces))
    }

    fn faces(&self) -> Vec<(FontArc, FaceData)> {
        self.inner
            .faces
            .iter()
            .cloned()
            .zip(self.inner.data.iter().cloned())
            .collect()
    }

    fn from_faces(faces: Vec<(FontArc, FaceData)>) -> Fonts {
        let (faces, data): (Vec<FontArc>, _) = faces.into_iter().unzip();
        let metrics = faces
            .iter()
            .map(|f| (f.height_unscaled(), f.units_per_em().unwrap_or(1000.0)))
            .collect();
        Fonts {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                faces,
                data,
                metrics,
                cache: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// The file and face index of face `face`, for the shaper.
    pub(crate) fn face_data(&self, face: u8) -> Option<&FaceData> {
        self.inner.data.get(usize::from(face))
    }

    /// Dots per font unit of face `face` at an em size of `em` dots.
    pub(crate) fn dots_per_unit(&self, face: u8, em: u16) -> f32 {
        match self.inner.metrics.get(usize::from(face)) {
            Some(&(_, upem)) => f32::from(em) / upem,
            None => 0.0,
        }
    }

    /// Tells this instance (and its clones) apart in per-thread caches.
    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    /// True when some face has a glyph for `ch` (the `.notdef` glyph does not count).
    pub fn has_glyph(&self, ch: char) -> bool {
        self.lookup(Weight::Regular, ch).is_some()
    }

    /// `text` with every grapheme that holds a character no face has replaced by
    /// `mark`; `None` when every character has a glyph.
    pub(crate) fn mask_uncovered(&self, text: &str, mark: char) -> Option<String> {
        use unicode_segmentation::UnicodeSegmentation;
        let covered = |g: &str| {
            g.chars()
                .all(|c| super::text::ignorable(c) || c.is_whitespace() || self.has_glyph(c))
        };
        if text.graphemes(true).all(covered) {
            return None;
        }
        Some(
            text.graphemes(true)
                .map(|g| {
                    if covered(g) {
                        g.to_owned()
                    } else {
                        mark.to_string()
                    }
                })
                .collect(),
        )
    }

    /// The face index and glyph for `ch` in `weight`'s chain, or `None` when no
    /// face maps it (glyph id 0 is `.notdef`, never a real glyph).
    pub(crate) fn lookup(&self, weight: Weight, ch: char) -> Option<(u8, GlyphId)> {
        let key = (self.inner.id, weight, ch);
        if let Some(hit) = LOOKUPS.with(|m| m.try_borrow().ok()?.get(&key).copied()) {
            return hit;
        }
        let found = self.lookup_faces(weight, ch);
        LOOKUPS.with(|m| {
            if let Ok(mut m) = m.try_borrow_mut() {
                if m.len() >= LOCAL_LIMIT {
                    m.clear();
                }
                m.insert(key, found);
            }
        });
        found
    }

    /// [`Fonts::lookup`] in the faces themselves.
    fn lookup_faces(&self, weight: Weight, ch: char) -> Option<(u8, GlyphId)> {
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
        let i = usize::from(face);
        match (self.inner.faces.get(i), self.inner.metrics.get(i)) {
            // `font.as_scaled(px_scale(font, em)).h_advance(id)`, the same float
            // operations in the same order, with the height and units per em
            // read once instead of from the font's tables each time.
            (Some(font), Some(&(height, upem))) => {
                f32::from(em) * height / upem / height * font.h_advance_unscaled(id)
            }
            _ => 0.0,
        }
    }

    /// The cached glyph `id` of face `face` at an em size of `em` dots,
    /// rasterising it on first use. Reads this thread's cache without a lock; on a
    /// miss, the shared cache, and only then the font.
    pub(crate) fn glyph(&self, face: u8, id: GlyphId, em: u16) -> Rc<Glyph> {
        let key = (self.inner.id, face, id.0, em);
        let hit = LOCAL.with(|local| local.try_borrow().ok()?.get(&key).cloned());
        if let Some(g) = hit {
            return g;
        }
        let g = Rc::new(Glyph::clone(&self.shared_glyph(face, id, em)));
        LOCAL.with(|local| {
            if let Ok(mut local) = local.try_borrow_mut() {
                if local.len() >= LOCAL_LIMIT {
                    local.clear();
                }
                local.insert(key, Rc::clone(&g));
            }
        });
        g
    }

    /// The glyph from the cache shared by all threads, rasterised on first use.
    fn shared_glyph(&self, face: u8, id: GlyphId, em: u16) -> Arc<Glyph> {
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
        let mut glyph = Glyph {
            advance: 0.0,
            left: 0,
            top: 0,
            width: 0,
            stride: 0,
            bits: Vec::new(),
            words: Vec::new(),
        };
        let Some(font) = self.inner.faces.get(usize::from(face)) else {
            return glyph;
        };
        let scale = px_scale(font, em);
        glyph.advance = font.as_scaled(scale).h_advance(id);
        let outlined = id.with_scale_and_position(scale, ab_glyph::point(0.0, 0.0));
        let Some(outline) = font.outline_glyph(outlined) else {
            return glyph;
        };
        let b = outline.px_bounds();
        let (w, h) = (b.width() as usize, b.height() as usize);
        let stride = w.div_ceil(8);
        let mut bits = vec![0u8; stride * h];
        outline.draw(|x, y, c| {
            let (x, y) = (x as usize, y as usize);
            if c >= CUTOFF && x < w {
                if let Some(byte) = bits.get_mut(y * stride + x / 8) {
                    *byte |= 0x80 >> (x % 8);
                }
            }
        });
        // Leave out empty rows above and below the ink.
        let inked = |row: &[u8]| row.iter().any(|b| *b != 0);
        let rows = || bits.chunks_exact(stride.max(1));
        let first = rows().position(inked).unwrap_or(h);
        let last = rows().rposition(inked).map_or(first, |r| r + 1);
        glyph.left = b.min.x as i32;
        glyph.top = b.min.y as i32 + first as i32;
        glyph.width = w as u32;
        glyph.stride = stride;
        glyph.bits = bits
            .get(first * stride..last * stride)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        if w <= 57 {
            glyph.words = glyph
                .bits
                .chunks_exact(stride.max(1))
                .map(|row| {
                    let mut word = [0u8; 8];
                    for (d, s) in word.iter_mut().zip(row) {
                        *d = *s;
                    }
                    u64::from_be_bytes(word)
                })
                .collect();
        }
        glyph
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
    fn rare_gbk_characters_and_world_scripts_are_present() {
        let f = Fonts::bundled();
        for ch in ['硚', '埇', '堃', '喆', 'A', '9', 'の', '＊', '·'] {
            assert!(f.has_glyph(ch), "{ch}");
        }
        // Latin Extended-A/B, Vietnamese, pinyin capitals, Greek, Cyrillic,
        // Hangul, Arabic and Uyghur, Hebrew, Thai, Devanagari, Tibetan,
        // Mongolian, Yi, and Big5's traditional characters.
        for ch in "ŁİŠŽŐŞĞȚĄĘŚĆČŘǍǏǑǓǗỆƠưΩжЖ한글힣ありمېאกनཀᠮꆈ臺灣廣東".chars()
        {
            assert!(f.has_glyph(ch), "{ch}");
        }
        for ch in ['😀', '\u{10FFFF}'] {
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
        let top = g.top;
        let bottom = g.top + g.height() as i32 - 1;
        // Ink spans most of the em, above and slightly below the baseline.
        assert!((-90..=-75).contains(&top) && (0..=12).contains(&bottom));
        assert!(f.cached_glyphs() > 0);
    }

    #[test]
    fn advances_are_ab_glyphs_to_the_bit() {
        let f = Fonts::bundled();
        for ch in ['A', 'i', '收', '8', ' ', 'ж', 'م'] {
            let (face, id) = f.lookup(Weight::Regular, ch).unwrap();
            let font = &f.inner.faces[usize::from(face)];
            for em in [7, 9, 24, 37, 80, 200] {
                let theirs = font.as_scaled(px_scale(font, em)).h_advance(id);
                assert_eq!(
                    f.advance(face, id, em).to_bits(),
                    theirs.to_bits(),
                    "{ch} {em}"
                );
            }
        }
    }

    #[test]
    fn remembered_lookups_are_per_fonts_and_weight() {
        let world = Fonts::bundled();
        let cjk_only =
            Fonts::from_bytes(waybill_redact_fonts::NOTO_SANS_CJK_SC_REGULAR.to_vec(), 0).unwrap();
        // Asked twice each, in turn: the second answers come from the cache.
        for _ in 0..2 {
            assert!(world.has_glyph('م'));
            assert!(!cjk_only.has_glyph('م'));
            for w in [Weight::Regular, Weight::Bold] {
                for fonts in [&world, &cjk_only] {
                    assert_eq!(fonts.lookup(w, '收'), fonts.lookup_faces(w, '收'));
                }
            }
        }
        assert_ne!(
            world.lookup(Weight::Regular, '收').map(|(face, _)| face),
            world.lookup(Weight::Bold, '收').map(|(face, _)| face)
        );
    }
}

//! Shaping with rustybuzz for scripts whose glyphs depend on their neighbours:
//! Arabic letters join, Hebrew and Arabic run right to left, and Indic, Thai,
//! Tibetan and Mongolian marks sit on their base.

use ab_glyph::GlyphId;

use super::font::Fonts;

/// One shaped glyph: its id in the face, the first character's byte offset in
/// the run (its cluster), and its advance and offset in font units.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shaped {
    pub id: GlyphId,
    pub cluster: u32,
    pub advance: i32,
    pub dx: i32,
    pub dy: i32,
}

/// True for characters of scripts that need a shaper.
pub(crate) fn needs_shaping(c: char) -> bool {
    matches!(c as u32,
        0x0590..=0x08FF      // Hebrew, Arabic, Syriac, Thaana, N'Ko, Arabic Extended
        | 0x0900..=0x0DFF    // Devanagari and the other Indic scripts
        | 0x0E00..=0x0FFF    // Thai, Lao, Tibetan
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x18AF    // Khmer, Mongolian
        | 0xA8E0..=0xA8FF    // Devanagari Extended
        | 0xFB1D..=0xFDFF    // Hebrew and Arabic presentation forms
        | 0xFE70..=0xFEFF)
}

/// Shapes `run` with face `face`. `None` when the face cannot be read by the
/// shaper or lacks a glyph for some character of the run.
pub(crate) fn shape(fonts: &Fonts, face: u8, run: &str) -> Option<Vec<Shaped>> {
    let (bytes, index) = fonts.face_data(face)?.bytes();
    let rb = rustybuzz::Face::from_slice(bytes, index)?;
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(run);
    buffer.guess_segment_properties();
    let out = rustybuzz::shape(&rb, &[], buffer);
    let glyphs: Option<Vec<Shaped>> = out
        .glyph_infos()
        .iter()
        .zip(out.glyph_positions())
        .map(|(info, pos)| {
            let id = u16::try_from(info.glyph_id).ok().filter(|id| *id != 0)?;
            Some(Shaped {
                id: GlyphId(id),
                cluster: info.cluster,
                advance: pos.x_advance,
                dx: pos.x_offset,
                dy: pos.y_offset,
            })
        })
        .collect();
    glyphs
}

#[cfg(all(test, feature = "bundled-font"))]
mod tests {
    use super::*;
    use crate::render::font::Weight;

    #[test]
    fn arabic_joins_and_runs_right_to_left() {
        let f = Fonts::bundled();
        let (face, isolated) = f.lookup(Weight::Regular, 'م').unwrap();
        let g = shape(&f, face, "محمد").unwrap();
        assert_eq!(g.len(), 4);
        // Visual order: the first letter (cluster 0) is drawn last, on the right.
        assert_eq!(g.last().map(|s| s.cluster), Some(0));
        // Joined: the initial meem is not the isolated form the cmap maps to.
        assert_ne!(g.last().map(|s| s.id), Some(isolated));
    }

    #[test]
    fn devanagari_reorders_the_i_sign_and_thai_marks_stay_on_their_base() {
        let f = Fonts::bundled();
        let (face, _) = f.lookup(Weight::Regular, 'क').unwrap();
        // कि: the vowel sign i (cluster 0 as well) is drawn before the consonant.
        let g = shape(&f, face, "कि").unwrap();
        assert_eq!(g.len(), 2);
        let (_, ka) = f.lookup(Weight::Regular, 'क').unwrap();
        assert_eq!(g.get(1).map(|s| s.id), Some(ka));
        let (face, _) = f.lookup(Weight::Regular, 'ก').unwrap();
        let g = shape(&f, face, "กี่").unwrap();
        // Two marks over one base: they take no room of their own.
        assert_eq!(g.iter().filter(|s| s.advance == 0).count(), 2);
        assert!(needs_shaping('ก') && !needs_shaping('中') && !needs_shaping('A'));
    }
}

//! Label sizes and resolutions.

use crate::render::RenderError;

/// The physical size and printer resolution of a label.
///
/// # Guarantees
/// Width 50–210 mm, height 70–300 mm and at least 6/5 of the width (labels are
/// portrait), resolution 150–600 dpi. Presets are at 203 dpi (8 dots/mm).
///
/// Specs compare equal when their sizes, resolutions and logos are the same (a
/// logo by identity: the same [`Logo`](crate::Logo) value, shared).
#[derive(Debug, Clone)]
pub struct LabelSpec {
    width_mm: u16,
    height_mm: u16,
    dpi: u16,
    #[cfg(feature = "image")]
    logo: Option<std::sync::Arc<super::Logo>>,
}

impl LabelSpec {
    /// The logo, as a pointer for equality and hashing.
    fn logo_id(&self) -> usize {
        #[cfg(feature = "image")]
        if let Some(logo) = &self.logo {
            return std::sync::Arc::as_ptr(logo) as usize;
        }
        0
    }
}

impl PartialEq for LabelSpec {
    fn eq(&self, other: &Self) -> bool {
        (self.width_mm, self.height_mm, self.dpi, self.logo_id())
            == (other.width_mm, other.height_mm, other.dpi, other.logo_id())
    }
}

impl Eq for LabelSpec {}

impl core::hash::Hash for LabelSpec {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        (self.width_mm, self.height_mm, self.dpi, self.logo_id()).hash(state);
    }
}

impl LabelSpec {
    /// 76 × 130 mm, the small one-ply label, 203 dpi.
    pub const MM_76X130: LabelSpec = LabelSpec::preset(76, 130);
    /// 100 × 150 mm (about 4 × 6 in), the common one-ply label, 203 dpi.
    pub const MM_100X150: LabelSpec = LabelSpec::preset(100, 150);
    /// 100 × 180 mm, the tall one-ply label, 203 dpi.
    pub const MM_100X180: LabelSpec = LabelSpec::preset(100, 180);

    const fn preset(width_mm: u16, height_mm: u16) -> LabelSpec {
        LabelSpec {
            width_mm,
            height_mm,
            dpi: 203,
            #[cfg(feature = "image")]
            logo: None,
        }
    }

    /// A custom label size.
    ///
    /// # Errors
    /// [`RenderError::InvalidSpec`] outside the ranges in the type's guarantees.
    pub fn new(width_mm: u16, height_mm: u16, dpi: u16) -> Result<LabelSpec, RenderError> {
        let reason = if !(50..=210).contains(&width_mm) {
            "width must be 50-210 mm"
        } else if !(70..=300).contains(&height_mm) {
            "height must be 70-300 mm"
        } else if u32::from(height_mm) * 5 < u32::from(width_mm) * 6 {
            "height must be at least 6/5 of the width"
        } else if !(150..=600).contains(&dpi) {
            "resolution must be 150-600 dpi"
        } else {
            return Ok(LabelSpec {
                width_mm,
                height_mm,
                dpi,
                #[cfg(feature = "image")]
                logo: None,
            });
        };
        Err(RenderError::InvalidSpec { reason })
    }

    /// The same size at another resolution (300 dpi printers).
    ///
    /// # Errors
    /// [`RenderError::InvalidSpec`] outside 150–600 dpi.
    pub fn with_dpi(self, dpi: u16) -> Result<LabelSpec, RenderError> {
        #[cfg_attr(not(feature = "image"), allow(unused_mut))]
        let mut spec = LabelSpec::new(self.width_mm, self.height_mm, dpi)?;
        #[cfg(feature = "image")]
        {
            spec.logo = self.logo;
        }
        Ok(spec)
    }

    /// The same label with the carrier's logo at the left of the header.
    #[cfg(feature = "image")]
    pub fn with_logo(mut self, logo: super::Logo) -> LabelSpec {
        self.logo = Some(std::sync::Arc::new(logo));
        self
    }

    /// The logo printed in the header, if any.
    #[cfg(feature = "image")]
    pub fn logo(&self) -> Option<&super::Logo> {
        self.logo.as_deref()
    }

    /// Width in millimetres.
    pub fn width_mm(&self) -> u16 {
        self.width_mm
    }

    /// Height in millimetres.
    pub fn height_mm(&self) -> u16 {
        self.height_mm
    }

    /// Resolution in dots per inch.
    pub fn dpi(&self) -> u16 {
        self.dpi
    }

    /// Width in dots (`width_mm × dpi / 25.4`, rounded).
    pub fn width_dots(&self) -> u32 {
        mm_to_dots(u32::from(self.width_mm) * 10, self.dpi)
    }

    /// Height in dots.
    pub fn height_dots(&self) -> u32 {
        mm_to_dots(u32::from(self.height_mm) * 10, self.dpi)
    }

    /// Tenths of a millimetre to dots at this resolution, rounded.
    pub(crate) fn dots(&self, tenth_mm: u32) -> u32 {
        mm_to_dots(tenth_mm, self.dpi)
    }

    /// A minimum size given in dots at 203 dpi, scaled up (rounding up) to this
    /// resolution, so that at 300 dpi a 3-dot bar becomes 5 dots, not 4.43.
    pub(crate) fn scale_min(&self, dots_at_203: u32) -> u32 {
        (dots_at_203 * u32::from(self.dpi)).div_ceil(203)
    }
}

fn mm_to_dots(tenth_mm: u32, dpi: u16) -> u32 {
    (tenth_mm * u32::from(dpi) + 127) / 254
}

/// A label size in millimetres, parsed from text such as `100x150` (for command
/// lines and configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LabelSize {
    /// Width in millimetres.
    pub width_mm: u16,
    /// Height in millimetres.
    pub height_mm: u16,
}

impl LabelSize {
    /// A size of `width_mm` by `height_mm` millimetres (checked by
    /// [`at_dpi`](Self::at_dpi)).
    pub const fn new(width_mm: u16, height_mm: u16) -> Self {
        Self {
            width_mm,
            height_mm,
        }
    }

    /// The spec for this size at `dpi`.
    ///
    /// # Errors
    /// [`RenderError::InvalidSpec`] as for [`LabelSpec::new`].
    pub fn at_dpi(self, dpi: u16) -> Result<LabelSpec, RenderError> {
        LabelSpec::new(self.width_mm, self.height_mm, dpi)
    }
}

impl core::str::FromStr for LabelSize {
    type Err = RenderError;

    /// Parses `WxH` in millimetres (`x`, `X` or `×`), for example `100x150`.
    fn from_str(s: &str) -> Result<LabelSize, RenderError> {
        let bad = RenderError::InvalidSpec {
            reason: "size must look like 100x150 (millimetres)",
        };
        let (w, h) = s.trim().split_once(['x', 'X', '×']).ok_or(bad.clone())?;
        let w = w.trim().parse::<u16>().map_err(|_| bad.clone())?;
        let h = h
            .trim()
            .trim_end_matches("mm")
            .parse::<u16>()
            .map_err(|_| bad)?;
        // Validate the size now so that a bad `--size` fails before any work.
        LabelSpec::new(w, h, 203)?;
        Ok(LabelSize {
            width_mm: w,
            height_mm: h,
        })
    }
}

impl core::fmt::Display for LabelSize {
    /// `WxH` in millimetres (`100x150`), as [`FromStr`](core::str::FromStr) reads it.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}x{}", self.width_mm, self.height_mm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_dots() {
        assert_eq!(LabelSpec::MM_100X150.width_dots(), 799);
        assert_eq!(LabelSpec::MM_100X150.height_dots(), 1199);
        let hi = LabelSpec::MM_76X130.with_dpi(300).unwrap();
        assert_eq!((hi.width_dots(), hi.height_dots()), (898, 1535));
        assert_eq!(hi.scale_min(3), 5);
        assert_eq!(hi.scale_min(4), 6);
        assert_eq!(LabelSpec::MM_100X180.scale_min(4), 4);
    }

    #[test]
    fn absurd_sizes_are_errors() {
        for (w, h, d) in [
            (0, 0, 203),
            (100, 150, 0),
            (100, 100, 203),
            (5000, 9000, 203),
            (100, 150, 60000),
        ] {
            assert!(matches!(
                LabelSpec::new(w, h, d),
                Err(RenderError::InvalidSpec { .. })
            ));
        }
        assert_eq!(
            "100x150".parse::<LabelSize>().unwrap().at_dpi(203).unwrap(),
            LabelSpec::MM_100X150
        );
        assert_eq!("76×130".parse::<LabelSize>().unwrap().height_mm, 130);
        for s in [
            "",
            "100",
            "x150",
            "100x",
            "-1x150",
            "100x150x2",
            "99999x99999",
        ] {
            assert!(s.parse::<LabelSize>().is_err(), "{s}");
        }
    }
}

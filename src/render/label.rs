//! A rendered label: the raster, its spec, where its codes are, and what had to
//! be cut to fit.

use super::{Bitmap, LabelSpec, PlacedCode};
use crate::mask::MaskWarning;

/// Something the caller may want to know about a label that was still rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenderWarning {
    /// A text did not fit its zone even at the smallest size and wrapped, and was
    /// cut with an ellipsis. The named field (`recipient.address`, …) is incomplete
    /// on the label; the full value is still in the token.
    Truncated {
        /// Path of the field, such as `recipient.address`.
        field: &'static str,
    },
    /// The tracking barcode is too long for the label at the minimum bar width
    /// (3 dots at 203 dpi, scaled at higher resolutions) and was drawn with
    /// narrower bars. It still reads from a clean print, but less reliably from a
    /// photo; use a wider label for long tracking numbers.
    NarrowBars {
        /// Dots per narrowest bar used.
        module: u32,
        /// The minimum it should have had.
        minimum: u32,
    },
    /// The zone is a division code and the recipient's address names another
    /// division (see [`MaskWarning::ZoneMismatch`]).
    ZoneMismatch {
        /// The waybill's zone.
        zone: u32,
    },
    /// A character of a name is in no font and was printed as the mask mark. The
    /// name is masked anyway; the full name is still in the token.
    NameGlyphMasked {
        /// Path of the field, such as `recipient.name`.
        field: &'static str,
    },
}

impl From<&MaskWarning> for RenderWarning {
    fn from(w: &MaskWarning) -> Self {
        match w {
            MaskWarning::ZoneMismatch { zone } => RenderWarning::ZoneMismatch { zone: *zone },
        }
    }
}

impl core::fmt::Display for RenderWarning {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RenderWarning::Truncated { field } => write!(f, "{field} was cut to fit the label"),
            RenderWarning::NarrowBars { module, minimum } => write!(
                f,
                "barcode drawn with {module}-dot bars, below the {minimum}-dot minimum"
            ),
            RenderWarning::ZoneMismatch { zone } => write!(
                f,
                "zone {zone} is a division code, and recipient.address names another one"
            ),
            RenderWarning::NameGlyphMasked { field } => {
                write!(
                    f,
                    "{field} has a character no font has; printed as the mask mark"
                )
            }
        }
    }
}

/// A rendered label.
///
/// Every output format is made from [`bitmap`](Self::bitmap): PNG via
/// [`to_png`](Self::to_png), and the printer formats.
#[derive(Clone)]
pub struct Label {
    pub(crate) bitmap: Bitmap,
    pub(crate) spec: LabelSpec,
    pub(crate) codes: Vec<PlacedCode>,
    pub(crate) warnings: Vec<RenderWarning>,
}

impl Label {
    /// The 1-bit raster, `spec().width_dots()` × `spec().height_dots()`.
    pub fn bitmap(&self) -> &Bitmap {
        &self.bitmap
    }

    /// The label's size and resolution.
    pub fn spec(&self) -> &LabelSpec {
        &self.spec
    }

    /// Resolution in dots per inch.
    pub fn dpi(&self) -> u16 {
        self.spec.dpi()
    }

    /// The Code 128 and the QR code as drawn (position, module size, data), so
    /// printer formats can draw them natively.
    pub fn codes(&self) -> &[PlacedCode] {
        &self.codes
    }

    /// What had to be cut or narrowed to fit; empty for most labels.
    pub fn warnings(&self) -> &[RenderWarning] {
        &self.warnings
    }
}

impl core::fmt::Debug for Label {
    // The raster shows masked data only, but a dump of it is useless in logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Label")
            .field("spec", &self.spec)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

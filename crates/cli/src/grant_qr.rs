//! `grant --qr FILE.png`: the grant as a QR code, for the issuer to print or
//! show, and for the courier's app to scan with the camera it scans labels with.

use std::path::Path;

use image::{GrayImage, ImageEncoder, Luma};
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module: a phone reads it from a screen or a sheet at arm's length.
const MODULE: u32 = 8;
/// The quiet zone, in modules (ISO/IEC 18004 asks for 4).
const QUIET: u32 = 4;

/// The grant's QR code as an 8-bit gray PNG.
///
/// # Errors
/// When the text does not fit a QR code (a grant always does) or PNG encoding fails.
pub fn png(text: &str) -> Result<Vec<u8>, String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| format!("the grant does not fit a QR code: {e}"))?;
    let width = u32::try_from(code.width()).map_err(|e| e.to_string())?;
    let colors = code.to_colors();
    let side = (width + 2 * QUIET) * MODULE;
    let img = GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (
            (x / MODULE).wrapping_sub(QUIET),
            (y / MODULE).wrapping_sub(QUIET),
        );
        let dark = mx < width
            && my < width
            && colors.get((my * width + mx) as usize) == Some(&Color::Dark);
        Luma([if dark { 0 } else { 255 }])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), side, side, image::ExtendedColorType::L8)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Writes the grant's QR code to `path`, owner-only: the picture is the grant.
///
/// # Errors
/// A message naming the file.
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    let bytes = png(text)?;
    crate::files::write_atomic(path, &bytes, 0o600).map_err(|e| format!("{}: {e}", path.display()))
}

//! The carrier's logo in the label header: any picture the `image` crate reads,
//! made 1-bit once per size it is printed at.

use std::sync::{Arc, Mutex, PoisonError};

use image::imageops::{self, colorops::BiLevel, FilterType};
use image::{DynamicImage, GrayImage};

use super::Bitmap;
use crate::render::{LogoProblem, RenderError};

/// Largest logo accepted, in pixels a side: a logo is a few centimetres wide.
const MAX_SIDE: u32 = 4096;

/// How a gray or colour logo becomes black and white dots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogoMode {
    /// One threshold for the whole picture, chosen by Otsu's method: crisp edges
    /// for flat-colour logos and word marks (the default).
    #[default]
    Threshold,
    /// Floyd–Steinberg error diffusion: keeps gradients and photos recognisable.
    Dither,
}

/// The 1-bit logo drawn for one (box width, box height).
type Fitted = ((u32, u32), Arc<Bitmap>);

/// A carrier logo for the label header.
///
/// It is scaled to the header (keeping its proportions, at most a quarter of the
/// label's width) and turned 1-bit by [`LogoMode`]; each size it is printed at is
/// computed once and cached, so a batch pays for it once.
///
/// ```
/// use image::{DynamicImage, GrayImage, Luma};
/// use waybill_redact::{LabelSpec, Logo, LogoMode};
/// // A black disc on white, as a carrier's mark might be.
/// let mark = GrayImage::from_fn(120, 60, |x, y| {
///     let (dx, dy) = (x as i32 - 30, y as i32 - 30);
///     Luma([if dx * dx + dy * dy < 400 { 0 } else { 255 }])
/// });
/// let logo = Logo::from_image(&DynamicImage::ImageLuma8(mark), LogoMode::Threshold)?;
/// let spec = LabelSpec::MM_100X150.with_logo(logo);
/// assert!(spec.logo().is_some());
/// # Ok::<(), waybill_redact::RenderError>(())
/// ```
pub struct Logo {
    gray: GrayImage,
    mode: LogoMode,
    cache: Mutex<Vec<Fitted>>,
}

impl core::fmt::Debug for Logo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Logo")
            .field("width", &self.gray.width())
            .field("height", &self.gray.height())
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Logo {
    /// A logo from a decoded picture. Transparent pixels count as white.
    ///
    /// # Errors
    /// [`RenderError::InvalidLogo`] for an empty picture, or one larger than
    /// 4096 pixels a side.
    pub fn from_image(image: &DynamicImage, mode: LogoMode) -> Result<Logo, RenderError> {
        let (w, h) = (image.width(), image.height());
        if w == 0 || h == 0 {
            return Err(RenderError::InvalidLogo {
                problem: LogoProblem::Empty,
            });
        }
        if w > MAX_SIDE || h > MAX_SIDE {
            return Err(RenderError::InvalidLogo {
                problem: LogoProblem::TooLarge,
            });
        }
        // Flatten alpha onto white, so a transparent background prints as paper.
        let rgba = image.to_rgba8();
        let gray = GrayImage::from_fn(w, h, |x, y| {
            let [r, g, b, a] = rgba.get_pixel(x, y).0;
            let luma = (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
            let a = u32::from(a);
            image::Luma([((luma * a + 255 * (255 - a)) / 255) as u8])
        });
        Ok(Logo {
            gray,
            mode,
            cache: Mutex::new(Vec::new()),
        })
    }

    /// A logo from PNG or JPEG bytes.
    ///
    /// # Errors
    /// [`RenderError::InvalidLogo`] when the bytes are not a PNG or JPEG picture,
    /// and as for [`from_image`](Self::from_image).
    pub fn from_bytes(bytes: &[u8], mode: LogoMode) -> Result<Logo, RenderError> {
        let image = image::load_from_memory(bytes).map_err(|_| RenderError::InvalidLogo {
            problem: LogoProblem::Undecodable,
        })?;
        Logo::from_image(&image, mode)
    }

    /// The logo fitted into a `w` × `h` dot box (proportions kept), 1-bit.
    pub(crate) fn fitted(&self, w: u32, h: u32) -> Arc<Bitmap> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, bm)) = cache.iter().find(|(size, _)| *size == (w, h)) {
            return Arc::clone(bm);
        }
        let bm = Arc::new(self.draw(w, h));
        cache.push(((w, h), Arc::clone(&bm)));
        bm
    }

    fn draw(&self, box_w: u32, box_h: u32) -> Bitmap {
        let (sw, sh) = (u64::from(self.gray.width()), u64::from(self.gray.height()));
        // The largest size with the logo's proportions that fits the box.
        let (w, h) = if u64::from(box_w) * sh <= u64::from(box_h) * sw {
            (box_w, (u64::from(box_w) * sh / sw) as u32)
        } else {
            ((u64::from(box_h) * sw / sh) as u32, box_h)
        };
        if w == 0 || h == 0 {
            return Bitmap::new(0, 0);
        }
        let mut scaled = imageops::resize(&self.gray, w, h, FilterType::Triangle);
        let threshold = match self.mode {
            LogoMode::Threshold => otsu_level(&scaled).saturating_add(1),
            LogoMode::Dither => {
                imageops::dither(&mut scaled, &BiLevel);
                128
            }
        };
        Bitmap::from_gray_image(&scaled, threshold)
    }
}

/// Otsu's threshold of a gray picture: the level that best separates its
/// histogram into two classes (the largest between-class variance). Pixels at
/// or below it are the dark class. The same result as imageproc's `otsu_level`,
/// over our own histogram, so the `image` feature needs no imageproc.
pub(crate) fn otsu_level(image: &GrayImage) -> u8 {
    let mut histogram = [0u64; 256];
    for pixel in image.pixels() {
        histogram[usize::from(pixel.0[0])] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let total_sum: f64 = (0u32..)
        .zip(histogram)
        .map(|(level, count)| f64::from(level) * count as f64)
        .sum();
    let (mut dark_weight, mut dark_sum) = (0u64, 0f64);
    let (mut best, mut best_level) = (0f64, 0u8);
    for (level, count) in (0u8..=255).zip(histogram) {
        dark_weight += count;
        if dark_weight == 0 {
            continue;
        }
        let light_weight = total - dark_weight;
        if light_weight == 0 {
            break;
        }
        dark_sum += f64::from(level) * count as f64;
        let diff = dark_sum / dark_weight as f64 - (total_sum - dark_sum) / light_weight as f64;
        let variance = dark_weight as f64 * light_weight as f64 * diff * diff;
        if variance > best {
            best = variance;
            best_level = level;
        }
    }
    best_level
}

#[cfg(test)]
mod otsu_tests {
    use super::*;

    fn picture(seed: u32, w: u32, h: u32) -> GrayImage {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        GrayImage::from_fn(w, h, |x, y| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            // Two lumps (ink and paper) plus noise, moved with the seed.
            let base = if (x / 7 + y / 5 + seed).is_multiple_of(3) {
                40
            } else {
                200
            };
            let noise = (state % 61) as i32 - 30;
            image::Luma([(base + noise + (seed % 20) as i32).clamp(0, 255) as u8])
        })
    }

    #[test]
    fn matches_imageproc() {
        for seed in 0..40 {
            let img = picture(seed, 31 + seed, 17 + seed * 3);
            assert_eq!(
                otsu_level(&img),
                imageproc::contrast::otsu_level(&img),
                "seed {seed}"
            );
        }
        for flat in [0u8, 77, 255] {
            let img = GrayImage::from_pixel(9, 4, image::Luma([flat]));
            assert_eq!(otsu_level(&img), imageproc::contrast::otsu_level(&img));
        }
    }
}

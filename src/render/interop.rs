//! Conversions between the 1-bit raster and the `image` crate's types, for
//! embedders that compose, preview or post-process labels with it.
//!
//! A [`Bitmap`] packs eight dots a byte; a `GrayImage` spends a byte a dot. The
//! conversion expands each packed byte through a 256-entry table of eight gray
//! bytes, one pass over the raster with no per-dot branches.

use image::{DynamicImage, GrayImage};

use super::{Bitmap, Label};

/// Gray value of a black (printed) dot and of a white one.
const BLACK: u8 = 0;
const WHITE: u8 = 255;

/// `EXPAND[b]` is the eight gray pixels of packed byte `b`, most significant bit first.
static EXPAND: [[u8; 8]; 256] = {
    let mut t = [[WHITE; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < 8 {
            if b & (0x80 >> i) != 0 {
                t[b][i] = BLACK;
            }
            i += 1;
        }
        b += 1;
    }
    t
};

#[cfg_attr(docsrs, doc(cfg(feature = "image")))]
impl Bitmap {
    /// The raster as an 8-bit gray image: black dots 0, white dots 255.
    pub fn to_gray_image(&self) -> GrayImage {
        let w = self.width() as usize;
        // Zeroed memory comes from the allocator for free; every byte is written below.
        let mut pixels = vec![0; w * self.height() as usize];
        if w > 0 {
            for (out, row) in pixels
                .chunks_exact_mut(w)
                .zip(self.as_bytes().chunks_exact(self.row_bytes()))
            {
                let mut eights = out.chunks_exact_mut(8);
                for (dst, &b) in (&mut eights).zip(row) {
                    dst.copy_from_slice(&EXPAND[usize::from(b)]);
                }
                let tail = eights.into_remainder();
                if let Some(&b) = row.get(w / 8) {
                    let n = tail.len();
                    tail.copy_from_slice(&EXPAND[usize::from(b)][..n]);
                }
            }
        }
        // The buffer holds exactly width × height bytes.
        #[allow(clippy::expect_used)]
        GrayImage::from_raw(self.width(), self.height(), pixels).expect("w*h pixels")
    }

    /// The raster as a [`DynamicImage`] (`ImageLuma8`).
    pub fn to_dynamic_image(&self) -> DynamicImage {
        DynamicImage::ImageLuma8(self.to_gray_image())
    }

    /// A bitmap from a gray image: a pixel darker than `threshold` (0–255) becomes a
    /// black dot. For photos or logos with gradients, threshold them first (for
    /// example with Otsu's method) or dither them.
    pub fn from_gray_image(image: &GrayImage, threshold: u8) -> Bitmap {
        let mut bitmap = Bitmap::new(image.width(), image.height());
        let row_bytes = bitmap.row_bytes();
        if row_bytes == 0 {
            return bitmap;
        }
        for (row, pixels) in bitmap
            .data_mut()
            .chunks_exact_mut(row_bytes)
            .zip(image.as_raw().chunks_exact(image.width() as usize))
        {
            for (byte, eight) in row.iter_mut().zip(pixels.chunks(8)) {
                let mut b = 0u8;
                for (i, &v) in eight.iter().enumerate() {
                    if v < threshold {
                        b |= 0x80 >> i;
                    }
                }
                *byte = b;
            }
        }
        bitmap
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "image")))]
impl Label {
    /// The label as an 8-bit gray image (see [`Bitmap::to_gray_image`]).
    pub fn to_gray_image(&self) -> GrayImage {
        self.bitmap().to_gray_image()
    }

    /// The label as a [`DynamicImage`] (`ImageLuma8`).
    pub fn to_dynamic_image(&self) -> DynamicImage {
        self.bitmap().to_dynamic_image()
    }
}

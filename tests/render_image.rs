//! `image` crate interop: labels and bitmaps as `GrayImage` / `DynamicImage`,
//! checked dot for dot and against an independent PNG decoder.

#![cfg(all(feature = "image", feature = "bundled-font"))]

mod render_support;

use image::{GrayImage, Luma};
use render_support::{fixtures, masked, specs, stand_in_token};
use waybill_redact::{render, Bitmap, Fonts, PngMode};

#[test]
fn a_label_converts_dot_for_dot_at_every_size() {
    let fonts = Fonts::bundled();
    let w = &fixtures()[0];
    for spec in specs() {
        let label = render(&masked(w), &stand_in_token(1), &spec, &fonts).unwrap();
        let gray = label.to_gray_image();
        let bm = label.bitmap();
        assert_eq!(gray.dimensions(), (bm.width(), bm.height()));
        let mut black = 0;
        for (x, y, Luma([v])) in gray.enumerate_pixels() {
            assert_eq!(*v == 0, bm.get(x, y), "dot ({x}, {y})");
            assert!(*v == 0 || *v == 255);
            black += usize::from(*v == 0);
        }
        assert!(black > 1000, "the label has ink");
        // The `image` crate's own PNG decoder reads our 1-bit PNG as the same picture.
        let png = label.to_png(PngMode::OneBit).unwrap();
        let decoded = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!(decoded, gray);
        assert_eq!(label.to_dynamic_image().to_luma8(), gray);
    }
}

#[test]
fn widths_that_are_not_a_multiple_of_eight_round_trip() {
    for w in [1u32, 7, 8, 9, 13, 801] {
        let mut bm = Bitmap::new(w, 5);
        for y in 0..5 {
            for x in (y % 3..w).step_by(3) {
                bm.set(x, y, true);
            }
        }
        let gray = bm.to_gray_image();
        assert_eq!(gray.dimensions(), (w, 5));
        let back = Bitmap::from_gray_image(&gray, 128);
        assert_eq!(back, bm, "width {w}");
    }
    let empty = Bitmap::new(0, 0).to_gray_image();
    assert_eq!(empty.dimensions(), (0, 0));
}

#[test]
fn a_gray_image_thresholds_into_a_bitmap() {
    // A horizontal ramp: dots darker than the threshold are black.
    let ramp = GrayImage::from_fn(256, 2, |x, _| Luma([x as u8]));
    let bm = Bitmap::from_gray_image(&ramp, 100);
    for x in 0..256 {
        assert_eq!(bm.get(x, 0), x < 100, "x = {x}");
        assert_eq!(bm.get(x, 1), x < 100, "x = {x}");
    }
}

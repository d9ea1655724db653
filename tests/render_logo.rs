//! The carrier's logo: printed in the header only, from an `image` picture or a
//! PNG/JPEG file, and both codes still read by zbarimg.

#![cfg(all(feature = "image", feature = "bundled-font"))]

mod common;
mod render_support;

use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use render_support::{fixtures, masked, specs, stand_in_token};
use waybill_redact::{
    render, Bitmap, CodeKind, Fonts, LabelSpec, Logo, LogoMode, LogoProblem, PngMode, RenderError,
};

/// A carrier's mark: a red ring and a bar on a transparent background, with a
/// gradient, so both the alpha flattening and the 1-bit modes are exercised.
fn mark() -> DynamicImage {
    DynamicImage::ImageRgba8(RgbaImage::from_fn(240, 90, |x, y| {
        let (dx, dy) = (x as i32 - 45, y as i32 - 45);
        let r2 = dx * dx + dy * dy;
        if (900..1800).contains(&r2) || (100..230).contains(&x) && (35..55).contains(&y) {
            Rgba([200, 20, 30, 255])
        } else if x >= 100 && y >= 65 {
            // A gradient strip: dithering keeps some of it, a threshold little.
            Rgba([(x - 100) as u8 + 60, 60, 60, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    }))
}

/// The first full-width rule under the header: the first row from the top whose
/// middle half is all black.
fn header_bottom(bm: &Bitmap) -> u32 {
    let (a, b) = (bm.width() / 4, bm.width() * 3 / 4);
    (bm.height() / 40..bm.height())
        .find(|&y| (a..b).all(|x| bm.get(x, y)))
        .expect("a rule under the header")
}

#[test]
fn the_logo_prints_in_the_header_only_and_both_codes_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let fonts = Fonts::bundled();
    let w = &fixtures()[0];
    let token = stand_in_token(7);
    for mode in [LogoMode::Threshold, LogoMode::Dither] {
        for spec in specs() {
            let plain = render(&masked(w), &token, &spec, &fonts).unwrap();
            // The logo is set at 203 dpi and kept by `with_dpi`.
            let spec = LabelSpec::new(spec.width_mm(), spec.height_mm(), 203)
                .unwrap()
                .with_logo(Logo::from_image(&mark(), mode).unwrap())
                .with_dpi(spec.dpi())
                .unwrap();
            assert!(spec.logo().is_some());
            let branded = render(&masked(w), &token, &spec, &fonts).unwrap();
            if let Ok(d) = std::env::var("LOGO_DUMP") {
                let n = format!("{d}/{mode:?}-{}", spec.dpi());
                std::fs::write(
                    format!("{n}-plain.png"),
                    plain.to_png(PngMode::OneBit).unwrap(),
                )
                .unwrap();
                std::fs::write(
                    format!("{n}-logo.png"),
                    branded.to_png(PngMode::OneBit).unwrap(),
                )
                .unwrap();
            }
            let (p, b) = (plain.bitmap(), branded.bitmap());
            let limit = header_bottom(p);
            assert_eq!(limit, header_bottom(b), "{mode:?} {spec:?}: zones moved");
            let mut changed = 0;
            let mut logo_ink = 0;
            for y in 0..p.height() {
                for x in 0..p.width() {
                    if p.get(x, y) != b.get(x, y) {
                        assert!(
                            y < limit,
                            "{mode:?} {spec:?}: dot ({x}, {y}) under the header"
                        );
                        changed += 1;
                    }
                    if y < limit && x < p.width() / 4 && b.get(x, y) {
                        logo_ink += 1;
                    }
                }
            }
            assert!(
                changed > 200,
                "{mode:?} {spec:?}: the logo printed ({changed} dots)"
            );
            assert!(
                logo_ink > 200,
                "{mode:?} {spec:?}: ink at the left of the header"
            );
            // The codes are exactly where they were, and a real reader reads them.
            assert_eq!(plain.codes(), branded.codes());
            let path = dir.path().join(format!("logo-{mode:?}-{}.png", spec.dpi()));
            std::fs::write(&path, branded.to_png(PngMode::OneBit).unwrap()).unwrap();
            common::assert_codes_decode(&path, branded.codes());
            assert_eq!(branded.codes().len(), 2);
            assert!(branded.codes().iter().any(|c| c.kind == CodeKind::Qr));
        }
    }
}

#[test]
fn a_logo_comes_from_png_or_jpeg_bytes_and_bad_pictures_are_refused() {
    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
        let mut bytes = std::io::Cursor::new(Vec::new());
        let picture = if format == ImageFormat::Jpeg {
            DynamicImage::ImageRgb8(mark().to_rgb8())
        } else {
            mark()
        };
        picture.write_to(&mut bytes, format).unwrap();
        let logo = Logo::from_bytes(bytes.get_ref(), LogoMode::Threshold).unwrap();
        let spec = LabelSpec::MM_100X150.with_logo(logo);
        let label = render(
            &masked(&fixtures()[1]),
            &stand_in_token(1),
            &spec,
            &Fonts::bundled(),
        );
        assert!(label.is_ok(), "{format:?}");
    }
    assert_eq!(
        Logo::from_bytes(b"not a picture", LogoMode::Threshold).unwrap_err(),
        RenderError::InvalidLogo {
            problem: LogoProblem::Undecodable
        }
    );
    let empty = DynamicImage::new_luma8(0, 10);
    assert!(matches!(
        Logo::from_image(&empty, LogoMode::Dither),
        Err(RenderError::InvalidLogo {
            problem: LogoProblem::Empty
        })
    ));
    let huge = DynamicImage::new_luma8(5000, 10);
    assert!(matches!(
        Logo::from_image(&huge, LogoMode::Dither),
        Err(RenderError::InvalidLogo {
            problem: LogoProblem::TooLarge
        })
    ));
}

#[test]
fn specs_with_the_same_logo_are_equal() {
    let a = LabelSpec::MM_100X150.with_logo(Logo::from_image(&mark(), LogoMode::Dither).unwrap());
    let b = LabelSpec::MM_100X150.with_logo(Logo::from_image(&mark(), LogoMode::Dither).unwrap());
    assert_eq!(a, a.clone());
    assert_ne!(a, b, "a logo compares by identity");
    assert_ne!(a, LabelSpec::MM_100X150);
}

//! ZPL II export, checked by reading our own `^GF` back and by an independent
//! ZPL renderer (labelize) whose picture zbarimg must decode.
#![cfg(feature = "render")]

mod common;

use std::path::Path;

use common::*;
use waybill_redact::{
    decode_gf, to_zpl, Bitmap, CodeKind, ExportError, PlacedCode, ZplEncoding, ZplOptions,
};

/// Renders `zpl` with labelize at `dpi` (8 dots/mm for 203 dpi, 12 for 300) and
/// returns the picture as a raster cropped to `w` x `h`, after checking that
/// everything outside that area is white.
fn labelize_render(dir: &Path, name: &str, zpl: &str, dpi: u32, w: u32, h: u32) -> Bitmap {
    let dpmm = match dpi {
        203 => 8,
        300 => 12,
        600 => 24,
        _ => panic!("labelize renders 203, 300 or 600 dpi only"),
    };
    let src = dir.join(format!("{name}.zpl"));
    let png = dir.join(format!("{name}.png"));
    std::fs::write(&src, zpl).unwrap();
    let out = run(
        "labelize",
        &[
            "convert",
            src.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
            "--dpmm",
            &dpmm.to_string(),
            "--width",
            &format!("{}", f64::from(w) / f64::from(dpmm)),
            "--height",
            &format!("{}", f64::from(h) / f64::from(dpmm)),
        ],
        LABELIZE_INSTALL,
    );
    assert!(
        out.status.success(),
        "labelize failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let full = png_to_bitmap(&png);
    assert!(
        full.width() >= w && full.height() >= h,
        "labelize canvas too small"
    );
    let mut cropped = Bitmap::new(w, h);
    for y in 0..full.height() {
        for x in 0..full.width() {
            if full.get(x, y) {
                assert!(
                    x < w && y < h,
                    "labelize drew outside the label at ({x}, {y})"
                );
                cropped.set(x, y, true);
            }
        }
    }
    cropped
}

/// The whole independent check for one label: every encoding round-trips
/// through `decode_gf` exactly; labelize draws the raster-only ZPL dot for dot
/// and zbarimg reads every code from it; with native codes, zbarimg reads every
/// code from labelize's picture, each drawn where the raster had it.
pub fn check_label_zpl(bitmap: &Bitmap, dpi: u32, codes: &[PlacedCode]) {
    let dir = tempfile::tempdir().unwrap();
    for enc in [ZplEncoding::Z64, ZplEncoding::Hex, ZplEncoding::Acs] {
        let zpl = to_zpl(bitmap, dpi, codes, &ZplOptions::new().encoding(enc)).unwrap();
        assert_eq!(&decode_gf(&zpl).unwrap(), bitmap, "{enc:?} round trip");

        let drawn = labelize_render(
            dir.path(),
            &format!("{enc:?}"),
            &zpl,
            dpi,
            bitmap.width(),
            bitmap.height(),
        );
        assert_eq!(
            diff_count(&drawn, bitmap),
            0,
            "labelize picture differs ({enc:?})"
        );
        assert_codes_decode(&dir.path().join(format!("{enc:?}.png")), codes);
    }

    let zpl = to_zpl(bitmap, dpi, codes, &ZplOptions::new().native_codes(true)).unwrap();
    let raster = decode_gf(&zpl).unwrap();
    let drawn = labelize_render(
        dir.path(),
        "native",
        &zpl,
        dpi,
        bitmap.width(),
        bitmap.height(),
    );
    assert_codes_decode(&dir.path().join("native.png"), codes);
    for c in codes {
        assert!(
            black_bbox(&raster, c.x, c.y, c.x + c.width, c.y + c.height).is_none(),
            "{:?} area not blank in the raster",
            c.kind
        );
        // The native symbol sits where the raster one was: same top-left corner;
        // the QR exactly the same size; a barcode never wider than the raster's.
        // Look within the code's quiet zone (4 modules for QR, 10 for Code 128).
        let q = c.module * if c.kind == CodeKind::Qr { 4 } else { 10 };
        let (x0, y0, x1, y1) = black_bbox(
            &drawn,
            c.x.saturating_sub(q),
            c.y.saturating_sub(q),
            c.x + c.width + q,
            c.y + c.height + q,
        )
        .expect("native code drawn");
        let found = (x0, y0, x1, y1);
        match c.kind {
            CodeKind::Qr => assert_eq!(
                found,
                (c.x, c.y, c.x + c.width, c.y + c.height),
                "QR position"
            ),
            _ => {
                assert_eq!((x0, y0, y1), (c.x, c.y, c.y + c.height), "barcode position");
                assert!(
                    x1 <= c.x + c.width,
                    "native barcode wider than the raster one"
                );
            }
        }
    }
}

#[test]
fn sample_label_passes_independent_zpl_checks() {
    let s = sample_label();
    let ratio = black_ratio(&s.bitmap);
    assert!((0.10..=0.15).contains(&ratio), "sample is {ratio:.3} black");
    check_label_zpl(&s.bitmap, s.dpi, &s.codes);
}

#[test]
fn layout_of_the_format() {
    let s = sample_label();
    let opts = ZplOptions::new().copies(3).home(10, 20);
    let zpl = to_zpl(&s.bitmap, s.dpi, &s.codes, &opts).unwrap();
    assert!(
        zpl.starts_with("^XA\n^PW800\n^LL1200\n^LH10,20\n"),
        "{}",
        &zpl[..40]
    );
    assert!(zpl.ends_with("^PQ3\n^XZ\n"));
    // 120,000 bytes exceed ^GF's documented 99,999: two bands of 999 and 201 rows.
    assert!(zpl.contains("^FO0,0^GFA,99900,99900,100,:Z64:"));
    assert!(zpl.contains("^FO0,999^GFA,20100,20100,100,:Z64:"));
    assert!(!zpl.contains("^BC") && !zpl.contains("^BQ"));
    let z64_len = zpl.len();

    let hex = to_zpl(
        &s.bitmap,
        s.dpi,
        &[],
        &ZplOptions::new().encoding(ZplEncoding::Hex),
    )
    .unwrap();
    assert!(!hex.contains(":Z64:") && hex.contains("^GFA,99900,99900,100,0000"));
    assert!(hex.len() > 240_000 && hex.len() > 10 * z64_len);
    let acs = to_zpl(
        &s.bitmap,
        s.dpi,
        &[],
        &ZplOptions::new().encoding(ZplEncoding::Acs),
    )
    .unwrap();
    assert!(!acs.contains(":Z64:") && acs.len() * 3 < hex.len());

    let native = to_zpl(
        &s.bitmap,
        s.dpi,
        &s.codes,
        &ZplOptions::new().native_codes(true),
    )
    .unwrap();
    assert!(native.contains(&format!(
        "^FO60,230^BY3,2,150^BCN,150,N,N,N,A^FD{TRACKING}^FS"
    )));
    assert!(native.contains(&format!("^FO460,711^BY4,2,1^BQN,2,4,M^FDMA,{TOKEN}^FS")));
}

#[test]
fn z64_crc_is_crc16_xmodem_of_the_base64_text() {
    let mut b = Bitmap::new(16, 2);
    b.fill_rect(0, 0, 16, 1, true);
    let zpl = to_zpl(&b, 203, &[], &ZplOptions::new()).unwrap();
    let field = zpl
        .split(":Z64:")
        .nth(1)
        .unwrap()
        .split('^')
        .next()
        .unwrap();
    let (b64, crc) = field.rsplit_once(':').unwrap();
    // Reference bitwise CRC-16/XMODEM: poly 0x1021, init 0, MSB first.
    let mut want = 0u16;
    for byte in b64.bytes() {
        want ^= u16::from(byte) << 8;
        for _ in 0..8 {
            want = if want & 0x8000 != 0 {
                (want << 1) ^ 0x1021
            } else {
                want << 1
            };
        }
    }
    assert_eq!(crc, format!("{want:04X}"));
}

#[test]
fn codes_that_a_printer_cannot_draw_exactly_stay_raster() {
    let s = sample_label();
    let mut codes = s.codes.clone();
    codes[0].module = 11; // ^BY allows 1..=10
    codes[1].data = "A^B".into(); // would break the ^FD
    let zpl = to_zpl(
        &s.bitmap,
        s.dpi,
        &codes,
        &ZplOptions::new().native_codes(true),
    )
    .unwrap();
    assert!(!zpl.contains("^BC") && !zpl.contains("^BQ"));
    assert_eq!(decode_gf(&zpl).unwrap(), s.bitmap);
}

#[test]
fn invalid_input_is_an_error() {
    let b = Bitmap::new(8, 8);
    let o = ZplOptions::new();
    assert!(matches!(
        to_zpl(&Bitmap::new(0, 5), 203, &[], &o),
        Err(ExportError::InvalidSize { .. })
    ));
    assert!(matches!(
        to_zpl(&Bitmap::new(32_001, 1), 203, &[], &o),
        Err(ExportError::InvalidSize { .. })
    ));
    assert!(matches!(
        to_zpl(&b, 0, &[], &o),
        Err(ExportError::Dpi { dpi: 0 })
    ));
    assert!(matches!(
        to_zpl(&b, 203, &[], &o.clone().copies(0)),
        Err(ExportError::InvalidOption { .. })
    ));
    assert!(matches!(
        to_zpl(&b, 203, &[], &o.clone().compression_level(10)),
        Err(ExportError::InvalidOption { .. })
    ));
}

#[test]
fn decode_gf_rejects_damaged_or_foreign_text() {
    let s = sample_label();
    let zpl = to_zpl(&s.bitmap, s.dpi, &[], &ZplOptions::new()).unwrap();
    // Flip one Base64 character: the CRC catches it.
    let at = zpl.find(":Z64:").unwrap() + 40;
    let mut damaged = zpl.clone().into_bytes();
    damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
    let damaged = String::from_utf8(damaged).unwrap();
    assert!(matches!(decode_gf(&damaged), Err(ExportError::ZplChecksum)));

    assert!(matches!(
        decode_gf("^XA^FO0,0^FDhello^FS^XZ"),
        Err(ExportError::ZplSyntax { .. })
    ));
    assert!(matches!(
        decode_gf("^XA^GFA,4,4,3,FFFFFF^FS^XZ"),
        Err(ExportError::ZplSyntax { .. })
    ));
    assert!(matches!(
        decode_gf("^XA^GFB,1,1,1,x^FS^XZ"),
        Err(ExportError::ZplSyntax { .. })
    ));
    assert!(matches!(
        decode_gf("^XA^GFA,99999999,99999999,1,00^FS^XZ"),
        Err(ExportError::TooLarge { .. })
    ));
    // A foreign hand-written field with ACS compression, placed by ^FO.
    let b = decode_gf("^XA^PW12^FO4,1^GFA,4,4,2,FF,\n:^FS^XZ").unwrap();
    assert_eq!((b.width(), b.height()), (12, 3));
    assert!(b.get(4, 1) && b.get(11, 2) && !b.get(3, 1) && !b.get(4, 0));
}

#[test]
fn label_at_300_dpi_passes_independent_zpl_checks() {
    let s = sample_label_300dpi();
    let zpl = to_zpl(&s.bitmap, s.dpi, &[], &ZplOptions::new()).unwrap();
    assert_eq!(zpl.matches("^GFA,").count(), 3);
    check_label_zpl(&s.bitmap, s.dpi, &s.codes);
}

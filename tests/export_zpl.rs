//! ZPL II export, checked by reading our own `^GF` back and by an independent
//! ZPL renderer (labelize) whose picture zbarimg must decode.
#![cfg(feature = "render")]

mod common;

use common::checks::*;
use common::*;
use waybill_redact::{decode_gf, to_zpl, Bitmap, ExportError, ZplEncoding, ZplOptions};

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

//! Shared helpers for the export tests and benches: a realistic sample label
//! (text-like strokes, a Code 128 barcode, a QR code) and wrappers around the
//! independent readers (labelize, zbarimg, qpdf, pdftoppm).
//!
//! Every check takes any `Bitmap` + `PlacedCode`s, so real labels from the
//! renderer can be pointed at them later.
#![allow(dead_code)]

pub mod checks;

use std::path::Path;
use std::process::Command;

use waybill_redact::{Bitmap, CodeKind, PlacedCode};

/// A label raster with the codes drawn on it.
pub struct Sample {
    /// The raster.
    pub bitmap: Bitmap,
    /// Its resolution.
    pub dpi: u16,
    /// Where the codes are.
    pub codes: Vec<PlacedCode>,
}

/// Tracking number in the sample barcode.
pub const TRACKING: &str = "773012345678";
/// Token-like QR text (Base45 alphabet, as the real token).
pub const TOKEN: &str = "WR1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEMWK4MA$K4A6PXJT6T/V1.S0Z1BKA9DBM-PXLK6JF$OK3T1E90/I0-8C4:P4V$Q0+J7QS7S/WI8%MZOF3OGNWM";

/// A 100x150 mm label at 203 dpi (800x1200 dots) with text-like strokes, a
/// Code 128 of [`TRACKING`] and a QR of [`TOKEN`] (level M); about 10-15% black.
pub fn sample_label() -> Sample {
    let (w, h) = (800, 1200);
    let mut b = Bitmap::new(w, h);
    let mut codes = Vec::new();
    // Border and zone lines, as on a waybill.
    b.fill_rect(8, 8, w - 16, 4, true);
    b.fill_rect(8, h - 12, w - 16, 4, true);
    b.fill_rect(8, 8, 4, h - 16, true);
    b.fill_rect(w - 12, 8, 4, h - 16, true);
    for y in [180, 420, 680, 960] {
        b.fill_rect(8, y, w - 16, 3, true);
    }
    // Text-like glyphs in the zones, kept clear of the codes' quiet zones.
    let mut rng = 0x2545_F491_u32;
    let mut text = |b: &mut Bitmap, x0: u32, y0: u32, x1: u32, y1: u32, size: u32| {
        let mut y = y0;
        while y + size <= y1 {
            let mut x = x0;
            while x + size <= x1 {
                glyph(b, x, y, size, &mut rng);
                x += size + size / 6;
            }
            y += size + size / 3;
        }
    };
    text(&mut b, 30, 30, 770, 170, 64); // routing code, large
    text(&mut b, 30, 440, 770, 660, 28); // recipient
    text(&mut b, 30, 700, 400, 940, 24); // sender
    text(&mut b, 30, 980, 770, 1180, 24); // items, sign-off

    let bars = code128_modules(TRACKING);
    let (bx, by, module, bh) = (60, 230, 3, 150);
    draw_modules(&mut b, &bars, bx, by, module, bh);
    codes.push(PlacedCode::new(
        CodeKind::Code128,
        TRACKING,
        bx,
        by,
        bars.len() as u32 * module,
        bh,
        module,
    ));

    let (qx, qy, qm) = (460, 712, 4);
    let side = draw_qr(&mut b, TOKEN, qx, qy, qm);
    codes.push(PlacedCode::new(CodeKind::Qr, TOKEN, qx, qy, side, side, qm));
    Sample {
        bitmap: b,
        dpi: 203,
        codes,
    }
}

/// A glyph-like blob: a few strokes in a `size` box.
fn glyph(b: &mut Bitmap, x: u32, y: u32, size: u32, rng: &mut u32) {
    let t = (size / 8).max(2);
    for _ in 0..3 {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 17;
        *rng ^= *rng << 5;
        let r = *rng;
        let off = (r >> 8) % (size - t);
        if r & 1 == 0 {
            b.fill_rect(x, y + off, size * (2 + (r >> 4) % 3) / 4, t, true);
        } else {
            b.fill_rect(x + off, y, t, size * (2 + (r >> 4) % 3) / 4, true);
        }
    }
}

/// Code 128 bar/space widths (ISO/IEC 15417 table), values 0..=105, then stop.
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];

/// Modules (true = bar) of a Code 128 symbol: code set C for an even run of
/// digits, else code set B. Test-only encoder.
pub fn code128_modules(data: &str) -> Vec<bool> {
    let digits = data.len().is_multiple_of(2) && data.bytes().all(|c| c.is_ascii_digit());
    let mut values: Vec<usize> = Vec::new();
    if digits {
        values.push(105);
        for pair in data.as_bytes().chunks(2) {
            values.push(usize::from(pair[0] - b'0') * 10 + usize::from(pair[1] - b'0'));
        }
    } else {
        values.push(104);
        values.extend(data.bytes().map(|c| usize::from(c - 32)));
    }
    let check = values
        .iter()
        .enumerate()
        .map(|(i, v)| i.max(1) * v)
        .sum::<usize>()
        % 103;
    values.push(check);
    values.push(106);
    let mut out = Vec::new();
    for v in values {
        for (i, w) in PATTERNS[v].bytes().enumerate() {
            out.extend(std::iter::repeat_n(i % 2 == 0, usize::from(w - b'0')));
        }
    }
    out
}

fn draw_modules(b: &mut Bitmap, modules: &[bool], x: u32, y: u32, module: u32, h: u32) {
    for (i, &bar) in modules.iter().enumerate() {
        if bar {
            b.fill_rect(x + i as u32 * module, y, module, h, true);
        }
    }
}

/// Draws a level-M QR of `text`; returns its side in dots (quiet zone excluded).
pub fn draw_qr(b: &mut Bitmap, text: &str, x: u32, y: u32, module: u32) -> u32 {
    let code =
        qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).expect("QR fits");
    let n = code.width() as u32;
    for (i, c) in code.to_colors().into_iter().enumerate() {
        if c == qrcode::Color::Dark {
            let (cx, cy) = (i as u32 % n, i as u32 / n);
            b.fill_rect(x + cx * module, y + cy * module, module, module, true);
        }
    }
    n * module
}

/// Fraction of black dots.
pub fn black_ratio(b: &Bitmap) -> f64 {
    let ones: u32 = b.as_bytes().iter().map(|x| x.count_ones()).sum();
    f64::from(ones) / (f64::from(b.width()) * f64::from(b.height()))
}

/// Runs an external tool; panics with an install hint when it is missing.
pub fn run(tool: &str, args: &[&str], install: &str) -> std::process::Output {
    match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!(
            "`{tool}` is needed for this test and could not be run ({e}). Install it: {install}"
        ),
    }
}

pub const LABELIZE_INSTALL: &str = "cargo install labelize --features cli";
pub const APT_INSTALL: &str = "apt-get install -y qpdf poppler-utils zbar-tools";

/// Decodes every symbol in an image with `zbarimg --raw`.
pub fn zbar(image: &Path) -> Vec<String> {
    let out = run(
        "zbarimg",
        &["--raw", "-q", image.to_str().expect("utf-8 path")],
        APT_INSTALL,
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Asserts that `zbarimg` reads every code of `codes` from `image`.
pub fn assert_codes_decode(image: &Path, codes: &[PlacedCode]) {
    let found = zbar(image);
    for c in codes {
        assert!(
            found.iter().any(|f| f == &c.data),
            "{:?} not decoded from {}; zbarimg read {:?}",
            c.kind,
            image.display(),
            found
        );
    }
}

/// A grey/RGB(A) PNG as a 1-bit raster (dark below 128 = black).
pub fn png_to_bitmap(path: &Path) -> Bitmap {
    let img = image::open(path).expect("readable PNG").to_luma8();
    let mut b = Bitmap::new(img.width(), img.height());
    for (x, y, p) in img.enumerate_pixels() {
        if p.0[0] < 128 {
            b.set(x, y, true);
        }
    }
    b
}

/// A binary PBM (P4) as a raster: its rows have the same packing as `Bitmap`.
pub fn pbm_to_bitmap(bytes: &[u8]) -> Bitmap {
    let text_end = {
        // Header: "P4", width, height, each separated by white space, then one
        // white-space byte before the data.
        let mut fields = 0;
        let mut i = 0;
        let mut in_tok = false;
        while fields < 3 {
            let c = bytes[i];
            if c == b'#' {
                while bytes[i] != b'\n' {
                    i += 1;
                }
            } else if c.is_ascii_whitespace() {
                if in_tok {
                    fields += 1;
                }
                in_tok = false;
            } else {
                in_tok = true;
            }
            i += 1;
        }
        i
    };
    let header = String::from_utf8_lossy(&bytes[..text_end]);
    let mut it = header.split_ascii_whitespace();
    assert_eq!(it.next(), Some("P4"));
    let w: u32 = it.next().unwrap().parse().unwrap();
    let h: u32 = it.next().unwrap().parse().unwrap();
    let mut b = Bitmap::new(w, h);
    let rb = w.div_ceil(8) as usize;
    let data = &bytes[text_end..];
    for y in 0..h {
        for x in 0..w {
            let byte = data[y as usize * rb + x as usize / 8];
            if byte & (0x80 >> (x % 8)) != 0 {
                b.set(x, y, true);
            }
        }
    }
    b
}

/// Bounding box (x0, y0, x1, y1 exclusive) of black dots inside a window.
pub fn black_bbox(b: &Bitmap, x0: u32, y0: u32, x1: u32, y1: u32) -> Option<(u32, u32, u32, u32)> {
    let mut bb: Option<(u32, u32, u32, u32)> = None;
    for y in y0..y1 {
        for x in x0..x1 {
            if b.get(x, y) {
                bb = Some(match bb {
                    None => (x, y, x + 1, y + 1),
                    Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x + 1), e.max(y + 1)),
                });
            }
        }
    }
    bb
}

/// Number of dots that differ.
pub fn diff_count(a: &Bitmap, b: &Bitmap) -> usize {
    assert_eq!(
        (a.width(), a.height()),
        (b.width(), b.height()),
        "raster sizes differ"
    );
    let mut n = 0;
    for y in 0..a.height() {
        for x in 0..a.width() {
            if a.get(x, y) != b.get(x, y) {
                n += 1;
            }
        }
    }
    n
}

/// A 100x150 mm label at 300 dpi (1181x1772 dots, three ZPL bands) with a
/// Code 128 (module 4) and a QR (module 6) and some strokes.
pub fn sample_label_300dpi() -> Sample {
    let (w, h) = (1181, 1772);
    let mut b = Bitmap::new(w, h);
    let mut rng = 0x9E37_79B9_u32;
    for row in 0..12 {
        for col in 0..30 {
            glyph(&mut b, 40 + col * 36, 40 + row * 40, 32, &mut rng);
        }
    }
    let bars = code128_modules(TRACKING);
    let (bx, by, module, bh) = (90, 620, 4, 220);
    draw_modules(&mut b, &bars, bx, by, module, bh);
    let (qx, qy, qm) = (640, 1100, 6);
    let side = draw_qr(&mut b, TOKEN, qx, qy, qm);
    let codes = vec![
        PlacedCode::new(
            CodeKind::Code128,
            TRACKING,
            bx,
            by,
            bars.len() as u32 * module,
            bh,
            module,
        ),
        PlacedCode::new(CodeKind::Qr, TOKEN, qx, qy, side, side, qm),
    ];
    Sample {
        bitmap: b,
        dpi: 300,
        codes,
    }
}

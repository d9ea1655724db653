//! Tesseract reads the scripts the bundled fonts draw: a label with the
//! recipient's name and address shown in full (a dangerous policy, for the test
//! only) is OCR'd in the script's language, and the address must come back.
//! Arabic only reads back when its letters are joined and run right to left, and
//! Devanagari and Thai only when their marks sit on their base: the shaper's job.
//!
//! Needs `tesseract` with the language packs (Debian `tesseract-ocr-kor`, `-ara`,
//! `-heb`, `-tha`, `-hin`, `-rus`, `-ell`, `-vie`; `scripts/test.sh` installs them).

#![cfg(all(feature = "render", feature = "bundled-font"))]

use std::process::Command;

use waybill_redact::danger::Role;
use waybill_redact::{mask, parse_batch, render, Fonts, LabelSpec, MaskPolicy, PngMode};

fn ocr(png: &[u8], lang: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("label.png");
    std::fs::write(&path, png).expect("write png");
    let out = Command::new("tesseract")
        .arg(&path)
        .args(["-", "-l", lang, "--psm", "11"])
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .expect("tesseract is installed (scripts/test.sh installs it)");
    // Tesseract writes a joiner where it sees a Devanagari half form (ल्‍ली).
    String::from_utf8_lossy(&out.stdout)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{200C}' | '\u{200D}'))
        .collect()
}

#[test]
fn tesseract_reads_every_shaped_script() {
    let cases = [
        ("kor", "KR", "서울특별시"),
        ("ara", "AE", "الشارقة"),
        ("heb", "IL", "ירושלים"),
        ("tha", "TH", "เชียงใหม่"),
        ("hin", "IN", "दिल्ली"),
        ("rus", "RU", "Москва"),
        ("ell", "GR", "Αθήνα"),
        ("vie", "VN", "Hà Nội"),
    ];
    let mut policy = MaskPolicy::default();
    policy.dangerous().show_full_address(Role::Recipient);
    let mut misread = Vec::new();
    for (lang, country, city) in cases {
        let json = serde_json::json!({
            "tracking_number": "SF1234567890123", "zone": 0,
            "recipient": { "name": "A B", "phone": "+1 202 555 0100",
                           "address": { "country": country, "city": city } }
        });
        let w = parse_batch(&json.to_string())
            .remove(0)
            .expect("valid record");
        let label = render(
            &mask(&w, &policy),
            "TEST",
            &LabelSpec::MM_100X150,
            &Fonts::bundled(),
        )
        .expect("renders");
        let text = ocr(&label.to_png(PngMode::OneBit).expect("png"), lang);
        let want: String = city.chars().filter(|c| !c.is_whitespace()).collect();
        if !text.contains(&want) {
            misread.push(format!("{lang}: wanted {want}, read {text}"));
        }
    }
    assert!(misread.is_empty(), "{}", misread.join("\n"));
}

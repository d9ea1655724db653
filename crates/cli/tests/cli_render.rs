//! `waybill-redact render` end to end: every output format, single-file outputs,
//! bad records, and the courier's loop through real readers: the QR on a rendered
//! label, read by zbarimg, resolves to the original recipient.

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;

fn cmd() -> Command {
    Command::cargo_bin("waybill-redact").unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Run {
    code: Option<i32>,
    stderr: String,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

fn render(input: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("labels");
    let ring = dir.path().join("ring.json");
    let o = cmd()
        .args([
            "render",
            "--input",
            input,
            "--ring",
            s(&ring),
            "--create-ring",
            "--out",
            s(&out),
        ])
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out,
        _dir: dir,
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn zbar(path: &Path, symbology: &str) -> String {
    let o = Std::new("zbarimg")
        .args([
            "--raw",
            "-q",
            "-Sdisable",
            &format!("-S{symbology}.enable"),
            s(path),
        ])
        .output()
        .expect("zbarimg is installed (apt-get install zbar-tools)");
    String::from_utf8(o.stdout)
        .unwrap()
        .trim_end_matches('\n')
        .to_owned()
}

#[test]
fn png_per_record_and_the_qr_resolves_to_the_recipient() {
    let r = render(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json"),
        &["--jobs", "2"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr.contains("rendered 20 label(s), 0 failed"),
        "{}",
        r.stderr
    );
    let names = files(&r.out);
    assert_eq!(names.len(), 20, "{names:?}");
    assert!(
        names.iter().all(|n| n.ends_with(".png")),
        "no temporary file is left behind: {names:?}"
    );

    // A courier scans the label: zbarimg reads the barcode and the QR.
    let label = r.out.join("SF1234567890123.png");
    assert_eq!(zbar(&label, "code128"), "SF1234567890123");
    let token = zbar(&label, "qrcode");
    assert!(token.starts_with("WB3:"), "{token}");

    // The carrier's resolver, with a grant for the parcel's zone, discloses the data.
    let dir = r._dir.path();
    let issuer = dir.join("issuer.json");
    let made = cmd()
        .args(["issuer", "new", "--out", s(&issuer)])
        .output()
        .unwrap();
    assert!(made.status.success());
    let public = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    // The courier's device key; the grant is bound to it and kept in a file.
    let device = dir.join("device.json");
    let keygen = cmd()
        .args(["courier", "keygen", "--out", s(&device)])
        .output()
        .unwrap();
    assert!(keygen.status.success());
    let device_public = String::from_utf8(keygen.stdout).unwrap();
    let grant = cmd()
        .args([
            "grant",
            "--issuer",
            s(&issuer),
            "--courier",
            "C-1",
            "--zones",
            "755021",
            "--hours",
            "8",
            "--device-key",
            device_public.trim(),
        ])
        .output()
        .unwrap();
    let grant_file = dir.join("grant.txt");
    std::fs::write(&grant_file, grant.stdout).unwrap();
    let ring = dir.join("ring.json");
    let out = cmd()
        .args([
            "resolve",
            "--ring",
            s(&ring),
            "--trust",
            &public,
            "--grant",
            s(&grant_file),
            "--device",
            s(&device),
            "--purpose",
            "delivery",
        ])
        .arg(&token)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["name"], "张三");
    assert_eq!(json["phone"], "13812345678");
    assert_eq!(json["tracking_number"], "SF1234567890123");
}

#[test]
fn bad_records_are_reported_and_the_rest_rendered() {
    let r = render(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/hard-cases.jsonl"
        ),
        &["--format", "zpl"],
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("rendered 4 label(s), 7 failed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("record 3 (EE471108152CN): tracking_number: wrong check digit"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("record 7: invalid JSON"), "{}", r.stderr);
    // Positions are input lines, the same for parse and render failures.
    assert!(
        r.stderr.contains("record 9 (SF0000000000008): zone"),
        "{}",
        r.stderr
    );
    // An emoji no font has in a name prints as the mask mark, with a warning.
    assert!(r.stderr.contains("warning: record 10 (SF0000000000009): recipient.name has a character no font has; printed as the mask mark"), "{}", r.stderr);
    assert_eq!(
        files(&r.out),
        [
            "SF0000000000001.zpl",
            "SF0000000000009.zpl",
            "SF0000000000010.zpl",
            "SF0000000000011.zpl"
        ]
    );
    let zpl = std::fs::read_to_string(r.out.join("SF0000000000001.zpl")).unwrap();
    assert!(zpl.starts_with("^XA") && zpl.trim_end().ends_with("^XZ"));
}

#[test]
fn duplicates_keep_the_first_label() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("dup.jsonl");
    let rec = r#"{"tracking_number":"SF0000000000001","zone":1,"recipient":{"name":"张三","phone":"13812345678","address":"北京市朝阳区"}}"#;
    std::fs::write(&input, format!("{rec}\n{rec}\n")).unwrap();
    let r = render(s(&input), &[]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains(
            "record 2 (SF0000000000001): duplicate tracking number: an earlier record has it"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(files(&r.out), ["SF0000000000001.png"]);
}

#[test]
fn single_file_pdf_and_zpl_keep_input_order() {
    let r = render(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json"),
        &["--format", "pdf", "--single-file"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // With --single-file, --out names the file itself.
    let pdf = r.out.clone();
    assert!(pdf.is_file());
    let pages = Std::new("qpdf")
        .args(["--show-npages", s(&pdf)])
        .output()
        .expect("qpdf is installed");
    assert_eq!(String::from_utf8_lossy(&pages.stdout).trim(), "20");
    assert!(Std::new("qpdf")
        .args(["--check", s(&pdf)])
        .status()
        .unwrap()
        .success());

    let r = render(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json"),
        &[
            "--format",
            "zpl",
            "--single-file",
            "--size",
            "76x130",
            "--dpi",
            "300",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let zpl = std::fs::read_to_string(&r.out).unwrap();
    assert_eq!(zpl.matches("^XA").count(), 20);
    // 76 mm at 300 dpi is 898 dots.
    assert!(zpl.contains("^PW898"), "{}", &zpl[..200]);
}

#[test]
fn csv_input_and_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    std::fs::write(
        &csv,
        "tracking_number,zone,recipient_name,recipient_phone,recipient_address,item_category\n\
         SF0000000000001,755021,张三,13812345678,广东省深圳市南山区深南大道10000号,母婴\n",
    )
    .unwrap();
    let r = render(s(&csv), &["--format", "png-gray", "--size", "100x180"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(files(&r.out), ["SF0000000000001.png"]);

    assert_eq!(
        render(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json"),
            &["--size", "banana"]
        )
        .code,
        Some(2)
    );
    assert_eq!(
        render(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json"),
            &["--format", "gif"]
        )
        .code,
        Some(2)
    );
}

#[test]
fn a_fallback_font_renders_what_the_bundled_one_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("georgian.jsonl");
    // Georgian: in DejaVu, not in the bundled fonts.
    let rec = r#"{"tracking_number":"SF0000000000021","zone":0,"recipient":{"name":"ნინო","phone":"+995 32 212 3456","address":{"country":"GE","city":"თბილისი","street":"1 Main"}}}"#;
    std::fs::write(&input, format!("{rec}\n")).unwrap();
    let r = render(s(&input), &[]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("no font has a glyph for U+"),
        "{}",
        r.stderr
    );
    // DejaVu Sans (Debian fonts-dejavu-core) has Georgian.
    let r = render(
        s(&input),
        &[
            "--fallback-font",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(files(&r.out), ["SF0000000000021.png"]);
    let r = render(s(&input), &["--font", "no/such/font.ttf"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("no/such/font.ttf"), "{}", r.stderr);
}

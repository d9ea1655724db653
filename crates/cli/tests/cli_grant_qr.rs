//! `grant --qr FILE.png`: the QR code holds exactly the grant printed, and the
//! file is owner-only (the picture is the grant).

use std::os::unix::fs::PermissionsExt;

use assert_cmd::Command;

fn cmd() -> Command {
    Command::cargo_bin("waybill-redact").unwrap()
}

#[test]
fn grant_qr_reads_back_as_the_printed_grant() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = dir.path().join("issuer.json");
    let device = dir.path().join("device.json");
    let qr = dir.path().join("grant.png");
    cmd()
        .args(["issuer", "new", "--out"])
        .arg(&issuer)
        .assert()
        .success();
    let out = cmd()
        .args(["courier", "keygen", "--out"])
        .arg(&device)
        .output()
        .unwrap();
    let device_public = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let out = cmd()
        .args(["grant", "--courier", "C-7", "--zones", "755021", "--issuer"])
        .arg(&issuer)
        .args(["--device-key", &device_public, "--qr"])
        .arg(&qr)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(printed.starts_with("WG2:"));

    let mode = std::fs::metadata(&qr).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let img = image::open(&qr).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    assert_eq!(grids[0].decode().unwrap().1, printed);
}

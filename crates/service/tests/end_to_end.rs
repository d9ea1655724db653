//! A label from end to end: render it, decode its QR with zbarimg as a phone
//! would, POST what was read, and get the original recipient back.

mod common;

use std::process::Command;

use common::*;
use waybill_redact::{mask, render, Fonts, LabelSpec, MaskPolicy, PngMode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rendered_label_resolves_to_its_recipient() {
    let keys = Keys::new();
    let token = keys.token();
    let masked = mask(&keys.waybill, &MaskPolicy::default());
    let label = render(&masked, &token, &LabelSpec::MM_100X150, &Fonts::bundled()).unwrap();
    let png = keys.path("label.png");
    std::fs::write(&png, label.to_png(PngMode::OneBit).unwrap()).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(&png)
        .output()
        .expect("zbarimg is installed (apt-get install zbar-tools)");
    let scanned = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
    assert!(
        scanned.starts_with("WB3:"),
        "zbarimg read a token: {scanned:.8}"
    );
    assert_eq!(scanned, token);

    let s = Running::start(keys.config(&sqlite_url(keys.dir.path()), "node-a")).await;
    let (status, body) = post(
        &client(),
        &format!("{}/v1/resolve", s.url),
        resolve_body(&scanned, &keys.grant(5)),
    )
    .await;
    s.stop().await;
    assert_eq!(status, 200);
    let recipient = keys.waybill.recipient();
    assert_eq!(body["name"], recipient.name().as_str());
    assert!(body["phone"]
        .as_str()
        .unwrap()
        .contains(recipient.phone().national_digits()));
    assert_ne!(
        masked.recipient().name().as_str(),
        recipient.name().as_str(),
        "the label shows a mask"
    );
}

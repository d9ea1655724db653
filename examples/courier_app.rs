//! A courier app, through the library: the phone's device key, a grant bound to
//! it, the QR code read off a label picture, the signed request for the carrier's
//! resolver service, and (with a server) the disclosure it answers.
//!
//! ```sh
//! # Everything made up on the spot; prints the request it would send.
//! cargo run --example courier_app
//! # Against a running service (`waybill-redact serve`): the label is sealed with
//! # its ring and the grant signed by an issuer it trusts.
//! cargo run --example courier_app -- http://127.0.0.1:8080 issuer.json ring.json
//! ```
//!
//! The `waybill-redact courier resolve` command does the same for a picture file.

use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use time::{Duration, OffsetDateTime};
use waybill_redact::{
    mask, render, DeviceKey, Fonts, GrantSpec, IssuerKey, KeyRing, LabelSpec, MaskPolicy, Purpose,
    Validity, Waybill,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (server, issuer, ring) = match args.as_slice() {
        [] => (None, IssuerKey::generate(), KeyRing::generate()),
        [url, issuer, ring] => (
            Some(url.clone()),
            IssuerKey::from_json(&std::fs::read_to_string(issuer)?)?,
            KeyRing::from_json(&std::fs::read_to_string(ring)?)?,
        ),
        _ => return Err("usage: courier_app [SERVER_URL ISSUER.json RING.json]".into()),
    };
    let waybill = Waybill::from_json(
        r#"{ "tracking_number": "SF1234567890123", "zone": 755021,
             "recipient": { "name": "张三", "phone": "13812345678",
                            "address": "广东省深圳市南山区深南大道10000号腾讯大厦1栋1单元1001室" } }"#,
    )?;
    let now = OffsetDateTime::now_utc();

    // On the phone, once: a device key that never leaves it. Its public half
    // (`WD1:…`) goes to the carrier's issuer; an app keeps the key file
    // (`to_json`) in the platform's key store.
    let phone = DeviceKey::generate()?;
    println!("device public key: {}", phone.public_key());

    // At the carrier, each shift: a grant bound to that phone. Its text alone
    // resolves nothing: every request must carry the phone's signature.
    let grant = issuer.issue(
        &GrantSpec::new(
            "C-10023",
            vec![waybill.zone()],
            now - Duration::minutes(5),
            now + Duration::hours(10),
            300,
        )
        .with_device(Some(phone.public_key())),
    )?;
    println!("grant {} bound to the phone", grant.id());

    // At the seller: the label, with the masked text and the sealed token.
    let token = ring.seal(&waybill, &Validity::new(now, Duration::days(30))?)?;
    let masked = mask(&waybill, &MaskPolicy::default());
    let spec = LabelSpec::MM_100X150.with_dpi(300)?;
    let label = render(&masked, token.as_str(), &spec, &Fonts::bundled())?;

    // On the phone: the camera's picture (here the rendered label) and its QR code.
    let mut picture = rqrr::PreparedImage::prepare(label.to_gray_image());
    let scanned = picture
        .detect_grids()
        .iter()
        .filter_map(|grid| grid.decode().ok())
        .map(|(_, text)| text)
        .find(|text| text.starts_with("WB"))
        .ok_or("no waybill QR code in the picture")?;
    assert_eq!(scanned, token.as_str());
    println!("scanned token: {}…", &scanned[..24]);

    // The request: the phone signs the grant id, the purpose, the token's
    // SHA-256, its clock and a fresh nonce. Sign every request anew: the
    // resolver refuses a nonce twice and a time more than 120 s off its own.
    let time = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let proof = phone.prove(grant.id(), Purpose::Delivery, &[&scanned], time)?;
    let body = serde_json::json!({
        "token": scanned,
        "grant": grant.as_str(),
        "purpose": Purpose::Delivery.as_str(),
        "device_signature": proof.to_string(),
    });

    let Some(server) = server else {
        println!("POST /v1/resolve {body}");
        return Ok(());
    };
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(StdDuration::from_secs(15)))
            .http_status_as_error(false)
            .build(),
    );
    let mut response = agent
        .post(format!("{}/v1/resolve", server.trim_end_matches('/')))
        .header("content-type", "application/json")
        .send(body.to_string().as_bytes())?;
    let status = response.status();
    // A disclosure is a few KB; read no more than 64 KB of whatever comes back.
    let answer = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()?;
    println!("HTTP {status}: {answer}");
    Ok(())
}

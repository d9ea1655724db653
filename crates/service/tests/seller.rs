//! The seller's path through the service, end to end: the seller fetches the
//! carrier's directory from `GET /v1/directory` and holds only that, its sealer
//! key and the carrier's `WI1:` key; it renders a label; zbarimg reads the QR; a
//! courier's device-signed request to the service (SQLite on 127.0.0.1) gets the
//! recipient back; the seller revoked through `POST /v1/revocations` is denied.
//! Every record of the seller's token names the seller's sealer id.

mod common;

use std::process::Command;

use common::*;
use time::{Duration, OffsetDateTime};
use waybill_redact::{
    mask, render, DeviceKey, Fonts, GrantSpec, LabelSpec, MaskPolicy, PngMode, PublicSealer,
    Purpose, SealerKey, SealerRegistry, Token, Validity, ZoneDirectory,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sellers_label_resolves_through_the_service_until_the_seller_is_revoked() {
    let keys = Keys::new();
    let now = OffsetDateTime::now_utc();
    let zone = keys.waybill.zone();
    // The carrier: a directory for the zone, the seller's key registered.
    let directory = ZoneDirectory::publish(
        &keys.ring,
        &keys.issuer,
        &[zone],
        now - Duration::days(1),
        Duration::days(90),
    )
    .unwrap();
    std::fs::write(keys.path("directory.json"), directory.to_json()).unwrap();
    let seller_key = SealerKey::generate().unwrap();
    let mut registry = SealerRegistry::new();
    let id = registry.register(seller_key.public_key().clone()).unwrap();
    std::fs::write(keys.path("sealers.json"), registry.to_json()).unwrap();
    let mut config = keys.config(&sqlite_url(keys.dir.path()), "node-a");
    config.sealers = keys.path("sealers.json");
    config.directories = vec![keys.path("directory.json")];
    config.allow_bearer_grants = false;
    let s = Running::start(config).await;
    let c = client();

    // The seller fetches the directory and verifies it against the WI1: key.
    let r = c
        .get(format!("{}/v1/directory", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cache = r.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    let fetched = r.text().await.unwrap();
    let verified = ZoneDirectory::from_json(&fetched, &keys.issuer.public_key(), now).unwrap();
    let sealer = PublicSealer::new(verified, seller_key.clone());
    let token = sealer
        .seal(
            &keys.waybill,
            &Validity::new(now, Duration::days(7)).unwrap(),
        )
        .unwrap();
    assert_eq!(
        Token::parse_header(token.as_str()).unwrap().sealer_id(),
        None
    );

    // The label; a phone reads its QR.
    let masked = mask(&keys.waybill, &MaskPolicy::default());
    let label = render(
        &masked,
        token.as_str(),
        &LabelSpec::MM_100X150,
        &Fonts::bundled(),
    )
    .unwrap();
    let png = keys.path("label.png");
    std::fs::write(&png, label.to_png(PngMode::OneBit).unwrap()).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(&png)
        .output()
        .expect("zbarimg is installed (apt-get install zbar-tools)");
    let scanned = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
    assert!(scanned.starts_with("WB3:"), "{scanned:.8}");
    assert_eq!(scanned, token.as_str());

    // The courier's device-bound grant and signed request.
    let device = DeviceKey::generate().unwrap();
    let grant = keys
        .issuer
        .issue(
            &GrantSpec::new(
                "C-77",
                vec![zone],
                now - Duration::minutes(5),
                now + Duration::hours(8),
                100,
            )
            .with_device(Some(device.public_key())),
        )
        .unwrap();
    let signed = |token: &str| {
        let time = u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap();
        let proof = device
            .prove(grant.id(), Purpose::Delivery, &[token], time)
            .unwrap();
        serde_json::json!({
            "token": token,
            "grant": grant.as_str(),
            "purpose": "delivery",
            "device_signature": proof.to_string(),
        })
    };
    let url = format!("{}/v1/resolve", s.url);
    let (status, body) = post(&c, &url, signed(&scanned)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], keys.waybill.recipient().name().as_str());
    // A carrier station's suite-1 label, under the same grant.
    let (status, body) = post(&c, &url, signed(&keys.token())).await;
    assert_eq!(status, 200, "{body}");

    // The carrier revokes the seller (upper case is the same id); every token it
    // sealed is then denied.
    let r = c
        .post(format!("{}/v1/revocations", s.admin_url))
        .bearer_auth("admin-secret")
        .json(&serde_json::json!({"sealers": [id.to_string().to_uppercase()]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = post(&c, &url, signed(&scanned)).await;
    assert_eq!(status, 403, "{body}");
    // A malformed sealer id is refused, not stored.
    let r = c
        .post(format!("{}/v1/revocations", s.admin_url))
        .bearer_auth("admin-secret")
        .json(&serde_json::json!({"sealers": ["not-an-id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    s.stop().await;

    let (_, lines) = export_and_verify(&sqlite_url(keys.dir.path()), &keys, "audit.jsonl").await;
    assert_eq!(count(&lines, "\"sealer_revoked\""), 1, "{lines:?}");
    // The auditor sees whose labels were looked up: the seller's id on its
    // token's records (allowed, and refused once it was revoked), on the
    // revocation, and on none of the suite-1 label's.
    let records: Vec<waybill_redact::AuditRecord> = lines
        .iter()
        .filter(|l| !l.starts_with("{\"checkpoint\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(waybill_redact::AuditKind, Option<&str>, Option<&str>)> = records
        .iter()
        .map(|r| {
            let reason = r.outcome.and_then(|o| o.reason()).map(|d| d.as_str());
            (r.kind, r.sealer.as_deref(), reason)
        })
        .collect();
    let id = id.to_string();
    assert_eq!(
        seen,
        [
            (waybill_redact::AuditKind::Resolve, Some(id.as_str()), None),
            (waybill_redact::AuditKind::Resolve, None, None),
            (waybill_redact::AuditKind::Revoked, Some(id.as_str()), None),
            (
                waybill_redact::AuditKind::Resolve,
                Some(id.as_str()),
                Some("sealer_revoked")
            ),
        ]
    );
}

//! The courier client end to end against the real resolver service (SQLite
//! store, HTTP on 127.0.0.1): a photographed label resolves to its recipient; a
//! replayed request, another device's signature, a stale time and the grant
//! text alone are each denied, and each denial is in the exported audit.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use image::{imageops, GrayImage, Luma};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use waybill_redact::{
    mask, parse_batch, render, DeviceKey, Fonts, Grant, KeyRing, Label, LabelSpec, MaskPolicy,
    Purpose, Validity, Waybill,
};
use waybill_redact_service::Config;

#[path = "common/service.rs"]
mod service;
use service::Service;

const FIXTURES: &str = include_str!("../../../fixtures/waybills.json");

fn cmd() -> Command {
    Command::cargo_bin("waybill-redact").unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn stdout(args: &[&str]) -> String {
    let out = cmd().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A carrier (ring, issuer) and a courier (device key), in one folder.
struct Env {
    dir: tempfile::TempDir,
    ring: KeyRing,
    issuer_public: String,
    device_public: String,
    waybill: Waybill,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    let ring = KeyRing::generate();
    std::fs::write(path("ring.json"), ring.to_json().as_bytes()).unwrap();
    // Secret key files are refused unless owner-only.
    std::fs::set_permissions(
        path("ring.json"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let issuer_public = stdout(&["issuer", "new", "--out", p(&path("issuer.json"))]);
    let device_public = stdout(&["courier", "keygen", "--out", p(&path("device.json"))]);
    // The service makes no audit key of its own.
    stdout(&["audit", "key-new", "--out", p(&path("audit-key.json"))]);
    Env {
        ring,
        issuer_public: issuer_public.trim().to_owned(),
        device_public: device_public.trim().to_owned(),
        waybill: parse_batch(FIXTURES).remove(0).unwrap(),
        dir,
    }
}

impl Env {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn store(&self, name: &str) -> String {
        format!("sqlite:{}", self.path(name).display())
    }

    fn config(&self, store: &str, allow_bearer_grants: bool) -> Config {
        Config {
            ring: self.path("ring.json"),
            trust: vec![self.issuer_public.clone()],
            store: store.to_owned(),
            instance: "node-a".into(),
            audit_key: self.path("audit-key.json"),
            allow_bearer_grants,
            ..Config::default()
        }
    }

    fn token(&self) -> String {
        let validity = Validity::new(OffsetDateTime::now_utc(), Duration::days(7)).unwrap();
        let token = self.ring.seal(&self.waybill, &validity).unwrap();
        token.as_str().to_owned()
    }

    /// Issues a grant for the parcel's zone with `grant … binding` and keeps it
    /// in a file, as the courier's device would.
    fn grant(&self, binding: &[&str]) -> PathBuf {
        static ISSUED: AtomicUsize = AtomicUsize::new(0);
        let not_before = (OffsetDateTime::now_utc() - Duration::minutes(5))
            .format(&Rfc3339)
            .unwrap();
        let zone = self.waybill.zone().to_string();
        let issuer = self.path("issuer.json");
        let mut args = vec!["grant", "--issuer", p(&issuer), "--courier", "C-10023"];
        args.extend(["--zones", &zone, "--not-before", &not_before]);
        args.extend_from_slice(binding);
        let grant = stdout(&args);
        let file = self.path(&format!(
            "grant-{}.txt",
            ISSUED.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&file, grant.trim()).unwrap();
        file
    }

    fn bound_grant(&self) -> PathBuf {
        self.grant(&["--device-key", &self.device_public])
    }

    /// `courier resolve` with `what` (`--image FILE` or a token).
    fn courier_resolve(
        &self,
        url: &str,
        grant: &Path,
        device: Option<&Path>,
        what: &[&str],
    ) -> Output {
        let mut c = cmd();
        c.args(["courier", "resolve", "--server", url, "--grant", p(grant)])
            .args(["--purpose", "delivery"]);
        if let Some(device) = device {
            c.args(["--device", p(device)]);
        }
        c.args(what).output().unwrap()
    }

    /// Checks a disclosure printed by `courier resolve` against the waybill.
    fn assert_discloses_the_recipient(&self, out: &Output) {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let r = self.waybill.recipient();
        assert_eq!(
            json["tracking_number"],
            self.waybill.tracking_number().as_str()
        );
        assert_eq!(json["name"], r.name().as_str());
        assert_eq!(json["phone"], r.phone().to_canonical().as_str());
        assert_eq!(json["address"], r.address().to_full_text().as_str());
    }
}

/// A phone's picture of a label: a margin of table around it, scaled, turned a
/// few degrees, blurred, with sensor noise. Deterministic for a seed.
fn photo(label: &Label, scale: f32, degrees: f32, seed: u64) -> GrayImage {
    let bm = label.bitmap();
    let margin = 80;
    let img = GrayImage::from_fn(bm.width() + 2 * margin, bm.height() + 2 * margin, |x, y| {
        let inside =
            x >= margin && y >= margin && x < bm.width() + margin && y < bm.height() + margin;
        Luma([if inside && bm.get(x - margin, y - margin) {
            25
        } else if inside {
            230
        } else {
            150
        }])
    });
    let (w, h) = (
        (img.width() as f32 * scale) as u32,
        (img.height() as f32 * scale) as u32,
    );
    let img = imageops::resize(&img, w, h, imageops::FilterType::Triangle);
    let img = imageproc::geometric_transformations::rotate_about_center(
        &img,
        degrees.to_radians(),
        imageproc::geometric_transformations::Interpolation::Bilinear,
        imageproc::geometric_transformations::Border::Constant(Luma([150])),
    );
    let mut img = imageproc::filter::gaussian_blur_f32(&img, 0.9);
    let mut s = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    for px in img.pixels_mut() {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let noise = ((s >> 60) as i16) - 8;
        px.0[0] = (i16::from(px.0[0]) + noise).clamp(0, 255) as u8;
    }
    img
}

#[test]
fn a_photographed_label_resolves_to_exactly_its_recipient() {
    let e = env();
    let token = e.token();
    let masked = mask(&e.waybill, &MaskPolicy::default());
    // Printed at 300 dpi (6-dot QR modules), as the phone sees a label.
    let spec = LabelSpec::MM_100X150.with_dpi(300).unwrap();
    let label = render(&masked, &token, &spec, &Fonts::bundled()).unwrap();
    assert_ne!(
        masked.recipient().name().as_str(),
        e.waybill.recipient().name().as_str()
    );
    let grant = e.bound_grant();
    let device = e.path("device.json");
    let service = Service::start(e.config(&e.store("resolver.db"), false));
    // Near and far, turned either way; one saved as a phone's JPEG.
    let shots = [(0.6, 2.0, "png"), (1.0, -3.5, "jpg"), (1.5, 5.0, "png")];
    for (i, (scale, degrees, ext)) in shots.into_iter().enumerate() {
        let picture = photo(&label, scale, degrees, i as u64);
        let file = e.path(&format!("photo-{i}.{ext}"));
        picture.save(&file).unwrap();
        let out = e.courier_resolve(&service.url, &grant, Some(&device), &["--image", p(&file)]);
        assert!(
            out.status.success(),
            "scale {scale}, {degrees}°: {}",
            text(&out.stderr)
        );
        e.assert_discloses_the_recipient(&out);
    }
    // A picture without a label is an error, not a request.
    let blank = e.path("blank.png");
    GrayImage::from_pixel(400, 300, Luma([200]))
        .save(&blank)
        .unwrap();
    let out = e.courier_resolve(&service.url, &grant, Some(&device), &["--image", p(&blank)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no QR code found"),
        "{}",
        text(&out.stderr)
    );
    service.stop();
}

/// POSTs a raw request body; returns the status and the error code, if any.
fn post(url: &str, body: &serde_json::Value) -> (u16, String) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .build(),
    );
    let mut response = agent
        .post(format!("{url}/v1/resolve"))
        .header("content-type", "application/json")
        .send(body.to_string().as_bytes())
        .unwrap();
    let answer: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    let code = answer["error"]["code"].as_str().unwrap_or("").to_owned();
    (response.status().as_u16(), code)
}

/// A request body signed by the device in `device_file`, at `time`.
fn signed_body(grant: &str, token: &str, device_file: &Path, time: i64) -> serde_json::Value {
    let device = DeviceKey::from_json(&std::fs::read_to_string(device_file).unwrap()).unwrap();
    let grant_id = Grant::parse(grant).unwrap().id();
    let proof = device
        .prove(
            grant_id,
            Purpose::Delivery,
            &[token],
            u64::try_from(time).unwrap(),
        )
        .unwrap();
    serde_json::json!({
        "token": token,
        "grant": grant,
        "purpose": "delivery",
        "device_signature": proof.to_string(),
    })
}

#[test]
fn replays_other_devices_stale_times_and_bare_grants_are_denied_and_audited() {
    let e = env();
    let token = e.token();
    let grant_file = e.bound_grant();
    let grant = std::fs::read_to_string(&grant_file).unwrap();
    let device = e.path("device.json");
    let store = e.store("resolver.db");
    let service = Service::start(e.config(&store, false));
    let url = service.url.clone();

    // The same body twice: the second is a replay.
    let body = signed_body(&grant, &token, &device, unix_now());
    assert_eq!(post(&url, &body), (200, String::new()));
    assert_eq!(post(&url, &body), (403, "request_replayed".into()));

    // A thief with the grant file and a device of their own.
    let thief = e.path("thief.json");
    stdout(&["courier", "keygen", "--out", p(&thief)]);
    let stolen = e.courier_resolve(&url, &grant_file, Some(&thief), &[&token]);
    assert_eq!(stolen.status.code(), Some(3));
    assert!(
        text(&stolen.stderr).contains("(device_signature_invalid)"),
        "{}",
        text(&stolen.stderr)
    );

    // Ten minutes behind, and ten minutes ahead of, the server's clock.
    for skew in [-600, 600] {
        let body = signed_body(&grant, &token, &device, unix_now() + skew);
        assert_eq!(post(&url, &body), (403, "request_stale".into()), "{skew} s");
    }

    // The grant's text alone, without a device signature.
    let bare = e.courier_resolve(&url, &grant_file, None, &[&token]);
    assert_eq!(bare.status.code(), Some(3));
    assert!(
        text(&bare.stderr).contains("(device_signature_required)"),
        "{}",
        text(&bare.stderr)
    );
    for out in [&stolen, &bare] {
        assert!(out.stdout.is_empty());
        assert!(
            !text(&out.stderr).contains(&grant[4..40]),
            "the grant is echoed"
        );
    }
    // The real device, anew: still resolves.
    let ok = e.courier_resolve(&url, &grant_file, Some(&device), &[&token]);
    e.assert_discloses_the_recipient(&ok);
    service.stop();

    let export = e.path("audit.jsonl");
    stdout(&["audit", "export", "--store", &store, "--out", p(&export)]);
    let verified = stdout(&["audit", "verify", p(&export)]);
    assert!(verified.starts_with("ok:"), "{verified}");
    let mut reasons: Vec<String> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["reason"].as_str().map(str::to_owned)
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "device_signature_invalid",
            "device_signature_missing",
            "request_replayed",
            "request_stale",
            "request_stale",
        ]
    );
}

#[test]
fn bearer_grants_are_refused_unless_the_service_allows_them() {
    let e = env();
    let token = e.token();
    let bearer = e.grant(&["--bearer"]);
    assert!(std::fs::read_to_string(&bearer)
        .unwrap()
        .starts_with("WG1:"));

    let strict = Service::start(e.config(&e.store("strict.db"), false));
    let refused = e.courier_resolve(&strict.url, &bearer, None, &[&token]);
    strict.stop();
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        text(&refused.stderr).contains("(bearer_grant_refused)"),
        "{}",
        text(&refused.stderr)
    );

    let migrating = Service::start(e.config(&e.store("migrating.db"), true));
    let allowed = e.courier_resolve(&migrating.url, &bearer, None, &[&token]);
    migrating.stop();
    e.assert_discloses_the_recipient(&allowed);
}

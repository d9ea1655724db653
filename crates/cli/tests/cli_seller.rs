//! Suite 2 end to end, as a carrier and a seller would run it: the carrier
//! publishes a zone directory and registers the seller's key; the seller seals
//! and renders with the directory and its key only; the carrier resolves.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json");

fn run(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("waybill-redact")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

struct Env {
    dir: tempfile::TempDir,
    carrier_public: String,
    seller_public: String,
}

impl Env {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Carrier: ring, issuer, directory for every fixture zone. Seller: a key.
fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let f = |n: &str| dir.path().join(n);
    stdout(&["keys", "new", "--out", p(&f("ring.json"))]);
    let carrier_public = stdout(&["issuer", "new", "--out", p(&f("issuer.json"))])
        .trim()
        .to_owned();
    let zones = "0,110105,150102,200000,234100,310115,330106,350203,420104,441900,460105,500103,510106,530102,540102,571003,650102,755021,830011";
    let out = stdout(&[
        "keys",
        "publish",
        "--ring",
        p(&f("ring.json")),
        "--issuer",
        p(&f("issuer.json")),
        "--zones",
        zones,
        "--out",
        p(&f("directory.json")),
    ]);
    assert!(out.contains("key id 1"), "{out}");
    let seller_public = stdout(&["sealer", "new", "--out", p(&f("seller.json"))])
        .trim()
        .to_owned();
    assert!(seller_public.starts_with("WS1:") && seller_public.len() == 68);
    // The courier's device, which grants are bound to.
    stdout(&["courier", "keygen", "--out", p(&f("device.json"))]);
    Env {
        dir,
        carrier_public,
        seller_public,
    }
}

fn seal_as_seller(e: &Env, input: &str) -> std::process::Output {
    run(&[
        "seal",
        "--directory",
        p(&e.path("directory.json")),
        "--sealer",
        p(&e.path("seller.json")),
        "--carrier",
        &e.carrier_public,
        "--input",
        input,
    ])
}

fn resolve(e: &Env, token: &str, zone: &str) -> std::process::Output {
    let not_before = (OffsetDateTime::now_utc() - Duration::hours(1))
        .format(&Rfc3339)
        .unwrap();
    let grant = stdout(&[
        "grant",
        "--issuer",
        p(&e.path("issuer.json")),
        "--courier",
        "C-1",
        "--zones",
        zone,
        "--hours",
        "12",
        "--not-before",
        &not_before,
        "--device-key",
        p(&e.path("device.json")),
    ]);
    std::fs::write(e.path("grant.txt"), grant.trim()).unwrap();
    std::fs::write(e.path("carrier.pub"), &e.carrier_public).unwrap();
    resolve_with_grant(e, token)
}

/// `resolve` with the grant and the trusted key `resolve` left on file.
fn resolve_with_grant(e: &Env, token: &str) -> std::process::Output {
    run(&[
        "resolve",
        "--ring",
        p(&e.path("ring.json")),
        "--trust",
        p(&e.path("carrier.pub")),
        "--sealers",
        p(&e.path("sealers.json")),
        "--grant",
        p(&e.path("grant.txt")),
        "--device",
        p(&e.path("device.json")),
        "--purpose",
        "delivery",
        token,
    ])
}

fn first_record(e: &Env) -> (String, String) {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(FIXTURES).unwrap()).unwrap();
    let first = &json[0];
    let path = e.path("one.json");
    std::fs::write(&path, format!("[{first}]")).unwrap();
    (p(&path).to_owned(), first["zone"].to_string())
}

#[test]
fn a_seller_seals_with_the_directory_and_the_carrier_resolves() {
    let e = env();
    let (input, zone) = first_record(&e);
    // Before registration the token is denied, and says why.
    stdout(&[
        "sealer",
        "register",
        "--registry",
        p(&e.path("sealers.json")),
        "--key",
        "WS1:0000000000000000000000000000000000000000000000000000000000000009",
    ]);
    let token = String::from_utf8(seal_as_seller(&e, &input).stdout).unwrap();
    let token = token.trim();
    assert!(token.starts_with("WB3:"), "{token}");
    let denied = resolve(&e, token, &zone);
    assert_eq!(denied.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&denied.stderr).contains("unknown_sealer"));
    let id = stdout(&[
        "sealer",
        "register",
        "--registry",
        p(&e.path("sealers.json")),
        "--key",
        &e.seller_public,
    ]);
    assert_eq!(id.trim().len(), 8);
    let out = resolve(&e, token, &zone);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["name"], "张三");
    // Revoked: denied again.
    stdout(&[
        "sealer",
        "revoke",
        "--registry",
        p(&e.path("sealers.json")),
        "--id",
        id.trim(),
    ]);
    let revoked = resolve(&e, token, &zone);
    assert_eq!(revoked.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&revoked.stderr).contains("sealer_revoked"));
}

#[test]
fn a_tampered_directory_or_a_secret_carrier_file_is_refused() {
    let e = env();
    let (input, _) = first_record(&e);
    let dir = e.path("directory.json");
    let text = std::fs::read_to_string(&dir).unwrap();
    std::fs::write(&dir, text.replacen("\"zone\": 0,", "\"zone\": 1,", 1)).unwrap();
    let out = seal_as_seller(&e, &input);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("signature is invalid"), "{err}");
    // The seller must be given the carrier's public key, never its secret file.
    std::fs::write(&dir, text).unwrap();
    let out = run(&[
        "seal",
        "--directory",
        p(&dir),
        "--sealer",
        p(&e.path("seller.json")),
        "--carrier",
        p(&e.path("issuer.json")),
        "--input",
        &input,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds the issuer's secret"));
}

/// Every secret key file the CLI reads (ring, issuer, sealer and device key) is
/// refused while group or others may read it, naming the file and the fix; the
/// same file works again once it is owner-only.
#[cfg(unix)]
#[test]
fn secret_key_files_open_to_group_or_others_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let e = env();
    let (input, zone) = first_record(&e);
    stdout(&[
        "sealer",
        "register",
        "--registry",
        p(&e.path("sealers.json")),
        "--key",
        &e.seller_public,
    ]);
    let token = String::from_utf8(seal_as_seller(&e, &input).stdout).unwrap();
    // Resolved once: the grant and the trusted key are on file for the device case.
    assert!(resolve(&e, token.trim(), &zone).status.success());
    let resolve_again = || resolve_with_grant(&e, token.trim());
    let chmod = |name: &str, mode: u32| {
        std::fs::set_permissions(e.path(name), std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let refused = |name: &str, out: std::process::Output| {
        let err = String::from_utf8_lossy(&out.stderr);
        // 1, or 2 where the file is an argument's value (`grant --device-key`).
        assert!(matches!(out.status.code(), Some(1 | 2)), "{name}: {err}");
        let path = p(&e.path(name)).to_owned();
        assert!(
            err.contains(&format!("{path}: readable by group or others (mode 644)"))
                && err.contains(&format!("chmod 600 {path}")),
            "{name}: {err}"
        );
    };
    let rotate = || run(&["keys", "rotate", "--ring", p(&e.path("ring.json"))]);
    let grant = || {
        run(&[
            "grant",
            "--issuer",
            p(&e.path("issuer.json")),
            "--courier",
            "C-1",
            "--zones",
            &zone,
            "--hours",
            "1",
            "--device-key",
            p(&e.path("device.json")),
        ])
    };
    let cases: [(&str, &dyn Fn() -> std::process::Output); 5] = [
        ("ring.json", &rotate),
        ("issuer.json", &grant),
        ("seller.json", &|| seal_as_seller(&e, &input)),
        // The device key read by `resolve --device`, and as `grant --device-key`.
        ("device.json", &resolve_again),
        ("device.json", &grant),
    ];
    for (name, command) in cases {
        chmod(name, 0o644);
        refused(name, command());
        chmod(name, 0o600);
        let out = command();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_seller_renders_labels_without_the_ring() {
    let e = env();
    let (input, _) = first_record(&e);
    let out_dir = e.path("labels");
    let out = run(&[
        "render",
        "--directory",
        p(&e.path("directory.json")),
        "--sealer",
        p(&e.path("seller.json")),
        "--carrier",
        &e.carrier_public,
        "--input",
        &input,
        "--out",
        p(&out_dir),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);
    // --ring and --directory together are a usage error.
    let both = run(&[
        "seal",
        "--ring",
        p(&e.path("ring.json")),
        "--directory",
        p(&e.path("directory.json")),
        "--sealer",
        p(&e.path("seller.json")),
        "--carrier",
        &e.carrier_public,
    ]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn a_carrier_station_seals_with_its_own_key_and_is_revoked_by_name() {
    let e = env();
    let (input, zone) = first_record(&e);
    let station = e.path("station.json");
    let out = run(&[
        "sealer",
        "new",
        "--carrier-station",
        "SZ-Nanshan-03",
        "--out",
        p(&station),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(public.starts_with("WS1:") && public.len() == 68, "{public}");
    // The line HQ runs is printed for the station's operator.
    let hint = String::from_utf8_lossy(&out.stderr);
    assert!(
        hint.contains(&format!(
            "sealer register --registry SEALERS.json --key {public} --station SZ-Nanshan-03"
        )),
        "{hint}"
    );
    let registry = e.path("sealers.json");
    let id = stdout(&[
        "sealer",
        "register",
        "--registry",
        p(&registry),
        "--key",
        &public,
        "--station",
        "SZ-Nanshan-03",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&registry).unwrap()).unwrap();
    assert_eq!(json["sealers"][0]["station"], "SZ-Nanshan-03");
    assert_eq!(json["sealers"][0]["id"], id.trim());
    // The station holds its key, the directory and the carrier's WI1: key.
    let token = stdout(&[
        "seal",
        "--directory",
        p(&e.path("directory.json")),
        "--sealer",
        p(&station),
        "--carrier",
        &e.carrier_public,
        "--input",
        &input,
    ]);
    assert!(token.starts_with("WB3:"), "{token}");
    let out = resolve(&e, token.trim(), &zone);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second live key for the station is refused until the first is revoked.
    let second = stdout(&["sealer", "new", "--out", p(&e.path("station-2.json"))]);
    let taken = run(&[
        "sealer",
        "register",
        "--registry",
        p(&registry),
        "--key",
        second.trim(),
        "--station",
        "SZ-Nanshan-03",
    ]);
    assert_eq!(taken.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&taken.stderr).contains("already has a key that is not revoked")
    );
    // Revoked by the station's name: its tokens are denied.
    let revoked = stdout(&[
        "sealer",
        "revoke",
        "--registry",
        p(&registry),
        "--id",
        "SZ-Nanshan-03",
    ]);
    assert_eq!(revoked.trim(), format!("revoked {}", id.trim()));
    let denied = resolve(&e, token.trim(), &zone);
    assert_eq!(denied.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&denied.stderr).contains("sealer_revoked"));
    stdout(&[
        "sealer",
        "register",
        "--registry",
        p(&registry),
        "--key",
        second.trim(),
        "--station",
        "SZ-Nanshan-03",
    ]);
    // A bad name is refused before any key is made.
    let bad = e.path("bad.json");
    let out = run(&[
        "sealer",
        "new",
        "--carrier-station",
        "南山 3",
        "--out",
        p(&bad),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!bad.exists());
}

/// The light default build cannot fetch: a URL without a fresh cached copy is
/// an error that names the feature.
#[cfg(not(feature = "fetch"))]
#[test]
fn without_the_fetch_feature_a_directory_url_names_the_feature() {
    let e = env();
    let (input, _) = first_record(&e);
    let out = run(&[
        "seal",
        "--directory",
        "https://resolver.example.com/v1/directory",
        "--directory-cache",
        p(&e.path("cache.json")),
        "--sealer",
        p(&e.path("seller.json")),
        "--carrier",
        &e.carrier_public,
        "--input",
        &input,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no cached copy") && err.contains("--features fetch"),
        "{err}"
    );
}

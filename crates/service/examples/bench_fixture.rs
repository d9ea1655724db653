//! Writes what `scripts/bench-resolver.sh` needs into a folder: a key ring, an
//! audit key, a witness key, a request body (a sealed token and a bearer grant with the largest
//! quota), for `load_signed` a device key and `bound.json` (the token and a grant
//! bound to that device), and prints the issuer's public key.
//!
//! ```sh
//! cargo run --release -p waybill-redact-service --example bench_fixture -- DIR
//! ```

use std::path::PathBuf;

use time::{Duration, OffsetDateTime};
use waybill_redact::{parse_batch, AuditKey, DeviceKey, GrantSpec, IssuerKey, KeyRing, WitnessKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: bench_fixture DIR")?);
    std::fs::create_dir_all(&dir)?;
    let waybill = parse_batch(include_str!("../../../fixtures/waybills.json"))
        .into_iter()
        .next()
        .ok_or("no fixture")??;
    let ring = KeyRing::generate();
    let issuer = IssuerKey::generate();
    let now = OffsetDateTime::now_utc();
    let token = ring.seal(
        &waybill,
        &waybill_redact::Validity::new(now, Duration::days(7))?,
    )?;
    let spec = GrantSpec::new(
        "C-BENCH",
        vec![waybill.zone()],
        now - Duration::minutes(5),
        now + Duration::hours(8),
        u32::MAX,
    );
    let grant = issuer.issue(&spec)?;
    let device = DeviceKey::generate()?;
    let bound = issuer.issue(&spec.with_device(Some(device.public_key())))?;
    // Secret key files owner-only: the service refuses them otherwise.
    let secret = |name: &str, text: &str| -> std::io::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        #[cfg(unix)]
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        Ok(())
    };
    secret("ring.json", &ring.to_json())?;
    secret("audit-key.json", &AuditKey::generate().to_json())?;
    secret("witness.json", &WitnessKey::generate().to_json())?;
    let body = serde_json::json!({
        "token": token.as_str(), "grant": grant.as_str(), "purpose": "delivery"
    });
    std::fs::write(dir.join("body.json"), body.to_string())?;
    secret("device.json", &device.to_json())?;
    let bound = serde_json::json!({ "token": token.as_str(), "grant": bound.as_str() });
    std::fs::write(dir.join("bound.json"), bound.to_string())?;
    println!("{}", issuer.public_key());
    Ok(())
}

//! A real witness process (`waybill-resolver witness`) on 127.0.0.1, over HTTP
//! or HTTPS with a test CA made here.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use waybill_redact::{
    audit_origin, verify_audit_log_with, AuditReport, AuditRules, SignedCheckpoint, WitnessKey,
    WitnessPublicKey,
};

use super::{write_secret, Keys};

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running witness; killed (SIGKILL) and reaped when dropped.
pub struct WitnessProcess {
    pub child: Child,
    pub url: String,
    pub port: u16,
    pub key: WitnessPublicKey,
    pub store: PathBuf,
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test CA and a certificate for 127.0.0.1 it signed, as PEM files.
pub struct TestCa {
    /// The CA's certificate, what a client trusts.
    pub ca: PathBuf,
    /// The witness's certificate.
    pub cert: PathBuf,
    /// Its private key (owner-only).
    pub key: PathBuf,
}

/// Makes a CA called `name` and a certificate for 127.0.0.1 in `dir`.
pub fn test_ca(dir: &Path, name: &str) -> TestCa {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    let ca =
        rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let out = TestCa {
        ca: dir.join(format!("{name}-ca.pem")),
        cert: dir.join(format!("{name}-cert.pem")),
        key: dir.join(format!("{name}-key.pem")),
    };
    std::fs::write(&out.ca, ca.pem()).unwrap();
    std::fs::write(&out.cert, cert.pem()).unwrap();
    write_secret(&out.key, &key.serialize_pem());
    out
}

/// A witness for `instance`'s log on a free port, over plain HTTP.
pub async fn spawn_witness(keys: &Keys, instance: &str) -> WitnessProcess {
    spawn_witness_on(keys, instance, free_port(), None).await
}

/// A witness for `instance`'s log on `port`, over HTTPS with `tls`'s
/// certificate when given. Its key (`witness.json`) and store
/// (`witness-store`) in the keys' folder are kept across restarts.
pub async fn spawn_witness_on(
    keys: &Keys,
    instance: &str,
    port: u16,
    tls: Option<&TestCa>,
) -> WitnessProcess {
    let key_path = keys.path("witness.json");
    if !key_path.exists() {
        write_secret(&key_path, &WitnessKey::generate().to_json());
    }
    let key = WitnessKey::from_json(&std::fs::read_to_string(&key_path).unwrap())
        .unwrap()
        .public_key();
    let store = keys.path("witness-store");
    let mut command = Command::new(env!("CARGO_BIN_EXE_waybill-resolver"));
    command
        .arg("witness")
        .args(["--key", key_path.to_str().unwrap()])
        .args(["--store", store.to_str().unwrap()])
        .args([
            "--log",
            &format!("{}={}", audit_origin(instance), keys.audit.public_key()),
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")]);
    if let Some(tls) = tls {
        command
            .args(["--tls-cert", tls.cert.to_str().unwrap()])
            .args(["--tls-key", tls.key.to_str().unwrap()]);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Held at once, so that it is killed and reaped on every path.
    let scheme = if tls.is_some() { "https" } else { "http" };
    let witness = WitnessProcess {
        child,
        url: format!("{scheme}://127.0.0.1:{port}"),
        port,
        key,
        store,
    };
    // Up when it accepts connections.
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return witness;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the witness did not start");
}

/// The witness's stored (cosigned) checkpoint, if it has one.
pub fn witnessed_now(w: &WitnessProcess) -> Option<SignedCheckpoint> {
    let entry = std::fs::read_dir(&w.store)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "checkpoint"))?;
    SignedCheckpoint::from_text(&std::fs::read_to_string(entry.path()).ok()?).ok()
}

/// The witness's stored (cosigned) checkpoint.
pub fn witnessed(w: &WitnessProcess) -> SignedCheckpoint {
    witnessed_now(w).expect("the witness stored a checkpoint")
}

/// `audit verify --key --witness --checkpoint` of an export: strict, every
/// record under a checkpoint `w` cosigned, consistent with `w`'s own copy.
pub fn verify_witnessed(text: &str, keys: &Keys, w: &WitnessProcess) -> AuditReport {
    let rules = AuditRules {
        key: Some(keys.audit.public_key()),
        witnesses: vec![w.key],
        known: vec![witnessed(w)],
        ..AuditRules::default()
    };
    verify_audit_log_with(text.as_bytes(), &rules)
        .unwrap_or_else(|e| panic!("audit verify --witness: {e}"))
}

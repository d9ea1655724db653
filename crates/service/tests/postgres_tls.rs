//! TLS to PostgreSQL against the throwaway cluster, with a CA and a server
//! certificate made here: no mode that asks for TLS continues in plain text,
//! `verify-full` checks the CA and the host name, and the running service's
//! connections are all encrypted. Run under `scripts/with-postgres.sh` (it
//! turns the cluster's `ssl` on, then off again); without
//! `WAYBILL_TEST_POSTGRES_URL` it prints a notice and returns.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// A CA that signs one server certificate for 127.0.0.1 (and no host name).
struct Pki {
    ca_pem: String,
    server_pem: String,
    server_key_pem: String,
}

fn make_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn make_pki() -> Pki {
    let ca = make_ca("waybill test CA");
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server_pem: server.pem(),
        server_key_pem: key.serialize_pem(),
    }
}

async fn set_ssl(admin: &tokio_postgres::Client, on: bool) {
    let sql = if on {
        "ALTER SYSTEM SET ssl = on"
    } else {
        "ALTER SYSTEM RESET ssl"
    };
    admin.batch_execute(sql).await.unwrap();
    admin
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .unwrap();
    let want = if on { "on" } else { "off" };
    for _ in 0..100 {
        let now: String = admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);
        if now == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("ssl did not turn {want}");
}

/// Writes the server's certificate and key where PostgreSQL looks by default
/// (the data folder), owned by the cluster's user and private.
fn install_server_certificate(pgdata: &Path, pki: &Pki) {
    let owner = std::fs::metadata(pgdata).unwrap();
    for (name, text) in [
        ("server.crt", &pki.server_pem),
        ("server.key", &pki.server_key_pem),
    ] {
        let path = pgdata.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
}

/// Connects (and migrates) through the service's own connection setup.
async fn try_url(url: &str) -> Result<(), String> {
    waybill_redact_service::migrate_as_owner(url, None)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_modes_against_a_real_server() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let pgdata = std::path::PathBuf::from(std::env::var("PGDATA_TEST").unwrap());
    let admin = pg_connect(&db).await;
    let keys = Keys::new();
    let pki = make_pki();
    let ca = keys.path("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let wrong_ca = keys.path("wrong-ca.pem");
    std::fs::write(&wrong_ca, make_ca("another CA").pem()).unwrap();
    let with = |query: &str| format!("{db}?{query}");
    let localhost = |query: &str| with(query).replacen("@127.0.0.1:", "@localhost:", 1);
    let (ca, wrong_ca) = (ca.display(), wrong_ca.display());

    // A server without TLS: every mode that asks for it fails; none goes on in
    // plain text.
    set_ssl(&admin, false).await;
    for query in [
        "sslmode=require".to_owned(),
        format!("sslmode=verify-full&sslrootcert={ca}"),
    ] {
        let err = try_url(&with(&query)).await.unwrap_err();
        assert!(
            err.contains("server does not support TLS"),
            "{query}: {err}"
        );
    }
    let err = try_url(&with("sslmode=prefer")).await.unwrap_err();
    assert!(err.contains("may fall back to plain text"), "{err}");
    try_url(&with("sslmode=disable")).await.unwrap();

    install_server_certificate(&pgdata, &pki);
    set_ssl(&admin, true).await;
    try_url(&with("sslmode=require")).await.unwrap();
    try_url(&with(&format!("sslmode=verify-full&sslrootcert={ca}")))
        .await
        .unwrap();
    try_url(&localhost(&format!("sslmode=verify-ca&sslrootcert={ca}")))
        .await
        .expect("verify-ca does not check the host name");
    for (url, says) in [
        (
            with(&format!("sslmode=verify-full&sslrootcert={wrong_ca}")),
            "UnknownIssuer",
        ),
        (
            with(&format!("sslmode=require&sslrootcert={wrong_ca}")),
            "UnknownIssuer",
        ),
        (
            localhost(&format!("sslmode=verify-full&sslrootcert={ca}")),
            "not valid for name",
        ),
    ] {
        let err = try_url(&url).await.unwrap_err();
        assert!(
            err.contains("TLS handshake") && err.contains(says),
            "{url}: {err}"
        );
    }

    // The service over verify-full: it resolves, and every connection it holds
    // is encrypted.
    let store = with(&format!("sslmode=verify-full&sslrootcert={ca}"));
    let started: std::time::SystemTime = admin.query_one("SELECT now()", &[]).await.unwrap().get(0);
    let s = Running::start(keys.config(&store, "node-tls")).await;
    let statuses = burst(
        std::slice::from_ref(&s.url),
        &keys.token(),
        &keys.grant(10),
        6,
    )
    .await;
    assert_eq!(statuses, [200; 6]);
    let name = db.rsplit('/').next().unwrap();
    let (connections, encrypted): (i64, i64) = {
        let row = admin
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a \
                 JOIN pg_stat_ssl s USING (pid) \
                 WHERE a.datname = $1 AND a.application_name = 'waybill-redact-service' \
                 AND a.backend_start >= $2",
                &[&name, &started],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(
        connections >= 2,
        "the claimer and the auditor are connected"
    );
    assert_eq!(encrypted, connections, "every connection is TLS");
    s.stop().await;
    let (records, _) = export_and_verify(&store, &keys, "export.jsonl").await;
    assert_eq!(records, 6);

    set_ssl(&admin, false).await;
}

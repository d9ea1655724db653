//! A real witness process (`waybill-resolver witness`) cosigning a resolver's
//! SQLite audit log over 127.0.0.1, and what the witness and `audit verify
//! --witness` refuse: forks, rollbacks, cut logs, and a second instance on the
//! same SQLite file.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use waybill_redact::{
    audit_origin, leaf_hash, verify_audit_log_with, verify_consistency, verify_inclusion,
    AddCheckpoint, AuditBreak, AuditError, AuditRecord, AuditRules, AuditTree, SignedCheckpoint,
    WitnessKey,
};
use waybill_redact_service::{build, WitnessConfig};

async fn metric(url: &str, name: &str) -> u64 {
    let text = client()
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn export_text(keys: &Keys, store: &str, name: &str) -> String {
    let out = keys.path(name);
    waybill_redact_service::export(store, &out).await.unwrap();
    std::fs::read_to_string(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_witnessed_log_verifies_and_a_cut_one_is_refused_everywhere() {
    let keys = Keys::new();
    let witness = spawn_witness(&keys, "node-w").await;
    let store = sqlite_url(keys.dir.path());
    let mut config = keys.config(&store, "node-w");
    config.checkpoint_every = 10;
    config.witness = vec![WitnessConfig {
        url: witness.url.clone(),
        key: witness.key.to_string(),
        ..WitnessConfig::default()
    }];
    config.max_unwitnessed_secs = 30;
    let s = Running::start(config.clone()).await;
    // A second instance on the same SQLite file refuses to start.
    let second = build(&config).await.err().expect("a second instance fails");
    assert!(
        second
            .to_string()
            .contains("in use by another resolver instance"),
        "{second}"
    );
    let statuses = burst(
        std::slice::from_ref(&s.url),
        &keys.token(),
        &keys.grant(1000),
        30,
    )
    .await;
    assert!(statuses.iter().all(|s| *s == 200));
    // The checkpoint at 30 reaches the witness, and its cosignature the store.
    let db = keys.dir.path().join("resolver.db");
    let stored = || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row(
            "SELECT COALESCE(MAX(size), 0) FROM audit_cosignatures",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    };
    for _ in 0..100 {
        if stored() == 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored(), 30);
    assert_eq!(witnessed(&witness).size(), 30);
    let cosigned = metric(&s.admin_url, "waybill_audit_cosigned_total").await;
    assert!(cosigned >= 1);
    assert_eq!(
        metric(&s.admin_url, "waybill_audit_unwitnessed_seconds").await,
        0
    );
    // The auditors' routes: the latest checkpoint, and proofs against it.
    let get = |path: String| {
        let url = format!("{}{path}", s.admin_url);
        async move { client().get(url).send().await.unwrap() }
    };
    let latest = get("/v1/audit/checkpoint".into())
        .await
        .text()
        .await
        .unwrap();
    let latest = SignedCheckpoint::from_text(&latest).unwrap();
    assert!(latest.verify(&keys.audit.public_key()));
    let size = latest.size();
    let inclusion: serde_json::Value =
        get(format!("/v1/audit/proof/inclusion?index=3&size={size}"))
            .await
            .json()
            .await
            .unwrap();
    let consistency: serde_json::Value =
        get(format!("/v1/audit/proof/consistency?old=10&new={size}"))
            .await
            .json()
            .await
            .unwrap();
    // No such proof in this tree: 404 in the JSON error shape.
    let outside = get(format!(
        "/v1/audit/proof/inclusion?index={size}&size={size}"
    ))
    .await;
    assert_eq!(outside.status().as_u16(), 404);
    let outside: serde_json::Value = outside.json().await.unwrap();
    assert_eq!(outside["error"]["code"], "not_found");
    s.stop().await;
    let rules = AuditRules {
        key: Some(keys.audit.public_key()),
        witnesses: vec![witness.key],
        known: vec![witnessed(&witness)],
        ..AuditRules::default()
    };
    let text = export_text(&keys, &store, "export.jsonl").await;
    let report = verify_audit_log_with(text.as_bytes(), &rules).unwrap();
    assert_eq!(report.records, 30);
    assert!(report.cosigned >= 1, "{report:?}");
    // The proofs hold against the exported records.
    let mut tree = AuditTree::new();
    let records: Vec<AuditRecord> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for r in &records {
        tree.push(r);
    }
    let hashes = |v: &serde_json::Value| -> Vec<[u8; 32]> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| {
                hex::decode(h.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(
        inclusion["leaf_hash"].as_str().unwrap(),
        hex::encode(leaf_hash(&records[3]))
    );
    verify_inclusion(
        &hashes(&inclusion["proof"]),
        3,
        size,
        leaf_hash(&records[3]),
        latest.root(),
    )
    .unwrap();
    verify_consistency(
        &hashes(&consistency["proof"]),
        10,
        size,
        tree.root_at(10).unwrap(),
        latest.root(),
    )
    .unwrap();

    // An insider with the database drops the triggers and deletes records 26
    // to 30 and the checkpoints that name them.
    {
        let path = keys.dir.path().join("resolver.db");
        let db = rusqlite::Connection::open(path).unwrap();
        db.execute_batch(
            "DROP TRIGGER audit_append_only_d; DROP TRIGGER audit_notes_append_only_d;
             DROP TRIGGER audit_cosignatures_append_only_d;
             DELETE FROM audit WHERE seq > 25;",
        )
        .unwrap();
    }
    // The checkpoint at 30 is left: the export names it, verify refuses it.
    let cut = export_text(&keys, &store, "cut.jsonl").await;
    match verify_audit_log_with(cut.as_bytes(), &rules) {
        Err(AuditError::Broken { line, kind }) => {
            assert_eq!(kind, AuditBreak::Truncated);
            assert!(cut
                .lines()
                .nth(line - 1)
                .unwrap()
                .starts_with("{\"checkpoint\""));
        }
        other => panic!("{other:?}"),
    }
    // The service refuses to start on it rather than sign over it (once the
    // stopped instance's witness client has let go of the file).
    let mut refused = build(&config).await.err().expect("start refused");
    for _ in 0..50 {
        if !refused.to_string().contains("in use") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        refused = build(&config).await.err().expect("start refused");
    }
    assert!(refused.to_string().contains("contradict"), "{refused}");
    // With the checkpoints gone too, the witness's own copy still catches it.
    {
        let db = rusqlite::Connection::open(keys.dir.path().join("resolver.db")).unwrap();
        db.execute_batch(
            "DELETE FROM audit_notes WHERE size > 25; DELETE FROM audit_cosignatures WHERE size > 25;",
        )
        .unwrap();
    }
    let cut = export_text(&keys, &store, "cut2.jsonl").await;
    match verify_audit_log_with(cut.as_bytes(), &rules) {
        Err(AuditError::Witnessed { size, kind, .. }) => {
            assert_eq!((size, kind), (30, AuditBreak::Truncated));
        }
        other => panic!("{other:?}"),
    }
}

/// An `https://` witness whose certificate a private CA signed: with the public
/// web's roots alone the resolver cannot reach it; trusting the CA (`ca`), it
/// catches up and every record ends up witnessed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_witness_is_reached_through_its_own_ca_only() {
    let keys = Keys::new();
    let tls = test_ca(keys.dir.path(), "witness");
    let witness = spawn_witness_on(&keys, "node-t", free_port(), Some(&tls)).await;
    let store = sqlite_url(keys.dir.path());
    let mut config = keys.config(&store, "node-t");
    config.checkpoint_every = 10;
    config.witness = vec![WitnessConfig {
        url: witness.url.clone(),
        key: witness.key.to_string(),
        ca: None,
    }];
    let (token, grant) = (keys.token(), keys.grant(1000));
    let s = Running::start(config.clone()).await;
    let statuses = burst(std::slice::from_ref(&s.url), &token, &grant, 10).await;
    assert!(statuses.iter().all(|s| *s == 200));
    // The checkpoint at 10 is offered at once and again every 2 s: refused by
    // the TLS handshake each time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        metric(&s.admin_url, "waybill_audit_cosigned_total").await,
        0
    );
    assert!(witnessed_now(&witness).is_none());
    s.stop().await;

    config.witness[0].ca = Some(tls.ca.clone());
    let s = Running::start(config.clone()).await;
    let statuses = burst(std::slice::from_ref(&s.url), &token, &grant, 10).await;
    assert!(statuses.iter().all(|s| *s == 200));
    for _ in 0..100 {
        if witnessed_now(&witness).is_some_and(|cp| cp.size() == 20) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(witnessed(&witness).size(), 20);
    s.stop().await;
    let text = export_text(&keys, &store, "export.jsonl").await;
    assert_eq!(verify_witnessed(&text, &keys, &witness).records, 20);

    // A CA file for a plain http:// witness, or one that holds no certificate,
    // refuses start.
    let mut plain = config.clone();
    plain.witness[0].url = format!("http://127.0.0.1:{}", witness.port);
    let e = build(&plain).await.err().expect("ca with http:// refused");
    assert!(
        e.to_string().contains("ca is for an https:// witness"),
        "{e}"
    );
    let mut empty = config.clone();
    empty.witness[0].ca = Some(keys.path("ring.json"));
    let e = build(&empty)
        .await
        .err()
        .expect("a CA file without a certificate refused");
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_witness_process_refuses_a_fork_and_a_rollback_with_the_stolen_key() {
    let keys = Keys::new();
    let witness = spawn_witness(&keys, "node-f").await;
    let origin = audit_origin("node-f");
    let url = format!("{}/add-checkpoint", witness.url);
    let mut tree = AuditTree::new();
    for i in 0..8u8 {
        tree.push_leaf_hash([i; 32]);
    }
    let send = |old: u64, proof: Vec<[u8; 32]>, tree: &AuditTree| {
        let body = AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: keys
                .audit
                .sign_checkpoint(&origin, tree.size(), tree.root())
                .unwrap(),
        }
        .to_body();
        let url = url.clone();
        async move {
            let r = client().post(url).body(body).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, line) = send(0, Vec::new(), &tree).await;
    assert_eq!(status, 200);
    assert!(line.starts_with("— "));
    // The holder of the audit key rewrites leaf 3 and signs a bigger tree.
    let mut fork = AuditTree::new();
    for i in 0..10u8 {
        fork.push_leaf_hash(if i == 3 { [0xee; 32] } else { [i; 32] });
    }
    let proof = fork.consistency_proof(8, 10).unwrap();
    assert_eq!(send(8, proof, &fork).await.0, 422, "fork refused");
    // A rollback: a smaller tree, claiming the size the witness knows.
    let mut small = AuditTree::new();
    for i in 0..5u8 {
        small.push_leaf_hash([i; 32]);
    }
    assert_eq!(send(8, Vec::new(), &small).await.0, 400, "rollback refused");
    // Pretending the witness knows less: 409 naming the size it knows.
    assert_eq!(send(0, Vec::new(), &small).await, (409, "8\n".into()));
    // After a restart (kill -9), it still knows size 8 and still refuses.
    drop(witness);
    let witness = spawn_witness(&keys, "node-f").await;
    assert_eq!(witnessed(&witness).size(), 8);
    let url = format!("{}/add-checkpoint", witness.url);
    let body = AddCheckpoint {
        old_size: 0,
        proof: Vec::new(),
        checkpoint: keys
            .audit
            .sign_checkpoint(&origin, small.size(), small.root())
            .unwrap(),
    }
    .to_body();
    let r = client().post(url).body(body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_makes_no_audit_key_and_refuses_missing_or_readable_key_files() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let mut config = keys.config(&store, "node-k");
    config.audit_key = keys.path("missing.json");
    let missing = build(&config)
        .await
        .err()
        .expect("a missing key refuses start");
    assert!(missing.to_string().contains("missing.json"), "{missing}");
    assert!(!keys.path("missing.json").exists(), "no key was made");
    let readable = keys.path("audit-key.json");
    std::fs::set_permissions(
        &readable,
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    config.audit_key = readable;
    let refused = build(&config)
        .await
        .err()
        .expect("a readable key refuses start");
    let fix = |name: &str| {
        let path = keys.path(name);
        format!(
            "{}: readable by group or others (mode 640): a secret key file must be owner-only; chmod 600 {}",
            path.display(),
            path.display()
        )
    };
    assert!(
        refused.to_string().contains(&fix("audit-key.json")),
        "{refused}"
    );
    // The ring, likewise.
    let chmod = |name: &str, mode: u32| {
        std::fs::set_permissions(
            keys.path(name),
            std::os::unix::fs::PermissionsExt::from_mode(mode),
        )
        .unwrap();
    };
    chmod("audit-key.json", 0o600);
    chmod("ring.json", 0o640);
    let refused = build(&config)
        .await
        .err()
        .expect("a readable ring refuses start");
    assert!(refused.to_string().contains(&fix("ring.json")), "{refused}");
    chmod("ring.json", 0o600);
    // And the witness's key: `witness` exits at once, saying why.
    write_secret(
        &keys.path("witness.json"),
        &WitnessKey::generate().to_json(),
    );
    chmod("witness.json", 0o640);
    let out = Command::new(env!("CARGO_BIN_EXE_waybill-resolver"))
        .arg("witness")
        .args(["--key", keys.path("witness.json").to_str().unwrap()])
        .args(["--store", keys.path("witness-store").to_str().unwrap()])
        .args([
            "--log",
            &format!("{}={}", audit_origin("node-k"), keys.audit.public_key()),
        ])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&fix("witness.json")), "{stderr}");
    // With everything owner-only, it starts.
    let s = Running::start(config).await;
    s.stop().await;
    // Nothing beside the database either.
    let beside: Vec<_> = std::fs::read_dir(keys.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains("resolver.db.audit")
        })
        .collect();
    assert!(beside.is_empty());
}

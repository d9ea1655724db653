//! The audit log as a transparency log: checkpoint notes over the chain's Merkle
//! tree, witness cosignatures, and what `audit verify --key --witness` refuses.

use time::OffsetDateTime;
use waybill_redact::{
    audit_origin, leaf_hash, verify_audit_log_with, verify_consistency, verify_inclusion,
    AuditBreak, AuditChain, AuditError, AuditEvent, AuditKey, AuditRecord, AuditRules, AuditTree,
    DenialReason, GrantId, Outcome, Purpose, Scope, SignedCheckpoint, WitnessKey,
};

fn event(second: i64, courier: &str, outcome: Outcome) -> AuditEvent {
    let allowed = matches!(outcome, Outcome::Allowed);
    let event = AuditEvent::new(
        OffsetDateTime::from_unix_timestamp(1_795_831_200 + second).unwrap(),
        Purpose::Delivery,
        outcome,
    )
    .with_tracking_number("SF1234567890123")
    .with_grant(courier, GrantId::from_bytes([7; 16]));
    if allowed {
        event.with_scope(Scope::DELIVERY)
    } else {
        event
    }
}

/// `n` records of instance `i-1`, each with its tree.
fn records(n: i64) -> Vec<AuditRecord> {
    let mut chain = AuditChain::for_instance("i-1");
    (0..n)
        .map(|i| chain.append(&event(i, "C-1", Outcome::Allowed)))
        .collect()
}

struct Log {
    key: AuditKey,
    witness: WitnessKey,
}

impl Log {
    fn new() -> Self {
        Self {
            key: AuditKey::generate(),
            witness: WitnessKey::generate(),
        }
    }

    /// The export of `records`, a checkpoint after every `every`-th record
    /// (cosigned when its size is in `cosigned`).
    fn export(&self, records: &[AuditRecord], every: u64, cosigned: &[u64]) -> Vec<String> {
        let mut tree = AuditTree::new();
        let mut lines = Vec::new();
        for r in records {
            tree.push(r);
            lines.push(r.to_json_line());
            if r.seq.is_multiple_of(every) {
                lines.push(self.checkpoint(&tree, cosigned).to_json_line());
            }
        }
        lines
    }

    fn checkpoint(&self, tree: &AuditTree, cosigned: &[u64]) -> SignedCheckpoint {
        let mut cp = self
            .key
            .sign_checkpoint(&audit_origin("i-1"), tree.size(), tree.root())
            .unwrap();
        if cosigned.contains(&tree.size()) {
            cp.cosign(&self.witness, "compliance.example/w1", 1_795_900_000)
                .unwrap();
        }
        cp
    }

    fn rules(&self) -> AuditRules {
        AuditRules {
            key: Some(self.key.public_key()),
            witnesses: vec![self.witness.public_key()],
            ..AuditRules::default()
        }
    }
}

fn text(lines: &[String]) -> String {
    lines.join("\n") + "\n"
}

fn broken(result: Result<impl std::fmt::Debug, AuditError>) -> (usize, AuditBreak) {
    match result {
        Err(AuditError::Broken { line, kind }) => (line, kind),
        other => panic!("expected a broken log, got {other:?}"),
    }
}

#[test]
fn an_unchanged_cosigned_log_verifies_and_counts_its_checkpoints() {
    let log = Log::new();
    let lines = log.export(&records(20), 5, &[5, 10, 15, 20]);
    let report = verify_audit_log_with(text(&lines).as_bytes(), &log.rules()).unwrap();
    assert_eq!(
        (
            report.records,
            report.checkpoints,
            report.cosigned,
            report.unwitnessed
        ),
        (20, 4, 4, 0)
    );
}

#[test]
fn records_cut_after_k_with_their_checkpoints_left_are_refused_at_the_first_orphan_checkpoint() {
    let log = Log::new();
    let lines = log.export(&records(20), 5, &[5, 10, 15, 20]);
    // Records 13..20 deleted; the checkpoints at 15 and 20 are left, and the
    // export writes them after the chain's last record.
    let is_checkpoint = |l: &String| l.starts_with("{\"checkpoint\"");
    let mut cut: Vec<String> = lines
        .iter()
        .filter(|l| !is_checkpoint(l) || cut_size(l) <= 12)
        .filter(|l| serde_json::from_str::<AuditRecord>(l).map_or(true, |r| r.seq <= 12))
        .cloned()
        .collect();
    cut.extend(lines.iter().filter(|l| cut_size(l) > 12).cloned());
    // 12 records and the checkpoints at 5 and 10: the one at 15 is line 15.
    assert_eq!(
        broken(verify_audit_log_with(text(&cut).as_bytes(), &log.rules())),
        (15, AuditBreak::Truncated)
    );
}

fn cut_size(line: &str) -> u64 {
    #[derive(serde::Deserialize)]
    struct L {
        checkpoint: String,
    }
    serde_json::from_str::<L>(line)
        .ok()
        .and_then(|l| SignedCheckpoint::from_text(&l.checkpoint).ok())
        .map_or(0, |c| c.size())
}

#[test]
fn a_rewritten_record_re_signed_with_the_stolen_key_fails_at_the_cosigned_checkpoint() {
    let log = Log::new();
    let honest = records(10);
    let cosigned = log.export(&honest, 5, &[5, 10]);
    // The insider rewrites record 1 ("C-1 allowed" to "C-OTHER denied"),
    // recomputes every hash, and signs fresh checkpoints with the stolen key.
    let mut chain = AuditChain::for_instance("i-1");
    let mut forged = vec![chain.append(&event(
        0,
        "C-OTHER",
        Outcome::Denied(DenialReason::ZoneNotGranted),
    ))];
    forged.extend((1..10).map(|i| chain.append(&event(i, "C-1", Outcome::Allowed))));
    let resigned = log.export(&forged, 5, &[]);
    // Alone, the re-signed log has no witness behind it.
    assert_eq!(
        broken(verify_audit_log_with(
            text(&resigned).as_bytes(),
            &log.rules()
        )),
        (1, AuditBreak::Unwitnessed)
    );
    // With the witness's checkpoint, kept by the witness, it contradicts it.
    let witnessed = last_checkpoint(&cosigned);
    let rules = AuditRules {
        known: vec![witnessed.clone()],
        ..log.rules()
    };
    match verify_audit_log_with(text(&resigned).as_bytes(), &rules) {
        Err(AuditError::Witnessed { size, kind, .. }) => {
            assert_eq!((size, kind), (10, AuditBreak::BadCheckpoint));
        }
        other => panic!("{other:?}"),
    }
    // Keeping the old cosigned checkpoint lines does not help either.
    let mut mixed = resigned.clone();
    mixed.insert(11, cosigned[11].clone());
    assert_eq!(
        broken(verify_audit_log_with(text(&mixed).as_bytes(), &log.rules())),
        (12, AuditBreak::BadCheckpoint)
    );
}

fn last_checkpoint(lines: &[String]) -> SignedCheckpoint {
    #[derive(serde::Deserialize)]
    struct L {
        checkpoint: String,
    }
    let l: L = serde_json::from_str(lines.last().unwrap()).unwrap();
    SignedCheckpoint::from_text(&l.checkpoint).unwrap()
}

#[test]
fn truncation_before_the_witnessed_checkpoint_is_refused_even_with_its_lines_removed() {
    let log = Log::new();
    let lines = log.export(&records(10), 5, &[5, 10]);
    let witnessed = last_checkpoint(&lines);
    // Records 9 and 10 and the checkpoint at 10 removed: the rest is consistent.
    let truncated: Vec<String> = lines[..9].to_vec();
    let report = verify_audit_log_with(
        text(&truncated).as_bytes(),
        &AuditRules {
            allow_unwitnessed: 3,
            ..log.rules()
        },
    )
    .unwrap();
    assert_eq!(report.unwitnessed, 3);
    let rules = AuditRules {
        known: vec![witnessed],
        allow_unwitnessed: 3,
        ..log.rules()
    };
    match verify_audit_log_with(text(&truncated).as_bytes(), &rules) {
        Err(AuditError::Witnessed { size, kind, .. }) => {
            assert_eq!((size, kind), (10, AuditBreak::Truncated));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn deleted_checkpoints_an_empty_log_and_unsigned_tails_are_refused_by_default() {
    let log = Log::new();
    let lines = log.export(&records(10), 5, &[5, 10]);
    let no_checkpoints: Vec<String> = lines
        .iter()
        .filter(|l| !l.starts_with("{\"checkpoint\""))
        .cloned()
        .collect();
    assert_eq!(
        broken(verify_audit_log_with(
            text(&no_checkpoints).as_bytes(),
            &log.rules()
        )),
        (1, AuditBreak::Unwitnessed)
    );
    let key_only = AuditRules {
        witnesses: Vec::new(),
        ..log.rules()
    };
    assert_eq!(
        broken(verify_audit_log_with(
            text(&no_checkpoints).as_bytes(),
            &key_only
        )),
        (1, AuditBreak::Unsigned)
    );
    assert!(matches!(
        verify_audit_log_with(&b""[..], &log.rules()),
        Err(AuditError::Empty)
    ));
    // Cosigned only up to 5: records 6..10 are unwitnessed, the first on line 7.
    let half = log.export(&records(10), 5, &[5]);
    assert_eq!(
        broken(verify_audit_log_with(text(&half).as_bytes(), &log.rules())),
        (7, AuditBreak::Unwitnessed)
    );
    let allowed = AuditRules {
        allow_unwitnessed: 5,
        ..log.rules()
    };
    let report = verify_audit_log_with(text(&half).as_bytes(), &allowed).unwrap();
    assert_eq!((report.cosigned, report.unwitnessed), (1, 5));
}

#[test]
fn a_checkpoint_signed_by_another_key_or_cosigned_by_another_witness_does_not_count() {
    let log = Log::new();
    let other = Log::new();
    let lines = log.export(&records(5), 5, &[5]);
    let as_other = AuditRules {
        key: Some(other.key.public_key()),
        ..log.rules()
    };
    assert_eq!(
        broken(verify_audit_log_with(text(&lines).as_bytes(), &as_other)),
        (6, AuditBreak::BadCheckpoint)
    );
    let other_witness = AuditRules {
        witnesses: vec![other.witness.public_key()],
        ..log.rules()
    };
    assert_eq!(
        broken(verify_audit_log_with(
            text(&lines).as_bytes(),
            &other_witness
        )),
        (1, AuditBreak::Unwitnessed)
    );
}

/// The vectors of docs/AUDIT.md: the first seven records of instance `i-1`
/// (the events above, one a second from 2026-11-28T02:00:00Z), their tree, one
/// inclusion proof and one consistency proof, computed with `tlog_tiles`.
const VECTOR_LEAVES: [&str; 7] = [
    "4ce2fd961638b24c627e1be71fc39fbb79a98a48f33dc8541feb58fc79aae531",
    "456c0c4967a7c09320a56ee7cc16d34d0492e4ed08740ce631290e44572836bf",
    "899a4e64e1a1ded091bdf7cf2fe028dbf4b68f8229d9f4c28aaad6c188127c40",
    "dc204912f3aead30fa995467592e6d84afd27b14ec0bce13787ec023f18b3fd4",
    "e463075f3c9ae632eeba57440c01aa6dbeaf5d2561d62afbe2971079b0727472",
    "5cc2a5a2da9569c61b42c435f06006a7f85509758765fb90ebe3da9d2b1b45cc",
    "29c19044fa1608f33bdc64cc35bab7cc024955e4a4aecce3f2d887510ff1ad29",
];
const VECTOR_ROOT_7: &str = "e172b004937f1cf07c63e06d52733f5a520661400f983015eaf29e8724611404";
const VECTOR_ROOT_3: &str = "0869f56c082743027cb7b56bcd16e66187d5e29a4caa0e881f9f2ddb214aeb97";
const VECTOR_INCLUSION_2_IN_7: [&str; 3] = [
    "dc204912f3aead30fa995467592e6d84afd27b14ec0bce13787ec023f18b3fd4",
    "673507c90e876aff47c1764c5e17868fc9760a009808fd0d9d1b79de225fe6f3",
    "e431fbdc56bf3119638aa07e47c3b403bbaae6f4ba62ffbd978d6731d85b1d6c",
];
const VECTOR_CONSISTENCY_3_TO_7: [&str; 4] = [
    "899a4e64e1a1ded091bdf7cf2fe028dbf4b68f8229d9f4c28aaad6c188127c40",
    "dc204912f3aead30fa995467592e6d84afd27b14ec0bce13787ec023f18b3fd4",
    "673507c90e876aff47c1764c5e17868fc9760a009808fd0d9d1b79de225fe6f3",
    "e431fbdc56bf3119638aa07e47c3b403bbaae6f4ba62ffbd978d6731d85b1d6c",
];

#[test]
fn the_documented_seven_leaf_vectors_hold() {
    let mut tree = AuditTree::new();
    for (r, expected) in records(7).iter().zip(VECTOR_LEAVES) {
        tree.push(r);
        assert_eq!(hex::encode(leaf_hash(r)), expected, "leaf {}", r.seq - 1);
    }
    let hexes = |p: Vec<[u8; 32]>| p.into_iter().map(hex::encode).collect::<Vec<_>>();
    let inclusion = hexes(tree.inclusion_proof(2, 7).unwrap());
    let consistency = hexes(tree.consistency_proof(3, 7).unwrap());
    assert_eq!(hex::encode(tree.root()), VECTOR_ROOT_7);
    assert_eq!(hex::encode(tree.root_at(3).unwrap()), VECTOR_ROOT_3);
    assert_eq!(inclusion, VECTOR_INCLUSION_2_IN_7);
    assert_eq!(consistency, VECTOR_CONSISTENCY_3_TO_7);
    let decode = |v: &[&str]| -> Vec<[u8; 32]> {
        v.iter()
            .map(|h| hex::decode(h).unwrap().try_into().unwrap())
            .collect()
    };
    let root = tree.root();
    verify_inclusion(
        &decode(&VECTOR_INCLUSION_2_IN_7),
        2,
        7,
        tree.leaf(2).unwrap(),
        root,
    )
    .unwrap();
    verify_consistency(
        &decode(&VECTOR_CONSISTENCY_3_TO_7),
        3,
        7,
        tree.root_at(3).unwrap(),
        root,
    )
    .unwrap();
}

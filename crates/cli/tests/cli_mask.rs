//! `waybill-redact mask` end to end: output format, error reporting, exit codes.

use assert_cmd::Command;

fn cmd() -> Command {
    Command::cargo_bin("waybill-redact").expect("binary is built")
}

#[test]
fn masks_every_fixture_in_order() {
    let out = cmd()
        .args([
            "mask",
            "--input",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(
        lines[0],
        serde_json::json!({
            "tracking_number": "SF1234567890123",
            "recipient": {"name": "张*", "phone": "******5678", "address": "广东省深圳市南山区深南大道****"},
            "sender": {"name": "李*", "phone": "******1111", "address": "浙江省杭州市余杭区文一西路****"},
            "items": "共2件"
        })
    );
    assert_eq!(lines[19]["tracking_number"], "SF7770007770007");
    assert!(
        !stdout.contains("13812345678") && !stdout.contains("1001室") && !stdout.contains("母婴")
    );
}

#[test]
fn reads_json_lines_from_stdin_and_reports_bad_records() {
    let input = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/hard-cases.jsonl"
    ))
    .unwrap();
    let out = cmd().arg("mask").write_stdin(input).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let tracking: Vec<String> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["tracking_number"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        tracking,
        [
            "SF0000000000001",
            "SF0000000000009",
            "SF0000000000010",
            "SF0000000000011"
        ]
    );
    assert!(stderr.contains("error: record 3 (EE471108152CN): tracking_number: wrong check digit for UPU S10 (expected 1)"), "{stderr}");
    assert!(stderr.contains("error: record 7: invalid JSON"), "{stderr}");
    assert!(stderr.contains("7 record(s) failed"), "{stderr}");
}

#[test]
fn stricter_flags() {
    let out = cmd()
        .args([
            "mask",
            "--input",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json"),
            "--address",
            "city",
            "--hide-names",
            "--hide-phones",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        first["recipient"],
        serde_json::json!({"name": "*", "phone": "******", "address": "广东省深圳市****"})
    );
}

#[test]
fn usage_errors_exit_2_and_missing_files_exit_1() {
    assert_eq!(
        cmd()
            .args(["mask", "--bogus"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    assert_eq!(cmd().output().unwrap().status.code(), Some(2));
    let out = cmd()
        .args(["mask", "--input", "no/such/file.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no/such/file.json"));
}

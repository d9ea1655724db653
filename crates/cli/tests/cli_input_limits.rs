//! The command on hostile input: `/dev/zero`, a 200 MB JSON line and a 200 MB
//! array element streamed through a pipe, and an oversized `resolve -`. Each ends
//! in a clear error naming the record, the records after a long one still come
//! out, and the process's peak memory stays at or under 64 MB.
//!
//! Peak memory is the kernel's high-water mark of the process's resident set
//! (`VmHWM` in `/proc/<pid>/status`), read while the process is alive: polled as
//! it runs, and read once more after all input has been written, while it waits
//! for the end of its input. Linux only.
#![cfg(target_os = "linux")]

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const PEAK_LIMIT_KB: u64 = 64 * 1024;

const A: &str = r#"{"tracking_number":"SF0000000001","zone":1,"recipient":{"name":"张三","phone":"13812345678","address":"北京市朝阳区"}}"#;
const B: &str = r#"{"tracking_number":"SF0000000002","zone":1,"recipient":{"name":"李四","phone":"13812345678","address":"北京市朝阳区"}}"#;

fn bin() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("waybill-redact"))
}

/// The process's peak resident set in KiB, while it is alive.
fn peak_kb(child: &Child) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Waits for the child, polling its peak memory; returns the output and the
/// highest peak seen (None when it ended before the first reading).
fn wait_polling(mut child: Child, mut peak: Option<u64>) -> (Output, Option<u64>) {
    loop {
        if let Some(kb) = peak_kb(&child) {
            peak = peak.max(Some(kb));
        }
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), peak);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs `mask` with `--input PATH`.
fn mask_file(path: &std::path::Path) -> (Output, Option<u64>) {
    let child = bin()
        .args(["mask", "--input"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_polling(child, None)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn dev_zero_ends_with_one_error_in_bounded_memory() {
    let (out, peak) = mask_file(std::path::Path::new("/dev/zero"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "record 0: invalid CSV at line 1: the header row is longer than the record size limit"
        ),
        "{}",
        stderr(&out)
    );
    assert!(peak.is_none_or(|kb| kb <= PEAK_LIMIT_KB), "{peak:?} KiB");
    // Named as JSON Lines or JSON, the same device stops as binary input.
    let dir = tempfile::tempdir().unwrap();
    for name in ["zero.jsonl", "zero.json"] {
        let link = dir.path().join(name);
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let (out, peak) = mask_file(&link);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("record 1: the input is binary (a NUL byte), not text"),
            "{name}: {}",
            stderr(&out)
        );
        assert!(peak.is_none_or(|kb| kb <= PEAK_LIMIT_KB), "{peak:?} KiB");
    }
}

/// Streams `head`, `fill` repeated to 200 MB, then `tail` into `mask`'s standard
/// input; returns the output and the peak memory.
fn mask_streamed(head: &str, fill: u8, tail: &str) -> (Output, u64) {
    let mut child = bin()
        .arg("mask")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (head, tail) = (head.to_owned(), tail.to_owned());
    let writer = std::thread::spawn(move || {
        let chunk = vec![fill; 1 << 20];
        stdin.write_all(head.as_bytes()).unwrap();
        for _ in 0..200 {
            stdin.write_all(&chunk).unwrap();
        }
        stdin.write_all(tail.as_bytes()).unwrap();
        stdin
    });
    let mut peak = 0;
    while !writer.is_finished() {
        peak = peak.max(peak_kb(&child).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(5));
    }
    let stdin = writer.join().unwrap();
    // Everything is written and the process waits for the end of its input: its
    // high-water mark now covers the whole 200 MB record.
    let hwm = peak_kb(&child).expect("the process is alive until its input ends");
    drop(stdin);
    let (out, last) = wait_polling(child, Some(peak.max(hwm)));
    (out, last.unwrap_or(hwm))
}

fn assert_long_record_fails_alone(out: &Output, peak_kb: u64) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].contains("SF0000000001") && lines[1].contains("SF0000000002"));
    assert!(
        stderr(out)
            .contains("error: record 2: too large: more than 65536 bytes (see --max-record-bytes)"),
        "{}",
        stderr(out)
    );
    assert!(peak_kb <= PEAK_LIMIT_KB, "peak {peak_kb} KiB");
    eprintln!("peak resident memory: {peak_kb} KiB");
}

#[test]
fn a_200_mb_json_line_through_a_pipe_fails_alone_in_bounded_memory() {
    let head = format!("{A}\n{{\"tracking_number\":\"SF0000000003\",\"x\":\"");
    let (out, peak) = mask_streamed(&head, b'a', &format!("\"}}\n{B}\n"));
    assert_long_record_fails_alone(&out, peak);
}

#[test]
fn a_200_mb_array_element_through_a_pipe_fails_alone_in_bounded_memory() {
    let head = format!("[{A},\n{{\"recipient\":{{\"name\":\"");
    let (out, peak) = mask_streamed(&head, b'a', &format!("\"}}}},\n{B}]"));
    assert_long_record_fails_alone(&out, peak);
}

#[test]
fn max_record_bytes_raises_the_limit() {
    let long = format!(
        r#"{{"tracking_number":"SF0000000003","zone":1,"carrier":"{}","recipient":{{"name":"王五","phone":"13812345678","address":"北京市"}}}}"#,
        " ".repeat(100_000)
    );
    let run = |extra: &[&str]| {
        let mut child = bin()
            .arg("mask")
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(long.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("record 1: too large: more than 65536 bytes"));
    let out = run(&["--max-record-bytes", "200000"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SF0000000003"));
    // The flag is on render and seal too, and refuses nonsense.
    for command in ["render", "seal"] {
        let out = bin().args([command, "--help"]).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("--max-record-bytes"));
    }
    let out = bin()
        .args(["mask", "--max-record-bytes", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn resolve_reads_at_most_16_kib_of_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json");
    let issuer = dir.path().join("issuer.json");
    let ok = |args: &[&std::ffi::OsStr]| {
        let out = bin().args(args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    ok(&[
        "keys".as_ref(),
        "new".as_ref(),
        "--out".as_ref(),
        ring.as_os_str(),
    ]);
    let made = bin()
        .args(["issuer", "new", "--out"])
        .arg(&issuer)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let public = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let grant = dir.path().join("grant.txt");
    std::fs::write(&grant, "WG2:X").unwrap();
    let mut child = bin()
        .args(["resolve", "--purpose", "delivery", "--grant"])
        .arg(&grant)
        .arg("--ring")
        .arg(&ring)
        .arg("--trust")
        .arg(&public)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Far more than the cap; the command stops reading and the pipe breaks.
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'A'; 1 << 16];
        for _ in 0..1024 {
            if stdin.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("standard input holds more than 16384 bytes: not a token"),
        "{}",
        stderr(&out)
    );
}

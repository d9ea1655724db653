//! The command as scripts use it: junk input, pipes, validation before side
//! effects, file modes, and a broken output folder.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command as Std, Stdio};

use assert_cmd::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json");

fn cmd() -> Command {
    Command::cargo_bin("waybill-redact").unwrap()
}

/// `render` of the fixtures with a key ring that is created when missing.
fn render_fixtures(ring: &Path) -> Command {
    let mut c = render_fixtures_with(ring);
    c.arg("--create-ring");
    c
}

/// `render` of the fixtures with an existing key ring.
fn render_fixtures_with(ring: &Path) -> Command {
    let mut c = cmd();
    c.args(["render", "--input", FIXTURES, "--ring", s(ring)]);
    c
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn junk_or_empty_input_is_an_error_not_an_empty_batch() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("junk.txt", "hello, this is not a waybill"),
        ("empty.json", ""),
    ] {
        let input = dir.path().join(name);
        std::fs::write(&input, text).unwrap();
        let o = cmd().args(["mask", "--input", s(&input)]).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(
                "error: input: no waybills found: expected a JSON array, JSON Lines, or CSV"
            ),
            "{err}"
        );
        assert!(o.stdout.is_empty());

        let out = dir.path().join(format!("out-{name}"));
        let o = cmd()
            .args(["render", "--input", s(&input), "--create-ring"])
            .args(["--ring", s(&dir.path().join("ring.json")), "--out", s(&out)])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("no waybills found"));
    }
}

#[test]
fn single_file_zpl_goes_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json");
    let o = render_fixtures(&ring)
        .args(["--format", "ZPL", "--single-file", "--out", "-"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let zpl = String::from_utf8(o.stdout).unwrap();
    assert!(zpl.starts_with("^XA"));
    assert_eq!(zpl.matches("^XA").count(), 20);
    assert_eq!(zpl.matches("^XZ").count(), 20);
    // Nothing but the ring was written.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ring.json"]);

    // One file per label cannot go to standard output; PNG cannot be one stream.
    let o = render_fixtures_with(&ring)
        .args(["--out", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("add --single-file"));
    let o = render_fixtures_with(&ring)
        .args(["--single-file", "--out", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs --format zpl or pdf"));
}

#[test]
fn nothing_is_created_before_the_arguments_check_out() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("keys/ring.json");
    let out = dir.path().join("labels");
    let missing = dir.path().join("no-such-input.json");
    let o = cmd()
        .args([
            "render",
            "--input",
            s(&missing),
            "--ring",
            s(&ring),
            "--create-ring",
        ])
        .args(["--out", s(&out)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: render: cannot read"), "{err}");
    assert!(!ring.exists() && !ring.parent().unwrap().exists() && !out.exists());

    // A missing ring without --create-ring says how to make one, and creates nothing.
    let o = render_fixtures_with(&ring)
        .args(["--out", s(&out)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no such file")
            && err.contains("hint: create one with `waybill-redact keys new"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn arguments_are_case_insensitive_and_dpi_is_checked_by_the_parser() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json");
    for dpi in ["149", "601"] {
        let o = render_fixtures(&ring)
            .args(["--out", s(&dir.path().join("x")), "--dpi", dpi])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "dpi {dpi}");
        assert!(!ring.exists());
    }
    let o = cmd()
        .args(["mask", "--input", FIXTURES, "--address", "DISTRICT"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn label_files_are_readable_by_a_print_spooler() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("labels");
    // A temporary file a killed run left behind (a pid no process has).
    std::fs::create_dir_all(&out).unwrap();
    let stale = out.join(".waybill-redact-4999999-AbCdEf");
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    let ring = dir.path().join("ring.json");
    let o = render_fixtures(&ring)
        .args(["--out", s(&out)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(!stale.exists());
    assert!(String::from_utf8_lossy(&o.stderr).contains("removed 1 temporary file(s)"));
    let mut labels = 0;
    for e in std::fs::read_dir(&out).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        assert!(!name.starts_with('.'), "{name} left behind");
        assert_eq!(
            e.metadata().unwrap().permissions().mode() & 0o777,
            0o644,
            "{name}"
        );
        labels += 1;
    }
    assert_eq!(labels, 20);
    // Key files stay owner-only.
    assert_eq!(
        std::fs::metadata(&ring).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn a_broken_output_stops_the_run_with_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("labels");
    // The first label's name is taken by a non-empty folder: its rename fails,
    // as a read-only or full disk would (root ignores permission bits).
    let first = out.join("SF1234567890123.png");
    std::fs::create_dir_all(first.join("blocker")).unwrap();
    let ring = dir.path().join("ring.json");
    let o = render_fixtures(&ring)
        .args(["--out", s(&out), "--jobs", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<_> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].contains("output stopped: writing")
            && errors[0].contains("label(s) were written"),
        "{err}"
    );
    // It stopped: far fewer than the 20 records were attempted.
    let written = std::fs::read_dir(&out).unwrap().count() - 1;
    assert!(written < 20, "{written}");
}

#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // Many bad records make many lines on standard error; many good ones, far
    // more than a pipe holds on standard output.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"zone\":1}\n".repeat(5000)).unwrap();
    let good = dir.path().join("good.jsonl");
    let rec = r#"{"tracking_number":"SF0000000000001","zone":1,"recipient":{"name":"张三","phone":"13812345678","address":"北京市朝阳区"}}"#;
    std::fs::write(&good, format!("{rec}\n").repeat(5000)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("waybill-redact");
    for stream in ["stdout", "stderr"] {
        let mut c = Std::new(&bin);
        c.stdin(Stdio::null());
        if stream == "stdout" {
            c.args(["mask", "--input", s(&good)]);
            c.stdout(Stdio::piped()).stderr(Stdio::null());
        } else {
            c.args(["mask", "--input", s(&bad)]);
            c.stdout(Stdio::null()).stderr(Stdio::piped());
        }
        let mut child = c.spawn().unwrap();
        // Close the reading end at once, like `| head -c 0`.
        drop(child.stdout.take());
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_ne!(status.code(), Some(101), "{stream}: panicked");
        assert!(
            status.signal() == Some(13) || status.code() == Some(1) || status.code() == Some(2),
            "{stream}: {status:?}"
        );
    }
}

#[test]
fn a_logo_file_prints_and_a_bad_one_stops_before_anything_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json");
    // Any PNG will do as a logo: the repository's own label picture.
    let logo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/label-100x150.png");
    let with = dir.path().join("with");
    let o = render_fixtures(&ring)
        .args(["--out", s(&with), "--logo", logo, "--logo-mode", "Dither"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let without = dir.path().join("without");
    let o = render_fixtures_with(&ring)
        .args(["--out", s(&without)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let name = "SF1234567890123.png";
    assert_ne!(
        std::fs::read(with.join(name)).unwrap(),
        std::fs::read(without.join(name)).unwrap()
    );

    let bad = dir.path().join("logo.png");
    std::fs::write(&bad, "junk").unwrap();
    let out = dir.path().join("never");
    let o = render_fixtures_with(&ring)
        .args(["--out", s(&out)])
        .args(["--logo", s(&bad)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("invalid logo: not a PNG or JPEG picture"),
        "{err}"
    );
    assert!(!out.exists());
}

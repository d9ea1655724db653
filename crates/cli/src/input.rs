//! Opening the waybill input: a file or standard input, its format and limits.

use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clap::Args;
use waybill_redact::{InputFormat, InputLimits, ModelError, RecordError};

/// The largest `--max-record-bytes`: 1 GiB.
const MAX_RECORD_BYTES_CAP: u64 = 1 << 30;

/// Limits on each input record (`--max-record-bytes`).
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// The largest input record, in bytes: a JSON Lines line, a JSON array
    /// element or a CSV row. A longer one fails with its position and is skipped.
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = InputLimits::DEFAULT_MAX_RECORD_BYTES as u64,
        value_parser = clap::value_parser!(u64).range(256..=MAX_RECORD_BYTES_CAP)
    )]
    max_record_bytes: u64,
}

impl LimitArgs {
    /// The reader's limits.
    pub fn limits(&self) -> InputLimits {
        let bytes = usize::try_from(self.max_record_bytes).unwrap_or(usize::MAX);
        InputLimits::new().with_max_record_bytes(bytes)
    }
}

/// A record's error as the command prints it: with the flag to raise a size limit.
pub fn describe(e: &RecordError) -> String {
    match e.error {
        ModelError::RecordTooLarge { .. } => format!("{e} (see --max-record-bytes)"),
        _ => e.to_string(),
    }
}

/// How far through a file the reader is: the file's size and the bytes read so
/// far (for a progress bar with a total).
#[derive(Debug, Clone)]
pub struct ReadProgress {
    /// The file's size in bytes.
    pub total: u64,
    read: Arc<AtomicU64>,
}

impl ReadProgress {
    /// Bytes read so far.
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens `path`, or standard input when absent or `-`.
pub fn open(path: Option<&Path>) -> Result<Box<dyn BufRead + Send>, String> {
    open_counted(path).map(|(reader, _)| reader)
}

/// [`open`], with the file's progress when `path` is a file of known size.
pub fn open_counted(
    path: Option<&Path>,
) -> Result<(Box<dyn BufRead + Send>, Option<ReadProgress>), String> {
    match path.filter(|p| p.as_os_str() != "-") {
        Some(p) => {
            let file =
                std::fs::File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let read = Arc::new(AtomicU64::new(0));
            let progress = file
                .metadata()
                .ok()
                .filter(|m| m.is_file() && m.len() > 0)
                .map(|m| ReadProgress {
                    total: m.len(),
                    read: Arc::clone(&read),
                });
            let counting = Counting { inner: file, read };
            Ok((
                Box::new(std::io::BufReader::with_capacity(1 << 16, counting)),
                progress,
            ))
        }
        None => Ok((open_stdin(), None)),
    }
}

fn open_stdin() -> Box<dyn BufRead + Send> {
    let stdin = std::io::stdin();
    if std::io::IsTerminal::is_terminal(&stdin) {
        eprintln!(
            "reading waybills from standard input (end with Ctrl-D); \
             use --input FILE to read a file"
        );
    }
    Box::new(std::io::BufReader::new(stdin))
}

/// With `--verbose`, says where the waybills are read from and in which format.
pub fn note_input(path: Option<&Path>) {
    let from = path
        .filter(|p| p.as_os_str() != "-")
        .map_or("standard input".to_owned(), |p| p.display().to_string());
    crate::note(format_args!(
        "reading waybills from {from} (format: {:?})",
        format_of(path)
    ));
}

/// What to say when the input held no record at all: text that is neither JSON
/// nor CSV with a header row reads as CSV without rows, and must not pass as an
/// empty batch.
pub const NO_RECORDS: &str = "input: no waybills found: expected a JSON array, JSON Lines, \
     or CSV with a header row and one waybill per row";

/// The format from the file's extension, or detection from its first byte.
pub fn format_of(path: Option<&Path>) -> InputFormat {
    path.map_or(InputFormat::Auto, InputFormat::from_extension)
}

/// Reads waybills from `path` (standard input when absent) and writes the line
/// `line` makes of each to standard output, in input order. A record that cannot be
/// read, or that `line` rejects, is reported on standard error with its position
/// and the others go on. Exit 0 when every record made a line, 1 otherwise.
pub fn lines_per_record(
    path: Option<&Path>,
    limits: &InputLimits,
    mut line: impl FnMut(usize, waybill_redact::Waybill) -> Result<String, String>,
) -> std::process::ExitCode {
    use std::io::Write;
    use std::ops::ControlFlow;
    use std::process::ExitCode;

    let input = match open(path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(crate::USAGE);
        }
    };
    note_input(path);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    let mut seen = 0usize;
    let mut write_failed = false;
    let read = waybill_redact::read_batch_with_limits(
        input,
        format_of(path),
        limits,
        |position, record| {
            seen += 1;
            match record
                .map_err(|e| describe(&e))
                .and_then(|w| line(position, w))
            {
                Ok(text) => {
                    if writeln!(out, "{text}").is_err() {
                        write_failed = true;
                        return ControlFlow::Break(());
                    }
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e}");
                    ControlFlow::Continue(())
                }
            }
        },
    );
    if let Err(e) = read {
        eprintln!("error: cannot read input: {e}");
        return ExitCode::FAILURE;
    }
    if write_failed || out.flush().is_err() {
        eprintln!("error: cannot write to standard output");
        return ExitCode::FAILURE;
    }
    crate::note(format_args!("{seen} record(s) read, {failed} failed"));
    if seen == 0 {
        eprintln!("error: {NO_RECORDS}");
        return ExitCode::FAILURE;
    }
    if failed > 0 {
        eprintln!("{failed} record(s) failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

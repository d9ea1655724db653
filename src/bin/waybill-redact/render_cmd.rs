//! `waybill-redact render`: waybills in, one label file per record (or one ZPL
//! stream / one multi-page PDF) out, rendered in parallel with bounded memory.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use time::{Duration, OffsetDateTime};
use waybill_redact::{
    mask, read_batch, render, Fonts, KeyRing, LabelSize, LabelSpec, MaskPolicy, PdfOptions,
    PdfPage, PdfWriter, PngMode, RecordError, Waybill, ZplOptions,
};

use crate::{input, pipeline, token_cmd};

/// Arguments of `render`.
#[derive(Args)]
pub struct RenderArgs {
    /// Waybills as a JSON array, JSON Lines or CSV (by extension, else detected);
    /// standard input when absent.
    #[arg(long, short)]
    input: Option<PathBuf>,
    /// The carrier's key ring (`waybill-redact keys new`), used to seal the QR tokens.
    #[arg(long)]
    ring: PathBuf,
    /// Create the key ring first when the file does not exist (first run, demos).
    #[arg(long)]
    create_ring: bool,
    /// Directory the labels are written to (created when missing).
    #[arg(long)]
    out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Png)]
    format: Format,
    /// Label size in millimetres: 76x130, 100x150, 100x180 or any WxH.
    #[arg(long, default_value = "100x150", value_parser = parse_size)]
    size: LabelSize,
    /// Printer resolution in dots per inch (203 or 300).
    #[arg(long, default_value_t = 203, value_parser = clap::value_parser!(u16).range(100..=600))]
    dpi: u16,
    /// Days until the QR tokens expire.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=3650))]
    ttl_days: u16,
    /// ZPL: all labels in one `labels.zpl`; PDF: all labels in one multi-page
    /// `labels.pdf`, in input order.
    #[arg(long)]
    single_file: bool,
    /// ZPL: draw the barcode and QR with printer commands (^BC, ^BQ) instead of raster.
    #[arg(long)]
    zpl_native_codes: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
}

/// Output formats of `render`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// 1-bit PNG, for thermal printers.
    Png,
    /// 8-bit grayscale PNG.
    PngGray,
    /// ZPL II for Zebra-compatible printers.
    Zpl,
    /// PDF, one label per page at physical size.
    Pdf,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Png | Format::PngGray => "png",
            Format::Zpl => "zpl",
            Format::Pdf => "pdf",
        }
    }
}

fn parse_size(s: &str) -> Result<LabelSize, String> {
    s.parse()
        .map_err(|e: waybill_redact::RenderError| e.to_string())
}

/// What rendering one record produced.
enum Rendered {
    /// A whole file's bytes (PNG, ZPL, one-page PDF).
    File(Vec<u8>),
    /// A page for the single multi-page PDF.
    Page(PdfPage),
}

/// One record's outcome, handed to the writer in input order.
struct Outcome {
    /// The record's position in the input, as [`RecordError`] counts it.
    position: usize,
    tracking: Option<String>,
    result: Result<(Rendered, Vec<String>), String>,
}

/// Everything a worker needs, shared read-only.
struct Job {
    ring: KeyRing,
    spec: LabelSpec,
    fonts: Fonts,
    policy: MaskPolicy,
    format: Format,
    single_file: bool,
    zpl: ZplOptions,
    pdf: PdfOptions,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl Job {
    fn run(&self, (position, record): (usize, Result<Waybill, RecordError>)) -> Outcome {
        let waybill = match record {
            Ok(w) => w,
            Err(e) => {
                let tracking = e.tracking_number.clone();
                return Outcome {
                    position,
                    tracking,
                    result: Err(e.to_string()),
                };
            }
        };
        let tracking = Some(waybill.tracking_number().to_string());
        Outcome {
            position,
            tracking,
            result: self.label(&waybill),
        }
    }

    fn label(&self, waybill: &Waybill) -> Result<(Rendered, Vec<String>), String> {
        let token = self
            .ring
            .seal(waybill, self.expires_at, self.now)
            .map_err(|e| format!("sealing: {e}"))?;
        let masked = mask(waybill, &self.policy);
        let label = render(&masked, token.as_str(), &self.spec, &self.fonts)
            .map_err(|e| format!("rendering: {e}"))?;
        let warnings = label.warnings().iter().map(ToString::to_string).collect();
        let encoded = match self.format {
            Format::Png => label.to_png(PngMode::OneBit).map(Rendered::File),
            Format::PngGray => label.to_png(PngMode::Gray).map(Rendered::File),
            Format::Zpl => label
                .to_zpl(&self.zpl)
                .map(|z| Rendered::File(z.into_bytes())),
            Format::Pdf if self.single_file => label.to_pdf_page(&self.pdf).map(Rendered::Page),
            Format::Pdf => label.to_pdf(&self.pdf).map(Rendered::File),
        };
        encoded
            .map(|r| (r, warnings))
            .map_err(|e| format!("encoding: {e}"))
    }
}

/// Runs `render`: exit 0 when every record became a label, 1 otherwise.
pub fn run(args: RenderArgs) -> ExitCode {
    match prepare(&args) {
        Ok((job, reader)) => execute(&args, &job, reader),
        Err(e) => {
            eprintln!("error: render: {e}");
            ExitCode::FAILURE
        }
    }
}

fn prepare(args: &RenderArgs) -> Result<(Job, Box<dyn std::io::BufRead + Send>), String> {
    if args.create_ring && !args.ring.exists() {
        if let Some(dir) = args.ring.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        token_cmd::write_secret(&args.ring, &KeyRing::generate().to_json(), false)?;
        eprintln!("created key ring {}", args.ring.display());
    }
    let ring = token_cmd::load_ring(&args.ring)?;
    let spec = args.size.at_dpi(args.dpi).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let reader = input::open(args.input.as_deref())?;
    let now = OffsetDateTime::now_utc();
    let job = Job {
        ring,
        spec,
        fonts: Fonts::bundled(),
        policy: MaskPolicy::default(),
        format: args.format,
        single_file: args.single_file,
        zpl: ZplOptions::new().native_codes(args.zpl_native_codes),
        pdf: PdfOptions::new(),
        now,
        expires_at: now + Duration::days(i64::from(args.ttl_days)),
    };
    Ok((job, reader))
}

fn execute(args: &RenderArgs, job: &Job, reader: Box<dyn std::io::BufRead + Send>) -> ExitCode {
    let threads = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let progress = progress_bar();
    let mut sink = match Sink::new(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: render: {e}");
            return ExitCode::FAILURE;
        }
    };
    let read_error = Mutex::new(None);
    let format = input::format_of(args.input.as_deref());
    pipeline::run(
        threads,
        threads * 8,
        |send| {
            let result = read_batch(reader, format, |position, record| {
                if send((position, record)) {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
                }
            });
            if let Err(e) = result {
                *read_error
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
            }
        },
        |record| job.run(record),
        |_, outcome| {
            progress.inc(1);
            sink.take(outcome)
        },
    );
    progress.finish_and_clear();
    let fatal = sink.finish().err();
    let read_error = read_error
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    report(&sink, read_error.as_ref(), fatal.as_deref())
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} labels  {per_sec}  {elapsed}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn report(sink: &Sink, read_error: Option<&std::io::Error>, fatal: Option<&str>) -> ExitCode {
    for w in &sink.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "rendered {} label(s), {} failed",
        sink.written,
        sink.failures.len()
    );
    for f in &sink.failures {
        eprintln!("  {f}");
    }
    if let Some(e) = read_error {
        eprintln!("error: render: input stopped early: {e}");
    }
    if let Some(e) = fatal {
        eprintln!("error: render: {e}");
    }
    if sink.failures.is_empty() && read_error.is_none() && fatal.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Writes outcomes in input order: one file per label, or one stream.
struct Sink {
    dir: PathBuf,
    extension: &'static str,
    seen: HashSet<String>,
    written: usize,
    failures: Vec<String>,
    warnings: Vec<String>,
    zpl: Option<std::io::BufWriter<tempfile::NamedTempFile>>,
    pdf: Option<PdfWriter<std::io::BufWriter<tempfile::NamedTempFile>>>,
    /// The first error that stops the output itself (disk full…).
    broken: Option<String>,
}

impl Sink {
    fn new(args: &RenderArgs) -> Result<Self, String> {
        let temp = || {
            tempfile::NamedTempFile::new_in(&args.out)
                .map(std::io::BufWriter::new)
                .map_err(|e| format!("{}: {e}", args.out.display()))
        };
        let (zpl, pdf) = match (args.single_file, args.format) {
            (true, Format::Zpl) => (Some(temp()?), None),
            (true, Format::Pdf) => (
                None,
                Some(PdfWriter::new(temp()?, &PdfOptions::new()).map_err(|e| e.to_string())?),
            ),
            _ => (None, None),
        };
        Ok(Self {
            dir: args.out.clone(),
            extension: args.format.extension(),
            seen: HashSet::new(),
            written: 0,
            failures: Vec::new(),
            warnings: Vec::new(),
            zpl,
            pdf,
            broken: None,
        })
    }

    /// Takes one outcome; returns false to stop the batch (the output is broken).
    fn take(&mut self, outcome: Outcome) -> bool {
        let position = outcome.position;
        let name = match &outcome.tracking {
            Some(t) => format!("record {position} ({t})"),
            None => format!("record {position}"),
        };
        let (rendered, warnings) = match outcome.result {
            Ok(ok) => ok,
            Err(reason) => {
                // Parse errors already say "record N (…)"; keep one prefix.
                let line = if reason.starts_with("record ") {
                    reason
                } else {
                    format!("{name}: {reason}")
                };
                self.failures.push(line);
                return true;
            }
        };
        let Some(tracking) = outcome.tracking else {
            return true;
        };
        if !self.seen.insert(tracking.clone()) {
            self.failures.push(format!(
                "{name}: duplicate tracking number; the first label was kept"
            ));
            return true;
        }
        self.warnings
            .extend(warnings.into_iter().map(|w| format!("{name}: {w}")));
        let written = match rendered {
            Rendered::Page(page) => match &mut self.pdf {
                Some(pdf) => pdf.push(&page).map_err(|e| e.to_string()),
                None => Err("internal: page without a PDF stream".into()),
            },
            Rendered::File(bytes) => match &mut self.zpl {
                Some(zpl) => zpl.write_all(&bytes).map_err(|e| e.to_string()),
                None => write_atomic(
                    &self.dir.join(format!("{tracking}.{}", self.extension)),
                    &bytes,
                ),
            },
        };
        match written {
            Ok(()) => {
                self.written += 1;
                true
            }
            Err(e) => {
                self.failures.push(format!("{name}: writing: {e}"));
                self.broken = Some(e);
                false
            }
        }
    }

    /// Closes a single-file output and moves it into place.
    fn finish(&mut self) -> Result<(), String> {
        if let Some(e) = &self.broken {
            return Err(format!("output stopped: {e}"));
        }
        let persist = |tmp: tempfile::NamedTempFile, path: PathBuf| {
            tmp.persist(&path)
                .map(drop)
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        if let Some(zpl) = self.zpl.take() {
            let tmp = zpl.into_inner().map_err(|e| e.to_string())?;
            tmp.as_file().sync_all().map_err(|e| e.to_string())?;
            persist(tmp, self.dir.join("labels.zpl"))?;
        }
        if let Some(pdf) = self.pdf.take() {
            if self.written == 0 {
                return Err("no label rendered: labels.pdf not written".into());
            }
            let tmp = pdf
                .finish()
                .map_err(|e| e.to_string())?
                .into_inner()
                .map_err(|e| e.to_string())?;
            tmp.as_file().sync_all().map_err(|e| e.to_string())?;
            persist(tmp, self.dir.join("labels.pdf"))?;
        }
        Ok(())
    }
}

/// Writes a file under a temporary name, then renames it: a killed run leaves no
/// half-written label behind.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    tmp.write_all(bytes).map_err(|e| e.to_string())?;
    tmp.persist(path)
        .map(drop)
        .map_err(|e| format!("{}: {e}", path.display()))
}

//! `waybill-redact render`: waybills in, one label file per record (or one ZPL
//! stream / one multi-page PDF) out, rendered in parallel with bounded memory.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use time::OffsetDateTime;
use waybill_redact::{
    mask, read_batch_with_limits, render, Fonts, KeyRing, LabelSize, LabelSpec, Logo, LogoMode,
    MaskPolicy, PdfOptions, PdfPage, PngMode, RecordError, Validity, Waybill, ZplOptions,
};

use crate::credentials::{self, Sealing};
use crate::{files, input, pipeline};

mod sink;
use sink::Sink;

/// Arguments of `render`.
#[derive(Args)]
pub struct RenderArgs {
    /// Waybills as a JSON array, JSON Lines or CSV (by extension, else detected);
    /// standard input when absent or `-`.
    #[arg(long, short)]
    input: Option<PathBuf>,
    #[command(flatten)]
    limits: input::LimitArgs,
    /// How the QR tokens are sealed: `--ring` (the carrier's key ring, suite 1),
    /// or `--directory`, `--sealer` and `--carrier` (a seller or a station, suite 3).
    #[command(flatten)]
    keys: credentials::SealKeys,
    /// Create the key ring first when the file does not exist (first run, demos).
    #[arg(long, requires = "ring")]
    create_ring: bool,
    /// Where the labels go. One file per label: a folder (created when missing).
    /// With `--single-file`: the file to write, `-` for standard output, or an
    /// existing folder to write `labels.zpl` / `labels.pdf` in.
    #[arg(long, value_name = "DIR|FILE|-")]
    out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Png)]
    format: Format,
    /// Label size in millimetres: 76x130, 100x150, 100x180 or any WxH.
    #[arg(long, default_value = "100x150", value_parser = parse_size)]
    size: LabelSize,
    /// Printer resolution in dots per inch, 150 to 600 (thermal printers: 203 or 300).
    #[arg(long, default_value_t = 203, value_parser = clap::value_parser!(u16).range(150..=600))]
    dpi: u16,
    /// Days until the QR tokens expire.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=3650))]
    ttl_days: u16,
    /// One stream in input order instead of a file per label: ZPL labels one
    /// after another, or one multi-page PDF (`--format zpl` or `pdf`). `--out -`
    /// sends it to standard output, e.g. `| nc PRINTER 9100`.
    #[arg(long)]
    single_file: bool,
    /// ZPL: draw the barcode and QR with printer commands (^BC, ^BQ) instead of raster.
    #[arg(long)]
    zpl_native_codes: bool,
    /// A font file (TrueType, OpenType or a collection) to use instead of the bundled
    /// Noto Sans CJK SC subset.
    #[arg(long, value_name = "FILE")]
    font: Option<PathBuf>,
    /// The face of `--font` to use when it is a collection (.ttc).
    #[arg(long, default_value_t = 0, requires = "font")]
    font_index: u32,
    /// A font for characters the main font lacks (emoji, Arabic…); repeatable, tried
    /// in order. Without one, such a character fails its record with an error
    /// naming it.
    #[arg(long, value_name = "FILE")]
    fallback_font: Vec<PathBuf>,
    /// The carrier's logo (PNG or JPEG), printed at the left of the header.
    #[arg(long, value_name = "FILE")]
    logo: Option<PathBuf>,
    /// How the logo becomes black and white: a threshold (flat logos) or
    /// dithering (gradients, photos).
    #[arg(long, value_enum, ignore_case = true, default_value_t = LogoArg::Threshold, requires = "logo")]
    logo_mode: LogoArg,
    /// Worker threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
}

/// `--logo-mode` values.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogoArg {
    /// One threshold for the whole picture (Otsu's method).
    Threshold,
    /// Floyd–Steinberg error diffusion.
    Dither,
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

/// Where `render` writes, decided (and checked) before anything is created.
enum Output {
    /// One file per label in this folder.
    Dir(PathBuf),
    /// One stream into this file.
    File(PathBuf),
    /// One stream to standard output.
    Stdout,
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Dir(d) => write!(f, "the folder {}", d.display()),
            Output::File(p) => write!(f, "{}", p.display()),
            Output::Stdout => f.write_str("standard output"),
        }
    }
}

impl Output {
    fn of(args: &RenderArgs) -> Result<Output, String> {
        let dash = args.out.as_os_str() == "-";
        if !args.single_file {
            if dash {
                return Err("--out -: standard output takes one stream; \
                     add --single-file with --format zpl or pdf"
                    .into());
            }
            if args.out.is_file() {
                return Err(format!(
                    "--out {}: is a file; one label per file needs a folder \
                     (or add --single-file)",
                    args.out.display()
                ));
            }
            return Ok(Output::Dir(args.out.clone()));
        }
        if !matches!(args.format, Format::Zpl | Format::Pdf) {
            return Err("--single-file: needs --format zpl or pdf".into());
        }
        Ok(if dash {
            Output::Stdout
        } else if args.out.is_dir() {
            Output::File(args.out.join(format!("labels.{}", args.format.extension())))
        } else {
            Output::File(args.out.clone())
        })
    }

    /// The folder that receives files, to create and to clean of stale temps.
    fn folder(&self) -> Option<&Path> {
        match self {
            Output::Dir(d) => Some(d),
            Output::File(f) => f.parent().filter(|d| !d.as_os_str().is_empty()),
            Output::Stdout => None,
        }
    }
}

/// Why a record produced no label.
enum Failure {
    /// This record failed; the others go on.
    Record(String),
    /// The output itself failed (read-only folder, disk full, permissions): the
    /// run stops.
    Output(String),
}

/// What rendering one record produced.
enum Rendered {
    /// The label's own file was written (by the worker, atomically).
    Written,
    /// Bytes for the single ZPL stream.
    Zpl(Vec<u8>),
    /// A page for the single multi-page PDF.
    Page(PdfPage),
}

/// A record as the reader hands it to the workers.
struct Input {
    position: usize,
    record: Result<Waybill, RecordError>,
    /// The tracking number was already seen earlier in the input.
    duplicate: bool,
}

/// One record's outcome, handed to the writer in input order.
struct Outcome {
    /// The record's position in the input, as [`RecordError`] counts it.
    position: usize,
    tracking: Option<String>,
    result: Result<(Rendered, Vec<String>), Failure>,
}

/// Everything a worker needs, shared read-only.
struct Job {
    dir: PathBuf,
    sealing: Sealing,
    spec: LabelSpec,
    fonts: Fonts,
    policy: MaskPolicy,
    format: Format,
    single_file: bool,
    zpl: ZplOptions,
    pdf: PdfOptions,
    validity: Validity,
}

impl Job {
    fn run(&self, input: Input) -> Outcome {
        let position = input.position;
        let waybill = match input.record {
            Ok(w) => w,
            Err(e) => {
                let tracking = e.tracking_number.clone();
                return Outcome {
                    position,
                    tracking,
                    result: Err(Failure::Record(input::describe(&e))),
                };
            }
        };
        let tracking = Some(waybill.tracking_number().to_string());
        let result = if input.duplicate {
            Err(Failure::Record(
                "duplicate tracking number: an earlier record has it".into(),
            ))
        } else {
            self.label(&waybill)
        };
        Outcome {
            position,
            tracking,
            result,
        }
    }

    fn label(&self, waybill: &Waybill) -> Result<(Rendered, Vec<String>), Failure> {
        let token = self
            .sealing
            .seal(waybill, &self.validity)
            .map_err(|e| Failure::Record(format!("sealing: {e}")))?;
        let masked = mask(waybill, &self.policy);
        let label = render(&masked, token.as_str(), &self.spec, &self.fonts)
            .map_err(|e| Failure::Record(format!("rendering: {e}")))?;
        let warnings = label.warnings().iter().map(ToString::to_string).collect();
        let bytes = match (self.format, self.single_file) {
            (Format::Pdf, true) => {
                let page = label
                    .to_pdf_page(&self.pdf)
                    .map_err(|e| Failure::Record(format!("encoding: {e}")))?;
                return Ok((Rendered::Page(page), warnings));
            }
            (Format::Png, _) => label.to_png(PngMode::OneBit),
            (Format::PngGray, _) => label.to_png(PngMode::Gray),
            (Format::Zpl, _) => label.to_zpl(&self.zpl).map(String::into_bytes),
            (Format::Pdf, false) => label.to_pdf(&self.pdf),
        };
        let bytes = bytes.map_err(|e| Failure::Record(format!("encoding: {e}")))?;
        if self.single_file {
            return Ok((Rendered::Zpl(bytes), warnings));
        }
        let name = format!("{}.{}", waybill.tracking_number(), self.format.extension());
        let path = self.dir.join(name);
        files::write_atomic(&path, &bytes, files::LABEL_MODE)
            .map_err(|e| Failure::Output(format!("writing {}: {e}", path.display())))?;
        Ok((Rendered::Written, warnings))
    }
}

/// Runs `render`: exit 0 when every record became a label, 1 otherwise, and 2
/// when it cannot start (arguments that do not go together, an input, key or
/// font file that cannot be read).
pub fn run(args: RenderArgs) -> ExitCode {
    match prepare(&args) {
        Ok((job, output, (reader, read))) => execute(&args, &job, &output, reader, read),
        Err(e) => {
            eprintln!("error: render: {e}");
            ExitCode::from(crate::USAGE)
        }
    }
}

/// Checks every argument and opens every input first, and only then creates the
/// key ring (with `--create-ring`) and the output folder.
type Reader = (
    Box<dyn std::io::BufRead + Send>,
    Option<input::ReadProgress>,
);

fn prepare(args: &RenderArgs) -> Result<(Job, Output, Reader), String> {
    let mut spec = args.size.at_dpi(args.dpi).map_err(|e| e.to_string())?;
    if let Some(path) = &args.logo {
        let bytes = std::fs::read(path).map_err(|e| format!("--logo {}: {e}", path.display()))?;
        crate::note(format_args!(
            "--logo {} ({} bytes)",
            path.display(),
            bytes.len()
        ));
        let mode = match args.logo_mode {
            LogoArg::Threshold => LogoMode::Threshold,
            LogoArg::Dither => LogoMode::Dither,
        };
        let logo = Logo::from_bytes(&bytes, mode)
            .map_err(|e| format!("--logo {}: {e}", path.display()))?;
        spec = spec.with_logo(logo);
    }
    let output = Output::of(args)?;
    let reader = input::open_counted(args.input.as_deref())?;
    let fonts = fonts(args)?;
    let now = OffsetDateTime::now_utc();
    let validity = Validity::days(now, args.ttl_days).map_err(|e| e.to_string())?;
    let sealing = match &args.keys.ring {
        Some(ring_path) => Sealing::Ring(ring(ring_path, args.create_ring)?),
        // A seller: the directory is verified and the sealer key read here.
        None => args.keys.load(now)?,
    };
    if let Some(dir) = output.folder() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let removed = files::remove_stale_temps(dir);
        if removed > 0 {
            eprintln!("removed {removed} temporary file(s) left by an interrupted run");
        }
    }
    let job = Job {
        dir: match &output {
            Output::Dir(d) => d.clone(),
            _ => PathBuf::new(),
        },
        sealing,
        spec,
        fonts,
        policy: MaskPolicy::default(),
        format: args.format,
        single_file: args.single_file,
        zpl: ZplOptions::new().native_codes(args.zpl_native_codes),
        pdf: PdfOptions::new(),
        validity,
    };
    Ok((job, output, reader))
}

/// The carrier's ring, created first with `--create-ring` when missing.
fn ring(path: &Path, create: bool) -> Result<KeyRing, String> {
    if path.exists() {
        return credentials::load_ring(path);
    }
    if !create {
        return Err(format!(
            "--ring {}: no such file\nhint: create one with `waybill-redact keys new \
             --out {}`, or add --create-ring",
            path.display(),
            path.display()
        ));
    }
    let ring = KeyRing::generate();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    files::write_secret(path, &ring.to_json(), false)?;
    eprintln!("created key ring {}", path.display());
    Ok(ring)
}

/// The bundled fonts, or the caller's, with any fallbacks.
fn fonts(args: &RenderArgs) -> Result<Fonts, String> {
    let read = |p: &Path| {
        let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        crate::note(format_args!("font {} ({} bytes)", p.display(), bytes.len()));
        Ok::<_, String>(bytes)
    };
    let mut fonts = match &args.font {
        Some(path) => Fonts::from_bytes(read(path)?, args.font_index)
            .map_err(|e| format!("{}: {e}", path.display()))?,
        None => Fonts::bundled(),
    };
    for path in &args.fallback_font {
        fonts = fonts
            .with_fallback(read(path)?, 0)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(fonts)
}

fn execute(
    args: &RenderArgs,
    job: &Job,
    output: &Output,
    reader: Box<dyn std::io::BufRead + Send>,
    read: Option<input::ReadProgress>,
) -> ExitCode {
    let threads = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let mut progress = Progress::new(read);
    input::note_input(args.input.as_deref());
    crate::note(format_args!(
        "render: {threads} thread(s), {} labels to {}",
        args.format.extension(),
        output
    ));
    let mut sink = match Sink::new(output, args.format) {
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
            // The first record with a tracking number wins; 8-byte hashes keep the
            // set small (100,000 records: under 2 MB).
            let mut seen = HashSet::new();
            let limits = args.limits.limits();
            let result = read_batch_with_limits(reader, format, &limits, |position, record| {
                let duplicate = record
                    .as_ref()
                    .is_ok_and(|w| !seen.insert(hash(w.tracking_number().as_str())));
                if send(Input {
                    position,
                    record,
                    duplicate,
                }) {
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
            progress.label();
            sink.take(outcome)
        },
    );
    progress.bar.finish_and_clear();
    let mut fatal = sink.finish().err();
    if let (Output::Dir(dir), None) = (output, &fatal) {
        if let Err(e) = files::sync_dir(dir) {
            fatal = Some(format!("{}: {e}", dir.display()));
        }
    }
    let read_error = read_error
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    report(&sink, read_error.as_ref(), fatal.as_deref())
}

/// The progress display on a terminal: a bar with a total and an ETA when the
/// input is a file (its bytes read), a spinner otherwise; labels and a rate
/// people read ("1,458 labels/s").
struct Progress {
    bar: ProgressBar,
    read: Option<input::ReadProgress>,
    labels: u64,
    start: std::time::Instant,
}

impl Progress {
    fn new(read: Option<input::ReadProgress>) -> Progress {
        let start = std::time::Instant::now();
        if crate::quiet() || !std::io::stderr().is_terminal() {
            return Progress {
                bar: ProgressBar::hidden(),
                read: None,
                labels: 0,
                start,
            };
        }
        let (bar, template) = match &read {
            Some(r) => (
                ProgressBar::new(r.total),
                "{bar:30} {percent:>3}%  {msg}  {elapsed} elapsed, ETA {eta}",
            ),
            None => (ProgressBar::new_spinner(), "{spinner} {msg}  {elapsed}"),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress {
            bar,
            read,
            labels: 0,
            start,
        }
    }

    /// One more label done.
    fn label(&mut self) {
        self.labels += 1;
        if self.bar.is_hidden() {
            return;
        }
        if let Some(r) = &self.read {
            self.bar.set_position(r.read());
        }
        let secs = self.start.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            self.labels as f64 / secs
        } else {
            0.0
        };
        self.bar.set_message(format!(
            "{} labels, {} labels/s",
            thousands(self.labels),
            human_rate(rate)
        ));
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate as people read it: `1,458`, or `2.5` under ten.
fn human_rate(rate: f64) -> String {
    if rate < 10.0 {
        format!("{rate:.1}")
    } else {
        // Rates are far below u64::MAX; `as` saturates anyway.
        thousands(rate.round() as u64)
    }
}

fn report(sink: &Sink, read_error: Option<&std::io::Error>, fatal: Option<&str>) -> ExitCode {
    if !crate::quiet() {
        for w in &sink.warnings {
            eprintln!("warning: {w}");
        }
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
        eprintln!("error: render: {e}; {} label(s) were written", sink.written);
    }
    let seen = sink.written + sink.failures.len();
    if seen == 0 && read_error.is_none() && fatal.is_none() {
        eprintln!("error: render: {}", input::NO_RECORDS);
        return ExitCode::FAILURE;
    }
    if sink.failures.is_empty() && read_error.is_none() && fatal.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A 64-bit hash of a tracking number, for duplicate detection.
fn hash(tracking: &str) -> u64 {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(Default::default).hash_one(tracking)
}

#[cfg(test)]
mod progress_tests {
    use super::{human_rate, thousands};

    #[test]
    fn rates_read_as_people_write_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(human_rate(1458.1302), "1,458");
        assert_eq!(human_rate(2.54), "2.5");
        assert_eq!(human_rate(0.0), "0.0");
    }
}

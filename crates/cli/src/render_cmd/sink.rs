//! The ordered end of `render`: counts outcomes, collects failures and warnings,
//! and appends single-file output (one ZPL stream, one multi-page PDF) to a file
//! or to standard output.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use waybill_redact::{PdfOptions, PdfWriter};

use super::{Failure, Format, Outcome, Output, Rendered};
use crate::files;

/// Where a single-file stream goes: a temporary file renamed into place at the
/// end, or standard output as it is made.
pub(super) enum Target {
    File(tempfile::NamedTempFile, PathBuf),
    Stdout(std::io::Stdout),
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Target::File(f, _) => f.write(buf),
            Target::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Target::File(f, _) => f.flush(),
            Target::Stdout(s) => s.flush(),
        }
    }
}

impl Target {
    /// Flushes, and for a file syncs it, renames it into place and syncs its folder.
    fn close(self) -> Result<(), String> {
        match self {
            Target::Stdout(mut s) => s.flush().map_err(|e| format!("standard output: {e}")),
            Target::File(tmp, path) => {
                let err = |e: std::io::Error| format!("{}: {e}", path.display());
                tmp.as_file().sync_all().map_err(err)?;
                tmp.persist(&path).map_err(|e| err(e.error))?;
                match path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    Some(dir) => files::sync_dir(dir).map_err(err),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Takes outcomes in input order: counts them, and appends single-file output.
pub(super) struct Sink {
    pub(super) written: usize,
    pub(super) failures: Vec<String>,
    pub(super) warnings: Vec<String>,
    zpl: Option<BufWriter<Target>>,
    pdf: Option<PdfWriter<BufWriter<Target>>>,
    /// The first error that stops the output itself (read-only folder, disk full…).
    broken: Option<String>,
}

impl Sink {
    pub(super) fn new(output: &Output, format: Format) -> Result<Self, String> {
        let target = |path: &PathBuf| -> Result<BufWriter<Target>, String> {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => std::path::Path::new("."),
            };
            let tmp = files::temp_in(dir, files::LABEL_MODE)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            Ok(BufWriter::with_capacity(
                1 << 16,
                Target::File(tmp, path.clone()),
            ))
        };
        let stream = match output {
            Output::Dir(_) => None,
            Output::File(path) => Some(target(path)?),
            Output::Stdout => Some(BufWriter::with_capacity(
                1 << 16,
                Target::Stdout(std::io::stdout()),
            )),
        };
        let (zpl, pdf) = match (stream, format) {
            (None, _) => (None, None),
            (Some(s), Format::Pdf) => {
                let pdf = PdfWriter::new(s, &PdfOptions::new()).map_err(|e| e.to_string())?;
                (None, Some(pdf))
            }
            (Some(s), _) => (Some(s), None),
        };
        Ok(Self {
            written: 0,
            failures: Vec::new(),
            warnings: Vec::new(),
            zpl,
            pdf,
            broken: None,
        })
    }

    /// Takes one outcome; returns false to stop the batch (the output is broken).
    pub(super) fn take(&mut self, outcome: Outcome) -> bool {
        let position = outcome.position;
        let name = match &outcome.tracking {
            Some(t) => format!("record {position} ({t})"),
            None => format!("record {position}"),
        };
        let (rendered, warnings) = match outcome.result {
            Ok(ok) => ok,
            Err(Failure::Record(reason)) => {
                // Parse errors already say "record N (…)"; keep one prefix.
                let line = if reason.starts_with("record ") {
                    reason
                } else {
                    format!("{name}: {reason}")
                };
                self.failures.push(line);
                return true;
            }
            Err(Failure::Output(reason)) => {
                self.broken = Some(reason);
                return false;
            }
        };
        self.warnings
            .extend(warnings.into_iter().map(|w| format!("{name}: {w}")));
        let appended = match (rendered, &mut self.zpl, &mut self.pdf) {
            (Rendered::Written, _, _) => Ok(()),
            (Rendered::Zpl(bytes), Some(zpl), _) => {
                zpl.write_all(&bytes).map_err(|e| e.to_string())
            }
            (Rendered::Page(page), _, Some(pdf)) => pdf.push(&page).map_err(|e| e.to_string()),
            _ => Err("internal: output without its stream".into()),
        };
        match appended {
            Ok(()) => {
                self.written += 1;
                true
            }
            Err(e) => {
                self.broken = Some(format!("writing: {e}"));
                false
            }
        }
    }

    /// Closes a single-file output and moves it into place.
    pub(super) fn finish(&mut self) -> Result<(), String> {
        if let Some(e) = &self.broken {
            return Err(format!("output stopped: {e}"));
        }
        if let Some(zpl) = self.zpl.take() {
            zpl.into_inner().map_err(|e| e.to_string())?.close()?;
        }
        if let Some(pdf) = self.pdf.take() {
            if self.written == 0 {
                return Err("no label rendered: the PDF was not written".into());
            }
            let out = pdf.finish().map_err(|e| e.to_string())?;
            out.into_inner().map_err(|e| e.to_string())?.close()?;
        }
        Ok(())
    }
}

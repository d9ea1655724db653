//! The ordered end of `render`: counts outcomes, collects failures and warnings,
//! and appends single-file output (one ZPL stream, one multi-page PDF).

use std::io::Write;
use std::path::PathBuf;

use waybill_redact::{PdfOptions, PdfWriter};

use super::{Format, Outcome, RenderArgs, Rendered};

/// Takes outcomes in input order: counts them, and appends single-file output.
pub(super) struct Sink {
    dir: PathBuf,
    pub(super) written: usize,
    pub(super) failures: Vec<String>,
    pub(super) warnings: Vec<String>,
    zpl: Option<std::io::BufWriter<tempfile::NamedTempFile>>,
    pdf: Option<PdfWriter<std::io::BufWriter<tempfile::NamedTempFile>>>,
    /// The first error that stops the output itself (disk full…).
    broken: Option<String>,
}

impl Sink {
    pub(super) fn new(args: &RenderArgs) -> Result<Self, String> {
        let temp = || {
            tempfile::NamedTempFile::new_in(&args.out)
                .map(std::io::BufWriter::new)
                .map_err(|e| format!("{}: {e}", args.out.display()))
        };
        let (zpl, pdf) = match (args.single_file, args.format) {
            (true, Format::Zpl) => (Some(temp()?), None),
            (true, Format::Pdf) => {
                let pdf = PdfWriter::new(temp()?, &PdfOptions::new()).map_err(|e| e.to_string())?;
                (None, Some(pdf))
            }
            _ => (None, None),
        };
        Ok(Self {
            dir: args.out.clone(),
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
                self.failures.push(format!("{name}: writing: {e}"));
                self.broken = Some(e);
                false
            }
        }
    }

    /// Closes a single-file output and moves it into place.
    pub(super) fn finish(&mut self) -> Result<(), String> {
        if let Some(e) = &self.broken {
            return Err(format!("output stopped: {e}"));
        }
        let persist = |tmp: tempfile::NamedTempFile, path: PathBuf| {
            tmp.as_file().sync_all().map_err(|e| e.to_string())?;
            tmp.persist(&path)
                .map(drop)
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        if let Some(zpl) = self.zpl.take() {
            let tmp = zpl.into_inner().map_err(|e| e.to_string())?;
            persist(tmp, self.dir.join("labels.zpl"))?;
        }
        if let Some(pdf) = self.pdf.take() {
            if self.written == 0 {
                return Err("no label rendered: labels.pdf not written".into());
            }
            let out = pdf.finish().map_err(|e| e.to_string())?;
            persist(
                out.into_inner().map_err(|e| e.to_string())?,
                self.dir.join("labels.pdf"),
            )?;
        }
        Ok(())
    }
}

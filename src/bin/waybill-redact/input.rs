//! Opening the waybill input: a file or standard input, and its format.

use std::io::BufRead;
use std::path::Path;

use waybill_redact::InputFormat;

/// Opens `path`, or standard input when absent.
pub fn open(path: Option<&Path>) -> Result<Box<dyn BufRead + Send>, String> {
    match path {
        Some(p) => {
            let file =
                std::fs::File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, file)))
        }
        None => Ok(Box::new(std::io::BufReader::new(std::io::stdin()))),
    }
}

/// The format from the file's extension, or detection from its first byte.
pub fn format_of(path: Option<&Path>) -> InputFormat {
    match path
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => InputFormat::Csv,
        Some("jsonl" | "ndjson") => InputFormat::JsonLines,
        Some("json") => InputFormat::Json,
        _ => InputFormat::Auto,
    }
}

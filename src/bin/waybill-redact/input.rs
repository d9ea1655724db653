//! Reading the waybill input: a file or standard input.

use std::io::Read;
use std::path::Path;

/// Reads the whole input as UTF-8 text, from `path` or standard input.
pub fn read_text(path: Option<&Path>) -> Result<String, String> {
    let mut bytes = Vec::new();
    match path {
        Some(p) => {
            bytes = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        }
        None => {
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
        }
    }
    String::from_utf8(bytes)
        .map_err(|e| format!("input is not UTF-8 (byte {})", e.utf8_error().valid_up_to()))
}

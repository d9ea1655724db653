//! Streaming batch input: a JSON array, JSON Lines (or concatenated JSON objects),
//! or CSV. Records are handed over one at a time and each is size-limited while
//! it is read, so memory stays flat however long the input, or one record, is.

use std::io::{BufRead, Read};
use std::ops::ControlFlow;

use super::json::{record_from_slice, EOF_REASON};
use super::json_stream::{peek_past_whitespace, read_line, Line, Piece, Values};
use crate::input::{InputLimits, RecordError};
use crate::model::ModelError;
use crate::model::Waybill;

/// The layout of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InputFormat {
    /// Decide from the first byte: `[` a JSON array, `{` JSON Lines, otherwise CSV.
    #[default]
    Auto,
    /// A JSON array of waybills (a lone object, or several concatenated, also work).
    Json,
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header row; see [`CSV_COLUMNS`](crate::CSV_COLUMNS).
    Csv,
}

impl InputFormat {
    /// The format a file's extension names: `.csv` CSV, `.jsonl` and `.ndjson` JSON
    /// Lines, `.json` a JSON array (case-insensitive); [`InputFormat::Auto`] for any
    /// other name, so that the first byte decides.
    ///
    /// ```
    /// use std::path::Path;
    /// use waybill_redact::InputFormat;
    ///
    /// assert_eq!(InputFormat::from_extension(Path::new("orders.CSV")), InputFormat::Csv);
    /// assert_eq!(InputFormat::from_extension(Path::new("orders.txt")), InputFormat::Auto);
    /// ```
    pub fn from_extension(path: &std::path::Path) -> InputFormat {
        match path
            .extension()
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
}

/// Reads a batch from `reader` and hands each record, in input order, to `each`
/// with its position (1-based: array index, line of JSON Lines, or CSV data row —
/// the same number a [`RecordError`] carries). `each` may stop early by returning
/// [`ControlFlow::Break`].
///
/// Each record is held to the default [`InputLimits`]: see
/// [`read_batch_with_limits`].
///
/// ```
/// use std::ops::ControlFlow;
/// use waybill_redact::{read_batch, InputFormat};
///
/// let csv = "tracking_number,zone,recipient_name,recipient_phone,recipient_address\n\
///            SF1234567890123,755021,张三,13812345678,广东省深圳市南山区深南大道10000号\n\
///            SF0000000000000,755021,李四,not a phone,北京市朝阳区\n";
/// let (mut good, mut bad) = (Vec::new(), Vec::new());
/// read_batch(csv.as_bytes(), InputFormat::Auto, |position, record| {
///     match record {
///         Ok(waybill) => good.push((position, waybill.tracking_number().to_string())),
///         Err(e) => bad.push(e.position),
///     }
///     ControlFlow::Continue(())
/// })?;
/// assert_eq!(good, [(1, "SF1234567890123".to_string())]);
/// assert_eq!(bad, [2]); // reported, and the batch went on
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// Only an I/O error reading `reader`.
pub fn read_batch<R: BufRead>(
    reader: R,
    format: InputFormat,
    each: impl FnMut(usize, Result<Waybill, RecordError>) -> ControlFlow<()>,
) -> std::io::Result<()> {
    read_batch_with_limits(reader, format, &InputLimits::new(), each)
}

/// [`read_batch`] with the given limits on each record.
///
/// A bad record is handed over as an error with its position and the input goes
/// on. So is a record over a limit: its bytes are skipped to its end without being
/// kept (a JSON Lines line to its line break, a CSV row to its end, quotes
/// followed, a JSON array element to its comma), so memory stays bounded however
/// long it is. A JSON key repeated in one object, a CSV column name used twice and
/// item quantities whose sum overflows are refused, never resolved silently.
///
/// Only damage that destroys the structure stops the batch, reported as one last
/// error: unbalanced brackets inside a JSON array or value stream, data after the
/// array, a CSV header row that is over the limit or repeats a column, and a
/// record over the limit that holds a NUL byte (binary input such as `/dev/zero`,
/// whose end may never come).
///
/// # Errors
/// Only an I/O error reading `reader`.
pub fn read_batch_with_limits<R: BufRead>(
    mut reader: R,
    format: InputFormat,
    limits: &InputLimits,
    mut each: impl FnMut(usize, Result<Waybill, RecordError>) -> ControlFlow<()>,
) -> std::io::Result<()> {
    skip_bom(&mut reader)?;
    let format = match format {
        InputFormat::Auto => match peek_past_whitespace(&mut reader)? {
            Some(b'[') => InputFormat::Json,
            Some(b'{') | None => InputFormat::JsonLines,
            Some(_) => InputFormat::Csv,
        },
        f => f,
    };
    match format {
        InputFormat::Json => read_values(reader, limits, &mut each),
        InputFormat::Csv => super::csv_input::read_csv(reader, limits, &mut each),
        _ => read_json_lines(reader, limits, &mut each),
    }
}

/// Reads a whole batch held in memory (JSON array, JSON Lines or CSV, detected as
/// in [`InputFormat::Auto`]) with the default [`InputLimits`]: one result per
/// record, in input order. A bad record is reported with its position and never
/// stops the others.
pub fn parse_batch(text: &str) -> Vec<Result<Waybill, RecordError>> {
    let mut out = Vec::new();
    // Reading from memory has no I/O error to report.
    let _ = read_batch(text.as_bytes(), InputFormat::Auto, |_, r| {
        out.push(r);
        ControlFlow::Continue(())
    });
    out
}

fn skip_bom<R: BufRead>(reader: &mut R) -> std::io::Result<()> {
    if reader.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(())
}

pub(super) type Each<'a> = dyn FnMut(usize, Result<Waybill, RecordError>) -> ControlFlow<()> + 'a;

fn failed(position: usize, error: ModelError) -> Result<Waybill, RecordError> {
    Err(RecordError {
        position,
        tracking_number: None,
        error,
    })
}

/// A JSON array element by element, or a stream of JSON values.
fn read_values<R: BufRead>(
    reader: R,
    limits: &InputLimits,
    each: &mut Each<'_>,
) -> std::io::Result<()> {
    let mut values = Values::new(reader, limits.max_record_bytes())?;
    let mut position = 0usize;
    loop {
        let piece = values.next_piece()?;
        position += 1;
        let (result, last) = match piece {
            Piece::End => return Ok(()),
            Piece::Value => (
                record_from_slice(position, &values.bytes, limits.max_items()),
                false,
            ),
            Piece::Skipped(e) => (failed(position, e), false),
            Piece::Last(e) => (failed(position, e), true),
        };
        if each(position, result).is_break() || last {
            return Ok(());
        }
    }
}

/// One object per line; a bad or over-long line loses only itself. A first line
/// that is the start of a pretty-printed object switches to a stream of values.
fn read_json_lines<R: BufRead>(
    mut reader: R,
    limits: &InputLimits,
    each: &mut Each<'_>,
) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut number = 0usize;
    let mut reported = false;
    loop {
        let cut = read_line(&mut reader, &mut line, limits.max_record_bytes())?;
        number += 1;
        let result = match cut {
            Line::End => return Ok(()),
            Line::Binary => {
                let _ = each(number, failed(number, ModelError::BinaryInput));
                return Ok(());
            }
            Line::TooLarge => failed(
                number,
                ModelError::RecordTooLarge {
                    max: limits.max_record_bytes(),
                },
            ),
            Line::Text if line.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Text => {
                let result = record_from_slice(number, &line, limits.max_items());
                let unfinished = matches!(
                    &result,
                    Err(RecordError { error: ModelError::Json { reason, .. }, .. })
                        if reason == EOF_REASON
                );
                // Only before any record is reported, so positions never go back.
                if !reported && unfinished {
                    line.push(b'\n');
                    let rest = std::io::Cursor::new(std::mem::take(&mut line)).chain(reader);
                    return read_values(rest, limits, each);
                }
                result
            }
        };
        reported = true;
        if each(number, result).is_break() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(text: &str, format: InputFormat) -> Vec<Result<String, String>> {
        let mut out = Vec::new();
        read_batch(text.as_bytes(), format, |_, r| {
            out.push(
                r.map(|w| w.tracking_number().to_string())
                    .map_err(|e| e.to_string()),
            );
            ControlFlow::Continue(())
        })
        .unwrap();
        out
    }

    const A: &str = r#"{"tracking_number":"SF0000000001","zone":1,"recipient":{"name":"张三","phone":"13812345678","address":"北京市朝阳区"}}"#;
    const B: &str = r#"{"tracking_number":"SF0000000002","zone":1,"recipient":{"name":"李四","phone":"13812345678","address":"北京市朝阳区"}}"#;

    #[test]
    fn json_array_streams_and_keeps_records_before_damage() {
        let text = format!("\u{feff} [{A},{B}, {{\"zone\": ]");
        let got = summary(&text, InputFormat::Auto);
        assert_eq!(
            got[..2],
            [Ok("SF0000000001".into()), Ok("SF0000000002".into())]
        );
        assert!(
            matches!(&got[2], Err(e) if e.starts_with("record 3: invalid JSON")),
            "{got:?}"
        );
        assert_eq!(got.len(), 3);
        // Trailing garbage after the array is reported too.
        let got = summary(&format!("[{A}] x"), InputFormat::Json);
        assert_eq!(got.len(), 2);
        assert!(got[1].is_err());
    }

    #[test]
    fn json_lines_lose_only_the_bad_line() {
        let text = format!("{A}\n\n{{broken\n{B}\n");
        let got = summary(&text, InputFormat::Auto);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], Ok("SF0000000001".into()));
        assert!(
            matches!(&got[1], Err(e) if e.starts_with("record 3: invalid JSON")),
            "{got:?}"
        );
        assert_eq!(got[2], Ok("SF0000000002".into()));
    }

    #[test]
    fn positions_never_go_back_after_an_early_bad_line() {
        // Found by the batch fuzz target: an unfinished object on the first line
        // that parses switches to a value stream, whose positions restart at 1; after
        // an over-long first line that would repeat position 1.
        let mut positions = Vec::new();
        let limits = InputLimits::new().with_max_record_bytes(1);
        read_batch_with_limits(&b"\"-\n["[..], InputFormat::JsonLines, &limits, |p, r| {
            positions.push((p, r.unwrap_err().position));
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(positions, [(1, 1), (2, 2)]);
    }

    #[test]
    fn pretty_printed_and_concatenated_objects() {
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(A).unwrap())
                .unwrap();
        let got = summary(&format!("{pretty}\n{pretty}"), InputFormat::Auto);
        assert_eq!(got, [Ok("SF0000000001".into()), Ok("SF0000000001".into())]);
    }

    #[test]
    fn invalid_utf8_line_is_one_error() {
        let mut bytes = A.as_bytes().to_vec();
        bytes.extend_from_slice(b"\n{\"tracking_number\":\"\xff\"}\n");
        bytes.extend_from_slice(B.as_bytes());
        let mut n = (0, 0);
        read_batch(&bytes[..], InputFormat::JsonLines, |_, r| {
            if r.is_ok() {
                n.0 += 1
            } else {
                n.1 += 1
            }
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(n, (2, 1));
    }

    #[test]
    fn csv_with_bom_free_form_and_structured_addresses() {
        let text = "\u{feff}tracking_number,zone,recipient_name,recipient_phone,recipient_address,recipient_city,recipient_country,item_category,item_quantity\n\
SF0000000001,755021,张三,138 1234 5678,广东省深圳市南山区深南大道10000号,,,母婴,2\n\
SF0000000002,0,John Smith,+44 20 7946 0958,,London,GB,,\n\
SF0000000003,abc,王五,13812345678,北京市朝阳区,,,,\n\
SF0000000004,1,赵六\n";
        let got = summary(text, InputFormat::Auto);
        assert_eq!(got[0], Ok("SF0000000001".into()));
        assert_eq!(got[1], Ok("SF0000000002".into()));
        assert_eq!(
            got[2],
            Err("record 3 (SF0000000003): zone: expected a whole number".into())
        );
        assert_eq!(
            got[3],
            Err("record 4: invalid CSV at line 5: wrong number of cells or bad quoting".into())
        );
        let mut first = None;
        read_batch(text.as_bytes(), InputFormat::Csv, |_, r| {
            first = r.ok();
            ControlFlow::Break(())
        })
        .unwrap();
        let w = first.unwrap();
        assert_eq!(w.items()[0].category(), Some("母婴"));
        assert_eq!(w.items()[0].quantity(), 2);
        assert_eq!(w.recipient().address().district(), Some("南山区"));
    }

    #[test]
    fn break_stops_early_and_empty_input_has_no_records() {
        let text = format!("[{A},{B}]");
        let mut n = 0;
        read_batch(text.as_bytes(), InputFormat::Auto, |_, _| {
            n += 1;
            ControlFlow::Break(())
        })
        .unwrap();
        assert_eq!(n, 1);
        assert!(summary("", InputFormat::Auto).is_empty());
        assert!(summary("  \n ", InputFormat::Auto).is_empty());
        assert!(summary("[]", InputFormat::Auto).is_empty());
    }
}

//! Streaming batch input: a JSON array, JSON Lines (or concatenated JSON objects),
//! or CSV. Records are handed over one at a time, so memory stays flat however long
//! the input is.

use std::io::{BufRead, Read};

use std::ops::ControlFlow;

use serde::de::{Error as _, SeqAccess, Visitor};
use serde_json::Value;

use super::json::{json_error, record};
use super::{RecordError, Waybill};

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

/// Reads a batch from `reader` and hands each record, in input order, to `each`
/// with its position (1-based: array index, line of JSON Lines, or CSV data row —
/// the same number a [`RecordError`] carries). `each` may stop early by returning
/// [`ControlFlow::Break`].
///
/// A bad record is handed over as an error with its position (1-based: array
/// index, line, or CSV data row) and the input goes on. Only damage that destroys
/// the structure stops it: malformed JSON inside an array ends the array there,
/// reported as one last error.
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
    mut reader: R,
    format: InputFormat,
    mut each: impl FnMut(usize, Result<Waybill, RecordError>) -> ControlFlow<()>,
) -> std::io::Result<()> {
    skip_bom(&mut reader)?;
    let format = match format {
        InputFormat::Auto => match first_byte(&mut reader)? {
            Some(b'[') => InputFormat::Json,
            Some(b'{') | None => InputFormat::JsonLines,
            Some(_) => InputFormat::Csv,
        },
        f => f,
    };
    match format {
        InputFormat::Json => read_json(reader, &mut each),
        InputFormat::Csv => super::csv_input::read_csv(reader, &mut each),
        _ => read_json_lines(reader, &mut each),
    }
}

/// Reads a whole batch held in memory (JSON array, JSON Lines or CSV, detected as
/// in [`InputFormat::Auto`]): one result per record, in input order. A bad record
/// is reported with its position and never stops the others.
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

fn first_byte<R: BufRead>(reader: &mut R) -> std::io::Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                reader.consume(i);
                return Ok(Some(b));
            }
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

pub(super) type Each<'a> = dyn FnMut(usize, Result<Waybill, RecordError>) -> ControlFlow<()> + 'a;

/// A JSON array streamed element by element, or a stream of JSON values.
fn read_json<R: BufRead>(mut reader: R, each: &mut Each<'_>) -> std::io::Result<()> {
    let array = first_byte(&mut reader)? == Some(b'[');
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut count = 0usize;
    if !array {
        for value in de.into_iter::<Value>() {
            count += 1;
            let result =
                value.map_or_else(|e| Err(stream_error(count, e)), |v| Ok(record(count, &v)));
            match result {
                Ok(r) => {
                    if each(count, r).is_break() {
                        return Ok(());
                    }
                }
                Err(e) => {
                    let _ = each(count, Err(e?));
                    return Ok(());
                }
            }
        }
        return Ok(());
    }
    let mut stopped = false;
    let visitor = ArrayVisitor {
        each: &mut *each,
        count: &mut count,
        stopped: &mut stopped,
    };
    let result = serde::Deserializer::deserialize_seq(&mut de, visitor).and_then(|()| de.end());
    match result {
        Err(_) if stopped => Ok(()),
        Err(e) => {
            let _ = each(count + 1, Err(stream_error(count + 1, e)?));
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// An I/O error stops the batch; a JSON error becomes the record's error.
fn stream_error(position: usize, e: serde_json::Error) -> std::io::Result<RecordError> {
    if e.is_io() {
        return Err(e.into());
    }
    Ok(RecordError {
        position,
        tracking_number: None,
        error: json_error(e),
    })
}

/// Hands each element of a JSON array over as a record.
struct ArrayVisitor<'a, 'b> {
    each: &'a mut Each<'b>,
    count: &'a mut usize,
    stopped: &'a mut bool,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("an array of waybills")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            *self.count += 1;
            if (self.each)(*self.count, record(*self.count, &v)).is_break() {
                *self.stopped = true;
                return Err(A::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// One object per line; a bad line loses only itself. A first line that is the
/// start of a pretty-printed object switches to streaming JSON values.
fn read_json_lines<R: BufRead>(mut reader: R, each: &mut Each<'_>) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut number = 0usize;
    let mut seen = 0usize;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        seen += 1;
        let result = match serde_json::from_slice::<Value>(&line) {
            Ok(v) => record(number, &v),
            Err(e) if seen == 1 && e.is_eof() => {
                let rest = std::io::Cursor::new(std::mem::take(&mut line)).chain(reader);
                return read_json(rest, each);
            }
            Err(e) => Err(RecordError {
                position: number,
                tracking_number: None,
                error: json_error(e),
            }),
        };
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
    fn pretty_printed_and_concatenated_objects() {
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(A).unwrap()).unwrap();
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

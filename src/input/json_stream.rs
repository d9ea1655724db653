//! Cutting a byte stream into JSON records of bounded size: the lines of JSON
//! Lines, and the elements of a JSON array or of a stream of concatenated values.
//!
//! Only a record's own bytes are kept, and at most the limit of them: a longer
//! record is scanned to its end without being stored (string escapes and brackets
//! are followed, nothing is built), so the records after it are still read. A
//! record over the limit that holds a NUL byte stops the input: JSON text never
//! holds one, and a binary stream such as `/dev/zero` may have no end to skip to.

use std::io::{self, BufRead};

use crate::model::ModelError;

/// Brackets deeper than this are counted but not matched; serde_json refuses
/// them anyway.
const MATCHED_DEPTH: usize = 128;

/// How cutting one line ended.
pub(super) enum Line {
    /// The line's bytes, without the line break, are in the buffer.
    Text,
    /// The line is over the limit; it was skipped to its line break.
    TooLarge,
    /// A line over the limit holds a NUL byte; reading must stop.
    Binary,
    /// No more input.
    End,
}

/// Reads one line of at most `max` bytes (the line break not counted) into `line`.
pub(super) fn read_line<R: BufRead>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    line.clear();
    let mut size = 0usize;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(match (any, size > max) {
                (false, _) => Line::End,
                (true, true) => Line::TooLarge,
                (true, false) => Line::Text,
            });
        }
        any = true;
        let newline = chunk.iter().position(|&b| b == b'\n');
        let (part, used) = match newline {
            Some(i) => (chunk.get(..i).unwrap_or_default(), i.saturating_add(1)),
            None => (chunk, chunk.len()),
        };
        size = size.saturating_add(part.len());
        let binary = if size > max {
            line.clear();
            part.contains(&0)
        } else {
            line.extend_from_slice(part);
            false
        };
        reader.consume(used);
        if binary {
            return Ok(Line::Binary);
        }
        if newline.is_some() {
            return Ok(if size > max {
                Line::TooLarge
            } else {
                Line::Text
            });
        }
    }
}

/// Skips white space and returns the next byte without consuming it.
pub(super) fn peek_past_whitespace<R: BufRead>(reader: &mut R) -> io::Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf.get(i).copied();
                reader.consume(i);
                return Ok(b);
            }
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

/// One piece of a stream of JSON values.
pub(super) enum Piece {
    /// A record's bytes are in [`Values::bytes`].
    Value,
    /// A record that cannot be read; the next one can.
    Skipped(ModelError),
    /// A record that cannot be read, and the structure around it is lost: nothing
    /// after it can be read.
    Last(ModelError),
    /// No more records.
    End,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first element.
    First,
    /// After a comma, or between values of a stream.
    Next,
    /// Past the array's `]`.
    Closed,
    /// The input ended right after a complete array element: the `]` is missing.
    Unclosed,
    /// Nothing more to read.
    Done,
}

/// Cuts a JSON array into its elements (when the input starts with `[`) or a
/// stream of JSON values into the values.
pub(super) struct Values<R> {
    reader: R,
    max: usize,
    array: bool,
    state: State,
    /// The bytes of the last [`Piece::Value`].
    pub(super) bytes: Vec<u8>,
}

impl<R: BufRead> Values<R> {
    pub(super) fn new(mut reader: R, max: usize) -> io::Result<Self> {
        let array = peek_past_whitespace(&mut reader)? == Some(b'[');
        if array {
            reader.consume(1);
        }
        Ok(Self {
            reader,
            max,
            array,
            state: State::First,
            bytes: Vec::new(),
        })
    }

    /// Cuts the next record.
    pub(super) fn next_piece(&mut self) -> io::Result<Piece> {
        self.bytes.clear();
        loop {
            let first = match self.state {
                State::Done => return Ok(Piece::End),
                State::Unclosed => return Ok(self.last(unclosed())),
                _ => peek_past_whitespace(&mut self.reader)?,
            };
            let Some(first) = first else {
                // The input ends between records.
                if self.array && self.state != State::Closed {
                    return Ok(self.last(unclosed()));
                }
                self.state = State::Done;
                return Ok(Piece::End);
            };
            match self.state {
                State::Closed => return Ok(self.last(syntax("data after the end of the array"))),
                State::First if self.array && first == b']' => {
                    self.reader.consume(1);
                    self.state = State::Closed;
                }
                _ => return self.cut(),
            }
        }
    }

    fn last(&mut self, error: ModelError) -> Piece {
        self.state = State::Done;
        Piece::Last(error)
    }

    /// Cuts one element or value, the reader being at its first byte.
    fn cut(&mut self) -> io::Result<Piece> {
        let mut scan = Scan::new(self.array);
        let mut size = 0usize;
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                // The input ends inside the record: a complete array element still
                // misses the array's `]`; anything else is cut short.
                self.state = if self.array && scan.complete() {
                    State::Unclosed
                } else {
                    State::Done
                };
                return Ok(self.finish(size > self.max));
            }
            let mut end = None;
            let mut i = 0;
            while let Some(&b) = chunk.get(i) {
                if scan.in_string && !scan.escape && b != b'"' && b != b'\\' {
                    // Inside a string only a quote or a backslash matters.
                    let rest = chunk.get(i..).unwrap_or_default();
                    match rest.iter().position(|&b| b == b'"' || b == b'\\') {
                        Some(k) => i += k,
                        None => break,
                    }
                    continue;
                }
                let act = scan.step(b);
                if act != Act::Go {
                    end = Some((i, act));
                    break;
                }
                i += 1;
            }
            let (keep, used) = match end {
                None => (chunk.len(), chunk.len()),
                Some((i, Act::EndBefore)) => (i, i),
                Some((i, Act::EndAfter | Act::Mismatch)) => (i + 1, i + 1),
                Some((i, Act::Comma | Act::CloseArray | Act::Go)) => (i, i + 1),
            };
            let part = chunk.get(..keep).unwrap_or_default();
            size = size.saturating_add(part.len());
            let binary = if size > self.max {
                self.bytes.clear();
                part.contains(&0)
            } else {
                self.bytes.extend_from_slice(part);
                false
            };
            self.reader.consume(used);
            if binary {
                return Ok(self.last(ModelError::BinaryInput));
            }
            let Some((_, act)) = end else { continue };
            let over = size > self.max;
            return Ok(match act {
                Act::Mismatch if over => self.last(ModelError::RecordTooLarge { max: self.max }),
                Act::Mismatch => {
                    let error = super::json_strict::parse(&self.bytes, "", 1)
                        .err()
                        .unwrap_or_else(|| syntax("mismatched brackets"));
                    self.last(error)
                }
                Act::CloseArray => {
                    self.state = State::Closed;
                    self.finish(over)
                }
                _ => {
                    self.state = State::Next;
                    self.finish(over)
                }
            });
        }
    }

    fn finish(&mut self, over: bool) -> Piece {
        if over {
            Piece::Skipped(ModelError::RecordTooLarge { max: self.max })
        } else if self.bytes.iter().all(u8::is_ascii_whitespace) {
            Piece::Skipped(syntax("empty array element"))
        } else {
            Piece::Value
        }
    }
}

fn syntax(reason: &str) -> ModelError {
    ModelError::Json {
        line: 1,
        column: 1,
        reason: reason.into(),
    }
}

fn unclosed() -> ModelError {
    syntax("unexpected end of input: the array is not closed")
}

/// What one byte does to the record being cut.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    /// Part of the record.
    Go,
    /// The record ended before this byte, which is not consumed.
    EndBefore,
    /// The record ends with this byte.
    EndAfter,
    /// An array element ends at this comma, which is consumed.
    Comma,
    /// The last array element ends at the array's `]`, which is consumed.
    CloseArray,
    /// A closing bracket that does not match: the structure is lost.
    Mismatch,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No byte seen yet.
    Unknown,
    /// An array element, which ends at a comma or `]` at depth 0.
    Element,
    /// An object or array value of a stream, which ends with its closing bracket.
    Container,
    /// A string value of a stream, which ends with its closing quote.
    Text,
    /// A number or literal value of a stream, which ends before white space or
    /// punctuation.
    Scalar,
}

/// A lexical scan: strings, escapes and bracket depth; nothing is built.
struct Scan {
    shape: Shape,
    depth: u64,
    /// The open brackets, up to [`MATCHED_DEPTH`].
    open: Vec<u8>,
    in_string: bool,
    escape: bool,
}

impl Scan {
    fn new(array: bool) -> Self {
        Self {
            shape: if array {
                Shape::Element
            } else {
                Shape::Unknown
            },
            depth: 0,
            open: Vec::new(),
            in_string: false,
            escape: false,
        }
    }

    /// The bytes so far are a whole value (brackets closed, no open string).
    fn complete(&self) -> bool {
        self.depth == 0 && !self.in_string
    }

    fn step(&mut self, b: u8) -> Act {
        if self.shape == Shape::Unknown {
            self.shape = match b {
                b'{' | b'[' => Shape::Container,
                b'"' => Shape::Text,
                b'}' | b']' | b',' | b':' => return Act::Mismatch,
                _ => Shape::Scalar,
            };
        }
        if self.in_string {
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.shape == Shape::Text {
                    return Act::EndAfter;
                }
            }
            return Act::Go;
        }
        match (self.shape, b) {
            (Shape::Scalar, b'{' | b'}' | b'[' | b']' | b',' | b':' | b'"') => Act::EndBefore,
            (Shape::Scalar, b) if b.is_ascii_whitespace() => Act::EndBefore,
            (Shape::Scalar, _) => Act::Go,
            (_, b'"') => {
                self.in_string = true;
                Act::Go
            }
            (_, b'{' | b'[') => {
                self.depth = self.depth.saturating_add(1);
                if self.open.len() < MATCHED_DEPTH {
                    self.open.push(b);
                }
                Act::Go
            }
            (Shape::Element, b']') if self.depth == 0 => Act::CloseArray,
            (Shape::Element, b',') if self.depth == 0 => Act::Comma,
            (_, b'}' | b']') => self.close(b),
            _ => Act::Go,
        }
    }

    fn close(&mut self, b: u8) -> Act {
        if self.depth == 0 {
            return Act::Mismatch;
        }
        if usize::try_from(self.depth).is_ok_and(|d| d <= self.open.len()) {
            let opener = if b == b'}' { b'{' } else { b'[' };
            if self.open.pop() != Some(opener) {
                return Act::Mismatch;
            }
        }
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 && self.shape == Shape::Container {
            Act::EndAfter
        } else {
            Act::Go
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str, max: usize) -> Vec<Result<String, String>> {
        let mut values = Values::new(text.as_bytes(), max).unwrap();
        let mut out = Vec::new();
        loop {
            match values.next_piece().unwrap() {
                Piece::Value => out.push(Ok(String::from_utf8(values.bytes.clone()).unwrap())),
                Piece::Skipped(e) => out.push(Err(e.to_string())),
                Piece::Last(e) => out.push(Err(format!("last: {e}"))),
                Piece::End => return out,
            }
        }
    }

    #[test]
    fn array_elements_are_cut_at_top_level_commas() {
        let got = pieces(r#" [ {"a":"x,]}\"y"} , [1,[2]] ,3,"s"]  "#, 100);
        assert_eq!(
            got,
            [
                Ok(r#"{"a":"x,]}\"y"} "#.into()),
                Ok("[1,[2]] ".into()),
                Ok("3".into()),
                Ok(r#""s""#.into())
            ]
        );
        assert!(pieces("[]", 100).is_empty());
        assert!(pieces(" [ \n ] \n", 100).is_empty());
    }

    #[test]
    fn stream_values_are_cut_at_their_end() {
        let got = pieces(r#"{"a":{"b":[]}}{"c":"}"} 12 "x"true"#, 100);
        assert_eq!(
            got,
            [
                Ok(r#"{"a":{"b":[]}}"#.into()),
                Ok(r#"{"c":"}"}"#.into()),
                Ok("12".into()),
                Ok(r#""x""#.into()),
                Ok("true".into())
            ]
        );
    }

    #[test]
    fn an_over_long_element_is_skipped_and_the_next_one_read() {
        let long = format!(r#"{{"a":"{}","b":[[[]]]}}"#, "x".repeat(500));
        let got = pieces(&format!("[{long},{{}}]"), 100);
        assert_eq!(
            got,
            [
                Err("too large: more than 100 bytes".into()),
                Ok("{}".into())
            ]
        );
        let got = pieces(&format!("{long}\n{{}}"), 100);
        assert_eq!(
            got,
            [
                Err("too large: more than 100 bytes".into()),
                Ok("{}".into())
            ]
        );
    }

    #[test]
    fn damage_that_loses_the_structure_is_the_last_piece() {
        let got = pieces(r#"[{}, {"zone": ], {}]"#, 100);
        assert_eq!(got.len(), 2);
        assert!(
            matches!(&got[1], Err(e) if e.starts_with("last: invalid JSON at line 1, column 10")),
            "{got:?}"
        );
        assert_eq!(
            pieces("[{}, {}", 100)[2],
            Err("last: invalid JSON at line 1, column 1: unexpected end of input: the array is not closed".into())
        );
        assert_eq!(
            pieces("[{}] x", 100)[1],
            Err("last: invalid JSON at line 1, column 1: data after the end of the array".into())
        );
        assert!(matches!(&pieces("{} ]", 100)[1], Err(e) if e.starts_with("last: ")));
        assert_eq!(
            pieces("[{},,{}]", 100)[1],
            Err("invalid JSON at line 1, column 1: empty array element".into())
        );
        // A truncated element reports itself, once.
        let got = pieces(r#"[{"a":"#, 100);
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn binary_input_stops_once_over_the_limit() {
        let zeros = vec![0u8; 1000];
        let mut values = Values::new(&zeros[..], 100).unwrap();
        assert!(matches!(
            values.next_piece().unwrap(),
            Piece::Last(ModelError::BinaryInput)
        ));
        assert!(matches!(values.next_piece().unwrap(), Piece::End));
        let mut line = Vec::new();
        let mut reader = &zeros[..];
        assert!(matches!(
            read_line(&mut reader, &mut line, 100).unwrap(),
            Line::Binary
        ));
    }

    #[test]
    fn lines_are_capped_and_skipped_to_their_break() {
        let text = format!("ab\n{}\ncd", "x".repeat(50));
        let mut reader = text.as_bytes();
        let mut line = Vec::new();
        let mut got = Vec::new();
        loop {
            match read_line(&mut reader, &mut line, 10).unwrap() {
                Line::Text => got.push(String::from_utf8(line.clone()).unwrap()),
                Line::TooLarge => got.push("<too large>".into()),
                Line::Binary => got.push("<binary>".into()),
                Line::End => break,
            }
        }
        assert_eq!(got, ["ab", "<too large>", "cd"]);
    }
}

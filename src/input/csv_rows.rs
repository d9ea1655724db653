//! CSV rows of bounded size, cut with `csv-core`: a row's cells are kept only
//! while the row is within the limit; a longer row is parsed to its end (quotes
//! followed, so a quoted line break does not end it) and dropped, so the rows
//! after it are still read.

use std::cell::Cell;
use std::io::{self, BufRead};

use csv_core::ReadRecordResult;

/// How reading one row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Row {
    /// The row's cells are in [`Rows::fields`].
    Fields,
    /// The row is over the limit; it was skipped to its end.
    TooLarge,
    /// A row over the limit holds a NUL byte: the input is binary, stop.
    Binary,
    /// No more rows.
    End,
}

thread_local! {
    /// A built csv-core reader, kept for the next [`Rows`] on this thread.
    /// Building one builds its DFA, which costs more than reading a short batch;
    /// a reset reader parses as a new one. (csv-core 0.1's `Clone` of a built
    /// reader copies only part of its state machine, so it cannot be cloned.)
    static SPARE: Cell<Option<csv_core::Reader>> = const { Cell::new(None) };
}

/// The reader kept on this thread, reset, or else a newly built one.
// Not `unwrap_or_default`, as clippy suggests: csv-core's `Reader::default()`
// has no state machine built; `Reader::new()` builds it.
#[allow(clippy::unwrap_or_default)]
fn built_reader() -> csv_core::Reader {
    SPARE
        .take()
        .map(|mut core| {
            core.reset();
            core
        })
        .unwrap_or_else(csv_core::Reader::new)
}

pub(super) struct Rows<R> {
    reader: R,
    core: csv_core::Reader,
    max: usize,
    /// The row's unquoted cell bytes; `max` long, since they never exceed the
    /// row's input (quotes, separators and line break included).
    out: Vec<u8>,
    /// Where each cell ends in `out`.
    ends: Vec<usize>,
    len: usize,
    count: usize,
}

impl<R: BufRead> Rows<R> {
    pub(super) fn new(reader: R, max: usize) -> Self {
        Self {
            reader,
            core: built_reader(),
            max,
            out: vec![0; max.max(1)],
            ends: vec![0; 64],
            len: 0,
            count: 0,
        }
    }

    /// The 1-based line the next row starts on (blank lines before it aside).
    pub(super) fn line(&self) -> u64 {
        self.core.line()
    }

    /// The cells of the last [`Row::Fields`].
    pub(super) fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let ends = self.ends.get(..self.count).unwrap_or_default();
        ends.iter().scan(0usize, |start, &end| {
            let cell = self.out.get(*start..end).unwrap_or_default();
            *start = end;
            Some(cell)
        })
    }

    /// Reads the next row.
    pub(super) fn next_row(&mut self) -> io::Result<Row> {
        self.len = 0;
        self.count = 0;
        let mut size = 0usize;
        let mut over = false;
        loop {
            let input = self.reader.fill_buf()?;
            let at_end = input.is_empty();
            // Over the limit, the cells are written over and over into the same
            // buffers and thrown away.
            let (out_from, ends_from) = if over { (0, 0) } else { (self.len, self.count) };
            let (result, nin, nout, nend) = self.core.read_record(
                input,
                self.out.get_mut(out_from..).unwrap_or_default(),
                self.ends.get_mut(ends_from..).unwrap_or_default(),
            );
            let binary = over && input.get(..nin).is_some_and(|read| read.contains(&0));
            self.reader.consume(nin);
            if binary {
                return Ok(Row::Binary);
            }
            size = size.saturating_add(nin);
            if !over {
                self.len = self.len.saturating_add(nout);
                self.count = self.count.saturating_add(nend);
            }
            if size > self.max {
                over = true;
            }
            match result {
                ReadRecordResult::Record if over => return Ok(Row::TooLarge),
                ReadRecordResult::Record => return Ok(Row::Fields),
                ReadRecordResult::End => return Ok(Row::End),
                ReadRecordResult::InputEmpty if at_end => return Ok(Row::End),
                ReadRecordResult::InputEmpty => {}
                // The cells fill the buffer only when the row is over the limit.
                ReadRecordResult::OutputFull => over = true,
                ReadRecordResult::OutputEndsFull if !over => {
                    // At most one cell per input byte, so this stays within the limit.
                    let grown = self
                        .ends
                        .len()
                        .saturating_mul(2)
                        .min(self.max.saturating_add(1));
                    if grown <= self.ends.len() {
                        over = true;
                    } else {
                        self.ends.resize(grown, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {}
            }
        }
    }
}

impl<R> Drop for Rows<R> {
    fn drop(&mut self) {
        // `Reader::default` is unbuilt and costs nothing; it is never used.
        SPARE.set(Some(std::mem::take(&mut self.core)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8], max: usize) -> Vec<Result<Vec<String>, Row>> {
        let mut rows = Rows::new(text, max);
        let mut out = Vec::new();
        loop {
            match rows.next_row().unwrap() {
                Row::Fields => out.push(Ok(rows
                    .fields()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect())),
                Row::End => return out,
                Row::Binary => {
                    out.push(Err(Row::Binary));
                    return out;
                }
                other => out.push(Err(other)),
            }
        }
    }

    #[test]
    fn rows_over_the_limit_are_skipped_to_their_end() {
        let long = "x".repeat(100);
        let text = format!("a,b\n\"{long}\n{long}\",c\n\"q,1\",\"\"\r\n");
        assert_eq!(
            rows(text.as_bytes(), 50),
            [
                Ok(vec!["a".into(), "b".into()]),
                Err(Row::TooLarge),
                Ok(vec!["q,1".into(), String::new()])
            ]
        );
        // A row of exactly the limit fits: cells, separators and line break.
        assert_eq!(rows(b"abc,de\n", 7), [Ok(vec!["abc".into(), "de".into()])]);
        assert_eq!(rows(b"abc,def\n", 7), [Err(Row::TooLarge)]);
    }

    #[test]
    fn many_empty_cells_grow_the_ends_within_the_limit() {
        let text = ",".repeat(1000);
        let got = rows(text.as_bytes(), 2000);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap().len(), 1001);
        assert_eq!(rows(text.as_bytes(), 500), [Err(Row::TooLarge)]);
    }

    #[test]
    fn binary_rows_stop() {
        assert_eq!(rows(&[0u8; 5000], 100), [Err(Row::Binary)]);
        // A NUL in a row within the limit is only that row's problem.
        assert_eq!(rows(b"a\0\nb\n", 100).len(), 2);
    }

    #[test]
    fn a_reused_reader_starts_afresh() {
        // Left after its first row, on line 2: the next reader on this thread
        // (the same csv-core reader, reset) starts clean on line 1.
        let mut left = Rows::new(&b"a,b\nc,\"d,e"[..], 100);
        assert_eq!(left.next_row().unwrap(), Row::Fields);
        drop(left);
        let kept = SPARE.take().expect("a dropped reader is kept");
        SPARE.set(Some(kept));
        let mut fresh = Rows::new(&b"x,y\n"[..], 100);
        assert!(SPARE.take().is_none(), "the kept reader is in use");
        assert_eq!(fresh.line(), 1);
        assert_eq!(fresh.next_row().unwrap(), Row::Fields);
        assert_eq!(fresh.fields().collect::<Vec<_>>(), [&b"x"[..], b"y"]);
        assert_eq!(fresh.line(), 2);
        drop(fresh);
        for _ in 0..3 {
            assert_eq!(
                rows(b"q,\"1\n2\",r\n", 100),
                [Ok(vec!["q".into(), "1\n2".into(), "r".into()])]
            );
        }
    }
}

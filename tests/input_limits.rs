//! Bounded and unambiguous batch input, through the public reader: records over
//! the size or item limit, binary input, repeated JSON keys and CSV columns, and
//! item quantities whose sum overflows.
//!
//! The large inputs are generated while they are read, never held in memory or
//! written to disk; `tests/cli_input_limits.rs` measures the command's peak memory
//! on the same shapes.

use std::io::{BufReader, Read};
use std::ops::ControlFlow;

use waybill_redact::{
    parse_batch, read_batch, read_batch_with_limits, InputFormat, InputLimits, ModelError, Waybill,
};

const A: &str = r#"{"tracking_number":"SF0000000001","zone":1,"recipient":{"name":"张三","phone":"13812345678","address":"北京市朝阳区"}}"#;
const B: &str = r#"{"tracking_number":"SF0000000002","zone":1,"recipient":{"name":"李四","phone":"13812345678","address":"北京市朝阳区"}}"#;
const CSV_HEADER: &str = "tracking_number,zone,recipient_name,recipient_phone,recipient_address\n";
const CSV_A: &str = "SF0000000001,1,张三,13812345678,北京市朝阳区\n";
const CSV_B: &str = "SF0000000002,1,李四,13812345678,北京市朝阳区\n";

const MB_200: u64 = 200 << 20;

/// Input made of literal pieces and long runs of one byte, produced as it is read.
struct Generated {
    parts: Vec<Part>,
    at: usize,
    done: u64,
}

enum Part {
    Text(Vec<u8>),
    Run(u8, u64),
}

impl Generated {
    /// `parts`: each piece of text, followed by `n` copies of `fill`.
    fn new(parts: &[(&str, u8, u64)]) -> BufReader<Self> {
        let mut flat = Vec::new();
        for &(text, fill, n) in parts {
            flat.push(Part::Text(text.as_bytes().to_vec()));
            flat.push(Part::Run(fill, n));
        }
        BufReader::with_capacity(
            1 << 16,
            Self {
                parts: flat,
                at: 0,
                done: 0,
            },
        )
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some(part) = self.parts.get(self.at) {
            let len = match part {
                Part::Text(t) => t.len() as u64,
                Part::Run(_, n) => *n,
            };
            if self.done >= len {
                self.at += 1;
                self.done = 0;
                continue;
            }
            let n = (len - self.done).min(buf.len() as u64) as usize;
            match part {
                Part::Run(b, _) => buf[..n].fill(*b),
                Part::Text(t) => buf[..n].copy_from_slice(&t[self.done as usize..][..n]),
            }
            self.done += n as u64;
            return Ok(n);
        }
        Ok(0)
    }
}

/// Each record as `position: tracking number` or `position: error`.
fn summary(
    reader: impl std::io::BufRead,
    format: InputFormat,
    limits: &InputLimits,
) -> Vec<String> {
    let mut out = Vec::new();
    read_batch_with_limits(reader, format, limits, |position, r| {
        out.push(match r {
            Ok(w) => format!("{position}: {}", w.tracking_number()),
            Err(e) => {
                assert_eq!(e.position, position);
                format!("{position}: {e}")
            }
        });
        ControlFlow::Continue(())
    })
    .unwrap();
    out
}

fn too_large(position: usize) -> String {
    format!("{position}: record {position}: too large: more than 65536 bytes")
}

#[test]
fn a_200_mb_json_line_fails_alone_and_the_next_lines_are_read() {
    let line = format!("{A}\n{{\"tracking_number\":\"SF0000000003\",\"x\":\"");
    let input = Generated::new(&[(&line, b'a', MB_200), (&format!("\"}}\n{B}\n"), b' ', 0)]);
    assert_eq!(
        summary(input, InputFormat::JsonLines, &InputLimits::new()),
        [
            "1: SF0000000001".to_owned(),
            too_large(2),
            "3: SF0000000002".into()
        ]
    );
}

#[test]
fn a_200_mb_array_element_fails_alone_and_the_next_elements_are_read() {
    // The long element nests brackets and holds quoted brackets, commas and
    // escaped quotes, so skipping it must follow strings and depth.
    let start = format!("[{A},{{\"recipient\":{{\"name\":[\"],\\\"\",[[{{\"");
    let input = Generated::new(&[
        (&start, b'a', MB_200),
        ("\"}]]", b'[', 1 << 20),
        (&"]".repeat(1 << 20), b' ', 0),
        (&format!("]}}}},\n{B}]"), b' ', 0),
    ]);
    assert_eq!(
        summary(input, InputFormat::Auto, &InputLimits::new()),
        [
            "1: SF0000000001".to_owned(),
            too_large(2),
            "3: SF0000000002".into()
        ]
    );
    // The same as a stream of concatenated objects.
    let start = format!("{A}\n{{\"x\":\"");
    let input = Generated::new(&[(&start, b'}', 20 << 20), (&format!("\"}}{B}"), b' ', 0)]);
    assert_eq!(
        summary(input, InputFormat::Json, &InputLimits::new()),
        [
            "1: SF0000000001".to_owned(),
            too_large(2),
            "3: SF0000000002".into()
        ]
    );
}

#[test]
fn a_huge_csv_row_fails_alone_and_the_next_rows_are_read() {
    // A quoted cell with line breaks and commas: the row ends at its closing quote.
    let start = format!("{CSV_HEADER}{CSV_A}SF0000000003,1,\"");
    let input = Generated::new(&[
        (&start, b'\n', 10 << 20),
        (",", b',', 10 << 20),
        (&format!("\",13812345678,北京市\n{CSV_B}"), b' ', 0),
    ]);
    assert_eq!(
        summary(input, InputFormat::Auto, &InputLimits::new()),
        [
            "1: SF0000000001".to_owned(),
            too_large(2),
            "3: SF0000000002".into()
        ]
    );
}

#[test]
fn dev_zero_ends_in_one_error_in_every_format() {
    let zero = || BufReader::new(std::fs::File::open("/dev/zero").unwrap());
    let limits = InputLimits::new();
    // Detected as CSV: the header row never ends.
    assert_eq!(
        summary(zero(), InputFormat::Auto, &limits),
        ["0: record 0: invalid CSV at line 1: the header row is longer than the record size limit"]
    );
    let binary = "1: record 1: the input is binary (a NUL byte), not text; reading stops";
    assert_eq!(summary(zero(), InputFormat::JsonLines, &limits), [binary]);
    assert_eq!(summary(zero(), InputFormat::Json, &limits), [binary]);
    // A header, then zeros.
    let input = Generated::new(&[(&format!("{CSV_HEADER}{CSV_A}"), 0, u64::MAX)]);
    assert_eq!(
        summary(input, InputFormat::Csv, &limits),
        [
            "1: SF0000000001".to_owned(),
            "2: record 2: the input is binary (a NUL byte), not text; reading stops".into()
        ]
    );
}

#[test]
fn the_size_limit_is_the_callers_to_raise() {
    let long = format!(
        r#"{{"tracking_number":"SF0000000003","zone":1,"carrier":"{}","recipient":{{"name":"王五","phone":"13812345678","address":"北京市"}}}}"#,
        " ".repeat(100_000)
    );
    let text = format!("{long}\n");
    assert_eq!(
        summary(text.as_bytes(), InputFormat::JsonLines, &InputLimits::new()),
        [too_large(1)]
    );
    let raised = InputLimits::new().with_max_record_bytes(200_000);
    assert_eq!(
        summary(text.as_bytes(), InputFormat::JsonLines, &raised),
        ["1: SF0000000003"]
    );
    let low = InputLimits::new().with_max_record_bytes(100);
    assert_eq!(
        summary(format!("{A}\n").as_bytes(), InputFormat::JsonLines, &low),
        ["1: record 1: too large: more than 100 bytes"]
    );
}

fn with_items(n: usize, quantity: u64) -> String {
    let items = vec![format!(r#"{{"description":"书","quantity":{quantity}}}"#); n].join(",");
    format!("{},\"items\":[{items}]}}", A.strip_suffix('}').unwrap())
}

#[test]
fn items_are_limited_while_reading() {
    let limits = InputLimits::new();
    assert_eq!(
        summary(
            with_items(100, 1).as_bytes(),
            InputFormat::JsonLines,
            &limits
        ),
        ["1: SF0000000001"]
    );
    assert_eq!(
        summary(
            with_items(101, 1).as_bytes(),
            InputFormat::JsonLines,
            &limits
        ),
        ["1: record 1: items: more than 100 entries"]
    );
    // A million items behind a raised size limit: refused at the 101st.
    let million = with_items(1_000_000, 1);
    let big = InputLimits::new().with_max_record_bytes(million.len());
    assert_eq!(
        summary(million.as_bytes(), InputFormat::JsonLines, &big),
        ["1: record 1: items: more than 100 entries"]
    );
    let thousand = with_items(1000, 1);
    let more = big.with_max_items(1000);
    assert_eq!(
        summary(thousand.as_bytes(), InputFormat::JsonLines, &more),
        ["1: SF0000000001"]
    );
    // Any array counts, not only `items`.
    let list = format!(
        r#"{},"extra":[{}]}}"#,
        A.strip_suffix('}').unwrap(),
        vec!["0"; 101].join(",")
    );
    assert_eq!(
        summary(list.as_bytes(), InputFormat::Auto, &limits),
        ["1: record 1: <unknown>: more than 100 entries"]
    );
}

#[test]
fn repeated_json_keys_are_refused_without_quoting_values() {
    let dup_name = A.replace(r#""name":"张三""#, r#""name":"张三","name":"王秘密""#);
    let dup_deep = A.replace(
        r#""address":"北京市朝阳区""#,
        r#""address":{"city":"北京市","district":"朝阳区","district":"海淀区"}"#,
    );
    let dup_top = A.replace(r#""zone":1"#, r#""zone":1,"zone":2"#);
    let text = format!("{dup_name}\n{dup_deep}\n{dup_top}\n{B}\n");
    let got = summary(text.as_bytes(), InputFormat::Auto, &InputLimits::new());
    assert_eq!(
        got,
        [
            "1: record 1: recipient.name: key appears more than once",
            "2: record 2: recipient.address.district: key appears more than once",
            "3: record 3: zone: key appears more than once",
            "4: SF0000000002"
        ]
    );
    for line in &got {
        for secret in ["王秘密", "张三", "海淀", "朝阳", "13812345678"] {
            assert!(!line.contains(secret), "{line}");
        }
    }
    // In an array and in the single-record entry points too.
    let got = summary(
        format!("[{dup_top},{B}]").as_bytes(),
        InputFormat::Auto,
        &InputLimits::new(),
    );
    assert_eq!(got[0], "1: record 1: zone: key appears more than once");
    assert_eq!(
        Waybill::from_json(&dup_deep).unwrap_err(),
        ModelError::DuplicateKey {
            field: "recipient.address.district".into()
        }
    );
    let err = serde_json::from_str::<Waybill>(&dup_name)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("recipient.name: key appears more than once"),
        "{err}"
    );
}

#[test]
fn repeated_csv_columns_are_refused() {
    let text = format!(
        "tracking_number,zone,recipient_name,recipient_phone,recipient_address,recipient_name\n{}",
        CSV_A.replace('\n', ",王五\n")
    );
    assert_eq!(
        summary(text.as_bytes(), InputFormat::Auto, &InputLimits::new()),
        ["0: record 0: invalid CSV at line 1: columns 3 and 6 have the same name"]
    );
    // Unnamed columns may repeat: there is nothing to confuse.
    let text = format!(
        "{},,\n{}",
        CSV_HEADER.trim_end(),
        CSV_A.replace('\n', ",,\n")
    );
    assert_eq!(
        summary(text.as_bytes(), InputFormat::Csv, &InputLimits::new()),
        ["1: SF0000000001"]
    );
    // items_json is read as strictly as a JSON record.
    let text = format!(
        "{},items_json\n{}",
        CSV_HEADER.trim_end(),
        CSV_A.replace('\n', ",\"[{\"\"quantity\"\":1,\"\"quantity\"\":2}]\"\n")
    );
    assert_eq!(
        summary(text.as_bytes(), InputFormat::Csv, &InputLimits::new()),
        ["1: record 1 (SF0000000001): items[0].quantity: key appears more than once"]
    );
}

#[test]
fn quantities_whose_sum_overflows_are_refused() {
    let max = u64::from(u32::MAX);
    let items = |q: &[u64]| {
        let list: Vec<String> = q.iter().map(|q| format!(r#"{{"quantity":{q}}}"#)).collect();
        format!(
            "{},\"items\":[{}]}}",
            A.strip_suffix('}').unwrap(),
            list.join(",")
        )
    };
    let got = parse_batch(&format!("{}\n{}\n", items(&[max, 1]), items(&[max])));
    assert_eq!(
        got[0].as_ref().unwrap_err().to_string(),
        "record 1 (SF0000000001): items: quantities add up to more than 4294967295"
    );
    assert_eq!(got[1].as_ref().unwrap().items()[0].quantity(), u32::MAX);
    // Through CSV's items_json too.
    let text = format!(
        "{},items_json\n{}",
        CSV_HEADER.trim_end(),
        CSV_A.replace(
            '\n',
            ",\"[{\"\"quantity\"\":4294967295},{\"\"quantity\"\":4294967295}]\"\n"
        )
    );
    let mut errors = Vec::new();
    read_batch(text.as_bytes(), InputFormat::Csv, |_, r| {
        errors.push(r.unwrap_err().error);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(
        errors,
        [ModelError::Invalid {
            field: "items".into(),
            reason: "quantities add up to more than 4294967295"
        }]
    );
}

//! Untrusted input never panics: arbitrary bytes through every batch reader, and
//! every record either parses or is reported with a position.

use std::ops::ControlFlow;

use proptest::prelude::*;
use waybill_redact::{read_batch, InputFormat};

fn run(bytes: &[u8], format: InputFormat) -> (usize, usize) {
    let (mut ok, mut bad) = (0, 0);
    read_batch(bytes, format, |_, r| {
        match r {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                bad += 1;
            }
        }
        ControlFlow::Continue(())
    })
    .expect("reading from memory has no I/O error");
    (ok, bad)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        for format in [InputFormat::Auto, InputFormat::Json, InputFormat::JsonLines, InputFormat::Csv] {
            run(&bytes, format);
        }
    }

    #[test]
    fn csv_rows_are_each_accounted_for(
        rows in prop::collection::vec(("[A-Z]{2}[0-9]{8,12}", "[0-9]{1,6}", "\\PC{0,8}", "[0-9 +-]{0,14}", "\\PC{0,30}"), 1..20)
    ) {
        let mut text = String::from("tracking_number,zone,recipient_name,recipient_phone,recipient_address\n");
        for (t, z, n, p, a) in &rows {
            let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            text.push_str(&format!("{},{},{},{},{}\n", t, z, q(n), q(p), q(a)));
        }
        let (ok, bad) = run(text.as_bytes(), InputFormat::Csv);
        prop_assert_eq!(ok + bad, rows.len());
    }
}

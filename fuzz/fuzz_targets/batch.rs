//! Batch input (JSON arrays, JSON Lines, CSV): reading arbitrary bytes must never
//! panic, every record is either a waybill or a positioned error, and every
//! waybill masks to a label that shows no house-level digit.
#![no_main]

use std::ops::ControlFlow;

use libfuzzer_sys::fuzz_target;
use waybill_redact::{mask, read_batch, InputFormat, MaskPolicy};

fuzz_target!(|data: &[u8]| {
    let policy = MaskPolicy::default();
    for format in [InputFormat::Auto, InputFormat::Json, InputFormat::JsonLines, InputFormat::Csv] {
        let result = read_batch(data, format, |position, record| {
            match record {
                Ok(w) => {
                    let m = mask(&w, &policy);
                    let r = w.recipient();
                    if r.address().is_domestic() {
                        assert!(!m.recipient().address().as_str().chars().any(|c| c.is_ascii_digit()));
                    }
                    if r.virtual_phone().is_none() && r.phone().national_digits().len() >= 4 {
                        assert!(!m.recipient().phone().as_str().contains(r.phone().national_digits()));
                    }
                }
                Err(e) => assert!(e.position == position || e.position == 0),
            }
            ControlFlow::Continue(())
        });
        assert!(result.is_ok(), "reading from memory has no I/O error");
    }
});

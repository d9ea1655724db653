//! Batch input (JSON arrays, JSON Lines, CSV): reading arbitrary bytes must never
//! panic, every record is either a waybill or a positioned error, and every
//! waybill masks to a label that shows no house-level digit. The first two bytes
//! pick small limits, so records over the size and item limits are skipped often.
#![no_main]

use std::ops::ControlFlow;

use libfuzzer_sys::fuzz_target;
use waybill_redact::{
    mask, read_batch_with_limits, InputFormat, InputLimits, MaskPolicy, ModelError,
};

fuzz_target!(|data: &[u8]| {
    let (limits, data) = match data {
        [size, items, rest @ ..] => (
            InputLimits::new()
                .with_max_record_bytes(usize::from(*size) * 16)
                .with_max_items(usize::from(*items % 8)),
            rest,
        ),
        _ => (InputLimits::new(), data),
    };
    let policy = MaskPolicy::default();
    for format in [InputFormat::Auto, InputFormat::Json, InputFormat::JsonLines, InputFormat::Csv] {
        let mut last = 0;
        let result = read_batch_with_limits(data, format, &limits, |position, record| {
            // Positions only grow (the CSV header's error is position 0).
            assert!(position > last || position == 0);
            last = position;
            match record {
                Ok(w) => {
                    assert!(w.items().len() <= limits.max_items());
                    let m = mask(&w, &policy);
                    let r = w.recipient();
                    if r.address().is_domestic() {
                        assert!(!m.recipient().address().as_str().chars().any(|c| c.is_ascii_digit()));
                    }
                    if r.virtual_phone().is_none() && r.phone().national_digits().len() >= 4 {
                        assert!(!m.recipient().phone().as_str().contains(r.phone().national_digits()));
                    }
                }
                Err(e) => {
                    assert!(e.position == position);
                    if let ModelError::RecordTooLarge { max } = e.error {
                        assert_eq!(max, limits.max_record_bytes());
                    }
                }
            }
            ControlFlow::Continue(())
        });
        assert!(result.is_ok(), "reading from memory has no I/O error");
    }
});

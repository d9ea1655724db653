//! The Rust side of `scripts/bench-python.py`: the per-label time of exactly what
//! Python's `waybill_redact.render(record, token)` does (read the record from JSON
//! text, mask, render, 1-bit PNG), on one thread, so the two compare in one run.
//!
//! ```sh
//! cargo run --release -p waybill-redact-python --example label_time -- RECORD.json TOKEN.txt 500
//! ```
//! Prints the median and best microseconds per label over batches of 50. It lives
//! in this crate, which has no dev-dependencies, so that it builds from the
//! release artifacts `maturin develop --release` left.

use std::time::Instant;

use waybill_redact::{mask, render, Fonts, LabelSize, MaskPolicy, PngMode, Waybill};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(record), Some(token)) = (args.get(1), args.get(2)) else {
        return Err("usage: label_time RECORD.json TOKEN.txt [LABELS]".into());
    };
    let labels: usize = args.get(3).map_or(Ok(500), |n| n.parse())?;
    let text = std::fs::read_to_string(record)?;
    let token = std::fs::read_to_string(token)?;
    let token = token.trim();
    let spec = "100x150".parse::<LabelSize>()?.at_dpi(203)?;
    let fonts = Fonts::bundled();
    let policy = MaskPolicy::default();
    let one = || -> Result<usize, Box<dyn std::error::Error>> {
        let waybill = Waybill::from_json(&text)?;
        let label = render(&mask(&waybill, &policy), token, &spec, &fonts)?;
        Ok(label.to_png(PngMode::OneBit)?.len())
    };
    // Warm the glyph cache, as the Python side does.
    for _ in 0..20 {
        one()?;
    }
    let mut per_label = Vec::new();
    for _ in 0..labels.div_ceil(50) {
        let start = Instant::now();
        for _ in 0..50 {
            std::hint::black_box(one()?);
        }
        per_label.push(start.elapsed().as_secs_f64() * 1e6 / 50.0);
    }
    per_label.sort_by(f64::total_cmp);
    println!(
        "median_us={:.1} best_us={:.1}",
        per_label[per_label.len() / 2],
        per_label[0]
    );
    Ok(())
}

//! A seller's batch: read an order export as CSV, render every record as a label
//! into one multi-page PDF, and report the records that failed, with their
//! position, tracking number and reason, without stopping the batch.
//!
//! Needs the default features `render` and `bundled-font`
//! (`required-features` in Cargo.toml).
//!
//! ```sh
//! cargo run --example batch_csv -- fixtures/orders.csv out/batch.pdf
//! ```

use std::io::BufReader;
use std::ops::ControlFlow;

use time::{Duration, OffsetDateTime};
use waybill_redact::{
    mask, read_batch, render, Fonts, InputFormat, KeyRing, LabelSpec, MaskPolicy, PdfOptions,
    PdfWriter, Validity,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next().unwrap_or_else(|| "fixtures/orders.csv".into());
    let output = args.next().unwrap_or_else(|| "out/batch.pdf".into());
    if let Some(dir) = std::path::Path::new(&output).parent() {
        std::fs::create_dir_all(dir)?;
    }

    let ring = KeyRing::generate();
    let fonts = Fonts::bundled();
    let policy = MaskPolicy::default();
    let now = OffsetDateTime::now_utc();
    let pdf_options = PdfOptions::new();
    let mut pdf = PdfWriter::new(
        std::io::BufWriter::new(std::fs::File::create(&output)?),
        &pdf_options,
    )?;
    let mut failures = Vec::new();

    let reader = BufReader::new(std::fs::File::open(&input)?);
    read_batch(reader, InputFormat::Csv, |position, record| {
        let page = record.map_err(|e| e.to_string()).and_then(|waybill| {
            let fail = |e: &dyn std::fmt::Display| {
                format!("record {position} ({}): {e}", waybill.tracking_number())
            };
            let token = ring
                .seal(&waybill, &Validity::new(now, Duration::days(30)).unwrap())
                .map_err(|e| fail(&e))?;
            let label = render(
                &mask(&waybill, &policy),
                token.as_str(),
                &LabelSpec::MM_100X150,
                &fonts,
            )
            .map_err(|e| fail(&e))?;
            label.to_pdf_page(&pdf_options).map_err(|e| fail(&e))
        });
        match page.map(|p| pdf.push(&p)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("record {position}: writing: {e}")),
            Err(e) => failures.push(e),
        }
        ControlFlow::Continue(())
    })?;

    let pages = pdf.page_count();
    pdf.finish()?;
    println!(
        "{pages} label(s) written to {output}, {} failed",
        failures.len()
    );
    for f in &failures {
        println!("  {f}");
    }
    Ok(())
}

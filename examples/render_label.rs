//! Render one label: mask a waybill, seal its QR token, draw the label, and write
//! it as a 1-bit PNG (thermal printers), a ZPL file and a PDF.
//!
//! Needs the default features `render` and `bundled-font`
//! (`required-features` in Cargo.toml).
//!
//! ```sh
//! cargo run --example render_label -- out/example
//! ```

use time::{Duration, OffsetDateTime};
use waybill_redact::{
    mask, render, Fonts, KeyRing, LabelSpec, MaskPolicy, PdfOptions, PngMode, Validity, Waybill,
    ZplOptions,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "out/example".into()),
    );
    std::fs::create_dir_all(&out)?;

    let waybill = Waybill::from_json(
        r#"{
          "tracking_number": "SF1234567890123", "zone": 755021,
          "carrier": "顺丰速运", "service": "标准快递",
          "routing": { "sort_code": "755W-021-03", "hub": "深圳转运中心" },
          "recipient": { "name": "张三", "phone": "13812345678",
                         "address": "广东省深圳市南山区深南大道10000号腾讯大厦1栋1单元1001室" },
          "sender": { "name": "李四", "phone": "15900001111", "address": "浙江省杭州市余杭区文一西路969号" },
          "items": [ { "description": "婴儿奶粉 900g", "category": "母婴", "quantity": 2 } ],
          "weight_grams": 2100
        }"#,
    )?;

    // The carrier's key ring; a real system loads it from its secret store.
    let ring = KeyRing::generate();
    let now = OffsetDateTime::now_utc();
    let token = ring.seal(&waybill, &Validity::new(now, Duration::days(30))?)?;

    // The renderer only ever sees masked data and the token's text.
    let masked = mask(&waybill, &MaskPolicy::default());
    let label = render(
        &masked,
        token.as_str(),
        &LabelSpec::MM_100X150,
        &Fonts::bundled(),
    )?;
    for warning in label.warnings() {
        eprintln!("warning: {warning}");
    }

    std::fs::write(out.join("label.png"), label.to_png(PngMode::OneBit)?)?;
    std::fs::write(out.join("label.zpl"), label.to_zpl(&ZplOptions::new())?)?;
    std::fs::write(out.join("label.pdf"), label.to_pdf(&PdfOptions::new())?)?;
    println!(
        "recipient on the label: {} {} {}",
        masked.recipient().name(),
        masked.recipient().phone(),
        masked.recipient().address()
    );
    println!(
        "QR token ({} characters): {}…",
        token.as_str().len(),
        &token.as_str()[..24]
    );
    println!("wrote {}/label.png, label.zpl and label.pdf", out.display());
    Ok(())
}

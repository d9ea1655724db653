//! Rendering masked text: arbitrary names, addresses and item text that the model
//! accepts are masked and drawn with the bundled font on a real label. Rendering
//! never panics; it returns a label or a typed error (a glyph no font has, or
//! text the label cannot hold).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use waybill_redact::{
    mask, render, Address, Fonts, Item, LabelSpec, MaskPolicy, Party, RenderError, Waybill,
};

/// A token-shaped text for the QR code; its content does not matter here.
const TOKEN: &str = "WB1:0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:0123456789ABCDEFGHIJ";

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(Fonts::bundled)
}

fn waybill(data: &[u8]) -> Option<Waybill> {
    let text = core::str::from_utf8(data).ok()?;
    let mut parts = text.split('\u{1f}');
    let name = parts.next()?;
    let address = parts.next()?;
    let sender_name = parts.next().unwrap_or("李四");
    let sender_address = parts.next().unwrap_or("浙江省杭州市");
    let item = parts.next();
    let recipient = Party::new(name, "13812345678", Address::free_form(address).ok()?).ok()?;
    let sender =
        Party::new(sender_name, "15900001111", Address::free_form(sender_address).ok()?).ok()?;
    let items = item
        .map(|d| Item::new(3).map(|i| i.with_description(d).with_category(d)))
        .transpose()
        .ok()?;
    Waybill::new("SF1234567890123", 755_021, recipient)
        .ok()?
        .with_sender(sender)
        .with_items(items.into_iter().collect())
        .ok()
}

fuzz_target!(|data: &[u8]| {
    let Some(waybill) = waybill(data) else {
        return;
    };
    let masked = mask(&waybill, &MaskPolicy::default());
    match render(&masked, TOKEN, &LabelSpec::MM_100X150, fonts()) {
        Ok(label) => assert!(label.bitmap().width() > 0),
        // A glyph that no font has is the expected failure of arbitrary text.
        Err(RenderError::MissingGlyph { .. }) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});

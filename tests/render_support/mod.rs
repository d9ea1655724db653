//! Shared helpers for the render integration tests: fixtures, a stand-in token,
//! and the label matrix.
#![allow(dead_code)]

use waybill_redact::{mask, parse_batch, LabelSpec, MaskPolicy, MaskedWaybill, Waybill};

/// Every fixture waybill, parsed.
pub fn fixtures() -> Vec<Waybill> {
    let text = include_str!("../../fixtures/waybills.json");
    parse_batch(text)
        .into_iter()
        .map(|r| r.expect("fixture parses"))
        .collect()
}

/// The fixture masked under the GB/T 41833 default policy.
pub fn masked(w: &Waybill) -> MaskedWaybill {
    mask(w, &MaskPolicy::default())
}

/// A stand-in for a sealed token: `WR1:` and pseudo-random Base45 characters,
/// deterministic in `seed`. 360 characters (QR version 12-M, a typical record).
pub fn stand_in_token(seed: u64) -> String {
    stand_in_token_len(seed, 360)
}

/// As [`stand_in_token`] with `len` Base45 characters.
pub fn stand_in_token_len(seed: u64, len: usize) -> String {
    const B45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = String::from("WR1:");
    for _ in 0..len {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push(B45[((s >> 33) % 45) as usize] as char);
    }
    out
}

/// All sizes at both resolutions.
pub fn specs() -> Vec<LabelSpec> {
    let mut v = Vec::new();
    for base in [
        LabelSpec::MM_76X130,
        LabelSpec::MM_100X150,
        LabelSpec::MM_100X180,
    ] {
        v.push(base.clone());
        v.push(base.with_dpi(300).expect("300 dpi is valid"));
    }
    v
}

/// A short name for a spec, such as `100x150-203`.
pub fn spec_name(s: &LabelSpec) -> String {
    format!("{}x{}-{}", s.width_mm(), s.height_mm(), s.dpi())
}

//! Properties of the ZPL graphic-field codec that examples cannot cover.
#![cfg(feature = "render")]

use proptest::prelude::*;
use waybill_redact::{decode_gf, to_zpl, Bitmap, ZplEncoding, ZplOptions};

fn bitmap() -> impl Strategy<Value = Bitmap> {
    (1u32..=70, 1u32..=40).prop_flat_map(|(w, h)| {
        proptest::collection::vec(any::<bool>(), (w * h) as usize).prop_map(move |dots| {
            let mut b = Bitmap::new(w, h);
            for (i, &d) in dots.iter().enumerate() {
                b.set(i as u32 % w, i as u32 / w, d);
            }
            b
        })
    })
}

proptest! {
    #[test]
    fn round_trip_is_exact_in_every_encoding(b in bitmap(), enc in 0usize..3, level in 0u32..=9) {
        let enc = [ZplEncoding::Z64, ZplEncoding::Hex, ZplEncoding::Acs][enc];
        let opts = ZplOptions::new().encoding(enc).compression_level(level);
        let zpl = to_zpl(&b, 203, &[], &opts).unwrap();
        prop_assert_eq!(decode_gf(&zpl).unwrap(), b);
    }

    /// The property is the absence of panics (and of runaway allocation) on
    /// arbitrary text, including text shaped like ZPL.
    #[test]
    fn decode_gf_never_panics(s in "\\PC{0,300}") {
        let _ = decode_gf(&s);
    }

    #[test]
    fn decode_gf_never_panics_on_zpl_like_text(
        s in "(\\^(XA|XZ|PW|LL|FO|FS|GF)|[0-9]{1,6}|,|A|:Z64:|:B64:|[0-9A-Fa-z:!,]{0,40}|[A-Za-z0-9+/=]{0,20}){0,30}"
    ) {
        let _ = decode_gf(&s);
    }

    /// Damaging a Z64 field is always detected (CRC or decoding error), never
    /// returned as a different raster.
    #[test]
    fn damaged_z64_is_never_silently_accepted(b in bitmap(), pos in any::<prop::sample::Index>(), c in "[A-Za-z0-9+/]") {
        let zpl = to_zpl(&b, 203, &[], &ZplOptions::new()).unwrap();
        let start = zpl.find(":Z64:").unwrap() + 5;
        let end = start + zpl[start..].find(':').unwrap();
        let i = start + pos.index(end - start);
        let mut damaged = zpl.clone();
        damaged.replace_range(i..=i, &c);
        if let Ok(back) = decode_gf(&damaged) {
            prop_assert_eq!(back, b);
        }
    }
}

//! Every script of `fixtures/scripts.jsonl` renders with the default fonts: names
//! and addresses in 20 scripts and languages, masked by the default policy.

#![cfg(all(feature = "render", feature = "bundled-font"))]

use waybill_redact::{mask, parse_batch, render, Fonts, LabelSpec, MaskPolicy, RenderWarning};

const SCRIPTS: &str = include_str!("../fixtures/scripts.jsonl");

#[test]
fn every_script_renders_with_the_default_fonts() {
    let fonts = Fonts::bundled();
    let mut count = 0;
    for record in parse_batch(SCRIPTS) {
        let w = record.expect("valid record");
        let masked = mask(&w, &MaskPolicy::default());
        let shown = masked.recipient().address().as_str().to_owned();
        let label = render(&masked, "TEST-TOKEN-TEXT", &LabelSpec::MM_100X150, &fonts)
            .unwrap_or_else(|e| panic!("{}: {e} ({shown})", w.tracking_number().as_str()));
        // No character fell back to the mask mark.
        assert!(
            !label
                .warnings()
                .iter()
                .any(|w| matches!(w, RenderWarning::NameGlyphMasked { .. })),
            "{}: {:?}",
            w.tracking_number().as_str(),
            label.warnings()
        );
        count += 1;
    }
    assert_eq!(count, 20);
}

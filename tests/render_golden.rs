//! Golden images: one fixture per label size, compared dot for dot with the
//! PNGs in `tests/data/`. Regenerate with `UPDATE_GOLDEN=1 cargo test --test render_golden`
//! after an intended change, and look at the new files before committing them.

#![cfg(all(feature = "render", feature = "bundled-font"))]

mod render_support;

use std::path::PathBuf;

use render_support::{fixtures, masked, spec_name, stand_in_token};
use waybill_redact::{render, Fonts, LabelSpec, PngMode};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn decode(png: &[u8]) -> image::GrayImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("valid PNG")
        .to_luma8()
}

#[test]
fn labels_match_golden_images() {
    let all = fixtures();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    // One fixture per size: a structured address, a free-form one with a rare
    // character, and the long-name record.
    let cases = [
        (0, LabelSpec::MM_100X150),
        (3, LabelSpec::MM_76X130),
        (18, LabelSpec::MM_100X180),
    ];
    let mut failed = Vec::new();
    for (i, spec) in cases {
        let label = render(
            &masked(&all[i]),
            &stand_in_token(i as u64),
            &spec,
            &Fonts::bundled(),
        )
        .unwrap();
        let png = label.to_png(PngMode::OneBit).unwrap();
        let path = data_dir().join(format!("golden-{}.png", spec_name(&spec)));
        if update {
            std::fs::write(&path, &png).unwrap();
            if spec == LabelSpec::MM_100X150 {
                let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/label-100x150.png");
                std::fs::write(docs, &png).unwrap();
            }
            continue;
        }
        let want =
            decode(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
        let got = decode(&png);
        if want != got {
            let out = std::env::temp_dir().join(format!("actual-{}.png", spec_name(&spec)));
            std::fs::write(&out, &png).unwrap();
            failed.push(format!(
                "{} differs (actual written to {})",
                path.display(),
                out.display()
            ));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

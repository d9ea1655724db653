//! Rendering through the public API: hard text, fonts, sizes, codes and PNG.

#![cfg(all(feature = "render", feature = "bundled-font"))]

mod render_support;

use render_support::{fixtures, masked, specs, stand_in_token};
use waybill_redact::danger::Role;
use waybill_redact::{
    mask, parse_batch, render, Bitmap, CodeKind, Fonts, Label, LabelSize, LabelSpec, MaskPolicy,
    MaskedWaybill, PngMode, RenderError, RenderWarning, Waybill,
};

fn waybill(name: &str, address: &str) -> Waybill {
    let json = serde_json::json!({
        "tracking_number": "SF1234567890123",
        "zone": 755021,
        "recipient": { "name": name, "phone": "13812345678", "address": address },
        "sender": { "name": "李四", "phone": "15900001111", "address": "浙江省杭州市余杭区文一西路969号" },
        "items": [{ "description": "茶叶", "quantity": 1 }],
        "carrier": "顺丰速运",
        "routing": { "sort_code": "755W-021-03", "hub": "深圳转运中心" }
    });
    parse_batch(&json.to_string())
        .remove(0)
        .expect("valid test waybill")
}

/// Masked with the recipient's full name and address shown, so that the label
/// carries the hard text itself.
fn shown(w: &Waybill) -> MaskedWaybill {
    let mut p = MaskPolicy::default();
    p.dangerous()
        .show_full_name(Role::Recipient)
        .show_full_address(Role::Recipient);
    mask(w, &p)
}

fn ink_in(bm: &Bitmap, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    let mut n = 0;
    for y in y0..y1.min(bm.height()) {
        for x in x0..x1.min(bm.width()) {
            n += usize::from(bm.get(x, y));
        }
    }
    n
}

/// The label's invariants: nothing in the 2 mm margin (nothing overflowed the
/// label), and each code's quiet zone is clear of anything else.
fn assert_well_formed(label: &Label) {
    let bm = label.bitmap();
    let spec = label.spec();
    assert_eq!(
        (bm.width(), bm.height()),
        (spec.width_dots(), spec.height_dots())
    );
    let m = u32::from(spec.dpi()) * 2 * 10 / 254;
    let (w, h) = (bm.width(), bm.height());
    for (x0, y0, x1, y1) in [
        (0, 0, w, m),
        (0, h - m, w, h),
        (0, 0, m, h),
        (w - m, 0, w, h),
    ] {
        assert_eq!(ink_in(bm, x0, y0, x1, y1), 0, "ink in the margin");
    }
    assert_eq!(label.codes().len(), 2);
    for c in label.codes() {
        let (qx, qy) = match c.kind {
            CodeKind::Code128 => (10 * c.module, 0),
            CodeKind::Qr => (4 * c.module, 4 * c.module),
            _ => unreachable!(),
        };
        let (x0, y0) = (c.x - qx, c.y - qy);
        let (x1, y1) = (c.x + c.width + qx, c.y + c.height + qy);
        let all = ink_in(bm, x0, y0, x1, y1);
        let own = ink_in(bm, c.x, c.y, c.x + c.width, c.y + c.height);
        assert_eq!(all, own, "{:?} quiet zone not clear", c.kind);
        assert!(own > 0);
    }
}

#[test]
fn every_fixture_renders_well_formed_at_every_size() {
    for w in fixtures() {
        for spec in specs() {
            let label = render(&masked(&w), &stand_in_token(1), &spec, &Fonts::bundled()).unwrap();
            assert_well_formed(&label);
            let min_bar = if spec.dpi() == 203 { 3 } else { 5 };
            let min_qr = if spec.dpi() == 203 { 4 } else { 6 };
            for c in label.codes() {
                match c.kind {
                    CodeKind::Qr => assert!(c.module >= min_qr),
                    _ if label.warnings().is_empty() => assert!(c.module >= min_bar),
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn long_tracking_number_on_a_narrow_label_gets_narrower_bars_and_a_warning() {
    let w = fixtures()
        .into_iter()
        .find(|w| w.tracking_number().as_str().len() > 20)
        .unwrap();
    let label = render(
        &masked(&w),
        &stand_in_token(2),
        &LabelSpec::MM_76X130,
        &Fonts::bundled(),
    )
    .unwrap();
    assert_eq!(
        label.warnings(),
        &[RenderWarning::NarrowBars {
            module: 2,
            minimum: 3
        }]
    );
    assert_well_formed(&label);
    let wide = render(
        &masked(&w),
        &stand_in_token(2),
        &LabelSpec::MM_100X150,
        &Fonts::bundled(),
    )
    .unwrap();
    assert!(wide.warnings().is_empty());
}

#[test]
fn long_and_rare_text_is_fitted_cut_with_a_warning_and_never_overflows() {
    let long_addr = "重庆市渝中区解放碑民族路188号环球金融中心写字楼第五十八层五八零一号房间靠近电梯口左手边第三个门请放门口鞋柜上面谢谢".repeat(3) + "请务必在工作日白天送达否则无人签收谢谢配合";
    let cases = [
        ("硚埇堃喆", "湖北省武汉市硚口区解放大道558号"),
        (
            "张王李赵刘陈杨黄吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋",
            long_addr.as_str(),
        ),
        (
            "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff",
            "1600 Amphitheatre Parkway, Mountain View, CA 94043, United States of America",
        ),
        (
            "山田太郎",
            "東京都千代田区丸の内1-9-2グラントウキョウサウスタワー",
        ),
    ];
    for (name, addr) in cases {
        let w = waybill(name, addr);
        for spec in specs() {
            let label = render(&shown(&w), &stand_in_token(3), &spec, &Fonts::bundled()).unwrap();
            assert_well_formed(&label);
            if addr == long_addr {
                assert!(label.warnings().contains(&RenderWarning::Truncated {
                    field: "recipient.address"
                }));
            }
        }
    }
    // The short rare-character label is not cut.
    let label = render(
        &shown(&waybill("硚埇堃喆", "湖北省武汉市硚口区")),
        &stand_in_token(3),
        &LabelSpec::MM_100X150,
        &Fonts::bundled(),
    )
    .unwrap();
    assert!(label.warnings().is_empty(), "{:?}", label.warnings());
}

#[test]
fn characters_in_no_font_are_a_typed_error_never_a_blank_box() {
    for (name, ch) in [("محمد", 'م'), ("张😀", '😀'), ("Zoë 👍🏽", '👍')] {
        let w = waybill(name, "广东省深圳市南山区");
        let e = render(
            &shown(&w),
            &stand_in_token(4),
            &LabelSpec::MM_100X150,
            &Fonts::bundled(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            RenderError::MissingGlyph {
                ch,
                field: "recipient.name"
            }
        );
        assert!(e.to_string().contains("recipient.name") && !e.to_string().contains(name));
    }
}

#[test]
fn a_fallback_font_supplies_missing_characters() {
    // DejaVu Sans (Debian fonts-dejavu-core) has Arabic; the bundled font does not.
    let dejavu = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
        .expect("fonts-dejavu-core is installed");
    let bundled = Fonts::bundled();
    assert!(!bundled.has_glyph('م'));
    let cjk = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/fonts/fonts/NotoSansCJKsc-Label.otf"
    ))
    .unwrap();
    let fonts = Fonts::from_bytes(cjk, 0)
        .unwrap()
        .with_fallback(dejavu, 0)
        .unwrap();
    assert!(fonts.has_glyph('م') && fonts.has_glyph('硚'));
    let arabic = shown(&waybill("محمد", "广东省深圳市南山区"));
    let one = shown(&waybill("م", "广东省深圳市南山区"));
    let a = render(&arabic, &stand_in_token(5), &LabelSpec::MM_100X150, &fonts).unwrap();
    assert_well_formed(&a);
    // The letters were drawn with ink: three more letters, more black dots.
    let b = render(&one, &stand_in_token(5), &LabelSpec::MM_100X150, &fonts).unwrap();
    let ink = |l: &Label| ink_in(l.bitmap(), 0, 0, u32::MAX, u32::MAX);
    assert!(ink(&a) > ink(&b) + 50, "{} vs {}", ink(&a), ink(&b));
    // This emoji is in neither font (DejaVu has the emoticons block, not this).
    let e = render(
        &shown(&waybill("🦀", "广东省")),
        &stand_in_token(5),
        &LabelSpec::MM_100X150,
        &fonts,
    );
    assert!(
        matches!(e, Err(RenderError::MissingGlyph { ch: '🦀', .. })),
        "{e:?}"
    );
    assert!(matches!(
        Fonts::from_bytes(vec![1, 2, 3], 0),
        Err(RenderError::InvalidFont { .. })
    ));
}

#[test]
fn rendering_is_deterministic_and_png_modes_agree() {
    let w = &fixtures()[1];
    let a = render(
        &masked(w),
        &stand_in_token(6),
        &LabelSpec::MM_100X150,
        &Fonts::bundled(),
    )
    .unwrap();
    let b = render(
        &masked(w),
        &stand_in_token(6),
        &LabelSpec::MM_100X150,
        &Fonts::bundled(),
    )
    .unwrap();
    assert_eq!(a.bitmap(), b.bitmap());
    let one = a.to_png(PngMode::OneBit).unwrap();
    let gray = a.to_png(PngMode::Gray).unwrap();
    assert!(one.len() < gray.len());
    let d1 = image::load_from_memory(&one).unwrap().to_luma8();
    let d2 = image::load_from_memory(&gray).unwrap().to_luma8();
    assert_eq!(d1, d2);
    assert!(
        d1.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255),
        "thresholded, not dithered or gray"
    );
    assert_eq!(d1.dimensions(), (799, 1199));
    assert_eq!(a.dpi(), 203);
    let qr = a.codes().iter().find(|c| c.kind == CodeKind::Qr).unwrap();
    assert_eq!(qr.data, stand_in_token(6));
    let bar = a
        .codes()
        .iter()
        .find(|c| c.kind == CodeKind::Code128)
        .unwrap();
    assert_eq!(bar.data, w.tracking_number().as_str());
}

#[test]
fn custom_sizes_are_validated_and_scale() {
    assert!(matches!(
        LabelSpec::new(10, 10, 203),
        Err(RenderError::InvalidSpec { .. })
    ));
    assert!(matches!(
        LabelSpec::MM_100X150.with_dpi(5000),
        Err(RenderError::InvalidSpec { .. })
    ));
    let size: LabelSize = "80x120".parse().unwrap();
    let w = &fixtures()[0];
    for dpi in [150, 203, 300, 600] {
        let spec = size.at_dpi(dpi).unwrap();
        let label = render(&masked(w), &stand_in_token(7), &spec, &Fonts::bundled()).unwrap();
        assert_well_formed(&label);
    }
    // Too small for the QR code: a typed error, not a panic.
    let tiny = LabelSpec::new(50, 70, 203).unwrap();
    assert!(matches!(
        render(&masked(w), &stand_in_token(7), &tiny, &Fonts::bundled()),
        Err(RenderError::TokenTooLong { .. })
    ));
    let huge = "A".repeat(3000);
    assert!(matches!(
        render(&masked(w), &huge, &LabelSpec::MM_100X150, &Fonts::bundled()),
        Err(RenderError::TokenTooLong { .. })
    ));
}

#[test]
fn fonts_and_labels_can_be_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Fonts>();
    send_sync::<Label>();
    // Clones share one glyph cache.
    let fonts = Fonts::from_bytes(
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/crates/fonts/fonts/NotoSansCJKsc-Label.otf"
        ))
        .unwrap(),
        0,
    )
    .unwrap();
    let clone = fonts.clone();
    assert_eq!(clone.cached_glyphs(), 0);
    render(
        &masked(&fixtures()[0]),
        &stand_in_token(8),
        &LabelSpec::MM_100X150,
        &fonts,
    )
    .unwrap();
    assert!(clone.cached_glyphs() > 20);
}

/// Ink in the band below the header where the routing code (大头笔) goes.
fn routing_band_ink(w: &waybill_redact::Waybill) -> usize {
    let label = render(
        &masked(w),
        &stand_in_token(1),
        &LabelSpec::MM_100X150,
        &Fonts::bundled(),
    )
    .unwrap();
    let bm = label.bitmap();
    let (top, bottom) = (bm.height() * 11 / 100, bm.height() * 20 / 100);
    (top..bottom)
        .map(|y| (0..bm.width()).filter(|&x| bm.get(x, y)).count())
        .sum()
}

#[test]
fn international_parcels_without_a_sort_code_show_their_destination() {
    let all = fixtures();
    let japan = all
        .iter()
        .find(|w| w.tracking_number().as_str() == "RR473124829CN")
        .unwrap();
    assert_eq!(japan.zone(), 0);
    assert!(japan.routing().is_none());
    assert_eq!(masked(japan).recipient().country(), "JP");
    assert!(
        routing_band_ink(japan) > 2_000,
        "国际 → JP is printed large"
    );

    let domestic = waybill_redact::Waybill::from_json(
        r#"{"tracking_number":"SF0000000000001","zone":0,"recipient":{"name":"张三","phone":"13812345678","address":"北京市朝阳区"}}"#,
    )
    .unwrap();
    assert_eq!(
        routing_band_ink(&domestic),
        0,
        "no zone, no sort code, nothing to print"
    );
}

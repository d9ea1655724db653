//! Issue 13's hard cases (`fixtures/coverage.jsonl`): zone codes against the
//! address, Hong Kong, Macau and Taiwan districts, one-letter names, invisible
//! characters, ambiguous compound surnames and phones typed with `00`.

use waybill_redact::{mask, parse_batch, MaskPolicy, MaskWarning};

const CASES: &str = include_str!("../fixtures/coverage.jsonl");

/// (tracking number, name, phone, address, zone mismatch), reviewed by hand.
const EXPECTED: &[(&str, &str, &str, &str, bool)] = &[
    (
        "SF0000000013001",
        "张*",
        "******5678",
        "江苏省南京市鼓楼区中山路****",
        true,
    ),
    (
        "SF0000000013002",
        "张*",
        "******5678",
        "福建省福州市鼓楼区五四路****",
        false,
    ),
    (
        "SF0000000013003",
        "张*",
        "******5678",
        "陕西省西安市户县甘亭街道****",
        false,
    ),
    (
        "SF0000000013004",
        "张*",
        "******5678",
        "福建省福州市鼓楼区五四路****",
        false,
    ),
    (
        "SF0000000013005",
        "陳*",
        "+852 ******89",
        "香港新界沙田區沙田正街****",
        false,
    ),
    (
        "SF0000000013006",
        "林*",
        "+886 ******789",
        "臺北市大安區忠孝東路****",
        false,
    ),
    (
        "SF0000000013007",
        "何*",
        "+853 ******34",
        "澳門花地瑪堂區提督馬路****",
        false,
    ),
    (
        "SF0000000013008",
        "陳*",
        "+852 ******89",
        "****, 沙田區, 新界, 香港, HK",
        false,
    ),
    (
        "SF0000000013009",
        "何*",
        "+853 ******34",
        "****, 花地瑪堂區, MO",
        false,
    ),
    (
        "SF0000000013010",
        "林*",
        "+886 ******789",
        "****, 大安區, 臺北市, TW",
        false,
    ),
    (
        "SF0000000013011",
        "*",
        "+44 ******0958",
        "****, London, NW1****, GB",
        false,
    ),
    (
        "SF0000000013012",
        "*",
        "+82 ******5678",
        "****, 서울, KR",
        false,
    ),
    (
        "SF0000000013013",
        "*",
        "******5678",
        "北京市朝阳区建国路****",
        false,
    ),
    (
        "SF0000000013014",
        "张*",
        "******5678",
        "北京市朝阳区建国路****",
        false,
    ),
    (
        "SF0000000013015",
        "宗*",
        "******5678",
        "吉林省吉林市丰满区****",
        false,
    ),
    (
        "SF0000000013016",
        "谷*",
        "******5678",
        "湖北省仙桃市沙嘴街道****",
        false,
    ),
    (
        "SF0000000013017",
        "欧阳*",
        "******5678",
        "广东省东莞市长安镇振安中路****",
        false,
    ),
    (
        "SF0000000013018",
        "买*",
        "******5678",
        "青海省海南藏族自治州共和县恰卜恰镇****",
        false,
    ),
];

#[test]
fn hard_cases_mask_as_reviewed() {
    let waybills: Vec<_> = parse_batch(CASES)
        .into_iter()
        .map(|r| r.expect("valid record"))
        .collect();
    assert_eq!(waybills.len(), EXPECTED.len());
    for (w, &(tn, name, phone, address, mismatch)) in waybills.iter().zip(EXPECTED) {
        let m = mask(w, &MaskPolicy::default());
        assert_eq!(m.tracking_number().as_str(), tn);
        let r = m.recipient();
        let got = (r.name().as_str(), r.phone().as_str(), r.address().as_str());
        assert_eq!(got, (name, phone, address), "{tn}");
        let expected: Vec<MaskWarning> = if mismatch {
            vec![MaskWarning::ZoneMismatch { zone: w.zone() }]
        } else {
            Vec::new()
        };
        assert_eq!(m.warnings(), expected.as_slice(), "{tn}");
    }
}

#[test]
fn zone_fill_respects_the_policy_level() {
    let w = &parse_batch(CASES)[1];
    let w = w.as_ref().expect("valid record");
    let policy = MaskPolicy::default().with_recipient(
        waybill_redact::PartyPolicy::default().with_address(waybill_redact::AddressRule::City),
    );
    assert_eq!(
        mask(w, &policy).recipient().address().as_str(),
        "福建省福州市****"
    );
}

#[cfg(all(feature = "render", feature = "bundled-font"))]
#[test]
fn render_passes_the_zone_warning_on() {
    use waybill_redact::{render, Fonts, LabelSpec, RenderWarning};
    let batch = parse_batch(CASES);
    let w = batch[0].as_ref().expect("valid record");
    let label = render(
        &mask(w, &MaskPolicy::default()),
        "NOT-A-TOKEN-TEST-ONLY",
        &LabelSpec::MM_100X150,
        &Fonts::bundled(),
    )
    .expect("renders");
    assert!(label
        .warnings()
        .contains(&RenderWarning::ZoneMismatch { zone: 350102 }));
}

//! Property tests: for arbitrary names, phones and addresses the masked output never
//! reveals more than the policy allows, mask lengths do not depend on input length,
//! and nothing panics.

use proptest::prelude::*;
use serde_json::json;
use unicode_segmentation::UnicodeSegmentation;
use waybill_redact::{mask, MaskPolicy, Waybill};

fn waybill(name: &str, phone: &str, address: serde_json::Value) -> Option<Waybill> {
    serde_json::from_value(json!({
        "tracking_number": "SF1234567890123",
        "zone": 1,
        "recipient": { "name": name, "phone": phone, "address": address },
    }))
    .ok()
}

fn masked_name(name: &str) -> Option<String> {
    let w = waybill(name, "13812345678", json!("北京市朝阳区"))?;
    Some(
        mask(&w, &MaskPolicy::default())
            .recipient()
            .name()
            .to_string(),
    )
}

fn masked_phone(phone: &str) -> Option<(String, String)> {
    let w = waybill("张三", phone, json!("北京市朝阳区"))?;
    let national = w.recipient().phone().national_digits().to_owned();
    Some((
        mask(&w, &MaskPolicy::default())
            .recipient()
            .phone()
            .to_string(),
        national,
    ))
}

fn masked_address(address: &str) -> Option<String> {
    let w = waybill("张三", "13812345678", json!(address))?;
    Some(
        mask(&w, &MaskPolicy::default())
            .recipient()
            .address()
            .to_string(),
    )
}

/// Digits, ASCII or full-width, and Chinese numerals used in house numbers.
fn has_number(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn names_show_at_most_the_surname(name in "\\PC{1,60}") {
        if let Some(m) = masked_name(&name) {
            let name = name.trim();
            prop_assert!(m.ends_with('*'), "{m}");
            let shown = &m[..m.len() - 1];
            prop_assert!(name.starts_with(shown));
            let shown_g = shown.graphemes(true).count();
            let total_g = name.graphemes(true).count();
            // At most a two-hanzi compound surname, and always at least one grapheme hidden.
            prop_assert!(shown_g <= 2 && shown_g < total_g.max(1), "{name} -> {m}");
        }
    }

    #[test]
    fn name_mask_length_does_not_depend_on_name_length(
        // Han letters: a "name" of Han punctuation (𖿢) alone is hidden whole.
        name in "[\\p{Han}&&\\p{L}]{3,10}|[A-Za-z]{3,10}( [A-Za-z]{1,10})?",
        extra in "[\\p{Han}a-z]{1,40}",
    ) {
        let longer = format!("{name}{extra}");
        prop_assert_eq!(masked_name(&name), masked_name(&longer));
    }

    #[test]
    fn phones_hide_at_least_six_digits(digits in "[0-9]{3,15}", sep in "[ .-]?") {
        // Insert a separator after the third digit, as people type.
        let typed = if digits.len() > 3 { format!("{}{sep}{}", &digits[..3], &digits[3..]) } else { digits.clone() };
        if let Some((m, national)) = masked_phone(&typed) {
            let shown: String = m.rsplit('*').next().unwrap_or("").chars().filter(char::is_ascii_digit).collect();
            prop_assert!(shown.len() <= 4, "{m}");
            prop_assert!(national.len() - shown.len() >= 6 || shown.is_empty(), "{national} -> {m}");
            prop_assert!(national.ends_with(&shown));
            // Fixed mask: six mask characters whatever the length.
            prop_assert_eq!(m.matches('*').count(), 6);
        }
    }

    #[test]
    fn addresses_never_show_house_level_detail(
        admin in prop::sample::select(vec!["广东省深圳市南山区", "北京市朝阳区", "新疆维吾尔自治区伊犁哈萨克自治州伊宁市", "", "浙江省杭州市西湖区留下街道"]),
        road in prop::sample::select(vec!["深南大道", "文三路", "", "民族路"]),
        detail in "[0-9０-９一二三四五六七八九十]{1,5}(号|栋|幢|单元|室|楼|层)[\\PC]{0,20}",
    ) {
        let text = format!("{admin}{road}{detail}");
        let m = masked_address(&text).expect("valid address");
        prop_assert!(m.ends_with("****"), "{m}");
        prop_assert!(!has_number(&m), "{text} -> {m}");
        for word in ["栋", "幢", "单元", "室", "层"] {
            prop_assert!(!m.contains(word) || admin.contains(word), "{text} -> {m}");
        }
        prop_assert!(m.len() <= admin.len() + road.len() + 4, "{text} -> {m}");
    }

    #[test]
    fn arbitrary_addresses_never_show_digits(text in "\\PC{1,120}") {
        if let Some(m) = masked_address(&text) {
            prop_assert!(!has_number(&m), "{text} -> {m}");
            prop_assert!(m.ends_with("****"));
        }
    }

    #[test]
    fn arbitrary_json_never_panics(text in "\\PC{0,200}") {
        let _ = Waybill::from_json(&text);
        let _ = waybill_redact::parse_batch(&text);
    }

    #[test]
    fn arbitrary_field_values_never_panic(
        name in "\\PC{0,30}", phone in "\\PC{0,30}", zone in any::<i64>(), country in "\\PC{0,4}",
    ) {
        let value = json!({
            "tracking_number": "SF1234567890123",
            "zone": zone,
            "recipient": {"name": name, "phone": phone, "address": {"country": country, "city": name}},
        });
        if let Ok(w) = serde_json::from_value::<Waybill>(value) {
            let m = mask(&w, &MaskPolicy::default());
            prop_assert!(!m.recipient().phone().as_str().contains(w.recipient().phone().national_digits()) || w.recipient().phone().national_digits().len() < 4);
        }
    }
}

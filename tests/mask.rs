//! Masking through the public API, on the shared fixtures and on hard cases.

use waybill_redact::danger::Role;
use waybill_redact::{
    mask, parse_batch, AddressRule, MaskPolicy, ModelError, PartyPolicy, Waybill,
};

const FIXTURES: &str = include_str!("../fixtures/waybills.json");
const HARD_CASES: &str = include_str!("../fixtures/hard-cases.jsonl");

/// The masked output of every fixture, reviewed by hand against GB/T 41833-2022 and
/// DESIGN.md: (tracking number, recipient name, phone, address, sender name, phone,
/// address, items).
const EXPECTED: &[[&str; 8]] = &[
    [
        "SF1234567890123",
        "张*",
        "******5678",
        "广东省深圳市南山区深南大道****",
        "李*",
        "******1111",
        "浙江省杭州市余杭区文一西路****",
        "共2件",
    ],
    [
        "YT7412589630147",
        "欧阳*",
        "******5678",
        "浙江省杭州市西湖区文三路****",
        "王*",
        "******6666",
        "浙江省杭州市余杭区文一西路****",
        "共1件",
    ],
    [
        "ZT78901234567890",
        "买*",
        "******1122",
        "新疆维吾尔自治区乌鲁木齐市天山区解放南路****",
        "赵*",
        "******2222",
        "上海市浦东新区张江路****",
        "共3件",
    ],
    [
        "JD0098765432101",
        "诸葛*",
        "******5432",
        "湖北省武汉市硚口区解放大道****",
        "司马*",
        "******5678",
        "北京市海淀区中关村大街****",
        "共5件",
    ],
    [
        "EE471108151CN",
        "*",
        "******1234",
        "北京市朝阳区建国路****",
        "陈*",
        "******5678",
        "上海市静安区南京西路****",
        "",
    ],
    [
        "SF2233445566778",
        "刘*",
        "******5678",
        "安徽省宿州市埇桥区淮海中路****",
        "周*",
        "******2222",
        "浙江省杭州市余杭区文一西路****",
        "共1件",
    ],
    [
        "YD4300000000001",
        "林*",
        "******5959",
        "福建省厦门市思明区厦禾路****",
        "吴*",
        "******1234",
        "福建省泉州市丰泽区东海大街****",
        "共2件",
    ],
    [
        "STO773300112233",
        "Z*",
        "******3333",
        "云南省昆明市五华区东风西路****",
        "A*",
        "+1 ******0123",
        "****, San Francisco, CA, 941****, US",
        "共1件",
    ],
    [
        "UPS1Z999AA10123456784",
        "J*",
        "+44 ******0958",
        "****, London, England, NW1****, GB",
        "上*",
        "******8820",
        "上海市闵行区虹桥镇申长路****",
        "共1件",
    ],
    [
        "RR473124829CN",
        "山*",
        "+81 ******678",
        "****, 千代田区, 東京都, 100****, JP",
        "郑*",
        "******1234",
        "广东省广州市天河区天河路****",
        "共1件",
    ],
    [
        "ZT11112222333344",
        "陈*",
        "17100001111转2345",
        "广东省广州市天河区天河北路****",
        "孙*",
        "******1234",
        "广东省东莞市长安镇振安中路****",
        "共1件",
    ],
    [
        "JT5500112233446",
        "乌*",
        "******1234",
        "内蒙古自治区呼和浩特市新城区新华大街****",
        "钱*",
        "******0000",
        "内蒙古自治区包头市昆都仑区钢铁大街****",
        "共2件",
    ],
    [
        "YT1000000000009",
        "艾*",
        "******0000",
        "新疆维吾尔自治区伊犁哈萨克自治州伊宁市解放路****",
        "黄*",
        "******8888",
        "浙江省杭州市余杭区文一西路****",
        "",
    ],
    [
        "SF9988776655443",
        "冯*",
        "******7890",
        "海南省海口市秀英区长滨路****",
        "何*",
        "******6666",
        "广东省佛山市顺德区北滘镇美的大道****",
        "共1件",
    ],
    [
        "EMS1178899001122",
        "次*",
        "******1234",
        "西藏自治区拉萨市城关区北京中路****",
        "罗*",
        "******1234",
        "四川省成都市武侯区人民南路****",
        "共4件",
    ],
    [
        "SF5550001112223",
        "上官*",
        "******9999",
        "浙江省杭州市西湖区留下街道西溪路****",
        "慕容*",
        "******7777",
        "江苏省苏州市姑苏区人民路****",
        "共2件",
    ],
    [
        "YD2020202020202",
        "谢*",
        "******3333",
        "广东省东莞市南城街道鸿福路****",
        "邓*",
        "******5670",
        "广东省东莞市虎门镇连升路****",
        "共1件",
    ],
    [
        "ZT30303030303030",
        "*",
        "******1111",
        "上海市浦东新区世纪大道****",
        "高*",
        "******8888",
        "上海市黄浦区南京东路****",
        "共1件",
    ],
    [
        "SF6660006660006",
        "张*",
        "******9999",
        "重庆市渝中区解放碑民族路****",
        "梁*",
        "******6666",
        "重庆市江北区观音桥步行街****",
        "共1件",
    ],
    [
        "SF7770007770007",
        "N*",
        "+852 ******89",
        "****, 油尖旺區, 九龍, 香港, HK",
        "宋*",
        "******8888",
        "广东省深圳市福田区福华路****",
        "共6件",
    ],
];

fn fixtures() -> Vec<Waybill> {
    parse_batch(FIXTURES)
        .into_iter()
        .map(|r| r.expect("every fixture is valid"))
        .collect()
}

#[test]
fn every_fixture_masks_as_reviewed() {
    let waybills = fixtures();
    assert_eq!(waybills.len(), EXPECTED.len());
    let policy = MaskPolicy::default();
    for (w, e) in waybills.iter().zip(EXPECTED) {
        let m = mask(w, &policy);
        let s = m.sender().expect("fixtures have senders");
        let got = [
            m.tracking_number().as_str(),
            m.recipient().name().as_str(),
            m.recipient().phone().as_str(),
            m.recipient().address().as_str(),
            s.name().as_str(),
            s.phone().as_str(),
            s.address().as_str(),
            m.items().as_str(),
        ];
        assert_eq!(&got, e);
    }
}

#[test]
fn no_fixture_leaks_hidden_data() {
    let policy = MaskPolicy::default();
    for w in fixtures() {
        let m = mask(&w, &policy);
        let json = serde_json::to_string(&m).unwrap();
        let r = w.recipient();
        // Never the full phone, never an extension.
        let national = r.phone().national_digits();
        assert!(!json.contains(national), "{json}");
        if let Some(ext) = r.phone().extension() {
            assert!(!json.contains(&format!("-{ext}")), "{json}");
        }
        // At least 6 digits hidden: at most len-6 of the national digits are shown.
        let shown: usize = m
            .recipient()
            .phone()
            .as_str()
            .rsplit('*')
            .next()
            .unwrap()
            .chars()
            .filter(char::is_ascii_digit)
            .count();
        if !m.recipient().is_virtual_phone() {
            assert!(national.len() - shown >= 6, "{}", m.recipient().phone());
        }
        // No house-level detail and no item data.
        let addr = m.recipient().address().as_str();
        assert!(
            !addr.chars().any(|c| c.is_ascii_digit()) || !r.address().is_domestic(),
            "{addr}"
        );
        for word in ["栋", "幢", "单元", "室", "层", "号", "座"] {
            assert!(!addr.contains(word), "{addr}");
        }
        for item in w.items() {
            for hidden in [item.description(), item.category()].into_iter().flatten() {
                assert!(!json.contains(hidden), "{json}");
            }
        }
        // The full name is never shown, except for a one-grapheme name (hidden whole).
        assert!(
            !json.contains(r.name().as_str())
                || r.name().as_str().chars().count() == 1
                    && !m.recipient().name().as_str().contains(r.name().as_str())
        );
    }
}

#[test]
fn stricter_rules() {
    let w = &fixtures()[0];
    let policy = MaskPolicy::default()
        .with_recipient(PartyPolicy::default().with_address(AddressRule::City));
    assert_eq!(
        mask(w, &policy).recipient().address().as_str(),
        "广东省深圳市****"
    );
    let policy = MaskPolicy::default()
        .with_recipient(PartyPolicy::default().with_address(AddressRule::District));
    assert_eq!(
        mask(w, &policy).recipient().address().as_str(),
        "广东省深圳市南山区****"
    );
    let policy = MaskPolicy::default().with_mask_char('×').unwrap();
    assert_eq!(mask(w, &policy).recipient().name().as_str(), "张×");
    assert!(MaskPolicy::default().with_mask_char('a').is_err());
    assert!(MaskPolicy::default().with_mask_char(' ').is_err());
}

#[test]
fn dangerous_overrides_are_explicit() {
    let w = &fixtures()[0];
    let mut policy = MaskPolicy::default();
    assert!(!policy.is_dangerous());
    policy
        .dangerous()
        .show_full_name(Role::Recipient)
        .show_phone_digits(Role::Recipient, 11)
        .show_item_details();
    assert!(policy.is_dangerous());
    let m = mask(w, &policy);
    assert_eq!(m.recipient().name().as_str(), "张三");
    assert_eq!(m.recipient().phone().as_str(), "13812345678");
    assert_eq!(m.items().as_str(), "婴儿奶粉 900g（母婴）×2");
    // The sender is untouched.
    assert_eq!(m.sender().unwrap().name().as_str(), "李*");
}

#[test]
fn hard_cases_are_reported_by_position_and_field() {
    let results = parse_batch(HARD_CASES);
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(ToString::to_string)
        .collect();
    let expected_errors = [
        "record 2 (SF0000000000002): recipient.phone: invalid phone number: contains characters that are not digits or separators",
        "record 3 (EE471108152CN): tracking_number: wrong check digit for UPU S10 (expected 1)",
        "record 4 (SF0000000000004): recipient: missing required field",
        "record 5 (SF0000000000005): recipient.address.country: unknown country code",
        "record 6 (SF0000000000006): recipient.name: empty",
        "record 7: invalid JSON at line 1, column 38: syntax error",
        "record 9 (SF0000000000008): zone: expected a whole number from 0 to 4294967295",
    ];
    assert_eq!(errors, expected_errors);
    // Error messages never quote the bad value.
    assert!(!errors.iter().any(|e| e.contains("abc")));
    let ok: Vec<Waybill> = results.into_iter().filter_map(Result::ok).collect();
    let policy = MaskPolicy::default();
    let shown: Vec<(String, String, String)> = ok
        .iter()
        .map(|w| {
            let m = mask(w, &policy);
            (
                m.recipient().name().to_string(),
                m.recipient().phone().to_string(),
                m.recipient().address().to_string(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "欧阳*".into(),
                "******5678".into(),
                "北京市海淀区****".into()
            ),
            (
                "👨‍👩‍👧*".into(),
                "******5678".into(),
                "广西壮族自治区南宁市青秀区民族大道****".into()
            ),
            ("司*".into(), "******".into(), "****".into()),
            (
                "M*".into(),
                "+1 ******0199".into(),
                "****, Portland, OR, 972****, US".into()
            ),
        ]
    );
}

#[test]
fn model_errors_name_fields() {
    let e = Waybill::from_json(r#"{"tracking_number":"SF1","zone":1}"#).unwrap_err();
    assert!(matches!(e, ModelError::TrackingNumber { .. }));
    let e = Waybill::from_json(r#"{"tracking_number":"SF12345678","zone":1}"#).unwrap_err();
    assert_eq!(e.to_string(), "recipient: missing required field");
    let e = Waybill::from_json("[").unwrap_err();
    assert!(matches!(e, ModelError::Json { .. }));
}

#[test]
fn a_digit_typed_into_a_division_field_is_never_shown() {
    // Found by the batch fuzz target: the district was shown as given.
    let record = |province: &str, city: &str, district: &str| {
        format!(
            r#"[{{"tracking_number": "SF1234567890123", "zone": 755021,
            "recipient": {{"name": "张三", "phone": "13812345678", "address": {{"country": "CN",
              "province": "{province}", "city": "{city}", "district": "{district}",
              "street": "深南大道10000号", "detail": "1001室"}}}},
            "sender": {{"name": "李四", "phone": "15900001111", "address": "浙江省杭州市余杭区文一西路969号"}},
            "items": [{{"description": "x", "quantity": 1}}], "carrier": "顺丰速运"}}]"#
        )
    };
    let cases = [
        (
            record("广东省", "深圳市", "南山区3"),
            "广东省深圳市深南大道****",
        ),
        (
            record("广东省", "深圳市", "南山区555555555555"),
            "广东省深圳市深南大道****",
        ),
        (
            record("广东省1", "深圳市", "南山区"),
            "深圳市南山区深南大道****",
        ),
        (
            record("广东省", "深圳市２", "南山区"),
            "广东省南山区深南大道****",
        ),
        (
            record("广东省", "深圳市", "南山区"),
            "广东省深圳市南山区深南大道****",
        ),
    ];
    for (json, shown) in cases {
        let waybill = parse_batch(&json).remove(0).unwrap();
        let masked = mask(&waybill, &MaskPolicy::default());
        let address = masked.recipient().address().as_str();
        assert_eq!(address, shown);
        assert!(!address
            .chars()
            .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c)));
    }
}

//! Every county-level division of the shipped table keeps its district through
//! masking, whatever follows it, and nothing at house level leaks.
//!
//! The test reads the generated table itself (`src/model/divisions.tsv`) rather
//! than the library's index of it, and checks the whole masked line.

use waybill_redact::{mask, Address, MaskPolicy, Party, Waybill};

const TABLE: &str = include_str!("../src/model/divisions.tsv");

/// `(province, city, county)` for every county-level division, and for every
/// prefecture-level city without counties (东莞市, 中山市, 嘉峪关市, 儋州市),
/// which sorts like one; the city is `None` for a municipality or a county a
/// province administers directly.
fn rows() -> Vec<(String, Option<String>, Option<String>)> {
    let mut names = std::collections::BTreeMap::new();
    for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
        let mut f = line.split('\t');
        let code: u32 = f.next().and_then(|c| c.parse().ok()).expect("code");
        names.insert(code, f.next().expect("name").to_owned());
    }
    let has_county = |city: u32| names.range(city + 1..city + 100).next().is_some();
    let mut out = Vec::new();
    for (&code, name) in &names {
        let province = names[&(code / 10_000 * 10_000)].clone();
        if code % 10_000 == 0 {
            continue;
        }
        if code % 100 == 0 {
            if !has_county(code) {
                out.push((province, Some(name.clone()), None));
            }
            continue;
        }
        let city = Some(code / 100 * 100)
            .filter(|c| c % 10_000 != 0)
            .and_then(|c| names.get(&c).cloned());
        out.push((province, city, Some(name.clone())));
    }
    out
}

fn masked_address(text: &str) -> String {
    let party = Party::new(
        "张三",
        "13812345678",
        Address::free_form(text).expect("address"),
    )
    .expect("party");
    let w = Waybill::new("SF1234567890123", 0, party).expect("waybill");
    mask(&w, &MaskPolicy::default())
        .recipient()
        .address()
        .as_str()
        .to_owned()
}

#[test]
fn every_division_keeps_its_district() {
    let rows = rows();
    assert!(rows.len() > 3000, "{}", rows.len());
    let mut failures = Vec::new();
    for (province, city, county) in &rows {
        let head = format!(
            "{province}{}{}",
            city.as_deref().unwrap_or(""),
            county.as_deref().unwrap_or("")
        );
        let cases = [
            (
                format!("{head}幸福路88号3栋502室"),
                format!("{head}幸福路****"),
            ),
            (head.clone(), format!("{head}****")),
            (
                format!("{head}青山镇幸福路88号3栋502室"),
                format!("{head}青山镇幸福路****"),
            ),
            (
                format!("{head}城关街道12栋3单元502"),
                format!("{head}城关街道****"),
            ),
        ];
        for (input, expected) in cases {
            let got = masked_address(&input);
            if got != expected {
                failures.push(format!("{input} → {got}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} addresses:\n{}",
        failures.len(),
        rows.len() * 4,
        failures.join("\n")
    );
}

#[test]
fn the_issue_s_failing_districts() {
    for (input, expected) in [
        (
            "福建省福州市鼓楼区五四路128号",
            "福建省福州市鼓楼区五四路****",
        ),
        ("江苏省南京市鼓楼区", "江苏省南京市鼓楼区****"),
        (
            "河南省新乡市辉县市城关街道",
            "河南省新乡市辉县市城关街道****",
        ),
        ("湖南省常德市津市市", "湖南省常德市津市市****"),
        (
            "内蒙古自治区呼伦贝尔市莫力达瓦达斡尔族自治旗尼尔基镇",
            "内蒙古自治区呼伦贝尔市莫力达瓦达斡尔族自治旗尼尔基镇****",
        ),
        (
            "贵州省遵义市道真仡佬族苗族自治县玉溪镇",
            "贵州省遵义市道真仡佬族苗族自治县玉溪镇****",
        ),
        ("吉林省通化市二道江区", "吉林省通化市二道江区****"),
        // Written under the wrong city, still in the province.
        ("吉林省白山市二道江区", "吉林省白山市二道江区****"),
        ("山东省东营市东营区", "山东省东营市东营区****"),
        // A former name is still a district: 户县 became 鄠邑区 in 2016.
        ("陕西省西安市户县甘亭街道", "陕西省西安市户县甘亭街道****"),
        // Short province, a city that shares its name.
        ("吉林吉林市丰满区", "吉林省吉林市丰满区****"),
        // No province, no city: a county the table knows.
        ("道里区安静街", "道里区安静街****"),
    ] {
        assert_eq!(masked_address(input), expected, "{input}");
    }
}

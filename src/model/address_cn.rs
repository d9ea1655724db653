//! Splitting free-form Chinese addresses into province, city, county and town, and finding
//! the road name in what is left.
//!
//! Names in the official division table (`divisions.rs`) are recognised first,
//! longest first, whatever words they hold (鼓楼区, 道真仡佬族苗族自治县). For
//! names the table lacks, the suffix rules are conservative: a level is only
//! recognised inside a short window that holds no digit and no road or building
//! word. Anything not recognised stays in the remainder, which masking hides.

use super::divisions::{self, Division, Level};

/// Words that end a road name.
const ROAD_SUFFIXES: [&str; 8] = ["大道", "大街", "胡同", "路", "街", "道", "巷", "弄"];

/// Words that mark a building, unit or room: a candidate holding one is not a
/// road or an administrative name.
const HOUSE_WORDS: [&str; 18] = [
    "号", "栋", "幢", "单元", "室", "楼", "层", "座", "户", "房", "期", "院", "號", "棟", "單元",
    "樓", "層", "戶",
];

/// `…区` names that are places inside a district, not districts.
const NOT_DISTRICTS: [&str; 8] = [
    "小区", "社区", "校区", "园区", "厂区", "景区", "片区", "营区",
];

/// A free-form Chinese address split into its levels.
#[derive(Default, Debug, PartialEq, Eq)]
pub(crate) struct CnSplit {
    pub province: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub township: Option<String>,
    pub rest: String,
}

/// Provinces whose city is the province itself: Beijing, Tianjin, Shanghai,
/// Chongqing, and Macau (which has parishes only).
fn is_city_province(code: u32) -> bool {
    matches!(code, 110000 | 120000 | 310000 | 500000 | 820000)
}

/// Hong Kong's three regions, between the SAR and its 18 districts.
const HK_REGIONS: [&str; 7] = ["香港岛", "香港島", "港岛", "港島", "九龙", "九龍", "新界"];

/// Taiwan, Hong Kong and Macau: names are shown as typed (traditional or not).
fn keeps_spelling(code: u32) -> bool {
    matches!(code / 10_000, 71 | 81 | 82)
}

/// Splits a free-form Chinese address: the longest name of the division table
/// first (province, then city, then county), and the suffix rules only where
/// the table knows no name.
pub(crate) fn split(text: &str) -> CnSplit {
    let t = divisions::table();
    let mut out = CnSplit::default();
    let mut rest = text.trim();
    let mut province = None;
    let mut city = None;

    if let Some((len, rows)) = t.longest_prefix(rest, |r| r.level == Level::Province) {
        let typed = &rest[..len];
        let full = typed.ends_with(['省', '市', '区', '區']);
        let after = &rest[len..];
        let row = rows.first().and_then(|&i| t.row(i));
        // A short form (吉林, 海南) is no province when a longer city or county
        // name starts there (吉林市, 海南藏族自治州), or a road does (北京路).
        let short_ok = || {
            !after.starts_with(['路', '街', '道', '中', '东', '西', '南', '北'])
                && t.longest_prefix(rest, |r| r.level != Level::Province)
                    .is_none_or(|(l, _)| l <= len)
        };
        if let Some(row) = row.filter(|_| full || short_ok()) {
            province = rows.first().copied();
            out.province = Some(
                if keeps_spelling(row.code) {
                    typed
                } else {
                    row.name
                }
                .to_owned(),
            );
            rest = after;
            if matches!(row.code, 110000 | 120000 | 310000 | 500000) {
                // Some people repeat the city or write 市辖区; drop both.
                rest = rest.strip_prefix(row.name).unwrap_or(rest);
                rest = rest.strip_prefix("市辖区").unwrap_or(rest);
            }
        }
    }
    let province_code = province.and_then(|p| t.row(p)).map(|r| r.code);
    let in_province = |r: &Division| province.is_none_or(|p| r.province == p);
    if province_code == Some(810000) {
        if let Some(region) = HK_REGIONS.iter().find(|r| rest.starts_with(*r)) {
            out.city = Some((*region).to_owned());
            rest = &rest[region.len()..];
        }
    } else if !province_code.is_some_and(is_city_province) {
        if let Some((len, rows)) =
            t.longest_prefix(rest, |r| r.level == Level::City && in_province(r))
        {
            city = rows.first().copied().filter(|_| rows.len() == 1);
            out.city = Some(rest[..len].to_owned());
            rest = &rest[len..];
        } else if t
            .longest_prefix(rest, |r| r.level == Level::County && in_province(r))
            .is_none()
        {
            if let Some(n) = find_level(rest, 12, city_end) {
                out.city = Some(rest[..n].to_owned());
                rest = &rest[n..];
            }
        }
    }
    // Under the city; else anywhere in the province, for a county moved to
    // another city or written under the wrong one.
    let province = province.or_else(|| city.and_then(|c| t.row(c)).map(|r| r.province));
    let in_province = |r: &Division| province.is_none_or(|p| r.province == p);
    let county = city
        .and_then(|c| t.longest_prefix(rest, |r| r.level == Level::County && r.city == Some(c)))
        .or_else(|| t.longest_prefix(rest, |r| r.level == Level::County && in_province(r)));
    if let Some((len, _)) = county {
        out.district = Some(rest[..len].to_owned());
        rest = &rest[len..];
    } else if let Some(n) = find_level(rest, 10, district_end) {
        out.district = Some(rest[..n].to_owned());
        rest = &rest[n..];
    }
    if let Some(n) = find_level(rest, 8, township_end) {
        out.township = Some(rest[..n].to_owned());
        rest = &rest[n..];
    }
    out.rest = rest.to_owned();
    out
}

/// The division codes an address names at its most specific level: one code,
/// several when the name is ambiguous (鼓楼区 alone), none when the table does
/// not know it.
pub(crate) fn division_codes(
    province: Option<&str>,
    city: Option<&str>,
    district: Option<&str>,
) -> Vec<u32> {
    let t = divisions::table();
    let province = province
        .map(|p| t.named(p, |r| r.level == Level::Province))
        .and_then(|v| v.first().copied());
    let in_province = |r: &Division| province.is_none_or(|p| r.province == p);
    let cities = city
        .map(|c| t.named(c, |r| r.level == Level::City && in_province(r)))
        .unwrap_or_default();
    let counties = district
        .map(|d| {
            t.named(d, |r| {
                r.level == Level::County
                    && match cities.as_slice() {
                        [c] => r.city == Some(*c),
                        _ => in_province(r),
                    }
            })
        })
        .unwrap_or_default();
    let most_specific = [counties, cities, province.into_iter().collect()]
        .into_iter()
        .find(|v| !v.is_empty())
        .unwrap_or_default();
    most_specific
        .iter()
        .filter_map(|&i| t.row(i).map(|r| r.code))
        .collect()
}

/// Finds the byte length of the first administrative name in `s`, looking at most
/// `window` characters ahead. `end` says, for the text so far and what follows,
/// whether a name ends here, and returns the byte length of its suffix.
fn find_level(s: &str, window: usize, end: fn(&str, &str) -> Option<usize>) -> Option<usize> {
    for (count, (i, c)) in s.char_indices().enumerate() {
        if count >= window || is_digit(c) {
            return None;
        }
        let stop = i + c.len_utf8();
        let (name, after) = s.split_at(stop);
        // A name is at least two characters: "区" alone is no district.
        if count == 0 {
            continue;
        }
        if let Some(suffix) = end(name, after) {
            let stem = &name[..name.len() - suffix];
            let clean = !stem.is_empty()
                && !HOUSE_WORDS.iter().any(|w| name.contains(w))
                && !ROAD_SUFFIXES.iter().any(|w| stem.contains(w));
            return clean.then_some(stop);
        }
    }
    None
}

/// Returns the byte length of `suffix` when `name` ends with it.
fn suffix(name: &str, suffixes: &[&str]) -> Option<usize> {
    suffixes
        .iter()
        .find(|s| name.ends_with(*s))
        .map(|s| s.len())
}

fn city_end(name: &str, after: &str) -> Option<usize> {
    // 杭州市: the 州 is part of the name when 市 follows.
    if name.ends_with('州') && after.starts_with('市') {
        return None;
    }
    suffix(name, &["市", "盟", "地区", "州"])
}

fn district_end(name: &str, after: &str) -> Option<usize> {
    if NOT_DISTRICTS.iter().any(|w| name.ends_with(w)) {
        return None;
    }
    // 自治县 / 自治旗: wait for the suffix, not an earlier 区 in 新区…
    if after.starts_with(['区', '县', '旗']) {
        return None;
    }
    suffix(name, &["区", "县", "旗", "市"])
}

fn township_end(name: &str, _after: &str) -> Option<usize> {
    suffix(name, &["街道", "镇", "乡", "苏木"])
}

/// ASCII or full-width digit.
pub(crate) fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// The road name at the start of `s`, without its number: `深南大道10000号` →
/// `深南大道`, `人民南路四段9号` → `人民南路`. `None` when `s` does not start with a
/// plain road name.
pub(crate) fn road_name(s: &str) -> Option<String> {
    let s = s.trim();
    let prefix = s.find(is_digit).map_or(s, |i| &s[..i]);
    let end = ROAD_SUFFIXES
        .iter()
        .filter_map(|suf| prefix.rfind(suf).map(|i| i + suf.len()))
        .max()?;
    let road = &prefix[..end];
    let chars = road.chars().count();
    let clean = (2..=12).contains(&chars)
        && !HOUSE_WORDS.iter().any(|w| road.contains(w))
        && !road.chars().any(|c| c.is_ascii_alphanumeric());
    clean.then(|| road.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(
        s: &str,
    ) -> (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    ) {
        let p = split(s);
        (p.province, p.city, p.district, p.township, p.rest)
    }

    fn o(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn provinces_cities_districts() {
        assert_eq!(
            parts("浙江省杭州市西湖区文三路478号华星时代广场A座1203室"),
            (
                o("浙江省"),
                o("杭州市"),
                o("西湖区"),
                None,
                "文三路478号华星时代广场A座1203室".into()
            )
        );
        assert_eq!(
            parts("新疆维吾尔自治区乌鲁木齐市天山区解放南路128号3号楼2单元501"),
            (
                o("新疆维吾尔自治区"),
                o("乌鲁木齐市"),
                o("天山区"),
                None,
                "解放南路128号3号楼2单元501".into()
            )
        );
        assert_eq!(
            parts("新疆维吾尔自治区伊犁哈萨克自治州伊宁市解放路12号"),
            (
                o("新疆维吾尔自治区"),
                o("伊犁哈萨克自治州"),
                o("伊宁市"),
                None,
                "解放路12号".into()
            )
        );
        assert_eq!(
            parts("内蒙古自治区呼和浩特市新城区新华大街63号院4号楼1单元602").2,
            o("新城区")
        );
    }

    #[test]
    fn municipalities_and_towns() {
        assert_eq!(
            parts("北京市朝阳区建国路93号万达广场8号楼2208室"),
            (
                o("北京市"),
                None,
                o("朝阳区"),
                None,
                "建国路93号万达广场8号楼2208室".into()
            )
        );
        assert_eq!(parts("上海市浦东新区世纪大道100号").2, o("浦东新区"));
        assert_eq!(
            parts("广东省东莞市长安镇振安中路"),
            (
                o("广东省"),
                o("东莞市"),
                None,
                o("长安镇"),
                "振安中路".into()
            )
        );
        assert_eq!(parts("广东省东莞市南城街道鸿福路200号").3, o("南城街道"));
        assert_eq!(
            parts("浙江省杭州市西湖区留下街道西溪路1008号").3,
            o("留下街道")
        );
        assert_eq!(parts("上海市闵行区虹桥镇申长路988弄").3, o("虹桥镇"));
    }

    #[test]
    fn residential_compounds_are_not_districts() {
        let p = split("广东省东莞市阳光小区3栋");
        assert_eq!(p.district, None);
        assert_eq!(p.rest, "阳光小区3栋");
        // No province, no city: a district word deep in the text is not taken.
        let p = split("幸福里十二栋三单元");
        assert_eq!((p.province, p.city, p.district), (None, None, None));
    }

    #[test]
    fn road_names() {
        assert_eq!(road_name("深南大道10000号"), o("深南大道"));
        assert_eq!(road_name("人民南路四段9号"), o("人民南路"));
        assert_eq!(road_name("北京中路四十五号"), o("北京中路"));
        assert_eq!(road_name("文一西路969号"), o("文一西路"));
        assert_eq!(road_name("淮海中路"), o("淮海中路"));
        assert_eq!(road_name("申长路９８８弄"), o("申长路"));
        assert_eq!(road_name("十二栋三单元"), None);
        assert_eq!(road_name("幸福里三号楼道口"), None);
        assert_eq!(road_name("A座1203室"), None);
        assert_eq!(road_name("中信广场办公楼48楼4801"), None);
    }
}

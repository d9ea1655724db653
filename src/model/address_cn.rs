//! Splitting free-form Chinese addresses at administrative suffixes, and finding
//! the road name in what is left.
//!
//! The splitter is conservative: a level is only recognised inside a short window
//! that holds no digit and no road or building word. Anything it does not
//! recognise stays in the remainder, which masking hides.

/// Province-level divisions, full names first so that the longest match wins.
const PROVINCES: [(&str, &str); 34] = [
    ("北京市", "北京"),
    ("天津市", "天津"),
    ("上海市", "上海"),
    ("重庆市", "重庆"),
    ("河北省", "河北"),
    ("山西省", "山西"),
    ("辽宁省", "辽宁"),
    ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"),
    ("江苏省", "江苏"),
    ("浙江省", "浙江"),
    ("安徽省", "安徽"),
    ("福建省", "福建"),
    ("江西省", "江西"),
    ("山东省", "山东"),
    ("河南省", "河南"),
    ("湖北省", "湖北"),
    ("湖南省", "湖南"),
    ("广东省", "广东"),
    ("海南省", "海南"),
    ("四川省", "四川"),
    ("贵州省", "贵州"),
    ("云南省", "云南"),
    ("陕西省", "陕西"),
    ("甘肃省", "甘肃"),
    ("青海省", "青海"),
    ("台湾省", "台湾"),
    ("内蒙古自治区", "内蒙古"),
    ("广西壮族自治区", "广西"),
    ("西藏自治区", "西藏"),
    ("宁夏回族自治区", "宁夏"),
    ("新疆维吾尔自治区", "新疆"),
    ("香港特别行政区", "香港"),
    ("澳门特别行政区", "澳门"),
];

/// The four municipalities: their province is their city.
const MUNICIPALITIES: [&str; 4] = ["北京市", "天津市", "上海市", "重庆市"];

/// Words that end a road name.
const ROAD_SUFFIXES: [&str; 8] = ["大道", "大街", "胡同", "路", "街", "道", "巷", "弄"];

/// Words that mark a building, unit or room: a candidate holding one is not a
/// road or an administrative name.
const HOUSE_WORDS: [&str; 12] = [
    "号", "栋", "幢", "单元", "室", "楼", "层", "座", "户", "房", "期", "院",
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

/// Splits a free-form Chinese address.
pub(crate) fn split(text: &str) -> CnSplit {
    let mut out = CnSplit::default();
    let mut rest = text.trim();

    if let Some((full, len)) = PROVINCES.iter().find_map(|(full, short)| {
        if rest.starts_with(full) {
            Some((*full, full.len()))
        } else if rest.starts_with(short)
            && !rest[short.len()..].starts_with(['路', '街', '道', '中', '东', '西', '南', '北'])
        {
            Some((*full, short.len()))
        } else {
            None
        }
    }) {
        out.province = Some(full.to_owned());
        rest = &rest[len..];
        if MUNICIPALITIES.contains(&full) {
            // Some people repeat the city or write 市辖区; drop both.
            rest = rest.strip_prefix(full).unwrap_or(rest);
            rest = rest.strip_prefix("市辖区").unwrap_or(rest);
        }
    }
    let municipality = out
        .province
        .as_deref()
        .is_some_and(|p| MUNICIPALITIES.contains(&p));
    if !municipality {
        if let Some(n) = find_level(rest, 12, city_end) {
            out.city = Some(rest[..n].to_owned());
            rest = &rest[n..];
        }
    }
    if let Some(n) = find_level(rest, 10, district_end) {
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

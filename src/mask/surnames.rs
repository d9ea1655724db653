//! Chinese compound surnames (复姓), from the 百家姓 and common modern usage.

/// Compound surnames, each exactly two hanzi.
pub(crate) const COMPOUND_SURNAMES: [&str; 81] = [
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "闻人", "赫连",
    "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔", "申屠", "公羊", "仲孙", "钟离", "宰父",
    "谷梁", "拓跋", "乐正", "壤驷", "漆雕", "司空", "亓官", "司寇", "巫马", "公西", "颛孙", "梁丘",
    "左丘", "东郭", "第五", "鲜于", "闾丘", "子车", "段干", "南门", "东门", "西官", "公良", "公户",
    "公玉", "公仪", "梁丘", "公仲", "公上", "公门", "公山", "公坚", "左人", "羊舌", "微生", "东里",
    "呼衍", "归海", "况后", "有琴", "梁丘", "墨哈", "谯笪", "年爱", "阳佟",
];

/// Common single surnames that also begin a compound surname. A name starting
/// with one of these compounds may be the single surname and a given name (宗政华
/// may be 宗 + 政华), so only the first character is shown.
pub(crate) const COMMON_SINGLE_SURNAMES: [char; 21] = [
    '夏', '万', '闻', '宗', '单', '申', '仲', '钟', '谷', '乐', '巫', '梁', '左', '段', '年', '况',
    '公', '南', '鲜', '归', '阳',
];

#[cfg(test)]
mod tests {
    #[test]
    fn all_two_hanzi() {
        for s in super::COMPOUND_SURNAMES {
            assert_eq!(s.chars().count(), 2, "{s}");
        }
    }
}

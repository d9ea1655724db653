//! ISO 3166-1 alpha-2 country codes.

/// Every officially assigned ISO 3166-1 alpha-2 code, two letters each, sorted.
const CODES: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ\
CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGL\
GMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLR\
LSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPK\
PLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTR\
TTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

/// Returns the upper-cased code when `code` is an assigned alpha-2 code.
pub(crate) fn normalize(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let found = CODES.as_bytes().chunks(2).any(|c| c == code.as_bytes());
    found.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_well_formed() {
        assert_eq!(CODES.len() % 2, 0);
        assert_eq!(CODES.len() / 2, 249, "ISO 3166-1 assigns 249 codes");
        let pairs: Vec<&[u8]> = CODES.as_bytes().chunks(2).collect();
        assert!(pairs.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    }

    #[test]
    fn lookups() {
        for c in ["CN", "hk", " us ", "GB", "JP", "MO", "TW"] {
            assert!(normalize(c).is_some(), "{c}");
        }
        for c in ["UK", "XX", "C", "CHN", "中国", ""] {
            assert!(normalize(c).is_none(), "{c}");
        }
    }
}

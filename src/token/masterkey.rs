//! Master key hygiene: the weak-key rule and the key check value.

use sha2::{Digest, Sha256};

/// The prefix hashed before a key to make its check value.
const CHECK_DOMAIN: &[u8] = b"waybill-redact key check v1";

/// Fewer distinct values than this, among the bytes or among the differences of
/// neighbouring bytes, marks a key as weak. A random key trips it with a
/// probability below 2^-70.
const MIN_DISTINCT: usize = 12;

/// Whether `key` is weak: all zero, repeated bytes, a short repeated pattern, a
/// counting sequence, or anything else with fewer than 12 distinct byte values or
/// fewer than 12 distinct differences between neighbouring bytes.
pub(crate) fn is_weak(key: &[u8; 32]) -> bool {
    let distinct = |values: &mut dyn Iterator<Item = u8>| {
        let mut seen = [false; 256];
        values.for_each(|v| seen[usize::from(v)] = true);
        seen.iter().filter(|&&s| s).count()
    };
    let bytes = distinct(&mut key.iter().copied());
    let steps = distinct(&mut key.windows(2).map(|w| w[1].wrapping_sub(w[0])));
    bytes < MIN_DISTINCT || steps < MIN_DISTINCT
}

/// The key check value: the first 4 bytes of SHA-256(`CHECK_DOMAIN` ‖ key), as
/// 8 lowercase hex digits. It shows a damaged key without revealing the key.
pub(crate) fn check_value(key: &[u8; 32]) -> String {
    let digest = Sha256::new()
        .chain_update(CHECK_DOMAIN)
        .chain_update(key)
        .finalize();
    hex::encode(digest.get(..4).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_patterns_are_caught() {
        let mut one = [0u8; 32];
        one[31] = 1;
        let counting: [u8; 32] = core::array::from_fn(|i| i as u8);
        let pairs: [u8; 32] = core::array::from_fn(|i| if i % 2 == 0 { 0xAB } else { 0xCD });
        let short: [u8; 32] = core::array::from_fn(|i| b"password"[i % 8]);
        for weak in [[0u8; 32], [0xFF; 32], one, counting, pairs, short] {
            assert!(is_weak(&weak), "{weak:02x?}");
        }
        let strong: [u8; 32] = Sha256::digest(b"strong").into();
        assert!(!is_weak(&strong));
    }

    #[test]
    fn check_value_changes_with_any_bit() {
        let key: [u8; 32] = Sha256::digest(b"k").into();
        let kcv = check_value(&key);
        assert_eq!(kcv.len(), 8);
        let mut damaged = key;
        damaged[17] ^= 0x04;
        assert_ne!(check_value(&damaged), kcv);
    }
}

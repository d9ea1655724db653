//! Base45 (RFC 9285): the text encoding that keeps tokens in QR alphanumeric mode.
//!
//! Decoding is table driven and branch-light: the design measured Base45 decoding
//! costing more than the AEAD itself in the first prototype.

/// The RFC 9285 alphabet, which is exactly the QR alphanumeric character set.
const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Marks a byte that is not in the alphabet.
const INVALID: u8 = 0xFF;

/// Value of each byte in the alphabet, or [`INVALID`].
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Why a Base45 text could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base45Error {
    /// A character outside the alphabet.
    Character,
    /// A length of the form 3n + 1, which no byte string encodes to.
    Length,
    /// A group whose value is out of range (over 65535, or over 255 for a final pair).
    Value,
}

/// Appends the Base45 encoding of `bytes` to `out`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    // Work on bytes: pushing `char`s one by one costs more than the arithmetic.
    let mut buf = core::mem::take(out).into_bytes();
    buf.reserve(encoded_len(bytes.len()));
    let digit = |d: u32| ALPHABET.get(d as usize).copied().unwrap_or(b'0');
    let mut chunks = bytes.chunks_exact(2);
    for pair in &mut chunks {
        let n = u32::from(pair[0]) << 8 | u32::from(pair[1]);
        buf.extend_from_slice(&[digit(n % 45), digit(n / 45 % 45), digit(n / 2025)]);
    }
    if let [last] = chunks.remainder() {
        let n = u32::from(*last);
        buf.extend_from_slice(&[digit(n % 45), digit(n / 45)]);
    }
    // Only ASCII was appended to valid UTF-8, so this cannot fail.
    *out = String::from_utf8(buf).unwrap_or_default();
}

/// The number of characters `len` bytes encode to.
pub(crate) const fn encoded_len(len: usize) -> usize {
    len / 2 * 3 + len % 2 * 2
}

/// Decodes Base45 text into bytes.
pub(crate) fn decode(text: &[u8]) -> Result<Vec<u8>, Base45Error> {
    if text.len() % 3 == 1 {
        return Err(Base45Error::Length);
    }
    let mut out = Vec::with_capacity(text.len() / 3 * 2 + 1);
    let mut chunks = text.chunks_exact(3);
    for group in &mut chunks {
        let (c, d, e) = (
            DECODE[usize::from(group[0])],
            DECODE[usize::from(group[1])],
            DECODE[usize::from(group[2])],
        );
        if c >= 45 || d >= 45 || e >= 45 {
            return Err(Base45Error::Character);
        }
        let n = u32::from(c) + u32::from(d) * 45 + u32::from(e) * 2025;
        let n = u16::try_from(n).map_err(|_| Base45Error::Value)?;
        out.extend_from_slice(&n.to_be_bytes());
    }
    if let [c, d] = *chunks.remainder() {
        let (c, d) = (DECODE[usize::from(c)], DECODE[usize::from(d)]);
        if c >= 45 || d >= 45 {
            return Err(Base45Error::Character);
        }
        let n = u32::from(c) + u32::from(d) * 45;
        out.push(u8::try_from(n).map_err(|_| Base45Error::Value)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Examples from RFC 9285, section 4.
    const RFC_VECTORS: &[(&[u8], &str)] = &[
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
        (b"", ""),
    ];

    #[test]
    fn rfc_9285_examples() {
        for (bytes, text) in RFC_VECTORS {
            let mut s = String::new();
            encode_into(bytes, &mut s);
            assert_eq!(&s, text);
            assert_eq!(s.len(), encoded_len(bytes.len()));
            assert_eq!(decode(text.as_bytes()).as_deref(), Ok(*bytes));
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode(b"GGW"), Err(Base45Error::Value)); // 65536
        assert_eq!(decode(b"FGW"), Ok(vec![0xFF, 0xFF])); // 65535
        assert_eq!(decode(b"U5"), Ok(vec![0xFF])); // 255
        assert_eq!(decode(b"V5"), Err(Base45Error::Value)); // 256
        assert_eq!(decode(b"A"), Err(Base45Error::Length));
        assert_eq!(decode(b"aBC"), Err(Base45Error::Character));
        assert_eq!(decode(b"AB\xff"), Err(Base45Error::Character));
    }

    #[test]
    fn the_last_character_is_never_a_space() {
        // Callers rely on this to trim scanned text safely.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for bytes in [&[a, b][..], &[a][..]] {
                    let mut s = String::new();
                    encode_into(bytes, &mut s);
                    assert!(!s.ends_with(' '));
                }
            }
        }
    }

    #[test]
    fn every_byte_pair_round_trips() {
        for a in 0..=255u8 {
            for b in [0u8, 1, 44, 45, 127, 200, 255] {
                let mut s = String::new();
                encode_into(&[a, b, a], &mut s);
                assert_eq!(decode(s.as_bytes()), Ok(vec![a, b, a]));
            }
        }
    }
}

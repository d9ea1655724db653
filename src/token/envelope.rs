//! The token envelope: a clear header (authenticated), then the suite's
//! key-exchange part (a 24-byte nonce for suite 1, a 32-byte encapsulated key
//! for suite 2, the encapsulated key and the 4-byte encrypted sealer id for
//! suite 3), the padded ciphertext and a 16-byte tag; Base45 text with a prefix
//! (`WB3:` for generation 3, suites 1 and 3; `WB2:` for generation 2, suites 1
//! and 2).
//!
//! ```text
//! offset  size  field
//! 0       1     suite (1 or 3; generation 2: 1 or 2)
//! 1       2     key id, big-endian
//! 3       4     zone id, big-endian
//! 7       2     expiry period: ceil(expiry / 28 days), big-endian
//! 9       1     tracking number length n (8..=32)
//! 10      n     tracking number, ASCII
//! 10+n    4     suite 2 only: sealer id
//! h       24|32|36 suite 1: nonce; suite 2: encapsulated key; suite 3:
//!               encapsulated key and encrypted sealer id
//! …       L     ciphertext, L one of the padding buckets
//! …       16    tag
//! ```

use time::OffsetDateTime;

use super::base45;
use super::payload::PAD_BUCKETS;
use super::reader::Reader;
use super::sealers::SealerId;
use super::validity::EXPIRY_PERIOD_SECS;
use crate::token::{MalformedToken, TokenError};
use crate::TrackingNumber;

/// The envelope generation new tokens are sealed in.
pub(crate) const GENERATION: u8 = 3;
/// The previous generation, still opened until its last token has expired.
pub(crate) const GENERATION_2: u8 = 2;
/// The text prefix of generation 3: "WB" and the envelope generation.
pub(crate) const PREFIX: &str = "WB3:";
/// The text prefix of generation 2.
pub(crate) const PREFIX_2: &str = "WB2:";
/// Suite 1: HKDF-SHA256 zone key, XChaCha20-Poly1305 (the carrier seals).
pub(crate) const SUITE_1: u8 = 1;
/// Suite 2 (generation 2 only): HPKE Auth mode to the zone's public key, the
/// sealer id in the clear (a registered seller seals).
pub(crate) const SUITE_2: u8 = 2;
/// Suite 3 (generation 3 only): HPKE Base mode to the zone's public key, the
/// sealer id masked, the seller authenticated by a static-static X25519 secret.
pub(crate) const SUITE_3: u8 = 3;
/// Generation 2's domain string, which starts suite 1's associated data.
pub(crate) const AAD_DOMAIN_2: &[u8] = b"waybill-redact token v2";
/// Generation 3's domain string.
pub(crate) const AAD_DOMAIN_3: &[u8] = b"waybill-redact token v3";
pub(crate) const NONCE_LEN: usize = 24;
/// The encapsulated key of DHKEM(X25519): an X25519 public key.
pub(crate) const ENC_LEN: usize = 32;
/// Suite 3's key-exchange part: the encapsulated key and the encrypted sealer id.
pub(crate) const SUITE_3_KEX_LEN: usize = ENC_LEN + 4;
pub(crate) const TAG_LEN: usize = 16;
/// Largest token text accepted, prefix included: a version 40-L QR code in
/// alphanumeric mode.
pub(crate) const MAX_TEXT_LEN: usize = 4296;

/// The clear part of a token: readable without any key (a sorting machine can
/// read the zone and tracking number), and authenticated when the token is opened.
///
/// It holds no personal data: the tracking number is printed on the label anyway,
/// and the expiry is only given to the 28-day period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    pub(crate) generation: u8,
    pub(crate) suite: u8,
    pub(crate) kid: u16,
    pub(crate) zone: u32,
    pub(crate) expiry_period: u16,
    pub(crate) tracking_number: TrackingNumber,
    pub(crate) sealer: Option<SealerId>,
}

impl TokenHeader {
    /// The envelope generation: 3 (`WB3:`, sealed today) or 2 (`WB2:`, still
    /// opened until its last token has expired).
    pub fn generation(&self) -> u8 {
        self.generation
    }

    /// The cipher suite: 1 (sealed by the carrier), 3 (generation 3: sealed by a
    /// registered seller, who is not named in the clear) or 2 (generation 2:
    /// sealed by a registered seller named in the clear).
    pub fn suite(&self) -> u8 {
        self.suite
    }

    /// The domain string that starts the associated data of this generation.
    pub(crate) fn domain(&self) -> &'static [u8] {
        if self.generation == GENERATION_2 {
            AAD_DOMAIN_2
        } else {
            AAD_DOMAIN_3
        }
    }

    /// The id of the master key the token was sealed with.
    pub fn kid(&self) -> u16 {
        self.kid
    }

    /// The delivery zone the token is bound to.
    pub fn zone(&self) -> u32 {
        self.zone
    }

    /// The latest possible expiry: the end of the 28-day period the exact expiry
    /// (sealed inside) falls in. A token is certainly expired from this time on.
    pub fn expiry_bound(&self) -> OffsetDateTime {
        // At most 65535 × 28 days: always a valid time.
        i64::try_from(self.expiry_bound_unix())
            .ok()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// [`expiry_bound`](Self::expiry_bound) in unix seconds.
    pub fn expiry_bound_unix(&self) -> u64 {
        u64::from(self.expiry_period) * EXPIRY_PERIOD_SECS
    }

    /// The parcel's tracking number.
    pub fn tracking_number(&self) -> &TrackingNumber {
        &self.tracking_number
    }

    /// Suite 2 only: the id of the seller's sealer key that made the token, in
    /// the clear. Suite 3 hides it: only the resolver learns it, when opening.
    pub fn sealer_id(&self) -> Option<SealerId> {
        self.sealer
    }

    /// Appends the header bytes.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let tn = self.tracking_number.as_str().as_bytes();
        out.push(self.suite);
        out.extend_from_slice(&self.kid.to_be_bytes());
        out.extend_from_slice(&self.zone.to_be_bytes());
        out.extend_from_slice(&self.expiry_period.to_be_bytes());
        // A TrackingNumber has at most 32 bytes.
        out.push(u8::try_from(tn.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(tn);
        if let Some(id) = self.sealer {
            out.extend_from_slice(id.as_bytes());
        }
    }
}

/// A sealed token: its text form (what the QR code holds) and its parsed envelope.
///
/// Parsing checks the structure only; [`KeyRing::open`](crate::KeyRing::open)
/// authenticates it. `Debug` shows the header only.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    text: String,
    bytes: Vec<u8>,
    header_len: usize,
    header: TokenHeader,
}

fn malformed(reason: MalformedToken) -> TokenError {
    TokenError::Malformed(reason)
}

impl Token {
    /// Parses token text (from a QR code) without any key.
    ///
    /// # Errors
    /// [`TokenError::Malformed`] for anything that is not a well-formed token,
    /// [`TokenError::UnsupportedSuite`] for a suite this build does not know.
    pub fn parse(text: &str) -> Result<Self, TokenError> {
        if text.len() > MAX_TEXT_LEN {
            return Err(malformed(MalformedToken::TooLong));
        }
        let (generation, body) = if let Some(body) = text.strip_prefix(PREFIX) {
            (GENERATION, body)
        } else {
            let body = text
                .strip_prefix(PREFIX_2)
                .ok_or(malformed(MalformedToken::Prefix))?;
            (GENERATION_2, body)
        };
        let bytes =
            base45::decode(body.as_bytes()).map_err(|_| malformed(MalformedToken::Base45))?;
        let (header, header_len) = parse_envelope(generation, &bytes)?;
        Ok(Self {
            text: text.to_owned(),
            bytes,
            header_len,
            header,
        })
    }

    /// Reads only the clear header of token text, without any key.
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn parse_header(text: &str) -> Result<TokenHeader, TokenError> {
        Self::parse(text).map(|t| t.header)
    }

    /// Builds a token from its envelope bytes.
    #[cfg(test)]
    pub(crate) fn from_bytes(generation: u8, bytes: Vec<u8>) -> Result<Self, TokenError> {
        let (header, header_len) = parse_envelope(generation, &bytes)?;
        Ok(Self::from_parts(bytes, header_len, header))
    }

    /// Builds a token from envelope bytes the sealer just wrote under `header`.
    pub(crate) fn from_parts(bytes: Vec<u8>, header_len: usize, header: TokenHeader) -> Self {
        let prefix = if header.generation == GENERATION_2 {
            PREFIX_2
        } else {
            PREFIX
        };
        let mut text = String::with_capacity(prefix.len() + base45::encoded_len(bytes.len()));
        text.push_str(prefix);
        base45::encode_into(&bytes, &mut text);
        Self {
            text,
            bytes,
            header_len,
            header,
        }
    }

    /// The text form, as put in the QR code.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The clear header.
    pub fn header(&self) -> &TokenHeader {
        &self.header
    }

    /// The envelope bytes (before Base45).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The envelope split into header bytes, the suite's nonce, encapsulated
    /// key (suite 2) or encapsulated key and encrypted sealer id (suite 3), the
    /// ciphertext and the tag. The parser checked every length.
    pub(crate) fn parts(&self) -> (&[u8], &[u8], &[u8], &[u8]) {
        fn split(b: &[u8], n: usize) -> (&[u8], &[u8]) {
            b.split_at(n.min(b.len()))
        }
        let (header, rest) = split(&self.bytes, self.header_len);
        let (kex, rest) = split(rest, kex_len(self.header.suite));
        let (ciphertext, tag) = split(rest, rest.len().saturating_sub(TAG_LEN));
        (header, kex, ciphertext, tag)
    }
}

/// The length of the part between header and ciphertext.
const fn kex_len(suite: u8) -> usize {
    match suite {
        SUITE_2 => ENC_LEN,
        SUITE_3 => SUITE_3_KEX_LEN,
        _ => NONCE_LEN,
    }
}

/// Hashes the token's text, which determines the rest.
impl core::hash::Hash for Token {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl core::fmt::Display for Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.text)
    }
}

impl core::fmt::Debug for Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Token")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl core::str::FromStr for Token {
    type Err = TokenError;
    fn from_str(s: &str) -> Result<Self, TokenError> {
        Self::parse(s)
    }
}

/// Parses the envelope, returning the header and its length in bytes.
/// Generation 2 has suites 1 and 2; generation 3 has suites 1 and 3.
fn parse_envelope(generation: u8, bytes: &[u8]) -> Result<(TokenHeader, usize), TokenError> {
    let truncated = |_| malformed(MalformedToken::Truncated);
    let mut r = Reader::new(bytes);
    let suite = r.u8().map_err(truncated)?;
    let seller_suite = if generation == GENERATION_2 {
        SUITE_2
    } else {
        SUITE_3
    };
    if suite != SUITE_1 && suite != seller_suite {
        return Err(TokenError::UnsupportedSuite { suite });
    }
    let kid = r.u16().map_err(truncated)?;
    let zone = r.u32().map_err(truncated)?;
    let expiry_period = r.u16().map_err(truncated)?;
    if expiry_period == 0 {
        return Err(malformed(MalformedToken::Expiry));
    }
    let tn_bytes = r.bytes_u8().map_err(truncated)?;
    let tracking_number = core::str::from_utf8(tn_bytes)
        .ok()
        .and_then(|s| s.parse::<TrackingNumber>().ok())
        .filter(|t| t.as_str().as_bytes() == tn_bytes)
        .ok_or(malformed(MalformedToken::TrackingNumber))?;
    let sealer = if suite == SUITE_2 {
        Some(SealerId::from_bytes(r.array().map_err(truncated)?))
    } else {
        None
    };
    let header_len = bytes.len() - r.remaining();
    r.take(kex_len(suite)).map_err(truncated)?;
    // Shorter than a tag is truncated; any other length that is not a bucket
    // and a tag, shorter or longer than the first bucket, is a ciphertext length
    // error (as the "ciphertext not a bucket" vector says).
    let sealed = r.remaining();
    if sealed < TAG_LEN {
        return Err(malformed(MalformedToken::Truncated));
    }
    if !PAD_BUCKETS.contains(&(sealed - TAG_LEN)) {
        return Err(malformed(MalformedToken::CiphertextLength));
    }
    let header = TokenHeader {
        generation,
        suite,
        kid,
        zone,
        expiry_period,
        tracking_number,
        sealer,
    };
    Ok((header, header_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> TokenHeader {
        TokenHeader {
            generation: GENERATION,
            suite: SUITE_1,
            kid: 258,
            zone: 755021,
            expiry_period: 744,
            tracking_number: "SF1234567890123".parse().unwrap(),
            sealer: None,
        }
    }

    fn envelope(h: &TokenHeader) -> Vec<u8> {
        let mut bytes = Vec::new();
        h.write(&mut bytes);
        bytes.resize(bytes.len() + kex_len(h.suite) + PAD_BUCKETS[0] + TAG_LEN, 0);
        bytes
    }

    #[test]
    fn header_layout_is_big_endian() {
        let mut out = Vec::new();
        header().write(&mut out);
        assert_eq!(
            &out[..11],
            &[1, 1, 2, 0x00, 0x0B, 0x85, 0x4D, 0x02, 0xE8, 15, b'S']
        );
        assert_eq!(out.len(), 10 + 15);
        let mut h2 = header();
        h2.suite = SUITE_2;
        h2.sealer = Some(SealerId::from_bytes([9, 8, 7, 6]));
        let mut out = Vec::new();
        h2.write(&mut out);
        assert_eq!(&out[25..], &[9, 8, 7, 6]);
        assert_eq!(header().expiry_bound_unix(), 744 * 28 * 86_400);
    }

    #[test]
    fn parses_its_own_layout_and_rejects_short_ones() {
        let mut bytes = envelope(&header());
        let t = Token::from_bytes(GENERATION, bytes.clone()).unwrap();
        assert_eq!(t.header(), &header());
        assert!(t.as_str().starts_with(PREFIX));
        assert_eq!(Token::parse(t.as_str()).unwrap(), t);
        let (h, kex, ct, tag) = t.parts();
        assert_eq!((h.len(), kex.len(), ct.len(), tag.len()), (25, 24, 192, 16));
        bytes.push(0);
        assert_eq!(
            Token::from_bytes(GENERATION, bytes.clone()).unwrap_err(),
            malformed(MalformedToken::CiphertextLength)
        );
        let mut short = envelope(&header());
        short.pop();
        assert_eq!(
            Token::from_bytes(GENERATION, short).unwrap_err(),
            malformed(MalformedToken::CiphertextLength)
        );
        bytes.truncate(60);
        assert_eq!(
            Token::from_bytes(GENERATION, bytes).unwrap_err(),
            malformed(MalformedToken::Truncated)
        );
        let mut v2 = header();
        v2.generation = GENERATION_2;
        let t2 = Token::from_bytes(GENERATION_2, envelope(&v2)).unwrap();
        assert!(t2.as_str().starts_with(PREFIX_2));
        assert_eq!(Token::parse(t2.as_str()).unwrap().header(), &v2);
        assert_eq!(
            Token::parse("WB1:00").unwrap_err(),
            malformed(MalformedToken::Prefix)
        );
        assert_eq!(
            Token::parse("WB2:0").unwrap_err(),
            malformed(MalformedToken::Base45)
        );
    }

    #[test]
    fn rejects_unknown_suite_bad_tracking_number_and_zero_expiry() {
        let bytes = envelope(&header());
        // Suite 2 belongs to generation 2 only, suite 3 to generation 3 only.
        let mut other = bytes.clone();
        other[0] = SUITE_2;
        assert_eq!(
            Token::from_bytes(GENERATION, other).unwrap_err(),
            TokenError::UnsupportedSuite { suite: 2 }
        );
        let mut other = bytes.clone();
        other[0] = SUITE_3;
        assert_eq!(
            Token::from_bytes(GENERATION_2, other).unwrap_err(),
            TokenError::UnsupportedSuite { suite: 3 }
        );
        let mut other = bytes.clone();
        other[0] = 4;
        assert_eq!(
            Token::from_bytes(GENERATION, other).unwrap_err(),
            TokenError::UnsupportedSuite { suite: 4 }
        );
        let mut lower = bytes.clone();
        lower[10] = b's'; // lower case is not canonical
        assert_eq!(
            Token::from_bytes(GENERATION, lower).unwrap_err(),
            malformed(MalformedToken::TrackingNumber)
        );
        let mut zero = bytes;
        zero[7..9].copy_from_slice(&[0, 0]);
        assert_eq!(
            Token::from_bytes(GENERATION, zero).unwrap_err(),
            malformed(MalformedToken::Expiry)
        );
    }

    /// `docs/TOKEN.md`, "Parse order": when an input breaks several rules, the
    /// first in the page's order is the one reported.
    #[test]
    fn parse_errors_come_in_the_pages_order() {
        let text = |bytes: &[u8]| {
            let mut t = PREFIX.to_owned();
            base45::encode_into(bytes, &mut t);
            t
        };
        // Too long wins over a wrong prefix and bad Base45.
        assert_eq!(
            Token::parse(&"x".repeat(MAX_TEXT_LEN + 1)).unwrap_err(),
            malformed(MalformedToken::TooLong)
        );
        // A wrong prefix wins over bad Base45.
        assert_eq!(
            Token::parse("WB9:0").unwrap_err(),
            malformed(MalformedToken::Prefix)
        );
        assert_eq!(
            Token::parse("wb3:00").unwrap_err(),
            malformed(MalformedToken::Prefix)
        );
        // An unknown suite wins over a zero period, a bad tracking number and a
        // short envelope.
        let mut all_bad = envelope(&header());
        all_bad[0] = 9;
        all_bad[7..9].copy_from_slice(&[0, 0]);
        all_bad[10] = b's';
        all_bad.truncate(40);
        assert_eq!(
            Token::parse(&text(&all_bad)).unwrap_err(),
            TokenError::UnsupportedSuite { suite: 9 }
        );
        // Then the period, then the tracking number, then the lengths.
        all_bad[0] = SUITE_1;
        assert_eq!(
            Token::parse(&text(&all_bad)).unwrap_err(),
            malformed(MalformedToken::Expiry)
        );
        all_bad[7..9].copy_from_slice(&[0x02, 0xe8]);
        assert_eq!(
            Token::parse(&text(&all_bad)).unwrap_err(),
            malformed(MalformedToken::TrackingNumber)
        );
        all_bad[10] = b'S';
        assert_eq!(
            Token::parse(&text(&all_bad)).unwrap_err(),
            malformed(MalformedToken::Truncated)
        );
        // A suite byte alone: truncated, not an unknown suite of nothing.
        assert_eq!(
            Token::parse(&text(&[])).unwrap_err(),
            malformed(MalformedToken::Truncated)
        );
        // Surrounding white space is the caller's to trim: the parser refuses it.
        let good = Token::from_bytes(GENERATION, envelope(&header())).unwrap();
        assert_eq!(
            Token::parse(&format!(" {}", good.as_str())).unwrap_err(),
            malformed(MalformedToken::Prefix)
        );
        assert_eq!(
            Token::parse(&format!("{}\n", good.as_str())).unwrap_err(),
            malformed(MalformedToken::Base45)
        );
    }
}

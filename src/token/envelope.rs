//! The token envelope: a clear header (authenticated as associated data), a
//! 24-byte nonce, the ciphertext and a 16-byte tag; Base45 text with a prefix.
//!
//! ```text
//! offset  size  field
//! 0       1     suite (1)
//! 1       2     key id, big-endian
//! 3       4     zone id, big-endian
//! 7       8     expiry, unix seconds, big-endian
//! 15      1     tracking number length n (8..=32)
//! 16      n     tracking number, ASCII
//! 16+n    24    nonce
//! 40+n    ≥16   ciphertext ‖ tag
//! ```

use time::OffsetDateTime;

use super::base45;
use super::reader::Reader;
use crate::error::TokenError;
use crate::TrackingNumber;

/// The text prefix: "WB" and the text format version.
pub(crate) const PREFIX: &str = "WB1:";
/// Suite 1: HKDF-SHA256 zone key, XChaCha20-Poly1305, CBOR payload.
pub(crate) const SUITE_1: u8 = 1;
/// The domain string that starts the associated data.
pub(crate) const AAD_DOMAIN: &[u8] = b"waybill-redact token v1";
pub(crate) const NONCE_LEN: usize = 24;
pub(crate) const TAG_LEN: usize = 16;
/// Largest token text accepted: a version 40-L QR code in alphanumeric mode.
pub(crate) const MAX_TEXT_LEN: usize = 4296;

/// The clear part of a token: readable without any key (a sorting machine can
/// read the zone and tracking number), and authenticated when the token is opened.
///
/// It holds no personal data: the tracking number is printed on the label anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    pub(crate) suite: u8,
    pub(crate) kid: u16,
    pub(crate) zone: u32,
    pub(crate) expires_at: u64,
    pub(crate) tracking_number: TrackingNumber,
}

impl TokenHeader {
    /// The cipher suite (1).
    pub fn suite(&self) -> u8 {
        self.suite
    }

    /// The id of the master key the token was sealed with.
    pub fn kid(&self) -> u16 {
        self.kid
    }

    /// The delivery zone the token is bound to.
    pub fn zone(&self) -> u32 {
        self.zone
    }

    /// When the token stops opening.
    pub fn expires_at(&self) -> OffsetDateTime {
        // The parser only accepts expiries that convert.
        i64::try_from(self.expires_at)
            .ok()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The expiry in unix seconds.
    pub fn expires_at_unix(&self) -> u64 {
        self.expires_at
    }

    /// The parcel's tracking number.
    pub fn tracking_number(&self) -> &TrackingNumber {
        &self.tracking_number
    }

    /// Appends the header bytes.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let tn = self.tracking_number.as_str().as_bytes();
        out.push(self.suite);
        out.extend_from_slice(&self.kid.to_be_bytes());
        out.extend_from_slice(&self.zone.to_be_bytes());
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        // A TrackingNumber has at most 32 bytes.
        out.push(u8::try_from(tn.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(tn);
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

fn malformed(reason: &'static str) -> TokenError {
    TokenError::Malformed { reason }
}

impl Token {
    /// Parses token text (from a QR code) without any key.
    ///
    /// # Errors
    /// [`TokenError::Malformed`] for anything that is not a well-formed token,
    /// [`TokenError::UnsupportedSuite`] for a suite this build does not know.
    pub fn parse(text: &str) -> Result<Self, TokenError> {
        let body = text
            .strip_prefix(PREFIX)
            .ok_or(malformed("missing WB1: prefix"))?;
        if body.len() > MAX_TEXT_LEN {
            return Err(malformed("too long"));
        }
        let bytes = base45::decode(body.as_bytes()).map_err(|_| malformed("invalid Base45"))?;
        let (header, header_len) = parse_envelope(&bytes)?;
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
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Result<Self, TokenError> {
        let (header, header_len) = parse_envelope(&bytes)?;
        Ok(Self::from_parts(bytes, header_len, header))
    }

    /// Builds a token from envelope bytes the sealer just wrote under `header`.
    pub(crate) fn from_parts(bytes: Vec<u8>, header_len: usize, header: TokenHeader) -> Self {
        let mut text = String::with_capacity(PREFIX.len() + base45::encoded_len(bytes.len()));
        text.push_str(PREFIX);
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

    /// The envelope split into header bytes, nonce and ciphertext with tag.
    pub(crate) fn parts(&self) -> (&[u8], &[u8], &[u8]) {
        let (header, rest) = self.bytes.split_at(self.header_len.min(self.bytes.len()));
        let (nonce, sealed) = rest.split_at(NONCE_LEN.min(rest.len()));
        (header, nonce, sealed)
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
fn parse_envelope(bytes: &[u8]) -> Result<(TokenHeader, usize), TokenError> {
    let truncated = |_| malformed("truncated");
    let mut r = Reader::new(bytes);
    let suite = r.u8().map_err(truncated)?;
    if suite != SUITE_1 {
        return Err(TokenError::UnsupportedSuite { suite });
    }
    let kid = r.u16().map_err(truncated)?;
    let zone = r.u32().map_err(truncated)?;
    let expires_at = r.u64().map_err(truncated)?;
    if i64::try_from(expires_at)
        .ok()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .is_none()
    {
        return Err(malformed("expiry out of range"));
    }
    let tn_bytes = r.bytes_u8().map_err(truncated)?;
    let tracking_number = core::str::from_utf8(tn_bytes)
        .ok()
        .and_then(|s| s.parse::<TrackingNumber>().ok())
        .filter(|t| t.as_str().as_bytes() == tn_bytes)
        .ok_or(malformed("invalid tracking number"))?;
    let header_len = bytes.len() - r.remaining();
    r.take(NONCE_LEN).map_err(truncated)?;
    if r.remaining() < TAG_LEN {
        return Err(malformed("truncated"));
    }
    // The ciphertext runs to the end: nothing can trail it.
    r.take(r.remaining()).map_err(truncated)?;
    r.finish().map_err(|_| malformed("trailing bytes"))?;
    let header = TokenHeader {
        suite,
        kid,
        zone,
        expires_at,
        tracking_number,
    };
    Ok((header, header_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> TokenHeader {
        TokenHeader {
            suite: SUITE_1,
            kid: 258,
            zone: 755021,
            expires_at: 1_800_000_000,
            tracking_number: "SF1234567890123".parse().unwrap(),
        }
    }

    #[test]
    fn header_layout_is_big_endian() {
        let mut out = Vec::new();
        header().write(&mut out);
        assert_eq!(&out[..7], &[1, 1, 2, 0x00, 0x0B, 0x85, 0x4D]);
        assert_eq!(out[15], 15);
        assert_eq!(out.len(), 16 + 15);
    }

    #[test]
    fn parses_its_own_layout_and_rejects_short_ones() {
        let mut bytes = Vec::new();
        header().write(&mut bytes);
        bytes.extend_from_slice(&[0; NONCE_LEN + TAG_LEN]);
        let t = Token::from_bytes(bytes.clone()).unwrap();
        assert_eq!(t.header(), &header());
        assert!(t.as_str().starts_with(PREFIX));
        assert_eq!(Token::parse(t.as_str()).unwrap(), t);
        bytes.pop();
        assert_eq!(
            Token::from_bytes(bytes).unwrap_err(),
            malformed("truncated")
        );
        assert_eq!(
            Token::parse("WB2:00").unwrap_err(),
            malformed("missing WB1: prefix")
        );
        assert_eq!(
            Token::parse("WB1:0").unwrap_err(),
            malformed("invalid Base45")
        );
    }

    #[test]
    fn rejects_unknown_suite_and_bad_tracking_number() {
        let mut bytes = Vec::new();
        header().write(&mut bytes);
        bytes.extend_from_slice(&[0; NONCE_LEN + TAG_LEN]);
        let mut other = bytes.clone();
        other[0] = 2;
        assert_eq!(
            Token::from_bytes(other).unwrap_err(),
            TokenError::UnsupportedSuite { suite: 2 }
        );
        bytes[16] = b's'; // lower case is not canonical
        assert_eq!(
            Token::from_bytes(bytes).unwrap_err(),
            malformed("invalid tracking number")
        );
    }
}

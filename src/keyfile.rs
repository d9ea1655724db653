//! What the issuer, audit, device and sealer keys share: the owner-only JSON key
//! file (`format`, the 32-byte `secret` in hex, the `public` key's text) and the
//! public key's text form, a prefix such as `WI1:` and 64 hex digits. Each key
//! type maps these reasons to its own error.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    secret: String,
    public: String,
}

/// Why a key file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFileError {
    /// Not JSON of the key file's shape.
    NotAKeyFile,
    /// Another `format`.
    UnknownFormat,
    /// The secret is not 64 hex digits.
    Secret,
}

impl KeyFileError {
    /// The reason as text, `not_a_file` naming the expected key file for
    /// [`KeyFileError::NotAKeyFile`].
    pub(crate) fn reason(self, not_a_file: &'static str) -> &'static str {
        match self {
            Self::NotAKeyFile => not_a_file,
            Self::UnknownFormat => "unknown format",
            Self::Secret => "the secret is not 64 hex digits",
        }
    }
}

/// A key file's text.
pub(crate) fn to_json(format: &str, secret: &[u8], public: String) -> Zeroizing<String> {
    let file = KeyFile {
        format: format.into(),
        secret: hex::encode(secret),
        public,
    };
    Zeroizing::new(serde_json::to_string_pretty(&file).unwrap_or_default())
}

/// A key file's secret and its public key's text; the caller checks that the two
/// match.
pub(crate) fn from_json(
    text: &str,
    format: &str,
) -> Result<(Zeroizing<[u8; 32]>, Zeroizing<String>), KeyFileError> {
    let mut file: KeyFile = serde_json::from_str(text).map_err(|_| KeyFileError::NotAKeyFile)?;
    if file.format != format {
        return Err(KeyFileError::UnknownFormat);
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(&file.secret, secret.as_mut_slice()).map_err(|_| KeyFileError::Secret)?;
    Ok((secret, Zeroizing::new(core::mem::take(&mut file.public))))
}

/// The 32 bytes of a public key's text (`prefix` and 64 hex digits, surrounding
/// white space ignored); `None` when it is not that.
pub(crate) fn public_bytes(text: &str, prefix: &str) -> Option<[u8; 32]> {
    let hex_text = text.trim().strip_prefix(prefix)?;
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut bytes).ok()?;
    Some(bytes)
}

/// The public key's text in a key file (text starting with `{`), or `text`
/// itself; `None` for JSON without a `public` string.
pub(crate) fn public_text(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return Some(trimmed.to_owned());
    }
    #[derive(Deserialize)]
    struct Public {
        public: String,
    }
    serde_json::from_str::<Public>(trimmed)
        .ok()
        .map(|p| p.public)
}

/// 32 bytes from the OS random source; `None` when it fails.
pub(crate) fn random_secret() -> Option<Zeroizing<[u8; 32]>> {
    let mut secret = Zeroizing::new([0u8; 32]);
    getrandom::fill(secret.as_mut_slice()).ok()?;
    Some(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_round_trips_and_refuses_what_it_should() {
        let json = to_json("test key v1", &[7; 32], "WT1:ab".into());
        let (secret, public) = from_json(&json, "test key v1").unwrap();
        assert_eq!((*secret, public.as_str()), ([7; 32], "WT1:ab"));
        assert_eq!(public_text(&json).as_deref(), Some("WT1:ab"));
        assert_eq!(
            from_json(&json, "test key v2").unwrap_err(),
            KeyFileError::UnknownFormat
        );
        assert_eq!(
            from_json("{}", "test key v1").unwrap_err(),
            KeyFileError::NotAKeyFile
        );
        let short = json.replace(&"07".repeat(32), "07");
        assert_eq!(
            from_json(&short, "test key v1").unwrap_err(),
            KeyFileError::Secret
        );
        let text = format!(" WT1:{} ", "0a".repeat(32));
        assert_eq!(public_bytes(&text, "WT1:"), Some([10; 32]));
        assert_eq!(public_bytes(&text, "WX1:"), None);
        assert_eq!(public_bytes("WT1:0a", "WT1:"), None);
        assert_eq!(public_text("{\"x\": 1}"), None);
    }
}

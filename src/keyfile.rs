//! What the issuer, audit, witness, device and sealer keys share: the
//! owner-only JSON key file (`format`, the 32-byte `secret` in hex, the `public`
//! key's text) and the public key's text form, a prefix such as `WI1:` and 64
//! hex digits. Each key type maps these reasons to its own error.
//!
//! And the one way every secret key file (those and the carrier's key ring) is
//! read: [`read_secret_key_file`], which refuses a file group or others may
//! open, as OpenSSH refuses an unprotected private key.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The most bytes a secret key file may hold: a key file is about 200 bytes, a
/// key ring of many keys well under this.
pub const MAX_SECRET_KEY_FILE_BYTES: u64 = 1024 * 1024;

/// Why a secret key file was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileReadError {
    /// It could not be opened or read (missing, not UTF-8, …). Check the path.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// Group or others may read or write it (Unix). Make it owner-only with
    /// `chmod 600`, and think about whether the key has leaked.
    #[error(
        "{}: {} by group or others (mode {mode:03o}): a secret key file must be owner-only; \
         chmod 600 {}",
        path.display(),
        if mode & 0o044 != 0 { "readable" } else { "writable" },
        path.display()
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Larger than [`MAX_SECRET_KEY_FILE_BYTES`]: not a key file.
    #[error("{}: larger than a key file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
}

/// Reads a file holding a secret key (an issuer, audit, witness, device or
/// sealer key file, or the carrier's key ring) into a buffer wiped when dropped.
///
/// On Unix the file must be owner-only: one that group or others may read or
/// write (`mode & 0o077 != 0`) is refused before anything is read. The mode is
/// taken from the opened file, so it is the file that is read.
///
/// # Errors
/// [`KeyFileReadError`]: the file cannot be read, is open to group or others,
/// or is larger than [`MAX_SECRET_KEY_FILE_BYTES`].
pub fn read_secret_key_file(path: impl AsRef<Path>) -> Result<Zeroizing<String>, KeyFileReadError> {
    let path = path.as_ref();
    let io = |error| KeyFileReadError::Io {
        path: path.to_owned(),
        error,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileReadError::Exposed {
                path: path.to_owned(),
                mode,
            });
        }
    }
    if meta.len() > MAX_SECRET_KEY_FILE_BYTES {
        return Err(KeyFileReadError::TooLarge {
            path: path.to_owned(),
        });
    }
    // Room for all of it up front: a growing buffer would leave unwiped copies.
    let room = usize::try_from(meta.len()).unwrap_or(0).saturating_add(1);
    let mut text = Zeroizing::new(String::with_capacity(room));
    file.take(MAX_SECRET_KEY_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_SECRET_KEY_FILE_BYTES {
        return Err(KeyFileReadError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(text)
}

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

    #[cfg(unix)]
    #[test]
    fn secret_key_files_must_be_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        std::fs::write(&path, "{\"secret\": 1}").unwrap();
        for (mode, word) in [
            (0o644, "readable"),
            (0o640, "readable"),
            (0o620, "writable"),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = read_secret_key_file(&path).unwrap_err();
            assert!(matches!(e, KeyFileReadError::Exposed { mode: m, .. } if m == mode));
            let text = e.to_string();
            assert!(
                text.contains(&format!("{word} by group or others (mode {mode:o})"))
                    && text.ends_with(&format!("chmod 600 {}", path.display())),
                "{text}"
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            read_secret_key_file(&path).unwrap().as_str(),
            "{\"secret\": 1}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(read_secret_key_file(&path).is_ok());
        let missing = read_secret_key_file(dir.path().join("missing.json")).unwrap_err();
        assert!(matches!(missing, KeyFileReadError::Io { .. }));
        assert!(missing.to_string().contains("missing.json"), "{missing}");
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; 1024 * 1024 + 1]).unwrap();
        std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            read_secret_key_file(&big),
            Err(KeyFileReadError::TooLarge { .. })
        ));
    }

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

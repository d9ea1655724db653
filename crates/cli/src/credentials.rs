//! Keys and credentials for the commands: grants and device keys (read from a file
//! or standard input, never from an argument, and never echoed in an error), the
//! carrier's ring, issuer public keys, the sealer registry, the sealing keys `seal`
//! and `render` share, and tokens read from standard input.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use time::OffsetDateTime;
use waybill_redact::{
    DeviceKey, DevicePublicKey, IssuerPublicKey, KeyRing, PublicSealer, SealerKey, SealerRegistry,
    Token, TokenError, Validity, Waybill, ZoneDirectory,
};
use zeroize::Zeroizing;

use crate::files::{read, read_secret};

/// The most bytes a grant read from a file or standard input may hold. A grant
/// is a few hundred bytes; the rest is room for a long zone list.
pub const MAX_GRANT_BYTES: u64 = 16 * 1024;

/// Reads at most `limit` bytes of UTF-8 from `input`, refusing more before
/// holding them. `what` names the input in errors ("standard input"), `noun`
/// what it should hold ("a token").
pub fn read_limited(
    input: impl Read,
    limit: u64,
    what: &str,
    noun: &str,
) -> Result<Zeroizing<String>, String> {
    // Room for all of it up front: a growing buffer would leave unwiped copies behind.
    let room = usize::try_from(limit.saturating_add(1)).unwrap_or(0);
    let mut bytes = Zeroizing::new(Vec::with_capacity(room));
    input
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("{what} holds more than {limit} bytes: not {noun}"));
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(format!("{what} is not UTF-8: not {noun}")),
    }
}

/// Whether `arg` looks like a grant's text rather than a file name.
fn is_grant_text(arg: &str) -> bool {
    let t = arg.trim_start().as_bytes();
    t.len() >= 4 && t[..2].eq_ignore_ascii_case(b"WG") && t[2].is_ascii_digit() && t[3] == b':'
}

/// The grant named by `--grant FILE|-`: the file's text, or standard input's.
///
/// The grant's text itself is refused as an argument: every user of the machine
/// can read a process's arguments in `/proc/PID/cmdline`. No error repeats the
/// grant.
pub fn read_grant(arg: &str) -> Result<Zeroizing<String>, String> {
    if is_grant_text(arg) {
        return Err(
            "--grant takes a file or `-` (standard input), not the grant's text: \
                    a program's arguments are visible to every user of the machine in \
                    /proc/PID/cmdline. Save the grant to a file (owner-only) or pipe it in"
                .into(),
        );
    }
    let text = if arg == "-" {
        let text = read_limited(
            std::io::stdin().lock(),
            MAX_GRANT_BYTES,
            "standard input",
            "a grant",
        )?;
        crate::note(format_args!(
            "read a grant from standard input ({} bytes)",
            text.len()
        ));
        text
    } else {
        let path = Path::new(arg);
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text = read_limited(
            file,
            MAX_GRANT_BYTES,
            &path.display().to_string(),
            "a grant",
        )?;
        crate::note(format_args!(
            "read a grant from {} ({} bytes)",
            path.display(),
            text.len()
        ));
        text
    };
    Ok(Zeroizing::new(text.trim().to_owned()))
}

/// Parses a grant's text for its id and device, saying what is wrong without
/// repeating it.
#[cfg(feature = "courier")]
pub fn parse_grant(text: &str) -> Result<waybill_redact::Grant, String> {
    waybill_redact::Grant::parse(text)
        .map_err(|e| format!("the grant file does not hold a grant ({e})"))
}

/// Loads a device key file (`courier keygen`'s output).
pub fn load_device_key(path: &Path) -> Result<DeviceKey, String> {
    let key = DeviceKey::from_json(&read_secret(path)?)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    crate::note(format_args!(
        "device key {}: public key {}",
        path.display(),
        key.public_key()
    ));
    Ok(key)
}

/// The text prefixes of the project's keys and credentials, and what each is.
const KINDS: [(&str, &str); 11] = [
    ("WI1:", "an issuer key"),
    ("WW1:", "a witness key"),
    ("WD1:", "a device key"),
    ("WA1:", "an audit key"),
    ("WS1:", "a sealer key"),
    ("WG1:", "a bearer grant"),
    ("WG2:", "a grant"),
    ("WR1:", "a request proof"),
    ("WB1:", "a token"),
    ("WB2:", "a token"),
    ("WB3:", "a token"),
];

/// What `text` is, from its prefix: `("an issuer key", "WI1:")`.
fn kind_of(text: &str) -> Option<(&'static str, &'static str)> {
    let text = text.trim_start();
    KINDS
        .iter()
        .find(|(prefix, _)| text.starts_with(prefix))
        .map(|&(prefix, kind)| (kind, prefix))
}

/// A public key argument: its text (starting with `want`, a prefix of
/// [`KINDS`]) or a file holding it. Another kind of key, given as text or in
/// the file, is named: "expected a device key (WD1:…), got an issuer key (WI1:…)".
/// Returns the text (or the file's content) for the caller to parse.
pub(crate) fn key_text_or_file(flag: &str, arg: &str, want: &str) -> Result<String, String> {
    let wanted = KINDS
        .iter()
        .find(|(prefix, _)| *prefix == want)
        .map_or("a key", |(_, kind)| kind);
    let wrong = |got: &str, prefix: &str, place: &str| {
        format!("{flag}: expected {wanted} ({want}…), got {got} ({prefix}…){place}")
    };
    match kind_of(arg) {
        Some((_, prefix)) if prefix == want => return Ok(arg.trim().to_owned()),
        Some((got, prefix)) => return Err(wrong(got, prefix, "")),
        None => {}
    }
    let text = read(Path::new(arg)).map_err(|e| format!("{flag}: {e}"))?;
    match kind_of(&text) {
        Some((got, prefix)) if prefix != want => Err(wrong(got, prefix, &format!(" in {arg}"))),
        _ => Ok(text),
    }
}

/// `--device-key WD1:…|FILE`: a device public key, or a file holding one (the
/// text `courier keygen` printed, or the device key file itself).
pub fn device_public_key(arg: &str) -> Result<DevicePublicKey, String> {
    let text = Zeroizing::new(key_text_or_file("--device-key", arg, "WD1:")?);
    if text.contains("\"secret\"") {
        // The device's own key file: its secret must not lie open either.
        read_secret(Path::new(arg)).map_err(|e| format!("--device-key {e}"))?;
    }
    let key = DevicePublicKey::from_text_or_file(&text)
        .map_err(|e| format!("--device-key {arg}: {e}"))?;
    crate::note(format_args!("--device-key: device public key {key}"));
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_text_is_told_from_file_names() {
        for text in ["WG1:ABC", "WG2:ABC", " wg2:x", "WG9:"] {
            assert!(is_grant_text(text), "{text}");
        }
        for name in ["grant.txt", "-", "WG", "WG2", "./WG2:x", "WGX:"] {
            assert!(!is_grant_text(name), "{name}");
        }
        let err = read_grant("WG2:SECRETSECRET").unwrap_err();
        assert!(err.contains("/proc/PID/cmdline") && !err.contains("SECRET"));
    }

    #[test]
    fn reading_stops_at_the_limit() {
        let read = |bytes: &[u8]| read_limited(bytes, 3, "input", "a token");
        assert_eq!(read(b"abc").unwrap().as_str(), "abc");
        assert_eq!(
            read(b"abcd").unwrap_err(),
            "input holds more than 3 bytes: not a token"
        );
        assert_eq!(
            read(&[0xff]).unwrap_err(),
            "input is not UTF-8: not a token"
        );
    }
}

pub(crate) fn load_ring(path: &Path) -> Result<KeyRing, String> {
    let ring =
        KeyRing::from_json(&read_secret(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::note(format_args!(
        "key ring {}: key ids {:?}, current {}",
        path.display(),
        ring.kids(),
        ring.current_kid()
    ));
    Ok(ring)
}

/// The most bytes `resolve -` reads from standard input. A token's text is at
/// most 4,300 bytes (a version 40 QR code); the rest is room for white space.
pub const MAX_STDIN_TOKEN_BYTES: u64 = 16 * 1024;

/// Reads a token from `input`, refusing more than [`MAX_STDIN_TOKEN_BYTES`]
/// before holding them.
pub(crate) fn read_token_from(input: impl Read) -> Result<String, String> {
    read_limited(input, MAX_STDIN_TOKEN_BYTES, "standard input", "a token")
        .map(|t| t.as_str().to_owned())
}

/// How `seal` and `render` seal: with the carrier's ring (suite 1), or as a
/// seller or a station with a directory and a sealer key (suite 3).
#[derive(Debug, Args)]
pub struct SealKeys {
    /// The carrier's key ring (suite 1). Carriers that print their own labels.
    #[arg(long, value_name = "RING.json", required_unless_present = "directory")]
    pub ring: Option<PathBuf>,
    /// The carrier's signed zone directory (suite 3): a file, or the URL of its
    /// resolver's `/v1/directory` (https://…; fetched, verified against
    /// --carrier, and cached while the service allows and never past its
    /// expiry; fetching needs the `fetch` feature). Sellers and stations.
    #[arg(long, value_name = "FILE|URL", conflicts_with = "ring", requires_all = ["sealer", "carrier"])]
    pub directory: Option<String>,
    /// Where to cache a directory fetched from a URL (default: the user's cache
    /// folder, `$XDG_CACHE_HOME/waybill-redact/` or `~/.cache/waybill-redact/`).
    #[arg(long, value_name = "FILE", requires = "directory")]
    pub directory_cache: Option<PathBuf>,
    /// The seller's sealer key file (with --directory).
    #[arg(long, value_name = "SELLER.json", requires = "directory")]
    pub sealer: Option<PathBuf>,
    /// The carrier's issuer public key (`WI1:…` or a file holding it), which the
    /// directory must be signed with (with --directory).
    #[arg(long, value_name = "WI1:…", requires = "directory")]
    pub carrier: Option<String>,
}

/// A loaded way to seal.
pub enum Sealing {
    /// Suite 1, with the carrier's ring.
    Ring(KeyRing),
    /// Suite 3, as a seller or a station.
    Public(Box<PublicSealer>),
}

impl Sealing {
    /// Seals one waybill.
    pub fn seal(&self, waybill: &Waybill, validity: &Validity) -> Result<Token, TokenError> {
        match self {
            Self::Ring(ring) => ring.seal(waybill, validity),
            Self::Public(sealer) => sealer.seal(waybill, validity),
        }
    }
}

impl SealKeys {
    /// Loads the ring, or verifies the directory and loads the sealer key.
    pub fn load(&self, now: OffsetDateTime) -> Result<Sealing, String> {
        match (&self.ring, &self.directory, &self.sealer, &self.carrier) {
            (Some(ring), None, _, _) => load_ring(ring).map(Sealing::Ring),
            (None, Some(dir), Some(sealer), Some(carrier)) => {
                let carrier = public_key_arg("--carrier", carrier)?;
                let directory = if crate::directory_fetch::is_url(dir) {
                    crate::directory_fetch::load(
                        dir,
                        self.directory_cache.as_deref(),
                        &carrier,
                        now,
                    )?
                } else {
                    if self.directory_cache.is_some() {
                        return Err(
                            "--directory-cache goes with --directory URL, not a file".into()
                        );
                    }
                    ZoneDirectory::from_json(&read(Path::new(dir))?, &carrier, now)
                        .map_err(|e| format!("{dir}: zone directory: {e}"))?
                };
                let key = SealerKey::from_json(&read_secret(sealer)?)
                    .map_err(|e| format!("{}: {e}", sealer.display()))?;
                crate::note(format_args!(
                    "zone directory {}: key id {}, {} zones; sealer key {}: sealer id {}",
                    dir,
                    directory.kid(),
                    directory.zones().count(),
                    sealer.display(),
                    key.public_key().id()
                ));
                Ok(Sealing::Public(Box::new(PublicSealer::new(directory, key))))
            }
            _ => Err("give --ring, or --directory with --sealer and --carrier".into()),
        }
    }
}

/// A `WI1:` key given as text or in a file (a public key only: an issuer's
/// secret file is refused, it belongs on neither a seller's machine nor a
/// resolver host). `flag` names the argument in errors.
pub(crate) fn public_key_arg(flag: &str, arg: &str) -> Result<IssuerPublicKey, String> {
    let text = key_text_or_file(flag, arg, "WI1:")?;
    if text.contains("\"secret\"") {
        return Err(format!(
            "{flag} {arg}: holds the issuer's secret; give only its public key (WI1:…, \
             printed by `issuer new`)"
        ));
    }
    let key: IssuerPublicKey = text.trim().parse().map_err(|e| format!("{flag}: {e}"))?;
    crate::note(format_args!("{flag}: issuer public key {key}"));
    Ok(key)
}

/// Reads the registry `resolve --sealers` uses.
pub fn registry(path: &Path) -> Result<SealerRegistry, String> {
    SealerRegistry::from_json(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

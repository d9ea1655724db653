//! Suite 2 on the command line: `keys publish` (the carrier's zone directory),
//! `sealer new|register|revoke`, and the sealing keys `seal` and `render` share.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use time::{Duration, OffsetDateTime};
use waybill_redact::{
    IssuerKey, IssuerPublicKey, KeyRing, PublicSealer, SealerId, SealerKey, SealerPublicKey,
    SealerRegistry, Token, TokenError, Validity, Waybill, ZoneDirectory,
};

use crate::token_cmd::{fail, load_ring, read, read_secret, write_secret};

/// `sealer` subcommands.
#[derive(Debug, Subcommand)]
pub enum SealerCommand {
    /// Create a seller's sealer key file (refuses to overwrite); prints its
    /// public key (`WS1:…`) for the carrier to register.
    New {
        /// Where to write the sealer key (JSON, owner-only permissions).
        #[arg(long, value_name = "SELLER.json")]
        out: PathBuf,
    },
    /// Register a seller's public key in the carrier's sealer registry (created
    /// if missing); prints the sealer id.
    Register {
        /// The sealer registry file.
        #[arg(long, value_name = "SEALERS.json")]
        registry: PathBuf,
        /// The seller's public key, `WS1:` and 64 hex digits.
        #[arg(long, value_name = "WS1:…")]
        key: String,
    },
    /// Revoke a sealer: its tokens are denied from now on.
    Revoke {
        /// The sealer registry file.
        #[arg(long, value_name = "SEALERS.json")]
        registry: PathBuf,
        /// The sealer id (8 hex digits) or its `WS1:` public key.
        #[arg(long, value_name = "ID")]
        id: String,
    },
}

/// `keys publish` arguments.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The key ring file: the directory lists its current key's zone public keys.
    #[arg(long, value_name = "RING.json")]
    ring: PathBuf,
    /// The issuer key file that signs the directory.
    #[arg(long, value_name = "ISSUER.json")]
    issuer: PathBuf,
    /// Zone ids, comma-separated, or a file of zone ids (separated by commas,
    /// spaces or new lines).
    #[arg(long, value_name = "ZONES")]
    zones: String,
    /// Days the directory is valid, from now.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u16).range(1..=3650))]
    days: u16,
    /// Where to write the directory (JSON, public).
    #[arg(long, value_name = "DIRECTORY.json")]
    out: PathBuf,
}

/// How `seal` and `render` seal: with the carrier's ring (suite 1), or as a
/// seller with a directory and a sealer key (suite 2).
#[derive(Debug, Args)]
pub struct SealKeys {
    /// The carrier's key ring (suite 1). Carriers that print their own labels.
    #[arg(long, value_name = "RING.json", required_unless_present = "directory")]
    pub ring: Option<PathBuf>,
    /// The carrier's signed zone directory (suite 2). Sellers.
    #[arg(long, value_name = "DIRECTORY.json", conflicts_with = "ring", requires_all = ["sealer", "carrier"])]
    pub directory: Option<PathBuf>,
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
    /// Suite 2, as a seller.
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
                let directory = ZoneDirectory::from_json(&read(dir)?, &carrier, now)
                    .map_err(|e| format!("{}: zone directory: {e}", dir.display()))?;
                let key = SealerKey::from_json(&read_secret(sealer)?)
                    .map_err(|e| format!("{}: {e}", sealer.display()))?;
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
    let text = if arg.trim_start().starts_with("WI1:") {
        arg.to_owned()
    } else {
        read(Path::new(arg))?
    };
    if text.contains("\"secret\"") {
        return Err(format!(
            "{flag} {arg}: holds the issuer's secret; give only its public key (WI1:…, \
             printed by `issuer new`)"
        ));
    }
    text.trim().parse().map_err(|e| format!("{flag}: {e}"))
}

/// Reads zone ids from the argument, or from the file it names.
fn zones(arg: &str) -> Result<Vec<u32>, String> {
    let parse = |text: &str| -> Option<Vec<u32>> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().ok())
            .collect()
    };
    if let Some(list) = parse(arg) {
        return Ok(list);
    }
    parse(&read(Path::new(arg))?).ok_or(format!("{arg}: expected zone ids (0 to 4294967295)"))
}

/// `keys publish`.
pub fn publish(args: PublishArgs) -> ExitCode {
    let result = (|| -> Result<String, String> {
        let ring = load_ring(&args.ring)?;
        let issuer = IssuerKey::from_json(&read_secret(&args.issuer)?)
            .map_err(|e| format!("{}: {e}", args.issuer.display()))?;
        let zones = zones(&args.zones)?;
        let now = OffsetDateTime::now_utc();
        let dir = ZoneDirectory::publish(
            &ring,
            &issuer,
            &zones,
            now,
            Duration::days(i64::from(args.days)),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(&args.out, dir.to_json() + "\n")
            .map_err(|e| format!("{}: {e}", args.out.display()))?;
        Ok(format!(
            "{} zones, key id {}",
            dir.zones().count(),
            dir.kid()
        ))
    })();
    match result {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => fail("keys publish", e),
    }
}

fn load_registry(path: &Path) -> Result<SealerRegistry, String> {
    if !path.exists() {
        return Ok(SealerRegistry::new());
    }
    SealerRegistry::from_json(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads the registry `resolve --sealers` uses.
pub fn registry(path: &Path) -> Result<SealerRegistry, String> {
    SealerRegistry::from_json(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// `sealer new|register|revoke`.
pub fn sealer(cmd: SealerCommand) -> ExitCode {
    let result =
        match cmd {
            SealerCommand::New { out } => SealerKey::generate()
                .map_err(|e| e.to_string())
                .and_then(|key| {
                    write_secret(&out, &key.to_json(), false)?;
                    Ok(key.public_key().to_string())
                }),
            SealerCommand::Register { registry, key } => (|| {
                let key: SealerPublicKey = key.parse().map_err(|e| format!("--key: {e}"))?;
                let mut reg = load_registry(&registry)?;
                let id = reg.register(key).map_err(|e| e.to_string())?;
                write_public(&registry, &reg.to_json())?;
                Ok(id.to_string())
            })(),
            SealerCommand::Revoke { registry, id } => (|| {
                let mut reg = load_registry(&registry)?;
                let id = match id.parse::<SealerPublicKey>() {
                    Ok(key) => key.id(),
                    Err(_) => id.parse::<SealerId>().map_err(|e| format!("--id: {e}"))?,
                };
                reg.revoke(id).map_err(|e| e.to_string())?;
                write_public(&registry, &reg.to_json())?;
                Ok(format!("revoked {id}"))
            })(),
        };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => fail("sealer", e),
    }
}

/// Writes a public file atomically (mode 0644 is fine: nothing secret).
fn write_public(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, format!("{text}\n"))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

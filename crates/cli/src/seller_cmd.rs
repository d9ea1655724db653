//! The seller (and station) side of suite 3 on the command line: `sealer new|register|revoke`
//! (a seller's sealer key and the carrier's sealer registry).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use waybill_redact::{SealerId, SealerKey, SealerPublicKey, SealerRegistry, SealerStatus};

use crate::fail;
use crate::files::{read, write_public, write_secret};

/// `sealer` subcommands.
#[derive(Debug, Subcommand)]
pub enum SealerCommand {
    /// Create a sealer key file (refuses to overwrite); prints its public key
    /// (`WS1:…`) for the carrier to register.
    #[command(after_help = "Examples:
  waybill-redact sealer new --out seller.json
  waybill-redact sealer new --carrier-station SZ-Nanshan-03 --out station.json

A carrier's station or outlet prints labels as a seller does, with this key and the
carrier's signed directory (seal/render --directory https://RESOLVER/v1/directory),
and never holds the key ring: the ring opens every label of every zone offline.")]
    New {
        /// Where to write the sealer key (JSON, owner-only permissions).
        #[arg(long, value_name = "SELLER.json")]
        out: PathBuf,
        /// The key is for one of the carrier's own stations or outlets, named
        /// NAME (1 to 64 ASCII letters, digits, `.`, `_`, `-`): prints the
        /// `sealer register --station NAME` line for the carrier's HQ.
        #[arg(long, value_name = "NAME")]
        carrier_station: Option<String>,
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
        /// The key is the carrier station NAME's (from `sealer new
        /// --carrier-station NAME`). A station has one live key: revoke the old
        /// one before registering a new one.
        #[arg(long, value_name = "NAME")]
        station: Option<String>,
    },
    /// Revoke a sealer: its tokens are denied from now on.
    Revoke {
        /// The sealer registry file.
        #[arg(long, value_name = "SEALERS.json")]
        registry: PathBuf,
        /// The sealer id (8 hex digits), its `WS1:` public key, or a station's
        /// name (its live key is revoked).
        #[arg(long, value_name = "ID|WS1:…|STATION")]
        id: String,
    },
}

fn load_registry(path: &Path) -> Result<SealerRegistry, String> {
    if !path.exists() {
        return Ok(SealerRegistry::new());
    }
    SealerRegistry::from_json(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// `sealer new|register|revoke`.
pub fn sealer(cmd: SealerCommand) -> ExitCode {
    let result: Result<String, String> = match cmd {
        SealerCommand::New {
            out,
            carrier_station,
        } => (|| {
            if let Some(name) = &carrier_station {
                // The name is checked before the key is made.
                SealerRegistry::check_station_name(name)
                    .map_err(|e| format!("--carrier-station: {e}"))?;
            }
            let key = SealerKey::generate().map_err(|e| e.to_string())?;
            write_secret(&out, &key.to_json(), false)?;
            let public = key.public_key().to_string();
            if let Some(name) = carrier_station {
                if !crate::quiet() {
                    eprintln!(
                        "Give this public key to the carrier's HQ, which registers the station with:\n  \
                         waybill-redact sealer register --registry SEALERS.json --key {public} --station {name}\n\
                         The station then seals and renders with this key, the carrier's directory \
                         (--directory https://RESOLVER/v1/directory) and --carrier WI1:…; it never \
                         holds the key ring."
                    );
                }
            }
            Ok(public)
        })(),
        SealerCommand::Register {
            registry,
            key,
            station,
        } => (|| {
            let key: SealerPublicKey = crate::credentials::key_text_or_file("--key", &key, "WS1:")?
                .trim()
                .parse()
                .map_err(|e| format!("--key: {e}"))?;
            let mut reg = load_registry(&registry)?;
            let id = match &station {
                Some(name) => reg.register_station(key, name),
                None => reg.register(key),
            }
            .map_err(|e| e.to_string())?;
            write_public(&registry, &reg.to_json())?;
            Ok(id.to_string())
        })(),
        SealerCommand::Revoke { registry, id } => (|| {
            let mut reg = load_registry(&registry)?;
            let live_station_key = |name: &str| {
                reg.station_keys(name)
                    .into_iter()
                    .find(|&k| matches!(reg.status(k), SealerStatus::Active(_)))
            };
            let id = match id.parse::<SealerPublicKey>() {
                Ok(key) => key.id(),
                Err(_) => match id.parse::<SealerId>() {
                    Ok(id) => id,
                    Err(_) => live_station_key(&id).ok_or_else(|| {
                        format!(
                            "--id {id}: not a sealer id (8 hex digits), a WS1: key, or a \
                             station with a live key"
                        )
                    })?,
                },
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

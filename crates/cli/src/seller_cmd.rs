//! The seller (and station) side of suite 3 on the command line: `sealer new|register|revoke`
//! (a seller's sealer key and the carrier's sealer registry).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use waybill_redact::{SealerId, SealerKey, SealerPublicKey, SealerRegistry};

use crate::fail;
use crate::files::{read, write_public, write_secret};

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

fn load_registry(path: &Path) -> Result<SealerRegistry, String> {
    if !path.exists() {
        return Ok(SealerRegistry::new());
    }
    SealerRegistry::from_json(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// `sealer new|register|revoke`.
pub fn sealer(cmd: SealerCommand) -> ExitCode {
    let result = match cmd {
        SealerCommand::New { out } => {
            SealerKey::generate()
                .map_err(|e| e.to_string())
                .and_then(|key| {
                    write_secret(&out, &key.to_json(), false)?;
                    Ok(key.public_key().to_string())
                })
        }
        SealerCommand::Register { registry, key } => (|| {
            let key: SealerPublicKey = crate::credentials::key_text_or_file("--key", &key, "WS1:")?
                .trim()
                .parse()
                .map_err(|e| format!("--key: {e}"))?;
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

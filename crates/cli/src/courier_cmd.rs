//! The courier's side: `courier keygen` makes the device key, `courier resolve`
//! scans a label, signs the request with the device key and asks the carrier's
//! resolver service.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use waybill_redact::DeviceKey;

use crate::fail;
use crate::files::write_secret;

/// `courier` subcommands.
#[derive(Debug, Subcommand)]
pub enum CourierCommand {
    /// Make this device's key file (refuses to overwrite) and print its public
    /// key (`WD1:…`) for the carrier's issuer (`grant --device-key`).
    Keygen {
        /// Where to write the device key (JSON, owner-only permissions).
        #[arg(long, value_name = "DEVICE.json")]
        out: PathBuf,
    },
    /// Scan a label (or take a token), sign the request with the device key,
    /// ask the resolver service and print the disclosure as JSON.
    #[cfg(feature = "courier")]
    #[command(after_help = "Examples:
  waybill-redact courier resolve --server https://resolver.example.com --grant grant.txt \\
      --device device.json --purpose delivery --image label.jpg
  echo 'WB2:…' | waybill-redact courier resolve --server http://127.0.0.1:8080 \\
      --grant grant.txt --device device.json --purpose call -")]
    Resolve(crate::courier_resolve::ResolveArgs),
    /// Not in this build: `courier resolve` needs the `courier` feature.
    #[cfg(not(feature = "courier"))]
    #[command(hide = true)]
    Resolve(crate::NotBuilt),
}

/// `courier keygen|resolve`.
pub fn courier(cmd: CourierCommand) -> ExitCode {
    match cmd {
        CourierCommand::Keygen { out } => keygen(&out),
        #[cfg(feature = "courier")]
        CourierCommand::Resolve(args) => crate::courier_resolve::resolve(&args),
        #[cfg(not(feature = "courier"))]
        CourierCommand::Resolve(_) => crate::not_built("courier resolve", "courier"),
    }
}

fn keygen(out: &Path) -> ExitCode {
    let key = match DeviceKey::generate() {
        Ok(k) => k,
        Err(e) => return fail("courier keygen", e),
    };
    match write_secret(out, &key.to_json(), false) {
        Ok(()) => {
            println!("{}", key.public_key());
            ExitCode::SUCCESS
        }
        Err(e) => fail("courier keygen", e),
    }
}

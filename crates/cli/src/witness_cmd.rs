//! `witness serve|key-new`: the witness that cosigns audit checkpoints.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use waybill_redact::WitnessKey;

use crate::fail;
use crate::files::write_secret;

/// `witness` subcommands.
#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Serve the c2sp.org tlog-witness `add-checkpoint` protocol for the given
    /// logs, keeping the last cosigned checkpoint of each durably.
    Serve(waybill_redact_service::WitnessArgs),
    /// Create a witness key file (refuses to overwrite); prints its public key
    /// (`WW1:…`) for the resolver's `witness` setting and `audit verify --witness`.
    KeyNew {
        /// Where to write the key (JSON, owner-only permissions).
        #[arg(long, value_name = "WITNESS.json")]
        out: PathBuf,
    },
}

/// Runs a `witness` subcommand.
pub fn witness(cmd: WitnessCommand) -> ExitCode {
    match cmd {
        WitnessCommand::Serve(args) => {
            waybill_redact_service::init_logging(waybill_redact_service::LogFormat::Auto);
            waybill_redact_service::witness_command(args)
        }
        WitnessCommand::KeyNew { out } => {
            let key = WitnessKey::generate();
            match write_secret(&out, &key.to_json(), false) {
                Ok(()) => {
                    println!("{}", key.public_key());
                    ExitCode::SUCCESS
                }
                Err(e) => fail("witness", e),
            }
        }
    }
}

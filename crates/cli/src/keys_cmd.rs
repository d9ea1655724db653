//! Carrier key commands: `keys new|rotate|retire|publish` (the master ring and the
//! signed zone directory sellers seal with) and `issuer new` (the grant signing key).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use time::{Duration, OffsetDateTime};
use waybill_redact::{IssuerKey, KeyRing, ZoneDirectory};

use crate::credentials::load_ring;
use crate::fail;
use crate::files::{read, read_secret, write_secret};

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new key ring file with one random key (refuses to overwrite).
    New {
        /// Where to write the key ring (JSON, owner-only permissions).
        #[arg(long, value_name = "RING.json")]
        out: PathBuf,
    },
    /// Add a new key and make it current; prints its key id.
    Rotate {
        /// The key ring file to update in place.
        #[arg(long, value_name = "RING.json")]
        ring: PathBuf,
    },
    /// Remove an old key: its tokens no longer open.
    Retire {
        /// The key ring file to update in place.
        #[arg(long, value_name = "RING.json")]
        ring: PathBuf,
        /// The key id to retire (not the current one).
        #[arg(long)]
        kid: u16,
    },
    /// Write the signed zone directory sellers and stations seal with (suite 3): the current
    /// key's zone public keys, with validity dates.
    Publish(PublishArgs),
}

/// `issuer` subcommands.
#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Create an issuer key file (refuses to overwrite); prints its public key.
    New {
        /// Where to write the issuer key (JSON, owner-only permissions).
        #[arg(long, value_name = "ISSUER.json")]
        out: PathBuf,
    },
}

/// `keys new|rotate|retire`.
pub fn keys(cmd: KeysCommand) -> ExitCode {
    let result = match cmd {
        KeysCommand::New { out } => {
            let ring = KeyRing::generate();
            write_secret(&out, &ring.to_json(), false).map(|()| {
                let kid = ring.current_kid();
                (
                    kid,
                    format!(
                        "wrote the key ring {} (current key id {kid})",
                        out.display()
                    ),
                )
            })
        }
        KeysCommand::Rotate { ring: path } => load_ring(&path).and_then(|mut ring| {
            let kid = ring.rotate().map_err(|e| e.to_string())?;
            write_secret(&path, &ring.to_json(), true).map(|()| {
                (
                    kid,
                    format!("added key {kid} to {} and made it current", path.display()),
                )
            })
        }),
        KeysCommand::Retire { ring: path, kid } => load_ring(&path).and_then(|mut ring| {
            ring.retire(kid).map_err(|e| e.to_string())?;
            write_secret(&path, &ring.to_json(), true).map(|()| {
                let current = ring.current_kid();
                (
                    current,
                    format!(
                        "retired key {kid} from {} (current key id {current})",
                        path.display()
                    ),
                )
            })
        }),
        KeysCommand::Publish(args) => return publish(args),
    };
    match result {
        Ok((current, said)) => {
            // The current key id alone on standard output, for scripts; what
            // was written on standard error, for people.
            eprintln!("{said}");
            println!("{current}");
            ExitCode::SUCCESS
        }
        Err(e) => fail("keys", e),
    }
}

/// `issuer new`.
pub fn issuer(cmd: IssuerCommand) -> ExitCode {
    let IssuerCommand::New { out } = cmd;
    let key = IssuerKey::generate();
    match write_secret(&out, &key.to_json(), false) {
        Ok(()) => {
            println!("{}", key.public_key());
            ExitCode::SUCCESS
        }
        Err(e) => fail("issuer", e),
    }
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
        crate::note(format_args!(
            "signing with issuer key {}: public key {}",
            args.issuer.display(),
            issuer.public_key()
        ));
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
        crate::note(format_args!("wrote {}", args.out.display()));
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

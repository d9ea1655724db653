//! The `waybill-redact` command: a thin layer over the library.
//!
//! Exit codes: 0 success, 1 failure (some records failed, a broken audit log,
//! unreadable files), 2 usage, 3 resolve denied.

mod token_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Privacy express waybills: masking, sealed QR tokens and courier grants.
#[derive(Debug, Parser)]
#[command(name = "waybill-redact", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create or rotate the carrier's token key ring.
    #[command(subcommand)]
    Keys(token_cmd::KeysCommand),
    /// Create the carrier's grant issuer key.
    #[command(subcommand)]
    Issuer(token_cmd::IssuerCommand),
    /// Issue a signed courier grant and print its text.
    Grant(token_cmd::GrantArgs),
    /// Seal waybills into tokens, one per line.
    Seal(token_cmd::SealArgs),
    /// Resolve a token with a courier grant and print the disclosure as JSON.
    Resolve(token_cmd::ResolveArgs),
    /// Verify the resolver's audit log.
    #[command(subcommand)]
    Audit(token_cmd::AuditCommand),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Keys(c) => token_cmd::keys(c),
        Command::Issuer(c) => token_cmd::issuer(c),
        Command::Grant(a) => token_cmd::grant(a),
        Command::Seal(a) => token_cmd::seal(a),
        Command::Resolve(a) => token_cmd::resolve(a),
        Command::Audit(c) => token_cmd::audit(c),
    }
}

//! The `waybill-redact` command: a thin layer over the library.
//!
//! Exit status: 0 success, 1 some records failed (or another error), 2 usage error,
//! 3 resolution denied.

mod input;
mod mask_cmd;
#[allow(dead_code)] // wired by the render command
mod pipeline;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Privacy express waybills: GB/T 41833-2022 masking, sealed courier tokens and
/// thermal-ready labels.
#[derive(Parser)]
#[command(name = "waybill-redact", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mask waybills and print, per record, the strings a label will show (JSON Lines).
    Mask(mask_cmd::MaskArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Mask(args) => mask_cmd::run(&args),
    }
}

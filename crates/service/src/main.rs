//! `waybill-resolver`: the resolver service alone (what `waybill-redact serve`
//! runs), for containers and the service's own tests.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Requests allocate on the tokio workers and are freed on the store's writer
/// threads (and back): mimalloc frees across threads without glibc's arena locks
/// and consolidation, 10–15% less CPU per request in `scripts/bench-resolver.sh`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The waybill-redact resolver service.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve `POST /v1/resolve` and the other routes.
    Serve(Box<waybill_redact_service::ServeArgs>),
    /// Write the store's audit chains as JSON lines for `audit verify`.
    Export(waybill_redact_service::ExportArgs),
    /// Apply the PostgreSQL schema as its owner, and grant the service's role
    /// exactly what it needs.
    Migrate(waybill_redact_service::MigrateArgs),
    /// Run a witness that cosigns audit checkpoints (c2sp.org tlog-witness).
    Witness(waybill_redact_service::WitnessArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => waybill_redact_service::serve_command(&args),
        Command::Export(args) => {
            waybill_redact_service::init_logging(waybill_redact_service::LogFormat::Auto);
            waybill_redact_service::export_command(&args)
        }
        Command::Witness(args) => waybill_redact_service::witness_command(args),
        Command::Migrate(args) => waybill_redact_service::migrate_command(&args),
    }
}

//! `waybill-resolver migrate`: the schema's owner applies the migrations and
//! gives the service's role its grants (docs/OPERATIONS.md, "Database roles").
//! The service itself then needs no right to create or alter anything.

use std::process::ExitCode;

/// `migrate` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    /// The owner's `postgres://…` URL (the role that owns, or will own, the
    /// tables; TLS settings as for `serve`).
    #[arg(long, value_name = "STORE")]
    pub store: String,
    /// The role the service connects as: given exactly the grants it needs
    /// (read and append on the audit tables, and what the claims need).
    #[arg(long, value_name = "ROLE")]
    pub service_role: Option<String>,
}

/// `migrate`: the whole command.
pub fn migrate_command(args: &MigrateArgs) -> ExitCode {
    if !(args.store.starts_with("postgres://") || args.store.starts_with("postgresql://")) {
        eprintln!("error: migrate: --store: a postgres:// URL (a SQLite store migrates itself)");
        return ExitCode::from(2);
    }
    let result = crate::runtime().and_then(|rt| {
        rt.block_on(crate::postgres::migrate_as_owner(
            &args.store,
            args.service_role.as_deref(),
        ))
        .map_err(crate::ServiceError::from)
    });
    match result {
        Ok(version) => {
            println!("schema at version {version}");
            if let Some(role) = &args.service_role {
                println!("{role}: granted the service's rights (docs/OPERATIONS.md)");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: migrate: {e}");
            ExitCode::FAILURE
        }
    }
}

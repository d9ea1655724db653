//! The waybill-redact resolver as an HTTP service: couriers `POST` a token and
//! their grant, the service checks them, decides rate and quota in a shared
//! store, opens the token, makes the audit record durable, and only then
//! answers with the disclosure.
//!
//! Stores: SQLite (`sqlite:PATH`, one node), PostgreSQL (`postgres://…`, any
//! number of instances), and `memory` (benchmarks only: nothing is durable).
//! See `docs/OPERATIONS.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod chain;
mod config;
mod directory;
mod error;
mod http;
mod memory;
mod metrics;
mod postgres;
mod reload;
mod sqlite;
mod store;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use waybill_redact::{AuditError, AuditEvent, AuditKey, AuditSink};

pub use api::{ApiError, BatchBody, ResolveBody, RevocationBody, MAX_BATCH};
pub use config::{Config, RateConfig, ServeArgs};
pub use error::{ServiceError, StoreError};
pub use http::{router, App};
pub use memory::MemoryStore;
pub use metrics::{Metrics, OUTCOMES};
pub use postgres::PostgresStore;
pub use reload::{reload, Live};
pub use sqlite::SqliteStore;
pub use store::{BoxFuture, Checkpointing, Claim, Decision, RateParams, ResolverStore};

/// `audit export` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// `sqlite:PATH` or `postgres://…`.
    #[arg(long, value_name = "STORE")]
    pub store: String,
    /// Where to write the JSON lines (created 0600, refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// The service never writes through the library's sink: its store does.
pub(crate) struct StoreOnly;

impl AuditSink for StoreOnly {
    fn record(&self, _: &AuditEvent) -> Result<(), AuditError> {
        Err(AuditError::Io(std::io::Error::other(
            "the service audits through its store",
        )))
    }
}

/// Opens a store by URL.
///
/// # Errors
/// [`ServiceError`] for an unknown scheme or a store that cannot be opened.
pub async fn open_store(
    url: &str,
    instance: &str,
    key: Arc<AuditKey>,
    checkpoint_every: u64,
    rate: RateParams,
    metrics: Arc<Metrics>,
) -> Result<Arc<dyn ResolverStore>, ServiceError> {
    let signing = Checkpointing {
        key,
        every: checkpoint_every,
    };
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = PathBuf::from(path);
        let instance = instance.to_owned();
        let store = tokio::task::spawn_blocking(move || {
            SqliteStore::open(&path, &instance, signing, rate, metrics)
        });
        return Ok(Arc::new(
            store
                .await
                .map_err(|e| ServiceError::Config(e.to_string()))??,
        ));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(
            PostgresStore::open(url, instance, signing, rate, metrics).await?,
        ));
    }
    if url == "memory" {
        tracing::warn!("memory store: nothing is durable (benchmarks only)");
        return Ok(Arc::new(MemoryStore::new(rate)));
    }
    Err(ServiceError::Config(
        "store: use sqlite:PATH or postgres://…".into(),
    ))
}

/// Reads the audit key, or creates it (0600) when the file does not exist.
fn audit_key(path: &Path) -> Result<AuditKey, ServiceError> {
    match std::fs::read_to_string(path) {
        Ok(text) => AuditKey::from_json(&text)
            .map_err(|e| ServiceError::Key(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = AuditKey::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path)?;
            std::io::Write::write_all(&mut file, key.to_json().as_bytes())?;
            file.sync_all()?;
            tracing::info!(public = %key.public_key(), "created audit key");
            Ok(key)
        }
        Err(e) => Err(ServiceError::Key(format!("{}: {e}", path.display()))),
    }
}

/// Builds the shared state: resolver, store (migrated, chain resumed) and the
/// revocations already stored.
///
/// # Errors
/// [`ServiceError`] when a key, the config or the store is unusable.
pub async fn build(config: &Config) -> Result<Arc<App>, ServiceError> {
    if config.allow_bearer_grants {
        tracing::warn!("bearer grants (bound to no device) are accepted: --allow-bearer-grants");
    }
    let resolver = reload::initial(config)?;
    let key = Arc::new(audit_key(&config.audit_key)?);
    let metrics = Arc::new(Metrics::default());
    let rate = RateParams::new(config.rate.burst, config.rate.per_minute);
    let store = open_store(
        &config.store,
        &config.instance,
        key,
        config.checkpoint_every,
        rate,
        metrics.clone(),
    )
    .await?;
    resolver
        .load()
        .revocations()
        .extend(store.revocations().await?);
    let admin_key_sha256 = if config.admin_key_sha256.is_empty() {
        None
    } else {
        let mut h = [0u8; 32];
        hex::decode_to_slice(config.admin_key_sha256.trim(), &mut h)
            .map_err(|_| ServiceError::Config("admin_key_sha256: 64 hex digits".into()))?;
        Some(h)
    };
    Ok(Arc::new(App {
        resolver,
        store,
        metrics,
        noise: http::Noise::new(config.noise_per_minute),
        bearer_seen: std::sync::Mutex::default(),
        admin_key_sha256,
        revocation_refresh_ms: config.revocation_refresh_ms,
        config: config.clone(),
    }))
}

/// Serves on `listener` until `shutdown` resolves, then drains in-flight
/// requests, commits the queued audit records and signs a closing checkpoint.
///
/// # Errors
/// [`ServiceError`] when serving or the final commit fails.
pub async fn run(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let refresher = {
        let app = app.clone();
        tokio::spawn(async move {
            let period = Duration::from_millis(app.revocation_refresh_ms.max(10));
            loop {
                tokio::time::sleep(period).await;
                match app.store.revocations().await {
                    Ok(list) => app.resolver.load().revocations().extend(list),
                    Err(e) => tracing::warn!(error = %e, "revocation refresh failed"),
                }
            }
        })
    };
    let reloader = reload::spawn(app.clone(), app.config.clone());
    let service = router(app.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    refresher.abort();
    reloader.abort();
    let closed = app.store.close().await;
    tracing::info!("audit flushed, store closed");
    served?;
    closed?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: draining requests");
}

fn runtime() -> Result<tokio::runtime::Runtime, ServiceError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Logs to standard error through `tracing` (level from `RUST_LOG`-free
/// default: info). Log lines never hold tokens, grants or personal data.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// `serve`: the whole command, for the CLI and the `waybill-resolver` binary.
pub fn serve_command(args: &ServeArgs) -> ExitCode {
    let result = Config::load(args).and_then(|config| {
        runtime()?.block_on(async {
            let app = build(&config).await?;
            let listener = TcpListener::bind(config.listen).await?;
            tracing::info!(listen = %config.listen, instance = %config.instance, "serving");
            run(app, listener, shutdown_signal()).await
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: serve: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes every chain of a store as JSON lines; returns the number of lines.
///
/// # Errors
/// [`ServiceError`] when the store or the file fails.
pub async fn export(store_url: &str, out: &Path) -> Result<usize, ServiceError> {
    let metrics = Arc::new(Metrics::default());
    // Export only reads: the writer it opens is never sent a job.
    let store = open_store(
        store_url,
        "export",
        Arc::new(AuditKey::generate()),
        0,
        RateParams::new(1, 1),
        metrics,
    )
    .await?;
    let lines = store.export().await?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(out)?;
    let mut w = std::io::BufWriter::new(file);
    for line in &lines {
        std::io::Write::write_all(&mut w, line.as_bytes())?;
        std::io::Write::write_all(&mut w, b"\n")?;
    }
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(lines.len())
}

/// `audit export`: the whole command.
pub fn export_command(args: &ExportArgs) -> ExitCode {
    let result = runtime().and_then(|rt| rt.block_on(export(&args.store, &args.out)));
    match result {
        Ok(n) => {
            println!("{n} lines written to {}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: audit export: {e}");
            ExitCode::FAILURE
        }
    }
}

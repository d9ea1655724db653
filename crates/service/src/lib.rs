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

mod access;
mod admin;
mod api;
mod app;
mod audit_api;
mod chain;
mod client;
mod config;
mod config_env;
mod delivery;
mod directory;
mod error;
mod http;
mod layers;
mod listen;
mod log_view;
mod logline;
mod memory;
mod metrics;
mod migrate_cmd;
mod openapi;
mod postgres;
mod process;
mod reload;
mod revocation_log;
mod sqlite;
mod store;
mod suppressed;
mod witness;
mod witness_client;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use waybill_redact::{AuditError, AuditEvent, AuditKey, AuditSink};

pub use api::{
    ApiError, BatchAnswer, BatchBody, BatchItem, ErrorAnswer, ErrorBody, ErrorCode, ResolveBody,
    RevocationAnswer, RevocationBody, UnrevocationAnswer, MAX_BATCH,
};
pub use config::{Config, RateConfig, ServeArgs};
pub use error::{ServiceError, StoreError};
pub use http::App;
pub use logline::{init_logging, LogFormat};
pub use memory::MemoryStore;
pub use metrics::{Metrics, OUTCOMES};
pub use migrate_cmd::{migrate_command, MigrateArgs};
pub use postgres::{
    grant_service_role, migrate_as_owner, service_grants_sql, PostgresStore, SERVICE_GRANTS,
};
pub use reload::{reload, Live};
pub use sqlite::SqliteStore;
pub use store::{BoxFuture, Checkpointing, Claim, Decision, RateParams, ResolverStore};
pub use witness::{witness_command, Refusal, Witness, WitnessArgs};
pub use witness_client::{WitnessConfig, WitnessStatus};

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
        interval: chain::DEFAULT_CHECKPOINT_INTERVAL,
        feed: None,
    };
    open_store_with(
        url,
        instance,
        signing,
        rate,
        metrics,
        Config::default().store_timeout(),
    )
    .await
}

/// Opens a store by URL, signing checkpoints as `signing` says; its statements
/// take `timeout` at most (`store_timeout_ms`).
///
/// # Errors
/// As [`open_store`].
pub async fn open_store_with(
    url: &str,
    instance: &str,
    signing: Checkpointing,
    rate: RateParams,
    metrics: Arc<Metrics>,
    timeout: Duration,
) -> Result<Arc<dyn ResolverStore>, ServiceError> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = PathBuf::from(path);
        let instance = instance.to_owned();
        let store = tokio::task::spawn_blocking(move || {
            SqliteStore::open(&path, &instance, signing, rate, metrics, timeout)
        });
        return Ok(Arc::new(
            store
                .await
                .map_err(|e| ServiceError::Config(e.to_string()))??,
        ));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(
            PostgresStore::open(url, instance, signing, rate, metrics, timeout).await?,
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

/// Reads a secret key file (the audit key, the witness key, the ring) through
/// the library's one reading: owner-only or refused, into a zeroizing buffer.
pub(crate) fn read_key_file(path: &Path) -> Result<zeroize::Zeroizing<String>, ServiceError> {
    waybill_redact::read_secret_key_file(path).map_err(|e| ServiceError::Key(e.to_string()))
}

/// Reads the audit key. A missing file is an error (a new key would start a
/// log no one can link to the old one), and so is a file group or others may
/// read.
fn audit_key(path: &Path) -> Result<AuditKey, ServiceError> {
    let text = read_key_file(path)?;
    AuditKey::from_json(&text).map_err(|e| ServiceError::Key(format!("{}: {e}", path.display())))
}

/// A `trust` entry: an issuer public key's text (`WI1:…`) or a file holding it.
pub(crate) fn trusted_issuer(entry: &str) -> Result<waybill_redact::IssuerPublicKey, ServiceError> {
    let bad = |e: &dyn std::fmt::Display| ServiceError::Config(format!("trust {entry}: {e}"));
    let text = if entry.trim_start().starts_with('W') {
        entry.to_owned()
    } else {
        std::fs::read_to_string(entry).map_err(|e| bad(&e))?
    };
    let text = text.trim();
    if text.contains("\"secret\"") {
        return Err(bad(
            &"holds the issuer's secret; give only its public key (WI1:…)",
        ));
    }
    if let Some(prefix) = text.get(..4).filter(|p| p.ends_with(':') && *p != "WI1:") {
        return Err(bad(&format_args!(
            "expected an issuer key (WI1:…), got a {prefix}… key or credential"
        )));
    }
    text.parse().map_err(|e| bad(&e))
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
    let witnesses = witness_client::targets(&config.witness)?;
    let metrics = Arc::new(Metrics::default());
    let rate = RateParams::new(config.rate.burst, config.rate.per_minute);
    let public = key.public_key();
    let (feed, feed_rx) = tokio::sync::mpsc::unbounded_channel();
    let signing = Checkpointing {
        key,
        every: config.checkpoint_every,
        interval: std::time::Duration::from_secs(config.checkpoint_secs.max(1)),
        feed: Some(feed),
    };
    let store = open_store_with(
        &config.store,
        &config.instance,
        signing,
        rate,
        metrics.clone(),
        config.store_timeout(),
    )
    .await?;
    let witness = Arc::new(WitnessStatus::new(
        config.max_unwitnessed_secs,
        config.require_witness,
    ));
    let log = Arc::new(log_view::LogView::default());
    let follower = log.clone();
    tokio::spawn(async move { follower.follow(feed_rx).await });
    if !witnesses.is_empty() {
        metrics.watch_witness(witness.clone());
    }
    let witness_client = (!witnesses.is_empty()).then(|| {
        let client = witness_client::WitnessClient::new(
            witnesses,
            public,
            &config.instance,
            store.clone(),
            witness.clone(),
            log.clone(),
        );
        tokio::spawn(client.run())
    });
    // The revocation table is checked against the audit log before the
    // first request: the log's revocations are enforced.
    revocation_log::reconcile(store.as_ref()).await?;
    resolver
        .load()
        .revocations()
        .replace_all(store.revocations().await?);
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
        suppressed: Arc::default(),
        bearer_seen: std::sync::Mutex::default(),
        admin_key_sha256,
        admin_failures: http::Noise::new(admin::ADMIN_FAILURES_PER_MINUTE),
        log_admin: logline::Limiter::new(Duration::from_secs(1)),
        revocation_refresh_ms: config.revocation_refresh_ms,
        trusted_proxies: client::TrustedProxies::parse(&config.trusted_proxies)
            .map_err(ServiceError::Config)?,
        deadline: Duration::from_millis(config.request_timeout_ms),
        limits: listen::ConnectionLimits {
            header_read: Duration::from_millis(config.header_read_timeout_ms),
            idle: Duration::from_millis(config.idle_timeout_ms),
            max_connections: config.max_connections,
            drain: Duration::from_millis(config.request_timeout_ms.saturating_mul(2)),
        },
        witness,
        log,
        witness_client: std::sync::Mutex::new(witness_client),
        config: config.clone(),
    }))
}

/// The two listeners: the public one (resolves, `/healthz`) and the admin one
/// (revocations, metrics, readiness, the OpenAPI document).
#[derive(Debug)]
pub struct Listeners {
    /// Couriers' requests.
    pub public: TcpListener,
    /// Operators' requests; keep it on a private network.
    pub admin: TcpListener,
}

impl Listeners {
    /// Binds both addresses of `config`.
    ///
    /// # Errors
    /// [`ServiceError::Io`] when an address cannot be bound.
    pub async fn bind(config: &Config) -> Result<Self, ServiceError> {
        Ok(Self {
            public: TcpListener::bind(config.listen).await?,
            admin: TcpListener::bind(config.admin_listen).await?,
        })
    }
}

/// Serves both listeners until `shutdown` resolves, then drains in-flight
/// requests, commits the queued audit records and signs a closing checkpoint.
///
/// # Errors
/// [`ServiceError`] when the final commit fails.
pub async fn run(
    app: Arc<App>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let refresher = {
        let app = app.clone();
        tokio::spawn(async move {
            let period = Duration::from_millis(app.revocation_refresh_ms.max(10));
            loop {
                tokio::time::sleep(period).await;
                match app.store.revocations().await {
                    // Replaced, not extended: a lifted revocation leaves.
                    Ok(list) => app.resolver.load().revocations().replace_all(list),
                    Err(e) => logline::store_error("revocations", &e),
                }
            }
        })
    };
    let reloader = reload::spawn(app.clone(), app.config.clone());
    let summaries = tokio::spawn(suppressed::flush(app.suppressed.clone(), app.store.clone()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let limits = app.limits;
    let admin_limits = listen::ConnectionLimits {
        max_connections: ADMIN_MAX_CONNECTIONS,
        ..limits
    };
    // The courier's web app joins the public listener (inside its layers, so
    // its errors are JSON too); both listeners send the security headers.
    let routes = openapi::api(app.config.courier_app);
    let public = app::with_headers(layers::serve(routes.public, app.clone(), app.deadline));
    let admin = app::with_headers(layers::serve(routes.admin, app.clone(), app.deadline));
    tracing::info!(
        listen = %listen::local(&listeners.public),
        admin_listen = %listen::local(&listeners.admin),
        "serving"
    );
    tokio::join!(
        listen::serve(listeners.public, public, limits, stopped.clone()),
        listen::serve(listeners.admin, admin, admin_limits, stopped),
    );
    refresher.abort();
    reloader.abort();
    summaries.abort();
    // The refusals held back since their group's last summary, before the
    // closing checkpoint.
    for (key, count) in app.suppressed.due(store::now_ms(), true) {
        app.suppressed.write(app.store.as_ref(), key, count).await;
    }
    // Gone before this returns, with their hold on the store.
    let _ = tokio::join!(refresher, reloader, summaries);
    let closed = app.store.close().await;
    tracing::info!("audit flushed, store closed");
    // The witness client offers the closing checkpoint once more, then stops.
    let client = app
        .witness_client
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(mut client) = client {
        if tokio::time::timeout(WITNESS_CLOSE_WAIT, &mut client)
            .await
            .is_err()
        {
            tracing::warn!(
                "shutdown: the witnesses did not answer in time; \
                 the next start offers them the closing checkpoint"
            );
            client.abort();
            let _ = client.await;
        }
    }
    closed?;
    Ok(())
}

/// How long a shutdown waits for the witnesses to cosign the closing
/// checkpoint: two tries of the client's 5 s timeout.
const WITNESS_CLOSE_WAIT: Duration = Duration::from_secs(11);

/// Open connections on the admin listener at most.
const ADMIN_MAX_CONNECTIONS: usize = 256;

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

/// `serve`: the whole command, for the CLI and the `waybill-resolver` binary.
pub fn serve_command(args: &ServeArgs) -> ExitCode {
    init_logging(args.log_format.unwrap_or_default());
    let result = Config::load(args).and_then(|config| {
        runtime()?.block_on(async {
            let app = build(&config).await?;
            let listeners = Listeners::bind(&config).await?;
            tracing::info!(instance = %config.instance, "starting");
            run(app, listeners, shutdown_signal()).await
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
    let lines = if let Some(path) = store_url.strip_prefix("sqlite:") {
        let path = PathBuf::from(path);
        tokio::task::spawn_blocking(move || sqlite::export_file(&path))
            .await
            .map_err(|e| ServiceError::Config(e.to_string()))??
    } else {
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
        store.export().await?
    };
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

#[cfg(test)]
mod tests {
    use waybill_redact::{DeviceKey, IssuerKey};

    use super::trusted_issuer;

    #[test]
    fn trust_takes_the_key_text_or_a_file_and_names_a_wrong_kind() {
        let issuer = IssuerKey::generate().public_key();
        let text = issuer.to_string();
        assert_eq!(trusted_issuer(&text).unwrap(), issuer);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuer.pub");
        std::fs::write(&file, format!("{text}\n")).unwrap();
        assert_eq!(trusted_issuer(file.to_str().unwrap()).unwrap(), issuer);
        let device = DeviceKey::generate().unwrap().public_key().to_string();
        let wrong = trusted_issuer(&device).unwrap_err().to_string();
        assert!(
            wrong.contains("expected an issuer key (WI1:…), got a WD1:…"),
            "{wrong}"
        );
        let missing = trusted_issuer("/nonexistent/issuer.pub").unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/issuer.pub"));
    }
}

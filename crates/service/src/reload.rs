//! Live reload of the keys and registries: the ring, the trusted issuer keys
//! (from the config file), the sealer registry and the zone directories.
//!
//! SIGHUP, or a change of any of those files (checked every
//! `reload_check_ms`), builds a whole new [`Resolver`] from the files and
//! swaps it in. A request keeps the resolver it loaded, so requests in flight
//! finish on the old state and none is dropped. A file that does not load (bad
//! JSON, a damaged key, a directory no trusted issuer signed) is refused: the
//! old state stays, and the refusal is logged. Revocations are shared by every
//! generation of the resolver, so none is lost across a reload.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use waybill_redact::{KeyRing, Resolver, Revocations, SealerRegistry};

use crate::config::Config;
use crate::directory::Published;
use crate::error::ServiceError;
use crate::http::App;

/// What a reload replaces.
struct State {
    resolver: Arc<Resolver>,
    directory: Option<Arc<Published>>,
}

/// The current resolver and directory, swapped whole on a reload.
pub struct Live {
    state: RwLock<Arc<State>>,
    reloads: AtomicU64,
    /// The watched files' stamps taken before the first load, so a change made
    /// before the watcher starts is still seen.
    loaded: Stamps,
}

impl Live {
    fn new(resolver: Resolver, directory: Option<Published>, loaded: Stamps) -> Self {
        Self {
            state: RwLock::new(Arc::new(State {
                resolver: Arc::new(resolver),
                directory: directory.map(Arc::new),
            })),
            reloads: AtomicU64::new(0),
            loaded,
        }
    }

    fn current(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The resolver now in force; a request holds it until it is done.
    pub fn load(&self) -> Arc<Resolver> {
        self.current().resolver.clone()
    }

    /// The directory served at `GET /v1/directory`, if any is valid.
    pub(crate) fn directory(&self) -> Option<Arc<Published>> {
        self.current().directory.clone()
    }

    fn swap(&self, resolver: Resolver, directory: Option<Published>) {
        let next = Arc::new(State {
            resolver: Arc::new(resolver),
            directory: directory.map(Arc::new),
        });
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = next;
        self.reloads.fetch_add(1, Ordering::Relaxed);
    }

    /// How many reloads succeeded since the start.
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::Relaxed)
    }
}

/// Builds the first state from the config.
///
/// # Errors
/// [`ServiceError`] when a key file, the registry or a directory is unusable.
pub(crate) fn initial(config: &Config) -> Result<Live, ServiceError> {
    let before = stamps(&watched(config));
    let (resolver, directory) = load(config, &config.trust, Arc::default())?;
    Ok(Live::new(resolver, directory, before))
}

/// Reads every file and builds a resolver sharing `revocations`.
fn load(
    config: &Config,
    trust: &[String],
    revocations: Arc<Revocations>,
) -> Result<(Resolver, Option<Published>), ServiceError> {
    let ring_text = crate::read_key_file(&config.ring)?;
    let ring = KeyRing::from_json(&ring_text)
        .map_err(|e| ServiceError::Key(format!("{}: {e}", config.ring.display())))?;
    let trusted = trust
        .iter()
        .map(|t| crate::trusted_issuer(t))
        .collect::<Result<Vec<_>, _>>()?;
    if trusted.is_empty() {
        return Err(ServiceError::Config("trust: at least one WI1: key".into()));
    }
    let sealers = if config.sealers.as_os_str().is_empty() {
        SealerRegistry::new()
    } else {
        let text = std::fs::read_to_string(&config.sealers)
            .map_err(|e| ServiceError::Config(format!("{}: {e}", config.sealers.display())))?;
        SealerRegistry::from_json(&text)
            .map_err(|e| ServiceError::Config(format!("{}: {e}", config.sealers.display())))?
    };
    let directories = crate::directory::read_all(&config.directories, &trusted)?;
    let served = crate::directory::current(&directories, time::OffsetDateTime::now_utc());
    let resolver = Resolver::new(ring, trusted, Arc::new(crate::StoreOnly))
        .with_revocations(revocations)
        .with_sealers(sealers)
        .with_directories(directories.iter().map(|(d, _)| d))
        .with_max_token_days(config.max_token_days)
        .with_max_skew(config.max_skew_secs)
        .with_bearer_grants(config.allow_bearer_grants)
        .with_request_window(config.request_window_secs)
        .with_max_grant_secs(config.max_grant_hours.saturating_mul(3600));
    Ok((resolver, served))
}

/// Reloads now: builds a new state from the files, or keeps the old one.
///
/// # Errors
/// [`ServiceError`] when a file does not load; the old state stays.
pub fn reload(app: &App, config: &Config) -> Result<(), ServiceError> {
    let trust = match &config.config_file {
        Some(path) if !config.trust_from_flags => Config::trust_from_file(path)?,
        _ => config.trust.clone(),
    };
    let revocations = app.resolver.load().revocations().clone();
    let (resolver, directory) = load(config, &trust, revocations)?;
    app.resolver.swap(resolver, directory);
    Ok(())
}

/// Size and modification time of each watched file (`None`: missing).
type Stamps = Vec<Option<(SystemTime, u64)>>;

fn watched(config: &Config) -> Vec<PathBuf> {
    let mut files = vec![config.ring.clone()];
    if !config.sealers.as_os_str().is_empty() {
        files.push(config.sealers.clone());
    }
    files.extend(config.directories.iter().cloned());
    files.extend(config.config_file.iter().cloned());
    files
}

fn stamps(files: &[PathBuf]) -> Stamps {
    files.iter().map(|f| stamp(f)).collect()
}

fn stamp(file: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(file).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Waits for SIGHUP (on Unix) forever.
async fn hangup() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut hup) = signal(SignalKind::hangup()) {
            loop {
                if hup.recv().await.is_some() {
                    return;
                }
            }
        }
    }
    std::future::pending::<()>().await;
}

/// Watches the files and SIGHUP, and reloads; runs until aborted.
pub(crate) fn spawn(app: Arc<App>, config: Config) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let files = watched(&config);
        let mut seen = app.resolver.loaded.clone();
        let period = Duration::from_millis(config.reload_check_ms.max(10));
        loop {
            let why = tokio::select! {
                () = hangup() => "SIGHUP",
                () = tokio::time::sleep(period) => {
                    let now = stamps(&files);
                    if now == seen {
                        continue;
                    }
                    seen = now;
                    "a file changed"
                }
            };
            // Reading files blocks: off the request workers.
            let (task_app, task_config) = (app.clone(), config.clone());
            let done = tokio::task::spawn_blocking(move || reload(&task_app, &task_config)).await;
            match done {
                Ok(Ok(())) => tracing::info!(
                    trigger = why,
                    reloads = app.resolver.reloads(),
                    "reloaded the ring, trusted keys, sealer registry and directories"
                ),
                Ok(Err(e)) => tracing::warn!(
                    trigger = why,
                    error = %e,
                    "reload refused: keeping the previous ring, keys and registry"
                ),
                Err(e) => tracing::warn!(error = %e, "reload task failed"),
            }
        }
    })
}

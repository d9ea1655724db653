//! `serve` settings: a TOML file (`--config`) for everything, flags for the
//! common ones; a flag wins over the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ServiceError;

/// `serve` flags (also the `waybill-resolver` binary's).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// The master key ring file.
    #[arg(long, value_name = "RING.json")]
    pub ring: Option<PathBuf>,
    /// A trusted issuer public key, `WI1:…` (repeatable).
    #[arg(long, value_name = "WI1:…")]
    pub trust: Vec<String>,
    /// `sqlite:PATH` or `postgres://…` (`memory` for benchmarks only).
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// A TOML file with every setting (see docs/OPERATIONS.md).
    #[arg(long, value_name = "resolver.toml")]
    pub config: Option<PathBuf>,
    /// This instance's id in the audit chain (unique per instance).
    #[arg(long, value_name = "ID")]
    pub instance: Option<String>,
    /// The audit key file that signs checkpoints (created, 0600, if missing).
    #[arg(long, value_name = "AUDIT_KEY.json")]
    pub audit_key: Option<PathBuf>,
    /// The sealer registry (sellers and stations whose labels open); reloaded
    /// when the file changes or on SIGHUP.
    #[arg(long, value_name = "SEALERS.json")]
    pub sealers: Option<PathBuf>,
    /// A signed zone directory to serve at `GET /v1/directory` and whose
    /// validity window seller tokens must be issued in (repeatable: list every
    /// directory still in use).
    #[arg(long, value_name = "DIRECTORY.json")]
    pub directory: Vec<PathBuf>,
    /// Also accept bearer grants (`WG1:`, bound to no device), for carriers still
    /// migrating to device-bound grants. Each such request is logged.
    #[arg(long)]
    pub allow_bearer_grants: bool,
}

/// Per-courier rate limit.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RateConfig {
    /// Requests at once.
    pub burst: u32,
    /// Requests a minute, sustained.
    pub per_minute: u32,
}

impl Default for RateConfig {
    fn default() -> Self {
        Self {
            burst: 30,
            per_minute: 60,
        }
    }
}

/// The resolved settings.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The master key ring file.
    pub ring: PathBuf,
    /// Trusted issuer public keys (`WI1:…`).
    pub trust: Vec<String>,
    /// The store URL.
    pub store: String,
    /// Listen address.
    pub listen: SocketAddr,
    /// This instance's chain id.
    pub instance: String,
    /// The audit key file.
    pub audit_key: PathBuf,
    /// Sign a checkpoint every this many records (and at close).
    pub checkpoint_every: u64,
    /// SHA-256 (hex) of the admin bearer key for `POST /v1/revocations`;
    /// revocation over HTTP is off when empty.
    pub admin_key_sha256: String,
    /// Per-courier rate limit.
    pub rate: RateConfig,
    /// Per client address: attempts denied before the rate limit (bad grants,
    /// garbage) that are audited per minute; beyond it they get 429, unaudited.
    pub noise_per_minute: u32,
    /// How often each instance reloads revocations from the store, ms.
    pub revocation_refresh_ms: u64,
    /// How far in the future a payload's issued-at may be, seconds.
    pub max_skew_secs: u64,
    /// Accept bearer grants (bound to no device); off by default.
    pub allow_bearer_grants: bool,
    /// How far a device-signed request's time may be from the server's clock,
    /// seconds either way.
    pub request_window_secs: u64,
    /// The longest grant validity window accepted, hours.
    pub max_grant_hours: u64,
    /// The sealer registry file; empty: seller tokens are denied (`unknown_sealer`).
    pub sealers: PathBuf,
    /// Signed zone directories: the newest valid one is served at
    /// `GET /v1/directory`; seller tokens under their key ids must be issued
    /// within their windows.
    pub directories: Vec<PathBuf>,
    /// The longest token lifetime (expiry minus issue time) accepted, days.
    pub max_token_days: u64,
    /// How often the ring, sealer registry, directories and config file are
    /// checked for changes, ms (SIGHUP reloads at once).
    pub reload_check_ms: u64,
    /// The config file the settings came from, re-read on reload for `trust`.
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
    /// Whether `trust` came from flags (then a reload keeps it).
    #[serde(skip)]
    pub trust_from_flags: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ring: PathBuf::new(),
            trust: Vec::new(),
            store: "sqlite:resolver.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            instance: "local".into(),
            audit_key: PathBuf::new(),
            checkpoint_every: 1000,
            admin_key_sha256: String::new(),
            rate: RateConfig::default(),
            noise_per_minute: 120,
            revocation_refresh_ms: 1000,
            max_skew_secs: waybill_redact::DEFAULT_MAX_SKEW_SECS,
            allow_bearer_grants: false,
            request_window_secs: waybill_redact::DEFAULT_REQUEST_WINDOW_SECS,
            max_grant_hours: waybill_redact::DEFAULT_MAX_GRANT_SECS / 3600,
            sealers: PathBuf::new(),
            directories: Vec::new(),
            max_token_days: waybill_redact::DEFAULT_MAX_TOKEN_DAYS,
            reload_check_ms: 1000,
            config_file: None,
            trust_from_flags: false,
        }
    }
}

impl Config {
    /// The `trust` list of the config file, for a reload.
    pub(crate) fn trust_from_file(path: &Path) -> Result<Vec<String>, ServiceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServiceError::Config(format!("{}: {e}", path.display())))?;
        let file: Self = toml::from_str(&text)
            .map_err(|e| ServiceError::Config(format!("{}: {}", path.display(), e.message())))?;
        Ok(file.trust)
    }

    /// Reads `--config` (if given) and applies the flags over it.
    ///
    /// # Errors
    /// [`ServiceError::Config`] naming the bad setting.
    pub fn load(args: &ServeArgs) -> Result<Self, ServiceError> {
        let mut config = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ServiceError::Config(format!("{}: {e}", path.display())))?;
                toml::from_str(&text).map_err(|e| {
                    ServiceError::Config(format!("{}: {}", path.display(), e.message()))
                })?
            }
            None => Self::default(),
        };
        if let Some(ring) = &args.ring {
            config.ring.clone_from(ring);
        }
        config.config_file.clone_from(&args.config);
        if !args.trust.is_empty() {
            config.trust.clone_from(&args.trust);
            config.trust_from_flags = true;
        }
        if let Some(sealers) = &args.sealers {
            config.sealers.clone_from(sealers);
        }
        if !args.directory.is_empty() {
            config.directories.clone_from(&args.directory);
        }
        if let Some(store) = &args.store {
            config.store.clone_from(store);
        }
        if let Some(listen) = args.listen {
            config.listen = listen;
        }
        if let Some(instance) = &args.instance {
            config.instance.clone_from(instance);
        }
        if let Some(key) = &args.audit_key {
            config.audit_key.clone_from(key);
        }
        config.allow_bearer_grants |= args.allow_bearer_grants;
        if config.max_grant_hours == 0
            || config.request_window_secs == 0
            || config.max_token_days == 0
        {
            return Err(ServiceError::Config(
                "max_grant_hours, request_window_secs and max_token_days: at least 1".into(),
            ));
        }
        if config.ring.as_os_str().is_empty() {
            return Err(ServiceError::Config("ring: required (--ring)".into()));
        }
        if config.trust.is_empty() {
            return Err(ServiceError::Config(
                "trust: at least one WI1: key (--trust)".into(),
            ));
        }
        if config.instance.is_empty() || config.instance.len() > 64 {
            return Err(ServiceError::Config("instance: 1 to 64 characters".into()));
        }
        if config.audit_key.as_os_str().is_empty() {
            config.audit_key = default_audit_key(&config.store);
        }
        Ok(config)
    }
}

/// Beside the SQLite file, or `audit-key.json` in the working folder.
fn default_audit_key(store: &str) -> PathBuf {
    match store.strip_prefix("sqlite:") {
        Some(path) => {
            let mut p = Path::new(path).as_os_str().to_owned();
            p.push(".audit-key.json");
            PathBuf::from(p)
        }
        None => PathBuf::from("audit-key.json"),
    }
}

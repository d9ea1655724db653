//! `serve` settings, loaded in one place: a TOML file (`--config`) for
//! everything, `WAYBILL_RESOLVER_*` environment variables for everything
//! (and `*_FILE` for secrets), flags for the common ones. A flag wins over the
//! environment, which wins over the file.

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
    /// A trusted issuer public key, `WI1:…`, or a file holding it (repeatable).
    #[arg(long, value_name = "WI1:…|FILE")]
    pub trust: Vec<String>,
    /// `sqlite:PATH` or `postgres://…` (`memory` for benchmarks only).
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// The admin listener's address (revocations, metrics, readiness, the
    /// OpenAPI document); default 127.0.0.1:9090.
    #[arg(long, value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,
    /// A TOML file with every setting (see docs/OPERATIONS.md).
    #[arg(long, value_name = "resolver.toml")]
    pub config: Option<PathBuf>,
    /// This instance's id in the audit chain (unique per instance).
    #[arg(long, value_name = "ID")]
    pub instance: Option<String>,
    /// The audit key file that signs checkpoints (`audit key-new` makes one;
    /// required: keep it away from the store).
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
    /// Log lines as `json` or `text` (default: text on a terminal, JSON
    /// otherwise). Logging starts before the file is read, so this is a flag
    /// or `WAYBILL_RESOLVER_LOG_FORMAT` only.
    #[arg(
        long,
        value_enum,
        env = "WAYBILL_RESOLVER_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    pub log_format: Option<crate::LogFormat>,
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
    /// The public listener's address: resolves and `/healthz`.
    pub listen: SocketAddr,
    /// The admin listener's address: revocations, metrics, readiness and the
    /// OpenAPI document. Keep it on a private network.
    pub admin_listen: SocketAddr,
    /// Each request's deadline, ms: past it the answer is 503.
    pub request_timeout_ms: u64,
    /// How long a client may take to send a request's head, ms, counted from
    /// when the server starts waiting for it (so it also bounds a kept-alive
    /// connection's wait for its next request).
    pub header_read_timeout_ms: u64,
    /// A connection that moves no byte for this long is closed, ms.
    pub idle_timeout_ms: u64,
    /// Open connections on the public listener at most; past it, new ones
    /// wait in the kernel's backlog.
    pub max_connections: usize,
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
    /// Proxies (addresses or networks) whose `X-Forwarded-For` names the
    /// client for `noise_per_minute`; every other peer is its own client.
    pub trusted_proxies: Vec<String>,
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
    /// Sign a checkpoint at least this often while records arrive, seconds.
    pub checkpoint_secs: u64,
    /// Witnesses that cosign the audit log's checkpoints (`[[witness]]` with
    /// `url` and `key = "WW1:…"`).
    pub witness: Vec<crate::witness_client::WitnessConfig>,
    /// Past this many seconds without a cosigned checkpoint, `/readyz` fails
    /// (0: never).
    pub max_unwitnessed_secs: u64,
    /// Answer 503 instead of disclosing while unwitnessed past
    /// `max_unwitnessed_secs`.
    pub require_witness: bool,
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
    /// Serve the courier's web app at `/app/` (on by default).
    pub courier_app: bool,
    /// The longest a store statement may take, ms (PostgreSQL's
    /// `statement_timeout`, `lock_timeout` and a client-side bound that gives
    /// up on the statement; SQLite's busy timeout). 0: half of
    /// `request_timeout_ms`, so that a request can still answer 503 in time.
    pub store_timeout_ms: u64,
}

impl Config {
    /// The store statement timeout: `store_timeout_ms`, or half the request
    /// deadline when it is 0.
    pub fn store_timeout(&self) -> std::time::Duration {
        let ms = match self.store_timeout_ms {
            0 => (self.request_timeout_ms / 2).max(1),
            ms => ms,
        };
        std::time::Duration::from_millis(ms)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ring: PathBuf::new(),
            trust: Vec::new(),
            store: "sqlite:resolver.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            request_timeout_ms: 2000,
            store_timeout_ms: 0,
            header_read_timeout_ms: 5000,
            idle_timeout_ms: 60_000,
            max_connections: 10_000,
            instance: "local".into(),
            audit_key: PathBuf::new(),
            checkpoint_every: 1000,
            admin_key_sha256: String::new(),
            rate: RateConfig::default(),
            noise_per_minute: 120,
            trusted_proxies: Vec::new(),
            revocation_refresh_ms: 1000,
            max_skew_secs: waybill_redact::DEFAULT_MAX_SKEW_SECS,
            allow_bearer_grants: false,
            request_window_secs: waybill_redact::DEFAULT_REQUEST_WINDOW_SECS,
            max_grant_hours: waybill_redact::DEFAULT_MAX_GRANT_SECS / 3600,
            checkpoint_secs: 60,
            witness: Vec::new(),
            max_unwitnessed_secs: 0,
            require_witness: false,
            sealers: PathBuf::new(),
            directories: Vec::new(),
            max_token_days: waybill_redact::DEFAULT_MAX_TOKEN_DAYS,
            reload_check_ms: 1000,
            config_file: None,
            trust_from_flags: false,
            courier_app: true,
        }
    }
}

impl Config {
    /// The `trust` list of the config file, for a reload.
    pub(crate) fn trust_from_file(path: &Path) -> Result<Vec<String>, ServiceError> {
        Ok(Self::from_file_and_env(Some(path))?.trust)
    }

    /// The settings of the file (when given) with the environment's
    /// (`WAYBILL_RESOLVER_*`) over them, before any flag: what a start and a
    /// reload both read.
    ///
    /// # Errors
    /// [`ServiceError::Config`] naming the file or the variable.
    pub(crate) fn from_file_and_env(path: Option<&Path>) -> Result<Self, ServiceError> {
        let mut table = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ServiceError::Config(format!("{}: {e}", path.display())))?;
                text.parse::<toml::Table>().map_err(|e| {
                    ServiceError::Config(format!("{}: {}", path.display(), e.message()))
                })?
            }
            None => toml::Table::new(),
        };
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        crate::config_env::overlay(&mut table, vars, |p| std::fs::read_to_string(p))?;
        table.try_into().map_err(|e: toml::de::Error| {
            let from = path.map_or_else(
                || "settings (environment)".to_owned(),
                |p| format!("{} or the environment", p.display()),
            );
            ServiceError::Config(format!("{from}: {}", e.message()))
        })
    }

    /// Reads `--config` (if given) and applies the flags over it.
    ///
    /// # Errors
    /// [`ServiceError::Config`] naming the bad setting.
    pub fn load(args: &ServeArgs) -> Result<Self, ServiceError> {
        // Precedence: flag > environment > file > default.
        let mut config = Self::from_file_and_env(args.config.as_deref())?;
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
        if let Some(admin) = args.admin_listen {
            config.admin_listen = admin;
        }
        if let Some(instance) = &args.instance {
            config.instance.clone_from(instance);
        }
        if let Some(key) = &args.audit_key {
            config.audit_key.clone_from(key);
        }
        config.allow_bearer_grants |= args.allow_bearer_grants;
        if config.require_witness && (config.witness.is_empty() || config.max_unwitnessed_secs == 0)
        {
            return Err(ServiceError::Config(
                "require_witness: needs a witness and max_unwitnessed_secs".into(),
            ));
        }
        if config.max_grant_hours == 0
            || config.request_window_secs == 0
            || config.max_token_days == 0
        {
            return Err(ServiceError::Config(
                "max_grant_hours, request_window_secs and max_token_days: at least 1".into(),
            ));
        }
        if config.request_timeout_ms == 0
            || config.header_read_timeout_ms == 0
            || config.max_connections == 0
        {
            return Err(ServiceError::Config(
                "request_timeout_ms, header_read_timeout_ms and max_connections: at least 1".into(),
            ));
        }
        if config.idle_timeout_ms <= config.request_timeout_ms {
            return Err(ServiceError::Config(
                "idle_timeout_ms: longer than request_timeout_ms".into(),
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
        // No key is made beside the store by default: whoever reaches one
        // would reach the other.
        if config.audit_key.as_os_str().is_empty() {
            return Err(ServiceError::Config(
                "audit_key: required (--audit-key); make one with `audit key-new` \
                 and keep it away from the store"
                    .into(),
            ));
        }
        Ok(config)
    }
}

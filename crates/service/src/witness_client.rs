//! The resolver's side of witnessing: every new checkpoint goes to each
//! configured witness (`add-checkpoint`, with a consistency proof from the
//! size the witness last cosigned), and each cosignature returned is checked
//! and stored beside the checkpoint. A witness that answers 409 names the size
//! it knows; the next request starts from it.
//!
//! [`WitnessStatus`] says since when the latest checkpoint has waited for a
//! cosignature: `/readyz` fails past `max_unwitnessed_secs`, and with
//! `require_witness` resolving answers 503 instead of disclosing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use waybill_redact::{AddCheckpoint, AuditPublicKey, SignedCheckpoint, WitnessPublicKey};

use crate::error::ServiceError;
use crate::log_view::LogView;
use crate::store::ResolverStore;

/// One witness in the configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// Its base URL, `https://host:port` (or `http://` on a trusted network);
    /// `add-checkpoint` is posted below it.
    pub url: String,
    /// Its public key, `WW1:…`.
    pub key: String,
    /// A PEM file of the certificate authorities to trust for this `https://`
    /// witness instead of the public web's (webpki roots): a witness whose
    /// certificate a private CA signed.
    #[serde(default)]
    pub ca: Option<PathBuf>,
}

impl WitnessConfig {
    /// The HTTP client for this witness: rustls, trusting `ca` when given and
    /// the webpki roots otherwise.
    fn client(&self) -> Result<reqwest::Client, ServiceError> {
        let bad =
            |e: &dyn std::fmt::Display| ServiceError::Config(format!("witness {}: {e}", self.url));
        let https = self.url.starts_with("https://");
        if !https && !self.url.starts_with("http://") {
            return Err(bad(&"the url must start with https:// or http://"));
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(5));
        if let Some(path) = &self.ca {
            if !https {
                return Err(bad(&"ca is for an https:// witness"));
            }
            let pem = std::fs::read(path)
                .map_err(|e| bad(&format_args!("ca {}: {e}", path.display())))?;
            let roots = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| bad(&format_args!("ca {}: {e}", path.display())))?;
            if roots.is_empty() {
                return Err(bad(&format_args!(
                    "ca {}: no PEM certificate",
                    path.display()
                )));
            }
            builder = roots
                .into_iter()
                .fold(builder.tls_built_in_root_certs(false), |b, root| {
                    b.add_root_certificate(root)
                });
        }
        builder.build().map_err(|e| bad(&e))
    }
}

/// Since when the latest checkpoint has waited for a witness.
#[derive(Debug, Default)]
pub struct WitnessStatus {
    /// Unix seconds since the oldest checkpoint no witness cosigned yet was
    /// signed; 0 when every checkpoint is cosigned (or no witness is set).
    pending_since: AtomicU64,
    /// Past this many seconds unwitnessed, the instance is not ready (0: never).
    max_unwitnessed_secs: u64,
    /// Refuse to disclose while overdue.
    require: bool,
    /// Checkpoints cosigned by a witness since start (for `/metrics`).
    cosigned: AtomicU64,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl WitnessStatus {
    /// A status with these limits.
    pub fn new(max_unwitnessed_secs: u64, require: bool) -> Self {
        Self {
            max_unwitnessed_secs,
            require,
            ..Self::default()
        }
    }

    /// How long the latest checkpoint has waited for a witness, seconds.
    pub fn unwitnessed_secs(&self) -> u64 {
        match self.pending_since.load(Ordering::Relaxed) {
            0 => 0,
            since => unix_now().saturating_sub(since),
        }
    }

    /// Whether it has waited longer than `max_unwitnessed_secs`.
    pub fn overdue(&self) -> bool {
        self.max_unwitnessed_secs > 0 && self.unwitnessed_secs() > self.max_unwitnessed_secs
    }

    /// Whether resolving must answer 503 now.
    pub fn refuses_disclosure(&self) -> bool {
        self.require && self.overdue()
    }

    /// Checkpoints cosigned since start.
    pub fn cosigned(&self) -> u64 {
        self.cosigned.load(Ordering::Relaxed)
    }

    fn pending(&self, waiting: bool) {
        if !waiting {
            self.pending_since.store(0, Ordering::Relaxed);
        } else if self.pending_since.load(Ordering::Relaxed) == 0 {
            self.pending_since
                .store(unix_now().max(1), Ordering::Relaxed);
        }
    }
}

pub(crate) struct Target {
    url: String,
    key: WitnessPublicKey,
    /// Its own client: each witness may trust another CA.
    http: reqwest::Client,
    /// The size this witness last cosigned (as far as we know).
    known: u64,
}

/// Sends checkpoints to the witnesses until the feed closes.
pub(crate) struct WitnessClient {
    targets: Vec<Target>,
    audit_key: AuditPublicKey,
    instance: String,
    store: Arc<dyn ResolverStore>,
    status: Arc<WitnessStatus>,
    view: Arc<LogView>,
}

/// How long to wait before retrying a witness that did not cosign.
const RETRY: Duration = Duration::from_secs(2);

/// The configured witnesses, checked (key, URL, CA file) and each with its
/// client: done before the store is opened, so a bad setting stops the start
/// at once.
pub(crate) fn targets(witnesses: &[WitnessConfig]) -> Result<Vec<Target>, ServiceError> {
    witnesses
        .iter()
        .map(|w| {
            let key = w
                .key
                .parse()
                .map_err(|e| ServiceError::Config(format!("witness {}: {e}", w.url)))?;
            Ok(Target {
                url: format!("{}/add-checkpoint", w.url.trim_end_matches('/')),
                key,
                http: w.client()?,
                known: 0,
            })
        })
        .collect()
}

impl WitnessClient {
    pub(crate) fn new(
        targets: Vec<Target>,
        audit_key: AuditPublicKey,
        instance: &str,
        store: Arc<dyn ResolverStore>,
        status: Arc<WitnessStatus>,
        view: Arc<LogView>,
    ) -> Self {
        Self {
            targets,
            audit_key,
            instance: instance.to_owned(),
            store,
            status,
            view,
        }
    }

    /// Runs until the log view stops changing for good (the writer stopped).
    pub(crate) async fn run(mut self) {
        let mut changed = self.view.subscribe();
        let mut open = true;
        let mut was_overdue = false;
        while open {
            let woke = tokio::time::timeout(RETRY, changed.changed()).await;
            if matches!(woke, Ok(Err(_))) || self.view.is_closed() {
                // One last offer of the closing checkpoint, then stop.
                open = false;
            }
            self.send_latest().await;
            let overdue = self.status.overdue();
            if overdue && !was_overdue {
                tracing::error!(
                    unwitnessed_secs = self.status.unwitnessed_secs(),
                    "no witness has cosigned the audit log for longer than max_unwitnessed_secs"
                );
            } else if was_overdue && !overdue {
                tracing::info!("a witness cosigned the audit log again");
            }
            was_overdue = overdue;
        }
    }

    /// Offers the latest checkpoint to every witness that has not cosigned it.
    async fn send_latest(&mut self) {
        let Some(cp) = self.view.latest() else {
            return;
        };
        let mut cosigned = false;
        for i in 0..self.targets.len() {
            cosigned |= self.offer(i, &cp).await;
        }
        self.status.pending(!cosigned);
    }

    /// Whether witness `i` has cosigned `cp` (now or before).
    async fn offer(&mut self, i: usize, cp: &SignedCheckpoint) -> bool {
        for _ in 0..2 {
            let Some(target) = self.targets.get(i) else {
                return false;
            };
            if target.known == cp.size() && target.known > 0 {
                return true;
            }
            let proof = if target.known == 0 {
                Vec::new()
            } else {
                match self.view.consistency_proof(target.known, cp.size()) {
                    Ok(p) => p,
                    Err(_) => {
                        tracing::error!(
                            witness = %target.url, witness_size = target.known, size = cp.size(),
                            "the witness knows a larger audit tree than this instance: the log was cut"
                        );
                        return false;
                    }
                }
            };
            let body = AddCheckpoint {
                old_size: target.known,
                proof,
                checkpoint: cp.clone(),
            }
            .to_body();
            let response = target.http.post(&target.url).body(body).send().await;
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    // With its causes: reqwest's own line hides why (a certificate
                    // no trusted CA signed, a refused connection).
                    let mut error = e.to_string();
                    let mut cause = std::error::Error::source(&e);
                    while let Some(c) = cause {
                        error = format!("{error}: {c}");
                        cause = c.source();
                    }
                    tracing::warn!(witness = %target.url, %error, "witness unreachable");
                    return false;
                }
            };
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if status == reqwest::StatusCode::CONFLICT {
                let known = text.trim().parse().unwrap_or(0);
                if let Some(t) = self.targets.get_mut(i) {
                    t.known = known;
                }
                continue;
            }
            if !status.is_success() {
                tracing::warn!(witness = %target.url, %status, "witness refused the checkpoint");
                return false;
            }
            return self.store_cosignature(i, cp, &text).await;
        }
        false
    }

    /// Checks a returned cosignature line and stores it.
    async fn store_cosignature(&mut self, i: usize, cp: &SignedCheckpoint, text: &str) -> bool {
        let Some(target) = self.targets.get(i) else {
            return false;
        };
        let key = target.key;
        let line = text.lines().find(|l| {
            let mut with = cp.clone();
            with.add_signature_line(l).is_ok() && with.cosigned_by(&self.audit_key, &key).is_some()
        });
        let Some(line) = line else {
            tracing::warn!(witness = %target.url, "the witness's answer holds no valid cosignature");
            return false;
        };
        let stored = self
            .store
            .cosign(
                self.instance.clone(),
                cp.size(),
                key.to_string(),
                line.to_owned(),
            )
            .await;
        if let Err(e) = stored {
            tracing::error!(error = %e, "storing a cosignature failed");
            return false;
        }
        if let Some(t) = self.targets.get_mut(i) {
            t.known = cp.size();
        }
        self.status.cosigned.fetch_add(1, Ordering::Relaxed);
        true
    }
}

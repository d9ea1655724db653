//! The witness: `waybill-redact witness serve`. It implements the c2sp.org
//! tlog-witness `add-checkpoint` protocol for the audit logs it is configured
//! for (origin and audit key each), and is meant to run on another host, under
//! another owner (a compliance department, a regulator).
//!
//! It cosigns a checkpoint only when the log signed it, its `old` size is the
//! size the witness last cosigned for that log, and the consistency proof from
//! that tree holds. So it never cosigns two trees that disagree (a fork) or a
//! smaller tree (a rollback). The last cosigned checkpoint of each log is kept
//! in the store folder, written to a temporary file, synced, renamed, and the
//! folder synced, before the cosignature is returned.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sha2::{Digest, Sha256};
use waybill_redact::{
    verify_consistency, AddCheckpoint, AuditPublicKey, SignedCheckpoint, WitnessKey,
    MAX_ADD_CHECKPOINT_BYTES,
};

use crate::error::ServiceError;

/// `witness serve` flags.
#[derive(Debug, clap::Args)]
pub struct WitnessArgs {
    /// The witness key file (`witness key-new` makes one).
    #[arg(long, value_name = "WITNESS.json")]
    pub key: PathBuf,
    /// The folder holding the last cosigned checkpoint of each log.
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
    /// A log to witness, `ORIGIN=WA1:…` (repeatable).
    #[arg(long = "log", value_name = "ORIGIN=WA1:…", required = true)]
    pub logs: Vec<String>,
    /// Where to listen, e.g. 127.0.0.1:7380.
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The key name on its cosignature lines.
    #[arg(long, value_name = "NAME", default_value = "waybill-redact-witness")]
    pub name: String,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate
    /// first). Without it the witness speaks plain HTTP, for a TLS proxy in
    /// front of it.
    #[arg(long, value_name = "CERT.pem", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM; owner-only, as every secret key
    /// file).
    #[arg(long, value_name = "KEY.pem", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Why a checkpoint was not cosigned, as the protocol answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: a malformed request, or a checkpoint smaller than `old`.
    Malformed,
    /// 403: the log's signature is missing or invalid.
    BadSignature,
    /// 404: not a log this witness is configured for.
    UnknownLog,
    /// 409: `old` is not the size last cosigned, which is given.
    Conflict(u64),
    /// 422: the consistency proof fails: the tree forked.
    Inconsistent,
    /// 500: the store could not be written (nothing was cosigned).
    Store(String),
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Self::Malformed => StatusCode::BAD_REQUEST,
            Self::BadSignature => StatusCode::FORBIDDEN,
            Self::UnknownLog => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Inconsistent => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Conflict(size) => (
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "text/x.tlog.size")],
                format!("{size}\n"),
            )
                .into_response(),
            other => other.status().into_response(),
        }
    }
}

/// A witness: its key, its logs, and the last checkpoint it cosigned for each.
pub struct Witness {
    key: WitnessKey,
    name: String,
    logs: HashMap<String, AuditPublicKey>,
    store: PathBuf,
    latest: Mutex<HashMap<String, SignedCheckpoint>>,
}

fn store_file(store: &Path, origin: &str) -> PathBuf {
    store.join(format!(
        "{}.checkpoint",
        hex::encode(Sha256::digest(origin))
    ))
}

impl Witness {
    /// A witness over `store`, loading the last checkpoint of each log from it.
    ///
    /// # Errors
    /// [`ServiceError`] when the store cannot be read or holds a checkpoint the
    /// log's key did not sign.
    pub fn open(
        key: WitnessKey,
        name: &str,
        logs: HashMap<String, AuditPublicKey>,
        store: &Path,
    ) -> Result<Self, ServiceError> {
        std::fs::create_dir_all(store)?;
        let mut latest = HashMap::new();
        for (origin, log_key) in &logs {
            let path = store_file(store, origin);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            let cp = SignedCheckpoint::from_text(&text)
                .ok()
                .filter(|cp| cp.origin() == origin && cp.verify(log_key))
                .ok_or_else(|| {
                    ServiceError::Config(format!(
                        "{}: not a checkpoint of {origin} signed by its key",
                        path.display()
                    ))
                })?;
            latest.insert(origin.clone(), cp);
        }
        Ok(Self {
            key,
            name: name.to_owned(),
            logs,
            store: store.to_owned(),
            latest: Mutex::new(latest),
        })
    }

    /// The last checkpoint cosigned for `origin`.
    pub fn latest(&self, origin: &str) -> Option<SignedCheckpoint> {
        let latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        latest.get(origin).cloned()
    }

    /// Handles an `add-checkpoint` body: the cosignature line, once the
    /// cosigned checkpoint is durable.
    ///
    /// # Errors
    /// The [`Refusal`] the protocol answers with.
    pub fn add_checkpoint(&self, body: &str, now: u64) -> Result<String, Refusal> {
        let request = AddCheckpoint::from_body(body).ok_or(Refusal::Malformed)?;
        let mut cp = request.checkpoint;
        let log_key = self.logs.get(cp.origin()).ok_or(Refusal::UnknownLog)?;
        if !cp.verify(log_key) {
            return Err(Refusal::BadSignature);
        }
        // One checkpoint at a time: the check and the write are one step.
        let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let known = latest.get(cp.origin());
        let known_size = known.map_or(0, SignedCheckpoint::size);
        if request.old_size != known_size {
            return Err(Refusal::Conflict(known_size));
        }
        if cp.size() < request.old_size {
            return Err(Refusal::Malformed);
        }
        if let Some(known) = known {
            verify_consistency(
                &request.proof,
                known.size(),
                cp.size(),
                known.root(),
                cp.root(),
            )
            .map_err(|_| Refusal::Inconsistent)?;
        } else if !request.proof.is_empty() {
            return Err(Refusal::Malformed);
        }
        cp.cosign(&self.key, &self.name, now)
            .map_err(|_| Refusal::Store("the witness name is not a key name".into()))?;
        persist(&store_file(&self.store, cp.origin()), cp.as_text())
            .map_err(|e| Refusal::Store(e.to_string()))?;
        let line = cp
            .as_text()
            .lines()
            .rev()
            .find(|l| l.starts_with(&format!("— {} ", self.name)))
            .map(|l| format!("{l}\n"))
            .unwrap_or_default();
        latest.insert(cp.origin().to_owned(), cp);
        Ok(line)
    }
}

/// Replaces `path` with `text` durably: temporary file, sync, rename, sync of
/// the folder.
fn persist(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return Refusal::Malformed.into_response();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let result = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body, now)).await;
    match result {
        Ok(Ok(line)) => (StatusCode::OK, line).into_response(),
        Ok(Err(refusal)) => {
            tracing::warn!(?refusal, "checkpoint refused");
            refusal.into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The witness's routes: `POST /add-checkpoint`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(axum::extract::DefaultBodyLimit::max(
            MAX_ADD_CHECKPOINT_BYTES,
        ))
        .with_state(witness)
}

/// `witness serve`: runs until interrupted.
///
/// # Errors
/// [`ServiceError`] for a bad key, log or store, or a listener that cannot bind.
pub async fn serve(args: WitnessArgs) -> Result<(), ServiceError> {
    let key = WitnessKey::from_json(&crate::read_key_file(&args.key)?)
        .map_err(|e| ServiceError::Key(format!("{}: {e}", args.key.display())))?;
    let mut logs = HashMap::new();
    for log in &args.logs {
        let (origin, public) = log
            .split_once('=')
            .ok_or_else(|| ServiceError::Config(format!("--log {log}: use ORIGIN=WA1:…")))?;
        let public = public
            .parse()
            .map_err(|e| ServiceError::Config(format!("--log {log}: {e}")))?;
        logs.insert(origin.to_owned(), public);
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
        _ => None,
    };
    let witness = Arc::new(Witness::open(key, &args.name, logs, &args.store)?);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(
        listen = %args.listen, https = tls.is_some(), public = %witness.key.public_key(),
        "witness listening"
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match tls {
        Some(tls) => serve_tls(listener, tls, router(witness), shutdown).await,
        None => {
            axum::serve(listener, router(witness))
                .with_graceful_shutdown(shutdown)
                .await?;
        }
    }
    Ok(())
}

/// The TLS side of `--tls-cert/--tls-key` (rustls with ring, TLS 1.2 and 1.3).
fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, ServiceError> {
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls::{crypto, ServerConfig};
    let bad =
        |e: &dyn std::fmt::Display| ServiceError::Config(format!("--tls-cert/--tls-key: {e}"));
    let chain = std::fs::read(cert).map_err(|e| bad(&format_args!("{}: {e}", cert.display())))?;
    let chain = CertificateDer::pem_slice_iter(&chain)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&format_args!("{}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(bad(&format_args!("{}: no PEM certificate", cert.display())));
    }
    let key_pem = crate::read_key_file(key)?;
    let key_der = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| bad(&format_args!("{}: {e}", key.display())))?;
    let config = ServerConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key_der))
        .map_err(|e| bad(&e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` over TLS until `shutdown`, then lets open connections
/// finish their requests (a few seconds at most).
async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: tokio_rustls::TlsAcceptor,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(10));
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let tls = tls.clone();
        let service = TowerToHyperService::new(router.clone());
        let http = http.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // A client that never finishes its handshake holds one task, for
            // 10 s at most.
            let handshake =
                tokio::time::timeout(std::time::Duration::from_secs(10), tls.accept(stream));
            let Ok(Ok(stream)) = handshake.await else {
                return;
            };
            let _ = watcher
                .watch(http.serve_connection(TokioIo::new(stream), service))
                .await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
}

/// `witness serve`: the whole command.
pub fn witness_command(args: WitnessArgs) -> std::process::ExitCode {
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServiceError::from)
        .and_then(|rt| rt.block_on(serve(args)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: witness serve: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waybill_redact::{audit_origin, AuditKey, AuditTree};

    fn grown(tree: &mut AuditTree, n: u8) {
        for i in 0..n {
            tree.push_leaf_hash([i; 32]);
        }
    }

    #[test]
    fn the_witness_cosigns_consistent_checkpoints_and_refuses_forks_rollbacks_and_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditKey::generate();
        let origin = audit_origin("node-a");
        let logs = HashMap::from([(origin.clone(), log.public_key())]);
        let witness =
            Witness::open(WitnessKey::generate(), "w1", logs.clone(), dir.path()).unwrap();
        let public = witness.key.public_key();
        let mut tree = AuditTree::new();
        grown(&mut tree, 5);
        let request = |old: u64, proof: Vec<[u8; 32]>, tree: &AuditTree| {
            AddCheckpoint {
                old_size: old,
                proof,
                checkpoint: log
                    .sign_checkpoint(&origin, tree.size(), tree.root())
                    .unwrap(),
            }
            .to_body()
        };
        let line = witness
            .add_checkpoint(&request(0, vec![], &tree), 1_800_000_000)
            .unwrap();
        assert!(line.starts_with("— w1 "), "{line}");
        let five = tree.clone();
        grown(&mut tree, 3);
        // Wrong old size: 409 with the size it knows.
        assert_eq!(
            witness.add_checkpoint(&request(0, vec![], &tree), 1),
            Err(Refusal::Conflict(5))
        );
        let proof = tree.consistency_proof(5, 8).unwrap();
        witness
            .add_checkpoint(&request(5, proof, &tree), 2)
            .unwrap();
        // A fork: another tree of 9 whose first 8 leaves differ.
        let mut fork = five.clone();
        for _ in 0..4 {
            fork.push_leaf_hash([99; 32]);
        }
        let bogus = fork.consistency_proof(8, fork.size()).unwrap();
        assert_eq!(
            witness.add_checkpoint(&request(8, bogus, &fork), 3),
            Err(Refusal::Inconsistent)
        );
        // A rollback to 5 (claiming old 8): refused.
        assert_eq!(
            witness.add_checkpoint(&request(8, vec![], &five), 4),
            Err(Refusal::Malformed)
        );
        // Another log key, another origin.
        let stranger = AddCheckpoint {
            old_size: 8,
            proof: vec![],
            checkpoint: AuditKey::generate()
                .sign_checkpoint(&origin, 8, tree.root())
                .unwrap(),
        };
        assert_eq!(
            witness.add_checkpoint(&stranger.to_body(), 5),
            Err(Refusal::BadSignature)
        );
        let unknown = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: log
                .sign_checkpoint(&audit_origin("other"), 8, tree.root())
                .unwrap(),
        };
        assert_eq!(
            witness.add_checkpoint(&unknown.to_body(), 5),
            Err(Refusal::UnknownLog)
        );
        // The state survives a restart: the reopened witness knows size 8,
        // cosigned by it.
        let reopened = Witness::open(WitnessKey::generate(), "w1", logs, dir.path()).unwrap();
        let latest = reopened.latest(&origin).unwrap();
        assert_eq!((latest.size(), latest.root()), (8, tree.root()));
        assert_eq!(latest.cosigned_by(&log.public_key(), &public), Some(2));
    }
}

//! The shared store: PostgreSQL. Rate and quota are decided by one statement
//! per batch of claims (`INSERT … ON CONFLICT DO UPDATE … RETURNING` over
//! arrays), so any number of instances never allow more than a grant's quota.
//! Each instance keeps its own audit chain.
//!
//! Two tasks per instance, each with its own connection and its statements
//! prepared once, each on its own thread (so that request tasks never delay
//! their round trips): the claimer decides whatever claims queued since its last
//! statement, the auditor commits whatever records queued since its last
//! commit, one binary `COPY` each time (with the batch's checkpoints and
//! revocations, if any, in the same transaction).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::Client;
use waybill_redact::{AuditEvent, AuditRecord, ReplayGuard, Revocation};

use crate::error::StoreError;
use crate::metrics::Metrics;
use crate::revocation_log::RevocationChange;
use crate::store::{
    BoxFuture, Checkpointing, Claim, Decision, Queue, RateParams, ResolverStore, Undelivered,
};

mod audit;
mod claim;
mod export;
mod migrations;
mod roles;
mod timeouts;
mod tls;

use audit::Auditor;
use claim::Claimer;
use export::resume;
pub use roles::{grant_service_role, migrate_as_owner, service_grants_sql, SERVICE_GRANTS};
use roles::{migrate_if_needed, warn_if_privileged};
use tls::Target;

/// The PostgreSQL store.
pub struct PostgresStore {
    claims: Queue,
    writes: Queue,
    pool: Pool,
}
/// The error's text; for a database error its message only (never its detail,
/// which may quote row values).
pub(super) fn pg(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Unavailable(format!("{}: {}", db.code().code(), db.message())),
        // The cause says which: a refused connection, a certificate from an
        // unknown CA, a server without TLS …
        None => StoreError::Unavailable(match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        }),
    }
}

fn config(url: &str) -> Result<Target, StoreError> {
    let mut target = tls::target(url)?;
    target.config.connect_timeout(Duration::from_secs(2));
    target.config.application_name("waybill-redact-service");
    Ok(target)
}

pub(super) async fn connect(target: &Target) -> Result<Client, StoreError> {
    let (client, connection) = target
        .config
        .connect(target.tls.clone())
        .await
        .map_err(pg)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            crate::logline::store_error("connection", &e);
        }
    });
    Ok(client)
}

/// Runs `task` on a thread of its own, with a single-threaded runtime.
fn spawn_thread(
    name: &str,
    task: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StoreError> {
    let unavailable = |e: std::io::Error| StoreError::Unavailable(e.to_string());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(unavailable)?;
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || runtime.block_on(task))
        .map(drop)
        .map_err(unavailable)
}

impl PostgresStore {
    /// Connects, applies migrations, resumes this instance's chain and starts
    /// the claimer and the auditor, whose statements take `timeout` at most
    /// (`timeouts.rs`). Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be reached or migrated, or the
    /// chain's last record is damaged.
    pub async fn open(
        url: &str,
        instance: &str,
        signing: Checkpointing,
        rate: RateParams,
        metrics: Arc<Metrics>,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let config = config(url)?;
        let mut client = connect(&config).await?;
        migrate_if_needed(&mut client).await?;
        warn_if_privileged(&client).await;
        let state = resume(&client, instance, &signing).await?;
        drop(client);
        let manager = Manager::from_config(
            config.config.clone(),
            config.tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(4)
            .wait_timeout(Some(Duration::from_secs(2)))
            .create_timeout(Some(Duration::from_secs(2)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let (claims, claims_rx) = Queue::new(metrics.clone());
        let (writes, writes_rx) = Queue::new(metrics.clone());
        let owed = timeouts::Owed::default();
        let claimer = Claimer::new(config.clone(), rate, timeout, owed.clone());
        spawn_thread("pg-claimer", claimer.run(claims_rx, metrics.clone()))?;
        let auditor = Auditor::new(config, instance, state, signing, timeout, owed);
        spawn_thread("pg-auditor", auditor.run(writes_rx, metrics))?;
        Ok(Self {
            claims,
            writes,
            pool,
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

impl ResolverStore for PostgresStore {
    fn acquire(&self, claim: Claim) -> BoxFuture<'_, Result<Decision, StoreError>> {
        Box::pin(self.claims.acquire(claim))
    }

    fn admit(&self, guard: ReplayGuard) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(self.claims.admit(guard))
    }

    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.writes.append(event))
    }

    fn undelivered(&self, u: Undelivered) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.writes.undelivered(u))
    }

    fn revoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(
            self.writes
                .revoke(RevocationChange::new(revocations, false)),
        )
    }

    fn unrevoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.writes.revoke(RevocationChange::new(revocations, true)))
    }

    fn revocation_records(&self) -> BoxFuture<'_, Result<Vec<AuditRecord>, StoreError>> {
        Box::pin(async move { export::revocation_records(&**self.client().await?).await })
    }

    fn restore_revocations(
        &self,
        revocations: Vec<Revocation>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let kinds: Vec<&str> = revocations.iter().map(Revocation::kind).collect();
            let subjects: Vec<String> = revocations.iter().map(Revocation::subject).collect();
            self.client()
                .await?
                .execute(
                    "INSERT INTO revocations (kind, subject) \
                     SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                    &[&kinds, &subjects],
                )
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    fn revocations(&self) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query("SELECT kind, subject FROM revocations", &[])
                .await
                .map_err(pg)?;
            Ok(rows
                .iter()
                .filter_map(|r| Revocation::from_parts(r.get(0), r.get(1)))
                .collect())
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.client()
                .await?
                .query_one("SELECT 1", &[])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    fn cosign(
        &self,
        instance: String,
        size: u64,
        witness: String,
        line: String,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let size = i64::try_from(size).unwrap_or(i64::MAX);
            self.client()
                .await?
                .execute(
                    "INSERT INTO audit_cosignatures (instance, size, witness, line)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[&instance, &size, &witness, &line],
                )
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    fn export(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move { export::export(&**self.client().await?).await })
    }

    fn close(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.writes.close())
    }
}

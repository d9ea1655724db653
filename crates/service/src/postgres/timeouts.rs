//! Deadlines on the writers' statements.
//!
//! Each writer's connection runs under `statement_timeout` and `lock_timeout`
//! (the server cancels a statement that runs or waits too long, and rolls it
//! back) and `idle_in_transaction_session_timeout` (a transaction left open by
//! a client that vanished is ended). Those need a server that runs: a frozen
//! or partitioned one answers nothing, so the writer also gives up on its side
//! ([`bounded`]) and answers its batch 503.
//!
//! A statement given up on this way may still commit when the server comes
//! back: its outcome is in doubt. The writer hands it, still running on its own
//! connection, to a task that waits for the outcome ([`DOUBT_WAIT`] at most).
//! A server that was frozen answers it exactly, once it runs again: either an
//! error (its own statement timeout fired on resume and rolled it back), or
//! the statement's result, and then what was committed for answers already
//! given as 503 is made good (`delivery.rs`): quota units given back, "answer
//! not delivered" records after the allowed records. An outcome still unknown
//! after [`DOUBT_WAIT`], or a connection lost without an answer, is logged as
//! an error and nothing is given back (quota stays spent: never more
//! disclosures than a grant allows).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_postgres::Client;
use waybill_redact::GrantId;

use crate::store::Undelivered;

/// How long the outcome of a statement given up on is awaited.
pub(super) const DOUBT_WAIT: Duration = Duration::from_secs(300);

/// Puts a writer's connection under the server-side timeouts: statements and
/// lock waits `timeout`, an idle open transaction twice that.
pub(super) async fn limit(client: &Client, timeout: Duration) -> Result<(), tokio_postgres::Error> {
    let ms = timeout.as_millis().max(1);
    client
        .batch_execute(&format!(
            "SET statement_timeout = {ms}; SET lock_timeout = {ms}; \
             SET idle_in_transaction_session_timeout = {}",
            ms.saturating_mul(2)
        ))
        .await
}

/// Lifts the statement timeout for a long read (resuming a chain), until the
/// next [`limit`].
pub(super) async fn unlimit(client: &Client) -> Result<(), tokio_postgres::Error> {
    client.batch_execute("SET statement_timeout = 0").await
}

/// A boxed future that can be handed to another task while it runs.
pub(super) type Pending<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs `work` for `timeout` at most: its output, or the work still running.
pub(super) async fn bounded<T>(mut work: Pending<T>, timeout: Duration) -> Result<T, Pending<T>> {
    tokio::select! {
        out = &mut work => Ok(out),
        () = tokio::time::sleep(timeout) => Err(work),
    }
}

/// Whether a failed statement certainly did not commit: the server answered
/// with an error. A lost connection leaves the outcome unknown.
pub(super) fn rolled_back(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some()
}

/// Answers given as 503 whose quota units (and "answer not delivered"
/// records) are still to be committed: filled by the claimer and the auditor
/// when a statement given up on committed after all, or a batch failed;
/// emptied by the auditor's next commit, which retries them until they land.
#[derive(Debug, Clone, Default)]
pub(super) struct Owed(Arc<Mutex<Vec<Undelivered>>>);

impl Owed {
    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Undelivered>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds what is owed.
    pub(super) fn push(&self, items: impl IntoIterator<Item = Undelivered>) {
        self.list().extend(items);
    }

    /// Quota units to give back, without records (nothing was audited as
    /// allowed for them).
    pub(super) fn give_back(&self, grants: impl IntoIterator<Item = GrantId>) {
        self.push(grants.into_iter().map(|grant| Undelivered {
            grant,
            record: None,
        }));
    }

    /// Everything owed so far, for one commit.
    pub(super) fn take(&self) -> Vec<Undelivered> {
        std::mem::take(&mut *self.list())
    }
}

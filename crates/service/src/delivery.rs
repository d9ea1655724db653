//! Whether a request's answer reached its handler in time, decided once.
//!
//! A request's tokens are resolved in tasks of their own, so that a client
//! that hangs up (or a deadline that passes) never cuts a claim or an audit
//! commit in half. Such a task may therefore finish after its request was
//! answered 503. A disclosure whose audit record commits after that was never
//! sent: the task hands it to the handler through [`Delivery`], and exactly
//! one of two things happens under its lock:
//!
//! - the handler takes the answers and sends them ([`Delivery::send`]); or
//! - the handler was dropped, or gave up at the deadline
//!   ([`Delivery::abandon`]): every allowed record already committed, and any
//!   committed later ([`Delivery::committed`] returns it), is followed by an
//!   "answer not delivered" record and its quota unit is given back
//!   ([`crate::store::ResolverStore::undelivered`]).
//!
//! A claim granted after the request was abandoned is given back the same way,
//! without a record (nothing was opened or audited as allowed).

use std::sync::{Arc, Mutex};

use waybill_redact::{AuditEvent, GrantId};

use crate::http::App;
use crate::store::Undelivered;

/// An allowed answer whose record is committed, waiting to be sent.
#[derive(Debug)]
pub(crate) struct Spent {
    /// The allowed record's position in its chain.
    pub(crate) seq: u64,
    /// The allowed record's event.
    pub(crate) event: AuditEvent,
    /// Its grant, whose quota unit it spent.
    pub(crate) grant: GrantId,
}

#[derive(Debug)]
enum Fate {
    /// Not answered yet: the allowed records committed so far.
    Pending(Vec<Spent>),
    /// The handler has the answers and sends them.
    Sent,
    /// The request was answered 503 (or its client is gone) without them.
    Abandoned,
}

/// One request's fate.
#[derive(Debug)]
pub(crate) struct Delivery(Mutex<Fate>);

impl Default for Delivery {
    fn default() -> Self {
        Self(Mutex::new(Fate::Pending(Vec::new())))
    }
}

impl Delivery {
    fn fate(&self) -> std::sync::MutexGuard<'_, Fate> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the request was answered without its tokens' answers.
    pub(crate) fn abandoned(&self) -> bool {
        matches!(*self.fate(), Fate::Abandoned)
    }

    /// A token's allowed record committed: kept for the handler (`None`), or
    /// handed back when the request was abandoned (the caller records that it
    /// was not delivered).
    pub(crate) fn committed(&self, spent: Spent) -> Option<Spent> {
        match &mut *self.fate() {
            Fate::Pending(list) => {
                list.push(spent);
                None
            }
            // `Sent` cannot happen: the handler sends only after every token's
            // task has finished.
            Fate::Sent | Fate::Abandoned => Some(spent),
        }
    }

    /// The handler sends the answers: true unless the request was abandoned
    /// first.
    pub(crate) fn send(&self) -> bool {
        let mut fate = self.fate();
        match *fate {
            Fate::Pending(_) => {
                *fate = Fate::Sent;
                true
            }
            Fate::Sent => true,
            Fate::Abandoned => false,
        }
    }

    /// The request is answered without its tokens' answers: the allowed
    /// records committed so far, to be followed by "not delivered" records.
    pub(crate) fn abandon(&self) -> Vec<Spent> {
        let mut fate = self.fate();
        match std::mem::replace(&mut *fate, Fate::Abandoned) {
            Fate::Pending(list) => list,
            Fate::Sent => {
                *fate = Fate::Sent;
                Vec::new()
            }
            Fate::Abandoned => Vec::new(),
        }
    }
}

/// Held by a request's handler: unless the handler sent its answers, dropping
/// it (the deadline layer drops the handler) abandons the request and records
/// its committed allowed answers as not delivered.
pub(crate) struct AbandonOnDrop {
    pub(crate) app: Arc<App>,
    pub(crate) request: Arc<crate::client::Allowance>,
}

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        let spent = self.request.delivery.abandon();
        if spent.is_empty() {
            return;
        }
        let app = self.app.clone();
        // Dropped inside the runtime (a handler future): spawning is possible.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                for s in spent {
                    app.not_delivered(s).await;
                }
            });
        }
    }
}

impl App {
    /// Records that an allowed answer was not delivered and gives its quota
    /// unit back (one store job: both or neither).
    pub(crate) async fn not_delivered(&self, spent: Spent) {
        let job = Undelivered {
            grant: spent.grant,
            record: Some(crate::store::not_delivered_event(spent.seq, &spent.event)),
        };
        if let Err(e) = self.store.undelivered(job).await {
            crate::logline::store_error("undelivered", &e);
        }
    }

    /// Gives back the quota unit of a claim granted after its request was
    /// abandoned (nothing was opened or audited as allowed).
    pub(crate) async fn give_back(&self, grant: GrantId) {
        let job = Undelivered {
            grant,
            record: None,
        };
        if let Err(e) = self.store.undelivered(job).await {
            crate::logline::store_error("undelivered", &e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waybill_redact::{Outcome, Purpose};

    fn spent(seq: u64) -> Spent {
        Spent {
            seq,
            event: AuditEvent::new(
                time::OffsetDateTime::UNIX_EPOCH,
                Purpose::Delivery,
                Outcome::Allowed,
            ),
            grant: GrantId::from_bytes([1; 16]),
        }
    }

    #[test]
    fn answers_committed_before_an_abandon_are_handed_to_it_and_later_ones_back() {
        let d = Delivery::default();
        assert!(d.committed(spent(1)).is_none());
        assert!(!d.abandoned());
        let taken = d.abandon();
        assert_eq!(taken.iter().map(|s| s.seq).collect::<Vec<_>>(), [1]);
        assert!(d.abandoned());
        assert_eq!(d.committed(spent(2)).map(|s| s.seq), Some(2));
        assert!(!d.send(), "an abandoned request sends nothing");
        assert!(d.abandon().is_empty(), "abandoned once");
    }

    #[test]
    fn a_sent_request_is_never_abandoned() {
        let d = Delivery::default();
        assert!(d.committed(spent(1)).is_none());
        assert!(d.send());
        assert!(d.abandon().is_empty());
        assert!(!d.abandoned());
    }
}

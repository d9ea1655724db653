//! Logging: the subscriber (text or JSON, `RUST_LOG`), and a limiter for lines
//! that a fault repeats on every request (store errors, failed admin keys), so
//! an outage writes one line per kind a second instead of one per request.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text when standard error is a terminal, JSON otherwise.
    #[default]
    Auto,
    /// One JSON object a line.
    Json,
    /// Human-readable lines (coloured only on a terminal).
    Text,
}

/// Starts logging to standard error. The level comes from `RUST_LOG`
/// (`info` when unset or unparsable). ANSI colours only on a terminal. A second
/// call does nothing.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = std::io::stderr().is_terminal();
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !terminal,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.with_ansi(terminal).try_init()
    };
}

/// One line per kind per period; the lines held back are counted and the
/// count rides on the next line of that kind.
#[derive(Debug)]
pub(crate) struct Limiter {
    period: Duration,
    kinds: Mutex<HashMap<&'static str, (Instant, u64)>>,
}

impl Limiter {
    pub(crate) fn new(period: Duration) -> Self {
        Self {
            period,
            kinds: Mutex::default(),
        }
    }

    /// `Some(suppressed since the last line)` when a line of `kind` may be
    /// written now, `None` when it is held back (and counted).
    pub(crate) fn admit(&self, kind: &'static str) -> Option<u64> {
        let now = Instant::now();
        let mut kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
        match kinds.get_mut(kind) {
            Some((last, held)) if now.duration_since(*last) < self.period => {
                *held += 1;
                None
            }
            Some((last, held)) => {
                *last = now;
                Some(std::mem::take(held))
            }
            None => {
                kinds.insert(kind, (now, 0));
                Some(0)
            }
        }
    }
}

static LINES: LazyLock<Limiter> = LazyLock::new(|| Limiter::new(Duration::from_secs(1)));

/// Whether a line of `kind` may be written now (one a second per kind).
pub(crate) fn admit_io(kind: &'static str) -> bool {
    LINES.admit(kind).is_some()
}

/// Logs a store error at most once a second per `kind` (a short, fixed name of
/// the step that failed), with how many were held back since the last line.
pub(crate) fn store_error(kind: &'static str, error: &dyn std::fmt::Display) {
    if let Some(suppressed) = LINES.admit(kind) {
        tracing::error!(kind, suppressed, error = %error, "store error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_kind_per_period_with_the_held_back_count() {
        let l = Limiter::new(Duration::from_millis(200));
        assert_eq!(l.admit("claim"), Some(0));
        assert_eq!(l.admit("claim"), None);
        assert_eq!(l.admit("claim"), None);
        assert_eq!(l.admit("commit"), Some(0), "kinds are separate");
        std::thread::sleep(Duration::from_millis(220));
        assert_eq!(l.admit("claim"), Some(2));
        assert_eq!(l.admit("claim"), None);
    }
}

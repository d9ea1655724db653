//! The resolver's clock: every check uses server time, never the caller's.

use core::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// Where a [`Resolver`](crate::Resolver) reads the time. The default is
/// [`SystemClock`]; tests use [`FixedClock`].
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that shows a time set by hand (whole seconds): for tests and for the
/// hidden `--now` test switch, never for a serving resolver.
#[derive(Debug)]
pub struct FixedClock {
    unix: AtomicI64,
}

impl FixedClock {
    /// A clock stopped at `time`.
    pub fn new(time: OffsetDateTime) -> Self {
        Self {
            unix: AtomicI64::new(time.unix_timestamp()),
        }
    }

    /// Moves the clock to `time` (backwards too).
    pub fn set(&self, time: OffsetDateTime) {
        self.unix.store(time.unix_timestamp(), Ordering::Relaxed);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.unix.load(Ordering::Relaxed))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

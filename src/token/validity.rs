//! When a token is valid: its issue time and lifetime, and the coarse expiry
//! bound that the clear header carries.

use time::{Duration, OffsetDateTime};

use crate::token::{SealError, TokenError};

/// The unit of the clear expiry bound: 28 days. The header says only in which
/// 28-day period a token expires, so a photo of the QR dates the label to within
/// four weeks; the exact expiry is sealed inside.
pub(crate) const EXPIRY_PERIOD_SECS: u64 = 28 * 86_400;

/// The longest token lifetime sealed: ten years.
pub(crate) const MAX_TTL_SECS: u64 = 3650 * 86_400;

/// How far in the future a payload's issue time may be, against the resolver's
/// clock, before the token is refused: five minutes of clock skew.
pub const ISSUED_AT_SKEW_SECS: u64 = 300;

/// When a token is issued and for how long it opens.
///
/// # Guarantees
/// - The issue time is at or after 1970-01-01.
/// - The lifetime is 1 second to 3650 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    issued_at: u64,
    expires_at: u64,
}

impl Validity {
    /// A token issued at `issued_at` that expires `ttl` later.
    ///
    /// # Errors
    /// [`TokenError::Seal`] with [`SealError::IssuedBeforeEpoch`] or
    /// [`SealError::Lifetime`].
    pub fn new(issued_at: OffsetDateTime, ttl: Duration) -> Result<Self, TokenError> {
        let issued = u64::try_from(issued_at.unix_timestamp())
            .map_err(|_| TokenError::Seal(SealError::IssuedBeforeEpoch))?;
        let ttl = u64::try_from(ttl.whole_seconds())
            .ok()
            .filter(|t| (1..=MAX_TTL_SECS).contains(t))
            .ok_or(TokenError::Seal(SealError::Lifetime))?;
        Ok(Self {
            issued_at: issued,
            expires_at: issued + ttl,
        })
    }

    /// A token issued at `issued_at` that expires `days` days later.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn days(issued_at: OffsetDateTime, days: u16) -> Result<Self, TokenError> {
        Self::new(issued_at, Duration::days(i64::from(days)))
    }

    /// The issue time, unix seconds.
    pub fn issued_at_unix(&self) -> u64 {
        self.issued_at
    }

    /// The exact expiry, unix seconds.
    pub fn expires_at_unix(&self) -> u64 {
        self.expires_at
    }

    /// The clear header's expiry field: the 28-day period the expiry falls in,
    /// `ceil(expires_at / EXPIRY_PERIOD_SECS)`.
    pub(crate) fn expiry_period(&self) -> Result<u16, TokenError> {
        u16::try_from(self.expires_at.div_ceil(EXPIRY_PERIOD_SECS))
            .map_err(|_| TokenError::Seal(SealError::Lifetime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    #[test]
    fn lifetime_and_period() {
        let v = Validity::days(t(1_795_831_200), 30).unwrap();
        assert_eq!(v.expires_at_unix(), 1_795_831_200 + 30 * 86_400);
        let period = u64::from(v.expiry_period().unwrap());
        assert!(period * EXPIRY_PERIOD_SECS >= v.expires_at_unix());
        assert!((period - 1) * EXPIRY_PERIOD_SECS < v.expires_at_unix());
        assert_eq!(
            Validity::new(t(0), Duration::ZERO),
            Err(TokenError::Seal(SealError::Lifetime))
        );
        assert_eq!(
            Validity::days(t(-1), 1),
            Err(TokenError::Seal(SealError::IssuedBeforeEpoch))
        );
        assert!(Validity::days(t(0), 3650).is_ok());
        assert!(Validity::days(t(0), 3651).is_err());
    }
}

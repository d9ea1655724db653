//! Why a resolve was refused, as a plain value: what [`Outcome`](crate::Outcome)
//! carries and what the audit log writes.

use std::fmt;
use std::str::FromStr;

use crate::Denied;

macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// The reason a resolve was refused, without its details: the value an
        /// [`Outcome`](crate::Outcome) carries and the audit log writes.
        ///
        /// [`as_str`](Self::as_str) is the stable text of the audit log's `reason`
        /// field (`zone_not_granted`); [`FromStr`] reads it back. Each reason is
        /// described on the matching [`Denied`] variant.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum DenialReason {
            $($(#[$doc])* $variant,)*
        }

        impl DenialReason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [DenialReason] = &[$(Self::$variant,)*];

            /// The stable machine-readable text, as written to the audit log.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }

        impl FromStr for DenialReason {
            type Err = UnknownDenialReason;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)*
                    _ => Err(UnknownDenialReason),
                }
            }
        }
    };
}

reasons! {
    /// See [`Denied::MalformedToken`].
    MalformedToken => "malformed_token",
    /// See [`Denied::MalformedGrant`].
    MalformedGrant => "malformed_grant",
    /// See [`Denied::UntrustedIssuer`].
    UntrustedIssuer => "untrusted_issuer",
    /// See [`Denied::BadSignature`].
    BadSignature => "bad_signature",
    /// See [`Denied::GrantNotYetValid`].
    GrantNotYetValid => "grant_not_yet_valid",
    /// See [`Denied::GrantExpired`].
    GrantExpired => "grant_expired",
    /// See [`Denied::GrantRevoked`].
    GrantRevoked => "grant_revoked",
    /// See [`Denied::ParcelRevoked`].
    ParcelRevoked => "parcel_revoked",
    /// See [`Denied::ZoneNotGranted`].
    ZoneNotGranted => "zone_not_granted",
    /// See [`Denied::TokenExpired`].
    TokenExpired => "token_expired",
    /// See [`Denied::UnknownSealer`].
    UnknownSealer => "unknown_sealer",
    /// See [`Denied::SealerRevoked`].
    SealerRevoked => "sealer_revoked",
    /// See [`Denied::IssuedInFuture`].
    IssuedInFuture => "issued_in_future",
    /// See [`Denied::BearerGrantRefused`].
    BearerGrantRefused => "bearer_grant_refused",
    /// See [`Denied::DeviceSignatureMissing`].
    DeviceSignatureMissing => "device_signature_missing",
    /// See [`Denied::DeviceSignatureInvalid`].
    DeviceSignatureInvalid => "device_signature_invalid",
    /// See [`Denied::RequestStale`].
    RequestStale => "request_stale",
    /// See [`Denied::RequestReplayed`].
    RequestReplayed => "request_replayed",
    /// See [`Denied::GrantTooLong`].
    GrantTooLong => "grant_too_long",
    /// See [`Denied::RateLimited`].
    RateLimited => "rate_limited",
    /// See [`Denied::QuotaExceeded`].
    QuotaExceeded => "quota_exceeded",
    /// See [`Denied::Unopenable`].
    Unopenable => "unopenable",
    /// See [`Denied::TokenLifetimeTooLong`].
    TokenLifetimeTooLong => "token_lifetime_too_long",
    /// See [`Denied::KeyRetired`].
    KeyRetired => "key_retired",
    /// See [`Denied::DirectoryExpired`].
    DirectoryExpired => "directory_expired",
    /// See [`Denied::AuditUnavailable`].
    AuditUnavailable => "audit_unavailable",
}

impl DenialReason {
    /// Whether an attempt refused for this reason had passed the rate limiter,
    /// and so consumed rate and quota (the token could not be opened, or said it
    /// was issued in the future: both are checked after the limiter).
    pub const fn consumes_quota(self) -> bool {
        matches!(self, Self::Unopenable | Self::IssuedInFuture)
    }
}

impl fmt::Display for DenialReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that is not one of the [`DenialReason`] codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown denial reason")]
#[non_exhaustive]
pub struct UnknownDenialReason;

impl Denied {
    /// The reason without its details, as an [`Outcome`](crate::Outcome) carries it.
    pub fn reason(&self) -> DenialReason {
        match self {
            Self::MalformedToken(_) => DenialReason::MalformedToken,
            Self::MalformedGrant(_) => DenialReason::MalformedGrant,
            Self::UntrustedIssuer => DenialReason::UntrustedIssuer,
            Self::BadSignature => DenialReason::BadSignature,
            Self::GrantNotYetValid => DenialReason::GrantNotYetValid,
            Self::GrantExpired => DenialReason::GrantExpired,
            Self::GrantRevoked => DenialReason::GrantRevoked,
            Self::ParcelRevoked => DenialReason::ParcelRevoked,
            Self::ZoneNotGranted => DenialReason::ZoneNotGranted,
            Self::TokenExpired => DenialReason::TokenExpired,
            Self::UnknownSealer => DenialReason::UnknownSealer,
            Self::SealerRevoked => DenialReason::SealerRevoked,
            Self::IssuedInFuture => DenialReason::IssuedInFuture,
            Self::BearerGrantRefused => DenialReason::BearerGrantRefused,
            Self::DeviceSignatureMissing => DenialReason::DeviceSignatureMissing,
            Self::DeviceSignatureInvalid => DenialReason::DeviceSignatureInvalid,
            Self::RequestStale => DenialReason::RequestStale,
            Self::RequestReplayed => DenialReason::RequestReplayed,
            Self::GrantTooLong => DenialReason::GrantTooLong,
            Self::RateLimited => DenialReason::RateLimited,
            Self::QuotaExceeded => DenialReason::QuotaExceeded,
            Self::Unopenable => DenialReason::Unopenable,
            Self::TokenLifetimeTooLong => DenialReason::TokenLifetimeTooLong,
            Self::KeyRetired => DenialReason::KeyRetired,
            Self::DirectoryExpired => DenialReason::DirectoryExpired,
            Self::AuditUnavailable => DenialReason::AuditUnavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_from_its_text() {
        for &reason in DenialReason::ALL {
            assert_eq!(reason.as_str().parse::<DenialReason>(), Ok(reason));
            assert_eq!(reason.to_string(), reason.as_str());
        }
        assert_eq!("allowed".parse::<DenialReason>(), Err(UnknownDenialReason));
        assert_eq!("".parse::<DenialReason>(), Err(UnknownDenialReason));
    }

    #[test]
    fn the_code_is_the_reason_text() {
        for denied in [
            Denied::UntrustedIssuer,
            Denied::ZoneNotGranted,
            Denied::RequestReplayed,
            Denied::Unopenable,
            Denied::AuditUnavailable,
        ] {
            assert_eq!(denied.code(), denied.reason().as_str());
        }
    }
}

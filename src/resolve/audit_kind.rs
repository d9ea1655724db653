//! What an audit record stands for. Every record written before kinds existed
//! is a resolve attempt; a record of another kind names it in an extension
//! field. Extension fields follow the nine fields of the hashed bytes, each
//! after a one-byte tag, in tag order, and only when present, so a record
//! that uses none hashes exactly as before (`docs/AUDIT.md`, "Record kinds").

use core::fmt;
use core::str::FromStr;

use super::revocation::Revocation;

/// What an audit record stands for.
///
/// The kind decides which fields a record carries (`docs/AUDIT.md`, "Record
/// kinds"); a record whose fields do not fit its kind does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuditKind {
    /// A resolve attempt, allowed or denied: every record without a `kind`.
    #[default]
    Resolve,
    /// A revocation came into force. Its subject is the record's `grant`,
    /// `tracking_number` (a parcel) or `sealer`.
    Revoked,
    /// A revocation was lifted; the subject as for [`Revoked`](Self::Revoked).
    Unrevoked,
    /// Refused attempts from one client address group that were not audited
    /// one by one, past the per-client allowance: `count` of them from
    /// `client` since that group's previous such record.
    Suppressed,
    /// The answer of an earlier allowed resolve of the same chain (`refers_to`,
    /// its `seq`) was not delivered: the request's deadline had passed.
    Undelivered,
}

impl AuditKind {
    /// The `kind` text: `resolve`, `revoked`, `unrevoked`, `suppressed` or
    /// `undelivered` (`resolve` is never written: it is the default).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Resolve => "resolve",
            Self::Revoked => "revoked",
            Self::Unrevoked => "unrevoked",
            Self::Suppressed => "suppressed",
            Self::Undelivered => "undelivered",
        }
    }

    /// Whether this is a revocation or its lifting.
    pub const fn is_revocation(self) -> bool {
        matches!(self, Self::Revoked | Self::Unrevoked)
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown record kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit record kind")]
pub struct UnknownAuditKind;

impl FromStr for AuditKind {
    type Err = UnknownAuditKind;
    fn from_str(s: &str) -> Result<Self, UnknownAuditKind> {
        Ok(match s {
            "resolve" => Self::Resolve,
            "revoked" => Self::Revoked,
            "unrevoked" => Self::Unrevoked,
            "suppressed" => Self::Suppressed,
            "undelivered" => Self::Undelivered,
            _ => return Err(UnknownAuditKind),
        })
    }
}

/// The extension fields' tags in the hashed bytes, in the order they are written.
pub(crate) mod tag {
    /// `kind`, when not `resolve`: text.
    pub(crate) const KIND: u8 = 0x01;
    /// `sealer`: text (8 lower-case hex digits).
    pub(crate) const SEALER: u8 = 0x02;
    /// `client`: text (an address or an IPv6 /64).
    pub(crate) const CLIENT: u8 = 0x03;
    /// `count`: u64, big-endian.
    pub(crate) const COUNT: u8 = 0x04;
    /// `refers_to`: u64, big-endian.
    pub(crate) const REFERS_TO: u8 = 0x05;
}

/// The subject of a revocation record: exactly one of its grant, parcel
/// (tracking number) or sealer, each in its canonical text.
pub(crate) fn revocation_subject(
    grant: Option<&str>,
    tracking_number: Option<&str>,
    sealer: Option<&str>,
) -> Option<Revocation> {
    let r = match (grant, tracking_number, sealer) {
        (Some(g), None, None) => Revocation::from_parts("grant", g)?,
        (None, Some(t), None) => Revocation::from_parts("parcel", t)?,
        (None, None, Some(s)) => Revocation::from_parts("sealer", s)?,
        _ => return None,
    };
    // Only the canonical text: one subject, one spelling.
    let subject = r.subject();
    (Some(subject.as_str()) == grant.or(tracking_number).or(sealer)).then_some(r)
}

/// Whether `client` is an address group as the service writes it: an IPv4
/// address, or an IPv6 address ending in `/64`.
pub(crate) fn is_client_group(client: &str) -> bool {
    match client.strip_suffix("/64") {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => client.parse::<std::net::Ipv4Addr>().is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_text() {
        for k in [
            AuditKind::Resolve,
            AuditKind::Revoked,
            AuditKind::Unrevoked,
            AuditKind::Suppressed,
            AuditKind::Undelivered,
        ] {
            assert_eq!(k.as_str().parse::<AuditKind>(), Ok(k));
        }
        assert_eq!("Revoked".parse::<AuditKind>(), Err(UnknownAuditKind));
    }

    #[test]
    fn a_revocation_names_one_subject_in_its_canonical_text() {
        let g = "07".repeat(16);
        assert!(revocation_subject(Some(&g), None, None).is_some());
        assert!(revocation_subject(None, Some("SF1234567890123"), None).is_some());
        assert!(revocation_subject(None, None, Some("e43f2dc1")).is_some());
        assert!(revocation_subject(None, None, Some("E43F2DC1")).is_none());
        assert!(revocation_subject(None, Some("sf1234567890123"), None).is_none());
        assert!(revocation_subject(Some(&g), None, Some("e43f2dc1")).is_none());
        assert!(revocation_subject(None, None, None).is_none());
    }

    #[test]
    fn client_groups_are_ipv4_addresses_or_ipv6_64s() {
        assert!(is_client_group("203.0.113.9"));
        assert!(is_client_group("2001:db8:1:2::/64"));
        assert!(!is_client_group("2001:db8:1:2::"));
        assert!(!is_client_group("203.0.113.9/64"));
        assert!(!is_client_group("somewhere"));
    }
}

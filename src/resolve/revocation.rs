//! Revoked grants, parcels and sealers, shared by every request of a running
//! resolver: readable and updatable through `&self`.

use std::collections::HashSet;
use std::sync::RwLock;

use crate::GrantId;

/// What a revocation names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Revocation {
    /// A grant, by id.
    Grant(GrantId),
    /// Every token of a parcel, by tracking number (upper-cased, trimmed).
    Parcel(String),
    /// Every token sealed by a sealer, by its id.
    Sealer(String),
}

impl Revocation {
    /// A parcel revocation with the tracking number normalised as tokens carry it.
    pub fn parcel(tracking_number: &str) -> Self {
        Self::Parcel(tracking_number.trim().to_ascii_uppercase())
    }

    /// The kind as stored: `grant`, `parcel` or `sealer`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Grant(_) => "grant",
            Self::Parcel(_) => "parcel",
            Self::Sealer(_) => "sealer",
        }
    }

    /// The revoked item's text: grant id in hex, tracking number or sealer id.
    pub fn subject(&self) -> String {
        match self {
            Self::Grant(id) => id.to_string(),
            Self::Parcel(t) | Self::Sealer(t) => t.clone(),
        }
    }

    /// Rebuilds a revocation from [`kind`](Self::kind) and [`subject`](Self::subject).
    pub fn from_parts(kind: &str, subject: &str) -> Option<Self> {
        match kind {
            "grant" => subject.parse().ok().map(Self::Grant),
            "parcel" if !subject.trim().is_empty() => Some(Self::parcel(subject)),
            "sealer" => subject
                .parse::<crate::SealerId>()
                .ok()
                .map(|id| Self::Sealer(id.to_string())),
            _ => None,
        }
    }
}

/// The set of revocations a resolver enforces. Cheap to read on every request;
/// a store refreshes it from the shared table.
#[derive(Debug, Default)]
pub struct Revocations {
    set: RwLock<HashSet<Revocation>>,
}

impl Revocations {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one revocation; returns whether it was new.
    pub fn insert(&self, revocation: Revocation) -> bool {
        self.set
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(revocation)
    }

    /// Adds many at once (one lock).
    pub fn extend(&self, revocations: impl IntoIterator<Item = Revocation>) {
        self.set
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .extend(revocations);
    }

    /// Lifts one revocation; returns whether it was in force.
    pub fn remove(&self, revocation: &Revocation) -> bool {
        self.set
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(revocation)
    }

    /// Replaces the whole set (one lock): what a store holds now, lifted
    /// revocations included.
    pub fn replace_all(&self, revocations: impl IntoIterator<Item = Revocation>) {
        let fresh: HashSet<Revocation> = revocations.into_iter().collect();
        *self.set.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    }

    /// Whether this exact revocation is in force.
    pub fn contains(&self, revocation: &Revocation) -> bool {
        self.set
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(revocation)
    }

    /// Whether a grant is revoked.
    pub fn grant_revoked(&self, id: GrantId) -> bool {
        self.contains(&Revocation::Grant(id))
    }

    /// Whether a parcel is revoked (`tracking_number` as the token carries it).
    pub fn parcel_revoked(&self, tracking_number: &str) -> bool {
        self.contains(&Revocation::Parcel(tracking_number.to_owned()))
    }

    /// Whether a sealer is revoked.
    pub fn sealer_revoked(&self, sealer: &str) -> bool {
        self.contains(&Revocation::Sealer(sealer.to_owned()))
    }

    /// How many revocations are in force.
    pub fn len(&self) -> usize {
        self.set.read().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

//! Limits on one record of batch input, so that hostile or broken input cannot
//! make the reader hold more than a bounded amount of memory.

/// How large one record of batch input may be. The limits are checked while the
/// record's bytes arrive, before any value is built from them, so a reader holds
/// at most about [`max_record_bytes`](Self::max_record_bytes) of input per record
/// (plus what is built from it) however long a line or array element is.
///
/// A record over a limit is reported as an error with its position
/// ([`ModelError::RecordTooLarge`](crate::ModelError::RecordTooLarge),
/// [`ModelError::TooManyEntries`](crate::ModelError::TooManyEntries)) and the
/// reader goes on with the next record where the format allows it.
///
/// # Guarantees
/// Both limits are at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    max_record_bytes: usize,
    max_items: usize,
}

impl InputLimits {
    /// The default size limit of one record: 64 KiB of input text. A typical
    /// record is under 1 KiB.
    pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 * 1024;
    /// The default limit on the entries of any JSON array in a record, `items`
    /// included: 100.
    pub const DEFAULT_MAX_ITEMS: usize = 100;

    /// The default limits.
    pub const fn new() -> Self {
        Self {
            max_record_bytes: Self::DEFAULT_MAX_RECORD_BYTES,
            max_items: Self::DEFAULT_MAX_ITEMS,
        }
    }

    /// Sets the largest record, in bytes of input text: a JSON Lines line (without
    /// its line break), a JSON array element or value, or a CSV row (its quotes
    /// and line break included; the header row too). 0 is taken as 1.
    #[must_use]
    pub const fn with_max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record_bytes = if bytes == 0 { 1 } else { bytes };
        self
    }

    /// Sets the most entries any JSON array in a record may hold (`items`, and
    /// the arrays of unknown keys). 0 is taken as 1.
    #[must_use]
    pub const fn with_max_items(mut self, items: usize) -> Self {
        self.max_items = if items == 0 { 1 } else { items };
        self
    }

    /// The largest record, in bytes.
    pub const fn max_record_bytes(&self) -> usize {
        self.max_record_bytes
    }

    /// The most entries of one JSON array.
    pub const fn max_items(&self) -> usize {
        self.max_items
    }
}

impl Default for InputLimits {
    fn default() -> Self {
        Self::new()
    }
}

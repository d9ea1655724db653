//! Errors of the waybill model: invalid input, named by field path, never by value.

/// Invalid waybill input. The `field` is a path such as `recipient.phone`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A required field is absent. Supply it.
    #[error("{field}: missing required field")]
    Missing {
        /// Path of the missing field.
        field: String,
    },
    /// A text field is empty or only white space. Supply a value.
    #[error("{field}: empty")]
    Empty {
        /// Path of the empty field.
        field: String,
    },
    /// A field is longer than the label and token can carry. Shorten it.
    #[error("{field}: too long ({len} characters, at most {max})")]
    TooLong {
        /// Path of the field.
        field: String,
        /// Its length in grapheme clusters (or bytes for ASCII identifiers).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field holds a control character. Remove it.
    #[error("{field}: contains a control character")]
    ControlCharacter {
        /// Path of the field.
        field: String,
    },
    /// A phone number has no digits, too few or too many, or a malformed prefix.
    #[error("{field}: invalid phone number: {reason}")]
    Phone {
        /// Path of the field.
        field: String,
        /// What is wrong (never the number itself).
        reason: &'static str,
    },
    /// A tracking number is malformed. Check it against the carrier's format.
    #[error("{field}: invalid tracking number: {reason}")]
    TrackingNumber {
        /// Path of the field.
        field: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A tracking number has the UPU S10 or GS1 SSCC shape but a wrong check digit.
    /// It was probably mistyped; re-read it from the source system.
    #[error("{field}: wrong check digit for {scheme} (expected {expected})")]
    CheckDigit {
        /// Path of the field.
        field: String,
        /// `UPU S10` or `GS1 SSCC`.
        scheme: &'static str,
        /// The digit the number should end with.
        expected: char,
    },
    /// A country is not an ISO 3166-1 alpha-2 code. Use codes such as `CN`, `HK`, `US`.
    #[error("{field}: unknown country code")]
    Country {
        /// Path of the field.
        field: String,
    },
    /// A field has the wrong JSON type or an out-of-range value.
    #[error("{field}: {reason}")]
    Invalid {
        /// Path of the field.
        field: String,
        /// What was expected.
        reason: &'static str,
    },
    /// A date-time is not RFC 3339 (`2026-11-28T10:00:00+08:00`).
    #[error("{field}: invalid RFC 3339 date-time")]
    DateTime {
        /// Path of the field.
        field: String,
    },
    /// A CSV row is malformed (wrong number of cells, bad quoting, not UTF-8).
    #[error("invalid CSV at line {line}: {reason}")]
    Csv {
        /// 1-based line in the file.
        line: u64,
        /// What is wrong, without the row's content.
        reason: &'static str,
    },
    /// The JSON is malformed or a field has the wrong type.
    #[error("invalid JSON at line {line}, column {column}: {reason}")]
    Json {
        /// 1-based line in the record's text.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's description, without the offending value.
        reason: String,
    },
    /// The record is larger than the reader's limit, so it was skipped unread.
    /// Split the record, or raise the limit
    /// ([`InputLimits::with_max_record_bytes`](crate::InputLimits::with_max_record_bytes))
    /// if it is genuine.
    #[error("too large: more than {max} bytes")]
    RecordTooLarge {
        /// The limit, in bytes of input text.
        max: usize,
    },
    /// An array holds more entries than the reader's limit (for `items`, more
    /// lines of contents than a label can describe). Shorten the list, or raise the
    /// limit with [`InputLimits::with_max_items`](crate::InputLimits::with_max_items).
    #[error("{field}: more than {max} entries")]
    TooManyEntries {
        /// Path of the array.
        field: String,
        /// The limit.
        max: usize,
    },
    /// A key appears twice in one JSON object, so which value is meant is
    /// ambiguous. Keep one. Keys this format does not know are named `<unknown>`,
    /// since they may hold anything.
    #[error("{field}: key appears more than once")]
    DuplicateKey {
        /// Path of the repeated key.
        field: String,
    },
    /// Two columns of a CSV header have the same name, so which cell is meant is
    /// ambiguous. Rename or drop one; no row is read.
    #[error("invalid CSV at line {line}: columns {first} and {second} have the same name")]
    DuplicateColumn {
        /// 1-based line of the header row.
        line: u64,
        /// 1-based number of the first of the two columns.
        first: usize,
        /// 1-based number of the second.
        second: usize,
    },
    /// A record over the size limit holds a NUL byte: the input is binary, not JSON
    /// or CSV text, and skipping to the record's end could take forever. Reading
    /// stops here; check that the right file was given.
    #[error("the input is binary (a NUL byte), not text; reading stops")]
    BinaryInput,
}

impl ModelError {
    /// The path of the field the error is about (`recipient.phone`), or `None`
    /// when it is about the record as a whole (malformed JSON or CSV, a record
    /// over the size limit, binary input). Never the field's value.
    ///
    /// ```
    /// use waybill_redact::Waybill;
    ///
    /// let e = Waybill::from_json(r#"{"tracking_number":"SF1234567890123","zone":1}"#)
    ///     .unwrap_err();
    /// assert_eq!(e.field(), Some("recipient"));
    /// ```
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Missing { field }
            | Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::ControlCharacter { field }
            | Self::Phone { field, .. }
            | Self::TrackingNumber { field, .. }
            | Self::CheckDigit { field, .. }
            | Self::Country { field }
            | Self::Invalid { field, .. }
            | Self::DateTime { field }
            | Self::TooManyEntries { field, .. }
            | Self::DuplicateKey { field } => Some(field),
            Self::Csv { .. }
            | Self::Json { .. }
            | Self::RecordTooLarge { .. }
            | Self::DuplicateColumn { .. }
            | Self::BinaryInput => None,
        }
    }
}

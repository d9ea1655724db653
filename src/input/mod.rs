//! Readers of the input format: JSON, JSON Lines and CSV batches, with record
//! positions, size limits and typed errors. They build `model` values but are
//! not part of the model.

pub(crate) mod batch;
pub(crate) mod build;
pub(crate) mod csv_input;
pub(crate) mod csv_rows;
pub(crate) mod json;
pub(crate) mod json_stream;
pub(crate) mod json_strict;
pub(crate) mod limits;

pub use batch::{parse_batch, read_batch, read_batch_with_limits, InputFormat};
pub use csv_input::{CSV_COLUMNS, CSV_PARTY_COLUMNS};
pub use json::RecordError;
pub use limits::InputLimits;

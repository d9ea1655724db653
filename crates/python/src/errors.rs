//! The one place where the library's errors become Python exceptions.
//!
//! `WaybillError` is the base; `InputError`, `MaskError`, `TokenError`,
//! `RenderError` and `KeyFileError` derive from it. Each instance carries
//! `position` (the record's 1-based position in its batch, or `None`) and `field`
//! (the field's path such as `recipient.phone`, or `None`). Messages come from the
//! library's `Display`, which names fields by path and never prints their values.

use pyo3::create_exception;
use pyo3::exceptions::{PyFileExistsError, PyFileNotFoundError, PyOSError, PyPermissionError};
use pyo3::prelude::*;
use waybill_redact as lib;
use waybill_redact::{ExportError, ModelError, RecordError};

create_exception!(
    waybill_redact,
    WaybillError,
    pyo3::exceptions::PyException,
    "Base of every waybill_redact error. `position` is the record's 1-based position \
     in its batch and `field` the path of the field at fault (`recipient.phone`), each \
     None when unknown. The message never contains a field's value."
);
create_exception!(
    waybill_redact,
    InputError,
    WaybillError,
    "A record could not be read: malformed JSON or CSV, a missing or invalid field, \
     a record over the size limit."
);
create_exception!(
    waybill_redact,
    MaskError,
    WaybillError,
    "A masking policy is invalid (for example a letter as the mask character)."
);
create_exception!(
    waybill_redact,
    TokenError,
    WaybillError,
    "A token could not be sealed (zone not in the directory, directory expired, \
     record too large for a token)."
);
create_exception!(
    waybill_redact,
    RenderError,
    WaybillError,
    "A label could not be rendered or encoded (a character no font has, a size out \
     of range, a token too long for the QR code)."
);
create_exception!(
    waybill_redact,
    KeyFileError,
    WaybillError,
    "A key ring, sealer key, zone directory or carrier key is unusable (not that kind \
     of file, damaged, wrong issuer, bad signature, expired)."
);

/// Which exception a [`Failure`] becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Input,
    Mask,
    Token,
    Render,
    KeyFile,
    /// Reading the input failed part-way: an `OSError`.
    Io,
}

/// A library error on its way to Python: `Send`, so worker threads can hand it
/// over, and turned into an exception only where the GIL is held.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    kind: Kind,
    message: String,
    position: Option<usize>,
    field: Option<String>,
}

impl Failure {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            position: None,
            field: None,
        }
    }

    /// The same failure, attributed to the record at `position` (kept if it
    /// already has one).
    pub(crate) fn at(mut self, position: Option<usize>) -> Self {
        if self.position.is_none() {
            self.position = position;
        }
        self
    }

    /// The same failure, its message prefixed with `context` (a file name).
    pub(crate) fn with_context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// A key file (ring, sealer key, directory) that was refused.
    pub(crate) fn key_file(what: &str, path: &str, error: impl std::fmt::Display) -> Self {
        Self::new(Kind::KeyFile, format!("{path}: {what}: {error}"))
    }

    /// An I/O error part-way through an input.
    pub(crate) fn io(e: &std::io::Error) -> Self {
        Self::new(Kind::Io, format!("cannot read input: {e}"))
    }

    /// True for a failure of the input as a whole, raised rather than yielded.
    pub(crate) fn is_io(&self) -> bool {
        self.kind == Kind::Io
    }

    /// The exception instance.
    pub(crate) fn into_pyerr(self, py: Python<'_>) -> PyErr {
        let message = match self.position {
            Some(p) => format!("record {p}: {}", self.message),
            None => self.message,
        };
        let err = match self.kind {
            Kind::Input => InputError::new_err(message),
            Kind::Mask => MaskError::new_err(message),
            Kind::Token => TokenError::new_err(message),
            Kind::Render => RenderError::new_err(message),
            Kind::KeyFile => KeyFileError::new_err(message),
            Kind::Io => return PyOSError::new_err(message),
        };
        let value = err.value(py);
        // Setting attributes on a fresh exception instance cannot fail.
        let _ = value.setattr("position", self.position);
        let _ = value.setattr("field", self.field);
        err
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> Self {
        Python::attach(|py| f.into_pyerr(py))
    }
}

impl From<ModelError> for Failure {
    fn from(e: ModelError) -> Self {
        let field = e.field().map(str::to_owned);
        Self {
            field,
            ..Self::new(Kind::Input, e.to_string())
        }
    }
}

impl From<RecordError> for Failure {
    fn from(e: RecordError) -> Self {
        // The error alone: the library's `RecordError` message also names the
        // tracking number, which the exception leaves out with every other value.
        Failure::from(e.error).at(Some(e.position))
    }
}

impl From<lib::MaskError> for Failure {
    fn from(e: lib::MaskError) -> Self {
        Self::new(Kind::Mask, e.to_string())
    }
}

impl From<lib::TokenError> for Failure {
    fn from(e: lib::TokenError) -> Self {
        Self::new(Kind::Token, format!("sealing: {e}"))
    }
}

impl From<lib::RenderError> for Failure {
    fn from(e: lib::RenderError) -> Self {
        let field = match &e {
            lib::RenderError::MissingGlyph { field, .. } => Some((*field).to_owned()),
            _ => None,
        };
        Self {
            field,
            ..Self::new(Kind::Render, format!("rendering: {e}"))
        }
    }
}

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Self {
        Self::new(Kind::Render, format!("encoding: {e}"))
    }
}

/// An I/O error on `path` as the matching Python `OSError`, naming the path.
pub(crate) fn io_error(path: &str, e: &std::io::Error) -> PyErr {
    let message = format!("{path}: {e}");
    match e.kind() {
        std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
        std::io::ErrorKind::AlreadyExists => PyFileExistsError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}

/// Adds the exception classes to the module, with `position` and `field`
/// defaulting to None on the base class.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<WaybillError>();
    base.setattr("position", py.None())?;
    base.setattr("field", py.None())?;
    m.add("WaybillError", base)?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("MaskError", py.get_type::<MaskError>())?;
    m.add("TokenError", py.get_type::<TokenError>())?;
    m.add("RenderError", py.get_type::<RenderError>())?;
    m.add("KeyFileError", py.get_type::<KeyFileError>())?;
    Ok(())
}

//! Sealers: the carrier's key ring (suite 1) and the seller's directory, key and
//! sealer (the seller's suite).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use time::OffsetDateTime;
use waybill_redact::{
    IssuerPublicKey, KeyFileReadError, KeyRing, PublicSealer, SealerKey as Key, Token, Validity,
    Waybill, ZoneDirectory,
};
use zeroize::Zeroizing;

use crate::errors::{io_error, Failure, Kind};
use crate::record::Source;

/// Reads a public file (a directory, a carrier key) into a buffer wiped when
/// dropped.
fn read_file(path: &PathBuf) -> PyResult<Zeroizing<String>> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| io_error(&path.display().to_string(), &e))
}

/// Reads a secret key file (a ring, a sealer key) with the library's one check:
/// a file group or others may open is a `KeyFileError`.
fn read_secret_file(path: &PathBuf) -> PyResult<Zeroizing<String>> {
    waybill_redact::read_secret_key_file(path).map_err(|e| match e {
        KeyFileReadError::Io { error, .. } => io_error(&path.display().to_string(), &error),
        other => Failure::new(Kind::KeyFile, other.to_string()).into(),
    })
}

/// Writes a new secret file with owner-only permissions, refusing to overwrite.
fn write_secret_file(path: &PathBuf, text: &str) -> PyResult<()> {
    use std::io::Write;
    let err = |e: std::io::Error| io_error(&path.display().to_string(), &e);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(err)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(err)
}

/// How a batch is sealed: shared by `render_batch`'s worker threads.
#[derive(Clone)]
pub(crate) enum Sealing {
    Ring(Arc<KeyRing>),
    Public(Arc<PublicSealer>),
}

impl Sealing {
    /// Seals one waybill for `ttl_days` from now (CPU work: call without the GIL).
    pub(crate) fn seal(&self, waybill: &Waybill, ttl_days: u16) -> Result<Token, Failure> {
        let validity = Validity::days(OffsetDateTime::now_utc(), ttl_days)?;
        Ok(match self {
            Self::Ring(ring) => ring.seal(waybill, &validity)?,
            Self::Public(sealer) => sealer.seal(waybill, &validity)?,
        })
    }

    /// `Ring` or `Sealer`, as given to `render_batch`.
    pub(crate) fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(ring) = obj.cast::<Ring>() {
            return Ok(Self::Ring(Arc::clone(&ring.get().ring)));
        }
        if let Ok(sealer) = obj.cast::<Sealer>() {
            return Ok(Self::Public(Arc::clone(&sealer.get().sealer)));
        }
        Err(pyo3::exceptions::PyTypeError::new_err(
            "sealer: expected a Ring or a Sealer",
        ))
    }
}

/// Seals `record` with `sealing`, the GIL released.
fn seal_record(record: &Bound<'_, PyAny>, sealing: &Sealing, ttl_days: u16) -> PyResult<String> {
    let source = Source::extract(record)?;
    record
        .py()
        .detach(|| {
            let waybill = source.waybill()?;
            sealing
                .seal(&waybill, ttl_days)
                .map(|t| t.as_str().to_owned())
        })
        .map_err(|f: Failure| f.at(source.position()).into())
}

/// The carrier's key ring, for suite 1: carriers that print their own labels.
/// The key material stays in Rust, is never printed and is wiped when dropped.
#[pyclass(module = "waybill_redact", frozen)]
pub struct Ring {
    ring: Arc<KeyRing>,
}

#[pymethods]
impl Ring {
    /// Reads a key ring file (`waybill-redact keys new`). Raises `KeyFileError`
    /// when it is not a valid ring or group or others may read it, `OSError`
    /// when it cannot be read.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        let text = read_secret_file(&path)?;
        let ring = KeyRing::from_json(&text)
            .map_err(|e| Failure::key_file("key ring", &path.display().to_string(), e))?;
        Ok(Self {
            ring: Arc::new(ring),
        })
    }

    /// A new ring with one fresh key (first runs, tests and demos; a carrier
    /// usually loads the ring `waybill-redact keys new` made).
    ///
    /// >>> import waybill_redact as wr
    /// >>> token = wr.Ring.generate().seal({"tracking_number": "SF1234567890123",
    /// ...     "zone": 755021, "recipient": {"name": "张三", "phone": "13812345678",
    /// ...     "address": "广东省深圳市南山区深南大道10000号"}})
    /// >>> wr.token_header(token)["suite"]
    /// 1
    #[staticmethod]
    fn generate() -> Self {
        Self {
            ring: Arc::new(KeyRing::generate()),
        }
    }

    /// Writes the ring file with owner-only permissions. Refuses to overwrite an
    /// existing file (`FileExistsError`).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        write_secret_file(&path, &self.ring.to_json())
    }

    /// Seals the record into a suite-1 token valid for `ttl_days`.
    #[pyo3(signature = (record, ttl_days = 30))]
    fn seal(&self, record: &Bound<'_, PyAny>, ttl_days: u16) -> PyResult<String> {
        seal_record(record, &Sealing::Ring(Arc::clone(&self.ring)), ttl_days)
    }

    /// The current key's id.
    #[getter]
    fn current_kid(&self) -> u16 {
        self.ring.current_kid()
    }

    fn __repr__(&self) -> String {
        format!("Ring(current_kid={})", self.ring.current_kid())
    }
}

/// The carrier's signed zone directory, for sellers: verified against the
/// carrier's issuer public key (`WI1:…`, or a file holding it) and its validity
/// window when loaded.
#[pyclass(module = "waybill_redact", frozen)]
pub struct Directory {
    directory: ZoneDirectory,
}

#[pymethods]
impl Directory {
    /// Reads and verifies a zone directory file (`waybill-redact keys publish`).
    /// Raises `KeyFileError` when the carrier key is malformed, the directory was
    /// signed by another issuer or altered, or is not valid now.
    #[staticmethod]
    #[pyo3(signature = (path, *, carrier))]
    fn load(path: PathBuf, carrier: &str) -> PyResult<Self> {
        let name = path.display().to_string();
        let carrier_text = if carrier.trim_start().starts_with("WI1:") {
            carrier.to_owned()
        } else {
            read_file(&PathBuf::from(carrier))?.as_str().to_owned()
        };
        if carrier_text.contains("\"secret\"") {
            return Err(Failure::new(
                Kind::KeyFile,
                "carrier: holds the issuer's secret; give only its public key (WI1:…)",
            )
            .into());
        }
        let carrier: IssuerPublicKey = carrier_text
            .trim()
            .parse()
            .map_err(|e| Failure::key_file("carrier key", carrier, e))?;
        let text = read_file(&path)?;
        let directory = ZoneDirectory::from_json(&text, &carrier, OffsetDateTime::now_utc())
            .map_err(|e| Failure::key_file("zone directory", &name, e))?;
        Ok(Self { directory })
    }

    /// The carrier key id the directory's zone keys come from.
    #[getter]
    fn kid(&self) -> u16 {
        self.directory.kid()
    }

    /// The zones it lists.
    #[getter]
    fn zones(&self) -> Vec<u32> {
        self.directory.zones().collect()
    }

    /// When it expires, in seconds since the Unix epoch.
    #[getter]
    fn expires_at(&self) -> u64 {
        self.directory.expires_at_unix()
    }

    fn __repr__(&self) -> String {
        format!(
            "Directory(kid={}, zones={})",
            self.directory.kid(),
            self.directory.zones().count()
        )
    }
}

/// A seller's sealer key. Its secret stays in Rust, is never printed and is
/// wiped when dropped; `public_key` (`WS1:…`) is what the carrier registers.
///
/// >>> import waybill_redact as wr
/// >>> wr.SealerKey.generate().public_key[:4]
/// 'WS1:'
#[pyclass(module = "waybill_redact", frozen)]
pub struct SealerKey {
    key: Key,
}

#[pymethods]
impl SealerKey {
    /// A fresh key from the OS random source.
    #[staticmethod]
    fn generate() -> PyResult<Self> {
        Ok(Self {
            key: Key::generate().map_err(Failure::from)?,
        })
    }

    /// Reads a sealer key file (`waybill-redact sealer new`, or `save`). Raises
    /// `KeyFileError` when group or others may read it.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        let text = read_secret_file(&path)?;
        let key = Key::from_json(&text)
            .map_err(|e| Failure::key_file("sealer key", &path.display().to_string(), e))?;
        Ok(Self { key })
    }

    /// Writes the key file with owner-only permissions. Refuses to overwrite an
    /// existing file (`FileExistsError`).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        write_secret_file(&path, &self.key.to_json())
    }

    /// The public key, `WS1:` and 64 hex digits.
    #[getter]
    fn public_key(&self) -> String {
        self.key.public_key().to_string()
    }

    fn __repr__(&self) -> String {
        format!("SealerKey(public_key={:?})", self.public_key())
    }
}

/// Seals as a seller: to the zone's public key in the carrier's directory, with
/// the seller's key. Produces what the library's `PublicSealer` produces.
#[pyclass(module = "waybill_redact", frozen)]
pub struct Sealer {
    sealer: Arc<PublicSealer>,
}

#[pymethods]
impl Sealer {
    #[new]
    fn new(directory: &Directory, key: &SealerKey) -> Self {
        Self {
            sealer: Arc::new(PublicSealer::new(
                directory.directory.clone(),
                key.key.clone(),
            )),
        }
    }

    /// Seals the record into a token valid for `ttl_days`. Raises `TokenError`
    /// when its zone is not in the directory or the directory has expired.
    #[pyo3(signature = (record, ttl_days = 30))]
    fn seal(&self, record: &Bound<'_, PyAny>, ttl_days: u16) -> PyResult<String> {
        seal_record(record, &Sealing::Public(Arc::clone(&self.sealer)), ttl_days)
    }

    /// The sealer id the carrier's registry knows this key by (8 hex digits).
    #[getter]
    fn sealer_id(&self) -> String {
        self.sealer.sealer_id().to_string()
    }

    fn __repr__(&self) -> String {
        format!("Sealer(sealer_id={:?})", self.sealer_id())
    }
}

/// The clear header of a token: what anyone holding the label can read without
/// a key, as a dict with `suite`, `kid`, `zone`, `tracking_number`,
/// `expires_at` (an upper bound, seconds since the Unix epoch) and `sealer_id`
/// (suite-2 seller tokens only: suite 3 hides it, else None). Raises
/// `TokenError` for a malformed token.
///
/// >>> import waybill_redact as wr
/// >>> token = wr.Ring.generate().seal({"tracking_number": "SF1234567890123",
/// ...     "zone": 755021, "recipient": {"name": "张三", "phone": "13812345678",
/// ...     "address": "广东省深圳市南山区深南大道10000号"}})
/// >>> info = wr.token_header(token)
/// >>> info["suite"], info["zone"], info["tracking_number"], info["sealer_id"]
/// (1, 755021, 'SF1234567890123', None)
#[pyfunction]
pub fn token_header(py: Python<'_>, token: &str) -> PyResult<Py<PyAny>> {
    let header = Token::parse_header(token).map_err(Failure::from)?;
    let d = pyo3::types::PyDict::new(py);
    d.set_item("suite", header.suite())?;
    d.set_item("kid", header.kid())?;
    d.set_item("zone", header.zone())?;
    d.set_item("tracking_number", header.tracking_number().as_str())?;
    d.set_item("expires_at", header.expiry_bound_unix())?;
    d.set_item("sealer_id", header.sealer_id().map(|s| s.to_string()))?;
    Ok(d.into_any().unbind())
}

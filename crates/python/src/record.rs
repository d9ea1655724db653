//! Records: what the functions accept (a dict, JSON text or a `Record` from
//! `read_batch`), and `read_batch` itself.

use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use waybill_redact::{read_batch_with_limits, InputFormat, InputLimits, Waybill};

use crate::errors::{io_error, Failure};

/// A waybill read and checked by `read_batch`: pass it to `mask`, `render`, a
/// sealer or `render_batch` without reading it again. Its `repr` shows only the
/// position and tracking number, never personal data.
#[pyclass(module = "waybill_redact", frozen)]
pub struct Record {
    pub(crate) waybill: Arc<Waybill>,
    position: Option<usize>,
}

#[pymethods]
impl Record {
    /// Reads one record from a dict or JSON text in the input format.
    ///
    /// >>> import waybill_redact as wr
    /// >>> r = wr.Record({"tracking_number": "SF1234567890123", "zone": 755021,
    /// ...     "recipient": {"name": "张三", "phone": "13812345678",
    /// ...                   "address": "广东省深圳市南山区深南大道10000号"}})
    /// >>> r.tracking_number
    /// 'SF1234567890123'
    #[new]
    fn new(record: &Bound<'_, PyAny>) -> PyResult<Self> {
        let source = Source::extract(record)?;
        let py = record.py();
        let waybill = py.detach(|| source.waybill())?;
        Ok(Self {
            waybill,
            position: None,
        })
    }

    /// The record's 1-based position in its batch (None when made directly).
    #[getter]
    fn position(&self) -> Option<usize> {
        self.position
    }

    /// The tracking number.
    #[getter]
    fn tracking_number(&self) -> String {
        self.waybill.tracking_number().to_string()
    }

    /// The zone the token is sealed to.
    #[getter]
    fn zone(&self) -> u32 {
        self.waybill.zone()
    }

    fn __repr__(&self) -> String {
        match self.position {
            Some(p) => format!(
                "Record(position={p}, tracking_number={:?})",
                self.waybill.tracking_number().as_str()
            ),
            None => format!(
                "Record(tracking_number={:?})",
                self.waybill.tracking_number().as_str()
            ),
        }
    }
}

/// A record argument, taken from Python with the GIL and read without it.
pub(crate) enum Source {
    /// Already read (a `Record`).
    Read(Arc<Waybill>, Option<usize>),
    /// JSON text to read.
    Text(String),
}

impl Source {
    /// Takes a `Record`, a dict (serialised with `json.dumps`), or JSON text
    /// (`str` or UTF-8 `bytes`).
    pub(crate) fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(r) = obj.cast::<Record>() {
            let r = r.get();
            return Ok(Self::Read(Arc::clone(&r.waybill), r.position));
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Self::Text(s.to_cow()?.into_owned()));
        }
        if let Ok(b) = obj.cast::<PyBytes>() {
            let text = std::str::from_utf8(b.as_bytes())
                .map_err(|_| PyValueError::new_err("record: bytes are not UTF-8"))?;
            return Ok(Self::Text(text.to_owned()));
        }
        if obj.cast::<PyDict>().is_ok() {
            let json = obj.py().import("json")?;
            let text: String = json.call_method1("dumps", (obj,))?.extract()?;
            return Ok(Self::Text(text));
        }
        Err(PyTypeError::new_err(format!(
            "record: expected a dict, JSON text or a Record, not {}",
            obj.get_type().name()?
        )))
    }

    /// The record's position, when it came from a batch.
    pub(crate) fn position(&self) -> Option<usize> {
        match self {
            Self::Read(_, p) => *p,
            Self::Text(_) => None,
        }
    }

    /// Reads the waybill (CPU work: call without the GIL).
    pub(crate) fn waybill(&self) -> Result<Arc<Waybill>, Failure> {
        match self {
            Self::Read(w, _) => Ok(Arc::clone(w)),
            Self::Text(t) => Waybill::from_json(t).map(Arc::new).map_err(Failure::from),
        }
    }
}

// `read_batch`'s default `max_record_bytes`, written out for its signature.
const _: () = assert!(InputLimits::DEFAULT_MAX_RECORD_BYTES == 65536);

/// The `format` argument of `read_batch`.
fn input_format(name: &str) -> PyResult<InputFormat> {
    Ok(match name {
        "auto" => InputFormat::Auto,
        "json" => InputFormat::Json,
        "jsonl" => InputFormat::JsonLines,
        "csv" => InputFormat::Csv,
        _ => {
            return Err(PyValueError::new_err(
                "format: expected 'auto', 'json', 'jsonl' or 'csv'",
            ))
        }
    })
}

/// A Python binary (or text) file object as `Read`, taking the GIL per call.
struct PyReader {
    file: Py<PyAny>,
    pending: Vec<u8>,
    offset: usize,
}

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.offset == self.pending.len() {
            let chunk = Python::attach(|py| -> PyResult<Vec<u8>> {
                let data = self.file.bind(py).call_method1("read", (1usize << 16,))?;
                if let Ok(s) = data.cast::<PyString>() {
                    return Ok(s.to_cow()?.as_bytes().to_vec());
                }
                data.extract::<Vec<u8>>()
            })
            .map_err(|e| std::io::Error::other(e.to_string()))?;
            self.pending = chunk;
            self.offset = 0;
        }
        let n = buf.len().min(self.pending.len() - self.offset);
        buf[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

/// One item `read_batch` hands over.
type Item = Result<Record, Failure>;

/// The iterator `read_batch` returns: the library's reader runs on its own
/// thread, at most 64 records ahead.
#[pyclass(module = "waybill_redact")]
pub struct BatchReader {
    items: Mutex<Receiver<Item>>,
}

#[pymethods]
impl BatchReader {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let items = &self.items;
        let Some(item) = py.detach(|| {
            items
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .recv()
                .ok()
        }) else {
            return Ok(None);
        };
        Ok(Some(match item {
            Ok(record) => Py::new(py, record)?.into_any(),
            Err(f) if f.is_io() => return Err(f.into_pyerr(py)),
            Err(f) => f.into_pyerr(py).into_value(py).into_any(),
        }))
    }
}

/// Reads a batch of waybills: a JSON array, JSON Lines or CSV with a header row,
/// from a path or an open file. Yields, in input order, a `Record` for each good
/// record and an `InputError` (not raised: yielded, with its `position` and
/// `field`) for each bad one, so one bad row never stops the rest. Each record is
/// held to `max_record_bytes` (64 KiB by default) while it is read, so memory
/// stays flat however long the input. The format comes from the file's extension
/// (`.csv`, `.jsonl`, `.ndjson`, `.json`) or its first byte, unless given.
///
/// An unreadable file raises `OSError` at once; an error while reading stops the
/// iteration with an `OSError`.
///
/// >>> import io, waybill_redact as wr
/// >>> csv = ("tracking_number,zone,recipient_name,recipient_phone,recipient_address\n"
/// ...        "SF1234567890123,755021,张三,13812345678,广东省深圳市南山区深南大道10000号\n"
/// ...        "SF0000000000000,755021,李四,not a phone,北京市朝阳区\n")
/// >>> for item in wr.read_batch(io.BytesIO(csv.encode())):
/// ...     print(item.position, type(item).__name__, getattr(item, "field", None))
/// 1 Record None
/// 2 InputError recipient.phone
#[pyfunction]
#[pyo3(signature = (path_or_file, *, format = "auto", max_record_bytes = 65536))]
pub fn read_batch(
    path_or_file: &Bound<'_, PyAny>,
    format: &str,
    max_record_bytes: usize,
) -> PyResult<BatchReader> {
    let mut format = input_format(format)?;
    let limits = InputLimits::new().with_max_record_bytes(max_record_bytes);
    let reader: Box<dyn BufRead + Send> = if path_or_file.hasattr("read")? {
        Box::new(BufReader::with_capacity(
            1 << 16,
            PyReader {
                file: path_or_file.clone().unbind(),
                pending: Vec::new(),
                offset: 0,
            },
        ))
    } else {
        let path: PathBuf = path_or_file.extract()?;
        if format == InputFormat::Auto {
            format = InputFormat::from_extension(&path);
        }
        let file =
            std::fs::File::open(&path).map_err(|e| io_error(&path.display().to_string(), &e))?;
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    let (tx, rx) = sync_channel::<Item>(64);
    std::thread::Builder::new()
        .name("waybill-read-batch".into())
        .spawn(move || {
            let result = read_batch_with_limits(reader, format, &limits, |position, record| {
                let item = record
                    .map(|w| Record {
                        waybill: Arc::new(w),
                        position: Some(position),
                    })
                    .map_err(Failure::from);
                match tx.send(item) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => ControlFlow::Break(()),
                }
            });
            if let Err(e) = result {
                let _ = tx.send(Err(Failure::io(&e)));
            }
        })
        .map_err(|e| io_error("read_batch", &e))?;
    Ok(BatchReader {
        items: Mutex::new(rx),
    })
}

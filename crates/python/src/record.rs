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
            let mut text = Vec::with_capacity(1024);
            if write_json(obj, &mut text, 0) {
                if let Ok(text) = String::from_utf8(text) {
                    return Ok(Self::Text(text));
                }
            }
            // Anything the direct path does not take (other key types, big
            // integers, NaN, subclasses, cycles…) goes through `json.dumps`,
            // which says what is wrong with it.
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

/// Nesting deeper than this goes to `json.dumps` (the input format's own depth
/// limit is far lower, so such a record is refused when read either way).
const DIRECT_JSON_DEPTH: usize = 32;

/// Writes a dict of plain values (dicts with `str` keys, lists, tuples, `str`,
/// `int` within i64, finite `float`, `bool`, `None`; exact types, no subclasses)
/// as JSON text that reads back as `json.dumps`'s would. Strings are escaped
/// by serde_json. Returns `false`, leaving `out` in any state, when it meets
/// anything else; the caller then uses `json.dumps`. Walking the dict here
/// costs a few microseconds against `json.dumps`'s ~18: `render_batch` does it
/// on the thread that holds the GIL, so it bounds how well the workers scale.
fn write_json(obj: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> bool {
    use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyTuple};
    if depth > DIRECT_JSON_DEPTH {
        return false;
    }
    if obj.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(s) = obj.cast_exact::<PyString>() {
        // A lone surrogate has no UTF-8: `json.dumps` escapes it, and reading
        // then refuses it with the usual error.
        let Ok(text) = s.to_cow() else {
            return false;
        };
        if !push_json_string(out, &text) {
            return false;
        }
    } else if let Ok(b) = obj.cast_exact::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
    } else if let Ok(i) = obj.cast_exact::<PyInt>() {
        let Ok(n) = i.extract::<i64>() else {
            return false;
        };
        out.extend_from_slice(n.to_string().as_bytes());
    } else if let Ok(f) = obj.cast_exact::<PyFloat>() {
        let x = f.value();
        if !x.is_finite() || serde_json::to_writer(&mut *out, &x).is_err() {
            return false;
        }
    } else if let Ok(d) = obj.cast_exact::<PyDict>() {
        out.push(b'{');
        for (n, (key, value)) in d.iter().enumerate() {
            let Ok(key) = key.cast_exact::<PyString>() else {
                return false;
            };
            let Ok(key) = key.to_cow() else {
                return false;
            };
            if n > 0 {
                out.push(b',');
            }
            if !push_json_string(out, &key) {
                return false;
            }
            out.push(b':');
            if !write_json(&value, out, depth + 1) {
                return false;
            }
        }
        out.push(b'}');
    } else if let Ok(l) = obj.cast_exact::<PyList>() {
        if !write_json_items(l.iter(), out, depth) {
            return false;
        }
    } else if let Ok(t) = obj.cast_exact::<PyTuple>() {
        if !write_json_items(t.iter(), out, depth) {
            return false;
        }
    } else {
        return false;
    }
    true
}

/// A JSON array of `items` (see [`write_json`]).
fn write_json_items<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    out: &mut Vec<u8>,
    depth: usize,
) -> bool {
    out.push(b'[');
    for (n, item) in items.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        if !write_json(&item, out, depth + 1) {
            return false;
        }
    }
    out.push(b']');
    true
}

/// `text` as a JSON string, escaped by serde_json.
fn push_json_string(out: &mut Vec<u8>, text: &str) -> bool {
    serde_json::to_writer(&mut *out, text).is_ok()
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

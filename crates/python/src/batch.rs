//! `render_batch`: records sealed, masked, rendered and encoded on Rust worker
//! threads with the GIL released, handed back in input order.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyIterator;

use crate::errors::{Failure, WaybillError};
use crate::masking::{policy_of, MaskPolicy};
use crate::record::Source;
use crate::rendering::{Fonts, Format, Options, Output};
use crate::sealing::Sealing;

/// Work for one record.
struct Job {
    index: usize,
    source: Source,
}

/// Everything the workers share.
struct Shared {
    options: Options,
    sealing: Sealing,
    ttl_days: u16,
}

impl Shared {
    fn run(&self, source: &Source) -> Result<Output, Failure> {
        let waybill = source.waybill()?;
        let token = self.sealing.seal(&waybill, self.ttl_days)?;
        self.options.render(&waybill, token.as_str())
    }
}

/// One result, waiting to be handed back in order.
enum Done {
    Rendered(Result<Output, Failure>),
    /// An exception the input iterable itself held (an `InputError` from
    /// `read_batch`), passed through unchanged.
    Passed(Py<PyAny>),
}

/// The iterator `render_batch` returns.
#[pyclass(module = "waybill_redact")]
pub struct BatchRenderer {
    records: Py<PyIterator>,
    jobs: Option<SyncSender<Job>>,
    results: Mutex<Receiver<(usize, Result<Output, Failure>)>>,
    pending: BTreeMap<usize, Done>,
    window: usize,
    next_in: usize,
    next_out: usize,
    exhausted: bool,
}

impl BatchRenderer {
    /// Pulls records from the input until `window` are in flight.
    fn fill(&mut self, py: Python<'_>) -> PyResult<()> {
        while !self.exhausted && self.next_in - self.next_out < self.window {
            let Some(item) = self.records.bind(py).clone().next() else {
                self.exhausted = true;
                // The workers stop once the queue is empty.
                self.jobs = None;
                break;
            };
            let item = item?;
            let index = self.next_in;
            self.next_in += 1;
            if item.is_instance_of::<WaybillError>() {
                self.pending.insert(index, Done::Passed(item.unbind()));
                continue;
            }
            let job = match Source::extract(&item) {
                Ok(source) => Job { index, source },
                Err(e) => {
                    // Not a record at all (a number, None…): the caller's bug.
                    self.exhausted = true;
                    self.jobs = None;
                    return Err(e);
                }
            };
            if let Some(jobs) = &self.jobs {
                // The queue holds `window` jobs, so this never blocks.
                if jobs.send(job).is_err() {
                    return Err(PyValueError::new_err("render_batch: workers stopped"));
                }
            }
        }
        Ok(())
    }
}

#[pymethods]
impl BatchRenderer {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<(usize, Py<PyAny>)>> {
        self.fill(py)?;
        if self.next_out == self.next_in {
            return Ok(None);
        }
        let index = self.next_out;
        while !self.pending.contains_key(&index) {
            let results = &self.results;
            let Some((i, result)) = py.detach(|| {
                results
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .recv()
                    .ok()
            }) else {
                return Err(PyValueError::new_err("render_batch: workers stopped"));
            };
            self.pending.insert(i, Done::Rendered(result));
        }
        self.next_out += 1;
        let value = match self.pending.remove(&index) {
            Some(Done::Rendered(Ok(out))) => out.into_py(py)?,
            Some(Done::Rendered(Err(f))) => f.into_pyerr(py).into_value(py).into_any(),
            Some(Done::Passed(obj)) => obj,
            None => unreachable!("the loop above waits for it"),
        };
        Ok(Some((index, value)))
    }
}

/// Spawns `threads` workers taking jobs from one queue.
fn spawn_workers(
    threads: usize,
    shared: Arc<Shared>,
    jobs: Receiver<Job>,
    results: &Sender<(usize, Result<Output, Failure>)>,
) -> PyResult<()> {
    let jobs = Arc::new(Mutex::new(jobs));
    for n in 0..threads {
        let (jobs, results, shared) = (Arc::clone(&jobs), results.clone(), Arc::clone(&shared));
        std::thread::Builder::new()
            .name(format!("waybill-render-{n}"))
            .spawn(move || loop {
                let job = jobs
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .recv();
                let Ok(Job { index, source }) = job else {
                    break;
                };
                let result = shared
                    .run(&source)
                    .map_err(|f| f.at(source.position().or(Some(index + 1))));
                if results.send((index, result)).is_err() {
                    break;
                }
            })
            .map_err(|e| crate::errors::io_error("render_batch", &e))?;
    }
    Ok(())
}

/// Seals, masks and renders many records on Rust threads, the GIL released.
/// Yields `(index, result)` in input order, `index` counting from 0: `result` is
/// the label's bytes (or a `Label` with `format="label"`), or, for a record that
/// failed, its exception (an `InputError`, `TokenError` or `RenderError`, not
/// raised) with `position` set: the record's position in the file it was read
/// from (a `Record` from `read_batch`), else `index + 1`. One bad record never
/// stops the others.
/// `records` may be any iterable of dicts, JSON texts and `Record`s, such as
/// `read_batch(...)`, whose `InputError`s are passed through in place.
///
/// `sealer` is a `Ring` (suite 1) or a `Sealer` (a seller). `jobs` is the number
/// of worker threads (one per core by default). At most `8 * jobs` records are
/// in flight, so memory stays flat however many there are.
///
/// >>> import waybill_redact as wr
/// >>> records = [{"tracking_number": "SF1234567890123", "zone": 755021,
/// ...     "recipient": {"name": "张三", "phone": "13812345678",
/// ...                   "address": "广东省深圳市南山区深南大道10000号"}},
/// ...     {"tracking_number": "SF1234567890123", "zone": 755021}]
/// >>> ring = wr.Ring.generate()
/// >>> for index, result in wr.render_batch(records, ring, format="zpl"):
/// ...     print(index, result[:3] if isinstance(result, bytes) else result.field)
/// 0 b'^XA'
/// 1 recipient
#[pyfunction]
#[pyo3(signature = (records, sealer, *, size = "100x150", dpi = 203, format = "png", fonts = None, policy = None, ttl_days = 30, jobs = None))]
#[allow(clippy::too_many_arguments)]
pub fn render_batch(
    records: &Bound<'_, PyAny>,
    sealer: &Bound<'_, PyAny>,
    size: &str,
    dpi: u16,
    format: &str,
    fonts: Option<PyRef<'_, Fonts>>,
    policy: Option<PyRef<'_, MaskPolicy>>,
    ttl_days: u16,
    jobs: Option<usize>,
) -> PyResult<BatchRenderer> {
    let threads = match jobs {
        Some(0) => return Err(PyValueError::new_err("jobs: at least 1")),
        Some(n) => n.min(256),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let shared = Arc::new(Shared {
        options: Options::new(
            size,
            dpi,
            Format::parse(format, true)?,
            fonts.as_deref(),
            policy_of(policy),
        )?,
        sealing: Sealing::extract(sealer)?,
        ttl_days,
    });
    let window = threads * 8;
    let (job_tx, job_rx) = sync_channel(window);
    let (out_tx, out_rx) = channel();
    spawn_workers(threads, shared, job_rx, &out_tx)?;
    Ok(BatchRenderer {
        records: records.try_iter()?.unbind(),
        jobs: Some(job_tx),
        results: Mutex::new(out_rx),
        pending: BTreeMap::new(),
        window,
        next_in: 0,
        next_out: 0,
        exhausted: false,
    })
}

//! `render_batch`: records sealed, masked, rendered and encoded on Rust worker
//! threads with the GIL released, handed back in input order.

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

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

/// Where the workers leave their results for the thread that holds the GIL.
///
/// That thread is woken once for several results, not once per label: each
/// wake-up costs a context switch that, with every core rendering, takes a
/// worker off its core, and the GIL holder's share of the work is what bounds
/// how well the workers scale.
struct Board {
    state: Mutex<BoardState>,
    ready: Condvar,
}

struct BoardState {
    done: BTreeMap<usize, Result<Output, Failure>>,
    /// The index the consumer waits for.
    wanted: usize,
    /// How many results must be ready before the consumer is woken.
    enough: usize,
    /// Workers still running. They end when the queue closes, after posting
    /// every result they took.
    running: usize,
    /// A worker panicked: the result of the job it held will never come.
    lost: bool,
}

impl BoardState {
    fn satisfied(&self) -> bool {
        self.done.contains_key(&self.wanted) && self.done.len() >= self.enough
    }

    /// Waiting longer cannot help: a result is lost, or every worker has
    /// ended and what is wanted is still not there.
    fn hopeless(&self) -> bool {
        self.lost || self.running == 0
    }
}

impl Board {
    fn lock(&self) -> MutexGuard<'_, BoardState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn post(&self, index: usize, result: Result<Output, Failure>) {
        let mut state = self.lock();
        state.done.insert(index, result);
        if state.satisfied() {
            self.ready.notify_one();
        }
    }
}

/// Counts a worker out when it ends, by return or by panic, and wakes the
/// consumer so that it cannot wait for a result that will never come.
struct Running(Arc<Board>);

impl Drop for Running {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.running -= 1;
        state.lost |= std::thread::panicking();
        self.0.ready.notify_one();
    }
}

/// The iterator `render_batch` returns.
#[pyclass(module = "waybill_redact")]
pub struct BatchRenderer {
    records: Py<PyIterator>,
    jobs: Option<SyncSender<Job>>,
    board: Arc<Board>,
    pending: BTreeMap<usize, Done>,
    window: usize,
    /// Results to collect per wake-up, while that many are in flight.
    wake_every: usize,
    next_in: usize,
    next_out: usize,
    /// Jobs sent to the workers, and results taken back from the board.
    sent: usize,
    taken: usize,
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
                    return Err(workers_stopped());
                }
                self.sent += 1;
            }
        }
        Ok(())
    }

    /// Waits, without the GIL, until result `index` is on the board and
    /// enough others with it, then moves every ready result to `pending`.
    fn collect(&mut self, py: Python<'_>, index: usize) -> PyResult<()> {
        let outstanding = self.sent - self.taken;
        let enough = self.wake_every.min(outstanding).max(1);
        let board = &self.board;
        let done = py.detach(|| {
            let mut state = board.lock();
            state.wanted = index;
            state.enough = enough;
            while !state.satisfied() {
                if state.hopeless() {
                    return None;
                }
                state = board
                    .ready
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            Some(std::mem::take(&mut state.done))
        });
        let Some(done) = done else {
            return Err(workers_stopped());
        };
        self.taken += done.len();
        self.pending
            .extend(done.into_iter().map(|(i, r)| (i, Done::Rendered(r))));
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
        if !self.pending.contains_key(&index) {
            self.collect(py, index)?;
        }
        self.next_out += 1;
        let value = match self.pending.remove(&index) {
            Some(Done::Rendered(Ok(out))) => out.into_py(py)?,
            Some(Done::Rendered(Err(f))) => f.into_pyerr(py).into_value(py).into_any(),
            Some(Done::Passed(obj)) => obj,
            None => return Err(workers_stopped()),
        };
        Ok(Some((index, value)))
    }
}

fn workers_stopped() -> PyErr {
    PyValueError::new_err("render_batch: workers stopped")
}

/// Spawns `threads` workers taking jobs from one queue and posting results on
/// `board`.
fn spawn_workers(
    threads: usize,
    shared: Arc<Shared>,
    jobs: Receiver<Job>,
    board: &Arc<Board>,
) -> PyResult<()> {
    let jobs = Arc::new(Mutex::new(jobs));
    for n in 0..threads {
        let (jobs, shared) = (Arc::clone(&jobs), Arc::clone(&shared));
        let running = Running(Arc::clone(board));
        board.lock().running += 1;
        std::thread::Builder::new()
            .name(format!("waybill-render-{n}"))
            .spawn(move || loop {
                let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
                let Ok(Job { index, source }) = job else {
                    drop(running);
                    break;
                };
                let result = shared
                    .run(&source)
                    .map_err(|f| f.at(source.position().or(Some(index + 1))));
                running.0.post(index, result);
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
    let board = Arc::new(Board {
        state: Mutex::new(BoardState {
            done: BTreeMap::new(),
            wanted: 0,
            enough: 1,
            running: 0,
            lost: false,
        }),
        ready: Condvar::new(),
    });
    spawn_workers(threads, shared, job_rx, &board)?;
    Ok(BatchRenderer {
        records: records.try_iter()?.unbind(),
        jobs: Some(job_tx),
        board,
        pending: BTreeMap::new(),
        window,
        // Half the window: the other half keeps every worker busy meanwhile.
        wake_every: window / 2,
        next_in: 0,
        next_out: 0,
        sent: 0,
        taken: 0,
        exhausted: false,
    })
}

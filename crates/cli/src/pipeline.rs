//! A bounded, ordered parallel pipeline: one producer, `threads` workers, and a
//! consumer that sees results in input order.
//!
//! At most `window` items are between the producer and the consumer at any time
//! (queued, being worked on, or waiting to be reordered), so memory stays flat
//! however long the input is. With one thread there is no pipeline: each item is
//! worked on and consumed as the producer hands it over, on the calling thread,
//! with no hand-off between threads.

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Condvar, Mutex};

/// A counting semaphore: the producer takes a ticket per item, the consumer gives
/// it back once the item is consumed in order.
struct Tickets {
    free: Mutex<usize>,
    ready: Condvar,
}

impl Tickets {
    fn take(&self) {
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *free == 0 {
            free = self
                .ready
                .wait(free)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *free -= 1;
    }

    fn give(&self) {
        *self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
        self.ready.notify_one();
    }
}

/// Runs the pipeline. `produce` is called once and hands items over through its
/// argument, which returns `false` when the consumer has stopped; `work` runs on
/// the workers; `consume` sees `(index, result)` in input order and returns `false`
/// to stop the pipeline early.
pub fn run<I, O>(
    threads: usize,
    window: usize,
    produce: impl FnOnce(&mut dyn FnMut(I) -> bool) + Send,
    work: impl Fn(I) -> O + Sync,
    mut consume: impl FnMut(usize, O) -> bool,
) where
    I: Send,
    O: Send,
{
    if threads <= 1 {
        return run_inline(produce, work, consume);
    }
    let window = window.max(threads);
    let tickets = Tickets {
        free: Mutex::new(window),
        ready: Condvar::new(),
    };
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let (job_tx, job_rx) = sync_channel::<(usize, I)>(window);
    let job_rx = Mutex::new(job_rx);
    let (out_tx, out_rx) = sync_channel::<(usize, O)>(window);

    std::thread::scope(|s| {
        let tickets = &tickets;
        let stopped = &stopped;
        s.spawn(move || {
            let mut index = 0usize;
            let mut send = |item: I| -> bool {
                if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    return false;
                }
                tickets.take();
                let ok = job_tx.send((index, item)).is_ok();
                index += 1;
                ok
            };
            produce(&mut send);
            // Dropping the sender lets the workers finish.
        });
        for _ in 0..threads {
            let out_tx = out_tx.clone();
            let job_rx = &job_rx;
            let work = &work;
            s.spawn(move || loop {
                let job = job_rx
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .recv();
                let Ok((index, item)) = job else { break };
                if out_tx.send((index, work(item))).is_err() {
                    break;
                }
            });
        }
        drop(out_tx);
        consume_in_order(out_rx, tickets, stopped, &mut consume);
    });
}

/// The one-thread case: produce, work and consume in turn on this thread.
fn run_inline<I, O>(
    produce: impl FnOnce(&mut dyn FnMut(I) -> bool),
    work: impl Fn(I) -> O,
    mut consume: impl FnMut(usize, O) -> bool,
) {
    let (mut index, mut stopped) = (0usize, false);
    produce(&mut |item: I| {
        if stopped {
            return false;
        }
        let go_on = consume(index, work(item));
        index += 1;
        stopped = !go_on;
        go_on
    });
}

fn consume_in_order<O>(
    out_rx: Receiver<(usize, O)>,
    tickets: &Tickets,
    stopped: &std::sync::atomic::AtomicBool,
    consume: &mut impl FnMut(usize, O) -> bool,
) {
    let mut pending = BTreeMap::new();
    let mut next = 0usize;
    for (index, out) in out_rx.iter() {
        pending.insert(index, out);
        while let Some(out) = pending.remove(&next) {
            let go_on = consume(next, out);
            next += 1;
            tickets.give();
            if !go_on {
                stopped.store(true, std::sync::atomic::Ordering::Relaxed);
                // Unblock a producer waiting for a ticket, then drain.
                for _ in 0..pending.len() + 1 {
                    tickets.give();
                }
                for _ in out_rx.iter() {
                    tickets.give();
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_come_in_input_order_with_bounded_window() {
        let in_flight = AtomicUsize::new(0);
        let max_in_flight = AtomicUsize::new(0);
        let mut seen = Vec::new();
        run(
            4,
            8,
            |send| {
                for i in 0..1000u64 {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max_in_flight.fetch_max(now, Ordering::SeqCst);
                    if !send(i) {
                        break;
                    }
                }
            },
            |i| {
                // Uneven work so that results finish out of order.
                std::thread::sleep(std::time::Duration::from_micros((i * 7919) % 200));
                i * 2
            },
            |index, out| {
                in_flight.fetch_sub(1, Ordering::SeqCst);
                seen.push((index, out));
                true
            },
        );
        assert_eq!(seen.len(), 1000);
        assert!(seen
            .iter()
            .enumerate()
            .all(|(i, &(idx, out))| idx == i && out == 2 * i as u64));
        // The producer counts an item before taking its ticket, hence the +1.
        assert!(
            max_in_flight.load(Ordering::SeqCst) <= 8 + 1,
            "{max_in_flight:?}"
        );
    }

    #[test]
    fn one_thread_runs_inline_in_order_and_stops_early() {
        let caller = std::thread::current().id();
        let mut seen = Vec::new();
        let mut produced = 0;
        run(
            1,
            8,
            |send| {
                for i in 0..100u64 {
                    produced += 1;
                    if !send(i) {
                        break;
                    }
                }
            },
            |i| {
                assert_eq!(std::thread::current().id(), caller);
                i * 3
            },
            |index, out| {
                seen.push((index, out));
                index < 9
            },
        );
        assert_eq!(seen, (0..10).map(|i| (i, 3 * i as u64)).collect::<Vec<_>>());
        assert_eq!(produced, 10);
    }

    #[test]
    fn consumer_can_stop_early() {
        let produced = AtomicUsize::new(0);
        let mut consumed = 0;
        run(
            2,
            4,
            |send| {
                for i in 0..100_000 {
                    produced.fetch_add(1, Ordering::SeqCst);
                    if !send(i) {
                        break;
                    }
                }
            },
            |i| i,
            |_, _| {
                consumed += 1;
                consumed < 10
            },
        );
        assert_eq!(consumed, 10);
        assert!(produced.load(Ordering::SeqCst) < 100, "{produced:?}");
    }
}

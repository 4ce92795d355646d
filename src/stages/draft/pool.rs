//! Several drafts at once. An order lookup (a process of the team's) and a model call spend
//! their time waiting, so a few drafting threads overlap them, while the caller reads the
//! ledger, stores the drafts and writes the records on its own thread, in input order.
//!
//! Drafting in parallel gives the drafts one at a time would: a draft depends on its record
//! and its case context only, and the caller reads the context, in input order, before
//! handing the record over. The context holds the case's earlier messages, their triage and
//! our sent replies, all stored before then; never a draft of the same run, so a message
//! need not wait for the draft of an earlier one of its case (a customer's burst of mails
//! would otherwise stall the pool). One exception: storing the draft of a message in no case
//! (stored before cases existed) puts it in one, which a later message's context may read;
//! callers finish such a record before reading the next context (`Drafting::drain_first`).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use anyhow::{Context as _, Result, anyhow};

use super::checklist::CaseContext;
use super::{Drafted, Drafter};
use crate::record::Record;

/// Drafting threads at most (`-j`): each holds a thread and, with the model backend, a
/// connection.
pub const MAX_WIDTH: usize = 256;

type Answer = (Record, Result<Drafted>);

struct Job {
    record: Record,
    case: CaseContext,
    done: mpsc::SyncSender<Answer>,
}

enum State {
    /// Nothing to draft (a record passed through untouched, or none at all: a place kept for
    /// something to report in order), or drafted already.
    Done(Box<(Option<Record>, Option<Result<Drafted>>)>),
    Drafting(mpsc::Receiver<Answer>),
}

struct Slot<M> {
    meta: M,
    state: State,
}

/// What comes back from the pool, in the order it went in: the record (None for a place
/// kept with `hold`) and its draft (None when it was only passed through).
pub struct Finished<M> {
    pub meta: M,
    pub record: Option<Record>,
    pub drafted: Option<Result<Drafted>>,
}

/// Drafting threads and the records waiting for them, in input order. `M` is what the
/// caller keeps with each record (its input position, say).
pub struct DraftPool<M> {
    /// None only while dropping: closing it ends the threads.
    jobs: Option<mpsc::Sender<Job>>,
    /// Set when the pool is dropped: the threads skip the jobs still queued (a stop on
    /// `--strict` or a closed stdout should not wait for, or pay for, drafts nobody stores).
    cancelled: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    waiting: VecDeque<Slot<M>>,
    /// Records held at most: the threads' work and as much again queued behind it, so a
    /// thread that finishes finds the next job ready while the caller stores the oldest.
    capacity: usize,
}

impl<M> DraftPool<M> {
    /// `width` drafting threads (1 to `MAX_WIDTH`).
    pub fn new(drafter: Arc<Drafter>, width: usize) -> Result<DraftPool<M>> {
        let width = width.clamp(1, MAX_WIDTH);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let cancelled = Arc::new(AtomicBool::new(false));
        let mut pool =
            DraftPool { jobs: Some(jobs), cancelled, threads: Vec::new(), waiting: VecDeque::new(), capacity: width * 2 };
        for _ in 0..width {
            let (drafter, queue, cancelled) = (drafter.clone(), queue.clone(), pool.cancelled.clone());
            let thread = std::thread::Builder::new()
                .name("draft".into())
                .spawn(move || draft_until_closed(&drafter, &queue, &cancelled))
                .context("cannot start a drafting thread (try a smaller -j)")?;
            pool.threads.push(thread);
        }
        Ok(pool)
    }

    /// Queues a record that needs no draft; it comes back in its turn.
    pub fn pass(&mut self, meta: M, record: Record) {
        self.waiting.push_back(Slot { meta, state: State::Done(Box::new((Some(record), None))) });
    }

    /// Keeps a place in the order for `meta` alone (a line that could not be read, say).
    pub fn hold(&mut self, meta: M) {
        self.waiting.push_back(Slot { meta, state: State::Done(Box::new((None, None))) });
    }

    /// Hands `record` to a drafting thread.
    pub fn draft(&mut self, meta: M, record: Record, case: CaseContext) {
        let (done, answer) = mpsc::sync_channel(1);
        let Some(jobs) = &self.jobs else { unreachable!("the queue closes only on drop") };
        let state = match jobs.send(Job { record, case, done }) {
            Ok(()) => State::Drafting(answer),
            // Every thread is gone (each ends only when the queue closes; this cannot happen
            // while the pool lives): the record comes back failed rather than lost.
            Err(mpsc::SendError(job)) => {
                State::Done(Box::new((Some(job.record), Some(Err(anyhow!("no drafting thread is running"))))))
            }
        };
        self.waiting.push_back(Slot { meta, state });
    }

    /// True when no record is waiting (in flight or done).
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// True when the caller should take a record back before adding one.
    pub fn is_full(&self) -> bool {
        self.waiting.len() >= self.capacity
    }

    /// The oldest record, waiting for its draft if need be; None when the pool is empty.
    pub fn wait_next(&mut self) -> Option<Finished<M>> {
        let slot = self.waiting.pop_front()?;
        let (record, drafted) = match slot.state {
            State::Done(done) => *done,
            State::Drafting(answer) => match answer.recv() {
                Ok((record, drafted)) => (Some(record), Some(drafted)),
                // A drafting thread answers every job it takes, a panic included, and skips
                // jobs only once the pool is dropped: not reached while it lives.
                Err(_) => (None, Some(Err(anyhow!("the drafting thread stopped without an answer")))),
            },
        };
        Some(Finished { meta: slot.meta, record, drafted })
    }

    /// The oldest record if it is ready now.
    pub fn ready_next(&mut self) -> Option<Finished<M>> {
        let front = self.waiting.front_mut()?;
        if let State::Drafting(answer) = &front.state {
            match answer.try_recv() {
                Ok((record, drafted)) => front.state = State::Done(Box::new((Some(record), Some(drafted)))),
                Err(mpsc::TryRecvError::Empty) => return None,
                Err(mpsc::TryRecvError::Disconnected) => {}
            }
        }
        self.wait_next()
    }
}

impl<M> Drop for DraftPool<M> {
    fn drop(&mut self) {
        // The threads finish the draft in hand, skip the queued ones and end with the queue.
        self.cancelled.store(true, Ordering::Relaxed);
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn draft_until_closed(drafter: &Drafter, queue: &Mutex<mpsc::Receiver<Job>>, cancelled: &AtomicBool) {
    loop {
        // The lock is held only while waiting for a job, never while drafting.
        let next = queue.lock().map_err(|_| ()).and_then(|q| q.recv().map_err(|_| ()));
        let Ok(Job { record, case, done }) = next else { return };
        if cancelled.load(Ordering::Relaxed) {
            continue;
        }
        let drafted = catch_unwind(AssertUnwindSafe(|| drafter.draft_in_case(&record, &case)))
            .unwrap_or_else(|_| Err(anyhow!("drafting failed unexpectedly (a bug: please report it)")));
        // The caller may have stopped waiting: the answer is then dropped.
        let _ = done.send((record, drafted));
    }
}

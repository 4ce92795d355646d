//! Several drafts at once. An order lookup (a process of the team's) and a model call spend
//! their time waiting, so a few drafting threads overlap them, while the caller reads the
//! ledger, stores the drafts and writes the records on its own thread, in input order.
//!
//! Drafting in parallel gives the drafts one at a time would: a draft depends on its record
//! and its case context only, and the caller reads the context, in input order, before
//! handing the record over. The context holds the case's earlier messages, their triage and
//! our sent replies, all stored before then; never a draft of the same run, so a message
//! need not wait for the draft of an earlier one of its case (a customer's burst of mails
//! would otherwise stall the pool).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use anyhow::{Result, anyhow};

use super::checklist::CaseContext;
use super::{Drafted, Drafter};
use crate::record::Record;

type Answer = (Record, Result<Drafted>);

struct Job {
    record: Record,
    case: CaseContext,
    done: mpsc::SyncSender<Answer>,
}

enum State {
    /// Nothing to draft (a record passed through untouched), or drafted already.
    Done(Box<(Record, Option<Result<Drafted>>)>),
    Drafting(mpsc::Receiver<Answer>),
}

struct Slot<M> {
    meta: M,
    state: State,
}

/// A record back from the pool, in the order it went in. `drafted` is None for a record
/// that was only passed through.
pub struct Finished<M> {
    pub meta: M,
    pub record: Record,
    pub drafted: Option<Result<Drafted>>,
}

/// Drafting threads and the records waiting for them, in input order. `M` is what the
/// caller keeps with each record (its input position, say).
pub struct DraftPool<M> {
    /// None only while dropping: closing it ends the threads.
    jobs: Option<mpsc::Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
    waiting: VecDeque<Slot<M>>,
    /// Records held at most: the threads' work and as much again queued behind it, so a
    /// thread that finishes finds the next job ready while the caller stores the oldest.
    capacity: usize,
}

impl<M> DraftPool<M> {
    /// `width` drafting threads (at least one).
    pub fn new(drafter: Arc<Drafter>, width: usize) -> DraftPool<M> {
        let width = width.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let threads = (0..width)
            .map(|_| {
                let (drafter, queue) = (drafter.clone(), queue.clone());
                std::thread::spawn(move || draft_until_closed(&drafter, &queue))
            })
            .collect();
        DraftPool { jobs: Some(jobs), threads, waiting: VecDeque::new(), capacity: width * 2 }
    }

    /// Queues a record that needs no draft; it comes back in its turn.
    pub fn pass(&mut self, meta: M, record: Record) {
        self.waiting.push_back(Slot { meta, state: State::Done(Box::new((record, None))) });
    }

    /// Hands `record` to a drafting thread.
    pub fn draft(&mut self, meta: M, record: Record, case: CaseContext) {
        let (done, answer) = mpsc::sync_channel(1);
        let Some(jobs) = &self.jobs else { unreachable!("the queue closes only on drop") };
        let state = match jobs.send(Job { record, case, done }) {
            Ok(()) => State::Drafting(answer),
            // The threads are gone only if one could not start; the record comes back failed.
            Err(mpsc::SendError(job)) => {
                State::Done(Box::new((job.record, Some(Err(anyhow!("no drafting thread is running"))))))
            }
        };
        self.waiting.push_back(Slot { meta, state });
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
            State::Drafting(answer) => {
                // A drafting thread answers every job (a panic included), so this cannot fail
                // while the pool lives.
                let (record, drafted) = answer.recv().expect("a drafting thread answers every job");
                (record, Some(drafted))
            }
        };
        Some(Finished { meta: slot.meta, record, drafted })
    }

    /// The oldest record if it is ready now.
    pub fn ready_next(&mut self) -> Option<Finished<M>> {
        let front = self.waiting.front_mut()?;
        if let State::Drafting(answer) = &front.state {
            match answer.try_recv() {
                Ok((record, drafted)) => front.state = State::Done(Box::new((record, Some(drafted)))),
                Err(_) => return None,
            }
        }
        self.wait_next()
    }
}

impl<M> Drop for DraftPool<M> {
    fn drop(&mut self) {
        // Closing the queue ends each thread once its current draft is done.
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn draft_until_closed(drafter: &Drafter, queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for a job, never while drafting.
        let next = queue.lock().map_err(|_| ()).and_then(|q| q.recv().map_err(|_| ()));
        let Ok(Job { record, case, done }) = next else { return };
        let drafted = catch_unwind(AssertUnwindSafe(|| drafter.draft_in_case(&record, &case)))
            .unwrap_or_else(|_| Err(anyhow!("drafting failed unexpectedly (a bug: please report it)")));
        // The caller may have stopped waiting (stdout closed): the answer is then dropped.
        let _ = done.send((record, drafted));
    }
}

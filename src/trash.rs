//! Freeing, on a thread of its own, what other threads allocated.
//!
//! glibc's `free` of a chunk from another thread's arena takes that arena's lock, which the
//! owning thread holds whenever it allocates. An import's writer frees every message that the
//! reader and the parsing threads made, and it spent about a fifth of its time asleep on those
//! locks (the writer is what an import waits for). Handed over in bundles, the frees wait on
//! this thread instead.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Items per hand-over: one channel message per bundle, not per item.
const BUNDLE: usize = 64;
/// A bundle also goes once it holds this many bytes, so the memory waiting here is bounded in
/// bytes, not only in items (mail runs to tens of megabytes).
const BUNDLE_BYTES: usize = 4 * 1024 * 1024;
/// Bundles in flight.
const BUNDLES: usize = 4;
/// An item this big is dropped at once where it is: one free, and not worth holding.
const DROP_NOW_BYTES: usize = 1024 * 1024;

pub struct Trash<T: Send + 'static> {
    bin: Vec<T>,
    bin_bytes: usize,
    /// Started with the first full bundle.
    worker: Option<Worker<T>>,
    /// The thread could not start: items are dropped where they are, as without a trash.
    no_worker: bool,
}

struct Worker<T> {
    full: SyncSender<Vec<T>>,
    /// Emptied bundles come back, so their own memory is not freed across threads either.
    empty: Receiver<Vec<T>>,
    thread: JoinHandle<()>,
}

impl<T: Send + 'static> Default for Trash<T> {
    fn default() -> Self {
        Trash { bin: Vec::new(), bin_bytes: 0, worker: None, no_worker: false }
    }
}

impl<T: Send + 'static> Trash<T> {
    /// Drops `item`, which holds about `bytes` of heap, soon and on the trash thread.
    pub fn put(&mut self, item: T, bytes: usize) {
        if bytes >= DROP_NOW_BYTES || self.no_worker {
            drop(item);
            return;
        }
        self.bin.push(item);
        self.bin_bytes += bytes;
        if self.bin.len() >= BUNDLE || self.bin_bytes >= BUNDLE_BYTES {
            self.send_bin();
        }
    }

    fn send_bin(&mut self) {
        self.bin_bytes = 0;
        if self.worker.is_none() {
            self.worker = Worker::start();
            self.no_worker = self.worker.is_none();
        }
        let Some(worker) = &self.worker else {
            self.bin.clear();
            return;
        };
        let next = worker.empty.try_recv().unwrap_or_else(|_| Vec::with_capacity(BUNDLE));
        // A send fails only if the thread is gone; the bundle is then dropped right here.
        let _ = worker.full.send(std::mem::replace(&mut self.bin, next));
    }
}

impl<T: Send + 'static> Worker<T> {
    fn start() -> Option<Worker<T>> {
        let (full, bundles) = sync_channel::<Vec<T>>(BUNDLES);
        let (give_back, empty) = sync_channel::<Vec<T>>(BUNDLES);
        let thread = std::thread::Builder::new()
            .name("trash".into())
            .spawn(move || {
                for mut bundle in bundles {
                    bundle.clear();
                    let _ = give_back.try_send(bundle);
                }
            })
            .ok()?;
        Some(Worker { full, empty, thread })
    }
}

impl<T: Send + 'static> Drop for Trash<T> {
    /// Waits for the thread to free what it was given (a bundle or two: milliseconds), so
    /// nothing outlives the work that made it.
    fn drop(&mut self) {
        if let Some(Worker { full, empty, thread }) = self.worker.take() {
            if !self.bin.is_empty() {
                let _ = full.send(std::mem::take(&mut self.bin));
            }
            drop((full, empty));
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn every_item_is_dropped_once_by_the_time_the_trash_is() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut trash = Trash::default();
        for _ in 0..(BUNDLE * (BUNDLES + 3) + 5) {
            trash.put(Counted(dropped.clone()), 100);
        }
        drop(trash);
        assert_eq!(dropped.load(Ordering::SeqCst), BUNDLE * (BUNDLES + 3) + 5);
        let mut few = Trash::default();
        few.put(Counted(dropped.clone()), 100);
        drop(few);
        assert_eq!(dropped.load(Ordering::SeqCst), BUNDLE * (BUNDLES + 3) + 6);
    }

    #[test]
    fn big_items_are_not_held_and_bundles_are_bounded_in_bytes() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut trash = Trash::default();
        trash.put(Counted(dropped.clone()), DROP_NOW_BYTES);
        assert_eq!(dropped.load(Ordering::SeqCst), 1, "a big item is dropped at once");
        // Items just under the limit fill a bundle in bytes long before it is full in count.
        for _ in 0..5 {
            trash.put(Counted(dropped.clone()), DROP_NOW_BYTES - 1);
        }
        assert!(trash.bin.len() < 5, "bundles went off by bytes: {} items waiting", trash.bin.len());
        drop(trash);
        assert_eq!(dropped.load(Ordering::SeqCst), 6);
    }
}

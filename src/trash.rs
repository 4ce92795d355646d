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
/// Bundles in flight: bounds the memory waiting to be freed.
const BUNDLES: usize = 4;

pub struct Trash<T: Send + 'static> {
    bin: Vec<T>,
    /// Started on the first full bundle; None before, or if the thread could not start.
    worker: Option<Worker<T>>,
}

struct Worker<T> {
    full: SyncSender<Vec<T>>,
    /// Emptied bundles come back, so their own memory is not freed across threads either.
    empty: Receiver<Vec<T>>,
    thread: JoinHandle<()>,
}

impl<T: Send + 'static> Default for Trash<T> {
    fn default() -> Self {
        Trash { bin: Vec::new(), worker: None }
    }
}

impl<T: Send + 'static> Trash<T> {
    /// Drops `item` soon, on the trash thread.
    pub fn put(&mut self, item: T) {
        self.bin.push(item);
        if self.bin.len() >= BUNDLE {
            self.send_bin();
        }
    }

    fn send_bin(&mut self) {
        if self.worker.is_none() {
            self.worker = Worker::start();
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
    fn drop(&mut self) {
        if let Some(Worker { full, empty, thread }) = self.worker.take() {
            let _ = full.send(std::mem::take(&mut self.bin));
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
            trash.put(Counted(dropped.clone()));
        }
        drop(trash);
        assert_eq!(dropped.load(Ordering::SeqCst), BUNDLE * (BUNDLES + 3) + 5);
        let mut few = Trash::default();
        few.put(Counted(dropped.clone()));
        drop(few);
        assert_eq!(dropped.load(Ordering::SeqCst), BUNDLE * (BUNDLES + 3) + 6);
    }
}

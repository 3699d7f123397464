//! What the native test modules share: a small executor for the core's futures (the core has
//! no runtime of its own) and the readers of `tests/fixtures/`.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that only records that it was woken.
pub struct Flag(pub AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls a future while something wakes it, so a test can act between stalls (resume a batch,
/// cancel a run) and step it a poll at a time.
pub struct Driver<'a, T> {
    future: Pin<Box<dyn Future<Output = T> + 'a>>,
    woken: Arc<Flag>,
    /// How many times the future was polled.
    pub polls: usize,
}

impl<'a, T> Driver<'a, T> {
    /// A driver that will poll `future` first thing.
    pub fn new(future: impl Future<Output = T> + 'a) -> Self {
        Driver {
            future: Box::pin(future),
            woken: Arc::new(Flag(AtomicBool::new(true))),
            polls: 0,
        }
    }

    /// Polls while something woke the task; `Some` once finished, `None` when it waits for
    /// something outside (a resume, a cancel).
    pub fn run_until_stalled(&mut self) -> Option<T> {
        let waker = Waker::from(Arc::clone(&self.woken));
        let mut cx = Context::from_waker(&waker);
        while self.woken.0.swap(false, Ordering::SeqCst) {
            self.polls += 1;
            assert!(self.polls < 100_000, "the future never settles");
            if let Poll::Ready(v) = self.future.as_mut().poll(&mut cx) {
                return Some(v);
            }
        }
        None
    }

    /// One poll (as if woken), for stepping a batch a little at a time.
    pub fn poll_once(&mut self) -> Option<T> {
        self.woken.0.store(false, Ordering::SeqCst);
        let waker = Waker::from(Arc::clone(&self.woken));
        let mut cx = Context::from_waker(&waker);
        self.polls += 1;
        match self.future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        }
    }
}

/// Runs a future that only ever waits on itself (scripted LLMs, in-memory stores, a manual
/// clock); fails the test if it waits for something that never comes.
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    Driver::new(future)
        .run_until_stalled()
        .expect("the future waits for something that never comes")
}

/// The absolute path of `tests/fixtures/<rel>`.
pub fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The bytes of `tests/fixtures/<rel>`.
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = fixture_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The text of `tests/fixtures/<rel>`.
pub fn fixture_text(rel: &str) -> String {
    let path = fixture_path(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `tests/fixtures/<rel>` parsed as JSON.
pub fn fixture_json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&fixture_text(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
}

/// Runs a future that must finish in one poll: with a scripted LLM, a manual clock and memory
/// sinks every await is ready at once, so a second poll would mean something waited.
pub fn ready_now<T>(future: impl Future<Output = T>) -> T {
    Driver::new(future)
        .poll_once()
        .expect("a future was pending; nothing here should wait")
}

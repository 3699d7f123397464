//! What the native test modules share: a small executor for the core's futures (the core has
//! no runtime of its own), a store that logs what it is asked, and the readers of
//! `tests/fixtures/`.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use std::rc::Rc;
use trialogue::core::in_flight::InFlightCall;

use trialogue::core::pipeline::SinkError;
use trialogue::core::pricing::{PriceOverrides, Pricer, RateOverride};
use trialogue::core::providers::ProviderRegistry;
use trialogue::core::run_store::{create_under_free_id, MemoryRunStore, RunStore};
use trialogue::core::trajectory::{RunRecord, TrajectoryEntry};

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

/// The built-in providers, OpenAI's with a key (any key: the transports are scripted).
pub fn registry_with_openai_key() -> ProviderRegistry {
    let mut registry = ProviderRegistry::builtin();
    let mut openai = registry.get("openai").cloned().expect("built-in openai");
    openai.api_key = "sk-test".into();
    registry.upsert(openai);
    registry
}

/// A pricer that knows only `model`, at the user's own price of `input_per_million` and
/// `output_per_million` USD per million tokens.
pub fn priced_at(model: &str, input_per_million: f64, output_per_million: f64) -> Rc<Pricer> {
    let mut overrides = PriceOverrides::new();
    overrides
        .insert(
            model,
            RateOverride::new(input_per_million, output_per_million),
        )
        .expect("a valid price");
    Rc::new(Pricer::new(None, overrides))
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

/// Returns `Pending` `n` times (waking itself each time), like an await on a quick I/O.
pub struct YieldNow(pub u32);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A [`MemoryRunStore`] that logs every round trip a batch makes to it; a step's commit is
/// logged as it starts (`append`) and as it ends (`appended`), each try of a run id as
/// `create_run_if_free`.
#[derive(Default)]
pub struct LoggingStore {
    pub inner: MemoryRunStore,
    /// Every call, as `<call> <run id>`.
    pub log: RefCell<Vec<String>>,
    tried: RefCell<HashSet<String>>,
    /// Whether the commit of a run's terminal step (the judge's) takes a while.
    slow_last_commit: bool,
}

impl LoggingStore {
    /// A store whose commit of a run's terminal step (the judge's) takes a few polls.
    pub fn with_slow_last_commit() -> Self {
        LoggingStore {
            slow_last_commit: true,
            ..LoggingStore::default()
        }
    }

    /// Logs `call` for `run_id`.
    pub fn note(&self, call: &str, run_id: &str) {
        self.log.borrow_mut().push(format!("{call} {run_id}"));
    }

    /// The run ids logged for `call`, in order.
    pub fn calls(&self, call: &str) -> Vec<String> {
        let prefix = format!("{call} ");
        self.log
            .borrow()
            .iter()
            .filter_map(|line| line.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }
}

impl RunStore for LoggingStore {
    async fn append_step(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
    ) -> Result<RunRecord, SinkError> {
        self.note("append", &entry.run_id);
        if entry.terminal && self.slow_last_commit {
            YieldNow(20).await;
        }
        let stored = self.inner.append_step(record, entry).await;
        self.note("appended", &entry.run_id);
        stored
    }
    async fn create_run_under_free_id(&self, record: &mut RunRecord) -> Result<(), SinkError> {
        create_under_free_id(record, &self.tried, async |r: &RunRecord| {
            self.note("create_run_if_free", &r.run_id);
            Ok(self.inner.create_run_if_free(r))
        })
        .await
    }
    async fn put_run(&self, record: &RunRecord) -> Result<(), SinkError> {
        self.note("put_run", &record.run_id);
        self.inner.put_run(record).await
    }
    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, SinkError> {
        self.note("get_run", run_id);
        self.inner.get_run(run_id).await
    }
    async fn steps(&self, run_id: &str) -> Result<Vec<TrajectoryEntry>, SinkError> {
        self.note("steps", run_id);
        self.inner.steps(run_id).await
    }
    async fn begin_call(&self, call: &InFlightCall) -> Result<(), SinkError> {
        self.note("begin_call", &call.run_id);
        self.inner.begin_call(call).await
    }
    async fn in_flight_calls(&self, run_id: &str) -> Result<Vec<InFlightCall>, SinkError> {
        self.inner.in_flight_calls(run_id).await
    }
    async fn put_run_settling_calls(&self, record: &RunRecord) -> Result<(), SinkError> {
        self.note("put_run", &record.run_id);
        self.inner.put_run_settling_calls(record).await
    }
}

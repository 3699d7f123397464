//! Replay: a stored run through the same loop again, every request answered from the reply
//! store and none sent. The replayed steps equal the stored ones, timestamps aside; a request
//! with no stored reply stops the replay and is named.

use super::cache::{ReplyCache, ReplyNote, RunScope};
use super::hub::ReplyHub;
use super::llm::{CachedLlm, ReplySource};
use super::policy::ReusePolicy;
use super::store::ReplyStore;
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::config::PipelineConfig;
use crate::core::driver::{Finished, LlmSource, NewRun, RunDriver, RunEvent, StartError, TabLocks};
use crate::core::jsonl;
use crate::core::llm::chat::{HttpRequest, HttpResponse};
use crate::core::llm::client::LlmClient;
use crate::core::llm::transport::{Transport, TransportError};
use crate::core::pipeline::{MemorySink, NoPricing, Pipeline, RunInput, StepPricer};
use crate::core::pricing::Pricer;
use crate::core::providers::ProviderRegistry;
use crate::core::run_store::RunStore;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};
use std::cell::RefCell;
use std::rc::Rc;

/// Why a replay stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayError {
    /// The run was imported without its config, so its loop cannot run again.
    #[error("run {run_id} has no stored config, so it cannot be replayed")]
    NoConfig {
        /// The run.
        run_id: String,
    },
    /// A request of the replay has no reply in the store.
    #[error(
        "replay stopped at step {step}: no stored reply for request {request_hash} ({endpoint}); \
         the run was made before replies were stored, or its replies were cleared"
    )]
    MissingReply {
        /// The step (1-based) whose call made the request.
        step: usize,
        /// The request's address.
        request_hash: String,
        /// `METHOD url` of the request.
        endpoint: String,
    },
    /// The new run could not be started (the store, a lock).
    #[error("the replay could not start: {0}")]
    Start(StartError),
}

/// A transport that never sends: replay answers everything from the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNetwork;

impl Transport for NoNetwork {
    async fn send(
        &self,
        request: &HttpRequest,
        _timeout_ms: u64,
        _cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        Err(TransportError::Network(format!(
            "replay sends no requests (asked for {})",
            request.url
        )))
    }
}

/// Replays `record` (whose stored steps are `stored`) from `hub`'s replies, priced by
/// `pricer` as the original was; returns the replayed steps.
pub async fn replay_run<C: Clock + Clone + 'static, S: ReplyStore + 'static>(
    record: &RunRecord,
    stored: &[TrajectoryEntry],
    registry: ProviderRegistry,
    clock: &C,
    hub: Rc<ReplyHub<S>>,
    pricer: Option<&dyn StepPricer>,
) -> Result<Vec<TrajectoryEntry>, ReplayError> {
    let Some(config) = &record.config else {
        return Err(ReplayError::NoConfig {
            run_id: record.run_id.clone(),
        });
    };
    let policy = ReusePolicy::of_steps(stored).unwrap_or_default();
    let stop = CancelToken::new();
    let scope = RunScope {
        run_id: record.run_id.clone(),
        policy,
        sample_index: 0,
        replay: Some(stop.clone()),
        replay_of: None,
    };
    let source = ReplySource::new(registry, NoNetwork, clock.clone(), hub, policy);
    let llm = source.llm_in_scope(config, scope);
    let missing = llm.client().transport().missing();
    let sink = MemorySink::new();
    let pricer = pricer.unwrap_or(&NoPricing);
    let pipeline = Pipeline::new(config, &llm, clock, &sink)
        .with_pricer(pricer)
        .with_cancel(stop);
    let input = RunInput {
        run_id: record.run_id.clone(),
        problem: record.problem.clone(),
        ground_truth: record.ground_truth.clone(),
    };
    pipeline.run(&input).await;
    let steps = sink.entries();
    if let Some(note) = missing.borrow().as_ref() {
        return Err(ReplayError::MissingReply {
            step: steps.len() + 1,
            request_hash: note.request_hash.clone(),
            endpoint: endpoint_of(note),
        });
    }
    Ok(steps)
}

/// The JSONL lines of `steps` with their timestamps blanked: what a replay must reproduce.
pub fn lines_without_timestamps(
    steps: &[TrajectoryEntry],
) -> Result<Vec<String>, jsonl::JsonlWriteError> {
    steps
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.timestamp.clear();
            jsonl::to_line(&s)
        })
        .collect()
}

/// The run driver's LLM source for a replay into a new run: every run it makes an LLM for
/// answers from the store only, addressed as `original`'s requests, and a request with no
/// stored reply stops the run and is kept for the caller to name.
pub struct ReplaySource<C, S> {
    source: ReplySource<NoNetwork, C, S>,
    original: String,
    stop: CancelToken,
    missing: RefCell<Option<Rc<RefCell<Option<ReplyNote>>>>>,
}

impl<C: Clock + Clone + 'static, S: ReplyStore + 'static> ReplaySource<C, S> {
    /// Replays `original`'s requests (made by `policy`) from `hub`'s store; `stop` fires on
    /// the first missing reply.
    pub fn new(
        registry: ProviderRegistry,
        clock: C,
        hub: Rc<ReplyHub<S>>,
        original: &str,
        policy: ReusePolicy,
        stop: CancelToken,
    ) -> Self {
        ReplaySource {
            source: ReplySource::new(registry, NoNetwork, clock, hub, policy),
            original: original.to_string(),
            stop,
            missing: RefCell::default(),
        }
    }

    /// The first request that had no stored reply, if any.
    pub fn missing(&self) -> Option<ReplyNote> {
        self.missing
            .borrow()
            .as_ref()
            .and_then(|m| m.borrow().clone())
    }
}

impl<C: Clock + Clone + 'static, S: ReplyStore + 'static> LlmSource for ReplaySource<C, S> {
    type Llm<'s>
        = CachedLlm<LlmClient<ReplyCache<NoNetwork, S>, C>, S>
    where
        Self: 's;

    fn llm_for(&self, config: &PipelineConfig) -> Self::Llm<'_> {
        self.llm_for_run(config, "")
    }

    fn llm_for_run(&self, config: &PipelineConfig, run_id: &str) -> Self::Llm<'_> {
        let scope = RunScope {
            run_id: run_id.to_string(),
            policy: self.source.policy(),
            sample_index: 0,
            replay: Some(self.stop.clone()),
            replay_of: Some(self.original.clone()),
        };
        let llm = self.source.llm_in_scope(config, scope);
        *self.missing.borrow_mut() = Some(llm.client().transport().missing());
        llm
    }
}

/// What a replay into a new run needs besides the original.
pub struct ReplayInputs<'a, C, S, R, K> {
    /// The providers (their adapters build the requests; nothing is sent).
    pub registry: ProviderRegistry,
    /// The clock.
    pub clock: &'a C,
    /// The reply store, shared.
    pub hub: Rc<ReplyHub<R>>,
    /// Where the new run is stored.
    pub store: &'a S,
    /// The tab's locks.
    pub locks: &'a K,
    /// The prices (a replayed step costs $0 all the same: another run paid for it).
    pub pricer: Option<Rc<Pricer>>,
    /// Hears the new run's progress.
    pub listener: Option<&'a dyn Fn(&RunEvent<'_>)>,
}

/// Replays stored run `original` (whose steps are `stored`) into a new run, through the same
/// loop and run driver as a live run, every reply from the store and none sent: each step
/// says which run paid for its reply and costs $0. A request with no stored reply stops the
/// replay; the new run is then stored `failed` with a message naming the request, and the
/// error names it too.
pub async fn replay_as_new_run<C, S, R, K>(
    original: &RunRecord,
    stored: &[TrajectoryEntry],
    inputs: ReplayInputs<'_, C, S, R, K>,
) -> Result<Finished, ReplayError>
where
    C: Clock + Clone + 'static,
    S: RunStore,
    R: ReplyStore + 'static,
    K: TabLocks,
{
    let Some(config) = &original.config else {
        return Err(ReplayError::NoConfig {
            run_id: original.run_id.clone(),
        });
    };
    let policy = ReusePolicy::of_steps(stored).unwrap_or_default();
    let stop = CancelToken::new();
    let source = ReplaySource::new(
        inputs.registry,
        inputs.clock.clone(),
        inputs.hub,
        &original.run_id,
        policy,
        stop.clone(),
    );
    let mut driver = RunDriver::new(&source, inputs.clock, inputs.store)
        .with_locks(inputs.locks)
        .with_cancel(stop);
    if let Some(pricer) = inputs.pricer {
        driver = driver.with_pricer(pricer);
    }
    if let Some(listener) = inputs.listener {
        driver = driver.with_listener(listener);
    }
    let run = NewRun {
        config,
        problem: &original.problem,
        ground_truth: original.ground_truth.as_deref(),
        batch_id: None,
    };
    let finished = driver.start(run).await.map_err(ReplayError::Start)?;
    let Some(note) = source.missing() else {
        return Ok(finished);
    };
    let error = ReplayError::MissingReply {
        step: finished.outcome.entries.len() + 1,
        request_hash: note.request_hash.clone(),
        endpoint: endpoint_of(&note),
    };
    // The new run says why it stopped, as a run the provider failed would.
    let _ = driver
        .fail_stored(&finished.record.run_id, &error.to_string())
        .await;
    Err(error)
}

fn endpoint_of(note: &ReplyNote) -> String {
    serde_json::from_str::<serde_json::Value>(&note.request)
        .ok()
        .and_then(|v| v.get("endpoint")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

//! Replay: a stored run through the same loop again, every request answered from the reply
//! store and none sent. The replayed steps equal the stored ones, timestamps aside; a request
//! with no stored reply stops the replay and is named.

use super::cache::{ReplyHub, RunScope};
use super::llm::ReplySource;
use super::policy::ReusePolicy;
use super::store::ReplyStore;
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::jsonl;
use crate::core::llm::chat::{HttpRequest, HttpResponse};
use crate::core::llm::transport::{Transport, TransportError};
use crate::core::pipeline::{MemorySink, NoPricing, Pipeline, RunInput, StepPricer};
use crate::core::providers::ProviderRegistry;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};
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
pub async fn replay_run<C: Clock + Clone + 'static, S: ReplyStore>(
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
        let endpoint = serde_json::from_str::<serde_json::Value>(&note.request)
            .ok()
            .and_then(|v| v.get("endpoint")?.as_str().map(str::to_string))
            .unwrap_or_default();
        return Err(ReplayError::MissingReply {
            step: steps.len() + 1,
            request_hash: note.request_hash.clone(),
            endpoint,
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

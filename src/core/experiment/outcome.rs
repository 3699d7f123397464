//! One run as the experiment matrix reads it: the statistics' [`RunResult`] plus what the
//! matrix adds (tokens, latency, paid and reused calls), all from the run's record and steps.

use serde::{Deserialize, Serialize};

use crate::core::stats::RunResult;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};

/// One run of a config's batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// What the batch statistics read (correctness, judge, verifier, iterations, cost).
    pub result: RunResult,
    /// Tokens over every step, in and out.
    pub total_tokens: u64,
    /// The run's calls' latencies summed, ms (`None` when no step recorded one): the time the
    /// run waited on providers, which a reused reply does not add to.
    pub latency_ms: Option<f64>,
    /// Steps whose reply was paid in this run (every step not answered from the reply store).
    pub paid_calls: u64,
    /// Steps answered from the reply store (`metadata.reused_from` set): $0 here.
    pub reused_calls: u64,
}

impl RunOutcome {
    /// The outcome of run `record`, made for dataset problem `problem_id`, from its committed
    /// `steps` (any order).
    pub fn new(problem_id: &str, record: &RunRecord, steps: &[TrajectoryEntry]) -> RunOutcome {
        let latencies: Vec<f64> = steps.iter().filter_map(|s| s.metadata.latency_ms).collect();
        let reused_calls = steps
            .iter()
            .filter(|s| s.metadata.reused_from.is_some())
            .count() as u64;
        RunOutcome {
            result: RunResult::new(problem_id, record, steps),
            total_tokens: record.usage.total_tokens,
            latency_ms: (!latencies.is_empty()).then(|| latencies.iter().sum()),
            paid_calls: steps.len() as u64 - reused_calls,
            reused_calls,
        }
    }
}

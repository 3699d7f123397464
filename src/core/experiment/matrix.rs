//! The results matrix: one row per config, one column per metric.

use serde::{Deserialize, Serialize};

use crate::core::config::Mode;
use crate::core::stats::{ModeStats, Proportion, RunResult};

use super::outcome::RunOutcome;

/// One config of a comparison and its runs: an experiment's arm, or any batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmRuns {
    /// What tells it apart (the varied value, the saved config's or the batch's name).
    pub label: String,
    /// The config's hash.
    pub config_hash: String,
    /// The batch its runs belong to.
    pub batch_id: String,
    /// Debate or baseline (the mode its runs were made in).
    pub mode: Mode,
    /// One per run made, in problem order.
    pub runs: Vec<RunOutcome>,
}

/// One row of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigRow {
    /// The config's label.
    pub label: String,
    /// The config's hash.
    pub config_hash: String,
    /// Its batch.
    pub batch_id: String,
    /// Runs made, whatever their status.
    pub runs: usize,
    /// Completed runs, which the rates are over.
    pub completed: usize,
    /// Correct final answers among completed runs with a checked answer, with the Wilson
    /// interval.
    pub accuracy: Option<Proportion>,
    /// Mean judge score over completed runs with one.
    pub mean_judge_score: Option<f64>,
    /// Completed debate runs whose verifier's last verdict was a pass.
    pub verifier_pass_rate: Option<Proportion>,
    /// Mean solver rounds over completed runs.
    pub mean_iterations: Option<f64>,
    /// Tokens over every run.
    pub total_tokens: u64,
    /// Cost of every run, USD (priced steps only); `None` when nothing is priced.
    pub cost_usd: Option<f64>,
    /// False when some step was not priced: the costs are lower bounds.
    pub cost_complete: bool,
    /// Correct answers per USD spent (accuracy ÷ cost per problem); `None` without a cost
    /// above zero or a checked answer.
    pub correct_per_usd: Option<f64>,
    /// The median of the runs' provider latency, ms.
    pub latency_p50_ms: Option<f64>,
    /// The 90th percentile of the runs' provider latency, ms.
    pub latency_p90_ms: Option<f64>,
    /// Calls paid by this config's runs.
    pub paid_calls: u64,
    /// Calls answered from the reply store.
    pub reused_calls: u64,
}

impl ConfigRow {
    /// The row of `arm`.
    pub fn of(arm: &ArmRuns) -> ConfigRow {
        let results: Vec<RunResult> = arm.runs.iter().map(|r| r.result.clone()).collect();
        let stats = ModeStats::of(arm.mode, &results);
        let accuracy = stats.as_ref().and_then(|s| s.accuracy);
        let cost_usd = stats.as_ref().and_then(|s| s.total_cost_usd);
        let mut latencies: Vec<f64> = arm.runs.iter().filter_map(|r| r.latency_ms).collect();
        latencies.sort_by(f64::total_cmp);
        ConfigRow {
            label: arm.label.clone(),
            config_hash: arm.config_hash.clone(),
            batch_id: arm.batch_id.clone(),
            runs: arm.runs.len(),
            completed: stats.as_ref().map_or(0, |s| s.completed),
            accuracy,
            mean_judge_score: stats.as_ref().and_then(|s| s.mean_judge_score),
            verifier_pass_rate: stats.as_ref().and_then(|s| s.verifier_pass_rate),
            mean_iterations: stats.as_ref().and_then(|s| s.mean_iterations),
            total_tokens: arm.runs.iter().map(|r| r.total_tokens).sum(),
            cost_usd,
            cost_complete: stats.as_ref().is_none_or(|s| s.cost_complete),
            correct_per_usd: accuracy
                .zip(cost_usd)
                .filter(|(_, cost)| *cost > 0.0)
                .map(|(a, cost)| a.successes as f64 / cost),
            latency_p50_ms: nearest_rank(&latencies, 0.5),
            latency_p90_ms: nearest_rank(&latencies, 0.9),
            paid_calls: arm.runs.iter().map(|r| r.paid_calls).sum(),
            reused_calls: arm.runs.iter().map(|r| r.reused_calls).sum(),
        }
    }
}

/// The `q`-quantile of ascending `sorted` by the nearest-rank method: the smallest value with
/// at least `q` of the values at or below it. It is always one of the values measured, so a
/// p90 over few runs names a real run's latency rather than a blend of two.
pub fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

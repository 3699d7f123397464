//! Batches: many problems of a dataset run through the pipeline, in debate mode, baseline mode
//! or both, a few at a time.
//!
//! - [`BatchSpec`] says what to run; [`BatchRecord`] is the spec plus where each
//!   (problem, mode) item stands, and is what gets stored.
//! - [`scheduler::Scheduler`] runs the pending items concurrently on one thread, adapting its
//!   concurrency to rate limits, and obeys pause, resume and cancel from a
//!   [`scheduler::BatchControl`].
//! - [`runner::PipelineRunner`] runs one item through the agent loop, resuming a run from its
//!   committed steps when it has some.
//! - After a reload, [`BatchRecord::reconcile`] matches the stored runs tagged with the batch
//!   to its items, so only the unfinished ones run again.
//! - [`http1::http1_bottlenecks`] says which servers the browser reaches over HTTP/1.1, where
//!   it caps the calls in flight below a high concurrency.

pub mod http1;
pub mod mirror;
pub mod runner;
pub mod scheduler;
pub mod slots;
pub mod tally;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::core::clock::compact_utc;
use crate::core::config::{Mode, PipelineConfig};
use crate::core::dataset::Problem;
use crate::core::experiment::ExperimentTag;
use crate::core::replies::ReusePolicy;
use crate::core::trajectory::{RunRecord, RunStatus, StopReason};

/// The most items a batch runs at once: hosted providers with high rate limits serve hundreds
/// of calls at once, and the scheduler's back-off lowers it for those that do not.
pub const MAX_CONCURRENCY: u32 = 256;

/// Which modes each problem is run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchModes {
    /// Debate only.
    Debate,
    /// Baseline only.
    Baseline,
    /// Both, for a paired comparison: debate first, then baseline, for each problem.
    Both,
}

impl BatchModes {
    /// The modes in the order items are made.
    pub fn modes(self) -> &'static [Mode] {
        match self {
            BatchModes::Debate => &[Mode::Debate],
            BatchModes::Baseline => &[Mode::Baseline],
            BatchModes::Both => &[Mode::Debate, Mode::Baseline],
        }
    }
}

/// Why a batch cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Concurrency outside 1..=[`MAX_CONCURRENCY`].
    #[error("concurrency must be between 1 and {MAX_CONCURRENCY}, not {value}; lower it (a local model usually wants 1 or 2)")]
    Concurrency {
        /// What was asked.
        value: u32,
    },
    /// No problem selected.
    #[error("the batch has no problems; loosen the filters or raise the limit")]
    NoProblems,
    /// A problem id listed twice.
    #[error("problem `{id}` is listed twice; each problem runs once per mode")]
    DuplicateProblem {
        /// The id.
        id: String,
    },
    /// A problem id the dataset does not have.
    #[error(
        "problem `{id}` is not in the dataset; re-select the problems from the current dataset"
    )]
    UnknownProblem {
        /// The id.
        id: String,
    },
}

/// What a batch runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSpec {
    /// `batch_<YYYYMMDD>_<HHMMSS>_<config_hash>` (see [`batch_id`]); every run of the batch
    /// carries it as `RunRecord::batch_id`.
    pub batch_id: String,
    /// A name for people.
    pub name: String,
    /// The dataset's id (e.g. [`crate::core::dataset::Dataset::content_id`]).
    pub dataset_id: String,
    /// The dataset's name as shown.
    pub dataset_name: String,
    /// The problems, in the order they are run.
    pub problem_ids: Vec<String>,
    /// Debate, baseline or both.
    pub modes: BatchModes,
    /// How many items may run at once, 1..=[`MAX_CONCURRENCY`].
    pub concurrency: u32,
    /// The pipeline config (its `mode` is replaced by each item's mode).
    pub config: PipelineConfig,
    /// `config.config_hash()` when the batch was made.
    pub config_hash: String,
    /// When the batch was made, epoch milliseconds (UTC).
    pub created_ms: f64,
    /// The experiment the batch is one config of, if any (absent from batches made on the
    /// Batch page, so their stored form is unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<ExperimentTag>,
    /// When its runs may answer a request from the reply store; a batch stored before there
    /// was a choice reads as the default.
    #[serde(default, skip_serializing_if = "ReusePolicy::is_default")]
    pub reuse_policy: ReusePolicy,
    /// How its calls reach the providers (left out of a live batch's record, as before this
    /// choice existed).
    #[serde(default, skip_serializing_if = "BatchEngine::is_live")]
    pub engine: BatchEngine,
    /// In provider batch mode, whether a request its provider batch did not answer (expired,
    /// errored) is sent live at once rather than in the next round ("finish the stragglers
    /// live"); left out when off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stragglers_live: bool,
}

/// The most items a batch in provider batch mode runs at once: all of a batch of this many (the
/// OpenAI Batch API takes 50,000 requests per batch, Anthropic's 100,000).
pub const PROVIDER_BATCH_MAX_ITEMS: u32 = 50_000;

/// How a batch's calls reach the providers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BatchEngine {
    /// One by one, as they come (concurrency, rate limits, live prices).
    #[default]
    Live,
    /// Through the providers' batch APIs, in rounds (see [`crate::core::provider_batch`]).
    ProviderBatch,
}

impl BatchEngine {
    /// Whether it is [`BatchEngine::Live`].
    pub fn is_live(&self) -> bool {
        *self == BatchEngine::Live
    }

    /// The name shown and used as the select's value: `live`, `provider-batch`.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchEngine::Live => "live",
            BatchEngine::ProviderBatch => "provider-batch",
        }
    }

    /// The most items a batch of this engine has in flight at once: [`MAX_CONCURRENCY`] live;
    /// in provider batch mode every item ([`PROVIDER_BATCH_MAX_ITEMS`]), since a round waits
    /// for its provider batch whatever it holds and a round per wave of items would multiply
    /// the turnarounds.
    pub fn max_concurrency(self) -> u32 {
        match self {
            BatchEngine::Live => MAX_CONCURRENCY,
            BatchEngine::ProviderBatch => PROVIDER_BATCH_MAX_ITEMS,
        }
    }

    /// The engine called `name` ([`BatchEngine::as_str`]).
    pub fn from_name(name: &str) -> Option<BatchEngine> {
        match name {
            "live" => Some(BatchEngine::Live),
            "provider-batch" => Some(BatchEngine::ProviderBatch),
            _ => None,
        }
    }
}

/// The id of a batch made at `epoch_ms` with a config hashing to `config_hash`:
/// `batch_<YYYYMMDD>_<HHMMSS>_<config_hash>`, with `_2`, `_3` … added while `taken` says the id is
/// in use.
pub fn batch_id(epoch_ms: f64, config_hash: &str, taken: impl Fn(&str) -> bool) -> String {
    let base = format!("batch_{}_{}", compact_utc(epoch_ms), config_hash);
    if !taken(&base) {
        return base;
    }
    (2u64..)
        .map(|n| format!("{base}_{n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or(base)
}

impl BatchSpec {
    /// A spec over `problem_ids` (in run order), checked with [`validate`](Self::validate).
    /// The id is [`batch_id`] of `created_ms`; `taken` says which ids exist already.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: impl Into<String>,
        dataset_id: impl Into<String>,
        dataset_name: impl Into<String>,
        problem_ids: Vec<String>,
        modes: BatchModes,
        concurrency: u32,
        config: PipelineConfig,
        created_ms: f64,
        taken: impl Fn(&str) -> bool,
    ) -> Result<BatchSpec, BatchError> {
        let config_hash = config.config_hash();
        let spec = BatchSpec {
            batch_id: batch_id(created_ms, &config_hash, taken),
            name: name.into(),
            dataset_id: dataset_id.into(),
            dataset_name: dataset_name.into(),
            problem_ids,
            modes,
            concurrency,
            config,
            config_hash,
            created_ms,
            experiment: None,
            reuse_policy: ReusePolicy::default(),
            engine: BatchEngine::Live,
            stragglers_live: false,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// The spec with its runs reusing replies by `policy`.
    pub fn with_reuse_policy(mut self, policy: ReusePolicy) -> Self {
        self.reuse_policy = policy;
        self
    }

    /// Checks the concurrency, that there are problems, and that none is listed twice.
    pub fn validate(&self) -> Result<(), BatchError> {
        if !(1..=self.engine.max_concurrency()).contains(&self.concurrency) {
            return Err(BatchError::Concurrency {
                value: self.concurrency,
            });
        }
        if self.problem_ids.is_empty() {
            return Err(BatchError::NoProblems);
        }
        let mut seen = HashSet::new();
        for id in &self.problem_ids {
            if !seen.insert(id.as_str()) {
                return Err(BatchError::DuplicateProblem { id: id.clone() });
            }
        }
        Ok(())
    }

    /// Checks that every problem of the spec is in `problems`.
    pub fn check_problems(&self, problems: &[Problem]) -> Result<(), BatchError> {
        let known: HashSet<&str> = problems.iter().map(|p| p.id.as_str()).collect();
        match self
            .problem_ids
            .iter()
            .find(|id| !known.contains(id.as_str()))
        {
            Some(id) => Err(BatchError::UnknownProblem { id: id.clone() }),
            None => Ok(()),
        }
    }

    /// The items in run order: each problem, in each mode of [`BatchModes::modes`].
    pub fn items(&self) -> Vec<ItemKey> {
        self.problem_ids
            .iter()
            .flat_map(|id| {
                self.modes.modes().iter().map(|mode| ItemKey {
                    problem_id: id.clone(),
                    mode: *mode,
                })
            })
            .collect()
    }

    /// The config an item of `mode` runs with.
    pub fn config_for(&self, mode: Mode) -> PipelineConfig {
        let mut config = self.config.clone();
        config.mode = mode;
        config
    }
}

/// One unit of work: a problem in a mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemKey {
    /// The dataset problem.
    pub problem_id: String,
    /// Debate or baseline.
    pub mode: Mode,
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Not started, or stopped part-way (cancelled, interrupted, budget) and waiting to be
    /// resumed from its run's steps.
    Pending,
    /// In flight.
    Running,
    /// Its run completed.
    Done,
    /// Its run failed (or could not be started); the other items went on.
    Failed,
}

/// One item's state, stored with the batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemState {
    /// The problem.
    pub problem_id: String,
    /// The mode.
    pub mode: Mode,
    /// Where it stands.
    pub status: ItemStatus,
    /// The run made for it, once started (a pending item with a run is resumed from it).
    #[serde(default)]
    pub run_id: Option<String>,
    /// The run's status as last reported.
    #[serde(default)]
    pub run_status: Option<RunStatus>,
    /// Why it failed or stopped, as a sentence.
    #[serde(default)]
    pub message: Option<String>,
    /// Wall time spent on it in this and earlier sessions, milliseconds.
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// What its run cost (priced steps only).
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// Whether every step of its run was priced.
    #[serde(default = "yes")]
    pub cost_complete: bool,
    /// What its run's requests without a reply may have cost (see
    /// [`RunRecord::possibly_billed_usd`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub possibly_billed_usd: f64,
    /// Why its run stopped, as last reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

fn yes() -> bool {
    true
}

impl ItemState {
    /// A pending item that has not been started.
    pub fn pending(key: &ItemKey) -> ItemState {
        ItemState {
            problem_id: key.problem_id.clone(),
            mode: key.mode,
            status: ItemStatus::Pending,
            run_id: None,
            run_status: None,
            message: None,
            duration_ms: None,
            cost_usd: None,
            cost_complete: true,
            possibly_billed_usd: 0.0,
            stop_reason: None,
        }
    }

    /// Whether its run failed because the provider did, not the model.
    pub fn failed_by_provider(&self) -> bool {
        self.status == ItemStatus::Failed && self.stop_reason == Some(StopReason::Provider)
    }

    /// The item's key.
    pub fn key(&self) -> ItemKey {
        ItemKey {
            problem_id: self.problem_id.clone(),
            mode: self.mode,
        }
    }

    /// Done or failed.
    pub fn is_finished(&self) -> bool {
        matches!(self.status, ItemStatus::Done | ItemStatus::Failed)
    }
}

/// Where a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Made, never started.
    Pending,
    /// Items are being run.
    Running,
    /// No new items start (asked by the user, or a budget ran out); in-flight ones finish.
    Paused,
    /// Stopped by the user; it can be resumed.
    Cancelled,
    /// Every item is done or failed.
    Completed,
    /// The page went away while it was running; it can be resumed.
    Interrupted,
}

impl BatchStatus {
    /// The snake_case name shown and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Pending => "pending",
            BatchStatus::Running => "running",
            BatchStatus::Paused => "paused",
            BatchStatus::Cancelled => "cancelled",
            BatchStatus::Completed => "completed",
            BatchStatus::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A batch as stored: its spec (flattened, so `batch_id`, `dataset_id` and `created_ms` are
/// top-level keys) and its items' states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// What the batch runs.
    #[serde(flatten)]
    pub spec: BatchSpec,
    /// Where it stands.
    pub status: BatchStatus,
    /// Why it is paused or stopped, as a sentence.
    #[serde(default)]
    pub message: Option<String>,
    /// One per item, in [`BatchSpec::items`] order.
    pub items: Vec<ItemState>,
    /// When it last changed, epoch milliseconds.
    pub updated_ms: f64,
    /// The batch budget the user raised it to while it was paused, above the config's
    /// `batch_budget_usd` (which stays as made: it is part of the config's hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raised_budget_usd: Option<f64>,
}

/// Counts and estimates for the progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Items in the batch.
    pub total: usize,
    /// Items whose run completed.
    pub done: usize,
    /// Items in flight.
    pub running: usize,
    /// Items that failed.
    pub failed: usize,
    /// Items not started yet (or stopped part-way, waiting to be resumed): with `done`,
    /// `failed` and `running` they make `total`.
    pub waiting: usize,
    /// Items not finished: in flight or waiting.
    pub remaining: usize,
    /// Spent so far over all items' runs (priced steps); `None` when nothing is priced yet.
    pub spent_usd: Option<f64>,
    /// False when some step was not priced (the spend is then a lower bound).
    pub spent_complete: bool,
    /// What requests without a reply may have cost over all items' runs (not in
    /// `spent_usd`): shown as "at most … unaccounted", and counted by the batch budget.
    #[serde(default)]
    pub possibly_billed_usd: f64,
    /// Items whose run the provider failed (an outage, not a model's answer): among
    /// `failed`, and no answer to count in accuracy.
    #[serde(default)]
    pub provider_errors: usize,
    /// Estimated time left: the median duration of finished items × remaining ÷ concurrency;
    /// `None` until an item has finished.
    pub eta_ms: Option<f64>,
}

impl Progress {
    /// The counts with `parked` of the running items shown as waiting: started, but each
    /// waiting on something shared (a provider batch's round) rather than working.
    pub fn with_parked(mut self, parked: usize) -> Progress {
        let parked = parked.min(self.running);
        self.running -= parked;
        self.waiting += parked;
        self
    }

    /// The counts as read on the batch card, each item counted once:
    /// `3 of 6 done · 1 failed · 1 running · 1 waiting`.
    pub fn counts_text(&self) -> String {
        format!(
            "{} of {} done · {} failed · {} running · {} waiting",
            self.done, self.total, self.failed, self.running, self.waiting
        )
    }
}

impl BatchRecord {
    /// A new batch with every item pending.
    pub fn new(spec: BatchSpec) -> BatchRecord {
        let items = spec.items().iter().map(ItemState::pending).collect();
        let updated_ms = spec.created_ms;
        BatchRecord {
            spec,
            status: BatchStatus::Pending,
            message: None,
            items,
            updated_ms,
            raised_budget_usd: None,
        }
    }

    /// The batch budget the batch runs under: the config's, or the one the user raised it to.
    pub fn budget_usd(&self) -> Option<f64> {
        match (self.spec.config.batch_budget_usd, self.raised_budget_usd) {
            (Some(own), Some(raised)) => Some(own.max(raised)),
            (own, None) => own,
            (None, Some(_)) => None,
        }
    }

    /// Progress, with the ETA computed for `concurrency` items at a time (the scheduler's
    /// effective concurrency while running, else the spec's).
    pub fn progress(&self, concurrency: u32) -> Progress {
        let count = |status| self.items.iter().filter(|i| i.status == status).count();
        let (done, running, failed) = (
            count(ItemStatus::Done),
            count(ItemStatus::Running),
            count(ItemStatus::Failed),
        );
        let remaining = self.items.len() - done - failed;
        let waiting = remaining - running;
        let mut durations: Vec<f64> = self
            .items
            .iter()
            .filter(|i| i.is_finished())
            .filter_map(|i| i.duration_ms)
            .collect();
        let eta_ms = median(&mut durations)
            .map(|m| m * remaining as f64 / f64::from(concurrency.clamp(1, MAX_CONCURRENCY)));
        let spent_usd = self
            .items
            .iter()
            .filter_map(|i| i.cost_usd)
            .fold(None, |sum: Option<f64>, c| Some(sum.unwrap_or(0.0) + c));
        let spent_complete = self
            .items
            .iter()
            .filter(|i| i.run_id.is_some())
            .all(|i| i.cost_complete && i.cost_usd.is_some());
        let possibly_billed_usd = self.items.iter().map(|i| i.possibly_billed_usd).sum();
        let provider_errors = self.items.iter().filter(|i| i.failed_by_provider()).count();
        Progress {
            provider_errors,
            possibly_billed_usd,
            total: self.items.len(),
            done,
            running,
            failed,
            waiting,
            remaining,
            spent_usd,
            spent_complete,
            eta_ms,
        }
    }

    /// For a batch found `running` when the app loads: it becomes `interrupted`, and its
    /// in-flight items pending (they resume from their runs' steps).
    pub fn mark_interrupted(&mut self, now_ms: f64) {
        if matches!(self.status, BatchStatus::Running | BatchStatus::Paused) {
            self.status = BatchStatus::Interrupted;
            self.message = Some(
                "the page was closed or reloaded while the batch ran; resume it to run the \
                 unfinished items"
                    .to_string(),
            );
        }
        for item in &mut self.items {
            if item.status == ItemStatus::Running {
                item.status = ItemStatus::Pending;
            }
        }
        self.updated_ms = now_ms;
    }

    /// Makes failed items pending again; those with a run resume from its steps.
    pub fn retry_failed(&mut self) -> usize {
        let mut n = 0;
        for item in &mut self.items {
            if item.status == ItemStatus::Failed {
                item.status = ItemStatus::Pending;
                item.message = None;
                n += 1;
            }
        }
        n
    }

    /// Brings the items up to date with the stored runs (after a reload, or when the batch
    /// record is older than its runs). Only `records` whose `batch_id` is this batch's count.
    ///
    /// A record is matched to its item by the run id the item noted; failing that (the page
    /// went away before the batch was saved), by mode and problem text, `problems` giving the
    /// text of each id. Per item, a completed run makes it done; a failed run makes it failed;
    /// any other run (interrupted, cancelled, budget exceeded, still marked running) leaves it
    /// pending, to be resumed from that run's steps. With several runs for one item, a
    /// completed one wins, else the most recently updated.
    pub fn reconcile(&mut self, problems: &[Problem], records: &[RunRecord]) {
        let text_of: HashMap<&str, &str> = problems
            .iter()
            .map(|p| (p.id.as_str(), p.problem.as_str()))
            .collect();
        let by_run: HashMap<&str, usize> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| item.run_id.as_deref().map(|r| (r, i)))
            .collect();
        let mut matched: BTreeMap<usize, Vec<&RunRecord>> = BTreeMap::new();
        let ours = records
            .iter()
            .filter(|r| r.batch_id.as_deref() == Some(self.spec.batch_id.as_str()));
        for record in ours {
            let index = by_run.get(record.run_id.as_str()).copied().or_else(|| {
                let candidates = self.items.iter().enumerate().filter(|(_, item)| {
                    item.mode == record.mode
                        && text_of.get(item.problem_id.as_str()) == Some(&record.problem.as_str())
                });
                // Two problems with one text: give the run to one that has none yet.
                let candidates: Vec<usize> = candidates.map(|(i, _)| i).collect();
                candidates
                    .iter()
                    .copied()
                    .find(|i| !matched.contains_key(i) && self.items[*i].run_id.is_none())
                    .or_else(|| candidates.first().copied())
            });
            if let Some(index) = index {
                matched.entry(index).or_default().push(record);
            }
        }
        for (index, runs) in matched {
            let best = runs
                .iter()
                .find(|r| r.status == RunStatus::Completed)
                .or_else(|| {
                    runs.iter().max_by(|a, b| {
                        a.updated_ms
                            .partial_cmp(&b.updated_ms)
                            .unwrap_or(std::cmp::Ordering::Equal)
                    })
                });
            let Some(run) = best else { continue };
            let item = &mut self.items[index];
            item.run_id = Some(run.run_id.clone());
            item.run_status = Some(run.status);
            item.cost_usd = run.cost_usd;
            item.cost_complete = run.cost_complete;
            item.possibly_billed_usd = run.possibly_billed_usd;
            item.stop_reason = run.stop_reason;
            item.message = run.message.clone();
            item.status = match run.status {
                RunStatus::Completed => ItemStatus::Done,
                RunStatus::Failed => ItemStatus::Failed,
                _ => ItemStatus::Pending,
            };
        }
        for item in &mut self.items {
            if item.status == ItemStatus::Running {
                item.status = ItemStatus::Pending;
            }
        }
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lengths() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 10.0]), Some(3.5));
    }

    #[test]
    fn batch_ids_follow_the_run_id_form() {
        // 2026-11-24T21:10:09.123Z
        let ms = 1_795_554_609_123.0;
        assert_eq!(
            batch_id(ms, "ab12cd34", |_| false),
            "batch_20261124_211009_ab12cd34"
        );
        assert_eq!(
            batch_id(ms, "ab12cd34", |id| id == "batch_20261124_211009_ab12cd34"),
            "batch_20261124_211009_ab12cd34_2"
        );
    }
}

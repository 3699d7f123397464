//! Experiments: one dataset run with several configs, and every pair of configs compared on
//! the problems both answered.
//!
//! An experiment is stored as its configs' batches, one per config (an *arm*), each tagged
//! with the experiment ([`ExperimentTag`] in [`BatchSpec::experiment`]). The batches are made
//! together before the first runs ([`driver::create`]), so the whole definition survives a
//! reload, and each runs through the batch machinery (concurrency, backoff, budget by
//! reservation, resume from committed steps): resuming an experiment resumes its unfinished
//! batches side by side under one concurrency limit ([`driver::ExperimentDriver`]). Batches
//! need no new database store, and an experiment's batches also show on the Batch page.
//!
//! - [`ExperimentPlan`]: what to run, checked; [`Experiment`]: its stored batches, grouped.
//! - [`outcome::RunOutcome`]: one run as the matrix reads it.
//! - [`matrix::ConfigRow`]: one config's metrics; [`pairs::PairComparison`]: two configs on
//!   their shared problems, with McNemar's exact test; [`pareto::pareto_front`].
//! - [`export`]: the matrix as CSV and JSON.
//! - [`rounds`]: an experiment in provider batch mode, every config through one round hub.

pub mod compare;
pub mod driver;
pub mod export;
pub mod load;
pub mod matrix;
pub mod outcome;
pub mod pairs;
pub mod pareto;
pub mod rounds;

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::core::batch::{
    BatchEngine, BatchError, BatchModes, BatchRecord, BatchSpec, BatchStatus,
};
use crate::core::clock::compact_utc;
use crate::core::config::{Mode, PipelineConfig};
use crate::core::trajectory::RunStatus;

/// The fewest configs an experiment compares.
pub const MIN_ARMS: usize = 2;

/// The most configs an experiment compares (every pair is shown, so the pairs grow as the
/// square of this).
pub const MAX_ARMS: usize = 12;

/// What a batch of an experiment carries to say which experiment and which config it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExperimentTag {
    /// `exp_<YYYYMMDD>_<HHMMSS>` (see [`experiment_id`]).
    pub experiment_id: String,
    /// The experiment's name for people.
    pub name: String,
    /// This config's position among the experiment's, from 0.
    pub arm: usize,
    /// How many configs the experiment has.
    pub arms: usize,
    /// What tells this config apart: the varied value, or the saved config's name.
    pub label: String,
    /// The config path varied (`verifier.model`), when the configs vary one field of a base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub varied_field: Option<String>,
}

/// One config of an experiment, before its batch exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    /// What tells it apart from the others (the varied value, or the saved config's name).
    pub label: String,
    /// The config its batch runs.
    pub config: PipelineConfig,
}

/// Why an experiment cannot be made as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExperimentError {
    /// Fewer than [`MIN_ARMS`] configs.
    #[error("an experiment compares at least {MIN_ARMS} configs, and this one has {count}; give another value (one per line) or pick another saved config")]
    TooFewArms {
        /// How many there are.
        count: usize,
    },
    /// More than [`MAX_ARMS`] configs.
    #[error("an experiment compares at most {MAX_ARMS} configs, and this one has {count}; split it into smaller experiments")]
    TooManyArms {
        /// How many there are.
        count: usize,
    },
    /// Two configs are the same config (same hash): their runs would be one config's twice.
    #[error("“{first}” and “{second}” make the same config (hash {hash}); remove one of them")]
    SameConfig {
        /// The first label.
        first: String,
        /// The second label.
        second: String,
        /// Their shared hash.
        hash: String,
    },
    /// A varied value does not fit the field.
    #[error("“{value}” is not a value for {field}: {reason}")]
    BadValue {
        /// The field path.
        field: String,
        /// The value as typed.
        value: String,
        /// Why, as a sentence.
        reason: String,
    },
    /// The field cannot be varied.
    #[error("{field} cannot be varied in an experiment; choose one of the listed fields")]
    UnknownField {
        /// The path asked for.
        field: String,
    },
    /// A config has problems.
    #[error("the config “{label}” has {count} problem{}: {first}; fix the base config on the Configure page", if *count == 1 { "" } else { "s" })]
    InvalidConfig {
        /// Its label.
        label: String,
        /// How many problems.
        count: usize,
        /// The first, as `path: message`.
        first: String,
    },
    /// The batches as asked do not hold (no problems, concurrency …).
    #[error("{0}")]
    Batch(#[from] BatchError),
}

/// An experiment to make: a dataset's problems run with each of `arms`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentPlan {
    /// A name for people.
    pub name: String,
    /// The dataset's id.
    pub dataset_id: String,
    /// The dataset's name.
    pub dataset_name: String,
    /// The problems, in run order.
    pub problem_ids: Vec<String>,
    /// How many runs the experiment has going at once, all configs together.
    pub concurrency: u32,
    /// The config path varied, when the arms vary one field of a base config.
    pub varied_field: Option<String>,
    /// The configs, in the order they run and are shown.
    pub arms: Vec<Arm>,
    /// Live, or through the providers' batch APIs in rounds (every item of every config in
    /// each round; `concurrency` then does not apply).
    pub engine: BatchEngine,
}

impl ExperimentPlan {
    /// Checks the plan: between [`MIN_ARMS`] and [`MAX_ARMS`] configs, no two the same, each
    /// valid (`custom_provider_ids` are the user's own providers).
    pub fn check(&self, custom_provider_ids: &[&str]) -> Result<(), ExperimentError> {
        let count = self.arms.len();
        if count < MIN_ARMS {
            return Err(ExperimentError::TooFewArms { count });
        }
        if count > MAX_ARMS {
            return Err(ExperimentError::TooManyArms { count });
        }
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for arm in &self.arms {
            let problems = arm.config.validate_with(custom_provider_ids);
            if let Some(first) = problems.first() {
                return Err(ExperimentError::InvalidConfig {
                    label: arm.label.clone(),
                    count: problems.len(),
                    first: format!("{}: {}", first.path, first.message),
                });
            }
            let hash = arm.config.config_hash();
            if let Some(first) = seen.get(&hash) {
                return Err(ExperimentError::SameConfig {
                    first: (*first).to_string(),
                    second: arm.label.clone(),
                    hash,
                });
            }
            seen.insert(hash, &arm.label);
        }
        Ok(())
    }

    /// The batch specs of the experiment, made at `created_ms`, each tagged with it. The
    /// experiment's id is chosen apart from `taken_experiments`, the batches' ids apart from
    /// `taken_batches` and from each other's.
    pub fn specs(
        &self,
        created_ms: f64,
        taken_experiments: &HashSet<String>,
        taken_batches: &HashSet<String>,
    ) -> Result<Vec<BatchSpec>, ExperimentError> {
        let experiment_id = experiment_id(created_ms, |id| taken_experiments.contains(id));
        let mut made: HashSet<String> = HashSet::new();
        let mut specs = Vec::with_capacity(self.arms.len());
        for (index, arm) in self.arms.iter().enumerate() {
            let modes = match arm.config.mode {
                Mode::Debate => BatchModes::Debate,
                Mode::Baseline => BatchModes::Baseline,
            };
            // In rounds every item is in flight (checked as the engine's limit below).
            let concurrency = match self.engine {
                BatchEngine::Live => self.concurrency,
                BatchEngine::ProviderBatch => 1,
            };
            let mut spec = BatchSpec::new(
                format!("{} · {}", self.name, arm.label),
                self.dataset_id.clone(),
                self.dataset_name.clone(),
                self.problem_ids.clone(),
                modes,
                concurrency,
                arm.config.clone(),
                created_ms,
                |id| taken_batches.contains(id) || made.contains(id),
            )?;
            // Recorded, so that a reopened experiment goes on in rounds.
            spec.engine = self.engine;
            if self.engine == BatchEngine::ProviderBatch {
                spec.concurrency = BatchEngine::ProviderBatch.max_concurrency();
            }
            spec.experiment = Some(ExperimentTag {
                experiment_id: experiment_id.clone(),
                name: self.name.clone(),
                arm: index,
                arms: self.arms.len(),
                label: arm.label.clone(),
                varied_field: self.varied_field.clone(),
            });
            made.insert(spec.batch_id.clone());
            specs.push(spec);
        }
        Ok(specs)
    }
}

/// The id of an experiment made at `epoch_ms`: `exp_<YYYYMMDD>_<HHMMSS>`, with `_2`, `_3` …
/// added while `taken` says an experiment of that id exists.
pub fn experiment_id(epoch_ms: f64, taken: impl Fn(&str) -> bool) -> String {
    let base = format!("exp_{}", compact_utc(epoch_ms));
    if !taken(&base) {
        return base;
    }
    (2u64..)
        .map(|n| format!("{base}_{n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or(base)
}

/// Where an experiment stands, from its batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentStatus {
    /// Made; no batch has started.
    Pending,
    /// A batch is going.
    Running,
    /// Every batch completed.
    Completed,
    /// It could not go on (a batch could not start); the message says why.
    Failed,
    /// Stopped by the user; it can be resumed.
    Cancelled,
    /// The page went away while it ran, or it stopped between batches; it can be resumed.
    Interrupted,
    /// A budget stopped a batch; raise it on the Configure page and resume.
    BudgetExceeded,
}

impl ExperimentStatus {
    /// The snake_case name shown (`data-testid="experiment-status"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExperimentStatus::Pending => "pending",
            ExperimentStatus::Running => "running",
            ExperimentStatus::Completed => "completed",
            ExperimentStatus::Failed => "failed",
            ExperimentStatus::Cancelled => "cancelled",
            ExperimentStatus::Interrupted => "interrupted",
            ExperimentStatus::BudgetExceeded => "budget_exceeded",
        }
    }

    /// Whether resuming it has anything to run.
    pub fn can_resume(self) -> bool {
        !matches!(
            self,
            ExperimentStatus::Completed | ExperimentStatus::Running
        )
    }
}

impl std::fmt::Display for ExperimentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored experiment: its batches, one per config, in config order.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// The id every batch's tag carries.
    pub experiment_id: String,
    /// The name for people.
    pub name: String,
    /// The field varied, if the configs vary one.
    pub varied_field: Option<String>,
    /// How many configs it was made with (a batch deleted since is missing from `batches`).
    pub arms: usize,
    /// The batches, in config order.
    pub batches: Vec<BatchRecord>,
}

impl Experiment {
    /// Groups the experiments' batches among `records` (batches of no experiment are left
    /// out), newest experiment first, each one's batches in config order.
    pub fn group(records: impl IntoIterator<Item = BatchRecord>) -> Vec<Experiment> {
        let mut by_id: BTreeMap<String, Experiment> = BTreeMap::new();
        for record in records {
            let Some(tag) = record.spec.experiment.clone() else {
                continue;
            };
            let entry = by_id
                .entry(tag.experiment_id.clone())
                .or_insert_with(|| Experiment {
                    experiment_id: tag.experiment_id.clone(),
                    name: tag.name.clone(),
                    varied_field: tag.varied_field.clone(),
                    arms: tag.arms,
                    batches: Vec::new(),
                });
            entry.batches.push(record);
        }
        let mut experiments: Vec<Experiment> = by_id.into_values().collect();
        for experiment in &mut experiments {
            experiment
                .batches
                .sort_by_key(|b| b.spec.experiment.as_ref().map_or(usize::MAX, |tag| tag.arm));
        }
        experiments.sort_by(|a, b| {
            let made = |e: &Experiment| e.batches.first().map_or(0.0, |b| b.spec.created_ms);
            made(b)
                .partial_cmp(&made(a))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| b.experiment_id.cmp(&a.experiment_id))
        });
        experiments
    }

    /// Where it stands, from its batches: running while one goes; completed when all did;
    /// otherwise budget_exceeded when a run was stopped by a budget, cancelled when a batch
    /// was, pending when none started, else interrupted.
    pub fn status(&self) -> ExperimentStatus {
        let statuses: Vec<BatchStatus> = self.batches.iter().map(|b| b.status).collect();
        if statuses
            .iter()
            .any(|s| matches!(s, BatchStatus::Running | BatchStatus::Paused))
        {
            return ExperimentStatus::Running;
        }
        if statuses.len() == self.arms && statuses.iter().all(|s| *s == BatchStatus::Completed) {
            return ExperimentStatus::Completed;
        }
        let stopped_by_budget = self.batches.iter().any(|b| {
            b.status != BatchStatus::Completed
                && b.items
                    .iter()
                    .any(|i| !i.is_finished() && i.run_status == Some(RunStatus::BudgetExceeded))
        });
        if stopped_by_budget {
            return ExperimentStatus::BudgetExceeded;
        }
        if statuses.contains(&BatchStatus::Cancelled) {
            return ExperimentStatus::Cancelled;
        }
        if statuses.iter().all(|s| *s == BatchStatus::Pending) {
            return ExperimentStatus::Pending;
        }
        ExperimentStatus::Interrupted
    }

    /// The ids of its batches, in config order.
    pub fn batch_ids(&self) -> Vec<String> {
        self.batches
            .iter()
            .map(|b| b.spec.batch_id.clone())
            .collect()
    }

    /// Each batch's label (the varied value or saved config name), in config order.
    pub fn labels(&self) -> Vec<String> {
        self.batches
            .iter()
            .map(|b| {
                b.spec
                    .experiment
                    .as_ref()
                    .map_or_else(|| b.spec.name.clone(), |t| t.label.clone())
            })
            .collect()
    }
}

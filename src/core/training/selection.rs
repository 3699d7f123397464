//! Which runs a dataset is made from: chosen runs, a batch, or every run matching filters.

use serde::{Deserialize, Serialize};

use crate::core::clock::{iso8601_utc, parse_iso8601};
use crate::core::config::Mode;
use crate::core::trajectory::{RunRecord, RunStatus};

/// Filters over stored runs; a field left `None` (or `false`) lets every run through.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFilter {
    /// Only runs of this config hash.
    pub config_hash: Option<String>,
    /// Only runs whose solver used this model.
    pub solver_model: Option<String>,
    /// Only runs whose verifier used this model.
    pub verifier_model: Option<String>,
    /// Only runs whose judge used this model.
    pub judge_model: Option<String>,
    /// Only debate or only baseline runs.
    pub mode: Option<Mode>,
    /// Only runs created at or after this instant (epoch milliseconds, UTC).
    pub from_ms: Option<f64>,
    /// Only runs created before this instant (epoch milliseconds, UTC).
    pub until_ms: Option<f64>,
    /// Only runs of this batch.
    pub batch_id: Option<String>,
    /// Only completed runs.
    pub completed_only: bool,
}

/// The source of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Selection {
    /// These runs (by id).
    Runs(Vec<String>),
    /// Every run of this batch.
    Batch(String),
    /// Every run the filter lets through.
    Filter(RunFilter),
}

impl Default for Selection {
    fn default() -> Self {
        Selection::Filter(RunFilter::default())
    }
}

impl RunFilter {
    /// Whether `run` passes every filter. Model filters compare with the run's stored config,
    /// so imported runs (which have none) never pass one.
    pub fn matches(&self, run: &RunRecord) -> bool {
        let model = |pick: fn(&crate::core::config::PipelineConfig) -> &str,
                     want: &Option<String>| {
            want.as_ref().is_none_or(|want| {
                run.config
                    .as_ref()
                    .is_some_and(|c| pick(c) == want.as_str())
            })
        };
        self.config_hash
            .as_ref()
            .is_none_or(|h| run.config_hash.eq_ignore_ascii_case(h.trim()))
            && model(|c| &c.solver.model, &self.solver_model)
            && model(|c| &c.verifier.model, &self.verifier_model)
            && model(|c| &c.judge.model, &self.judge_model)
            && self.mode.is_none_or(|m| run.mode == m)
            && self.from_ms.is_none_or(|t| run.created_ms >= t)
            && self.until_ms.is_none_or(|t| run.created_ms < t)
            && self
                .batch_id
                .as_ref()
                .is_none_or(|b| run.batch_id.as_deref() == Some(b.as_str()))
            && (!self.completed_only || run.status == RunStatus::Completed)
    }

    /// The filters as the card lists them (`none` when there are none).
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                out.push(format!("{name}: {v}"));
            }
        };
        add("config hash", self.config_hash.clone());
        add("solver model", self.solver_model.clone());
        add("verifier model", self.verifier_model.clone());
        add("judge model", self.judge_model.clone());
        add("mode", self.mode.map(|m| m.as_str().to_string()));
        add("created from", self.from_ms.map(iso8601_utc));
        add("created before", self.until_ms.map(iso8601_utc));
        add("batch", self.batch_id.clone());
        if self.completed_only {
            out.push("completed runs only".into());
        }
        out
    }
}

impl Selection {
    /// Whether `run` is selected.
    pub fn matches(&self, run: &RunRecord) -> bool {
        match self {
            Selection::Runs(ids) => ids.contains(&run.run_id),
            Selection::Batch(id) => run.batch_id.as_deref() == Some(id.as_str()),
            Selection::Filter(filter) => filter.matches(run),
        }
    }

    /// The selection as the card states it.
    pub fn describe(&self) -> Vec<String> {
        match self {
            Selection::Runs(ids) => vec![format!("{} chosen runs", ids.len())],
            Selection::Batch(id) => vec![format!("batch {id}")],
            Selection::Filter(filter) => {
                let mut lines = filter.describe();
                if lines.is_empty() {
                    lines.push("every stored run".into());
                }
                lines
            }
        }
    }
}

/// A date typed as `YYYY-MM-DD` as the epoch milliseconds of its start (UTC); `None` for
/// anything else.
pub fn day_start_ms(day: &str) -> Option<f64> {
    let day = day.trim();
    if day.len() != 10 {
        return None;
    }
    parse_iso8601(&format!("{day}T00:00:00Z"))
}

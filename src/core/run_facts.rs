//! A run's facts in its trajectory: what the run record knows beyond its steps (status, stop
//! reason, start time, ground truth, extracted answer, config), carried in the `metadata` of
//! the run's last line so that an exported file is all an offline analysis needs, and so that
//! export → import → export gives the same bytes.
//!
//! - [`stamp`] writes the facts of a run made here onto its last step as it is exported.
//! - [`RunFacts::of`] reads them back from imported lines (the last line that has them).
//!
//! The original's fields are never touched: the facts are extra `metadata` keys, which the
//! original's readers ignore. Lines of an imported run are exported as they were read, so a
//! file without these keys (the original's) comes back byte for byte too.

use serde_json::{Map, Value};

use crate::core::clock::{iso8601_utc, parse_iso8601};
use crate::core::config::{parse_json_config, PipelineConfig};
use crate::core::trajectory::{RunRecord, RunStatus, StopReason, TrajectoryEntry};

/// The facts a run's lines can carry; each `None` when the lines do not say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFacts {
    /// `metadata.status`.
    pub status: Option<RunStatus>,
    /// `metadata.stop_reason`.
    pub stop_reason: Option<StopReason>,
    /// `metadata.started_at`, as epoch milliseconds.
    pub started_ms: Option<f64>,
    /// `metadata.ground_truth`: `Some(None)` for a run that had none.
    pub ground_truth: Option<Option<String>>,
    /// `metadata.extracted_answer`: `Some(None)` when none was extracted.
    pub extracted_answer: Option<Option<String>>,
    /// `metadata.config`, read as a config file; `None` when absent or unreadable.
    pub config: Option<PipelineConfig>,
}

impl RunFacts {
    /// The facts `entries` (one run, in step order) carry: each from the last step that has it.
    pub fn of(entries: &[TrajectoryEntry]) -> RunFacts {
        let mut facts = RunFacts::default();
        for entry in entries {
            let m = &entry.metadata;
            if let Some(status) = m.status {
                facts.status = Some(status);
            }
            if let Some(reason) = m.stop_reason {
                facts.stop_reason = Some(reason);
            }
            if let Some(ms) = m.started_at.as_deref().and_then(parse_iso8601) {
                facts.started_ms = Some(ms);
            }
            if let Some(truth) = &m.ground_truth {
                facts.ground_truth = Some(truth.clone());
            }
            if let Some(answer) = &m.extracted_answer {
                facts.extracted_answer = Some(answer.clone());
            }
            if let Some(config) = m.config.as_ref().and_then(config_from_object) {
                facts.config = Some(config);
            }
        }
        facts
    }

    /// Puts the facts the lines carried into `record` (built from the same lines); what they do
    /// not say stays as the steps gave it.
    pub fn apply_to(self, record: &mut RunRecord) {
        if let Some(status) = self.status {
            // A run exported while it ran is not running here: nothing drives it.
            record.status = match status {
                RunStatus::Running => RunStatus::Interrupted,
                other => other,
            };
        }
        if self.stop_reason.is_some() {
            record.stop_reason = self.stop_reason;
        }
        if let Some(ms) = self.started_ms {
            record.created_ms = ms;
        }
        if let Some(truth) = self.ground_truth {
            record.ground_truth = truth;
        }
        if let Some(answer) = self.extracted_answer {
            record.extracted_answer = answer;
        }
        if let Some(config) = self.config {
            record.mode = config.mode;
            record.config = Some(config);
        }
    }
}

/// Writes `record`'s facts into `last`, the last step of its run, as it is exported. A run read
/// from a file is left as it was read, so its lines go out as they came in.
pub fn stamp(last: &mut TrajectoryEntry, record: &RunRecord) {
    if record.imported {
        return;
    }
    let m = &mut last.metadata;
    m.status = Some(record.status);
    m.stop_reason = record.stop_reason;
    m.started_at = Some(iso8601_utc(record.created_ms));
    m.ground_truth = Some(record.ground_truth.clone());
    m.extracted_answer = Some(record.extracted_answer.clone());
    m.config = record.config.as_ref().map(PipelineConfig::to_json_object);
}

/// A config from its JSON object as [`PipelineConfig::to_json_object`] writes it.
fn config_from_object(object: &Map<String, Value>) -> Option<PipelineConfig> {
    let bytes = serde_json::to_vec(object).ok()?;
    parse_json_config(&bytes).ok().map(|parsed| parsed.config)
}

/// Stamps the last step of each run in `entries` (grouped by run, each in step order) with its
/// record from `record_of`; the native twin of the browser's export, for tests and tools.
pub fn stamp_runs<'r>(
    entries: &mut [TrajectoryEntry],
    record_of: impl Fn(&str) -> Option<&'r RunRecord>,
) {
    let count = entries.len();
    for index in 0..count {
        let last_of_run = index + 1 == count || entries[index + 1].run_id != entries[index].run_id;
        if last_of_run {
            if let Some(record) = record_of(&entries[index].run_id) {
                stamp(&mut entries[index], record);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_exported_while_running_comes_back_interrupted() {
        let mut record = RunRecord::from_entries("run_x", &[], 0.0);
        RunFacts {
            status: Some(RunStatus::Running),
            ..RunFacts::default()
        }
        .apply_to(&mut record);
        assert_eq!(record.status, RunStatus::Interrupted);
        RunFacts {
            status: Some(RunStatus::Cancelled),
            ..RunFacts::default()
        }
        .apply_to(&mut record);
        assert_eq!(record.status, RunStatus::Cancelled);
    }
}

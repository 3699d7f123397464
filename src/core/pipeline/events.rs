//! What the loop reports: progress events while it runs, and the summary when it stops.

use serde::{Deserialize, Serialize};

use crate::core::llm::Usage;
use crate::core::role::AgentRole;
pub use crate::core::trajectory::StopReason;
use crate::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineEvent {
    /// An agent call is about to be made (after the gate allowed it).
    StepStarted {
        /// The step id it will get when committed.
        step_id: u64,
        /// Which agent.
        agent: AgentRole,
        /// The solver/verifier round (`None` for the judge).
        iteration: Option<u32>,
    },
    /// A step was committed to the sink.
    StepFinished {
        /// The stored entry (an error step when the call failed), boxed: it is the largest
        /// thing an event carries.
        entry: Box<TrajectoryEntry>,
        /// What the call used, re-asks and retries included.
        usage: Usage,
        /// What it cost, `None` when the price is unknown.
        cost_usd: Option<f64>,
        /// Wall time of the call in milliseconds.
        latency_ms: f64,
    },
    /// The run stopped, for whatever reason.
    RunFinished {
        /// How it ended.
        summary: RunSummary,
    },
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run.
    pub run_id: String,
    /// `completed`, or why not.
    pub status: RunStatus,
    /// For a run that did not complete: what happened, as a sentence.
    pub message: Option<String>,
    /// Why the run stopped (`None` only while a loop that was cut off by a storage failure
    /// had not decided yet).
    pub stop_reason: Option<StopReason>,
    /// Solver rounds made.
    pub iterations: u32,
    /// Whether the verifier passed a solution.
    pub passed: bool,
    /// The solution the judge scored (or the latest one, if the run stopped early).
    pub final_solution: String,
    /// The judge's score, once the judge scored; `None` when its call failed (a failed call
    /// is no score).
    pub judge_score: Option<f64>,
    /// The answer extracted from the final solution, when a ground truth was given.
    pub extracted_answer: Option<String>,
    /// Whether it matched the ground truth (only with a ground truth, once scored).
    pub correct: Option<bool>,
    /// Usage over every call, including calls whose step was never committed (cancelled).
    pub usage: Usage,
    /// Cost in USD of the calls whose price is known; `None` when none is.
    pub cost_usd: Option<f64>,
    /// True when every call's usage was complete and priced.
    pub cost_complete: bool,
    /// Committed steps, earlier sessions of a resumed run included.
    pub steps: u64,
    /// Committed steps whose call failed.
    pub errors: u64,
    /// Whether the judge's step is committed (the run is over).
    pub judged: bool,
    /// The worst case of requests that got no reply saying what they cost, in USD (see
    /// [`RunRecord::possibly_billed_usd`]), committed steps and calls without a step alike.
    #[serde(default)]
    pub possibly_billed_usd: f64,
}

impl RunSummary {
    /// Copies the outcome into the run's record (status, message and summary fields).
    pub fn apply_to(&self, record: &mut RunRecord, now_ms: f64) {
        record.status = self.status;
        record.message = self.message.clone();
        record.iterations = self.iterations;
        record.passed = self.passed;
        record.judge_score = self.judge_score;
        record.correct = self.correct;
        record.usage = self.usage;
        record.cost_usd = self.cost_usd;
        record.cost_complete = self.cost_complete;
        record.step_count = self.steps;
        record.errors = self.errors;
        record.judged = self.judged;
        record.possibly_billed_usd = self.possibly_billed_usd;
        record.stop_reason = self.stop_reason;
        record.extracted_answer = self.extracted_answer.clone();
        record.updated_ms = now_ms;
    }
}

/// The result of [`run`](super::Pipeline::run) or [`resume`](super::Pipeline::resume).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// How it ended.
    pub summary: RunSummary,
    /// Every committed step of the run, in order (a resumed run's earlier steps included).
    pub entries: Vec<TrajectoryEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Mode;

    #[test]
    fn a_summary_updates_the_runs_record() {
        let mut record: RunRecord = serde_json::from_value(serde_json::json!({
            "run_id": "run_x", "status": "running", "mode": "debate", "config_hash": "00000000",
            "problem": "p", "created_ms": 1.0, "updated_ms": 1.0, "iterations": 0, "passed": false,
            "usage": Usage::default(), "step_count": 0
        }))
        .unwrap();
        let summary = RunSummary {
            run_id: "run_x".into(),
            status: RunStatus::BudgetExceeded,
            message: Some("the run budget is spent".into()),
            stop_reason: None,
            iterations: 2,
            passed: false,
            final_solution: "3".into(),
            judge_score: None,
            extracted_answer: None,
            correct: None,
            usage: Usage {
                input_tokens: 5,
                output_tokens: 1,
                total_tokens: 6,
                ..Usage::default()
            },
            cost_usd: Some(0.5),
            cost_complete: true,
            steps: 3,
            errors: 1,
            judged: false,
            possibly_billed_usd: 0.0,
        };
        summary.apply_to(&mut record, 9.0);
        assert_eq!(record.status, RunStatus::BudgetExceeded);
        assert_eq!(record.message.as_deref(), Some("the run budget is spent"));
        assert_eq!((record.iterations, record.step_count), (2, 3));
        assert_eq!(record.usage.total_tokens, 6);
        assert_eq!(record.cost_usd, Some(0.5));
        assert_eq!((record.created_ms, record.updated_ms), (1.0, 9.0));
        assert_eq!(record.mode, Mode::Debate);
        assert_eq!(record.config, None);
    }
}

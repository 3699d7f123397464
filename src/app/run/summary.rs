//! How a run ended, as its summary card shows it, for a live run (from the loop's
//! [`RunSummary`]) and for a stored one (from its [`RunRecord`]).

use crate::app::format::yes_no;
use crate::core::llm::Usage;
use crate::core::pipeline::RunSummary;
use crate::core::trajectory::{RunRecord, RunStatus, StopReason};

/// What the summary panel shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryView {
    /// Where the run stands.
    pub status: RunStatus,
    /// Why it stopped early, as a sentence.
    pub message: Option<String>,
    /// Solver rounds made.
    pub iterations: u32,
    /// Whether the verifier passed a solution.
    pub passed: bool,
    /// Why the run stopped, once it has.
    pub stop_reason: Option<StopReason>,
    /// Steps whose call failed.
    pub errors: u64,
    /// The judge's score, once scored.
    pub judge_score: Option<f64>,
    /// Whether the answer matched the ground truth (`None` without one, or before scoring).
    pub correct: Option<bool>,
    /// Whether a ground truth was given.
    pub has_ground_truth: bool,
    /// The answer read from the final solution, when a ground truth was given.
    pub extracted_answer: Option<String>,
    /// Tokens over every call.
    pub usage: Usage,
    /// Cost in USD of the calls whose price is known; `None` when none is.
    pub cost_usd: Option<f64>,
    /// Whether every call was priced.
    pub cost_complete: bool,
    /// Committed steps.
    pub steps: u64,
}

impl SummaryView {
    /// The summary of a run that just stopped.
    pub fn of_summary(summary: &RunSummary, has_ground_truth: bool) -> Self {
        SummaryView {
            status: summary.status,
            message: summary.message.clone(),
            iterations: summary.iterations,
            passed: summary.passed,
            stop_reason: summary.stop_reason,
            errors: summary.errors,
            judge_score: summary.judge_score,
            correct: summary.correct,
            has_ground_truth,
            extracted_answer: summary.extracted_answer.clone(),
            usage: summary.usage,
            cost_usd: summary.cost_usd,
            cost_complete: summary.cost_complete,
            steps: summary.steps,
        }
    }

    /// The summary of a stored run.
    pub fn of_record(record: &RunRecord) -> Self {
        SummaryView {
            status: record.status,
            message: record.message.clone(),
            iterations: record.iterations,
            passed: record.passed,
            stop_reason: record.stop_reason,
            errors: record.errors,
            judge_score: record.judge_score,
            correct: record.correct,
            has_ground_truth: record.ground_truth.is_some(),
            extracted_answer: record.extracted_answer.clone(),
            usage: record.usage,
            cost_usd: record.cost_usd,
            cost_complete: record.cost_complete,
            steps: record.step_count,
        }
    }

    /// The "passed" cell: yes / no, or `–` where no verdict applies (baseline, cut off).
    pub fn passed_text(&self) -> &'static str {
        yes_no(StopReason::verdict(self.stop_reason, self.passed))
    }

    /// The "stopped" cell: the reason's name, or `–` while the run has none.
    pub fn stop_text(&self) -> &'static str {
        self.stop_reason.map_or("–", StopReason::as_str)
    }

    /// What the cost needs said beside it: nothing spent, unknown prices, a lower bound.
    pub fn cost_note(&self) -> Option<&'static str> {
        match (self.cost_usd, self.cost_complete) {
            // A run stopped before its first call (a budget refusing it) spent nothing; its
            // missing cost is no missing price.
            (None, _) if self.usage.total_tokens == 0 && self.steps == 0 => {
                Some("no call was made")
            }
            (None, _) => Some("no price is known for the models used"),
            (Some(_), false) => Some("at least: some calls have no known price or usage"),
            (Some(_), true) => None,
        }
    }

    /// The "correct" cell: yes / no, `no ground truth`, or `–` before the judge.
    pub fn correct_text(&self) -> String {
        match (self.has_ground_truth, self.correct) {
            (false, _) => "no ground truth".to_string(),
            (true, value) => yes_no(value).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Mode;

    #[test]
    fn a_stored_record_reads_as_a_summary() {
        let record = RunRecord {
            run_id: "run_x".into(),
            status: RunStatus::Interrupted,
            message: None,
            mode: Mode::Debate,
            config_hash: "0badf00d".into(),
            config: None,
            problem: "p".into(),
            ground_truth: Some("4".into()),
            created_ms: 0.0,
            updated_ms: 0.0,
            batch_id: None,
            iterations: 2,
            passed: false,
            judge_score: None,
            correct: None,
            usage: Usage::default(),
            cost_usd: Some(0.5),
            cost_complete: false,
            step_count: 3,
            errors: 0,
            stop_reason: None,
            extracted_answer: None,
            judged: false,
            possibly_billed_usd: 0.0,
            imported: false,
            derived_from: None,
        };
        let view = SummaryView::of_record(&record);
        assert_eq!(view.steps, 3);
        assert_eq!(view.iterations, 2);
        assert!(view.has_ground_truth);
        assert_eq!(view.correct_text(), "–", "not scored yet");
        let no_truth = SummaryView {
            has_ground_truth: false,
            ..view
        };
        assert_eq!(no_truth.correct_text(), "no ground truth");
        // Interrupted: no verdict, no stop reason yet.
        assert_eq!((no_truth.passed_text(), no_truth.stop_text()), ("–", "–"));
        let ran_out = SummaryView {
            stop_reason: Some(StopReason::MaxIterations),
            ..no_truth.clone()
        };
        assert_eq!(
            (ran_out.passed_text(), ran_out.stop_text()),
            ("no", "max_iterations")
        );
        let baseline = SummaryView {
            stop_reason: Some(StopReason::Baseline),
            ..no_truth
        };
        assert_eq!(baseline.passed_text(), "–");
    }

    #[test]
    fn a_run_stopped_before_any_call_spent_nothing_rather_than_an_unknown_price() {
        let mut record = RunRecord::start("run_x", &Default::default(), "0badf00d", "p", None, 0.0);
        record.status = RunStatus::BudgetExceeded;
        let view = SummaryView::of_record(&record);
        assert_eq!(view.cost_note(), Some("no call was made"));
        record.step_count = 1;
        record.usage.total_tokens = 10;
        assert_eq!(
            SummaryView::of_record(&record).cost_note(),
            Some("no price is known for the models used")
        );
    }
}

//! The run's summary panel: how the run ended, in one card, for a live run (from the loop's
//! [`RunSummary`]) and for a stored one (from its [`RunRecord`]).

use leptos::prelude::*;

use crate::core::llm::Usage;
use crate::core::pipeline::RunSummary;
use crate::core::trajectory::{RunRecord, RunStatus, StopReason};
use crate::ui::components::notice::ErrorText;

use super::format::{cost_text, count, score_text, tokens_text, yes_no};

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

/// The run's status as text (`data-testid="run-status"`), styled by status.
#[component]
pub fn StatusBadge(
    /// The status to show.
    #[prop(into)]
    status: Signal<RunStatus>,
) -> impl IntoView {
    view! {
        <span
            class=move || format!("run-badge run-badge-{}", status.get().as_str())
            data-testid="run-status"
            role="status"
        >
            {move || status.get().as_str()}
        </span>
    }
}

/// The summary card of a run. The `run-status` and `run-cost` hooks are not in it: the page's
/// run bar carries them, once per page.
#[component]
pub fn SummaryPanel(
    /// What to show.
    #[prop(into)]
    summary: Signal<SummaryView>,
) -> impl IntoView {
    let s = move || summary.get();
    let cost_note = move || summary.get().cost_note();
    view! {
        <section class="card run-summary" aria-label="Run summary">
            <dl class="run-facts">
                <div>
                    <dt>"Status"</dt>
                    <dd>
                        <span class=move || format!("run-badge run-badge-{}", s().status.as_str())>
                            {move || s().status.as_str()}
                        </span>
                    </dd>
                </div>
                <div>
                    <dt>"Stopped"</dt>
                    <dd
                        data-testid="run-stop-reason"
                        data-stop-reason=move || s().stop_reason.map(StopReason::as_str)
                        title=move || s().stop_reason.map(StopReason::label)
                    >
                        {move || s().stop_text()}
                    </dd>
                </div>
                <div>
                    <dt>"Passed"</dt>
                    <dd data-testid="run-passed">{move || s().passed_text()}</dd>
                </div>
                <div>
                    <dt>"Errors"</dt>
                    <dd data-testid="run-errors" data-errors=move || s().errors>{move || s().errors}</dd>
                </div>
                <div>
                    <dt>"Judge score"</dt>
                    <dd>{move || score_text(s().judge_score)}</dd>
                </div>
                <div>
                    <dt>"Correct"</dt>
                    <dd data-testid="run-correct">{move || s().correct_text()}</dd>
                </div>
                <div>
                    <dt>"Iterations"</dt>
                    <dd>{move || s().iterations}</dd>
                </div>
                <div>
                    <dt>"Steps"</dt>
                    <dd>{move || s().steps}</dd>
                </div>
                <div>
                    <dt>"Tokens"</dt>
                    <dd>
                        {move || count(s().usage.total_tokens)}
                        <span class="muted">" (" {move || tokens_text(&s().usage)} ")"</span>
                    </dd>
                </div>
                <div>
                    <dt>"Cost (USD)"</dt>
                    <dd>
                        <span class="mono" data-testid="summary-cost">{move || cost_text(s().cost_usd)}</span>
                        {move || cost_note().map(|note| view! { <span class="muted">" " {note}</span> })}
                    </dd>
                </div>
            </dl>
            {move || {
                s().extracted_answer.map(|answer| {
                    view! {
                        <p class="run-answer">"Answer read from the solution: " <code>{answer}</code></p>
                    }
                })
            }}
            {move || {
                let s = s();
                let is_problem = matches!(s.status, RunStatus::Failed | RunStatus::BudgetExceeded);
                s.message.map(|message| {
                    if is_problem {
                        view! { <ErrorText message=message/> }.into_any()
                    } else {
                        view! { <p class="msg run-message">{message}</p> }.into_any()
                    }
                })
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Mode;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
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
            imported: false,
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

    #[wasm_bindgen_test]
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

//! The run's summary panel: how the run ended, in one card, for a live run and for a stored
//! one (what it shows is [`SummaryView`]).

use leptos::prelude::*;

use crate::app::format::{cost_text, count, score_text, tokens_text};
// `pub(crate)`: `session.rs`, which the run-driver work rewrites, still names it through this path.
pub(crate) use crate::app::run::summary::SummaryView;
use crate::core::trajectory::{RunStatus, StopReason};
use crate::ui::components::notice::ErrorText;

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

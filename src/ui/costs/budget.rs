//! A run's spend against the budget its config set (`run_budget_usd`), with a warning from
//! 80 % spent.

use leptos::prelude::*;

use crate::app::format::dollars;
use crate::core::budget::BudgetLevel;
use crate::core::cost_views::{run_budget_status, BudgetStatus};
use crate::core::trajectory::RunRecord;
use crate::ui::components::notice::WarningText;

use super::unaccounted::NextReservation;

/// The level's name, as `data-level` carries it.
pub fn level_name(level: BudgetLevel) -> &'static str {
    match level {
        BudgetLevel::Normal => "normal",
        BudgetLevel::Warning => "warning",
        BudgetLevel::Exhausted => "exhausted",
    }
}

/// The budget line: spent of limit, a bar, and a warning at 80 % and at the limit
/// (`data-testid="run-budget"`, `data-level` = `normal`, `warning` or `exhausted`).
#[component]
pub fn BudgetMeter(
    /// Where the run stands.
    status: BudgetStatus,
    /// What the run's next call reserves before it is sent, shown beside the budget.
    #[prop(optional, into)]
    reservation: Option<Signal<Option<f64>>>,
) -> impl IntoView {
    let percent = (status.fraction * 100.0).clamp(0.0, 999.0);
    let at_least = if status.exact { "" } else { "at least " };
    let line = format!(
        "{at_least}{} of the {} run budget spent ({percent:.1} %)",
        dollars(Some(status.spent_usd)),
        dollars(Some(status.limit_usd)),
    );
    let warning = match status.level {
        BudgetLevel::Normal => None,
        BudgetLevel::Warning => Some(format!(
            "This run has spent {percent:.0} % of its budget of {} (the warning starts at 80 %).",
            dollars(Some(status.limit_usd))
        )),
        BudgetLevel::Exhausted => Some(format!(
            "This run has spent its whole budget of {}.",
            dollars(Some(status.limit_usd))
        )),
    };
    let width = format!("width: {:.1}%", percent.min(100.0));
    view! {
        <div class="budget" data-testid="run-budget" data-level=level_name(status.level)>
            <p class="budget-line">
                <span>{line}</span>
                {(!status.exact).then(|| view! {
                    <span class="muted">" (calls of unknown price are not in it)"</span>
                })}
                {(status.possibly_billed_usd > 0.0).then(|| view! {
                    <span class="muted">
                        {format!(
                            " + at most {} possibly billed, counted against it",
                            dollars(Some(status.possibly_billed_usd))
                        )}
                    </span>
                })}
                {reservation.map(|usd| view! { <NextReservation usd=usd/> })}
            </p>
            <div
                class=format!("budget-bar budget-{}", level_name(status.level))
                role="meter"
                aria-label="Run budget spent"
                aria-valuemin="0"
                aria-valuemax=status.limit_usd.to_string()
                aria-valuenow=status.spent_usd.to_string()
            >
                <span style=width></span>
                <span class="budget-mark" aria-hidden="true"></span>
            </div>
            {warning.map(|w| view! { <WarningText message=w/> })}
        </div>
    }
}

/// The budget line of a run that may change (a live run): nothing while there is no run or its
/// config sets no budget.
#[component]
pub fn RunBudget(
    /// The run, as it goes.
    #[prop(into)]
    record: Signal<Option<RunRecord>>,
    /// What its next call reserves before it is sent.
    #[prop(into)]
    reservation: Signal<Option<f64>>,
) -> impl IntoView {
    move || {
        record
            .with(|r| r.as_ref().and_then(run_budget_status))
            .map(|status| view! { <BudgetMeter status=status reservation=reservation/> })
    }
}

//! A run's costs on its page: spend against its budget, cost and tokens by round and agent
//! (stacked), the ledger of every request with what re-asks and retries cost beside the first
//! tries, and the run re-priced at today's prices next to what was stored.

use std::rc::Rc;

use leptos::prelude::*;

use crate::app::charts::scale::Unit;
use crate::app::costs::run_costs::{cost_stacks, series_of, token_stacks};
use crate::app::format::{cost_text, plural, tokens_text};
use crate::core::cost::{attempt_ledger, reprice, AttemptCost, Repricing};
use crate::core::cost_views::{
    costs_by_round, next_call_reservation, run_budget_status, AttemptTax, StepCost,
};
use crate::core::llm::AttemptKind;
use crate::core::pricing::Pricer;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};
use crate::ui::charts::stacked::StackedBars;
use crate::ui::components::figures_table::{num, text, Column, FiguresTable};
use crate::ui::components::notice::ErrorText;
use crate::ui::prices::PricingState;
use crate::ui::store::SharedStore;
use crate::web::idb::StoreError;

use super::budget::BudgetMeter;

const LEDGER_COLUMNS: &[Column] = &[
    num("Step"),
    text("Agent"),
    num("Round"),
    num("Request"),
    text("Kind"),
    text("Tokens"),
    num("Cost (USD)"),
    text("Problem"),
];
const REPRICE_COLUMNS: &[Column] = &[
    num("Step"),
    text("Agent"),
    text("Model"),
    num("Stored (USD)"),
    num("Today (USD)"),
    text("Price from"),
];

/// A run and its steps, as stored.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    record: RunRecord,
    entries: Vec<TrajectoryEntry>,
}

async fn load(store: SharedStore, id: String) -> Result<Option<Stored>, StoreError> {
    let store = store.open().await?;
    let Some(record) = store.get_run(&id).await? else {
        return Ok(None);
    };
    let entries = store.steps(&id).await?;
    Ok(Some(Stored { record, entries }))
}

/// The costs section of a run's page; it reads the run from the store and reads it again
/// whenever `stored_runs_changed` does, so it follows a run while it goes.
#[component]
pub fn RunCostPanel(
    /// The run.
    #[prop(into)]
    run_id: Signal<String>,
    /// Changes whenever stored runs change (a step committed, a run deleted).
    #[prop(into)]
    stored_runs_changed: Signal<u64>,
) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let pricing = expect_context::<PricingState>();
    pricing.ensure_table();
    let stored = LocalResource::new(move || {
        let id = run_id.get();
        let _ = stored_runs_changed.get();
        async move { load(store, id).await }
    });
    move || match stored.get() {
        None | Some(Ok(None)) => None,
        Some(Err(e)) => Some(
            view! { <ErrorText message=format!("The run's costs could not be read: {e}")/> }
                .into_any(),
        ),
        Some(Ok(Some(run))) => {
            Some(view! { <RunCosts record=run.record entries=run.entries/> }.into_any())
        }
    }
}

#[component]
fn RunCosts(record: RunRecord, entries: Vec<TrajectoryEntry>) -> impl IntoView {
    let pricing = expect_context::<PricingState>();
    let pricer = pricing.pricer();
    let facts: Vec<StepCost> = entries.iter().map(StepCost::of).collect();
    let rounds = costs_by_round(&facts);
    let series = series_of(&rounds);
    let cost = Signal::stored(cost_stacks(&rounds));
    let tokens = Signal::stored(token_stacks(&rounds));
    let series = Signal::stored(series);
    let budget = run_budget_status(&record);
    let reservation = RwSignal::new(None::<f64>);
    {
        let (record, entries) = (record.clone(), entries.clone());
        Effect::new(move |_| {
            let next = pricer
                .get()
                .and_then(|p| next_call_reservation(&record, &entries, p));
            reservation.set(next);
        });
    }
    let entries = Rc::new(entries);
    let ledger_entries = Rc::clone(&entries);
    let ledger =
        Signal::derive_local(move || pricer.get().map(|p| attempt_ledger(&ledger_entries, &p)));
    let empty = entries.is_empty();

    view! {
        <section class="card run-costs" aria-labelledby="run-costs-title" data-testid="run-costs">
            <h2 class="card-title" id="run-costs-title">"Costs"</h2>
            {budget.map(|status| view! { <BudgetMeter status=status reservation=reservation/> })}
            {if empty {
                view! { <p class="muted">"No step yet, so nothing spent."</p> }.into_any()
            } else {
                view! {
                    <div class="chart-grid">
                        <StackedBars
                            test_id="chart-run-cost"
                            title="Cost by round and agent (USD, as stored)"
                            stacks=cost
                            series=series
                            unit=Unit::Usd
                            category_header="Round"
                        />
                        <StackedBars
                            test_id="chart-run-tokens"
                            title="Tokens by round and agent"
                            stacks=tokens
                            series=series
                            unit=Unit::Count
                            category_header="Round"
                        />
                    </div>
                    {move || ledger.get().map(|rows| view! { <Ledger rows=rows/> })}
                    <Reprice entries=Rc::clone(&entries) pricer=pricer/>
                }
                .into_any()
            }}
        </section>
    }
}

fn kind_name(kind: Option<AttemptKind>) -> &'static str {
    match kind {
        Some(AttemptKind::Initial) => "first try",
        Some(AttemptKind::Reask) => "re-ask",
        Some(AttemptKind::Retry) => "retry",
        None => "whole step",
    }
}

/// The re-ask tax in a sentence, and every request in a table.
#[component]
fn Ledger(rows: Vec<AttemptCost>) -> impl IntoView {
    let tax = AttemptTax::of(&rows);
    let share = tax
        .tax_fraction()
        .map(|f| format!(", {:.1} % on top of the first tries", f * 100.0))
        .unwrap_or_default();
    let unsplit = (tax.unsplit.requests > 0).then(|| {
        format!(
            " {} step{} recorded no requests (the original's format): {} unsplit.",
            tax.unsplit.requests,
            plural(tax.unsplit.requests),
            cost_text(Some(tax.unsplit.usd()))
        )
    });
    let unpriced = tax.first_tries.unpriced
        + tax.reasks.unpriced
        + tax.retries.unpriced
        + tax.unsplit.unpriced;
    view! {
        <div class="reask-tax">
            <p data-testid="run-reask-tax" data-first=tax.first_tries.usd().to_string() data-tax=tax.tax_usd().to_string()>
                "First tries " <strong class="mono">{cost_text(Some(tax.first_tries.usd()))}</strong>
                {format!(" ({} request{})", tax.first_tries.requests, plural(tax.first_tries.requests))}
                "; re-ask tax " <strong class="mono">{cost_text(Some(tax.tax_usd()))}</strong>
                {format!(
                    " ({} re-ask{}: {}; {} retr{}: {}){share}.",
                    tax.reasks.requests,
                    plural(tax.reasks.requests),
                    cost_text(Some(tax.reasks.usd())),
                    tax.retries.requests,
                    if tax.retries.requests == 1 { "y" } else { "ies" },
                    cost_text(Some(tax.retries.usd())),
                )}
                {unsplit}
                <span class="muted">
                    " Requests are priced at today's prices"
                    {(unpriced > 0).then(|| format!("; {unpriced} could not be priced and are not in these sums"))}
                    "."
                </span>
            </p>
            <details class="ledger">
                <summary>{format!("Every request ({})", rows.len())}</summary>
                <FiguresTable columns=LEDGER_COLUMNS testid="run-ledger">
                        <tbody>
                            {rows
                                .into_iter()
                                .map(|r| view! {
                                    <tr data-kind=kind_name(r.kind)>
                                        <td class="num">{r.step_id}</td>
                                        <td>{r.agent.clone()}</td>
                                        <td class="num">{r.iteration.map(|i| i.to_string()).unwrap_or_else(|| "–".into())}</td>
                                        <td class="num">{r.attempt}</td>
                                        <td>{kind_name(r.kind)}</td>
                                        <td class="muted">{r.usage.map_or_else(|| "not reported".to_string(), |u| tokens_text(&u))}</td>
                                        <td class="num mono">{cost_text(r.cost_usd)}</td>
                                        <td class="muted">{r.error.clone().unwrap_or_default()}</td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                </FiguresTable>
            </details>
        </div>
    }
}

/// "Re-price with today's prices": the stored cost of each step beside its cost now.
#[component]
fn Reprice(
    entries: Rc<Vec<TrajectoryEntry>>,
    pricer: Signal<Option<Rc<Pricer>>, LocalStorage>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let result = Signal::derive_local(move || {
        if !open.get() {
            return None;
        }
        pricer.get().map(|p| reprice(&entries, &p))
    });
    view! {
        <div class="reprice">
            <div class="btn-group">
                <button
                    type="button"
                    class="btn btn-sm"
                    data-testid="reprice-run"
                    aria-expanded=move || if open.get() { "true" } else { "false" }
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "Hide re-pricing" } else { "Re-price with today's prices" }}
                </button>
            </div>
            {move || match (open.get(), result.get()) {
                (false, _) => None,
                (true, None) => Some(view! { <p class="muted">"Loading the price table…"</p> }.into_any()),
                (true, Some(r)) => Some(view! { <RunRepricing repricing=r/> }.into_any()),
            }}
        </div>
    }
}

fn total_text(usd: f64, unpriced: u64) -> String {
    if unpriced == 0 {
        cost_text(Some(usd))
    } else if usd == 0.0 {
        format!("unknown ({unpriced} step{} unpriced)", plural(unpriced))
    } else {
        format!("at least {} ({unpriced} unpriced)", cost_text(Some(usd)))
    }
}

#[component]
fn RunRepricing(repricing: Repricing) -> impl IntoView {
    view! {
        <p class="reprice-note muted">
            "Computed from each step's stored usage with the prices in use now (Settings → "
            "Prices). Stored costs are not changed."
        </p>
        <dl class="reprice-totals">
            <div>
                <dt>"Stored"</dt>
                <dd class="mono" data-testid="reprice-stored-total" data-value=repricing.old.usd.to_string()>
                    {total_text(repricing.old.usd, repricing.old.unpriced_steps)}
                </dd>
            </div>
            <div>
                <dt>"At today's prices"</dt>
                <dd class="mono" data-testid="reprice-new-total" data-value=repricing.new.usd.to_string()>
                    {total_text(repricing.new.usd, repricing.new.unpriced_steps)}
                </dd>
            </div>
        </dl>
        <FiguresTable columns=REPRICE_COLUMNS>
                <tbody>
                    {repricing
                        .steps
                        .into_iter()
                        .map(|s| view! {
                            <tr data-testid="reprice-step" data-step=s.step_id>
                                <td class="num">{s.step_id}</td>
                                <td>{s.agent}</td>
                                <td class="mono">{s.model}</td>
                                <td class="num mono">{cost_text(s.old_usd)}</td>
                                <td class="num mono" data-value=s.new_usd.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into())>
                                    {cost_text(s.new_usd)}
                                </td>
                                <td class="muted">{s.source.map_or_else(|| "no price known".to_string(), |p| p.to_string())}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
        </FiguresTable>
    }
}

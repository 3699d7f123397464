//! A run's costs on its page: spend against its budget, cost and tokens by round and agent
//! (stacked), the ledger of every request with what re-asks and retries cost beside the first
//! tries, and the run re-priced at today's prices next to what was stored.

use std::rc::Rc;

use leptos::prelude::*;

use crate::core::cost::{attempt_ledger, reprice, AttemptCost, Repricing};
use crate::core::cost_views::{
    costs_by_round, run_budget_status, AttemptTax, RoundCosts, StepCost,
};
use crate::core::llm::AttemptKind;
use crate::core::pricing::Pricer;
use crate::core::sorting;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};
use crate::ui::charts::scale::Unit;
use crate::ui::charts::stacked::{Segment, Stack, StackedBars};
use crate::ui::components::notice::ErrorText;
use crate::ui::run::format::{cost_text, count, tokens_text};
use crate::ui::run::session::RunSession;
use crate::ui::run::store::run_store;
use crate::web::idb::StoreError;

use super::budget::BudgetMeter;
use super::prices::PricingState;

/// A run and its steps, as stored.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    record: RunRecord,
    entries: Vec<TrajectoryEntry>,
}

async fn load(id: String) -> Result<Option<Stored>, StoreError> {
    let store = run_store().await?;
    let Some(record) = store.get_run(&id).await? else {
        return Ok(None);
    };
    let entries = store.steps(&id).await?;
    Ok(Some(Stored { record, entries }))
}

/// The columns of a run's cost chart: one per round (and one for the judge), a part per agent.
/// A part whose steps all lack a price is `unknown`; one where only some do reads
/// `at least …`.
pub fn cost_stacks(rounds: &[RoundCosts]) -> Vec<Stack> {
    rounds
        .iter()
        .map(|round| {
            let segments: Vec<Segment> = round
                .agents
                .iter()
                .map(|a| {
                    let all_unpriced = a.unpriced_steps > 0 && a.unpriced_steps == a.steps;
                    let value = (!all_unpriced).then(|| a.usd());
                    let text = match (value, a.unpriced_steps) {
                        (None, _) => cost_text(None),
                        (Some(v), 0) => cost_text(Some(v)),
                        (Some(v), _) => format!("at least {}", cost_text(Some(v))),
                    };
                    Segment {
                        series: a.agent.clone(),
                        value,
                        text,
                    }
                })
                .collect();
            let unknown = round.agents.iter().any(|a| a.unpriced_steps > 0);
            let total = round.usd();
            Stack {
                label: round.label.clone(),
                total_text: if unknown {
                    format!("{} + unknown", cost_text(Some(total)))
                } else {
                    cost_text(Some(total))
                },
                total,
                segments,
            }
        })
        .collect()
}

/// The columns of a run's token chart.
pub fn token_stacks(rounds: &[RoundCosts]) -> Vec<Stack> {
    rounds
        .iter()
        .map(|round| {
            let segments: Vec<Segment> = round
                .agents
                .iter()
                .map(|a| Segment {
                    series: a.agent.clone(),
                    value: Some(a.usage.total_tokens as f64),
                    text: count(a.usage.total_tokens),
                })
                .collect();
            let total: u64 = round.agents.iter().map(|a| a.usage.total_tokens).sum();
            Stack {
                label: round.label.clone(),
                total_text: count(total),
                total: total as f64,
                segments,
            }
        })
        .collect()
}

/// The agents of the rounds, in stacking order.
fn series_of(rounds: &[RoundCosts]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for round in rounds {
        for a in &round.agents {
            if !names.contains(&a.agent) {
                names.push(a.agent.clone());
            }
        }
    }
    sorting::sort_by_key(&mut names, |n| crate::core::cost_views::agent_rank(n));
    names
}

/// The costs section of a run's page; it reads the run from the store and follows it while it
/// goes.
#[component]
pub fn RunCostPanel(
    /// The run.
    #[prop(into)]
    run_id: Signal<String>,
) -> impl IntoView {
    let session = expect_context::<RunSession>();
    let pricing = expect_context::<PricingState>();
    pricing.ensure_table();
    let stored = LocalResource::new(move || {
        let id = run_id.get();
        let _ = session.runs_changed.get();
        async move { load(id).await }
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
    let entries = Rc::new(entries);
    let ledger_entries = Rc::clone(&entries);
    let ledger =
        Signal::derive_local(move || pricer.get().map(|p| attempt_ledger(&ledger_entries, &p)));
    let empty = entries.is_empty();

    view! {
        <section class="card run-costs" aria-labelledby="run-costs-title" data-testid="run-costs">
            <h2 class="card-title" id="run-costs-title">"Costs"</h2>
            {budget.map(|status| view! { <BudgetMeter status=status/> })}
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
            if tax.unsplit.requests == 1 { "" } else { "s" },
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
                {format!(" ({} request{})", tax.first_tries.requests, if tax.first_tries.requests == 1 { "" } else { "s" })}
                "; re-ask tax " <strong class="mono">{cost_text(Some(tax.tax_usd()))}</strong>
                {format!(
                    " ({} re-ask{}: {}; {} retr{}: {}){share}.",
                    tax.reasks.requests,
                    if tax.reasks.requests == 1 { "" } else { "s" },
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
                <div class="table-wrap">
                    <table class="costs-table" data-testid="run-ledger">
                        <thead>
                            <tr>
                                <th scope="col" class="num">"Step"</th>
                                <th scope="col">"Agent"</th>
                                <th scope="col" class="num">"Round"</th>
                                <th scope="col" class="num">"Request"</th>
                                <th scope="col">"Kind"</th>
                                <th scope="col">"Tokens"</th>
                                <th scope="col" class="num">"Cost (USD)"</th>
                                <th scope="col">"Problem"</th>
                            </tr>
                        </thead>
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
                    </table>
                </div>
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
        format!(
            "unknown ({unpriced} step{} unpriced)",
            if unpriced == 1 { "" } else { "s" }
        )
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
        <div class="table-wrap">
            <table class="costs-table">
                <thead>
                    <tr>
                        <th scope="col" class="num">"Step"</th>
                        <th scope="col">"Agent"</th>
                        <th scope="col">"Model"</th>
                        <th scope="col" class="num">"Stored (USD)"</th>
                        <th scope="col" class="num">"Today (USD)"</th>
                        <th scope="col">"Price from"</th>
                    </tr>
                </thead>
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
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::llm::Usage;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn step(agent: &str, iteration: Option<u32>, tokens: u64, cost: Option<f64>) -> StepCost {
        StepCost {
            step_id: 0,
            agent: agent.into(),
            model: Some("m".into()),
            provider: String::new(),
            iteration,
            usage: Some(Usage {
                input_tokens: tokens,
                total_tokens: tokens,
                ..Usage::default()
            }),
            cost_usd: cost,
            usage_complete: true,
            requests: Vec::new(),
            billed_at: None,
        }
    }

    #[wasm_bindgen_test]
    fn unpriced_parts_read_unknown_or_at_least() {
        let rounds = costs_by_round(&[
            step("verifier", Some(1), 10, None),
            step("solver", Some(1), 20, Some(0.5)),
            step("solver", Some(1), 30, None),
            step("judge", None, 5, Some(0.25)),
        ]);
        let stacks = cost_stacks(&rounds);
        assert_eq!(stacks.len(), 2);
        let round = &stacks[0];
        assert_eq!(round.label, "Round 1");
        let parts: Vec<(&str, Option<f64>, &str)> = round
            .segments
            .iter()
            .map(|s| (s.series.as_str(), s.value, s.text.as_str()))
            .collect();
        assert_eq!(
            parts,
            [
                ("solver", Some(0.5), "at least 0.500000"),
                ("verifier", None, "unknown"),
            ]
        );
        assert_eq!(round.total, 0.5);
        assert_eq!(round.total_text, "0.500000 + unknown");
        assert_eq!(stacks[1].total_text, "0.250000");
        let tokens = token_stacks(&rounds);
        assert_eq!(
            (tokens[0].total, tokens[0].total_text.as_str()),
            (60.0, "60")
        );
        assert_eq!(series_of(&rounds), ["solver", "verifier", "judge"]);
    }
}

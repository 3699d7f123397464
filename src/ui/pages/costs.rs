//! `/costs`: what every stored run spent — totals, spend over time, by agent, by model and by
//! config, tokens by kind, the cost per correct answer — and everything re-priced at today's
//! prices beside what was stored.
//!
//! The splits by agent and model, the tokens table, paid-versus-reused and, past a few hundred
//! runs, the spend line by day come from the store's cost roll-ups
//! ([`crate::ui::costs::rollups`]), kept as steps are committed, so they never read every step
//! or every run; whether the store is empty comes from its maintained run counts. Totals, the
//! config table and the spend line of a small store (a point per run) come from run records,
//! read after the roll-ups so that the charts of a big store do not wait behind them. Only the speed table and re-pricing need each step: their facts are read lazily
//! ([`crate::ui::costs::facts`]) with progress shown, at once for a small store and on asking
//! for a big one.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::charts::scale::Unit;
use crate::app::costs::overview::{
    agent_bars, model_bars, price_link, spend_points, unpriced_models,
};
use crate::app::format::{cost_text, count, count_of, plural, tokens_text};
use crate::core::cost::{BucketSummary, CostSummary};
use crate::core::cost_rollup::usd_of;
use crate::core::cost_views::{
    agent_rank, reprice_by_model, CostOverview, PricedSum, RepricingOverview, SpendLine, StepCost,
};
use crate::core::sorting;
use crate::core::stream_speed::{speed_by_model, ModelSpeed};
use crate::ui::charts::bars::BarChart;
use crate::ui::charts::line::LineChart;
use crate::ui::components::figures_table::{num, text, Column, FiguresTable};
use crate::ui::components::notice::ErrorText;
use crate::ui::components::stream_speed::SpeedTable;
use crate::ui::costs::facts::{step_costs, RunKey};
use crate::ui::costs::rollups::{spawn_load, RollupStatus, Rollups};
use crate::ui::costs::unaccounted::Unaccounted;
use crate::ui::prices::PricingState;
use crate::ui::run::session::RunSession;
use crate::ui::store::SharedStore;

const TOKEN_COLUMNS: &[Column] = &[
    text(""),
    num("Calls"),
    num("Input"),
    num("Cached"),
    num("Cache write"),
    num("Output"),
    num("Reasoning"),
    num("Cost (USD)"),
];
const CONFIG_COLUMNS: &[Column] = &[
    text("Config hash"),
    num("Runs"),
    num("Spent (USD)"),
    num("Per run (USD)"),
    num("Unknown cost"),
    num("Correct"),
];
const REPRICE_COLUMNS: &[Column] = &[
    text("Model"),
    num("Steps"),
    num("Stored (USD)"),
    num("Today (USD)"),
    text("Price from"),
];

/// The spend line gets one point per run up to this many runs, one per day beyond.
const MAX_POINTS: usize = 400;

/// Up to this many stored steps, each step's facts (for the speed table and re-pricing) are
/// read on every visit; beyond, only when asked: reading them all costs time and memory in
/// proportion to the store.
const AUTO_READ_STEPS: u64 = 20_000;

/// Each step's facts, as they load.
#[derive(Debug, Clone, PartialEq)]
enum Split {
    /// Not read: the store is big, and nobody asked.
    NotRead,
    /// Reading steps: `done` of `total` runs read.
    Loading { done: usize, total: usize },
    /// Read: the facts of every run.
    Ready {
        facts: Arc<Vec<Arc<Vec<StepCost>>>>,
        /// Streamed-call speed by model.
        speed: Arc<Vec<ModelSpeed>>,
    },
    /// The store failed.
    Failed(String),
}

/// What the page body shows, from the maintained run counts (one small read, whatever the
/// store's size).
#[derive(Debug, Clone, PartialEq)]
enum Stored {
    Loading,
    Failed(String),
    Empty,
    Runs,
}

/// The Costs page.
#[component]
pub fn CostsPage() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let session = expect_context::<RunSession>();
    let pricing = expect_context::<PricingState>();
    pricing.ensure_table();
    let counts = LocalResource::new(move || {
        let _ = session.runs_changed.get();
        async move { store.open().await?.run_counts().await }
    });
    // The body is drawn again only when this changes, not for every run that finishes.
    let stored = Memo::new(move |_| {
        counts.with(|c| match c {
            None => Stored::Loading,
            Some(Err(e)) => Stored::Failed(e.to_string()),
            Some(Ok(c)) if c.total() == 0 => Stored::Empty,
            Some(Ok(_)) => Stored::Runs,
        })
    });
    let rollups = RwSignal::new(Rollups::Loading { done: 0, total: 0 });
    let stop_rollups: StoredValue<Rc<Cell<bool>>, LocalStorage> =
        StoredValue::new_local(Rc::new(Cell::new(false)));
    let rebuild = Callback::new(move |()| spawn_load(store, rollups, true, stop_rollups));
    // Read again whenever the runs change (a run finished, one was deleted or imported).
    Effect::new(move |_| {
        session.runs_changed.track();
        spawn_load(store, rollups, false, stop_rollups);
    });
    // Every run's record, for the totals and the table by config: read once the roll-ups are
    // read (or being built), so that in a big store the charts do not wait behind every run.
    let list_wanted = RwSignal::new(false);
    Effect::new(move |_| {
        let charts_read = rollups.with(|r| !matches!(r, Rollups::Loading { total: 0, .. }));
        if charts_read && !list_wanted.get_untracked() {
            list_wanted.set(true);
        }
    });
    let runs = LocalResource::new(move || {
        let _ = session.runs_changed.get();
        let wanted = list_wanted.get();
        async move {
            if !wanted {
                return None;
            }
            Some(async { store.open().await?.list_runs().await }.await)
        }
    });
    let overview = Memo::new(move |_| {
        runs.with(|r| match r {
            Some(Some(Ok(list))) => Some(CostOverview::of(list, MAX_POINTS)),
            _ => None,
        })
    });
    let runs_failed = Memo::new(move |_| {
        runs.with(|r| match r {
            Some(Some(Err(e))) => Some(format!("The runs could not be read: {e}")),
            _ => None,
        })
    });
    // Up to `MAX_POINTS` runs the line has a point per run, from their records; beyond, one
    // per day, from the roll-ups, so that it is drawn without reading every run.
    let line = Memo::new(move |_| -> Option<SpendLine> {
        let runs = counts.with(|c| match c {
            Some(Ok(c)) if c.total() > 0 => Some(c.total()),
            _ => None,
        })?;
        if runs as usize > MAX_POINTS {
            rollups.with(|r| match r {
                Rollups::Ready { rollup, .. } => Some(rollup.spend_line(MAX_POINTS)),
                _ => None,
            })
        } else {
            overview.with(|o| o.as_ref().map(|o| o.over_time.clone()))
        }
    });
    let split = RwSignal::new(Split::NotRead);
    let read_steps = RwSignal::new(false);
    let stop: StoredValue<Rc<Cell<bool>>, LocalStorage> =
        StoredValue::new_local(Rc::new(Cell::new(false)));
    // Only what decides the cache is handed to the reader, not whole records.
    let keys = Memo::new(move |_| {
        runs.with(|r| match r {
            Some(Some(Ok(list))) => Some(list.iter().map(RunKey::of).collect::<Vec<_>>()),
            _ => None,
        })
    });
    Effect::new(move |_| {
        let Some(list) = keys.get() else {
            return;
        };
        let steps: u64 = list.iter().map(|k| k.step_count).sum();
        if steps > AUTO_READ_STEPS && !read_steps.get() {
            split.set(Split::NotRead);
            return;
        }
        // A newer list (a run finished, one was imported) replaces a read in progress.
        let flag = Rc::new(Cell::new(false));
        stop.with_value(|old| old.set(true));
        stop.set_value(Rc::clone(&flag));
        spawn_local(load_split(store, list, split, flag));
    });
    on_cleanup(move || {
        stop.with_value(|s| s.set(true));
        stop_rollups.with_value(|s| s.set(true));
    });

    view! {
        <div class="page-head">
            <div>
                <h1>"Costs"</h1>
                <p class="lede">
                    "What the runs stored in this browser spent, as recorded when they ran. A "
                    "call whose price is unknown is counted as unknown, never as $0: give its "
                    "model a price on Settings, then re-price below."
                </p>
            </div>
        </div>
        {move || match stored.get() {
            Stored::Loading => view! { <p class="muted">"Loading runs…"</p> }.into_any(),
            Stored::Failed(e) => view! { <ErrorText message=e/> }.into_any(),
            Stored::Empty => view! {
                <p class="card muted costs-empty" data-testid="costs-empty">
                    "No runs yet, so nothing spent. Start one on the Run page, or import "
                    "trajectories on the Runs page."
                </p>
            }
            .into_any(),
            Stored::Runs => view! {
                <CostsBody
                    overview=overview
                    runs_failed=runs_failed
                    line=line
                    split=split
                    rollups=rollups
                    read_steps=read_steps
                    rebuild=rebuild
                />
            }
            .into_any(),
        }}
    }
}

/// Reads the per-step split of `list` into `split`, unless `stop` is set first.
async fn load_split(
    store: SharedStore,
    list: Vec<RunKey>,
    split: RwSignal<Split>,
    stop: Rc<Cell<bool>>,
) {
    let progress = {
        let stop = Rc::clone(&stop);
        move |done, total| {
            if !stop.get() {
                split.set(Split::Loading { done, total });
            }
        }
    };
    let result = step_costs(store, &list, progress, Rc::clone(&stop)).await;
    if stop.get() {
        return;
    }
    split.set(match result {
        Ok(Some(facts)) => {
            let speed = speed_by_model(
                facts
                    .iter()
                    .flat_map(|f| f.iter().filter_map(|s| s.speed.as_ref())),
            );
            Split::Ready {
                facts: Arc::new(facts),
                speed: Arc::new(speed),
            }
        }
        Ok(None) => return,
        Err(e) => Split::Failed(format!("Each run's steps could not be read: {e}")),
    });
}

#[component]
fn CostsBody(
    overview: Memo<Option<CostOverview>>,
    runs_failed: Memo<Option<String>>,
    line: Memo<Option<SpendLine>>,
    split: RwSignal<Split>,
    rollups: RwSignal<Rollups>,
    read_steps: RwSignal<bool>,
    rebuild: Callback<()>,
) -> impl IntoView {
    let summary = Signal::derive(move || match rollups.get() {
        Rollups::Ready { summary, .. } => Some(summary),
        _ => None,
    });
    let points =
        Signal::derive(move || line.with(|l| l.as_ref().map(spend_points).unwrap_or_default()));
    let by_day =
        Signal::derive(move || line.with(|l| l.as_ref().is_some_and(|l| l.points_are_days)));
    let agents = Signal::derive(move || summary.get().map(|s| agent_bars(&s)).unwrap_or_default());
    let models = Signal::derive(move || summary.get().map(|s| model_bars(&s)).unwrap_or_default());
    let split_status = move || {
        match split.get() {
        Split::NotRead => Some(
            view! {
                <p class="muted costs-progress">
                    "The speed table and re-pricing need each step of every run, which takes a while in a store this big. "
                    <button
                        type="button"
                        class="btn btn-sm"
                        data-testid="costs-read-steps"
                        on:click=move |_| read_steps.set(true)
                    >
                        "Read every step"
                    </button>
                </p>
            }
            .into_any(),
        ),
        Split::Loading { done, total } => Some(
            view! {
                <p class="muted costs-progress" role="status" data-testid="costs-split-progress">
                    {if total == 0 {
                        "Reading each run's steps for speeds and re-pricing…".to_string()
                    } else {
                        format!("Reading each run's steps for speeds and re-pricing: {done} of {total} runs…")
                    }}
                </p>
            }
            .into_any(),
        ),
        Split::Failed(message) => Some(view! { <ErrorText message=message/> }.into_any()),
        Split::Ready { .. } => None,
    }
    };

    let runs_status = move || match (overview.with(Option::is_some), runs_failed.get()) {
        (_, Some(message)) => Some(view! { <ErrorText message=message/> }.into_any()),
        (false, None) => Some(
            view! {
                <p class="muted costs-progress" role="status">
                    "Reading every run for the totals and the table by config…"
                </p>
            }
            .into_any(),
        ),
        (true, None) => None,
    };

    view! {
        {runs_status}
        {move || overview.get().map(|o| view! { <Totals overview=o/> })}
        {move || summary.get().map(|s| view! { <UnknownModels summary=s/> })}
        <RollupStatus state=rollups/>
        <div class="chart-grid chart-grid-wide">
            <LineChart
                test_id="chart-cost-over-time"
                title="Spend over time (USD, cumulative)"
                points=points
                unit=Unit::Usd
                label_header=Signal::derive(move || if by_day.get() { "Day".to_string() } else { "Run".to_string() })
                value_header="Spent so far (USD)"
            />
        </div>
        <div class="chart-grid">
            <BarChart
                test_id="chart-cost-by-agent"
                title="Cost by agent (USD)"
                bars=agents
                unit=Unit::Usd
                value_header="Cost (USD)"
            />
            <BarChart
                test_id="chart-cost-by-model"
                title="Cost by model (USD)"
                bars=models
                unit=Unit::Usd
                value_header="Cost (USD)"
            />
        </div>
        {move || summary.get().map(|s| view! { <TokensTable summary=s rebuild=rebuild/> })}
        {split_status}
        {move || match split.get() {
            Split::Ready { speed, .. } if !speed.is_empty() => {
                Some(view! { <SpeedTable speeds=speed.to_vec()/> })
            }
            _ => None,
        }}
        {move || overview.get().map(|o| view! { <ConfigTable overview=o/> })}
        <PaidAndReused rollups=rollups/>
        <RepriceAll split=split/>
    }
}

/// What the runs paid for beside what they reused from the reply store at $0 (valued at
/// today's prices: what reuse saved).
#[component]
fn PaidAndReused(rollups: RwSignal<Rollups>) -> impl IntoView {
    let pricer = expect_context::<PricingState>().pricer();
    let reuse = Signal::derive_local(move || {
        let Rollups::Ready { rollup, .. } = rollups.get() else {
            return None;
        };
        let pricer = pricer.get()?;
        Some(PaidReused::of(&rollup, &pricer))
    });
    view! {
        {move || reuse.get().map(|r| view! {
            <section class="card" aria-labelledby="reuse-title">
                <h2 class="card-title" id="reuse-title">"Paid and reused"</h2>
                <p class="card-sub">
                    "A reused step was answered from the reply store with a reply another run "
                    "paid for: it cost $0. Its value is its usage priced now."
                </p>
                <dl class="reprice-totals">
                    <div
                        data-testid="costs-paid"
                        data-steps=r.paid_steps.to_string()
                        data-usd=r.paid.usd().to_string()
                    >
                        <dt>"Paid"</dt>
                        <dd>{format!("{} · {}", sum_text(&r.paid), count_of(r.paid_steps as usize, "step", "steps"))}</dd>
                    </div>
                    <div
                        data-testid="costs-reused"
                        data-steps=r.reused_steps.to_string()
                        data-usd=r.reused_value.usd().to_string()
                    >
                        <dt>"Reused (saved)"</dt>
                        <dd>{format!("{} · {}", sum_text(&r.reused_value), count_of(r.reused_steps as usize, "step", "steps"))}</dd>
                    </div>
                    <div
                        data-testid="costs-paid-repriced"
                        data-usd=r.paid_now.usd().to_string()
                    >
                        <dt>"Paid, at today's prices"</dt>
                        <dd>{sum_text(&r.paid_now)}</dd>
                    </div>
                </dl>
            </section>
        })}
    }
}

/// Paid and reused steps, from the roll-ups.
#[derive(Debug, Clone)]
struct PaidReused {
    paid_steps: u64,
    paid: PricedSum,
    reused_steps: u64,
    reused_value: PricedSum,
    /// The paid steps priced again now, each token at its route's rates.
    paid_now: PricedSum,
}

impl PaidReused {
    fn of(
        rollup: &crate::core::cost_rollup::CostRollup,
        pricer: &crate::core::pricing::Pricer,
    ) -> Self {
        let split = rollup.reuse_split();
        let mut paid = PricedSum::default();
        paid.add_known(usd_of(split.paid.cost_nanos));
        paid.unpriced_steps = split.paid.unpriced_steps;
        PaidReused {
            paid_steps: split.paid.steps,
            paid,
            reused_steps: split.reused.steps,
            reused_value: rollup.reused_value(pricer),
            paid_now: rollup.repriced(pricer),
        }
    }
}

/// The headline numbers.
#[component]
fn Totals(overview: CostOverview) -> impl IntoView {
    let t = overview.total;
    let per_correct = overview.per_correct;
    let spent_note = (!t.is_exact()).then(|| {
        let mut parts = Vec::new();
        if t.partial_runs > 0 {
            parts.push(format!(
                "{} run{} partly unpriced",
                t.partial_runs,
                plural(t.partial_runs)
            ));
        }
        if t.unknown_runs > 0 {
            parts.push(format!(
                "{} run{} of unknown cost left out",
                t.unknown_runs,
                plural(t.unknown_runs)
            ));
        }
        format!("at least: {}", parts.join(", "))
    });
    let per_correct_text = per_correct
        .usd_per_correct()
        .map_or_else(|| "–".to_string(), |v| cost_text(Some(v)));
    let per_correct_note = if per_correct.graded.runs == 0 {
        "no run with a ground truth was scored".to_string()
    } else {
        let mut note = format!(
            "{} correct of {} graded run{}",
            per_correct.correct_runs,
            per_correct.graded.runs,
            plural(per_correct.graded.runs)
        );
        if !per_correct.graded.is_exact() {
            note.push_str("; at least, some costs unknown");
        }
        note
    };
    let unknown_ids = overview.unknown_run_ids.clone();
    view! {
        <section class="costs-totals" aria-label="Totals" data-testid="costs-totals">
            <div class="card stat">
                <p class="stat-label">"Spent (USD)"</p>
                <p class="stat-value mono" data-testid="costs-total" data-value=t.usd().to_string()>{cost_text(Some(t.usd()))}</p>
                {spent_note.map(|n| view! { <p class="stat-note muted">{n}</p> })}
                <p class="stat-note">
                    <Unaccounted usd=t.possibly_billed_usd() test_id="costs-unaccounted"/>
                </p>
            </div>
            <div class="card stat">
                <p class="stat-label">"Runs"</p>
                <p class="stat-value" data-testid="costs-runs">{count(t.runs)}</p>
                <p class="stat-note muted">{format!("{} steps", count(t.steps))}</p>
            </div>
            <div class="card stat">
                <p class="stat-label">"Runs of unknown cost"</p>
                <p class="stat-value" data-testid="costs-unknown-runs">{count(t.unknown_runs)}</p>
                <p class="stat-note muted">
                    {if t.unknown_runs == 0 { "every run has a known cost".to_string() } else { "counted as unknown, not $0".to_string() }}
                </p>
            </div>
            <div class="card stat">
                <p class="stat-label">"Per correct answer (USD)"</p>
                <p class="stat-value mono" data-testid="costs-per-correct">{per_correct_text}</p>
                <p class="stat-note muted">{per_correct_note}</p>
            </div>
            <div class="card stat stat-wide">
                <p class="stat-label">"Tokens"</p>
                <p class="stat-value" data-testid="costs-tokens">{count(t.usage.total_tokens)}</p>
                <p class="stat-note muted">{tokens_text(&t.usage)}
                    {(t.usage.cache_write_tokens > 0).then(|| format!(", {} written to cache", count(t.usage.cache_write_tokens)))}
                </p>
            </div>
        </section>
        {(!unknown_ids.is_empty()).then(|| {
            let shown: Vec<String> = unknown_ids.iter().take(10).cloned().collect();
            let more = unknown_ids.len().saturating_sub(shown.len());
            view! {
                <details class="card costs-unknown-runs">
                    <summary>{format!("Runs of unknown cost ({})", unknown_ids.len())}</summary>
                    <ul class="run-links">
                        {shown.into_iter().map(|id| view! {
                            <li><a class="mono" href=format!("/runs/{id}") data-testid="costs-unknown-run">{id.clone()}</a></li>
                        }).collect_view()}
                    </ul>
                    {(more > 0).then(|| view! { <p class="muted">{format!("and {more} more")}</p> })}
                </details>
            }
        })}
    }
}

/// Models no price covers, each with a link to price it.
#[component]
fn UnknownModels(summary: Arc<CostSummary>) -> impl IntoView {
    let models = unpriced_models(&summary);
    (!models.is_empty()).then(|| {
        view! {
            <section class="card costs-unknown" aria-labelledby="unknown-title" data-testid="costs-unknown-models">
                <h2 class="card-title" id="unknown-title">"Calls of unknown price"</h2>
                <p class="muted">
                    "These models are not in the price table and have no price of yours, so "
                    "their calls are counted as unknown, not $0. Add a price, then re-price below."
                </p>
                <ul class="unknown-list">
                    {models
                        .into_iter()
                        .map(|(model, calls)| view! {
                            <li data-testid="costs-unknown-model" data-model=model.clone()>
                                <code>{model.clone()}</code>
                                {format!(" — {calls} call{} ", plural(calls))}
                                <a href=price_link(&model)>"Add a price in Settings"</a>
                            </li>
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

fn bucket_cost(b: &BucketSummary) -> String {
    if b.unpriced_calls == 0 {
        cost_text(Some(b.cost_usd))
    } else if b.cost_usd == 0.0 {
        cost_text(None)
    } else {
        format!("≥ {}", cost_text(Some(b.cost_usd)))
    }
}

/// Tokens by kind and cost, by agent and by model.
#[component]
fn TokensTable(summary: Arc<CostSummary>, rebuild: Callback<()>) -> impl IntoView {
    let rows = |title: &'static str,
                map: &std::collections::BTreeMap<String, BucketSummary>,
                by_role: bool| {
        let mut list: Vec<(&String, &BucketSummary)> = map.iter().collect();
        if by_role {
            sorting::sort_by_key(&mut list, |(name, _)| agent_rank(name));
        }
        let body = list
            .into_iter()
            .map(|(name, b)| {
                let u = b.usage;
                view! {
                    <tr data-label=name.clone()>
                        <th scope="row" class="mono">{name.clone()}</th>
                        <td class="num">{count(b.calls)}</td>
                        <td class="num">{count(u.input_tokens)}</td>
                        <td class="num">{count(u.cache_read_tokens)}</td>
                        <td class="num">{count(u.cache_write_tokens)}</td>
                        <td class="num">{count(u.output_tokens)}</td>
                        <td class="num">{count(u.reasoning_tokens)}</td>
                        <td class="num mono">{bucket_cost(b)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <tbody>
                <tr class="costs-table-group"><th scope="rowgroup" colspan="8">{title}</th></tr>
                {body}
            </tbody>
        }
    };
    view! {
        <section class="card" aria-labelledby="tokens-title">
            <header class="card-head">
                <h2 class="card-title" id="tokens-title">"Tokens and cost by agent and model"</h2>
                <button
                    type="button"
                    class="btn btn-sm"
                    data-testid="costs-rebuild"
                    title="Count every stored step again into the sums this page draws"
                    on:click=move |_| rebuild.run(())
                >
                    "Rebuild"
                </button>
            </header>
            <p class="muted">"Input counts cached tokens; output counts reasoning tokens."</p>
            <FiguresTable columns=TOKEN_COLUMNS testid="costs-tokens-table">
                {rows("By agent", &summary.by_agent, true)}
                {rows("By model", &summary.by_model, false)}
            </FiguresTable>
        </section>
    }
}

/// Spend, runs and accuracy by config hash.
#[component]
fn ConfigTable(overview: CostOverview) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="configs-title">
            <h2 class="card-title" id="configs-title">"By config"</h2>
            <FiguresTable columns=CONFIG_COLUMNS testid="costs-by-config">
                    <tbody>
                        {overview
                            .by_config
                            .into_iter()
                            .map(|c| {
                                let s = c.spend;
                                let known = s.runs - s.unknown_runs;
                                let per_run = (known > 0).then(|| s.usd() / known as f64);
                                let spent = if s.is_exact() {
                                    cost_text(Some(s.usd()))
                                } else if s.unknown_runs == s.runs {
                                    cost_text(None)
                                } else {
                                    format!("≥ {}", cost_text(Some(s.usd())))
                                };
                                view! {
                                    <tr data-testid="costs-config-row" data-hash=c.config_hash.clone() data-value=s.usd().to_string()>
                                        <th scope="row"><code>{c.config_hash.clone()}</code></th>
                                        <td class="num">{count(s.runs)}</td>
                                        <td class="num mono">{spent}</td>
                                        <td class="num mono">{cost_text(per_run)}</td>
                                        <td class="num">{count(s.unknown_runs)}</td>
                                        <td class="num">
                                            {if c.graded_runs == 0 { "–".to_string() } else { format!("{} of {}", c.correct_runs, c.graded_runs) }}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
            </FiguresTable>
        </section>
    }
}

fn sum_text(sum: &PricedSum) -> String {
    match sum.unpriced_steps {
        0 => cost_text(Some(sum.usd())),
        n if sum.usd() == 0.0 => format!("unknown ({n} step{})", plural(n)),
        n => format!("≥ {} ({n} unpriced)", cost_text(Some(sum.usd()))),
    }
}

/// Every stored step priced again with today's prices, by model, beside the stored figures.
#[component]
fn RepriceAll(split: RwSignal<Split>) -> impl IntoView {
    let pricing = expect_context::<PricingState>();
    let pricer = pricing.pricer();
    let open = RwSignal::new(false);
    let result = Signal::derive_local(move || {
        if !open.get() {
            return None;
        }
        let Split::Ready { facts, .. } = split.get() else {
            return Some(Err("Waiting for each run's steps…"));
        };
        let Some(pricer) = pricer.get() else {
            return Some(Err("Loading the price table…"));
        };
        Some(Ok(reprice_by_model(
            facts.iter().flat_map(|f| f.iter()),
            &pricer,
        )))
    });
    view! {
        <section class="card reprice" aria-labelledby="reprice-title">
            <header class="card-head">
                <div>
                    <h2 class="card-title" id="reprice-title">"Re-price"</h2>
                    <p class="card-sub">
                        "Every stored step's usage priced with the prices in use now (your "
                        "prices, local models, the price table on Settings), beside the cost "
                        "stored when it ran. Stored costs are not changed."
                    </p>
                </div>
                <button
                    type="button"
                    class="btn btn-sm"
                    data-testid="reprice-all"
                    aria-expanded=move || if open.get() { "true" } else { "false" }
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    {move || if open.get() { "Hide" } else { "Re-price all runs" }}
                </button>
            </header>
            {move || match result.get() {
                None => None,
                Some(Err(waiting)) => Some(view! { <p class="muted" role="status">{waiting}</p> }.into_any()),
                Some(Ok(r)) => Some(view! { <RepricingTable repricing=r/> }.into_any()),
            }}
        </section>
    }
}

#[component]
fn RepricingTable(repricing: RepricingOverview) -> impl IntoView {
    view! {
        <dl class="reprice-totals">
            <div>
                <dt>"Stored"</dt>
                <dd class="mono" data-testid="reprice-stored-total" data-value=repricing.stored.usd().to_string()>
                    {sum_text(&repricing.stored)}
                </dd>
            </div>
            <div>
                <dt>"At today's prices"</dt>
                <dd class="mono" data-testid="reprice-new-total" data-value=repricing.repriced.usd().to_string()>
                    {sum_text(&repricing.repriced)}
                </dd>
            </div>
            <div>
                <dt>"Steps priced differently"</dt>
                <dd data-testid="reprice-changed">{count(repricing.changed_steps)}</dd>
            </div>
        </dl>
        <FiguresTable columns=REPRICE_COLUMNS>
                <tbody>
                    {repricing
                        .by_model
                        .into_iter()
                        .map(|m| view! {
                            <tr
                                data-testid="reprice-model-row"
                                data-model=m.model.clone()
                                data-stored=m.stored.usd().to_string()
                                data-new=m.repriced.usd().to_string()
                            >
                                <th scope="row" class="mono">{m.model.clone()}</th>
                                <td class="num">{count(m.steps)}</td>
                                <td class="num mono">{sum_text(&m.stored)}</td>
                                <td class="num mono">{sum_text(&m.repriced)}</td>
                                <td class="muted">{m.source.map_or_else(|| "no price known".to_string(), |s| s.to_string())}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
        </FiguresTable>
    }
}

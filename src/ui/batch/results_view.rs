//! The results of the shown batch: accuracy and the other figures per mode, debate against
//! baseline, the chart, debate dynamics, the disagreements to look at, the items, and the
//! exports.
//!
//! They are read from the store when the batch is opened or stops, and while it runs as its
//! items start and finish (at most every [`super::session::RUNS_NOTICE_INTERVAL_MS`]); each
//! read fetches only the runs not read yet ([`RunCache`]), so a long batch is read once
//! over, not once per item.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use leptos::prelude::*;

use crate::app::batch::format::{interval_text, rate_text, signed_rate_text};
use crate::app::batch::results::{should_reload, BatchResults, ItemRow, ReadTurns, RunCache};
use crate::app::format::{cost_text, count_of, plural, score_text, yes_no};
use crate::core::batch::{BatchRecord, BatchStatus};
use crate::core::config::Mode;
use crate::core::stats::{BatchStats, FacetBreakdown, ModeStats, Proportion};
use crate::core::stream_speed::ModelSpeed;
use crate::core::trajectory::RunRecord;
use crate::ui::components::notice::ErrorText;
use crate::ui::components::stream_speed::SpeedTable;
use crate::ui::job::Job;
use crate::ui::store::SharedStore;
use crate::web::download::DownloadError;
use crate::web::idb::StoreError;

use super::chart::{AccuracyCostChart, ModePoint};
use super::export::{download_csv, download_json, download_trajectories};
use super::session::BatchSession;
use crate::ui::run::export::EXPORT_CANCELLED;

/// What the results section holds: nothing read yet, a read failure, or the results.
pub type Loaded = Result<Option<Rc<BatchResults>>, String>;

/// Runs to read are read one by one when fewer than one in this many of the batch's items
/// want reading, else all the batch's runs in one request.
const BY_ID_SHARE: usize = 8;

/// Reads the runs of `record`'s items that `cache` lacks, with their steps (and the batch's
/// problems, once), keeps them in it, and builds the results; `live_steps` counts the steps of
/// the runs in flight, by item.
///
/// The cache is taken out of its cell around the reads (which wait on the store) and put back
/// after: a read started meanwhile finds it empty and reads everything itself.
async fn load_results(
    store: SharedStore,
    record: &BatchRecord,
    cache: &RefCell<RunCache>,
    live_steps: &BTreeMap<usize, u64>,
    running: bool,
) -> Result<BatchResults, StoreError> {
    let mut taken = cache.take();
    let wanted: HashSet<String> = taken.to_read(record, running).into_iter().collect();
    if !wanted.is_empty() || taken.needs_problems() {
        let store = store.open().await?;
        if taken.needs_problems() {
            // A dataset deleted since is no error: the results go without facets.
            let dataset = store.get_dataset(&record.spec.dataset_id).await?;
            taken.set_problems(
                record,
                dataset.map(|d| d.problems).as_deref().unwrap_or_default(),
            );
        }
        // Only the runs the items point at (an earlier attempt at an item, superseded by a
        // completed one, is left out of the statistics). While a long batch goes, each read
        // wants the few runs finished since the last: those are read by id, rather than
        // every run of the batch again.
        let runs: Vec<RunRecord> = if wanted.len() * BY_ID_SHARE < record.items.len() {
            let reads = wanted.iter().map(|id| store.get_run(id));
            futures::future::try_join_all(reads)
                .await?
                .into_iter()
                .flatten()
                .collect()
        } else {
            store
                .batch_runs(&record.spec.batch_id)
                .await?
                .into_iter()
                .filter(|r| wanted.contains(&r.run_id))
                .collect()
        };
        let ids: Vec<String> = runs.iter().map(|r| r.run_id.clone()).collect();
        let steps = store.steps_of_runs(&ids).await?;
        taken.insert(record, runs, steps);
    }
    let results = taken.results(record, live_steps);
    cache.replace(taken);
    Ok(results)
}

/// The results section of the batch card, read by `read` (whose outcome the card's spend line
/// reads too). It stays mounted while the batch runs: the results are read when
/// [`should_reload`] says so, as the batch going starts and finishes items, and on "Refresh
/// results". Only the newest read lands: a slow read of an earlier state never overwrites it.
#[component]
pub fn ResultsView(record: Memo<Option<BatchRecord>>, read: Job<Loaded>) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch = expect_context::<BatchSession>();
    let loaded = read.outcome();
    // The runs read so far, kept while the card is shown.
    let cache: Rc<RefCell<RunCache>> = Rc::default();
    let turns = Rc::new(ReadTurns::default());
    let load = move || {
        if !turns.ask() {
            return;
        }
        let (cache, turns) = (Rc::clone(&cache), Rc::clone(&turns));
        read.run_keeping(async move {
            let outcome = loop {
                // A card taken down meanwhile has nothing left to read for.
                let (Some(current), Some(live_steps)) = (
                    record.try_get_untracked(),
                    batch.live_steps.try_get_untracked(),
                ) else {
                    break Ok(None);
                };
                // While it goes in this tab the results are running totals; once it stops
                // they are read in full, for the exports.
                let running = batch.busy.try_get_untracked().unwrap_or(false)
                    && current
                        .as_ref()
                        .is_some_and(|r| r.status == BatchStatus::Running);
                let outcome = match current {
                    Some(r) => load_results(store, &r, &cache, &live_steps, running)
                        .await
                        .map(|res| Some(Rc::new(res)))
                        .map_err(|e| e.to_string()),
                    None => Ok(None),
                };
                if !turns.ended() {
                    break outcome;
                }
            };
            outcome
        });
    };
    let load = StoredValue::new_local(load);
    let key = Memo::new(move |_| {
        record.with(|r| r.as_ref().map(|r| (r.spec.batch_id.clone(), r.status)))
    });
    Effect::new(move |before: Option<Option<(String, BatchStatus)>>| {
        let now = key.get();
        let reload = match &now {
            Some(now) => should_reload(before.flatten().as_ref(), now),
            None => false,
        };
        if reload {
            untrack(|| load.with_value(|load| load()));
        }
        now
    });
    // The batch going started or finished items: read what finished since.
    Effect::new(move |seen: Option<u64>| {
        let now = batch.items_changed.get();
        if seen.is_some_and(|seen| seen != now) {
            untrack(|| load.with_value(|load| load()));
        }
        now
    });
    let running = move || {
        batch.busy.get()
            || record.with(|r| r.as_ref().is_some_and(|r| r.status == BatchStatus::Running))
    };
    // Each read lands as new results; what is drawn from them is drawn again only where it
    // changed: the section's state, the figures (which change when items finish, not when
    // they start), and the rows, keyed by what they show.
    let state = Memo::new(move |_| {
        loaded.with(|l| match l {
            None => Shown::Reading,
            Some(Err(e)) => Shown::Failed(e.clone()),
            Some(Ok(None)) => Shown::Nothing,
            Some(Ok(Some(_))) => Shown::Results,
        })
    });
    let figures = Memo::new(move |_| {
        loaded.with(|l| match l {
            Some(Ok(Some(r))) => Some((r.stats.clone(), r.facets.clone(), r.speed.clone())),
            _ => None,
        })
    });
    let rows = Memo::new(move |_| {
        loaded.with(|l| match l {
            Some(Ok(Some(r))) => r.rows.clone(),
            _ => Vec::new(),
        })
    });
    view! {
        <div class="batch-results">
            <div class="batch-results-head">
                <h3>{move || if running() { "Results so far" } else { "Results" }}</h3>
                <button type="button" class="btn btn-sm" data-testid="batch-refresh-results"
                    on:click=move |_| load.with_value(|load| load())>
                    "Refresh results"
                </button>
            </div>
            {move || match state.get() {
                Shown::Reading => view! { <p class="muted">"Reading the runs…"</p> }.into_any(),
                Shown::Failed(e) => view! { <ErrorText message=format!("The results could not be read: {e}")/> }.into_any(),
                Shown::Nothing => ().into_any(),
                Shown::Results => view! {
                    {move || figures.get().map(|(stats, facets, speed)| view! { <Figures stats=stats facets=facets speed=speed/> })}
                    <Exports loaded=loaded record=record/>
                    <Items rows=rows/>
                }
                .into_any(),
            }}
        </div>
    }
}

/// What the results section shows, as far as its layout goes.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Reading,
    Failed(String),
    Nothing,
    Results,
}

/// The figures over the runs read: per mode, paired, the chart, facets, dynamics and
/// disagreements.
#[component]
fn Figures(
    stats: BatchStats,
    facets: Vec<FacetBreakdown>,
    speed: Vec<ModelSpeed>,
) -> impl IntoView {
    let primary = stats.debate.clone().or_else(|| stats.baseline.clone());
    let both = stats.debate.is_some() && stats.baseline.is_some();
    let points: Vec<ModePoint> = [&stats.debate, &stats.baseline]
        .into_iter()
        .flatten()
        .filter_map(|m| {
            m.accuracy.map(|a| ModePoint {
                label: m.mode.as_str().to_string(),
                cost_per_problem: m.cost_per_problem,
                accuracy: a.rate,
                low: a.low,
                high: a.high,
            })
        })
        .collect();
    view! {
        {match primary {
            None => view! {
                <p class="muted">"No problem has finished yet."</p>
            }.into_any(),
            Some(_) => view! {
                <div class="batch-modes-grid">
                    {stats.debate.clone().map(|m| view! { <ModeCard stats=m primary=true both=both/> })}
                    {stats.baseline.clone().map(|m| view! { <ModeCard stats=m primary=stats.debate.is_none() both=both/> })}
                </div>
                {both.then(|| view! { <Paired stats=stats.clone()/> })}
                {(!points.is_empty()).then(|| view! { <AccuracyCostChart points=points.clone()/> })}
                {(!facets.is_empty()).then(|| view! { <Facets facets=facets.clone() both=both/> })}
                {stats.debate.is_some().then(|| view! { <Dynamics stats=stats.clone()/> })}
                <Disagreements stats=stats.clone()/>
            }.into_any(),
        }}
        {(!speed.is_empty()).then(|| view! { <SpeedTable speeds=speed.clone()/> })}
    }
}

/// One mode's figures. The primary mode's accuracy carries `batch-accuracy`; with both modes,
/// baseline's carries `batch-accuracy-baseline`, and the interval beside each the same id with
/// `-interval` after it. Each card says what its mode spent (of the batch's one total, on the
/// spend line); with one mode that would be the total again.
#[component]
fn ModeCard(stats: ModeStats, primary: bool, both: bool) -> impl IntoView {
    let testid = if primary {
        "batch-accuracy".to_string()
    } else {
        format!("batch-accuracy-{}", stats.mode.as_str())
    };
    let interval_testid = format!("{testid}-interval");
    let accuracy = stats.accuracy;
    let cost_note =
        (!stats.cost_complete && stats.total_cost_usd.is_some()).then_some(" (at least)");
    view! {
        <div class="batch-mode-card" data-mode=stats.mode.as_str()>
            <h4>{stats.mode.as_str()}</h4>
            <p class="batch-accuracy-line">
                "Accuracy "
                <strong class="mono batch-accuracy" data-testid=testid>{rate_text(accuracy.map(|a| a.rate))}</strong>
                {accuracy.map(|a| view! {
                    <span class="muted" data-testid=interval_testid>
                        {format!(" 95 % interval {} · {} of {} correct", interval_text(a.low, a.high), a.successes, a.trials)}
                    </span>
                })}
            </p>
            <dl class="batch-facts">
                <div><dt>"Runs"</dt><dd>{format!("{} ({} completed)", stats.runs, stats.completed)}</dd></div>
                <div><dt>"Mean judge score"</dt><dd class="mono">{score_text(stats.mean_judge_score)}</dd></div>
                {(stats.mode == Mode::Debate).then(|| view! {
                    <div>
                        <dt>"Verifier pass rate"</dt>
                        <dd class="mono">{rate_text(stats.verifier_pass_rate.map(|p| p.rate))}</dd>
                    </div>
                })}
                <div>
                    <dt>"Mean iterations"</dt>
                    <dd class="mono">{stats.mean_iterations.map_or("–".to_string(), |m| format!("{m:.2}"))}</dd>
                </div>
                <div>
                    <dt>"Cost per problem (USD)"</dt>
                    <dd class="mono">{cost_text(stats.cost_per_problem)}{cost_note}</dd>
                </div>
                <div>
                    <dt>"Cost per correct answer (USD)"</dt>
                    <dd class="mono">{cost_text(stats.cost_per_correct)}{cost_note}</dd>
                </div>
                {both.then(|| view! {
                    <div>
                        <dt>{format!("Spent on {} (USD)", stats.mode.as_str())}</dt>
                        <dd class="mono">{cost_text(stats.total_cost_usd)}{cost_note}</dd>
                    </div>
                })}
            </dl>
        </div>
    }
}

/// Debate against baseline on the problems both answered.
#[component]
fn Paired(stats: BatchStats) -> impl IntoView {
    stats.paired.map(|p| {
        view! {
            <div class="batch-paired" data-testid="batch-paired">
                <h4>"Debate against baseline (same problems)"</h4>
                <p>
                    "Difference in accuracy "
                    <strong class="mono" data-testid="batch-paired-difference">{signed_rate_text(p.difference)}</strong>
                    <span class="muted" data-testid="batch-paired-interval">{format!(
                        " 95 % interval {} over {} (Newcombe's paired score interval)",
                        interval_text(p.low, p.high),
                        count_of(p.pairs, "problem", "problems")
                    )}</span>
                </p>
                <table class="batch-table batch-paired-table">
                    <thead>
                        <tr><th scope="col"></th><th scope="col">"baseline right"</th><th scope="col">"baseline wrong"</th></tr>
                    </thead>
                    <tbody>
                        <tr>
                            <th scope="row">"debate right"</th>
                            <td data-testid="batch-paired-both">{p.both_correct}</td>
                            <td data-testid="batch-paired-debate-only">{p.debate_only}</td>
                        </tr>
                        <tr>
                            <th scope="row">"debate wrong"</th>
                            <td data-testid="batch-paired-baseline-only">{p.baseline_only}</td>
                            <td data-testid="batch-paired-neither">{p.neither}</td>
                        </tr>
                    </tbody>
                </table>
            </div>
        }
    })
}

/// Accuracy by each metadata facet of the batch's problems (`level`, `subject`, …), with
/// intervals (`batch-facet-row`, attributes `data-key`, `data-value`, `data-debate`,
/// `data-baseline`: plain rates, empty when the mode has no checked answer there).
#[component]
fn Facets(facets: Vec<FacetBreakdown>, both: bool) -> impl IntoView {
    let rate = |p: Option<Proportion>| p.map(|p| p.rate.to_string()).unwrap_or_default();
    let cell = |p: Option<Proportion>| match p {
        Some(p) => format!(
            "{} {} · {} of {}",
            rate_text(Some(p.rate)),
            interval_text(p.low, p.high),
            p.successes,
            p.trials
        ),
        None => "–".to_string(),
    };
    view! {
        <div class="batch-facets">
            <h4>"Accuracy by facet"</h4>
            {facets.into_iter().map(|facet| {
                let key = facet.key.clone();
                let debate_shown = both || facet.rows.iter().any(|r| r.debate.is_some());
                view! {
                    <details class="batch-facet" open=true>
                        <summary>{format!("by {} ({} values)", facet.key, facet.rows.len())}</summary>
                        <div class="table-wrap">
                            <table class="batch-table">
                                <thead>
                                    <tr>
                                        <th scope="col">{facet.key.clone()}</th>
                                        {debate_shown.then(|| view! { <th scope="col">"debate: accuracy, 95 % interval"</th> })}
                                        {(both || !debate_shown).then(|| view! { <th scope="col">"baseline: accuracy, 95 % interval"</th> })}
                                    </tr>
                                </thead>
                                <tbody>
                                    {facet.rows.into_iter().map(|row| view! {
                                        <tr
                                            data-testid="batch-facet-row"
                                            data-key=key.clone()
                                            data-value=row.value.clone()
                                            data-debate=rate(row.debate)
                                            data-baseline=rate(row.baseline)
                                        >
                                            <th scope="row">{row.value.clone()}</th>
                                            {debate_shown.then(|| view! { <td class="mono">{cell(row.debate)}</td> })}
                                            {(both || !debate_shown).then(|| view! { <td class="mono">{cell(row.baseline)}</td> })}
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    </details>
                }
            }).collect_view()}
        </div>
    }
}

/// Pass rate by round, answer flips and circular stops of the completed debates.
#[component]
fn Dynamics(stats: BatchStats) -> impl IntoView {
    let d = stats.dynamics;
    view! {
        <div class="batch-dynamics" data-testid="batch-dynamics">
            <h4>"Debate dynamics"</h4>
            <p>
                {format!(
                    "Over {}: answers changed right → wrong {} time{}, wrong → right {} time{}; {} stopped on circular critiques.",
                    count_of(d.runs, "completed debate", "completed debates"),
                    d.right_to_wrong, plural(d.right_to_wrong),
                    d.wrong_to_right, plural(d.wrong_to_right),
                    count_of(d.circular_stops, "run", "runs"),
                )}
            </p>
            {(!d.pass_rate_by_iteration.is_empty()).then(|| view! {
                <table class="batch-table">
                    <thead><tr><th scope="col">"Round"</th><th scope="col">"Verdicts"</th><th scope="col">"Passed"</th><th scope="col">"Pass rate"</th></tr></thead>
                    <tbody>
                        {d.pass_rate_by_iteration.iter().map(|r| view! {
                            <tr><td>{r.iteration}</td><td>{r.verdicts}</td><td>{r.passed}</td><td class="mono">{rate_text(Some(r.rate))}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {(!d.flip_runs.is_empty()).then(|| view! {
                <details>
                    <summary>{format!("Runs whose answer changed ({})", d.flip_runs.len())}</summary>
                    <ul class="run-links">
                        {d.flip_runs.iter().map(|f| view! {
                            <li>
                                <a class="mono" href=format!("/runs/{}", f.run_id)>{f.problem_id.clone()}</a>
                                {format!(" right → wrong {}, wrong → right {}", f.right_to_wrong, f.wrong_to_right)}
                            </li>
                        }).collect_view()}
                    </ul>
                </details>
            })}
        </div>
    }
}

/// Completed runs where the answer check, the judge and the verifier disagree.
#[component]
fn Disagreements(stats: BatchStats) -> impl IntoView {
    let list = stats.disagreements;
    view! {
        <div class="batch-disagreements">
            <h4>{format!("Where the checks disagree ({})", list.len())}</h4>
            {if list.is_empty() {
                view! { <p class="muted">"The answer check, the judge and the verifier agree on every completed run."</p> }.into_any()
            } else {
                view! {
                    <p class="muted">"Worth a person's look: the ground-truth check, the judge (score ≥ 0.5 counts as correct) and the verifier's last verdict do not all agree."</p>
                    <div class="table-wrap">
                        <table class="batch-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Problem"</th><th scope="col">"Mode"</th><th scope="col">"Answer correct"</th>
                                    <th scope="col">"Judge"</th><th scope="col">"Verifier passed"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|d| view! {
                                    <tr data-testid="batch-disagreement">
                                        <td><a class="mono" href=format!("/runs/{}", d.run_id)>{d.problem_id.clone()}</a></td>
                                        <td>{d.mode.as_str()}</td>
                                        <td>{yes_no(d.answer_correct)}</td>
                                        <td class="mono">{score_text(d.judge_score)}</td>
                                        <td>{yes_no(d.verifier_passed)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </div>
    }
}

/// The downloads.
#[component]
fn Exports(
    loaded: RwSignal<Option<Loaded>, LocalStorage>,
    record: Memo<Option<BatchRecord>>,
) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    // The summaries are written at once; only the trajectories are read first.
    let message = RwSignal::new(None::<String>);
    let batch_id = move || {
        record.with_untracked(|r| {
            r.as_ref()
                .map(|r| r.spec.batch_id.clone())
                .unwrap_or_default()
        })
    };
    // The newest results, read when an export is asked for.
    let results = move || {
        loaded.with_untracked(|l| match l {
            Some(Ok(Some(r))) => Some(Rc::clone(r)),
            _ => None,
        })
    };
    // The results with every run's answers: a running batch's are running totals, so its
    // runs are read in full for an export.
    let full = move |results: Rc<BatchResults>| async move {
        if !results.partial {
            return Ok(results);
        }
        let Some(current) = record.get_untracked() else {
            return Ok(results);
        };
        let cache = RefCell::new(RunCache::new());
        load_results(store, &current, &cache, &BTreeMap::new(), false)
            .await
            .map(Rc::new)
            .map_err(|e| e.to_string())
    };
    let read_results = move |f: fn(&BatchResults) -> u64| {
        move || {
            loaded.with(|l| match l {
                Some(Ok(Some(r))) => f(r),
                _ => 0,
            })
        }
    };
    let runs = read_results(|r| r.runs_read() as u64);
    let has_runs = move || runs() > 0;
    let steps = read_results(BatchResults::total_steps);
    let export = Job::<Result<String, String>>::new();
    let summaries = Job::<Result<(), String>>::new();
    let jsonl = move |_| {
        let (id, Some(results)) = (batch_id(), results()) else {
            return;
        };
        message.set(None);
        export.run(async move {
            let results = full(results).await?;
            let Some(s) = download_trajectories(store, &id, &results)
                .await
                .map_err(|e| e.to_string())?
            else {
                return Ok(EXPORT_CANCELLED.to_string());
            };
            Ok(format!(
                "Exported {} of {}.",
                count_of(s.steps as usize, "step", "steps"),
                count_of(s.runs as usize, "run", "runs")
            ))
        });
    };
    let summary = move |write: fn(&str, &BatchResults) -> Result<(), DownloadError>| {
        let Some(results) = results() else { return };
        export.outcome().set(None);
        if !results.partial {
            message.set(write(&batch_id(), &results).err().map(|e| e.to_string()));
            return;
        }
        message.set(None);
        let id = batch_id();
        summaries.run(async move {
            let results = full(results).await?;
            write(&id, &results).map_err(|e| e.to_string())
        });
    };
    let csv = move |_| summary(download_csv);
    let json = move |_| summary(download_json);
    view! {
        <div class="batch-exports">
            <h4>"Export"</h4>
            <div class="btn-group">
                <button type="button" class="btn" data-testid="batch-export-jsonl"
                    data-steps=move || steps().to_string()
                    disabled=move || export.going() || !has_runs()
                    on:click=jsonl>
                    "Trajectories (JSONL)"
                </button>
                <button type="button" class="btn" data-testid="batch-export-csv" disabled=move || !has_runs() on:click=csv>
                    "Per-problem summary (CSV)"
                </button>
                <button type="button" class="btn" data-testid="batch-export-json" disabled=move || !has_runs() on:click=json>
                    "Per-problem summary (JSON)"
                </button>
                <a class="btn" data-testid="batch-training" href=crate::ui::training::batch_href(&batch_id())>
                    "Training data…"
                </a>
            </div>
            {move || export.outcome().get().map(|m| match m {
                Ok(text) => view! { <p class="msg ok-text" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <ErrorText message=text/> }.into_any(),
            })}
            {move || message.get().map(|text| view! { <ErrorText message=text/> })}
            {move || summaries.outcome().get().and_then(Result::err).map(|text| view! { <ErrorText message=text/> })}
        </div>
    }
}

/// Every item with its run.
#[component]
fn Items(rows: Memo<Vec<ItemRow>>) -> impl IntoView {
    // Folded for a long batch, as it first shows; the reader's choice holds afterwards.
    let open = rows.with_untracked(Vec::len) <= 200;
    // The rows are drawn only while unfolded: a long batch's thousands of rows would
    // otherwise be built, and compared on every read, for a table nobody sees.
    let unfolded = RwSignal::new(open);
    let shown_rows = move || {
        if unfolded.get() {
            rows.get()
        } else {
            Vec::new()
        }
    };
    view! {
        <details class="batch-items" open=open
            on:toggle=move |ev| unfolded.set(event_target::<web_sys::Element>(&ev).has_attribute("open"))>
            <summary>{move || format!("Items ({})", rows.with(Vec::len))}</summary>
            <div class="table-wrap">
                <table class="batch-table">
                    <thead>
                        <tr>
                            <th scope="col">"#"</th><th scope="col">"Problem"</th><th scope="col">"Mode"</th>
                            <th scope="col">"Status"</th><th scope="col">"Run"</th><th scope="col">"Steps"</th>
                            <th scope="col">"Correct"</th><th scope="col">"Judge"</th><th scope="col">"Cost (USD)"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=shown_rows key=ItemRow::key let:row>
                            {
                            let status = format!("{:?}", row.status).to_lowercase();
                            view! {
                                <tr
                                    data-testid="batch-item"
                                    data-index=row.index
                                    data-problem-id=row.problem_id.clone()
                                    data-mode=row.mode.as_str()
                                    data-status=status.clone()
                                    data-steps=row.steps
                                    data-correct=yes_no(row.correct)
                                >
                                    <td class="muted">{row.index + 1}</td>
                                    <td class="mono">{row.problem_id.clone()}</td>
                                    <td>{row.mode.as_str()}</td>
                                    <td title=row.message.clone().unwrap_or_default()>{status.clone()}</td>
                                    <td>{row.run_id.clone().map(|id| view! {
                                        <a class="mono" href=format!("/runs/{id}")>{id.clone()}</a>
                                    })}</td>
                                    <td>{row.steps}</td>
                                    <td>{yes_no(row.correct)}</td>
                                    <td class="mono">{score_text(row.judge_score)}</td>
                                    <td class="mono">{cost_text(row.cost_usd)}</td>
                                </tr>
                            }
                            }
                        </For>
                    </tbody>
                </table>
            </div>
        </details>
    }
}

//! `/training`: the stored runs made into a training dataset — the source and filters, the
//! format, the signal that decides good and bad, the options, the live counts per split, and
//! one `.zip` download with the split files and the dataset card.
//!
//! The rows themselves are core's ([`crate::core::training`]); this page holds the choices as
//! signals and hands them to [`crate::ui::training::export`].

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use crate::app::format::{count as count_text, day_text};
use crate::core::clock::Clock;
use crate::core::config::Mode;
use crate::core::training::options::{
    AnswerRendering, AnswerScope, PairPrompt, Pairing, RewardSource, SftShape,
};
use crate::core::training::query::selection_from_query;
use crate::core::training::rows::DropReason;
use crate::core::training::selection::day_start_ms;
use crate::core::training::{
    DatasetFormat, ExportStats, RunFilter, Selection, Signal as GoodSignal, Split, TrainingOptions,
};
use crate::core::trajectory::RunRecord;
use crate::ui::components::notice::ErrorText;
use crate::ui::provider_state::ProviderState;
use crate::ui::run::session::RunSession;
use crate::ui::store::SharedStore;
use crate::ui::training::export::{count, download};
use crate::web::clock::BrowserClock;

const DAY_MS: f64 = 86_400_000.0;

/// The distinct values the filters offer, from the stored runs.
#[derive(Debug, Clone, Default, PartialEq)]
struct Choices {
    hashes: BTreeSet<String>,
    solvers: BTreeSet<String>,
    verifiers: BTreeSet<String>,
    judges: BTreeSet<String>,
    batches: BTreeSet<String>,
}

impl Choices {
    fn of(runs: &[RunRecord]) -> Self {
        let mut c = Choices::default();
        for run in runs {
            c.hashes.insert(run.config_hash.clone());
            if let Some(b) = &run.batch_id {
                c.batches.insert(b.clone());
            }
            if let Some(config) = &run.config {
                c.solvers.insert(config.solver.model.clone());
                c.verifiers.insert(config.verifier.model.clone());
                c.judges.insert(config.judge.model.clone());
            }
        }
        c
    }
}

fn optional(text: String) -> Option<String> {
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The Training data page.
#[component]
pub fn TrainingPage() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let session = expect_context::<RunSession>();
    let providers = expect_context::<ProviderState>();
    let query = use_query_map();
    let initial =
        query.with_untracked(|q| selection_from_query(q.into_iter().map(|(k, v)| (k.as_ref(), v))));
    let (chosen, filter) = match initial {
        Selection::Runs(ids) => (Some(ids), RunFilter::default()),
        Selection::Batch(id) => (
            None,
            RunFilter {
                batch_id: Some(id),
                ..RunFilter::default()
            },
        ),
        Selection::Filter(filter) => (None, filter),
    };
    let chosen = RwSignal::new(chosen);
    let filter = RwSignal::new(filter);
    let options = RwSignal::new(TrainingOptions::default());
    let selection = Memo::new(move |_| match chosen.get() {
        Some(ids) => Selection::Runs(ids),
        None => Selection::Filter(filter.get()),
    });

    let runs = LocalResource::new(move || {
        let _ = session.runs_changed.get();
        async move {
            let store = store.open().await?;
            store.list_runs().await
        }
    });
    let choices = Memo::new(move |_| {
        runs.with(|r| match r {
            Some(Ok(list)) => Choices::of(list),
            _ => Choices::default(),
        })
    });

    let registry = providers.registry();
    let counts = LocalResource::new(move || {
        let _ = session.runs_changed.get();
        let selection = selection.get();
        let options = options.get();
        let registry = registry.get();
        // The options go with the counts, so the page (and a test) can tell counts of the
        // options shown from counts of the ones before.
        async move {
            count(store, &selection, &options, &registry)
                .await
                .map(|stats| (options, stats))
        }
    });

    let downloading = RwSignal::new(false);
    let download_error = RwSignal::new(None::<String>);
    let on_download = move |_| {
        if downloading.get_untracked() {
            return;
        }
        downloading.set(true);
        download_error.set(None);
        let selection = selection.get_untracked();
        let options = options.get_untracked();
        let registry = registry.get_untracked();
        spawn_local(async move {
            let now = BrowserClock::new().now_ms();
            if let Err(e) = download(store, &selection, &options, &registry, now).await {
                download_error.set(Some(e.to_string()));
            }
            downloading.set(false);
        });
    };

    view! {
        <div class="page-head">
            <div>
                <h1>"Training data"</h1>
                <p class="lede">
                    "Stored runs as training-ready datasets: SFT, preference pairs, unpaired "
                    "preference, critic and reward rows in TRL's and OpenAI's formats, split by "
                    "problem with no problem in two splits, with a dataset card that says how "
                    "every row was made."
                </p>
            </div>
        </div>
        <section class="card training-source" aria-labelledby="training-source-title">
            <h2 class="card-title" id="training-source-title">"Source"</h2>
            {move || chosen.get().map(|ids| view! {
                <p class="training-chosen" data-testid="training-chosen" data-count=ids.len()>
                    {format!("{} chosen runs. ", ids.len())}
                    <button type="button" class="btn btn-small" on:click=move |_| chosen.set(None)>
                        "Use filters instead"
                    </button>
                </p>
            })}
            <Filters filter=filter choices=choices disabled=Signal::derive(move || chosen.with(Option::is_some))/>
        </section>
        <section class="card training-options" aria-labelledby="training-options-title">
            <h2 class="card-title" id="training-options-title">"Dataset"</h2>
            <OptionsForm options=options/>
        </section>
        <section class="card training-result" aria-labelledby="training-result-title">
            <h2 class="card-title" id="training-result-title">"Rows"</h2>
            {move || match counts.get() {
                None => view! {
                    <p class="muted" role="status" data-testid="training-counts" data-state="loading">
                        "Counting rows…"
                    </p>
                }.into_any(),
                Some(Err(e)) => view! {
                    <p class="muted" data-testid="training-counts" data-train="0" data-validation="0"
                        data-test="0" data-dropped="0" data-state="error">"No rows."</p>
                    <ErrorText message=e.to_string()/>
                }.into_any(),
                Some(Ok((options, stats))) => view! { <Counts options=options stats=stats/> }.into_any(),
            }}
            <button type="button" class="btn btn-primary" data-testid="training-download"
                disabled=move || downloading.get()
                on:click=on_download>
                {move || if downloading.get() { "Building the archive…" } else { "Download .zip" }}
            </button>
            {move || download_error.get().map(|e| view! { <ErrorText message=e/> })}
        </section>
    }
}

/// The counts per split, the pairs and the drops.
#[component]
fn Counts(options: TrainingOptions, stats: ExportStats) -> impl IntoView {
    let rows = stats.rows;
    let dropped = stats.total_dropped();
    let drops: Vec<(DropReason, u64)> = stats.drops.iter().map(|(r, n)| (*r, *n)).collect();
    let pairs: Vec<(&'static str, u64)> = stats.pairs.iter().map(|(k, n)| (*k, *n)).collect();
    view! {
        <p class="training-counts" role="status" data-testid="training-counts" data-state="ready"
            data-format=options.format.as_str() data-signals=options.signal_names()
            data-split=format!("{}/{}/{}", options.split.seed, options.split.validation, options.split.test)
            data-train=rows[0] data-validation=rows[1] data-test=rows[2] data-dropped=dropped
            data-runs=stats.runs_selected data-runs-used=stats.runs_used
            data-within-run=stats.pairs.get("within_run").copied().unwrap_or(0)
            data-across-runs=stats.pairs.get("across_runs").copied().unwrap_or(0)>
            {Split::ALL.iter().map(|s| format!("{}: {} rows", s.as_str(), count_text(rows[s.index()]))).collect::<Vec<_>>().join(" · ")}
            {format!(" — from {} of {} selected runs; {} dropped.", count_text(stats.runs_used), count_text(stats.runs_selected), count_text(dropped))}
        </p>
        {(!pairs.is_empty()).then(|| view! {
            <p class="muted">{pairs.iter().map(|(k, n)| format!("{}: {n} pairs", k.replace('_', " "))).collect::<Vec<_>>().join(" · ")}</p>
        })}
        {(!drops.is_empty()).then(|| view! {
            <ul class="training-drops" data-testid="training-drops">
                {drops.into_iter().map(|(reason, n)| view! {
                    <li data-reason=reason.as_str() data-count=n>{format!("{n} — {}", reason.describe())}</li>
                }).collect_view()}
            </ul>
        })}
    }
}

/// A `<select>` whose options are `(value, label)` pairs.
#[component]
fn Choice(
    /// The control's id (its label's `for`).
    id: &'static str,
    /// The label.
    label: &'static str,
    /// The test id, when it has one.
    #[prop(optional)]
    test_id: Option<&'static str>,
    /// The values and labels.
    items: Signal<Vec<(String, String)>>,
    /// The value shown.
    value: Signal<String>,
    /// Called with the chosen value.
    on_change: Callback<String>,
    /// Whether it is disabled.
    #[prop(optional, into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id class="input" data-testid=test_id disabled=move || disabled.get()
                on:change=move |ev| on_change.run(event_target_value(&ev))>
                {move || {
                    let current = value.get();
                    items.get().into_iter().map(|(v, l)| {
                        let selected = v == current;
                        view! { <option value=v selected=selected>{l}</option> }
                    }).collect_view()
                }}
            </select>
        </div>
    }
}

fn any_of(set: &BTreeSet<String>) -> Vec<(String, String)> {
    std::iter::once((String::new(), "any".to_string()))
        .chain(set.iter().map(|v| (v.clone(), v.clone())))
        .collect()
}

/// The run filters.
#[component]
fn Filters(
    filter: RwSignal<RunFilter>,
    choices: Memo<Choices>,
    disabled: Signal<bool>,
) -> impl IntoView {
    type Pick = fn(&Choices) -> &BTreeSet<String>;
    type Get = fn(&RunFilter) -> Option<String>;
    type Put = fn(&mut RunFilter, Option<String>);
    // Each text filter: its id and label, the set of stored values offered, and the filter's
    // field it sets.
    macro_rules! text_filter {
        ($id:literal, $label:literal, $offered:ident, $field:ident) => {
            (
                $id,
                $label,
                (|c: &Choices| &c.$offered) as Pick,
                (|f: &RunFilter| f.$field.clone()) as Get,
                (|f: &mut RunFilter, v| f.$field = v) as Put,
            )
        };
    }
    let text_filters: [(&'static str, &'static str, Pick, Get, Put); 5] = [
        text_filter!("training-batch", "Batch", batches, batch_id),
        text_filter!("training-config", "Config hash", hashes, config_hash),
        text_filter!("training-solver", "Solver model", solvers, solver_model),
        text_filter!(
            "training-verifier",
            "Verifier model",
            verifiers,
            verifier_model
        ),
        text_filter!("training-judge", "Judge model", judges, judge_model),
    ];
    let selects = text_filters
        .into_iter()
        .map(|(id, label, pick, get, put)| {
            let items = Signal::derive(move || {
                let mut set = choices.with(|c| pick(c).clone());
                // A value from the address stays choosable before (or without) a stored run.
                set.extend(filter.with(get));
                any_of(&set)
            });
            view! {
                <Choice id=id label=label test_id=id items=items disabled=disabled
                    value=Signal::derive(move || filter.with(get).unwrap_or_default())
                    on_change=Callback::new(move |v: String| filter.update(|f| put(f, optional(v))))/>
            }
        })
        .collect_view();
    let modes = Signal::derive(|| {
        vec![
            (String::new(), "any".to_string()),
            ("debate".to_string(), "debate".to_string()),
            ("baseline".to_string(), "baseline".to_string()),
        ]
    });
    let date_value = move |ms: Option<f64>| ms.map(day_text).unwrap_or_default();
    view! {
        <div class="training-filters">
            {selects}
            <Choice id="training-mode" label="Mode" test_id="training-mode" items=modes disabled=disabled
                value=Signal::derive(move || filter.with(|f| f.mode.map(|m| m.as_str().to_string()).unwrap_or_default()))
                on_change=Callback::new(move |v: String| filter.update(|f| f.mode = match v.as_str() {
                    "debate" => Some(Mode::Debate),
                    "baseline" => Some(Mode::Baseline),
                    _ => None,
                }))/>
            <div class="field">
                <label for="training-from">"Created from"</label>
                <input id="training-from" class="input" type="date" data-testid="training-from"
                    disabled=move || disabled.get()
                    prop:value=move || date_value(filter.with(|f| f.from_ms))
                    on:change=move |ev| filter.update(|f| f.from_ms = day_start_ms(&event_target_value(&ev)))/>
            </div>
            <div class="field">
                <label for="training-until">"Created until (inclusive)"</label>
                <input id="training-until" class="input" type="date" data-testid="training-until"
                    disabled=move || disabled.get()
                    prop:value=move || date_value(filter.with(|f| f.until_ms.map(|t| t - DAY_MS)))
                    on:change=move |ev| filter.update(|f| f.until_ms = day_start_ms(&event_target_value(&ev)).map(|t| t + DAY_MS))/>
            </div>
            <label class="switch">
                <input type="checkbox" data-testid="training-completed" disabled=move || disabled.get()
                    prop:checked=move || filter.with(|f| f.completed_only)
                    on:change=move |ev| filter.update(|f| f.completed_only = event_target_checked(&ev))/>
                <span>"Completed runs only"</span>
            </label>
        </div>
    }
}

fn pairs<T: Copy>(items: &[(T, &str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(_, v, l)| (v.to_string(), l.to_string()))
        .collect()
}

/// Reads a value chosen in a `<select>` back into an option.
fn pick<T: Copy>(items: &[(T, &'static str, &'static str)], value: &str) -> Option<T> {
    items
        .iter()
        .find(|(_, v, _)| *v == value)
        .map(|(t, _, _)| *t)
}

fn value_of<T: Copy + PartialEq>(items: &[(T, &'static str, &'static str)], current: T) -> String {
    items
        .iter()
        .find(|(t, _, _)| *t == current)
        .map(|(_, v, _)| v.to_string())
        .unwrap_or_default()
}

const SCOPES: [(AnswerScope, &str, &str); 2] = [
    (AnswerScope::FinalOnly, "final_only", "final answers only"),
    (
        AnswerScope::EveryAccepted,
        "every_accepted",
        "every accepted revision",
    ),
];
const PAIRINGS: [(Pairing, &str, &str); 3] = [
    (Pairing::Both, "both", "within runs and across runs"),
    (
        Pairing::WithinRuns,
        "within_runs",
        "within runs (rejected draft vs accepted revision)",
    ),
    (
        Pairing::AcrossRuns,
        "across_runs",
        "across runs (same first-turn prompt)",
    ),
];
const PAIR_PROMPTS: [(PairPrompt, &str, &str); 2] = [
    (PairPrompt::FirstTurn, "first_turn", "the first-turn prompt"),
    (
        PairPrompt::CritiqueConditioned,
        "critique_conditioned",
        "the critique-conditioned prompt",
    ),
];
const RENDERINGS: [(AnswerRendering, &str, &str); 3] = [
    (AnswerRendering::Json, "json", "the JSON the model produced"),
    (AnswerRendering::Solution, "solution", "the solution alone"),
    (
        AnswerRendering::SolutionWithReasoning,
        "solution_reasoning",
        "reasoning, then the solution",
    ),
];
const REWARDS: [(RewardSource, &str, &str); 4] = [
    (
        RewardSource::GroundTruth,
        "ground_truth",
        "ground truth (1 / 0)",
    ),
    (
        RewardSource::Verifier,
        "verifier",
        "the verifier's confidence",
    ),
    (RewardSource::Judge, "judge", "the judge's score"),
    (
        RewardSource::Combined,
        "combined",
        "the mean of the known ones",
    ),
];
const SHAPES: [(SftShape, &str, &str); 2] = [
    (
        SftShape::PromptCompletion,
        "prompt_completion",
        "prompt / completion",
    ),
    (SftShape::Messages, "messages", "messages"),
];
const SIGNAL_LABELS: [(GoodSignal, &str, &str); 3] = [
    (
        GoodSignal::GroundTruth,
        "ground_truth",
        "correct against the ground truth",
    ),
    (GoodSignal::Verifier, "verifier", "passed by the verifier"),
    (GoodSignal::Judge, "judge", "judge's score ≥ threshold"),
];

/// The format, the signal and the options.
#[component]
fn OptionsForm(options: RwSignal<TrainingOptions>) -> impl IntoView {
    let formats = Signal::derive(|| {
        DatasetFormat::ALL
            .iter()
            .map(|f| (f.as_str().to_string(), f.label().to_string()))
            .collect()
    });
    let primary = Signal::derive(move || {
        options.with(|o| {
            o.signals
                .first()
                .copied()
                .unwrap_or(GoodSignal::GroundTruth)
        })
    });
    let also = move |signal: GoodSignal| {
        view! {
            <label class="switch">
                <input type="checkbox" data-testid=format!("training-also-{}", signal.as_str())
                    disabled=move || primary.get() == signal
                    prop:checked=move || options.with(|o| o.signals.contains(&signal))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        options.update(|o| {
                            o.signals.retain(|s| *s != signal);
                            if on {
                                o.signals.push(signal);
                            }
                        });
                    }/>
                <span>{format!("also require: {}", value_label(&SIGNAL_LABELS, signal))}</span>
            </label>
        }
    };
    let number = move |id: &'static str,
                       label: &'static str,
                       step: &'static str,
                       get: fn(&TrainingOptions) -> f64,
                       put: fn(&mut TrainingOptions, f64)| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id class="input" type="number" step=step data-testid=id
                    prop:value=move || options.with(get).to_string()
                    on:change=move |ev| {
                        // A value that is not a number is refused by the options' check below.
                        let v = event_target_value(&ev).trim().parse::<f64>().unwrap_or(f64::NAN);
                        options.update(|o| put(o, v));
                    }/>
            </div>
        }
    };
    macro_rules! enum_choice {
        ($id:literal, $label:literal, $items:expr, $field:ident) => {
            view! {
                <Choice id=$id label=$label test_id=$id
                    items=Signal::derive(|| pairs(&$items))
                    value=Signal::derive(move || value_of(&$items, options.with(|o| o.$field)))
                    on_change=Callback::new(move |v: String| {
                        if let Some(x) = pick(&$items, &v) {
                            options.update(|o| o.$field = x);
                        }
                    })/>
            }
        };
    }
    view! {
        <div class="training-form">
            <Choice id="training-format" label="Format" test_id="training-format" items=formats
                value=Signal::derive(move || options.with(|o| o.format.as_str().to_string()))
                on_change=Callback::new(move |v: String| {
                    if let Some(f) = DatasetFormat::parse(&v) {
                        options.update(|o| o.format = f);
                    }
                })/>
            <Choice id="training-signal" label="Good answers are" test_id="training-signal"
                items=Signal::derive(|| pairs(&SIGNAL_LABELS))
                value=Signal::derive(move || primary.get().as_str().to_string())
                on_change=Callback::new(move |v: String| {
                    if let Some(s) = GoodSignal::parse(&v) {
                        options.update(|o| {
                            // The new signal replaces the old first one; the ones
                            // required beside it stay.
                            if !o.signals.is_empty() {
                                o.signals.remove(0);
                            }
                            o.signals.retain(|x| *x != s);
                            o.signals.insert(0, s);
                        });
                    }
                })/>
            <div class="field training-also">
                {GoodSignal::ALL.into_iter().map(also).collect_view()}
            </div>
            {number("training-threshold", "Judge threshold", "0.05", |o| o.judge_threshold, |o, v| o.judge_threshold = v)}
            {enum_choice!("training-scope", "SFT answers", SCOPES, scope)}
            {enum_choice!("training-sft-shape", "TRL SFT shape", SHAPES, sft_shape)}
            {enum_choice!("training-pairing", "Pairs", PAIRINGS, pairing)}
            {enum_choice!("training-pair-prompt", "Within-run pair prompt", PAIR_PROMPTS, pair_prompt)}
            {enum_choice!("training-rendering", "Assistant content", RENDERINGS, rendering)}
            {enum_choice!("training-reward", "Reward", REWARDS, reward)}
            <label class="switch">
                <input type="checkbox" data-testid="training-include-thinking"
                    prop:checked=move || options.with(|o| o.include_thinking)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        options.update(|o| o.include_thinking = on);
                    }/>
                " Include the model's thinking (TRL formats: the assistant turn's reasoning_content)"
            </label>
            {number("training-seed", "Split seed", "1", |o| o.split.seed as f64, |o, v| o.split.seed = if v.is_finite() && v >= 0.0 { v as u64 } else { 0 })}
            {number("training-validation", "Validation share", "0.05", |o| o.split.validation, |o, v| o.split.validation = v)}
            {number("training-test", "Test share", "0.05", |o| o.split.test, |o, v| o.split.test = v)}
        </div>
    }
}

fn value_label<T: Copy + PartialEq>(
    items: &[(T, &'static str, &'static str)],
    current: T,
) -> &'static str {
    items
        .iter()
        .find(|(t, _, _)| *t == current)
        .map(|(_, _, l)| *l)
        .unwrap_or_default()
}

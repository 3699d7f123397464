//! The Start card: which problems of the picked dataset (facets, seeded shuffle, limit), the
//! modes, the concurrency, the cost forecast, and Start or a 5-problem pilot.

use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;

use crate::app::batch::engine::EngineSplit;
use crate::app::batch::forecast::{forecast, mode_hashes, ForecastOutcome};
use crate::app::batch::format::parse_concurrency;
use crate::app::batch::selection::{facets, SelectionForm};
use crate::app::format::{count_of, dollars, plural};
use crate::core::batch::http1::{http1_bottlenecks, HTTP1_CONNECTIONS_PER_HOST};
use crate::core::batch::{BatchEngine, BatchModes, MAX_CONCURRENCY};
use crate::core::config::Mode;
use crate::core::dataset::Problem;
use crate::core::replies::ReusePolicy;
use crate::core::stored_dataset::StoredDataset;
use crate::ui::components::notice::ErrorText;
use crate::ui::components::reuse_policy::ReusePolicySelect;
use crate::ui::config_form::ConfigForm;
use crate::ui::prices::PricingState;
use crate::ui::provider_state::{preconnect_to_agents, ProviderState};
use crate::ui::store::SharedStore;

use super::batch_forecast::{runs_at_live_rates, ProviderBatchForecast};
use super::session::{BatchRequest, BatchSession};

/// Problems a pilot runs.
pub const PILOT_PROBLEMS: usize = 5;

/// Selection, modes, concurrency, forecast, Start.
#[component]
pub fn StartPanel() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch = expect_context::<BatchSession>();
    // A batch prices every call from its first, so the table is fetched and parsed now rather
    // than after Start is pressed (about 100 ms of a batch's start, measured by the benchmark).
    expect_context::<PricingState>().ensure_table();
    let dataset = LocalResource::new(move || {
        let id = batch.picked_dataset.get();
        async move {
            let Some(id) = id else { return Ok(None) };
            let store = store.open().await?;
            store.get_dataset(&id).await.map(|d| d.map(Rc::new))
        }
    });
    view! {
        <section class="card batch-start" aria-labelledby="batch-start-title">
            <h2 id="batch-start-title">"2. Problems and run"</h2>
            {move || match dataset.get() {
                None => view! { <p class="muted">"Loading the dataset…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorText message=e.to_string()/> }.into_any(),
                Some(Ok(None)) => view! {
                    <p class="muted">"Pick a saved dataset, or import one."</p>
                }.into_any(),
                Some(Ok(Some(d))) => view! { <StartForm dataset=d/> }.into_any(),
            }}
        </section>
    }
}

/// The form over one dataset.
#[component]
fn StartForm(dataset: Rc<StoredDataset>) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch = expect_context::<BatchSession>();
    let form = expect_context::<ConfigForm>();
    let providers = expect_context::<ProviderState>();
    let check = form.check();
    preconnect_to_agents(check, providers);

    let problems = StoredValue::new(dataset.problems.clone());
    let facet_list = facets(&dataset.problems);
    let selection = RwSignal::new(SelectionForm::default());
    let modes = RwSignal::new(BatchModes::Debate);
    let reuse = RwSignal::new(ReusePolicy::default());
    let concurrency = RwSignal::new("4".to_string());
    let engine = RwSignal::new(BatchEngine::Live);
    let stragglers_live = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let start_error = RwSignal::new(None::<String>);

    let selected = Memo::new(move |_| {
        selection
            .with(|s| s.selection())
            .map(|sel| problems.with_value(|p| sel.ids(p)))
    });
    let parsed_concurrency = Memo::new(move |_| concurrency.with(|c| parse_concurrency(c)));
    let config_problems = Signal::derive(move || check.with(|c| c.errors.len()));
    let hashes = Memo::new(move |_| check.with(|c| mode_hashes(&c.config, modes.get())));
    let count = Signal::derive(move || selected.with(|s| s.as_ref().map_or(0, Vec::len)));
    // The plain-http servers whose calls beyond the browser's HTTP/1.1 connection limit would
    // queue in the browser at this concurrency (see core::batch::http1).
    let http1_servers = Memo::new(move |_| {
        let Ok(n) = parsed_concurrency.get() else {
            return Vec::new();
        };
        let registry = providers.registry().get();
        check.with(|c| http1_bottlenecks(&c.config, &registry, n))
    });

    let pricer = expect_context::<PricingState>().pricer();
    let forecast_view = LocalResource::new(move || {
        let hashes = hashes.get();
        let n = count.get();
        let pricer = pricer.get();
        // Not every finished item: only when a batch starts or ends (a pilot's end).
        let _ = batch.batches_changed.get();
        async move {
            // Runs of provider batches paid batch rates; a live batch will not.
            let all = runs_at_live_rates(store, &hashes, pricer.as_deref()).await?;
            Ok::<_, crate::web::idb::StoreError>(forecast(&all, &hashes, n))
        }
    });

    let dataset_id = dataset.summary.dataset_id.clone();
    let dataset_name = dataset.summary.name.clone();
    let launch = move |limit: Option<usize>| {
        let invalid = config_problems.get_untracked();
        if invalid > 0 {
            start_error.set(Some(format!(
                "The configuration has {} on the Configure page; fix it there first.",
                count_of(invalid, "problem", "problems")
            )));
            return;
        }
        let ids = match selected.get_untracked() {
            Ok(ids) => ids,
            Err(e) => {
                start_error.set(Some(e.to_string()));
                return;
            }
        };
        let concurrency = match parsed_concurrency.get_untracked() {
            Ok(c) => c,
            Err(e) => {
                start_error.set(Some(e.to_string()));
                return;
            }
        };
        let ids: Vec<String> = ids.into_iter().take(limit.unwrap_or(usize::MAX)).collect();
        let chosen: Vec<Problem> = problems.with_value(|all| {
            let by_id: HashMap<&str, &Problem> = all.iter().map(|p| (p.id.as_str(), p)).collect();
            ids.iter()
                .filter_map(|id| by_id.get(id.as_str()).map(|p| (*p).clone()))
                .collect()
        });
        let typed = name.get_untracked();
        let name = match (typed.trim(), limit) {
            ("", Some(_)) => format!("Pilot of {dataset_name}"),
            ("", None) => format!(
                "{dataset_name}, {}",
                count_of(chosen.len(), "problem", "problems")
            ),
            (given, _) => given.to_string(),
        };
        let request = BatchRequest {
            name,
            dataset_id: dataset_id.clone(),
            dataset_name: dataset_name.clone(),
            problems: chosen,
            modes: modes.get_untracked(),
            concurrency,
            config: check.with_untracked(|c| c.config.clone()),
            registry: providers.registry().get_untracked(),
            reuse_policy: reuse.get_untracked(),
            engine: engine.get_untracked(),
            stragglers_live: stragglers_live.get_untracked(),
        };
        start_error.set(batch.start(request).err().map(|e| e.to_string()));
    };
    let launch_pilot = launch.clone();

    let facet_views = facet_list
        .into_iter()
        .map(|facet| {
            let key = facet.key.clone();
            view! {
                <fieldset class="batch-facet">
                    <legend>{facet.key.clone()}</legend>
                    {facet.values.into_iter().map(|(value, n)| {
                        let (k1, v1, k2, v2) = (key.clone(), value.clone(), key.clone(), value.clone());
                        view! {
                            <label class="batch-facet-value">
                                <input
                                    type="checkbox"
                                    data-testid="batch-facet"
                                    data-key=key.clone()
                                    data-value=value.clone()
                                    prop:checked=move || selection.with(|s| s.is_checked(&k1, &v1))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        selection.update(|s| s.toggle(&k2, &v2, on));
                                    }
                                />
                                {format!("{value} ({n})")}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            }
        })
        .collect_view();

    view! {
        <p class="muted">
            <strong>{dataset.summary.name.clone()}</strong>
            {format!(" · {}", count_of(dataset.summary.problem_count, "problem", "problems"))}
        </p>
        <div class="batch-facets">{facet_views}</div>
        <div class="field-row batch-pair">
            <div class="field">
                <label for="batch-seed">
                    "Shuffle seed " <span class="field-hint">"optional"</span>
                </label>
                <input
                    id="batch-seed"
                    class="input"
                    name="batch_seed"
                    inputmode="numeric"
                    data-testid="batch-seed"
                    title="The same seed gives the same order; empty keeps the file's order"
                    prop:value=move || selection.with(|s| s.seed.clone())
                    on:input=move |ev| selection.update(|s| s.seed = event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="batch-limit">
                    "Limit " <span class="field-hint">"optional"</span>
                </label>
                <input
                    id="batch-limit"
                    class="input"
                    name="batch_limit"
                    inputmode="numeric"
                    data-testid="batch-limit"
                    title="Run the first N problems after the filters and the shuffle"
                    prop:value=move || selection.with(|s| s.limit.clone())
                    on:input=move |ev| selection.update(|s| s.limit = event_target_value(&ev))
                />
            </div>
        </div>
        <p data-testid="batch-selected" data-count=move || count.get().to_string()>
            {move || match selected.get() {
                Ok(ids) => format!("{} selected.", count_of(ids.len(), "problem", "problems")),
                Err(_) => "Fix the selection below.".to_string(),
            }}
        </p>
        {move || selected.get().err().map(|e| view! { <ErrorText message=e.to_string()/> })}

        <fieldset class="batch-modes">
            <legend>"Modes"</legend>
            {[(BatchModes::Debate, "debate", "solver ⇄ verifier, then the judge"),
              (BatchModes::Baseline, "baseline", "one solver call, then the judge"),
              (BatchModes::Both, "both", "each problem in both modes, compared pairwise")]
                .into_iter()
                .map(|(m, value, hint)| view! {
                    <label class="batch-mode">
                        <input
                            type="radio"
                            name="batch_modes"
                            value=value
                            data-testid=format!("batch-mode-{value}")
                            prop:checked=move || modes.get() == m
                            on:change=move |_| modes.set(m)
                        />
                        <span>{value}</span>
                        <span class="field-hint">{hint}</span>
                    </label>
                })
                .collect_view()}
        </fieldset>
        <div class="field-row batch-pair">
            <div class="field">
                <label for="batch-concurrency">
                    "Concurrency " <span class="field-hint">{format!("1–{MAX_CONCURRENCY}")}</span>
                </label>
                <input
                    id="batch-concurrency"
                    class="input"
                    type="number"
                    min="1"
                    max=MAX_CONCURRENCY.to_string()
                    step="1"
                    name="batch_concurrency"
                    data-testid="batch-concurrency"
                    title="Problems run at once; lowered by itself after rate limits, and raised again as calls succeed"
                    aria-invalid=move || if parsed_concurrency.with(Result::is_err) { "true" } else { "false" }
                    prop:value=move || concurrency.get()
                    on:input=move |ev| concurrency.set(event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="batch-engine">"Engine"</label>
                <select
                    id="batch-engine"
                    class="input"
                    name="batch_engine"
                    data-testid="batch-engine"
                    title="Live calls answer at once; the providers' batch APIs cost half and take up to a day per round"
                    on:change=move |ev| {
                        engine.set(BatchEngine::from_name(&event_target_value(&ev)).unwrap_or_default())
                    }
                >
                    <option value="live" selected=move || engine.get() == BatchEngine::Live>
                        "Live: calls one by one"
                    </option>
                    <option
                        value="provider-batch"
                        selected=move || engine.get() == BatchEngine::ProviderBatch
                    >
                        "Provider batch API: half price, in rounds"
                    </option>
                </select>
            </div>
            <div class="field">
                <label for="batch-name">"Name " <span class="field-hint">"optional"</span></label>
                <input
                    id="batch-name"
                    class="input"
                    name="batch_name"
                    data-testid="batch-name"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </div>
        </div>
        {move || (engine.get() == BatchEngine::ProviderBatch).then(|| {
            let split = check.with(|c| {
                providers
                    .registry()
                    .with(|r| EngineSplit::of(r, &c.config))
            });
            view! {
                <div class="field-row batch-pair">
                    <p class="field-hint" data-testid="batch-engine-split">{split.sentence()}</p>
                    <label class="check">
                        <input
                            type="checkbox"
                            name="batch_stragglers_live"
                            data-testid="batch-stragglers-live"
                            prop:checked=move || stragglers_live.get()
                            on:change=move |ev| stragglers_live.set(event_target_checked(&ev))
                        />
                        " Finish the stragglers live: a request its provider batch did not answer \
                         (expired, errored) is sent live at once, at live price, instead of \
                         waiting for another round"
                    </label>
                </div>
            }
        })}
        <div class="field-row batch-pair">
            <ReusePolicySelect id="batch-reuse" name="batch-reuse-policy" value=reuse/>
        </div>
        {move || parsed_concurrency.get().err().map(|e| view! { <ErrorText message=e.to_string()/> })}
        {move || {
            let servers = http1_servers.get();
            (!servers.is_empty()).then(|| {
                let names = servers
                    .iter()
                    .map(|s| format!("{} ({})", s.provider, s.base_url))
                    .collect::<Vec<_>>()
                    .join(", ");
                // A hint, not a problem: the batch runs as asked, only no faster than
                // HTTP1_CONNECTIONS_PER_HOST calls at a time to each of these servers.
                view! {
                    <p class="msg msg-warning batch-http1-hint" role="note" data-testid="batch-http1-hint">
                        <span>{format!(
                            "Over plain http:// (HTTP/1.1) the browser opens at most {HTTP1_CONNECTIONS_PER_HOST} connections to a server, so calls to {names} beyond {HTTP1_CONNECTIONS_PER_HOST} at a time wait in the browser's queue. Servers on https:// (HTTP/2) have no such limit."
                        )}</span>
                    </p>
                }
            })
        }}
        {move || {
            let n = config_problems.get();
            (n > 0).then(|| view! {
                <div class="run-config-problem">
                    <ErrorText message=format!(
                        "The configuration has {}. Fix {} on the Configure page before starting a batch.",
                        count_of(n, "problem", "problems"),
                        if n == 1 { "it" } else { "them" },
                    )/>
                    <a class="btn btn-sm" href="/configure">"Open Configure"</a>
                </div>
            })
        }}
        <div class="batch-forecast" data-testid="batch-forecast">
            {move || match forecast_view.get() {
                None => "Forecasting the cost…".to_string(),
                Some(Err(e)) => format!("No forecast: {e}"),
                Some(Ok(ForecastOutcome::Ready(f))) => format!(
                    "Forecast for {}: {} (median), {} (90th percentile), from {} per problem at the median; based on {} earlier run{} of this config.",
                    count_of(f.problems, "problem", "problems"),
                    dollars(Some(f.total_median)),
                    dollars(Some(f.total_p90)),
                    dollars(Some(f.per_problem_median)),
                    f.samples,
                    plural(f.samples),
                ),
                Some(Ok(ForecastOutcome::NoHistory { config_hash })) => format!(
                    "No earlier run of this config ({config_hash}) to forecast the cost from: run a pilot of {PILOT_PROBLEMS} problems first."
                ),
                Some(Ok(ForecastOutcome::Unpriced { config_hash, runs })) => format!(
                    "{} of this config ({config_hash}) but no known price for its models, so the cost cannot be forecast; add prices in Settings.",
                    count_of(runs, "earlier run", "earlier runs"),
                ),
            }}
            {move || (engine.get() == BatchEngine::ProviderBatch).then(|| view! {
                <ProviderBatchForecast
                    config=Signal::derive(move || check.with(|c| c.config.clone()))
                    modes=modes.into()
                    hashes=hashes.into()
                    problems=count
                />
            })}
        </div>
        {move || start_error.get().map(|message| view! { <ErrorText message=message/> })}
        <div class="btn-group">
            <button
                type="button"
                class="btn btn-primary"
                data-testid="batch-start"
                disabled=move || batch.busy.get() || !batch.ready() || count.get() == 0
                    || parsed_concurrency.with(Result::is_err)
                on:click=move |_| launch(None)
            >
                {move || if batch.ready() {
                    format!("Start batch ({})", count_of(count.get(), "problem", "problems"))
                } else {
                    "Opening the run store…".to_string()
                }}
            </button>
            <button
                type="button"
                class="btn"
                data-testid="batch-pilot"
                disabled=move || batch.busy.get() || !batch.ready() || count.get() == 0
                    || parsed_concurrency.with(Result::is_err)
                title="Run the first few selected problems, then forecast the rest from them"
                on:click=move |_| launch_pilot(Some(PILOT_PROBLEMS))
            >
                {format!("Run a pilot of {PILOT_PROBLEMS}")}
            </button>
        </div>
        <p class="muted batch-mode-note">
            {move || match modes.get() {
                BatchModes::Both => format!("Each problem runs as {} and {}.", Mode::Debate.as_str(), Mode::Baseline.as_str()),
                _ => String::new(),
            }}
        </p>
    }
}

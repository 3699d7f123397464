//! `/experiments`: one dataset run with several configs (the Configure page's config with one
//! field varied, or saved configs), its cost forecast, the results matrix and scatter, every
//! pair compared on shared problems, any two stored batches compared the same way, two runs
//! side by side, and exports.

use std::collections::HashSet;

use leptos::prelude::*;

use crate::app::batch::format::parse_concurrency;
use crate::app::experiment::{pick_saved, vary, SavedEntry, VARIABLE_FIELDS};
use crate::core::batch::BatchEngine;
use crate::core::experiment::{Arm, Experiment, ExperimentPlan, ExperimentStatus};
use crate::ui::batch::session::BatchSession;
use crate::ui::config_form::ConfigForm;
use crate::ui::experiments::compare::CompareBatches;
use crate::ui::experiments::forecast::ExperimentForecastView;
use crate::ui::experiments::results::{matrix_of, stored_experiments, MatrixView};
use crate::ui::experiments::rounds::{take_up_if_at_provider, ExperimentRoundsPanel};
use crate::ui::experiments::run_compare::{provide_run_compare, RunComparePanel};
use crate::ui::experiments::session::experiment_session;
use crate::ui::provider_state::ProviderState;
use crate::ui::saved_configs;
use crate::ui::store::SharedStore;

/// The Experiments page.
#[component]
pub fn ExperimentsPage() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let session = experiment_session();
    let batches = expect_context::<BatchSession>();
    provide_run_compare();
    let experiments = LocalResource::new(move || {
        let _ = session.changed.get();
        // Read again once the start-up check has marked what a closed tab left running.
        batches.startup.track();
        async move {
            let store = store.open().await.map_err(|e| e.to_string())?;
            stored_experiments(&store).await.map_err(|e| e.to_string())
        }
    });
    view! {
        <div class="page-head">
            <div>
                <h1>"Experiments"</h1>
                <p class="lede">
                    "Run one dataset with several configs — the Configure page's config with one "
                    "field varied, or saved configs — and compare them on the same problems: accuracy with its "
                    "interval, cost, and for every pair the problems only one got right and "
                    "whether the difference is real. Each config runs as a batch, saved as it "
                    "goes; a closed tab loses nothing saved, and the experiment can be resumed."
                </p>
            </div>
        </div>
        <NewExperiment experiments/>
        <Shown experiments/>
        <RunComparePanel/>
        <CompareBatches changed=session.changed/>
    }
}

type Experiments = LocalResource<Result<Vec<Experiment>, String>>;

/// The form: dataset, field, values, concurrency, Start.
#[component]
fn NewExperiment(experiments: Experiments) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let form = expect_context::<ConfigForm>();
    let providers = expect_context::<ProviderState>();
    let session = experiment_session();
    let check = form.check();
    let datasets = LocalResource::new(move || async move {
        let store = store.open().await.map_err(|e| e.to_string())?;
        store.list_datasets().await.map_err(|e| e.to_string())
    });
    let dataset = RwSignal::new(String::new());
    let field = RwSignal::new(VARIABLE_FIELDS[0].to_string());
    let values = RwSignal::new(String::new());
    let concurrency = RwSignal::new("2".to_string());
    let engine = RwSignal::new(BatchEngine::Live);
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    // Where the configs come from: `vary` (the base config, one field varied) or `saved`.
    let source = RwSignal::new("vary".to_string());
    let picked = RwSignal::new(Vec::<String>::new());
    let saved = RwSignal::new(saved_entries());
    let arms = Memo::new(move |_| -> Result<Vec<Arm>, String> {
        if source.get() == "saved" {
            return saved.with(|entries| match entries {
                Ok(entries) => picked.with(|p| pick_saved(entries, p)),
                Err(e) => Err(e.clone()),
            });
        }
        let (errors, config) = check.with(|c| (c.errors.len(), c.config.clone()));
        if errors > 0 {
            return Err(format!(
                "The base config has {errors} problem(s) on the Configure page; fix it there first."
            ));
        }
        vary(&config, &field.get(), &values.get()).map_err(|e| e.to_string())
    });
    let problem_count = Signal::derive(move || {
        let id = dataset.get();
        datasets.with(|d| {
            d.as_ref()
                .and_then(|d| d.as_ref().ok())
                .and_then(|list| list.iter().find(|s| s.dataset_id == id))
                .map(|s| s.problem_count)
        })
    });

    let start = move |_| {
        problem.set(None);
        let fail = |message: String| problem.set(Some(message));
        let dataset_id = dataset.get_untracked();
        let Some(summary) = datasets.with_untracked(|d| {
            d.as_ref()
                .and_then(|d| d.as_ref().ok())
                .and_then(|list| list.iter().find(|s| s.dataset_id == dataset_id).cloned())
        }) else {
            return fail("Pick a dataset first (import one on the Batch page).".to_string());
        };
        let engine = engine.get_untracked();
        let concurrency = match (engine, parse_concurrency(&concurrency.get_untracked())) {
            (_, Ok(c)) => c,
            // In rounds every item is in flight; the field does not apply.
            (BatchEngine::ProviderBatch, Err(_)) => 1,
            (BatchEngine::Live, Err(e)) => return fail(e.to_string()),
        };
        let varied_field = (source.get_untracked() != "saved").then(|| field.get_untracked());
        let arms = match arms.get_untracked() {
            Ok(arms) => arms,
            Err(e) => return fail(e),
        };
        let taken: HashSet<String> = experiments.with_untracked(|e| {
            e.as_ref()
                .and_then(|e| e.as_ref().ok())
                .map(|list| list.iter().map(|x| x.experiment_id.clone()).collect())
                .unwrap_or_default()
        });
        let typed = name.get_untracked();
        let registry = providers.registry().get_untracked();
        leptos::task::spawn_local(async move {
            let loaded = async {
                let store = store.open().await.map_err(|e| e.to_string())?;
                store
                    .get_dataset(&summary.dataset_id)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| {
                        format!(
                            "the dataset {} is no longer stored; import it again",
                            summary.name
                        )
                    })
            }
            .await;
            let stored = match loaded {
                Ok(stored) => stored,
                Err(e) => return problem.set(Some(e)),
            };
            let plan = ExperimentPlan {
                name: if typed.trim().is_empty() {
                    match &varied_field {
                        Some(field_path) => format!("{} by {field_path}", summary.name),
                        None => format!("{} by saved config", summary.name),
                    }
                } else {
                    typed.trim().to_string()
                },
                dataset_id: summary.dataset_id.clone(),
                dataset_name: summary.name.clone(),
                problem_ids: stored.problems.iter().map(|p| p.id.clone()).collect(),
                concurrency,
                varied_field,
                arms,
                engine,
            };
            if let Err(e) = plan.check(&registry.custom_ids()) {
                return problem.set(Some(e.to_string()));
            }
            if let Err(e) = session.start(plan, registry, taken) {
                problem.set(Some(e));
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="experiment-new-title">
            <h2 id="experiment-new-title">"New experiment"</h2>
            <div class="form-grid">
                <label>
                    "Dataset"
                    <select data-testid="experiment-dataset" on:change=move |ev| dataset.set(event_target_value(&ev))>
                        <option value="">"Pick a dataset"</option>
                        {move || datasets.get().and_then(Result::ok).map(|list| {
                            list.into_iter().map(|s| {
                                let selected = dataset.with_untracked(|d| *d == s.dataset_id);
                                view! { <option value=s.dataset_id.clone() selected=selected>{s.name.clone()}</option> }
                            }).collect_view()
                        })}
                    </select>
                </label>
                <label>
                    "Configs"
                    <select data-testid="experiment-config-source" on:change=move |ev| source.set(event_target_value(&ev))>
                        <option value="vary">"The Configure page's config, one field varied"</option>
                        <option value="saved">"Saved configs"</option>
                    </select>
                </label>
                <label hidden=move || source.get() == "saved">
                    "Field to vary"
                    <select data-testid="experiment-vary-field" on:change=move |ev| field.set(event_target_value(&ev))>
                        {VARIABLE_FIELDS.iter().map(|f| view! { <option value=*f>{*f}</option> }).collect_view()}
                    </select>
                </label>
                <label hidden=move || source.get() == "saved">
                    "Values, one per line (one config each; write a line break inside a value as \\n)"
                    <textarea
                        data-testid="experiment-vary-values"
                        rows="4"
                        prop:value=move || values.get()
                        on:input=move |ev| values.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <fieldset class="experiment-saved-picks" hidden=move || source.get() != "saved">
                    <legend>"Saved configs to compare (two or more)"</legend>
                    {move || saved.with(|entries| match entries {
                        Err(e) => view! { <p class="msg msg-error" role="alert">{e.clone()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No saved config yet: save configs on the Configure page first."</p>
                        }.into_any(),
                        Ok(list) => list.iter().map(|(entry_name, _)| {
                            let entry_name = entry_name.clone();
                            let toggled = entry_name.clone();
                            view! {
                                <label class="check">
                                    <input
                                        type="checkbox"
                                        data-testid="experiment-config-pick"
                                        value=entry_name.clone()
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            picked.update(|p| {
                                                p.retain(|n| n != &toggled);
                                                if on {
                                                    p.push(toggled.clone());
                                                }
                                            });
                                        }
                                    />
                                    {entry_name}
                                </label>
                            }
                        }).collect_view().into_any(),
                    })}
                    <button type="button" class="btn-sm" on:click=move |_| saved.set(saved_entries())>"Read the saved list again"</button>
                </fieldset>
                <label>
                    "Engine"
                    <select
                        data-testid="batch-engine"
                        on:change=move |ev| {
                            engine.set(BatchEngine::from_name(&event_target_value(&ev)).unwrap_or_default())
                        }
                    >
                        <option value="live" selected=move || engine.get() == BatchEngine::Live>
                            "Live: call the providers one by one"
                        </option>
                        <option value="provider-batch" selected=move || engine.get() == BatchEngine::ProviderBatch>
                            "Provider batch: half price, in rounds, within 24 h"
                        </option>
                    </select>
                </label>
                <label hidden=move || engine.get() == BatchEngine::ProviderBatch>
                    "Runs at once"
                    <input
                        data-testid="experiment-concurrency"
                        inputmode="numeric"
                        prop:value=move || concurrency.get()
                        on:input=move |ev| concurrency.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Name (optional)"
                    <input prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
            </div>
            <p class="muted">
                "The configs run one after another, each as a batch of every problem of the "
                "dataset under the base config's batch budget; replies a config already paid "
                "for are reused where the reply store allows."
            </p>
            {move || (engine.get() == BatchEngine::ProviderBatch).then(|| view! {
                <p class="muted" data-testid="experiment-engine-note">
                    "Every problem of every config goes into each round, sent through the "
                    "providers' batch APIs (providers without one are called live). A debate needs "
                    "one round per turn, so a run of several iterations takes several turnarounds. "
                    "Turns the configs share go up once."
                </p>
            })}
            <ExperimentForecastView arms=arms problems=problem_count engine=engine/>
            <button
                type="button"
                class="btn-primary"
                data-testid="experiment-start"
                disabled=move || session.busy.get()
                on:click=start
            >"Start experiment"</button>
            {move || problem.get().map(|e| view! { <p class="msg msg-error" role="alert">{e}</p> })}
        </section>
    }
}

/// The saved configs as (name, config read back or why not), in the saved list's order.
fn saved_entries() -> Result<Vec<SavedEntry>, String> {
    let list = saved_configs::list().map_err(|e| e.to_string())?;
    Ok(list
        .into_iter()
        .map(|entry| {
            let config = entry.config().map_err(|e| e.to_string());
            (entry.name, config)
        })
        .collect())
}

/// The experiment shown (the one going, else the newest), its status, and the list.
#[component]
fn Shown(experiments: Experiments) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let form = expect_context::<ConfigForm>();
    let providers = expect_context::<ProviderState>();
    let session = experiment_session();
    let check = form.check();
    let current = Memo::new(move |_| {
        let list = experiments.get().and_then(Result::ok)?;
        let wanted = session.shown.get();
        match wanted {
            Some(id) => list.into_iter().find(|e| e.experiment_id == id),
            None => list.into_iter().next(),
        }
    });
    // An experiment in provider batch mode that a closed tab cut off goes on by itself.
    let taken_up = StoredValue::new(std::collections::HashSet::<String>::new());
    Effect::new(move |_| {
        if let Some(experiment) = current.get() {
            let budget = check.with_untracked(|c| c.config.batch_budget_usd);
            take_up_if_at_provider(&experiment, store, providers, budget, taken_up);
        }
    });
    let matrix = LocalResource::new(move || {
        let experiment = current.get();
        async move {
            let Some(experiment) = experiment else {
                return Ok(None);
            };
            let store = store.open().await.map_err(|e| e.to_string())?;
            matrix_of(&store, &experiment).await.map(Some)
        }
    });
    let status = move || {
        if session.busy.get() {
            return "running".to_string();
        }
        match current.get() {
            Some(_) if session.error.with(Option::is_some) => ExperimentStatus::Failed.to_string(),
            Some(e) => e.status().to_string(),
            None => String::new(),
        }
    };
    let resume = move |_| {
        let Some(experiment) = current.get_untracked() else {
            return;
        };
        let budget = check.with_untracked(|c| c.config.batch_budget_usd);
        if let Err(e) = session.resume(experiment, providers.registry().get_untracked(), budget) {
            session.error.set(Some(e));
        }
    };
    let can_resume =
        move || !session.busy.get() && current.get().is_some_and(|e| e.status().can_resume());
    let list = move || {
        experiments.get().map(|r| match r {
            Err(e) => view! { <p class="msg msg-error" role="alert">{e}</p> }.into_any(),
            Ok(list) if list.is_empty() => view! { <p class="muted">"No experiment yet."</p> }.into_any(),
            Ok(list) => view! {
                <ul class="experiment-list">
                    {list.into_iter().map(|e| {
                        let id = e.experiment_id.clone();
                        let label = format!("{} — {} configs — {}", e.name, e.arms, e.status());
                        view! {
                            <li>
                                <button type="button" class="link-button" on:click=move |_| session.shown.set(Some(id.clone()))>{label}</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any(),
        })
    };
    view! {
        <section class="card" aria-labelledby="experiment-shown-title">
            <h2 id="experiment-shown-title">
                {move || current.get().map_or_else(|| "Experiment".to_string(), |e| e.name.clone())}
            </h2>
            <p>
                "Status: " <strong data-testid="experiment-status">{status}</strong>
            </p>
            <div class="button-row">
                <button type="button" data-testid="experiment-resume" disabled=move || !can_resume() on:click=resume>
                    "Resume"
                </button>
                <button type="button" data-testid="experiment-cancel" disabled=move || !session.busy.get() on:click=move |_| session.cancel()>
                    "Cancel"
                </button>
            </div>
            <ExperimentRoundsPanel experiment=current/>
            {move || session.error.get().map(|e| view! { <p class="msg msg-error" role="alert">{e}</p> })}
        </section>
        <Transition fallback=|| view! { <p class="muted">"Reading the results…"</p> }>
            {move || matrix.get().map(|m| match m {
                Ok(Some((matrix, run_ids))) => view! { <MatrixView matrix run_ids/> }.into_any(),
                Ok(None) => ().into_any(),
                Err(e) => view! { <p class="msg msg-error" role="alert">{e}</p> }.into_any(),
            })}
        </Transition>
        <section class="card" aria-labelledby="experiment-list-title">
            <h2 id="experiment-list-title">"Stored experiments"</h2>
            {list}
        </section>
    }
}

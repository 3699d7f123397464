//! `/run`: one problem through the solver → verifier → judge loop, live.

use leptos::prelude::*;

use crate::app::format::plural;
use crate::app::run::table::mode_named;
use crate::core::config::Mode;
use crate::core::cost_views::next_call_reservation;
use crate::core::trajectory::TrajectoryEntry;
use crate::core::trajectory::{RunRecord, RunStatus};
use crate::ui::components::notice::{ErrorText, WarningText};
use crate::ui::components::reuse_policy::ReusePolicySelect;
use crate::ui::config_form::ConfigForm;
use crate::ui::costs::budget::RunBudget;
use crate::ui::costs::unaccounted::Unaccounted;
use crate::ui::prices::PricingState;
use crate::ui::provider_state::{preconnect_to_agents, ProviderState};
use crate::ui::run::actions::{DownloadRunButton, ResumeButton, RunCost};
use crate::ui::run::sent::ShownRunConfig;
use crate::ui::run::session::{RunSession, StartRequest, Startup};
use crate::ui::run::summary::{StatusBadge, SummaryPanel};
use crate::ui::run::transcript::Transcript;

/// Set when a run was started from the form: the run's status takes the focus once it is
/// shown, since the Start button it was on is disabled while the run goes (which would drop
/// the focus to the page's body).
#[derive(Debug, Clone, Copy)]
struct FocusStatus(RwSignal<bool>);

/// The Run page.
#[component]
pub fn RunPage() -> impl IntoView {
    provide_context(FocusStatus(RwSignal::new(false)));
    view! {
        <div class="page-head">
            <div>
                <h1>"Run"</h1>
                <p class="lede">
                    "One problem through the loop with the config from the Configure page. Every "
                    "step is saved in this browser as soon as it is made, so a closed tab loses "
                    "at most the call in flight."
                </p>
            </div>
        </div>
        <InterruptedNotice/>
        <div class="run-layout">
            <StartForm/>
            <LiveRun/>
        </div>
    }
}

/// Runs the startup check found cut off by a closed tab, with links to resume them.
#[component]
fn InterruptedNotice() -> impl IntoView {
    let session = expect_context::<RunSession>();
    move || match session.startup.get() {
        Startup::Done(ids) if !ids.is_empty() => {
            let n = ids.len();
            let links = ids
                .into_iter()
                .map(|id| {
                    view! { <li><a href=format!("/runs/{id}") class="mono">{id.clone()}</a></li> }
                })
                .collect_view();
            Some(
                view! {
                    <section class="card run-interrupted" aria-label="Interrupted runs">
                        <p>
                            {if n == 1 {
                                "A run was cut off when this page was last closed or reloaded. Its saved steps are kept; open it to resume:".to_string()
                            } else {
                                format!("{n} runs were cut off when this page was last closed or reloaded. Their saved steps are kept; open one to resume it:")
                            }}
                        </p>
                        <ul class="run-links">{links}</ul>
                    </section>
                }
                .into_any(),
            )
        }
        Startup::Failed(message) => Some(
            view! {
                <WarningText message=format!(
                    "Runs cannot be saved right now: {message}"
                )/>
            }
            .into_any(),
        ),
        _ => None,
    }
}

/// The problem, the ground truth, the mode, and Start / Cancel.
#[component]
fn StartForm() -> impl IntoView {
    let session = expect_context::<RunSession>();
    let form = expect_context::<ConfigForm>();
    let providers = expect_context::<ProviderState>();
    let check = form.check();
    preconnect_to_agents(check, providers);
    let config_mode = Signal::derive(move || check.with(|c| c.config.mode));
    let mode = Signal::derive(move || session.draft_mode.get().unwrap_or(config_mode.get()));
    let problems = Signal::derive(move || check.with(|c| c.errors.len()));
    let start_error = RwSignal::new(None::<String>);
    let ready = Signal::derive(move || session.startup.with(|s| *s != Startup::Pending));
    let focus_status = expect_context::<FocusStatus>().0;

    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = StartRequest {
            config: check.with_untracked(|c| c.config.clone()),
            mode: mode.get_untracked(),
            registry: providers.registry().get_untracked(),
            problem: session.draft_problem.get_untracked(),
            ground_truth: session.draft_truth.get_untracked(),
            reuse_policy: session.draft_reuse.get_untracked(),
        };
        let invalid = problems.get_untracked();
        let result = if invalid > 0 {
            Err(crate::core::driver::StartError::InvalidConfig { count: invalid })
        } else {
            session.start(request)
        };
        focus_status.set(result.is_ok());
        start_error.set(result.err().map(|e| e.to_string()));
    };

    view! {
        <form class="card run-form" aria-label="Start a run" on:submit=start>
            <ConfigLine/>
            <div class="field">
                <label for="run-problem">"Problem"</label>
                <textarea
                    id="run-problem"
                    class="input tall"
                    name="problem"
                    data-testid="problem-input"
                    rows="6"
                    placeholder="What is the sum of the first 100 positive integers?"
                    prop:value=move || session.draft_problem.get()
                    on:input=move |ev| session.draft_problem.set(event_target_value(&ev))
                ></textarea>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="run-truth">
                        "Ground truth " <span class="field-hint">"optional: the expected final answer"</span>
                    </label>
                    <input
                        id="run-truth"
                        class="input"
                        name="ground_truth"
                        data-testid="ground-truth-input"
                        placeholder="5050"
                        prop:value=move || session.draft_truth.get()
                        on:input=move |ev| session.draft_truth.set(event_target_value(&ev))
                    />
                </div>
                <div class="field">
                    <label for="run-mode">"Mode"</label>
                    <select
                        id="run-mode"
                        class="input"
                        name="run_mode"
                        prop:value=move || mode.get().as_str()
                        on:change=move |ev| {
                            let chosen = mode_named(&event_target_value(&ev));
                            // Choosing the config's own mode follows it again.
                            session.draft_mode.set(chosen.filter(|m| *m != config_mode.get_untracked()));
                        }
                    >
                        <option value=Mode::Debate.as_str()>"debate"</option>
                        <option value=Mode::Baseline.as_str()>"baseline"</option>
                    </select>
                </div>
                <ReusePolicySelect id="run-reuse" name="run-reuse-policy" value=session.draft_reuse/>
            </div>
            {move || {
                let n = problems.get();
                (n > 0).then(|| view! {
                    <div class="run-config-problem">
                        <ErrorText message=format!(
                            "The configuration has {n} problem{}. Fix {} on the Configure page before starting a run.",
                            plural(n),
                            if n == 1 { "it" } else { "them" },
                        )/>
                        <a class="btn btn-sm" href="/configure">"Open Configure"</a>
                    </div>
                })
            }}
            {move || start_error.get().map(|message| view! { <ErrorText message=message/> })}
            <div class="btn-group">
                <button
                    type="submit"
                    class="btn btn-primary"
                    data-testid="run-start"
                    disabled=move || session.busy.get() || !ready.get()
                >
                    {move || if ready.get() { "Start run" } else { "Opening the run store…" }}
                </button>
                <button
                    type="button"
                    class="btn btn-danger"
                    data-testid="run-cancel"
                    disabled=move || !session.busy.get()
                    on:click=move |_| session.cancel()
                >
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

/// Which config a new run would use: its hash, mode and models. The hash is the last valid
/// form's, so while the form has problems it is marked stale.
#[component]
fn ConfigLine() -> impl IntoView {
    let form = expect_context::<ConfigForm>();
    let check = form.check();
    let hash = form.hash();
    let stale = move || !check.with(|c| c.is_valid());
    let models = move || {
        check.with(|c| {
            let c = &c.config;
            format!(
                "solver {} · verifier {} · judge {}",
                c.solver.model, c.verifier.model, c.judge.model
            )
        })
    };
    view! {
        <p class="run-config muted">
            "Config " <code data-testid="run-config-hash">{move || hash.get()}</code>
            {move || stale().then(|| view! {
                <span class="run-config-stale" data-testid="run-config-stale">
                    " (stale: the last valid form; the form has problems now)"
                </span>
            })}
            " · " {models} " · "
            <a href="/configure">"change"</a>
        </p>
    }
}

/// The run being shown: its status bar, summary and transcript.
#[component]
fn LiveRun() -> impl IntoView {
    let session = expect_context::<RunSession>();
    provide_context(ShownRunConfig::new(move || {
        session
            .record
            .with(|r| r.as_ref().and_then(|r| r.config.clone()))
    }));
    let has_run =
        move || session.record.with(|r| r.is_some()) || !session.steps.with(Vec::is_empty);
    view! {
        {move || session.error.get().map(|message| view! { <ErrorText message=message/> })}
        <Show when=has_run>
            <RunBar/>
            {move || session.summary.get().map(|s| view! { <SummaryPanel summary=s/> })}
            <Transcript steps=session.steps page="run"/>
        </Show>
    }
}

/// Run id, status, cost and the actions of the run being shown.
#[component]
fn RunBar() -> impl IntoView {
    let session = expect_context::<RunSession>();
    let record = session.record;
    // Memos, not derived signals: the record is replaced on every saved step, and only what
    // changed (the step count, the cost) should be drawn again, not the whole bar.
    let run_id = Memo::new(move |_| {
        record.with(|r| r.as_ref().map(|r| r.run_id.clone()).unwrap_or_default())
    });
    let status =
        Memo::new(move |_| record.with(|r| r.as_ref().map_or(RunStatus::Running, |r| r.status)));
    let resumable =
        Memo::new(move |_| record.with(|r| r.as_ref().is_some_and(RunRecord::resumable)));
    let cost = Memo::new(move |_| record.with(|r| r.as_ref().and_then(|r| r.cost_usd)));
    let complete = Memo::new(move |_| record.with(|r| r.as_ref().is_none_or(|r| r.cost_complete)));
    let steps = Memo::new(move |_| record.with(|r| r.as_ref().map_or(0, |r| r.step_count)));
    let unaccounted =
        Memo::new(move |_| record.with(|r| r.as_ref().map_or(0.0, |r| r.possibly_billed_usd)));
    // What the next call reserves, read again as steps are stored.
    let reservation = RwSignal::new(None::<f64>);
    let pricer = expect_context::<PricingState>().pricer();
    let budgeted = Memo::new(move |_| {
        record.with(|r| {
            r.as_ref()
                .and_then(|r| r.config.as_ref())
                .is_some_and(|c| c.run_budget_usd.is_some())
        })
    });
    Effect::new(move |_| {
        // Without a run budget there is nothing to reserve: the steps are not read (nor
        // copied) as each one comes in.
        if !budgeted.get() {
            reservation.set(None);
            return;
        }
        let next = pricer.get().and_then(|p| {
            let entries: Vec<TrajectoryEntry> = session.steps.with(|slots| {
                slots
                    .iter()
                    .filter_map(|slot| slot.view.with(|v| v.entry().cloned()))
                    .collect()
            });
            record.with(|r| {
                r.as_ref()
                    .and_then(|r| next_call_reservation(r, &entries, p))
            })
        });
        reservation.set(next);
    });
    let focus_status = expect_context::<FocusStatus>().0;
    let status_node = NodeRef::<leptos::html::Span>::new();
    Effect::new(move |_| {
        if focus_status.get() {
            if let Some(node) = status_node.get() {
                let _ = node.focus();
                focus_status.set(false);
            }
        }
    });
    // The run's own config, which may not be the form's: the form can change while a run is
    // shown, and a resumed run keeps the config it started with.
    let own_config = Memo::new(move |_| {
        record.with(|r| {
            r.as_ref().map(|r| {
                let models = r.config.as_ref().map(|c| {
                    format!(
                        "solver {} · verifier {} · judge {}",
                        c.solver.model, c.verifier.model, c.judge.model
                    )
                });
                (r.config_hash.clone(), models)
            })
        })
    });
    view! {
        <section class="card run-bar" aria-label="Current run">
            <div class="run-bar-main">
                <span class="run-status-focus" tabindex="-1" node_ref=status_node>
                    <StatusBadge status=status/>
                </span>
                {move || {
                    let id = run_id.get();
                    (!id.is_empty()).then(|| view! {
                        <a class="mono run-id" data-testid="run-id" href=format!("/runs/{id}")>{id.clone()}</a>
                    })
                }}
                <span class="muted">{move || format!("{} steps saved", steps.get())}</span>
                <RunCost cost=cost complete=complete/>
                <Unaccounted usd=unaccounted test_id="run-unaccounted"/>
            </div>
            <RunBudget record=record reservation=reservation/>
            {move || own_config.get().map(|(hash, models)| view! {
                <p class="run-config muted">
                    "This run's config " <code data-testid="run-own-config-hash">{hash}</code>
                    {models.map(|m| view! { " · " {m} })}
                </p>
            })}
            <div class="btn-group">
                <ResumeButton run_id=run_id resumable=resumable/>
                <DownloadRunButton
                    run_id=run_id
                    disabled=Signal::derive(move || session.busy.get() || steps.get() == 0)
                />
            </div>
        </section>
    }
}

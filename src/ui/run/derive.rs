//! The run page's fork, re-judge and re-grade controls. Fork and re-judge open the run's stored
//! config for editing and hand the new run to the session (it goes on the Run page, like a
//! replay); re-grade checks the stored answer again in place and stores nothing.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::app::config_draft::{self, FieldKind};
use crate::app::run::derive::{
    draft_texts, edited_config, field_label, regrade_text, FORK_FIELDS, REJUDGE_FIELDS,
};
use crate::core::config::PipelineConfig;
use crate::core::regrade::{regrade_run, verdict_word, Regrade};
use crate::core::trajectory::{RunRecord, TrajectoryEntry};
use crate::ui::provider_state::ProviderState;

use super::session::RunSession;

/// What the run page is deriving from the run it shows, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derive {
    /// A fork going live from this step.
    Fork {
        /// The first step called live.
        at_step: u64,
    },
    /// A re-judge.
    Rejudge,
}

/// The open fork or re-judge panel of the run page (a context value: steps open it with
/// their `run-fork` button; absent where a run cannot be forked).
#[derive(Debug, Clone, Copy)]
pub struct DeriveOpen(pub RwSignal<Option<Derive>>);

/// The fork button of a step (`data-testid="run-fork"`, `data-step-id`): shown on the run
/// page of a run that has its config.
#[component]
pub fn ForkButton(
    /// The step the fork goes live from.
    step_id: u64,
) -> impl IntoView {
    let open = use_context::<DeriveOpen>();
    let session = expect_context::<RunSession>();
    open.map(|open| {
        view! {
            <button
                type="button"
                class="btn btn-sm"
                data-testid="run-fork"
                data-step-id=step_id
                disabled=move || session.busy.get()
                title="Start a new run from here: the steps before this one are carried over, this one and the rest are called with a config you edit"
                on:click=move |_| open.0.set(Some(Derive::Fork { at_step: step_id }))
            >
                "Fork here"
            </button>
        }
    })
}

/// The config editor of a fork (`data-testid="fork-panel"`) or re-judge
/// (`data-testid="rejudge-panel"`), prefilled with the run's stored config; its continue button
/// (`fork-continue`, `rejudge-continue`) starts the new run and shows it on the Run page.
#[component]
pub fn DerivePanel(
    /// The source run.
    run_id: String,
    /// Its stored config.
    base: PipelineConfig,
    /// What is derived.
    derive: Derive,
) -> impl IntoView {
    let session = expect_context::<RunSession>();
    let providers = expect_context::<ProviderState>();
    let open = expect_context::<DeriveOpen>();
    let navigate = use_navigate();
    let paths = match derive {
        Derive::Fork { .. } => FORK_FIELDS,
        Derive::Rejudge => REJUDGE_FIELDS,
    };
    let fields: Vec<(&'static str, RwSignal<String>)> = draft_texts(&base, paths)
        .into_iter()
        .map(|(path, text)| (path, RwSignal::new(text)))
        .collect();
    let errors = RwSignal::new(Vec::<String>::new());
    let (testid, continue_id, title, action) = match derive {
        Derive::Fork { at_step } => (
            "fork-panel",
            "fork-continue",
            format!(
                "Fork at step {at_step}: steps before it are carried over, the rest is called live"
            ),
            "Fork and run",
        ),
        Derive::Rejudge => (
            "rejudge-panel",
            "rejudge-continue",
            "Judge again: every step but the judge's is carried over, only the judge is called"
                .to_string(),
            "Judge again",
        ),
    };
    let at_step = match derive {
        Derive::Fork { at_step } => Some(at_step),
        Derive::Rejudge => None,
    };
    let go = {
        let fields = fields.clone();
        move |_| {
            let texts: Vec<(&'static str, String)> = fields
                .iter()
                .map(|(path, text)| (*path, text.get_untracked()))
                .collect();
            let registry = providers.registry().get_untracked();
            let config = match edited_config(&base, &texts, &registry) {
                Ok(config) => config,
                Err(problems) => {
                    errors.set(problems.iter().map(|e| e.to_string()).collect());
                    return;
                }
            };
            let started = match derive {
                Derive::Fork { at_step } => session.fork(run_id.clone(), at_step, config, registry),
                Derive::Rejudge => session.rejudge(run_id.clone(), config.judge, registry),
            };
            match started {
                Ok(()) => {
                    open.0.set(None);
                    navigate("/run", Default::default());
                }
                Err(e) => errors.set(vec![e.to_string()]),
            }
        }
    };
    let label = title.clone();
    view! {
        <section class="card derive-panel" data-testid=testid data-step-id=at_step aria-label=label>
            <h2>{title}</h2>
            <DeriveFields fields=fields/>
            {move || {
                let problems = errors.get();
                (!problems.is_empty()).then(|| view! {
                    <ul class="error-list" data-testid="derive-errors" role="alert">
                        {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                    </ul>
                })
            }}
            <div class="btn-group">
                <button type="button" class="btn btn-primary" data-testid=continue_id
                    disabled=move || session.busy.get()
                    on:click=go>{action}</button>
                <button type="button" class="btn" data-testid="derive-cancel"
                    on:click=move |_| open.0.set(None)>"Cancel"</button>
            </div>
        </section>
    }
}

/// Judge again (`data-testid="run-rejudge"`): opens the re-judge panel. Shown for a run whose
/// judge step is stored and that has its config.
#[component]
pub fn RejudgeButton() -> impl IntoView {
    let open = use_context::<DeriveOpen>();
    let session = expect_context::<RunSession>();
    open.map(|open| {
        view! {
            <button type="button" class="btn" data-testid="run-rejudge"
                disabled=move || session.busy.get()
                title="Judge this run again with another judge config, into a new run; only the judge is called"
                on:click=move |_| open.0.set(Some(Derive::Rejudge))>
                "Re-judge"
            </button>
        }
    })
}

/// Re-grade (`data-testid="run-regrade"`): the stored final answer checked again by the
/// current answer checker; the verdict is shown beside the stored one
/// (`data-testid="run-regrade-result"`, `data-was`, `data-now`: `correct`, `wrong` or
/// `ungraded`; `data-changed`). Nothing is called or stored.
#[component]
pub fn RegradeButton(
    /// The run.
    record: RunRecord,
    /// Its steps.
    entries: Vec<TrajectoryEntry>,
) -> impl IntoView {
    let result = RwSignal::new(None::<Regrade>);
    let grade = move |_| result.set(Some(regrade_run(&record, &entries)));
    view! {
        <button type="button" class="btn" data-testid="run-regrade"
            title="Check the final answer again with the current answer checker; nothing is called or stored"
            on:click=grade>"Re-grade"</button>
        {move || result.get().map(|r| view! {
            <p class="regrade-result" data-testid="run-regrade-result"
                data-was=verdict_word(r.was) data-now=verdict_word(r.now)
                data-changed=r.changed().to_string()>
                {regrade_text(&r)}
            </p>
        })}
    }
}

/// The editable config fields of a fork or re-judge (`data-testid="derive-field"`, `data-path`
/// the config path), each a text box or, for prompts and rubrics, a text area.
#[component]
pub fn DeriveFields(
    /// Each field's path and its text.
    fields: Vec<(&'static str, RwSignal<String>)>,
) -> impl IntoView {
    view! {
        <div class="derive-fields">
            {fields.into_iter().map(|(path, text)| {
                let multiline = config_draft::field(path)
                    .is_some_and(|f| f.kind == FieldKind::Multiline);
                let control = if multiline {
                    view! {
                        <textarea name=path data-testid="derive-field" data-path=path rows=3
                            prop:value=move || text.get()
                            on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    }.into_any()
                } else {
                    view! {
                        <input type="text" name=path data-testid="derive-field" data-path=path
                            prop:value=move || text.get()
                            on:input=move |ev| text.set(event_target_value(&ev))/>
                    }.into_any()
                };
                view! { <label class="field"><span>{field_label(path)}</span>{control}</label> }
            }).collect_view()}
        </div>
    }
}

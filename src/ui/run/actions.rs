//! The buttons a run offers wherever it is shown: download its trajectory, resume it, and its
//! cost as the `run-cost` hook reads it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::app::file_names::run_file_name;
use crate::app::format::cost_text;
use crate::core::trajectory::RunStatus;
use crate::ui::components::notice::ErrorText;
use crate::ui::config_form::ConfigForm;
use crate::ui::job::Job;
use crate::ui::provider_state::ProviderState;
use crate::ui::store::SharedStore;
use crate::web::idb::ExportFilter;

use super::export::download_runs;
use super::session::RunSession;

/// The run's cost as a plain number, or `unknown` (`data-testid="run-cost"`).
#[component]
pub fn RunCost(
    /// The cost in USD; `None` when unknown.
    #[prop(into)]
    cost: Signal<Option<f64>>,
    /// Whether every call was priced (else the number is a lower bound, said beside it).
    #[prop(into)]
    complete: Signal<bool>,
) -> impl IntoView {
    view! {
        <span class="run-cost">
            <span class="mono" data-testid="run-cost">{move || cost_text(cost.get())}</span>
            <span class="muted">" USD"</span>
            {move || (cost.get().is_some() && !complete.get()).then(|| view! {
                <span class="muted" title="some calls had no known price or reported no usage">
                    " (at least)"
                </span>
            })}
        </span>
    }
}

/// Downloads the run's steps as `<run_id>.jsonl` (`data-testid="run-download-jsonl"`).
#[component]
pub fn DownloadRunButton(
    /// The run.
    #[prop(into)]
    run_id: Signal<String>,
    /// Whether the button is disabled (no steps yet, or the run is going).
    #[prop(into, optional)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let download = Job::<Option<String>>::new();
    view! {
        <button
            type="button"
            class="btn"
            data-testid="run-download-jsonl"
            disabled=move || disabled.get() || download.going()
            on:click=move |_| {
                let id = run_id.get_untracked();
                download.run(async move {
                    download_runs(store, ExportFilter::Runs(vec![id.clone()]), &run_file_name(&id))
                        .await
                        .err()
                        .map(|e| e.to_string())
                });
            }
        >
            "Download JSONL"
        </button>
        {move || download.outcome().get().flatten().map(|message| view! { <ErrorText message=message/> })}
    }
}

/// Whether a run in `status` can be resumed from this tab: it stopped before the judge, and it
/// is not going (a stored `running` run is going in some tab; one a closed tab left behind was
/// marked `interrupted` when the app loaded).
pub fn can_resume(status: RunStatus) -> bool {
    status.is_resumable() && status != RunStatus::Running
}

/// Resumes a stopped run from its last committed step. Shown only while the run can be
/// resumed; disabled while another run is going.
#[component]
pub fn ResumeButton(
    /// The run.
    #[prop(into)]
    run_id: Signal<String>,
    /// Its stored status.
    #[prop(into)]
    status: Signal<RunStatus>,
    /// Open the run's page once it is resumed (from the runs table).
    #[prop(optional)]
    open_run: bool,
    /// Smaller button (table rows).
    #[prop(optional)]
    small: bool,
) -> impl IntoView {
    let session = expect_context::<RunSession>();
    let form = expect_context::<ConfigForm>();
    let providers = expect_context::<ProviderState>();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let resume = move |_| {
        let id = run_id.get_untracked();
        let current = form.valid_config().get_untracked();
        let registry = providers.registry().get_untracked();
        match session.resume(id.clone(), current, registry) {
            Ok(()) => {
                error.set(None);
                if open_run {
                    navigate(&format!("/runs/{id}"), Default::default());
                }
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let class = if small {
        "btn btn-sm"
    } else {
        "btn btn-primary"
    };
    view! {
        <Show when=move || can_resume(status.get()) && !session.is_running(&run_id.get())>
            <button
                type="button"
                class=class
                data-testid="run-resume"
                disabled=move || session.busy.get()
                title="Continue from the last saved step"
                on:click=resume.clone()
            >
                "Resume"
            </button>
        </Show>
        {move || error.get().map(|message| view! { <ErrorText message=message/> })}
    }
}

/// Replays the run into a new run from its stored replies (`data-testid="run-replay"`): the
/// same loop, no request sent, $0; the new run is shown live on the Run page. Offered for a
/// run that has its config and a step; disabled while another run is going.
#[component]
pub fn ReplayButton(
    /// The run.
    run_id: String,
    /// Whether it can be replayed (it has its config and at least one step).
    replayable: bool,
) -> impl IntoView {
    let session = expect_context::<RunSession>();
    let providers = expect_context::<ProviderState>();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let replay = move |_| {
        let registry = providers.registry().get_untracked();
        match session.replay(run_id.clone(), registry) {
            Ok(()) => {
                error.set(None);
                navigate("/run", Default::default());
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    view! {
        <Show when=move || replayable>
            <button
                type="button"
                class="btn"
                data-testid="run-replay"
                disabled=move || session.busy.get()
                title="Run the loop again into a new run, every reply from the reply store: nothing is sent or paid"
                on:click=replay.clone()
            >
                "Replay"
            </button>
        </Show>
        {move || error.get().map(|message| view! { <ErrorText message=message/> })}
    }
}

//! `/runs/:id`: one stored run — its summary and transcript, its JSONL, and Resume when it
//! stopped early. While the run is going in this tab the page follows it live.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::app::format::date_text;
use crate::app::run::derive::origin_text;
use crate::app::run::step::StepView;
use crate::app::run::summary::SummaryView;
use crate::core::text::excerpt;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};
use crate::ui::components::notice::ErrorText;
use crate::ui::costs::run_panel::RunCostPanel;
use crate::ui::costs::unaccounted::Unaccounted;
use crate::ui::job::Job;
use crate::ui::run::actions::{delete_run, DownloadRunButton, ReplayButton, ResumeButton, RunCost};
use crate::ui::run::derive::{DeriveOpen, DerivePanel, RegradeButton, RejudgeButton};
use crate::ui::run::sent::ShownRunConfig;
use crate::ui::run::session::RunSession;
use crate::ui::run::summary::{StatusBadge, SummaryPanel};
use crate::ui::run::transcript::{slots_of, Transcript};
use crate::ui::store::SharedStore;
use crate::web::idb::StoreError;

/// A stored run with its steps.
#[derive(Debug, Clone, PartialEq)]
struct Loaded {
    record: RunRecord,
    entries: Vec<TrajectoryEntry>,
}

async fn load(store: SharedStore, id: String) -> Result<Option<Loaded>, StoreError> {
    let store = store.open().await?;
    let Some(record) = store.get_run(&id).await? else {
        return Ok(None);
    };
    let entries = store.steps(&id).await?;
    Ok(Some(Loaded { record, entries }))
}

/// The run page.
#[component]
pub fn RunDetailPage() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let params = use_params_map();
    let session = expect_context::<RunSession>();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let live = Memo::new(move |_| session.run_id().is_some_and(|r| r == id.get()));
    let stored = LocalResource::new(move || {
        let id = id.get();
        // Reload when stored runs change (a resume that finished, a delete elsewhere), but
        // not on every step while this page shows the live session instead.
        let _ = session.runs_changed.get();
        async move { load(store, id).await }
    });

    view! {
        <div class="page-head">
            <div>
                <p class="crumbs"><a href="/runs">"Runs"</a> " / "</p>
                <h1 class="run-title"><code class="run-id">{move || id.get()}</code></h1>
            </div>
        </div>
        {move || {
            if live.get() {
                return view! { <LiveView/> }.into_any();
            }
            match stored.get() {
                None => view! { <p class="muted">"Loading the run…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorText message=e.to_string()/> }.into_any(),
                Some(Ok(None)) => view! {
                    <ErrorText message=format!(
                        "No run {} is stored in this browser (it may have been deleted, or it was made in another browser; import its JSONL on the Runs page).",
                        id.get()
                    )/>
                }
                .into_any(),
                Some(Ok(Some(loaded))) => view! { <StoredView loaded=loaded/> }.into_any(),
            }
        }}
        <RunCostPanel run_id=id stored_runs_changed=session.runs_changed/>
    }
}

/// The run as this tab's session shows it (going now, or just finished here).
#[component]
fn LiveView() -> impl IntoView {
    let session = expect_context::<RunSession>();
    let record = Signal::derive(move || session.record.get());
    provide_context(ShownRunConfig::new(move || {
        record.with(|r| r.as_ref().and_then(|r| r.config.clone()))
    }));
    let summary = Signal::derive(move || {
        session.summary.get().or_else(|| {
            session
                .record
                .with(|r| r.as_ref().map(SummaryView::of_record))
        })
    });
    view! {
        <div class="run-layout">
            {move || session.error.get().map(|message| view! { <ErrorText message=message/> })}
            {move || record.get().map(|r| view! { <RunHead record=r/> })}
            {move || summary.get().map(|s| view! { <SummaryPanel summary=s/> })}
            <Transcript steps=session.steps page="run-detail"/>
        </div>
    }
}

/// A run read from the store.
#[component]
fn StoredView(loaded: Loaded) -> impl IntoView {
    let entries = loaded.entries.clone();
    let steps: Vec<StepView> = loaded
        .entries
        .into_iter()
        .map(StepView::committed)
        .collect();
    let summary = SummaryView::of_record(&loaded.record);
    let config = loaded.record.config.clone();
    // Only a run with its config can be forked or judged again (an imported file has none).
    let open = RwSignal::new(None);
    if config.is_some() {
        provide_context(DeriveOpen(open));
    }
    let panel = {
        let (run_id, config) = (loaded.record.run_id.clone(), config.clone());
        move || {
            let (derive, base) = (open.get()?, config.clone()?);
            Some(view! { <DerivePanel run_id=run_id.clone() base=base derive=derive/> })
        }
    };
    let regrade = (loaded.record.clone(), entries);
    provide_context(ShownRunConfig(Signal::derive(move || config.clone())));
    view! {
        <div class="run-layout">
            <RunHead record=loaded.record/>
            <div class="btn-group run-derive">
                <RegradeButton record=regrade.0 entries=regrade.1/>
            </div>
            {panel}
            <SummaryPanel summary=summary/>
            {steps.is_empty().then(|| view! { <p class="muted">"No step of this run was saved."</p> })}
            <Transcript steps=slots_of(steps) page="run-detail"/>
        </div>
    }
}

/// Status, cost, facts and actions of the run.
#[component]
fn RunHead(record: RunRecord) -> impl IntoView {
    let session = expect_context::<RunSession>();
    let id = record.run_id.clone();
    let status = record.status;
    let resumable = record.resumable();
    let busy_here = {
        let id = id.clone();
        Signal::derive(move || session.is_running(&id))
    };
    let problem_preview = excerpt(&record.problem, 400);
    let replayable = record.config.is_some() && record.step_count > 0;
    view! {
        <section class="card run-bar" aria-label="Run">
            <div class="run-bar-main">
                <StatusBadge status=status/>
                <span class="muted">{format!("{} steps saved", record.step_count)}</span>
                <RunCost cost=record.cost_usd complete=record.cost_complete/>
                <Unaccounted usd=record.possibly_billed_usd test_id="run-unaccounted"/>
            </div>
            <div class="btn-group">
                <ResumeButton run_id=id.clone() resumable=resumable/>
                <ReplayButton
                    run_id=id.clone()
                    replayable=replayable
                />
                {(record.judged && record.config.is_some()).then(|| view! { <RejudgeButton/> })}
                <DownloadRunButton
                    run_id=id.clone()
                    disabled=Signal::derive(move || busy_here.get() || record.step_count == 0)
                />
                <DeleteRun run_id=id.clone() disabled=busy_here/>
            </div>
            <dl class="run-meta">
                <div><dt>"Mode"</dt><dd>{record.mode.as_str()}</dd></div>
                <div><dt>"Config"</dt><dd><code>{record.config_hash.clone()}</code></dd></div>
                <div><dt>"Started"</dt><dd>{date_text(record.created_ms)} " UTC"</dd></div>
                <div>
                    <dt>"Ground truth"</dt>
                    <dd>{record.ground_truth.clone().unwrap_or_else(|| "none".to_string())}</dd>
                </div>
                {record.derived_from.clone().map(|origin| view! {
                    <div>
                        <dt>"Derived from"</dt>
                        <dd data-testid="run-derived-from" data-kind=origin.kind.as_str()
                            data-source-run=origin.run_id.clone() data-source-step=origin.step_id>
                            {origin_text(&origin)} " · "
                            <a href=format!("/runs/{}", origin.run_id)>"open the source run"</a>
                        </dd>
                    </div>
                })}
                {record.imported.then(|| view! {
                    <div>
                        <dt>"Source"</dt>
                        <dd>
                            "imported from a JSONL file"
                            {record.config.is_none().then_some(" (no config in the file)")}
                        </dd>
                    </div>
                })}
            </dl>
            <details class="run-problem" open=record.problem.chars().count() <= 400>
                <summary>"Problem"</summary>
                <p class="step-text">{record.problem.clone()}</p>
            </details>
            {(record.problem.chars().count() > 400).then(|| view! {
                <p class="muted step-text">{problem_preview}</p>
            })}
        </section>
    }
}

/// Delete, with a confirmation step; then back to the runs table.
#[component]
fn DeleteRun(run_id: String, #[prop(into)] disabled: Signal<bool>) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let session = expect_context::<RunSession>();
    let navigate = use_navigate();
    let asking = RwSignal::new(false);
    let delete = Job::<Option<String>>::new();
    let confirm = move |id: String| {
        let navigate = navigate.clone();
        delete.run(async move {
            let result = match store.open().await {
                Ok(store) => delete_run(&store, &id).await,
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(_) => {
                    session.touch_runs();
                    navigate("/runs", Default::default());
                    None
                }
                Err(e) => {
                    asking.set(false);
                    Some(e)
                }
            }
        });
    };
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="btn btn-ghost" data-testid="run-delete"
                    disabled=move || disabled.get()
                    on:click=move |_| asking.set(true)>"Delete"</button>
            }
        >
            <span class="confirm" role="group" aria-label="Confirm delete">
                "Delete this run and its steps?"
                <button type="button" class="btn btn-danger btn-sm" data-testid="run-delete-confirm"
                    disabled=move || delete.going()
                    on:click={
                        let (run_id, confirm) = (run_id.clone(), confirm.clone());
                        move |_| confirm(run_id.clone())
                    }>"Delete"</button>
                <button type="button" class="btn btn-sm" on:click=move |_| asking.set(false)>"Keep"</button>
            </span>
        </Show>
        {move || delete.outcome().get().flatten().map(|message| view! { <ErrorText message=message/> })}
    }
}

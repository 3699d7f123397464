//! A batch's re-grade and re-judge: its runs checked again by the current answer checker
//! (nothing called or stored), or judged again with another judge config (each into a new run
//! that names its source; only the judges are called). The batch and its runs never change.

use leptos::prelude::*;

use crate::app::format::score_text;
use crate::app::run::derive::{accuracy_text, draft_texts, edited_config, REJUDGE_FIELDS};
use crate::core::batch::BatchRecord;
use crate::core::config::PipelineConfig;
use crate::core::driver::{Rejudged, RunDriver};
use crate::core::regrade::{verdict_word, BatchRegrade};
use crate::core::replies::resume;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};
use crate::ui::components::notice::ErrorText;
use crate::ui::job::Job;
use crate::ui::provider_state::ProviderState;
use crate::ui::run::derive::DeriveFields;
use crate::ui::run::session::{BrowserInputs, RunSession};
use crate::ui::store::SharedStore;
use crate::web::idb::TrajectoryStore;
use crate::web::locks::WebLocks;

/// Every run of batch `batch_id` with its steps, oldest first.
async fn batch_runs_with_steps(
    store: &TrajectoryStore,
    batch_id: &str,
) -> Result<Vec<(RunRecord, Vec<TrajectoryEntry>)>, String> {
    let runs = store
        .batch_runs(batch_id)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        let mut steps = store.steps(&run.run_id).await.map_err(|e| e.to_string())?;
        crate::core::sorting::sort_by_key(&mut steps, |e| e.step_id);
        out.push((run, steps));
    }
    Ok(out)
}

/// Re-grade and re-judge of the batch shown.
#[component]
pub fn BatchDerive(record: Memo<Option<BatchRecord>>) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch_id = move || record.with(|r| r.as_ref().map(|r| r.spec.batch_id.clone()));
    let config = move || record.with(|r| r.as_ref().map(|r| r.spec.config.clone()));
    let regrade = Job::<Result<BatchRegrade, String>>::new();
    let rejudge_open = RwSignal::new(false);
    let run_regrade = move |_| {
        let Some(batch_id) = batch_id() else { return };
        regrade.run(async move {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let runs = batch_runs_with_steps(&store, &batch_id).await?;
            Ok(BatchRegrade::of(
                runs.iter().map(|(r, s)| (r, s.as_slice())),
            ))
        });
    };
    view! {
        <section class="batch-derive" aria-label="Re-grade and re-judge">
            <div class="btn-group">
                <button type="button" class="btn" data-testid="batch-regrade"
                    disabled=move || regrade.going()
                    title="Check every run's final answer again with the current answer checker; nothing is called or stored"
                    on:click=run_regrade>"Re-grade"</button>
                <button type="button" class="btn" data-testid="batch-rejudge"
                    title="Judge every judged run again with another judge config; each goes into a new run, only the judge is called"
                    on:click=move |_| rejudge_open.update(|o| *o = !*o)>"Re-judge"</button>
            </div>
            {move || regrade.outcome().get().map(|result| match result {
                Ok(graded) => view! { <RegradeReport graded=graded/> }.into_any(),
                Err(message) => view! { <ErrorText message=message/> }.into_any(),
            })}
            {move || {
                let (open, batch_id, config) = (rejudge_open.get(), batch_id()?, config()?);
                open.then(|| view! { <RejudgePanel batch_id=batch_id base=config/> })
            }}
        </section>
    }
}

/// Accuracy before and after, and the runs whose verdict changed
/// (`data-testid="batch-regrade-result"`).
#[component]
fn RegradeReport(graded: BatchRegrade) -> impl IntoView {
    let changed: Vec<_> = graded.changed().cloned().collect();
    let changed_count = changed.len();
    view! {
        <div class="regrade-report" data-testid="batch-regrade-result"
            data-before-correct=graded.before.correct data-before-graded=graded.before.graded
            data-after-correct=graded.after.correct data-after-graded=graded.after.graded
            data-changed=changed_count>
            <p>
                "Accuracy as stored: " {accuracy_text(&graded.before)}
                " · graded now: " {accuracy_text(&graded.after)}
                " · " {format!("{changed_count} of {} runs changed verdict", graded.runs.len())}
            </p>
            {(!changed.is_empty()).then(|| view! {
                <ul class="run-links">
                    {changed.into_iter().map(|r| view! {
                        <li data-testid="batch-regrade-changed" data-run-id=r.run_id.clone()
                            data-was=verdict_word(r.was) data-now=verdict_word(r.now)>
                            <a class="mono" href=format!("/runs/{}", r.run_id)>{r.run_id.clone()}</a>
                            {format!(": graded now {} (was: {})", verdict_word(r.now), verdict_word(r.was))}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// The judge fields, prefilled with the batch's config, and `batch-rejudge-continue`.
#[component]
fn RejudgePanel(batch_id: String, base: PipelineConfig) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let providers = expect_context::<ProviderState>();
    let session = expect_context::<RunSession>();
    let fields: Vec<(&'static str, RwSignal<String>)> = draft_texts(&base, REJUDGE_FIELDS)
        .into_iter()
        .map(|(path, text)| (path, RwSignal::new(text)))
        .collect();
    let job = Job::<Result<Vec<Rejudged>, String>>::new();
    let go = {
        let fields = fields.clone();
        move |_| {
            let texts: Vec<(&'static str, String)> = fields
                .iter()
                .map(|(path, text)| (*path, text.get_untracked()))
                .collect();
            let registry = providers.registry().get_untracked();
            let judge = match edited_config(&base, &texts, &registry) {
                Ok(config) => config.judge,
                Err(problems) => {
                    let message = problems
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; ");
                    job.outcome().set(Some(Err(message)));
                    return;
                }
            };
            let batch_id = batch_id.clone();
            job.run(async move {
                let shared = store;
                let store = store.open().await.map_err(|e| e.to_string())?;
                let runs = batch_runs_with_steps(&store, &batch_id).await?;
                let judged: Vec<_> = runs.iter().filter(|(r, _)| r.judged).collect();
                let inputs = BrowserInputs::open(shared, &registry)
                    .await
                    .map_err(|e| e.to_string())?;
                let policy = resume::batch_policy(&inputs.store, &batch_id)
                    .await
                    .map_err(|e| e.to_string())?;
                let llm = inputs.replies(policy);
                let driver = RunDriver::new(&llm, &inputs.clock, &inputs.store)
                    .with_locks(&WebLocks)
                    .with_pricer(inputs.pricer.clone());
                let results = driver
                    .rejudge_all(judged.iter().map(|(r, s)| (r, s.as_slice())), &judge)
                    .await;
                session.touch_runs();
                Ok(results)
            });
        }
    };
    view! {
        <div class="card derive-panel" data-testid="batch-rejudge-panel">
            <h3>"Judge every judged run again"</h3>
            <DeriveFields fields=fields/>
            <button type="button" class="btn btn-primary" data-testid="batch-rejudge-continue"
                disabled=move || job.going()
                on:click=go>"Judge again"</button>
            {move || job.going().then(|| view! { <p class="muted" aria-live="polite">"Judging…"</p> })}
            {move || job.outcome().get().map(|result| match result {
                Ok(results) => view! { <RejudgeReport results=results/> }.into_any(),
                Err(message) => view! { <ErrorText message=message/> }.into_any(),
            })}
        </div>
    }
}

/// Each run judged again: its source, the new run, both scores
/// (`data-testid="batch-rejudge-result"`, rows `batch-rejudge-row`).
#[component]
fn RejudgeReport(results: Vec<Rejudged>) -> impl IntoView {
    let done = results.iter().filter(|r| r.result.is_ok()).count();
    let failed = results.len() - done;
    view! {
        <div data-testid="batch-rejudge-result" data-runs=done data-failed=failed>
            <p>{format!("{done} run{} judged again", if done == 1 { "" } else { "s" })}
                {(failed > 0).then(|| format!(", {failed} could not be"))}</p>
            <table class="table">
                <thead><tr><th>"Source run"</th><th>"Score was"</th><th>"New run"</th><th>"Score now"</th></tr></thead>
                <tbody>
                    {results.into_iter().map(|r| {
                        let (new_run, score_now, error) = match &r.result {
                            Ok(record) => (Some(record.run_id.clone()), record.judge_score, None),
                            Err(e) => (None, None, Some(e.to_string())),
                        };
                        let link = new_run.clone();
                        view! {
                            <tr data-testid="batch-rejudge-row" data-source-run=r.source_run.clone()
                                data-run-id=new_run.clone()
                                data-score-was=r.score_was.map(|s| s.to_string())
                                data-score-now=score_now.map(|s| s.to_string())>
                                <td><a class="mono" href=format!("/runs/{}", r.source_run)>{r.source_run.clone()}</a></td>
                                <td class="num">{score_text(r.score_was)}</td>
                                <td>{match link {
                                    Some(id) => view! { <a class="mono" href=format!("/runs/{id}")>{id.clone()}</a> }.into_any(),
                                    None => view! { <span class="error-text">{error.unwrap_or_default()}</span> }.into_any(),
                                }}</td>
                                <td class="num">{score_text(score_now)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

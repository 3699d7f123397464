//! The batch card: what it runs, where it stands (progress, spend, ETA, rate limiting), the
//! controls (pause, continue, cancel, resume, retry failed), and its results.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use crate::app::batch::format::{duration_text, rate_limit_text};
use crate::app::format::{cost_text, count_of, date_text, dollars};
use std::collections::HashSet;

use crate::app::batch::rounds::polls_on_open;
use crate::core::batch::{BatchEngine, BatchRecord, BatchStatus};
use crate::core::provider_batch::{BatchJournal, RoundStatus};
use crate::ui::components::notice::{ErrorText, WarningText};
use crate::ui::config_form::ConfigForm;
use crate::ui::costs::unaccounted::{NextReservation, Unaccounted};
use crate::ui::job::Job;
use crate::ui::provider_state::ProviderState;
use crate::ui::store::SharedStore;

use super::results_view::{Loaded, ResultsView};
use super::session::BatchSession;
use crate::ui::run::session::Startup;

/// The batch the URL names (`/batch/:id`), or on `/batch` the one shown last (the newest
/// stored one when none was); the URL follows the batch shown, so each batch has its own.
/// While a batch goes in this tab, it is the one shown.
#[component]
pub fn BatchView() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch = expect_context::<BatchSession>();
    let params = use_params_map();
    let navigate = use_navigate();
    let wanted = Memo::new(move |_| params.with(|p| p.get("id")));
    let found = LocalResource::new(move || {
        let ready = batch.startup.with(|s| *s != Startup::Pending);
        let wanted = wanted.get();
        async move {
            if !ready {
                return None;
            }
            let store = match store.open().await {
                Ok(store) => store,
                Err(e) => return Some(Err(e.to_string())),
            };
            Some(match wanted {
                Some(id) => match store.get_batch(&id).await {
                    Ok(Some(record)) => Ok(Some(record)),
                    Ok(None) => Err(format!(
                        "No batch {id} is stored in this browser (it may have been deleted, or it ran in another browser); open one from the list below."
                    )),
                    Err(e) => Err(e.to_string()),
                },
                None => store
                    .list_batches()
                    .await
                    .map(|list| list.into_iter().next())
                    .map_err(|e| e.to_string()),
            })
        }
    });
    let go_to = move |id: &str| {
        navigate(
            &batch_href(id),
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        )
    };
    let go = go_to.clone();
    let providers = expect_context::<ProviderState>();
    // Batches this tab took up on opening (once each: a failed take-up leaves Resume).
    let taken_up = StoredValue::new(HashSet::<String>::new());
    Effect::new(move |_| match found.get() {
        Some(Some(Ok(Some(record)))) => {
            let shown = batch.batch_id_untracked();
            let named = wanted.get_untracked().is_some();
            if named && batch.busy.get_untracked() {
                // The batch going stays shown, and the URL says so.
                if let Some(going) = shown.filter(|going| *going != record.spec.batch_id) {
                    go(&going);
                }
            } else if named || shown.is_none() {
                take_up_if_at_provider(&record, store, batch, providers, taken_up);
                batch.show(record);
            }
        }
        Some(Some(Err(message))) => batch.error.set(Some(message)),
        _ => {}
    });
    // The URL follows the batch shown: on `/batch`, and when another batch is shown (a new
    // one started, one opened from the list).
    Effect::new(move |before: Option<Option<String>>| {
        let shown = batch.batch_id();
        let wanted = wanted.get_untracked();
        let changed = before.is_some_and(|before| before != shown);
        if let Some(id) = &shown {
            if (changed || wanted.is_none()) && wanted.as_deref() != Some(id) {
                go_to(id);
            }
        }
        shown
    });
    // A memo, so the card (and its results, read from the store when mounted) is not rebuilt
    // on every progress update of the record.
    let shown = Memo::new(move |_| batch.record.with(Option::is_some));
    view! {
        {move || batch.error.get().map(|message| view! { <ErrorText message=message/> })}
        {move || shown.get().then(|| view! { <BatchCard/> })}
    }
}

/// Takes up `record` at once when a closed tab cut it off while one of its provider batches
/// was at the provider ([`polls_on_open`]): its rounds are polled and applied, and it goes on,
/// with no Resume press.
fn take_up_if_at_provider(
    record: &BatchRecord,
    store: SharedStore,
    batch: BatchSession,
    providers: ProviderState,
    taken_up: StoredValue<HashSet<String>>,
) {
    if record.spec.engine != BatchEngine::ProviderBatch || record.status != BatchStatus::Interrupted
    {
        return;
    }
    let id = record.spec.batch_id.clone();
    let first = taken_up
        .try_update_value(|ids| ids.insert(id.clone()))
        .unwrap_or(false);
    if !first {
        return;
    }
    let record = record.clone();
    leptos::task::spawn_local(async move {
        let rounds = match store.open().await {
            Ok(store) => BatchJournal::rounds(&store, &id)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let statuses: Vec<RoundStatus> = match rounds {
            Ok(rounds) => rounds.iter().map(|r| r.status).collect(),
            Err(e) => {
                batch.error.set(Some(format!(
                    "this batch's provider rounds could not be read ({e}); press Resume to try again"
                )));
                return;
            }
        };
        if polls_on_open(&record, &statuses) && !batch.busy.get_untracked() {
            let registry = providers.registry().get_untracked();
            if let Err(e) = batch.resume(id, registry, false, None) {
                batch.error.set(Some(e.to_string()));
            }
        }
    });
}

/// The address of batch `batch_id`'s page.
pub fn batch_href(batch_id: &str) -> String {
    format!("/batch/{batch_id}")
}

/// The shown batch's card.
#[component]
fn BatchCard() -> impl IntoView {
    let batch = expect_context::<BatchSession>();
    let record = Memo::new(move |_| batch.record.get());
    let field = move |f: fn(&BatchRecord) -> String| {
        move || record.with(|r| r.as_ref().map(f).unwrap_or_default())
    };
    let status = Signal::derive(move || {
        record.with(|r| r.as_ref().map_or(BatchStatus::Pending, |r| r.status))
    });
    // The results' read: the results section runs it, the spend line reads what it found.
    let results = Job::<Loaded>::new();
    view! {
        <section class="card batch-card" aria-labelledby="batch-card-title" data-testid="batch-card">
            <div class="batch-card-head">
                <div>
                    <h2 id="batch-card-title">{field(|r| r.spec.name.clone())}</h2>
                    <p class="muted">
                        <span class="mono" data-testid="batch-id">{field(|r| r.spec.batch_id.clone())}</span>
                        " · " {field(|r| r.spec.dataset_name.clone())}
                        " · config " <code>{field(|r| r.spec.config_hash.clone())}</code>
                        " · " {field(|r| format!("{:?}", r.spec.modes).to_lowercase())}
                        " · started " {field(|r| date_text(r.spec.created_ms))}
                    </p>
                </div>
                <span
                    class=move || format!("batch-badge batch-badge-{}", status.get().as_str())
                    data-testid="batch-status"
                >
                    {move || status.get().as_str()}
                </span>
            </div>
            {move || {
                let message = record.with(|r| r.as_ref().and_then(|r| r.message.clone()));
                let quiet = matches!(status.get(), BatchStatus::Running | BatchStatus::Completed);
                message.filter(|_| !quiet).map(|m| view! { <WarningText message=m/> })
            }}
            <ProgressPanel record=record results=results.outcome()/>
            <super::rounds::RoundsPanel record=record/>
            <Controls record=record/>
            <ResultsView record=record read=results/>
            <super::derive::BatchDerive record=record/>
        </section>
    }
}

/// Counts, the bar, spend, ETA and the rate-limit note (`batch-progress`).
///
/// The spend is the batch's one total: while the batch goes, what its items' records and the
/// runs in flight say so far; once it stops, what its runs say (read with `results`), which
/// also counts the steps a cut-off run committed after the batch's record was last saved.
#[component]
fn ProgressPanel(
    record: Memo<Option<BatchRecord>>,
    results: RwSignal<Option<Loaded>, LocalStorage>,
) -> impl IntoView {
    let batch = expect_context::<BatchSession>();
    let limit = move || record.with(|r| r.as_ref().map_or(1, |r| r.spec.concurrency));
    let concurrency = move || {
        if batch.busy.get() {
            batch.effective.get().max(1)
        } else {
            limit()
        }
    };
    // While a batch goes, its counts come kept up to date by the session; a stored batch's
    // are counted from its record.
    let progress = Memo::new(move |_| {
        if batch.busy.get() {
            if let Some(live) = batch.progress.get() {
                // Items whose call waits on a provider batch's round are waiting, not working.
                return Some(live.with_parked(batch.parked.get() as usize));
            }
        }
        let c = concurrency();
        record.with(|r| r.as_ref().map(|r| r.progress(c)))
    });
    let p = move || progress.get();
    let attr = move |f: fn(&crate::core::batch::Progress) -> usize| {
        move || p().map_or(0, |p| f(&p)).to_string()
    };
    let percent = move |f: fn(&crate::core::batch::Progress) -> usize| {
        move || {
            p().map_or(0.0, |p| {
                if p.total == 0 {
                    0.0
                } else {
                    100.0 * f(&p) as f64 / p.total as f64
                }
            })
        }
    };
    let read = move || {
        results.with(|r| match r {
            Some(Ok(Some(results))) if !batch.busy.get() => Some(results.spend()),
            _ => None,
        })
    };
    let spent = move || {
        if let Some(spend) = read() {
            return spend.usd;
        }
        let live: f64 = batch.live_cost.with(|l| l.values().sum());
        let stored = p().and_then(|p| p.spent_usd);
        match (stored, live > 0.0) {
            (None, false) => None,
            (s, _) => Some(s.unwrap_or(0.0) + live),
        }
    };
    let complete = move || match read() {
        Some(spend) => spend.complete,
        None => p().is_none_or(|p| p.spent_complete),
    };
    let done_pct = percent(|p| p.done);
    let failed_pct = percent(|p| p.failed);
    view! {
        <div
            class="batch-progress"
            data-testid="batch-progress"
            data-done=attr(|p| p.done)
            data-failed=attr(|p| p.failed)
            data-total=attr(|p| p.total)
            data-running=attr(|p| p.running)
            data-waiting=attr(|p| p.waiting)
            data-remaining=attr(|p| p.remaining)
        >
            <div
                class="batch-bar"
                role="progressbar"
                aria-valuemin="0"
                aria-valuemax=attr(|p| p.total)
                aria-valuenow=move || p().map_or(0, |p| p.done + p.failed).to_string()
                aria-label="Items finished"
            >
                <span class="batch-bar-done" style=move || format!("width: {:.2}%", done_pct())></span>
                <span class="batch-bar-failed" style=move || format!("width: {:.2}%", failed_pct())></span>
            </div>
            <p class="batch-counts">
                {move || p().map(|p| p.counts_text())}
                {move || p().filter(|p| p.provider_errors > 0).map(|p| view! {
                    <span
                        class="batch-provider-errors"
                        data-testid="batch-provider-errors"
                        data-count=p.provider_errors.to_string()
                        title="Items whose provider failed after every retry (an outage, a rate-limit storm, a spent quota): no answer of the model's, so none is counted in accuracy; they are among the failed items"
                    >
                        {format!(" · {} provider error{}", p.provider_errors, if p.provider_errors == 1 { "" } else { "s" })}
                    </span>
                })}
            </p>
            <p class="batch-spend">
                {move || if batch.busy.get() { "Spent so far: " } else { "Spent: " }}
                <span class="mono" data-testid="batch-spent">{move || cost_text(spent())}</span>
                " USD"
                {move || (spent().is_some() && !complete()).then(|| view! {
                    <span class="muted" title="some calls had no known price or reported no usage">" (at least)"</span>
                })}
                <Unaccounted
                    usd=Signal::derive(move || p().map_or(0.0, |p| p.possibly_billed_usd))
                    test_id="batch-unaccounted"
                />
                {move || batch.budget_usd.get().filter(|_| batch.busy.get()).map(|b| view! {
                    <span class="muted" data-testid="batch-budget">{format!(" of a {} batch budget", dollars(Some(b)))}</span>
                    <NextReservation usd=Signal::derive(move || batch.last_reservation_usd())/>
                })}
                {move || {
                    let eta = p().and_then(|p| p.eta_ms).filter(|_| batch.busy.get());
                    eta.map(|ms| view! {
                        " · about " <span data-testid="batch-eta">{duration_text(Some(ms))}</span> " left"
                    })
                }}
            </p>
            {move || {
                let note = batch.busy.get().then(|| rate_limit_text(batch.effective.get(), limit())).flatten();
                note.map(|text| view! {
                    <p class="msg msg-warning batch-rate-limited" role="status" data-testid="batch-rate-limited">
                        <span>{text}</span>
                    </p>
                })
            }}
            {move || {
                let until = batch.waiting_until.get().filter(|_| batch.busy.get())?;
                let left = until - js_sys::Date::now();
                (left > 0.0).then(|| view! {
                    <p class="muted" data-testid="batch-waiting">
                        {format!("A provider asked to wait: no new problem starts for about {}.", duration_text(Some(left)))}
                    </p>
                })
            }}
        </div>
    }
}

/// Pause / continue / cancel while going; resume / retry failed when stopped.
#[component]
fn Controls(record: Memo<Option<BatchRecord>>) -> impl IntoView {
    let batch = expect_context::<BatchSession>();
    let providers = expect_context::<ProviderState>();
    let form = expect_context::<ConfigForm>();
    let error = RwSignal::new(None::<String>);
    let status = move || record.with(|r| r.as_ref().map(|r| r.status));
    let own_budget = move || record.with(|r| r.as_ref().and_then(BatchRecord::budget_usd));
    // The amount typed beside Continue while paused; empty keeps the budget as it is.
    let raise_to = RwSignal::new(String::new());
    let paused = move || batch.busy.get() && status() == Some(BatchStatus::Paused);
    let go_on = move || {
        let typed = raise_to.get_untracked();
        let budget = match typed.trim() {
            "" => None,
            text => match text.parse::<f64>() {
                Ok(amount) => Some(amount),
                Err(_) => {
                    error.set(Some(format!(
                        "the batch budget must be an amount in US dollars, such as 2.50, not \"{text}\""
                    )));
                    return;
                }
            },
        };
        match batch.unpause(budget) {
            Ok(()) => {
                error.set(None);
                raise_to.set(String::new());
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let failed = move || {
        record.with(|r| {
            r.as_ref().map_or(0, |r| {
                r.items
                    .iter()
                    .filter(|i| i.status == crate::core::batch::ItemStatus::Failed)
                    .count()
            })
        })
    };
    let unfinished = move || {
        record.with(|r| {
            r.as_ref()
                .is_some_and(|r| r.items.iter().any(|i| !i.is_finished()))
        })
    };
    let resume = move |retry_failed: bool| {
        let Some(id) = batch.batch_id() else { return };
        let registry = providers.registry().get_untracked();
        let budget = form
            .valid_config()
            .get_untracked()
            .and_then(|c| c.batch_budget_usd);
        error.set(
            batch
                .resume(id, registry, retry_failed, budget)
                .err()
                .map(|e| e.to_string()),
        );
    };
    let can_resume = move || {
        !batch.busy.get()
            && unfinished()
            && matches!(
                status(),
                Some(
                    BatchStatus::Interrupted
                        | BatchStatus::Cancelled
                        | BatchStatus::Pending
                        | BatchStatus::Completed
                )
            )
    };
    view! {
        <div class="btn-group batch-controls">
            <Show when=move || batch.busy.get() && status() != Some(BatchStatus::Paused)>
                <button type="button" class="btn" data-testid="batch-pause"
                    title="Start no new problems; those running finish"
                    on:click=move |_| batch.pause()>
                    "Pause"
                </button>
            </Show>
            <Show when=paused>
                {move || batch.budget_usd.get().map(|now| view! {
                    <label class="batch-raise">
                        "Budget (USD) "
                        <input type="number" class="input mono" min=now step="0.01"
                            inputmode="decimal" data-testid="batch-budget-raise"
                            placeholder=format!("{now}")
                            title="Raise the batch budget as it goes on; the batch keeps the new amount"
                            prop:value=move || raise_to.get()
                            on:input=move |ev| raise_to.set(event_target_value(&ev))/>
                    </label>
                })}
                <button type="button" class="btn btn-primary" data-testid="batch-continue"
                    on:click=move |_| go_on()>
                    "Continue"
                </button>
            </Show>
            <button type="button" class="btn btn-danger" data-testid="batch-cancel"
                disabled=move || !batch.busy.get()
                title="Stop now; finished problems and saved steps are kept, and the batch can be resumed"
                on:click=move |_| batch.cancel()>
                "Cancel"
            </button>
            <Show when=can_resume>
                <button type="button" class="btn btn-primary" data-testid="batch-resume"
                    disabled=move || !batch.ready()
                    title="Run the unfinished problems; stopped runs go on from their last saved step"
                    on:click=move |_| resume(false)>
                    {move || format!("Resume ({} left)", count_of(
                        record.with(|r| r.as_ref().map_or(0, |r| r.items.iter().filter(|i| !i.is_finished()).count())),
                        "item", "items"))}
                </button>
            </Show>
            <Show when=move || !batch.busy.get() && (failed() > 0)>
                <button type="button" class="btn" data-testid="batch-retry-failed"
                    disabled=move || !batch.ready()
                    title="Run the failed problems again, with the unfinished ones"
                    on:click=move |_| resume(true)>
                    {move || format!("Retry failed ({})", failed())}
                </button>
            </Show>
            <DeleteBatch record=record/>
        </div>
        {move || (can_resume() && own_budget().is_some()).then(|| view! {
            <p class="muted batch-budget-note">
                {format!(
                    "This batch's budget is {}; a larger batch_budget_usd on the Configure page applies when it resumes.",
                    dollars(own_budget())
                )}
            </p>
        })}
        {move || error.get().map(|message| view! { <ErrorText message=message/> })}
    }
}

/// Deletes the shown batch's record (its runs stay, as runs).
#[component]
fn DeleteBatch(record: Memo<Option<BatchRecord>>) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch = expect_context::<BatchSession>();
    let confirming = RwSignal::new(false);
    let remove = Job::<()>::new();
    let delete_record = move |id: String| {
        remove.run(async move {
            match async { store.open().await?.delete_batch(&id).await }.await {
                Ok(_) => {
                    batch.record.set(None);
                    batch.touch_batches();
                }
                Err(e) => {
                    batch
                        .error
                        .set(Some(format!("The batch was not deleted: {e}")));
                }
            }
        });
    };
    let delete = move |_| {
        if !confirming.get_untracked() {
            confirming.set(true);
            return;
        }
        confirming.set(false);
        if let Some(id) = record.with_untracked(|r| r.as_ref().map(|r| r.spec.batch_id.clone())) {
            delete_record(id);
        }
    };
    view! {
        <button type="button" class="btn btn-ghost" data-testid="batch-delete"
            disabled=move || batch.busy.get() || remove.going()
            title="Delete this batch's record; its runs stay on the Runs page"
            on:click=delete>
            {move || if confirming.get() { "Really delete the batch?" } else { "Delete batch" }}
        </button>
    }
}

//! An experiment in provider batch mode on the Experiments page: its current round
//! (`batch-round`, as on the Batch page), the provider's counts, and that the tab may be
//! closed; and taking it up by itself when the page is opened again after a closed tab.

use std::collections::HashSet;

use leptos::prelude::*;

use crate::app::batch::rounds::current_round;
use crate::app::experiment::takes_up_on_open;
use crate::core::batch::BatchEngine;
use crate::core::clock::Clock;
use crate::core::experiment::{Experiment, ExperimentStatus};
use crate::core::provider_batch::{BatchJournal, RoundStatus};
use crate::ui::provider_state::ProviderState;
use crate::ui::store::SharedStore;
use crate::web::clock::BrowserClock;

use super::session::experiment_session;

/// How often the time since the submit is read again, ms.
const TICK_MS: u64 = 5_000;

/// The current round of `experiment` when it runs in provider batch mode in this tab.
#[component]
pub fn ExperimentRoundsPanel(experiment: Memo<Option<Experiment>>) -> impl IntoView {
    let session = experiment_session();
    let in_rounds = move || {
        experiment.with(|e| {
            e.as_ref().is_some_and(|e| {
                e.batches
                    .iter()
                    .any(|b| b.spec.engine == BatchEngine::ProviderBatch)
            })
        })
    };
    let now_ms = RwSignal::new(BrowserClock::new().now_ms());
    if let Ok(ticker) = set_interval_with_handle(
        move || now_ms.set(BrowserClock::new().now_ms()),
        std::time::Duration::from_millis(TICK_MS),
    ) {
        on_cleanup(move || ticker.clear());
    }
    move || {
        if !in_rounds() || !session.busy.get() {
            return None;
        }
        let now = now_ms.get().max(BrowserClock::new().now_ms());
        let line = session.rounds.with(|rounds| current_round(rounds, now));
        Some(view! {
            <div class="batch-rounds" role="status">
                {line.map(|l| view! {
                    <p
                        class="batch-round"
                        data-testid="batch-round"
                        data-round=l.round.to_string()
                        data-submitted=l.submitted.to_string()
                        data-processing=l.processing.to_string()
                        data-succeeded=l.succeeded.to_string()
                        data-errored=l.errored.to_string()
                    >
                        {l.text}
                    </p>
                })}
                <p class="muted" data-testid="batch-tab-may-close">
                    "The tab may be closed: the provider keeps working on the submitted round. \
                     Reopen the Experiments page and it collects the results and goes on by itself."
                </p>
            </div>
        })
    }
}

/// Takes `experiment` up at once when a closed tab cut it off while one of its rounds was at
/// the provider ([`takes_up_on_open`]); each experiment once per page.
pub fn take_up_if_at_provider(
    experiment: &Experiment,
    store: SharedStore,
    providers: ProviderState,
    offered_budget_usd: Option<f64>,
    taken_up: StoredValue<HashSet<String>>,
) {
    let session = experiment_session();
    let in_rounds = experiment
        .batches
        .iter()
        .any(|b| b.spec.engine == BatchEngine::ProviderBatch);
    // Not marked yet while the start-up check has not run: asked again once it has.
    let cut_off = experiment.status() == ExperimentStatus::Interrupted;
    if !in_rounds || !cut_off || session.busy.get_untracked() {
        return;
    }
    let id = experiment.experiment_id.clone();
    let first = taken_up
        .try_update_value(|ids| ids.insert(id.clone()))
        .unwrap_or(false);
    if !first {
        return;
    }
    let experiment = experiment.clone();
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
                session.error.set(Some(format!(
                    "this experiment's provider rounds could not be read ({e}); press Resume to try again"
                )));
                return;
            }
        };
        if takes_up_on_open(&experiment, &statuses) && !session.busy.get_untracked() {
            let registry = providers.registry().get_untracked();
            if let Err(e) = session.resume(experiment, registry, offered_budget_usd) {
                session.error.set(Some(e));
            }
        }
    });
}

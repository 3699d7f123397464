//! Provider batch mode's progress on the Batch page: the current round (`batch-round`), the
//! provider's own counts, the time since its submit, and that the tab may be closed.

use leptos::prelude::*;

use crate::app::batch::rounds::current_round;
use crate::core::batch::{BatchEngine, BatchRecord};
use crate::core::clock::Clock;
use crate::web::clock::BrowserClock;

use super::session::BatchSession;

/// How often the time since the submit is read again, ms.
const TICK_MS: u64 = 5_000;

/// The current round of a batch in provider batch mode; nothing for a live batch.
#[component]
pub fn RoundsPanel(record: Memo<Option<BatchRecord>>) -> impl IntoView {
    let batch = expect_context::<BatchSession>();
    let in_rounds = move || {
        record.with(|r| {
            r.as_ref()
                .is_some_and(|r| r.spec.engine == BatchEngine::ProviderBatch)
        })
    };
    // The time since the submit moves between polls too (they may be half a minute apart).
    let now_ms = RwSignal::new(BrowserClock::new().now_ms());
    if let Ok(ticker) = set_interval_with_handle(
        move || now_ms.set(BrowserClock::new().now_ms()),
        std::time::Duration::from_millis(TICK_MS),
    ) {
        on_cleanup(move || ticker.clear());
    }
    move || {
        if !in_rounds() {
            return None;
        }
        // Read again at each change of a round (every poll) and each tick.
        let now = now_ms.get().max(BrowserClock::new().now_ms());
        let line = batch.rounds.with(|rounds| current_round(rounds, now));
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
                     Reopen this batch's page and it collects the results and goes on by itself."
                </p>
            </div>
        })
    }
}

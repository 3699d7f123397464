//! The Settings page's reply store card: how much it holds, and clearing old replies. Clearing
//! touches only the replies: every stored run keeps what it shows and exports, only replaying
//! the runs that used a cleared reply is lost.

use leptos::prelude::*;

use crate::app::format::count_of;
use crate::app::reply_store::{cutoff_ms, parse_days, size_text};
use crate::core::clock::Clock;
use crate::ui::components::notice::ErrorText;
use crate::ui::job::Job;
use crate::ui::store::SharedStore;
use crate::web::clock::BrowserClock;
use crate::web::idb::ReplyStoreSize;

/// The reply store's size and the "clear replies older than …" control.
#[component]
pub fn ReplyStorePanel() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let days = RwSignal::new("30".to_string());
    let cleared = Job::<Result<u64, String>>::new();
    let size = LocalResource::new(move || {
        // Measured again after each clear.
        let _ = cleared.outcome().get();
        async move {
            let store = store.open().await.map_err(|e| e.to_string())?;
            store.reply_store_size().await.map_err(|e| e.to_string())
        }
    });
    let clear = move |_| {
        let typed = days.get_untracked();
        match parse_days(&typed) {
            Ok(days) => cleared.run(async move {
                let cutoff = cutoff_ms(BrowserClock::new().now_ms(), days);
                let store = store.open().await.map_err(|e| e.to_string())?;
                store
                    .delete_replies_older_than(cutoff)
                    .await
                    .map_err(|e| e.to_string())
            }),
            Err(e) => cleared.outcome().set(Some(Err(e.to_string()))),
        }
    };
    let shown = move || match size.get() {
        None => ("measuring…".to_string(), None),
        Some(Err(e)) => (format!("cannot be measured: {e}"), None),
        Some(Ok(ReplyStoreSize { replies, bytes })) => {
            (size_text(replies, bytes), Some((replies, bytes)))
        }
    };
    view! {
        <section class="card" aria-labelledby="reply-store-title">
            <h2 id="reply-store-title">"Reply store"</h2>
            <p class="muted">
                "Every paid reply is kept under its request's address, so an identical request is "
                "answered at $0 and a run can be replayed. Clearing old replies keeps every stored "
                "run whole (its steps keep what they show and export); only replaying the runs "
                "that used them is lost."
            </p>
            <p
                data-testid="reply-store-size"
                data-replies=move || shown().1.map(|(r, _)| r.to_string())
                data-bytes=move || shown().1.map(|(_, b)| b.to_string())
            >
                {move || shown().0}
            </p>
            <div class="field-row">
                <div class="field">
                    <label for="replies-clear-days">"Clear replies older than (days)"</label>
                    <input
                        id="replies-clear-days"
                        class="input"
                        inputmode="numeric"
                        data-testid="replies-clear-days"
                        prop:value=move || days.get()
                        on:input=move |ev| days.set(event_target_value(&ev))
                    />
                </div>
            </div>
            <div class="btn-group">
                <button
                    type="button"
                    class="btn"
                    data-testid="replies-clear"
                    disabled=move || cleared.going()
                    on:click=clear
                >
                    "Clear old replies"
                </button>
            </div>
            {move || cleared.outcome().get().map(|outcome| match outcome {
                Ok(n) => view! {
                    <p class="muted" data-testid="replies-cleared" data-count=n.to_string()>
                        {format!("Cleared {}.", count_of(n as usize, "reply", "replies"))}
                    </p>
                }
                .into_any(),
                Err(message) => view! { <ErrorText message=message/> }.into_any(),
            })}
        </section>
    }
}

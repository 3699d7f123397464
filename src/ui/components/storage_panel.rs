//! Settings' storage card: the browser's estimate of this site's use and quota, whether the
//! data is persistent (kept when the disk runs low) with a button to ask for it, and a warning
//! before the quota is reached.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::storage::{QuotaLevel, StorageStatus};
use crate::ui::components::notice::ErrorText;
use crate::web::idb::TrajectoryStore;

/// The storage card.
#[component]
pub fn StoragePanel() -> impl IntoView {
    let status = LocalResource::new(|| async {
        let usage = TrajectoryStore::estimate().await?;
        let persisted = TrajectoryStore::is_persisted().await?;
        Ok::<_, crate::web::idb::StoreError>((
            StorageStatus::of(usage.usage, usage.quota),
            persisted,
        ))
    });
    let asked = RwSignal::new(None::<Result<bool, String>>);
    let ask = move |_| {
        spawn_local(async move {
            let answer = TrajectoryStore::request_persistence()
                .await
                .map_err(|e| e.to_string());
            asked.set(Some(answer));
            status.refetch();
        });
    };
    view! {
        <section class="card" aria-labelledby="storage-title" data-testid="settings-storage">
            <h2 class="card-title" id="storage-title">"Storage"</h2>
            {move || match status.get() {
                None => view! { <p class="muted">"Asking the browser…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorText message=e.to_string()/> }.into_any(),
                Some(Ok((s, persisted))) => {
                    let warn = s.level != QuotaLevel::Fine;
                    view! {
                        <p data-testid="settings-storage-usage" data-share=s.share.map(|x| x.to_string()).unwrap_or_default()>
                            {s.usage_text.clone()}
                        </p>
                        {warn.then(|| view! {
                            <p class="msg msg-warning" role="alert" data-testid="settings-storage-warning">
                                {s.advice.clone()}
                            </p>
                        })}
                        <p data-testid="settings-storage-persisted" data-value=persisted.to_string()>
                            {if persisted {
                                "Persistent: the browser keeps these runs even when the disk runs low."
                            } else {
                                "Not persistent: when the disk runs low, the browser may delete this site's data, runs included."
                            }}
                        </p>
                        {(!persisted).then(|| view! {
                            <button type="button" class="btn btn-sm" data-testid="settings-storage-persist" on:click=ask>
                                "Ask to keep data persistently"
                            </button>
                        })}
                    }
                    .into_any()
                }
            }}
            {move || match asked.get() {
                Some(Ok(false)) => Some(view! {
                    <p class="muted" role="status">"The browser declined; it decides by how much this site is used (bookmarking or installing it helps)."</p>
                }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorText message=e/> }.into_any()),
                _ => None,
            }}
        </section>
    }
}

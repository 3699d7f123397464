//! The stored batches: what each ran and where it stands, to open one.

use leptos::prelude::*;

use crate::app::format::date_text;
use crate::core::batch::{BatchRecord, ItemStatus};
use crate::ui::components::notice::ErrorText;
use crate::ui::store::SharedStore;

use super::session::BatchSession;
use super::view::batch_href;

/// Every stored batch, newest first (`batch-row`, attribute `data-batch-id`).
#[component]
pub fn BatchList() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch = expect_context::<BatchSession>();
    let batches = LocalResource::new(move || {
        let _ = batch.batches_changed.get();
        async move {
            let store = store.open().await?;
            store.list_batches().await
        }
    });
    view! {
        <section class="card batch-list" aria-labelledby="batch-list-title">
            <h2 id="batch-list-title">"Batches"</h2>
            {move || match batches.get() {
                None => view! { <p class="muted">"Loading batches…"</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorText message=e.to_string()/> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="muted">"No batch yet."</p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <div class="table-wrap">
                        <table class="batch-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th><th scope="col">"Dataset"</th>
                                    <th scope="col">"Modes"</th><th scope="col">"Started"</th>
                                    <th scope="col">"Status"</th><th scope="col">"Done"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|r| view! { <BatchRow record=r/> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

/// One stored batch.
#[component]
fn BatchRow(record: BatchRecord) -> impl IntoView {
    let batch = expect_context::<BatchSession>();
    let id = record.spec.batch_id.clone();
    let shown = {
        let id = id.clone();
        Memo::new(move |_| {
            batch
                .record
                .with(|r| r.as_ref().is_some_and(|r| r.spec.batch_id == id))
        })
    };
    // The shown batch reads live from the session; the others as stored. Only the status and
    // the counts are kept, so a progress update copies no record.
    let facts = |r: &BatchRecord| {
        let finished = r.items.iter().filter(|i| i.is_finished()).count();
        let failed = r
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Failed)
            .count();
        (r.status, finished, failed, r.items.len())
    };
    let stored = facts(&record);
    let live = Memo::new(move |_| {
        if !shown.get() {
            return stored;
        }
        // The batch going: its counts as the session keeps them, without a pass over its items.
        let going = batch.progress.get().filter(|_| batch.busy.get());
        batch.record.with(|r| match (r, going) {
            (Some(r), Some(p)) => (r.status, p.done + p.failed, p.failed, p.total),
            (r, _) => r.as_ref().map_or(stored, facts),
        })
    });
    let status = move || live.get().0.as_str();
    let status_class = status;
    let summary = move || {
        let (_, finished, failed, total) = live.get();
        format!(
            "{finished} of {total}{}",
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            }
        )
    };
    let modes = format!("{:?}", record.spec.modes).to_lowercase();
    view! {
        <tr
            data-testid="batch-row"
            data-batch-id=id.clone()
            class=move || if shown.get() { "is-shown" } else { "" }
        >
            <td>
                <div>{record.spec.name.clone()}</div>
                <div class="mono muted">{id.clone()}</div>
            </td>
            <td>{record.spec.dataset_name.clone()}</td>
            <td>{modes}</td>
            <td>{date_text(record.spec.created_ms)}</td>
            <td><span class=move || format!("batch-badge batch-badge-{}", status_class())>{status}</span></td>
            <td>{summary}</td>
            <td>
                <a
                    class="btn btn-sm"
                    data-testid="batch-open"
                    href=batch_href(&id)
                    aria-current=move || shown.get().then_some("page")
                >
                    "Open"
                </a>
            </td>
        </tr>
    }
}

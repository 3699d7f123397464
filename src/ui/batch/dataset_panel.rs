//! The Datasets card: import a file (preview, field mapping, row issues), and the stored
//! datasets to pick from or delete.

use leptos::prelude::*;

use crate::app::batch::draft::{default_name, remap, DatasetDraft, Target};
use crate::app::format::{count_of, date_text};
use crate::core::clock::Clock;
use crate::core::dataset::{preview, MAX_DATASET_BYTES};
use crate::core::stored_dataset::{DatasetSummary, StoredDataset};
use crate::core::text::excerpt;
use crate::ui::components::notice::{ErrorText, WarningText};
use crate::ui::job::Job;
use crate::ui::store::SharedStore;
use crate::web::clock::BrowserClock;
use crate::web::file::{clear_picked, picked_file, read_bytes};

use super::session::BatchSession;

/// Rows shown in the import preview.
const PREVIEW_ROWS: usize = 8;
/// Row issues listed one by one; the rest are counted.
const LISTED_ISSUES: usize = 50;

/// Import, preview and the stored datasets.
#[component]
pub fn DatasetPanel() -> impl IntoView {
    let draft = RwSignal::new_local(None::<DatasetDraft>);
    // Reads the picked file into the draft; its outcome is why it could not be read.
    let read = Job::<Option<String>>::new();
    let on_import = move |ev: leptos::ev::Event| {
        let Some(file) = picked_file(&ev) else {
            return;
        };
        clear_picked(&ev);
        draft.set(None);
        read.run(async move {
            let name = file.name();
            let read = read_bytes(&file, MAX_DATASET_BYTES as u64)
                .await
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    DatasetDraft::read(&name, &bytes).map_err(|e| format!("{name}: {e}"))
                });
            match read {
                Ok(read) => {
                    draft.set(Some(read));
                    None
                }
                Err(message) => Some(message),
            }
        });
    };

    view! {
        <section class="card batch-datasets" aria-labelledby="batch-datasets-title">
            <h2 id="batch-datasets-title">"1. Dataset"</h2>
            <p class="muted">
                "JSONL, JSON or YAML, up to 50 MB. The original's keys (" <code>"id"</code> ", "
                <code>"problem"</code> ", " <code>"ground_truth"</code> ", " <code>"metadata"</code>
                ") and MATH-500's (" <code>"unique_id"</code> ", " <code>"answer"</code> ", "
                <code>"subject"</code> ", " <code>"level"</code> ") are recognised."
            </p>
            <div class="btn-group">
                <label class="btn file-btn">
                    "Import dataset…"
                    <input
                        type="file"
                        class="visually-hidden"
                        accept=".jsonl,.ndjson,.json,.yaml,.yml"
                        data-testid="dataset-import"
                        disabled=move || read.going()
                        on:change=on_import
                    />
                </label>
                {move || read.going().then(|| view! { <span class="muted">"Reading…"</span> })}
            </div>
            {move || read.outcome().get().flatten().map(|message| view! { <ErrorText message=message/> })}
            {move || draft.get().map(|d| view! { <DraftEditor draft=d on_done=draft/> })}
            <StoredDatasets/>
        </section>
    }
}

/// The file being imported: name, mapping, counts, issues, preview, and Save.
#[component]
fn DraftEditor(
    /// The draft as read.
    draft: DatasetDraft,
    /// Cleared when the draft is saved or discarded.
    on_done: RwSignal<Option<DatasetDraft>, LocalStorage>,
) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch = expect_context::<BatchSession>();
    let name = RwSignal::new(default_name(&draft.file_name));
    let keys = StoredValue::new(draft.keys.clone());
    let current = RwSignal::new_local(draft);
    let mapped = Memo::new(move |_| current.with(|d| d.dataset()));

    let set_target = move |target: Target, value: String| {
        let key = Some(value).filter(|v| !v.is_empty());
        current.update(|d| d.mapping = remap(&keys.get_value(), &d.mapping, target, key));
    };
    // Stores the draft; its outcome is why it was not stored.
    let store_draft = Job::<Option<String>>::new();
    let save = move |_| {
        let now = BrowserClock::new().now_ms();
        let Some(stored) = current.with_untracked(|d| d.to_stored(&name.get_untracked(), now))
        else {
            return;
        };
        store_draft.run(async move {
            match async { store.open().await?.put_dataset(&stored).await }.await {
                Ok(()) => {
                    batch
                        .picked_dataset
                        .set(Some(stored.summary.dataset_id.clone()));
                    batch.datasets_changed.update(|n| *n += 1);
                    on_done.set(None);
                    None
                }
                Err(e) => Some(format!("The dataset was not saved: {e}")),
            }
        });
    };

    let selects = Target::ALL
        .into_iter()
        .map(|target| {
            let id = format!("mapping-{}", target.name());
            let chosen = move || current.with(|d| target.get(&d.mapping).unwrap_or("").to_string());
            let empty_label = if target == Target::Problem {
                "— choose a key —"
            } else {
                "— none —"
            };
            view! {
                <div class="field">
                    <label for=id.clone()>{target.label()}</label>
                    <select
                        id=id.clone()
                        class="input"
                        name=id
                        data-testid=format!("mapping-{}", target.name())
                        prop:value=chosen
                        on:change=move |ev| set_target(target, event_target_value(&ev))
                    >
                        <option value="">{empty_label}</option>
                        {keys.get_value().into_iter().map(|k| view! {
                            <option value=k.clone()>{k.clone()}</option>
                        }).collect_view()}
                    </select>
                </div>
            }
        })
        .collect_view();

    let file_name = current.with_untracked(|d| d.file_name.clone());
    view! {
        <div class="batch-draft" data-testid="dataset-draft">
            <h3>"Importing " <span class="mono">{file_name}</span></h3>
            <div class="field">
                <label for="dataset-name">"Name"</label>
                <input
                    id="dataset-name"
                    class="input"
                    name="dataset_name"
                    data-testid="dataset-name"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </div>
            <fieldset class="batch-mapping">
                <legend>"Which key feeds which field"</legend>
                <div class="batch-mapping-grid">{selects}</div>
                <p class="muted">
                    "Metadata (filterable): "
                    {move || {
                        let meta = current.with(|d| d.mapping.metadata.clone());
                        if meta.is_empty() { "none".to_string() } else { meta.join(", ") }
                    }}
                </p>
            </fieldset>
            <p data-testid="dataset-counts">
                {move || mapped.with(|m| {
                    format!(
                        "{} usable, {} left out.",
                        count_of(m.problems.len(), "problem", "problems"),
                        count_of(m.issues.len(), "row", "rows"),
                    )
                })}
            </p>
            {move || mapped.with(|m| {
                (m.problems.is_empty()).then(|| view! {
                    <ErrorText message="No row can be used with this mapping: choose the key that holds the problem text."/>
                })
            })}
            {move || mapped.with(|m| {
                let n = m.issues.len();
                (n > 0).then(|| {
                    let listed = m.issues.iter().take(LISTED_ISSUES).map(|issue| view! {
                        <li data-testid="dataset-issue" data-location=issue.location.to_string()>
                            {issue.to_string()}
                        </li>
                    }).collect_view();
                    view! {
                        <WarningText message=format!(
                            "{} could not be used and will be left out (the rest are fine):",
                            count_of(n, "row", "rows")
                        )/>
                        <ul class="import-lines">{listed}</ul>
                        {(n > LISTED_ISSUES).then(|| view! {
                            <p class="muted">{format!("… and {} more.", n - LISTED_ISSUES)}</p>
                        })}
                    }
                })
            })}
            <DraftPreview current=current/>
            {move || store_draft.outcome().get().flatten().map(|message| view! { <ErrorText message=message/> })}
            <div class="btn-group">
                <button
                    type="button"
                    class="btn btn-primary"
                    data-testid="dataset-save"
                    disabled=move || store_draft.going() || mapped.with(|m| m.problems.is_empty())
                    on:click=save
                >
                    "Save dataset"
                </button>
                <button type="button" class="btn" on:click=move |_| on_done.set(None)>
                    "Discard"
                </button>
            </div>
        </div>
    }
}

/// The first rows of the file as the mapping reads them.
#[component]
fn DraftPreview(current: RwSignal<DatasetDraft, LocalStorage>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="batch-preview">
                <caption class="muted">{format!("The first {PREVIEW_ROWS} rows as they will be read")}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Row"</th>
                        <th scope="col">"Id"</th>
                        <th scope="col">"Problem"</th>
                        <th scope="col">"Ground truth"</th>
                        <th scope="col">"Metadata"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || current.with(|d| preview(&d.rows, &d.mapping, PREVIEW_ROWS))
                        .into_iter()
                        .map(|row| match row.result {
                            Ok(p) => {
                                let meta = p.metadata.iter()
                                    .map(|(k, v)| format!("{k}: {}", excerpt(&v.to_string(), 24)))
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                view! {
                                    <tr>
                                        <td class="muted">{row.location.to_string()}</td>
                                        <td class="mono">{p.id}</td>
                                        <td>{excerpt(&p.problem, 90)}</td>
                                        <td class="mono">{p.ground_truth.unwrap_or_else(|| "–".into())}</td>
                                        <td class="muted">{excerpt(&meta, 80)}</td>
                                    </tr>
                                }.into_any()
                            }
                            Err(problem) => view! {
                                <tr class="batch-preview-bad">
                                    <td class="muted">{row.location.to_string()}</td>
                                    <td colspan="4">{format!("left out: {problem}")}</td>
                                </tr>
                            }.into_any(),
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The stored datasets: pick one for the batch, or delete it.
#[component]
fn StoredDatasets() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let batch = expect_context::<BatchSession>();
    let datasets = LocalResource::new(move || {
        let _ = batch.datasets_changed.get();
        async move {
            let store = store.open().await?;
            store.list_datasets().await
        }
    });
    // Here, not in the row: a deleted row goes away, its error must not.
    let delete = Job::<Option<String>>::new();
    // The last dataset deleted, offered for undo until the next delete: it is put back as it
    // was stored (same id, so batches made from it can be resumed again).
    let deleted = RwSignal::new_local(None::<StoredDataset>);
    let undo = Job::<Option<String>>::new();
    let undo_delete = move |_| {
        let Some(dataset) = deleted.get_untracked() else {
            return;
        };
        undo.run(async move {
            match async { store.open().await?.put_dataset(&dataset).await }.await {
                Ok(()) => {
                    deleted.set(None);
                    batch.datasets_changed.update(|n| *n += 1);
                    None
                }
                Err(e) => Some(format!(
                    "“{}” could not be put back: {e}",
                    dataset.summary.name
                )),
            }
        });
    };
    // With none picked (a fresh page), the newest dataset is the likely one.
    Effect::new(move |_| {
        if let Some(Ok(list)) = datasets.get() {
            if batch.picked_dataset.with_untracked(Option::is_none) {
                if let Some(first) = list.first() {
                    batch.picked_dataset.set(Some(first.dataset_id.clone()));
                }
            }
        }
    });
    view! {
        <h3>"Saved datasets"</h3>
        {move || delete.outcome().get().flatten().map(|message| view! { <ErrorText message=message/> })}
        {move || undo.outcome().get().flatten().map(|message| view! { <ErrorText message=message/> })}
        {move || deleted.with(|d| d.as_ref().map(|d| d.summary.name.clone())).map(|name| view! {
            <p class="ok-text" role="status" data-testid="dataset-deleted">
                {format!("Deleted “{name}”. ")}
                <button type="button" class="btn btn-ghost btn-sm" data-testid="dataset-undo"
                    disabled=move || undo.going()
                    on:click=undo_delete>"Undo"</button>
            </p>
        })}
        {move || match datasets.get() {
            None => view! { <p class="muted">"Loading datasets…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorText message=e.to_string()/> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! {
                <p class="muted">"No dataset yet: import one above."</p>
            }.into_any(),
            Some(Ok(list)) => view! {
                <ul class="batch-dataset-list">
                    {list.into_iter().map(|d| view! { <DatasetRow summary=d delete=delete deleted=deleted/> }).collect_view()}
                </ul>
            }.into_any(),
        }}
    }
}

/// One stored dataset.
#[component]
fn DatasetRow(
    summary: DatasetSummary,
    /// Deleting a dataset; its outcome is why one was not deleted.
    delete: Job<Option<String>>,
    /// The dataset deleted last, kept for an undo.
    deleted: RwSignal<Option<StoredDataset>, LocalStorage>,
) -> impl IntoView {
    let batch = expect_context::<BatchSession>();
    let id = summary.dataset_id.clone();
    let picked = {
        let id = id.clone();
        move || {
            batch
                .picked_dataset
                .with(|p| p.as_deref() == Some(id.as_str()))
        }
    };
    let in_use = {
        let id = id.clone();
        move || {
            batch.busy.get()
                && batch
                    .record
                    .with(|r| r.as_ref().is_some_and(|r| r.spec.dataset_id == id))
        }
    };
    let pick = {
        let id = id.clone();
        move |_| batch.picked_dataset.set(Some(id.clone()))
    };
    let store = expect_context::<SharedStore>();
    let on_delete = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            delete.run(async move {
                match async { store.open().await?.take_dataset(&id).await }.await {
                    Ok(taken) => {
                        deleted.set(taken);
                        batch.picked_dataset.update(|p| {
                            if p.as_deref() == Some(id.as_str()) {
                                *p = None;
                            }
                        });
                        batch.datasets_changed.update(|n| *n += 1);
                        None
                    }
                    Err(e) => Some(format!("The dataset was not deleted: {e}")),
                }
            });
        }
    };
    let details = format!(
        "{} · {} · {}{}",
        count_of(summary.problem_count, "problem", "problems"),
        summary.file_name,
        date_text(summary.created_ms),
        if summary.skipped_rows > 0 {
            format!(
                " · {} left out",
                count_of(summary.skipped_rows, "row", "rows")
            )
        } else {
            String::new()
        }
    );
    let picked_class = picked.clone();
    view! {
        <li
            class=move || if picked_class() { "batch-dataset is-picked" } else { "batch-dataset" }
            data-testid="dataset-row"
            data-dataset-id=id.clone()
        >
            <div>
                <strong>{summary.name.clone()}</strong>
                <span class="muted">" " {details}</span>
            </div>
            <div class="btn-group">
                <button
                    type="button"
                    class="btn btn-sm"
                    data-testid="dataset-use"
                    aria-pressed=move || if picked() { "true" } else { "false" }
                    on:click=pick
                >
                    "Use"
                </button>
                <button
                    type="button"
                    class="btn btn-sm btn-danger"
                    data-testid="dataset-delete"
                    title="Delete the dataset; batches made from it keep their runs and results, but cannot be resumed without it"
                    disabled=move || in_use() || delete.going()
                    on:click=on_delete
                >
                    "Delete"
                </button>
            </div>
        </li>
    }
}

//! `/runs`: every stored run in a sortable, filterable table, with export and import of
//! trajectory JSONL.

use std::collections::BTreeSet;
use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;
use wasm_bindgen::JsCast;

use crate::app::file_names::all_runs_file_name;
use crate::app::format::{cost_text, date_text, plural, score_text, yes_no};
use crate::app::run::table::{
    mode_named, models_of, Correctness, Page, PageStarts, RunsQuery, SortKey, PAGE_SIZE,
};
use crate::core::config::Mode;
use crate::core::text::excerpt;
use crate::core::trajectory::{RunRecord, RunStatus, StopReason};
use crate::ui::components::notice::{ErrorText, WarningText};
use crate::ui::job::Job;
use crate::ui::run::actions::{delete_run, ResumeButton};
use crate::ui::run::export::{download_runs, EXPORT_CANCELLED};
use crate::ui::run::import::{import_copies, import_file, ImportReport};
use crate::ui::run::session::RunSession;
use crate::ui::store::SharedStore;
use crate::web::clock::after_next_paint;
use crate::web::file::{clear_picked, picked_file};
use crate::web::idb::{ExportFilter, ImportSummary, RunPosition};
use crate::web::save_file::streams_to_files;
use crate::web::spool_file::spools_to_disk;

/// What the table shows now: one page of rows and where it stands among the runs that match.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    /// The page's rows, in order.
    rows: Vec<RunRecord>,
    /// Which page of how many; `total` is the matching runs (so far, until `counted`).
    page: Page,
    /// Whether `page.total` is the count of matching runs, not only those seen so far.
    counted: bool,
    /// Whether a page comes after this one.
    has_next: bool,
    /// How many runs are stored in all (so far, until `counted`).
    stored: usize,
    /// Whether every run was read (the other sorts and filters need it).
    complete: bool,
}

/// The Runs page.
///
/// The date order, alone or filtered by status, is read a page at a time from an index
/// ([`RunsQuery::indexed_order`]): the first rows cost one cursor read of [`PAGE_SIZE`] runs
/// whatever the store holds, the next page starts after the last row shown, and the counts come
/// from the maintained counts record once the page is drawn. Any other sort or filter reads every run
/// and orders them in memory.
#[component]
pub fn RunsPage() -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let session = expect_context::<RunSession>();
    let query = query_in_address();
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let plan = Memo::new(move |_| query.with(RunsQuery::indexed_order));
    let starts = RwSignal::new(PageStarts::<RunPosition>::default());
    let page_index = RwSignal::new(0usize);
    // A new sort or filter starts again from the first page.
    Effect::watch(
        move || query.track(),
        move |_, _, _| {
            starts.set(PageStarts::default());
            page_index.set(0);
        },
        false,
    );
    let indexed = LocalResource::new(move || {
        let _ = session.runs_changed.get();
        let plan = plan.get();
        let after = starts.with(PageStarts::current);
        async move {
            let plan = plan?;
            let read = async {
                let store = store.open().await?;
                store
                    .runs_page(
                        plan.status,
                        plan.newest_first,
                        after.as_ref(),
                        PAGE_SIZE as u32,
                    )
                    .await
            };
            Some(read.await.map_err(|e| e.to_string()))
        }
    });
    // (matching, stored), from the maintained counts record once the page is drawn; a failed
    // read only leaves them unknown (the page's own read reports any storage problem).
    let counts = LocalResource::new(move || {
        let _ = session.runs_changed.get();
        let status = plan.get().map(|p| p.status);
        async move {
            let status = status?;
            after_next_paint().await;
            let counts = store.open().await.ok()?.run_counts().await.ok()?;
            Some((counts.matching(status) as usize, counts.total() as usize))
        }
    });
    let all = LocalResource::new(move || {
        let _ = session.runs_changed.get();
        let needed = plan.with(Option::is_none);
        async move {
            if !needed {
                return None;
            }
            let read = async { store.open().await?.list_runs().await };
            Some(read.await.map(Arc::new).map_err(|e| e.to_string()))
        }
    });
    // Positions in every run of those that pass the filters, in order, when every run is read.
    let in_memory = Memo::new(move |_| {
        all.with(|a| match a {
            Some(Some(Ok(runs))) => Some(Ok((
                Arc::clone(runs),
                query.with(|q| Arc::new(q.apply_indices(runs))),
            ))),
            Some(Some(Err(e))) => Some(Err(e.clone())),
            _ => None,
        })
    });
    let shown = Memo::new(move |_| -> Option<Result<Shown, String>> {
        if plan.with(Option::is_some) {
            let read = indexed.get().flatten()?;
            return Some(read.map(|read| {
                let index = starts.with(PageStarts::index);
                let start = index * PAGE_SIZE;
                let seen = start + read.runs.len();
                let (matching, stored, counted) = match counts.get().flatten() {
                    // A count read before a change may trail the page: never below it.
                    Some((matching, stored)) => (matching.max(seen), stored.max(seen), true),
                    None => (seen, seen, !read.more && index == 0),
                };
                let page = Page::of(matching, PAGE_SIZE, index);
                Shown {
                    rows: read.runs,
                    page,
                    counted,
                    has_next: read.more,
                    stored,
                    complete: false,
                }
            }));
        }
        let listed = in_memory.get()?;
        Some(listed.map(|(runs, indices)| {
            let page = Page::of(indices.len(), PAGE_SIZE, page_index.get());
            let rows = indices[page.start..page.end]
                .iter()
                .map(|&i| runs[i].clone())
                .collect();
            Shown {
                rows,
                page,
                counted: true,
                has_next: page.has_next(),
                stored: runs.len(),
                complete: true,
            }
        }))
    });
    let state = Memo::new(move |_| {
        shown.with(|s| match s {
            None => ListState::Loading,
            Some(Err(e)) => ListState::Failed(e.clone()),
            Some(Ok(s)) if s.counted && s.stored == 0 => ListState::Empty,
            Some(Ok(_)) => ListState::Shown,
        })
    });
    // Every batch that runs belong to, from the batch index's keys, for the batch filter.
    let batch_ids = LocalResource::new(move || {
        let _ = session.runs_changed.get();
        async move {
            after_next_paint().await;
            store.open().await.ok()?.batch_ids_of_runs().await.ok()
        }
    });
    let batch_ids = Signal::derive(move || batch_ids.get().flatten());
    // The models every stored run called, for the model filter. No index holds them, so they
    // are read (every run) only once the filter is opened, when the page reads one page of runs.
    let models_wanted = RwSignal::new(false);
    let all_models = LocalResource::new(move || {
        let _ = session.runs_changed.get();
        let needed = models_wanted.get() && plan.with(Option::is_some);
        async move {
            if !needed {
                return None;
            }
            let runs = store.open().await.ok()?.list_runs().await.ok()?;
            Some(choices(&runs, models_of, None))
        }
    });
    let all_models = Signal::derive(move || all_models.get().flatten());
    // The filters' other choices: from every run when every run is read, else from the page
    // shown.
    let known_runs = Signal::derive(move || -> Arc<Vec<RunRecord>> {
        if let Some(Ok((runs, _))) = in_memory.get() {
            return runs;
        }
        shown.with(|s| match s {
            Some(Ok(s)) => Arc::new(s.rows.clone()),
            _ => Arc::default(),
        })
    });
    let next = Callback::new(move |()| {
        if plan.with_untracked(Option::is_some) {
            let last = shown.with_untracked(|s| match s {
                Some(Ok(s)) => s.rows.last().map(RunPosition::of),
                _ => None,
            });
            if let Some(last) = last {
                starts.update(|s| s.next(last));
            }
        } else {
            page_index.update(|i| *i += 1);
        }
    });
    let previous = Callback::new(move |()| {
        if plan.with_untracked(Option::is_some) {
            starts.update(PageStarts::previous);
        } else {
            page_index.update(|i| *i = i.saturating_sub(1));
        }
    });
    // Every run that matches, on every page: from the indexes' keys, or from the runs read.
    let matching_ids = move || -> Option<Vec<String>> {
        in_memory.with_untracked(|m| match m {
            Some(Ok((runs, indices))) => {
                Some(indices.iter().map(|&i| runs[i].run_id.clone()).collect())
            }
            _ => None,
        })
    };
    let select_all = Callback::new(move |on: bool| {
        let apply = move |ids: Vec<String>| {
            selected.update(|s| {
                for id in ids {
                    if on {
                        s.insert(id);
                    } else {
                        s.remove(&id);
                    }
                }
            });
        };
        if let Some(plan) = plan.get_untracked() {
            leptos::task::spawn_local(async move {
                let ids = match store.open().await {
                    Ok(store) => store.run_ids_in(plan.status).await,
                    Err(e) => Err(e),
                };
                if let Ok(ids) = ids {
                    apply(ids);
                }
            });
        } else if let Some(ids) = matching_ids() {
            apply(ids);
        }
    });
    let table = move || {
        view! {
            <RunsTable shown=shown query=query selected=selected next=next previous=previous
                select_all=select_all/>
        }
    };
    view! {
        <div class="page-head">
            <div>
                <h1>"Runs"</h1>
                <p class="lede">
                    "Every run saved in this browser. Open one for its transcript; export "
                    "trajectories as JSONL for training, or import files from Trialogue or the "
                    "original pipeline."
                </p>
            </div>
        </div>
        <Transfer selected=selected/>
        <Filters
            query=query
            runs=known_runs
            batch_ids=batch_ids
            all_models=all_models
            models_wanted=models_wanted
        />
        {move || match state.get() {
            ListState::Loading if plan.with(Option::is_none) => view! {
                <p class="muted" data-testid="runs-loading-all" aria-live="polite">
                    "Reading every run to sort, filter and page them…"
                </p>
            }
            .into_any(),
            ListState::Loading => view! { <p class="muted">"Loading runs…"</p> }.into_any(),
            ListState::Failed(e) => view! { <ErrorText message=e/> }.into_any(),
            ListState::Empty => view! {
                <p class="card muted runs-empty">
                    "No runs yet. Start one on the Run page, or import a trajectory JSONL file."
                </p>
            }
            .into_any(),
            ListState::Shown => table().into_any(),
        }}
    }
}

/// Which of the page's states to draw.
#[derive(Debug, Clone, PartialEq)]
enum ListState {
    Loading,
    Failed(String),
    Empty,
    Shown,
}

/// The table's query, kept in the page's address (`/runs?sort=cost&correct=wrong`) so that a
/// link, a reload and the browser's back and forward show the same table: the address is read
/// into the query when it changes, and a change of the query is written to the address (a new
/// history entry, except while the search text is typed, which replaces the current one).
fn query_in_address() -> RwSignal<RunsQuery> {
    let params = use_query_map();
    let navigate = use_navigate();
    let read = move |p: &ParamsMap| RunsQuery::from_params(|name| p.get(name));
    let query = RwSignal::new(params.with_untracked(read));
    Effect::new(move |_| {
        let said = params.with(read);
        if query.with_untracked(|q| *q != said) {
            query.set(said);
        }
    });
    Effect::watch(
        move || query.get(),
        move |wanted, _, _| {
            let said = params.with_untracked(read);
            if *wanted == said {
                return;
            }
            let typing = RunsQuery {
                text: wanted.text.clone(),
                ..said
            } == *wanted;
            let address: ParamsMap = wanted.to_params().into_iter().collect();
            navigate(
                &format!("/runs{}", address.to_query_string()),
                NavigateOptions {
                    replace: typing,
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        },
        false,
    );
    query
}

/// The distinct values `of` gives over `runs`, sorted, with `current` among them (a value
/// from the address shows as chosen before the runs are read).
fn choices<'a>(
    runs: &'a [RunRecord],
    of: impl Fn(&'a RunRecord) -> Vec<&'a str>,
    current: Option<&str>,
) -> Vec<String> {
    let mut seen: BTreeSet<String> = runs.iter().flat_map(of).map(str::to_string).collect();
    if let Some(current) = current {
        seen.insert(current.to_string());
    }
    seen.into_iter().collect()
}

/// `known` (sorted) with `current` among them.
fn with_current(mut known: Vec<String>, current: Option<String>) -> Vec<String> {
    if let Some(current) = current.filter(|c| !known.contains(c)) {
        known.push(current);
        known.sort();
    }
    known
}

/// Status, mode, batch, model, correctness and text filters. The batches offered are
/// `batch_ids` when known, else those of `runs`; the models `all_models` when known (asked for
/// through `models_wanted` when the model filter is opened), else those of `runs`.
#[component]
fn Filters(
    query: RwSignal<RunsQuery>,
    runs: Signal<Arc<Vec<RunRecord>>>,
    batch_ids: Signal<Option<Vec<String>>>,
    all_models: Signal<Option<Vec<String>>>,
    models_wanted: RwSignal<bool>,
) -> impl IntoView {
    let batches = Memo::new(move |_| {
        let current = query.with(|q| q.batch.clone());
        if let Some(ids) = batch_ids.get() {
            return with_current(ids, current);
        }
        runs.with(|all| {
            choices(
                all,
                |r| r.batch_id.as_deref().into_iter().collect(),
                current.as_deref(),
            )
        })
    });
    let models = Memo::new(move |_| {
        let current = query.with(|q| q.model.clone());
        if let Some(models) = all_models.get() {
            return with_current(models, current);
        }
        runs.with(|all| choices(all, models_of, current.as_deref()))
    });
    let want_models = move || {
        if !models_wanted.get_untracked() {
            models_wanted.set(true);
        }
    };
    let chosen = |value: Option<&str>| value.unwrap_or_default().to_string();
    view! {
        <div class="runs-filters" role="search">
            <div class="field">
                <label for="runs-search">"Search"</label>
                <input
                    id="runs-search"
                    class="input"
                    type="search"
                    name="runs_search"
                    placeholder="problem, run id or config hash"
                    prop:value=move || query.with(|q| q.text.clone())
                    on:input=move |ev| query.update(|q| q.text = event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="runs-status">"Status"</label>
                <select
                    id="runs-status"
                    class="input"
                    name="runs_status"
                    prop:value=move || query.with(|q| chosen(q.status.map(|s| s.as_str())))
                    on:change=move |ev| query.update(|q| q.status = RunStatus::named(&event_target_value(&ev)))
                >
                    <option value="">"any"</option>
                    {RunStatus::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="runs-mode">"Mode"</label>
                <select
                    id="runs-mode"
                    class="input"
                    name="runs_mode"
                    prop:value=move || query.with(|q| chosen(q.mode.map(|m| m.as_str())))
                    on:change=move |ev| query.update(|q| q.mode = mode_named(&event_target_value(&ev)))
                >
                    <option value="">"any"</option>
                    <option value=Mode::Debate.as_str()>"debate"</option>
                    <option value=Mode::Baseline.as_str()>"baseline"</option>
                </select>
            </div>
            <div class="field">
                <label for="runs-correct">"Answer"</label>
                <select
                    id="runs-correct"
                    class="input"
                    name="runs_correct"
                    data-testid="runs-filter-correct"
                    prop:value=move || query.with(|q| chosen(q.correctness.map(Correctness::as_str)))
                    on:change=move |ev| query.update(|q| q.correctness = Correctness::named(&event_target_value(&ev)))
                >
                    <option value="">"any"</option>
                    {Correctness::ALL
                        .into_iter()
                        .map(|c| view! { <option value=c.as_str()>{c.label()}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="runs-batch">"Batch"</label>
                <select
                    id="runs-batch"
                    class="input"
                    name="runs_batch"
                    data-testid="runs-filter-batch"
                    prop:value=move || query.with(|q| chosen(q.batch.as_deref()))
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        query.update(|q| q.batch = (!value.is_empty()).then_some(value));
                    }
                >
                    <option value="">"any"</option>
                    // Chosen by the option, not only the select: the options come after the
                    // address is read, and a select keeps no value its options lack.
                    {move || batches.get().into_iter().map(|b| {
                        let is_chosen = {
                            let b = b.clone();
                            move || query.with(|q| q.batch.as_ref() == Some(&b))
                        };
                        view! { <option value=b.clone() prop:selected=is_chosen>{b.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="runs-model">"Model"</label>
                <select
                    id="runs-model"
                    class="input"
                    name="runs_model"
                    data-testid="runs-filter-model"
                    on:focus=move |_| want_models()
                    on:pointerdown=move |_| want_models()
                    prop:value=move || query.with(|q| chosen(q.model.as_deref()))
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        query.update(|q| q.model = (!value.is_empty()).then_some(value));
                    }
                >
                    <option value="">"any"</option>
                    {move || models.get().into_iter().map(|m| {
                        let is_chosen = {
                            let m = m.clone();
                            move || query.with(|q| q.model.as_ref() == Some(&m))
                        };
                        view! { <option value=m.clone() prop:selected=is_chosen>{m.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
        </div>
    }
}

/// Export all / selected, and import.
#[component]
fn Transfer(selected: RwSignal<BTreeSet<String>>) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let session = expect_context::<RunSession>();
    let export = Job::<Result<String, String>>::new();
    let import = Job::<Result<ImportReport, String>>::new();
    let working = move || export.going() || import.going();
    // One report at a time: the last export's or the last import's.
    let start_export = move |filter: ExportFilter| {
        import.outcome().set(None);
        export.run(async move {
            let name = all_runs_file_name(js_sys::Date::now());
            let Some(s) = download_runs(store, filter, &name)
                .await
                .map_err(|e| e.to_string())?
            else {
                return Ok(EXPORT_CANCELLED.to_string());
            };
            Ok(format!(
                "Exported {} step{} of {} run{} as {name}.",
                s.steps,
                plural(s.steps),
                s.runs,
                plural(s.runs)
            ))
        });
    };
    let export_selected = move |_| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        start_export(ExportFilter::Runs(ids));
    };
    let on_import = move |ev: leptos::ev::Event| {
        let Some(file) = picked_file(&ev) else {
            return;
        };
        clear_picked(&ev);
        export.outcome().set(None);
        import.run(async move {
            let report = import_file(store, &file).await.map_err(|e| e.to_string())?;
            session.touch_runs();
            Ok(report)
        });
    };
    view! {
        <section class="card runs-transfer" aria-label="Export and import">
            <div class="btn-group">
                <button type="button" class="btn" data-testid="runs-export-all"
                    disabled=working
                    on:click=move |_| start_export(ExportFilter::All)>"Export all (JSONL)"</button>
                <button type="button" class="btn" data-testid="runs-export-selected"
                    disabled=move || working() || selected.with(BTreeSet::is_empty)
                    on:click=export_selected>
                    {move || format!("Export selected ({})", selected.with(BTreeSet::len))}
                </button>
                <a class="btn" data-testid="runs-training"
                    href=move || selected.with(|s| {
                        crate::ui::training::runs_href(&s.iter().cloned().collect::<Vec<_>>())
                    })>
                    "Training data…"
                </a>
                <label class="btn file-btn">
                    "Import JSONL…"
                    <input type="file" class="visually-hidden" accept=".jsonl,.json,.ndjson,.txt"
                        data-testid="trajectory-import"
                        disabled=working
                        on:change=on_import/>
                </label>
                {move || working().then(|| view! { <span class="muted">"Working…"</span> })}
            </div>
            {(!streams_to_files() && !spools_to_disk()).then(|| view! {
                <p class="muted" data-testid="export-in-memory">
                    "This browser builds the export file in memory before saving it, so a very "
                    "large export may fail; Chromium-based browsers write it to disk as it is read."
                </p>
            })}
            {move || export.outcome().get().map(|m| match m {
                Ok(text) => view! { <p class="msg ok-text" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <ErrorText message=text/> }.into_any(),
            })}
            {move || import.outcome().get().map(|r| match r {
                Ok(report) => view! { <ImportResult report=report/> }.into_any(),
                Err(text) => view! { <ErrorText message=text/> }.into_any(),
            })}
        </section>
    }
}

/// The imported runs the import report links to by name.
const MAX_RUN_LINKS: usize = 50;

/// What an import did: accepted and rejected lines, runs stored, ids that were taken.
#[component]
fn ImportResult(report: ImportReport) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let session = expect_context::<RunSession>();
    let imported_steps = report.imported_steps();
    let s = report.summary;
    let conflicts = s.conflicts.clone();
    let conflicting = StoredValue::new(report.conflicting);
    let copy = Job::<Result<ImportSummary, String>>::new();
    let copies = copy.outcome();
    let rejected = s.rejected.len();
    view! {
        <div class="import-report" data-testid="import-report" aria-live="polite">
            <p>
                <strong>{report.file_name}</strong> ": "
                <span data-testid="import-accepted">{report.accepted_lines}</span>
                {format!(" line{} read as steps, ", plural(report.accepted_lines))}
                <span data-testid="import-rejected-count">{rejected}</span>
                {format!(" line{} rejected; ", plural(rejected))}
                {format!(
                    "{} run{} ({imported_steps} step{}) imported.",
                    s.imported.len(),
                    plural(s.imported.len()),
                    plural(imported_steps)
                )}
            </p>
            {(!s.imported.is_empty()).then(|| view! {
                <ul class="run-links">
                    // A large file imports tens of thousands of runs: linking each would build
                    // that many elements at once; the runs table below lists them all.
                    {s.imported.iter().take(MAX_RUN_LINKS).map(|r| {
                        let note = (r.run_id != r.original_id)
                            .then(|| format!(" (copy of {})", r.original_id));
                        view! {
                            <li><a class="mono" href=format!("/runs/{}", r.run_id)>{r.run_id.clone()}</a>{note}</li>
                        }
                    }).collect_view()}
                    {(s.imported.len() > MAX_RUN_LINKS).then(|| view! {
                        <li>{format!("and {} more, listed below", s.imported.len() - MAX_RUN_LINKS)}</li>
                    })}
                </ul>
            })}
            {(rejected > 0).then(|| view! {
                <WarningText message=format!(
                    "{rejected} line{} could not be read as steps and {} skipped:",
                    plural(rejected),
                    if rejected == 1 { "was" } else { "were" }
                )/>
                <ul class="import-lines">
                    {s.rejected.iter().map(|r| view! {
                        <li data-testid="import-rejected" data-line=r.line>{r.to_string()}</li>
                    }).collect_view()}
                </ul>
            })}
            {(!s.duplicates.is_empty()).then(|| view! {
                <ul class="import-lines">
                    {s.duplicates.iter().map(|d| view! {
                        <li data-testid="import-duplicate">{d.to_string()}</li>
                    }).collect_view()}
                </ul>
            })}
            {s.failed.iter().map(|f| view! {
                <ErrorText message=format!("Run {} was not imported: {}", f.run_id, f.error)/>
            }).collect_view()}
            {(!conflicts.is_empty()).then(|| {
                let n = conflicts.len();
                view! {
                    <div class="import-conflicts" data-testid="import-conflicts">
                        <WarningText message=format!(
                            "{n} run{} in the file {} already stored under the same id; the stored run{} {} left unchanged:",
                            plural(n),
                            if n == 1 { "is" } else { "are" },
                            plural(n),
                            if n == 1 { "was" } else { "were" },
                        )/>
                        <ul class="import-lines">
                            {conflicts.iter().map(|id| view! {
                                <li class="mono" data-testid="import-conflict">{id.clone()}</li>
                            }).collect_view()}
                        </ul>
                        <Show when=move || copies.with(Option::is_none)>
                            <button type="button" class="btn btn-sm" data-testid="import-as-copies"
                                disabled=move || copy.going()
                                on:click=move |_| {
                                    let conflicting = conflicting.get_value();
                                    copy.run(async move {
                                        let result = import_copies(store, conflicting).await;
                                        session.touch_runs();
                                        result.map_err(|e| e.to_string())
                                    });
                                }>
                                "Import them as copies (new ids)"
                            </button>
                        </Show>
                        {move || copies.get().map(|result| match result {
                            Ok(done) => {
                                let n = done.imported.len();
                                view! {
                                    <p class="msg ok-text" role="status">
                                        {format!("Imported {n} cop{}: ", if n == 1 { "y" } else { "ies" })}
                                        {done.imported.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>().join(", ")}
                                    </p>
                                    {done.failed.iter().map(|f| view! {
                                        <ErrorText message=format!("Run {} was not imported: {}", f.run_id, f.error)/>
                                    }).collect_view()}
                                }
                                .into_any()
                            }
                            Err(e) => view! { <ErrorText message=e/> }.into_any(),
                        })}
                    </div>
                }
            })}
        </div>
    }
}

/// The table itself: the page of rows `shown`, its headings and its pager.
#[component]
fn RunsTable(
    shown: Memo<Option<Result<Shown, String>>>,
    query: RwSignal<RunsQuery>,
    selected: RwSignal<BTreeSet<String>>,
    next: Callback<()>,
    previous: Callback<()>,
    select_all: Callback<bool>,
) -> impl IntoView {
    let current = move || -> Option<Shown> { shown.get().and_then(Result::ok) };
    let page_rows = Memo::new(move |_| current().map(|s| s.rows).unwrap_or_default());
    let page = Memo::new(move |_| current().map_or_else(|| Page::of(0, PAGE_SIZE, 0), |s| s.page));
    let counted = Signal::derive(move || current().is_some_and(|s| s.counted));
    let has_next = Signal::derive(move || current().is_some_and(|s| s.has_next));
    let all_selected = move || {
        shown.with(|s| match s {
            Some(Ok(s)) => {
                s.counted
                    && s.page.total > 0
                    && selected.with(|sel| {
                        sel.len() >= s.page.total && s.rows.iter().all(|r| sel.contains(&r.run_id))
                    })
            }
            _ => false,
        })
    };
    let toggle_all = move |ev: leptos::ev::Event| select_all.run(event_target_checked(&ev));
    let heading = move |key: SortKey| {
        let aria = move || {
            query.with(|q| {
                if q.sort != key {
                    "none"
                } else if q.descending {
                    "descending"
                } else {
                    "ascending"
                }
            })
        };
        let arrow = move || {
            query.with(|q| match (q.sort == key, q.descending) {
                (false, _) => "",
                (true, true) => " ↓",
                (true, false) => " ↑",
            })
        };
        view! {
            <th scope="col" aria-sort=aria>
                <button type="button" class="th-sort" data-sort=format!("{key:?}").to_lowercase()
                    on:click=move |_| query.update(|q| *q = q.clicked(key))>
                    {key.label()} {arrow}
                </button>
            </th>
        }
    };
    view! {
        <p class="muted runs-count">
            {move || {
                let Some(s) = current() else { return String::new() };
                let total = s.stored;
                let n = s.page.total;
                if !s.counted {
                    // The page is drawn; the count is on its way.
                    format!("{total}+ runs")
                } else if n == total {
                    format!("{total} run{}", plural(total))
                } else {
                    format!("{n} of {total} runs match the filters")
                }
            }}
        </p>
        <div class="table-wrap">
            <table class="runs-table">
                <thead>
                    <tr>
                        <th scope="col" class="col-check">
                            <input type="checkbox" aria-label="Select every run that matches the filters, on every page"
                                disabled=move || !counted.get()
                                prop:checked=all_selected on:change=toggle_all/>
                        </th>
                        {SortKey::ALL.into_iter().map(heading).collect_view()}
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || page_rows.get() key=|r| (r.run_id.clone(), r.updated_ms.to_bits(), r.status) let:run>
                        <RunRow run=run selected=selected/>
                    </For>
                </tbody>
            </table>
        </div>
        <Pager page=page counted=counted has_next=has_next next=next previous=previous/>
        <DeleteSelected selected=selected/>
    }
}

/// "Showing 1–100 of 10,000 runs" with Previous / Next.
#[component]
fn Pager(
    page: Memo<Page>,
    counted: Signal<bool>,
    has_next: Signal<bool>,
    next: Callback<()>,
    previous: Callback<()>,
) -> impl IntoView {
    view! {
        <nav class="runs-pager btn-group" aria-label="Pages of runs" data-testid="runs-pager">
            <button type="button" class="btn btn-sm" data-testid="runs-page-prev"
                disabled=move || !page.with(Page::has_previous)
                on:click=move |_| previous.run(())>
                "← Previous"
            </button>
            <span class="muted" data-testid="runs-page-status" aria-live="polite">
                {move || if counted.get() { page.with(Page::label) } else { page.with(Page::label_so_far) }}
                {move || page.with(|p| (p.count > 1).then(|| format!(" (page {} of {})", p.index + 1, p.count)))}
            </span>
            <button type="button" class="btn btn-sm" data-testid="runs-page-next"
                disabled=move || !has_next.get()
                on:click=move |_| next.run(())>
                "Next →"
            </button>
        </nav>
    }
}

/// One row; a click anywhere but on a control opens the run.
#[component]
fn RunRow(run: RunRecord, selected: RwSignal<BTreeSet<String>>) -> impl IntoView {
    let navigate = use_navigate();
    let id = run.run_id.clone();
    let href = format!("/runs/{id}");
    let open = {
        let href = href.clone();
        move |ev: leptos::ev::MouseEvent| {
            let on_control = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("a, button, input, label, select").ok().flatten())
                .is_some();
            if !on_control {
                navigate(&href, Default::default());
            }
        }
    };
    let checked = {
        let id = id.clone();
        move || selected.with(|s| s.contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                if on {
                    s.insert(id.clone());
                } else {
                    s.remove(&id);
                }
            });
        }
    };
    let cost = if run.cost_usd.is_some() && !run.cost_complete {
        format!("≥ {}", cost_text(run.cost_usd))
    } else {
        cost_text(run.cost_usd)
    };
    let correct = if run.ground_truth.is_none() && run.correct.is_none() {
        "–"
    } else {
        yes_no(run.correct)
    };
    let status = run.status;
    view! {
        <tr class="run-row" data-testid="run-row" data-run-id=id.clone() data-status=status.as_str() on:click=open>
            <td class="col-check">
                <input type="checkbox" aria-label=format!("Select run {id}")
                    prop:checked=checked on:change=toggle/>
            </td>
            <td data-col="status"><span class=format!("run-badge run-badge-{}", status.as_str())>{status.as_str()}</span></td>
            <td data-col="stopped">
                <span data-testid="run-row-stop-reason" title=run.stop_reason.map(StopReason::label)>
                    {run.stop_reason.map_or("–", StopReason::as_str)}
                </span>
                {(run.errors > 0).then(|| view! {
                    <span class="muted run-errors" data-testid="run-row-errors" data-errors=run.errors>
                        {format!(" · {} failed {}", run.errors, if run.errors == 1 { "call" } else { "calls" })}
                    </span>
                })}
            </td>
            <td data-col="mode">{run.mode.as_str()}</td>
            <td data-col="config"><code>{run.config_hash.clone()}</code></td>
            <td data-col="problem" class="col-problem">
                <a href=href.clone() title=id.clone()>{excerpt(&run.problem, 80)}</a>
                {run.derived_from.as_ref().map(|origin| view! {
                    <span class="muted run-origin" data-testid="run-row-derived-from"
                        data-kind=origin.kind.as_str() data-source-run=origin.run_id.clone()>
                        " · " {origin.kind.label()} " of "
                        <a href=format!("/runs/{}", origin.run_id) class="mono">{origin.run_id.clone()}</a>
                    </span>
                })}
            </td>
            <td data-col="iterations" class="num">{run.iterations}</td>
            <td data-col="passed">{yes_no(StopReason::verdict(run.stop_reason, run.passed))}</td>
            <td data-col="judge" class="num">{score_text(run.judge_score)}</td>
            <td data-col="correct">{correct}</td>
            <td data-col="cost" class="num mono">{cost}</td>
            <td data-col="date" class="nowrap">{date_text(run.created_ms)}</td>
            <td class="col-actions">
                <ResumeButton run_id=id.clone() resumable=run.resumable() open_run=true small=true/>
            </td>
        </tr>
    }
}

/// Deletes the selected runs after a confirmation.
#[component]
fn DeleteSelected(selected: RwSignal<BTreeSet<String>>) -> impl IntoView {
    let store = expect_context::<SharedStore>();
    let session = expect_context::<RunSession>();
    let asking = RwSignal::new(false);
    let delete = Job::<Option<String>>::new();
    let confirm = move |_| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        delete.run(async move {
            let mut failures = Vec::new();
            match store.open().await {
                Ok(store) => {
                    for id in &ids {
                        // The live run keeps writing steps: it is never deleted under itself.
                        if session.is_running(id) {
                            failures.push(format!("{id} is going; cancel it first"));
                            continue;
                        }
                        match delete_run(&store, id).await {
                            Ok(_) => selected.update(|s| {
                                s.remove(id);
                            }),
                            Err(e) => failures.push(e),
                        }
                    }
                }
                Err(e) => failures.push(e.to_string()),
            }
            asking.set(false);
            session.touch_runs();
            (!failures.is_empty())
                .then(|| format!("Some runs were not deleted: {}", failures.join("; ")))
        });
    };
    view! {
        <div class="runs-delete">
            <Show
                when=move || asking.get()
                fallback=move || view! {
                    <button type="button" class="btn btn-ghost" data-testid="runs-delete-selected"
                        disabled=move || selected.with(BTreeSet::is_empty)
                        on:click=move |_| asking.set(true)>
                        {move || format!("Delete selected ({})", selected.with(BTreeSet::len))}
                    </button>
                }
            >
                <span class="confirm" role="group" aria-label="Confirm delete">
                    {move || {
                        let n = selected.with(BTreeSet::len);
                        format!("Delete {n} run{} and all {} steps? This cannot be undone.", plural(n), if n == 1 { "its" } else { "their" })
                    }}
                    <button type="button" class="btn btn-danger btn-sm" data-testid="runs-delete-confirm"
                        disabled=move || delete.going()
                        on:click=confirm>"Delete"</button>
                    <button type="button" class="btn btn-sm" on:click=move |_| asking.set(false)>"Keep"</button>
                </span>
            </Show>
            {move || delete.outcome().get().flatten().map(|message| view! { <ErrorText message=message/> })}
        </div>
    }
}

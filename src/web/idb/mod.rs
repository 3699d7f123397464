//! The run store: runs, their trajectory steps and saved configs in the browser's IndexedDB.
//!
//! [`TrajectoryStore`] is the only door to the database. Every method is one short
//! transaction that awaits nothing but IndexedDB requests: a transaction left open across any
//! other await (an LLM call, a timer) is committed by the browser behind our back, and the next
//! write in it fails. Steps are written with `add`, never `put`, so a step that is stored can
//! never be replaced; the run's totals are updated in the same transaction as its step.
//!
//! The store implements core's [`TrajectorySink`], so the agent loop writes each step here and
//! waits for it to be committed before the next call.
//!
//! See [`schema`] for the layout and its versions; `records.rs` says how values are stored
//! (as JSON text, so numbers round-trip exactly).

mod batches;
mod chained;
mod error;
mod export;
mod in_flight;
mod provider_rounds;
mod records;
mod replies;
mod reply_reads;
mod rollups;
mod run_counts;
mod run_index;
pub mod schema;
mod transfer;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};

use indexed_db_futures::database::Database;
// `as_sys` reaches the web_sys objects under the crate's wrappers: the crate exposes neither
// the versionchange transaction (needed to change stores that already exist) nor
// `onversionchange` (short of its tokio-based `version-change` feature).
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{Transaction, TransactionMode};
use indexed_db_futures::KeyRange;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::core::config::PipelineConfig;
use crate::core::in_flight::InFlightCall;
use crate::core::run_store::create_under_free_id;
use crate::core::sorting;
use crate::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};

pub use error::StoreError;
pub use export::{ExportFilter, ExportSummary, JsonlExport, CHUNKS_KEPT};
pub use records::SavedConfig;
pub use replies::{tab_reply_index, ReplyStoreSize};
pub use rollups::BuildProgress;
pub use run_index::{IndexedPage, RunPosition};
pub use schema::{DB_NAME, DB_VERSION};
pub use transfer::{ImportFailure, ImportSummary, ImportedRun, OnConflict, StreamedImport};

use error::{from_idb, from_open, is_constraint};
use records::{run_step_bounds, ConfigRow, RunRow, StepRow};
use schema::{index, CONFIGS, COST_ROLLUPS, IN_FLIGHT, RUNS, RUN_COUNTS, STEPS};

/// How many runs [`TrajectoryStore::list_runs`] reads per request.
pub const LIST_CHUNK: u32 = 1000;

pub use crate::core::driver::startup::INTERRUPTED_MESSAGE;

/// How much of the site's storage is used, as the browser estimates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageUsage {
    /// Bytes used by this site, if the browser says.
    pub usage: Option<u64>,
    /// Bytes this site may use, if the browser says.
    pub quota: Option<u64>,
}

/// An open connection to the run store.
///
/// Cloning is cheap and shares the connection. When another tab opens the database at a newer
/// version, this connection closes itself so that tab is not blocked; calls then fail with
/// [`StoreError::Closed`], and [`is_closed`](Self::is_closed) says so beforehand.
#[derive(Debug, Clone)]
pub struct TrajectoryStore {
    db: Database,
    /// Set once the connection is closed under us (a newer version elsewhere, or the browser
    /// closing it when the site's data is cleared); shared by every clone.
    closed: Rc<Cell<bool>>,
    /// Run ids this connection tried to create (see [`Self::create_run_under_free_id`]).
    tried_run_ids: Rc<RefCell<HashSet<String>>>,
}

thread_local! {
    // Databases with an upgrade waiting for other tabs to close: a second open would queue
    // behind it silently, so it reports the block at once instead.
    static PENDING_UPGRADES: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Set by the `blocked` handler of an open request; wakes the task waiting on the open.
#[derive(Default)]
struct BlockedSignal {
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl BlockedSignal {
    fn fire(&self) {
        self.fired.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

impl TrajectoryStore {
    /// Opens (creating or upgrading as needed) the app's database, [`DB_NAME`].
    pub async fn open() -> Result<Self, StoreError> {
        Self::open_named(DB_NAME).await
    }

    /// Opens the database `name` at [`DB_VERSION`]; tests use their own names.
    ///
    /// A database of an older version is upgraded step by step ([`schema`]), keeping its data.
    /// If a tab with an older Trialogue keeps it open, this returns [`StoreError::Blocked`]
    /// at once; the upgrade then finishes by itself as soon as that tab closes, and opening
    /// again succeeds.
    pub async fn open_named(name: &str) -> Result<Self, StoreError> {
        Self::open_at(name, DB_VERSION).await
    }

    async fn open_at(name: &str, version: u32) -> Result<Self, StoreError> {
        if PENDING_UPGRADES.with(|p| p.borrow().contains(name)) {
            return Err(StoreError::Blocked {
                name: name.to_string(),
            });
        }
        let request_slot: Rc<RefCell<Option<web_sys::IdbRequest>>> = Rc::default();
        let blocked = Rc::new(BlockedSignal::default());

        let slot = Rc::clone(&request_slot);
        let signal = Rc::clone(&blocked);
        let request = Database::open(name)
            .with_version(version)
            .with_on_blocked(move |_event| {
                signal.fire();
                Ok(())
            })
            .with_on_upgrade_needed(move |event, db| {
                // Versions are small integers stored as doubles.
                let old = event.old_version() as u32;
                let new = event.new_version().map_or(version, |v| v as u32);
                let tx = slot
                    .borrow()
                    .as_ref()
                    .and_then(web_sys::IdbRequest::transaction)
                    .ok_or_else(|| {
                        JsValue::from_str("the upgrade has no versionchange transaction")
                    })?;
                schema::upgrade(db.as_sys(), &tx, old, new)?;
                Ok(())
            })
            .build()
            .map_err(|e| from_open(name, &e))?;
        *request_slot.borrow_mut() = Some(request.as_sys().clone().into());

        let mut request = Box::pin(request);
        let opened = std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = request.as_mut().poll(cx) {
                return Poll::Ready(Some(result));
            }
            if blocked.fired.get() {
                return Poll::Ready(None);
            }
            *blocked.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;

        let Some(result) = opened else {
            // Dropping the request would detach its upgrade handler while the browser still
            // means to run the upgrade later; let it finish, then close what it opened.
            let pending = name.to_string();
            PENDING_UPGRADES.with(|p| p.borrow_mut().insert(pending.clone()));
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(db) = request.await {
                    db.close();
                }
                PENDING_UPGRADES.with(|p| p.borrow_mut().remove(&pending));
            });
            return Err(StoreError::Blocked {
                name: name.to_string(),
            });
        };
        let db = result.map_err(|e| from_open(name, &e))?;
        let closed = Rc::new(Cell::new(false));
        close_on_version_change(&db, &closed);
        Ok(TrajectoryStore {
            db,
            closed,
            tried_run_ids: Rc::default(),
        })
    }

    /// Deletes the database `name` and everything in it (tests; "delete all data").
    /// Connections of this app close themselves when asked, so this does not wait on them.
    pub async fn delete_database(name: &str) -> Result<(), StoreError> {
        let request = Database::delete_by_name(name).map_err(|e| from_open(name, &e))?;
        request
            .await
            .map_err(|e| from_idb(&format!("deleting the database `{name}`"), &e))
    }

    /// Whether this connection was closed under us; a closed one only fails, so a new one
    /// must be opened.
    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// The database name.
    pub fn name(&self) -> String {
        self.db.name()
    }

    /// The database version (its schema).
    pub fn version(&self) -> u32 {
        // Versions are small integers stored as doubles.
        self.db.version() as u32
    }

    /// The object stores in the database, sorted.
    pub fn store_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.db.object_store_names().collect();
        sorting::sort_by(&mut names, |a, b| a.cmp(b));
        names
    }

    /// Closes the connection.
    pub fn close(self) {
        self.db.close();
    }

    fn transaction(
        &self,
        stores: &[&str],
        mode: TransactionMode,
        operation: &str,
    ) -> Result<Tx<'_>, StoreError> {
        let tx = self
            .db
            .transaction(stores)
            .with_mode(mode)
            .build()
            .map_err(|e| from_idb(operation, &e))?;
        // The crate's error handler on the transaction may run once only, but every request
        // that fails bubbles its error up to it: an `add` refused and the requests the abort
        // then fails beside it would call it twice, an uncaught error. Its abort handler still
        // ends `commit()`, and the transaction's own `error` says why (see [`commit`]).
        let raw: &web_sys::IdbTransaction = tx.as_sys().unchecked_ref();
        raw.set_onerror(None);
        Ok(Tx {
            tx: Some(tx),
            read_only: matches!(mode, TransactionMode::Readonly),
        })
    }

    // ---- runs ----

    /// Stores a new run; fails with [`StoreError::RunExists`] if the id is taken (use
    /// [`create_run_under_free_id`](Self::create_run_under_free_id) to pick a free one).
    /// One round trip: the store's own `add` refuses a taken id.
    pub async fn create_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.create_run_before_call(run, None).await
    }

    /// [`Self::create_run`], storing `first_call` (the run's first call) as in flight in the
    /// same transaction.
    pub async fn create_run_before_call(
        &self,
        run: &RunRecord,
        first_call: Option<&InFlightCall>,
    ) -> Result<(), StoreError> {
        let op = format!("creating run {}", run.run_id);
        let value = RunRow::encode(run)?;
        let first_call = first_call
            .map(|call| records::to_js_row(call, || op.clone()))
            .transpose()?;
        let tx = self.transaction(
            &[RUNS, IN_FLIGHT, RUN_COUNTS],
            TransactionMode::Readwrite,
            &op,
        )?;
        let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
        let added = raw
            .object_store(RUNS)
            .and_then(|runs| runs.add(&value))
            .map_err(|e| js_failure(&op, &e))?;
        if let Err(e) = run_counts::shift(&raw, vec![(None, Some(run.status))]) {
            let _ = raw.abort();
            return Err(js_failure(&op, &e));
        }
        if let Some(call) = &first_call {
            if let Err(e) = raw
                .object_store(IN_FLIGHT)
                .and_then(|calls| calls.put(call))
            {
                // The run may not be stored without it.
                let _ = raw.abort();
                return Err(js_failure(&op, &e));
            }
        }
        ended_by_itself(tx, &op).await.map_err(|e| {
            if refused_as_constraint(&added) {
                StoreError::RunExists {
                    run_id: run.run_id.clone(),
                }
            } else {
                e
            }
        })
    }

    /// Stores new run `run` under the first free id of the original's form, which it sets in
    /// `run.run_id` (see [`create_under_free_id`]); ids this connection tried are not tried
    /// again.
    pub async fn create_run_under_free_id(&self, run: &mut RunRecord) -> Result<(), StoreError> {
        create_under_free_id(run, &self.tried_run_ids, async |r: &RunRecord| {
            self.create_run_if_free(r).await
        })
        .await
    }

    /// [`Self::create_run_under_free_id`], storing `first_call` as in flight (its `run_id` set
    /// to the id found) in the transaction that stores the run.
    pub async fn create_run_under_free_id_before_call(
        &self,
        run: &mut RunRecord,
        first_call: &mut InFlightCall,
    ) -> Result<(), StoreError> {
        create_under_free_id(run, &self.tried_run_ids, async |r: &RunRecord| {
            first_call.run_id.clone_from(&r.run_id);
            self.create_run_if_free_before_call(r, Some(first_call))
                .await
        })
        .await
    }

    /// [`create_run`](Self::create_run), with a taken id answered `Ok(false)`.
    pub async fn create_run_if_free(&self, run: &RunRecord) -> Result<bool, StoreError> {
        self.create_run_if_free_before_call(run, None).await
    }

    /// [`Self::create_run_if_free`], storing `first_call` as in flight with the run.
    async fn create_run_if_free_before_call(
        &self,
        run: &RunRecord,
        first_call: Option<&InFlightCall>,
    ) -> Result<bool, StoreError> {
        match self.create_run_before_call(run, first_call).await {
            Ok(()) => Ok(true),
            Err(StoreError::RunExists { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Stores a run record, replacing the one with the same id (status changes, the final
    /// summary). Steps are not touched.
    pub async fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let op = format!("saving run {}", run.run_id);
        let value = RunRow::encode(run)?;
        let tx = self.transaction(&[RUNS, RUN_COUNTS], TransactionMode::Readwrite, &op)?;
        {
            let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
            run_counts::shift_stored(&raw, &run.run_id, Some(run.status))
                .map_err(|e| js_failure(&op, &e))?;
            let runs = store(&tx, RUNS, &op)?;
            let put = runs.put(value).primitive();
            request(put, &op).await.map_err(|(e, _)| e)?;
        }
        ended_by_itself(tx, &op).await
    }

    /// The run `id`, if stored.
    pub async fn get_run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let op = format!("reading run {id}");
        let tx = self.transaction(&[RUNS], TransactionMode::Readonly, &op)?;
        let runs = store(&tx, RUNS, &op)?;
        let value = get(&runs, JsValue::from_str(id), &op).await?;
        value.map(RunRow::decode).transpose()
    }

    /// Every run, newest first (by creation time; ties by id, descending).
    ///
    /// Read in slices of [`LIST_CHUNK`] runs, each its own request: one request for 10,000
    /// runs kept the database busy for a quarter of a second, and a page that was left in the
    /// meantime still made the next page's first read wait for it.
    pub async fn list_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let op = "listing runs";
        let mut out = Vec::new();
        let mut after: Option<JsValue> = None;
        loop {
            let tx = self.transaction(&[RUNS], TransactionMode::Readonly, op)?;
            let runs = store(&tx, RUNS, op)?;
            let query = runs.get_all::<JsValue>().with_limit(LIST_CHUNK);
            let rows = match after.take() {
                // Primary keys are unique, so "after the last one" never skips a run.
                Some(last) => {
                    let range = KeyRange::LowerBound(last, true);
                    request(query.with_query::<JsValue, _>(range).primitive(), op).await
                }
                None => request(query.primitive(), op).await,
            }
            .map_err(|(e, _)| e)?;
            let before = out.len();
            for value in rows {
                out.push(RunRow::decode(value.map_err(|e| from_idb(op, &e))?)?);
            }
            let read = out.len() - before;
            if read < LIST_CHUNK as usize {
                break;
            }
            after = out.last().map(|r| JsValue::from_str(&r.run_id));
        }
        sort_newest_first(&mut out);
        Ok(out)
    }

    /// The `limit` newest runs, newest first, as [`list_runs`](Self::list_runs) orders them:
    /// what the first page of the runs table needs, read without touching the others.
    pub async fn newest_runs(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        let op = "reading the newest runs";
        let values = self.newest_values(RUNS, limit, op).await?;
        values.into_iter().map(RunRow::decode).collect()
    }

    /// How many runs are stored.
    pub async fn count_runs(&self) -> Result<u64, StoreError> {
        let op = "counting runs";
        let tx = self.transaction(&[RUNS], TransactionMode::Readonly, op)?;
        let runs = store(&tx, RUNS, op)?;
        // Counted on an index every run is in: the browser walks the index's small entries
        // instead of decoding the records, which grows with the runs' size.
        let by_created = runs
            .index(index::CREATED_AT)
            .map_err(|e| from_idb(op, &e))?;
        let n = request(by_created.count().primitive(), op)
            .await
            .map_err(|(e, _)| e)?;
        Ok(u64::from(n))
    }

    /// Up to `limit` raw records of `store_name`, newest first by its `created_at` index: a
    /// cursor walked backwards (the crate's `getAll` only reads forwards, which would read
    /// every record to find the last ones). Ties come in descending key order.
    async fn newest_values(
        &self,
        store_name: &str,
        limit: u32,
        op: &str,
    ) -> Result<Vec<JsValue>, StoreError> {
        let db: web_sys::IdbDatabase = self.db.as_sys().clone().into();
        run_index::walk_index(
            &db,
            store_name,
            index::CREATED_AT,
            &JsValue::NULL,
            web_sys::IdbCursorDirection::Prev,
            limit as usize,
            run_index::skip_none(),
            run_index::Read::Records,
            op,
        )
        .await
    }

    /// Every record of `store_name`, decoded, newest first by its `created_at` index.
    pub(crate) async fn newest_first<T>(
        &self,
        store_name: &str,
        decode: impl Fn(JsValue) -> Result<T, StoreError>,
        op: &str,
    ) -> Result<Vec<T>, StoreError> {
        let tx = self.transaction(&[store_name], TransactionMode::Readonly, op)?;
        let records = store(&tx, store_name, op)?;
        let by_created = records
            .index(index::CREATED_AT)
            .map_err(|e| from_idb(op, &e))?;
        let all = request(by_created.get_all::<JsValue>().primitive(), op)
            .await
            .map_err(|(e, _)| e)?;
        let mut out = Vec::new();
        for value in all {
            out.push(decode(value.map_err(|e| from_idb(op, &e))?)?);
        }
        out.reverse();
        Ok(out)
    }

    /// Deletes run `id` and all its steps in one transaction; returns whether it was there.
    pub async fn delete_run(&self, id: &str) -> Result<bool, StoreError> {
        let op = format!("deleting run {id}");
        let tx = self.transaction(
            &[RUNS, STEPS, IN_FLIGHT, COST_ROLLUPS, RUN_COUNTS],
            TransactionMode::Readwrite,
            &op,
        )?;
        let existed = {
            let runs = store(&tx, RUNS, &op)?;
            let steps = store(&tx, STEPS, &op)?;
            let calls = store(&tx, IN_FLIGHT, &op)?;
            let key = JsValue::from_str(id);
            let existed = count(&runs, key.clone(), &op).await? > 0;
            rollups::forget_run(&store(&tx, COST_ROLLUPS, &op)?, &steps, id, &op).await?;
            let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
            run_counts::shift_stored(&raw, id, None).map_err(|e| js_failure(&op, &e))?;
            request(runs.delete(key).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
            let (low, high) = run_step_bounds(id);
            let range = KeyRange::Bound(low, false, high, false);
            request(steps.delete::<JsValue, _>(range.clone()).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
            request(calls.delete::<JsValue, _>(range).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
            existed
        };
        ended_by_itself(tx, &op).await?;
        Ok(existed)
    }

    /// Whether a run with this id is stored.
    pub async fn run_id_taken(&self, id: &str) -> Result<bool, StoreError> {
        let op = format!("looking up run {id}");
        let tx = self.transaction(&[RUNS], TransactionMode::Readonly, &op)?;
        let runs = store(&tx, RUNS, &op)?;
        Ok(count(&runs, JsValue::from_str(id), &op).await? > 0)
    }

    /// Changes run `id`'s status (and its message) without touching its totals; returns the
    /// updated record.
    pub async fn set_run_status(
        &self,
        id: &str,
        status: RunStatus,
        message: Option<String>,
    ) -> Result<RunRecord, StoreError> {
        let op = format!("updating the status of run {id}");
        let tx = self.transaction(&[RUNS, RUN_COUNTS], TransactionMode::Readwrite, &op)?;
        let run = {
            let runs = store(&tx, RUNS, &op)?;
            let Some(value) = get(&runs, JsValue::from_str(id), &op).await? else {
                return Err(StoreError::NotFound {
                    kind: "run",
                    key: id.to_string(),
                });
            };
            let mut run = RunRow::decode(value)?;
            let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
            run_counts::shift(&raw, vec![(Some(run.status), Some(status))])
                .map_err(|e| js_failure(&op, &e))?;
            run.status = status;
            run.message = message;
            run.updated_ms = js_sys::Date::now();
            request(runs.put(RunRow::encode(&run)?).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
            run
        };
        ended_by_itself(tx, &op).await?;
        Ok(run)
    }

    /// The runs stored as `running`, read-only, as (run id, batch id). When the app loads,
    /// each is either driven by another open tab (which holds its lock, or its batch's, see
    /// [`crate::web::locks`]) or was cut off by a closed or reloaded page.
    pub async fn running_runs(&self) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let op = "looking for runs left running";
        // Almost always there are none, and a read-only look holds no write lock that the first
        // page's reads would queue behind.
        let tx = self.transaction(&[RUNS], TransactionMode::Readonly, op)?;
        let runs = store(&tx, RUNS, op)?;
        let by_status = runs.index(index::STATUS).map_err(|e| from_idb(op, &e))?;
        let running = JsValue::from_str(RunStatus::Running.as_str());
        let found = request(
            by_status
                .get_all::<JsValue>()
                .with_query(running)
                .primitive(),
            op,
        )
        .await
        .map_err(|(e, _)| e)?;
        found
            .into_iter()
            .map(|value| {
                let run = RunRow::decode(value.map_err(|e| from_idb(op, &e))?)?;
                Ok((run.run_id, run.batch_id))
            })
            .collect()
    }

    /// Marks the runs `ids` as `interrupted` (with [`INTERRUPTED_MESSAGE`]) where they are still
    /// `running`, at `now_ms`, and returns the ids it changed. Runs that ended or went away
    /// since they were listed are left alone.
    pub async fn mark_runs_interrupted(
        &self,
        ids: &[String],
        now_ms: f64,
    ) -> Result<Vec<String>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let op = "marking interrupted runs";
        let tx = self.transaction(&[RUNS, RUN_COUNTS], TransactionMode::Readwrite, op)?;
        let marked = {
            let runs = store(&tx, RUNS, op)?;
            let mut marked = Vec::new();
            for id in ids {
                let Some(value) = get(&runs, JsValue::from_str(id), op).await? else {
                    continue;
                };
                let mut run = RunRow::decode(value)?;
                if run.status != RunStatus::Running {
                    continue;
                }
                run.status = RunStatus::Interrupted;
                run.message = Some(INTERRUPTED_MESSAGE.to_string());
                run.updated_ms = now_ms;
                request(runs.put(RunRow::encode(&run)?).primitive(), op)
                    .await
                    .map_err(|(e, _)| e)?;
                marked.push(run.run_id);
            }
            marked
        };
        if marked.is_empty() {
            commit(tx, op).await?;
        } else {
            let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
            let moved = (Some(RunStatus::Running), Some(RunStatus::Interrupted));
            run_counts::shift(&raw, vec![moved; marked.len()]).map_err(|e| js_failure(op, &e))?;
            ended_by_itself(tx, op).await?;
        }
        Ok(marked)
    }

    // ---- steps ----

    /// Commits step `entry` of the run whose stored record is `record` together with that
    /// record counting the step, and returns it. The caller drives the run, under its tab
    /// lock, so it holds the record as stored: nothing is read first, and the step costs one
    /// round trip to the database, on the path between one LLM reply and the next call.
    ///
    /// A step id stored already is refused ([`StoreError::DuplicateStep`]) and a run deleted
    /// meanwhile too ([`StoreError::NotFound`]); either way nothing of the step stays.
    pub async fn append_step(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
    ) -> Result<RunRecord, StoreError> {
        self.append_step_before_call(record, entry, None).await
    }

    /// [`Self::append_step`], storing `next_call` (the call the step leads to) as in flight
    /// in the same transaction ([`Self::begin_call`] without a round trip of its own).
    pub async fn append_step_before_call(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
        next_call: Option<&InFlightCall>,
    ) -> Result<RunRecord, StoreError> {
        let op = format!("saving step {} of run {}", entry.step_id, entry.run_id);
        let step = StepRow::encode(entry)?;
        let next_call = next_call
            .map(|call| records::to_js_row(call, || op.clone()))
            .transpose()?;
        let mut updated = record.clone();
        updated.add_step(entry, js_sys::Date::now());
        let row = RunRow::encode(&updated)?;
        let tx = self.transaction(
            &[RUNS, STEPS, IN_FLIGHT, COST_ROLLUPS, RUN_COUNTS],
            TransactionMode::Readwrite,
            &op,
        )?;
        let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
        // Requests run in the order made, and none is awaited: their results are read once
        // the transaction has committed. The count sees the runs store before the put.
        let issued = (|| {
            let runs = raw.object_store(RUNS)?;
            let steps = raw.object_store(STEPS)?;
            let existed = runs.count_with_key(&JsValue::from_str(&entry.run_id))?;
            let added = steps.add(&step)?;
            runs.put(&row)?;
            // The step holds the call's real cost from now on: it is no longer in flight.
            let calls = raw.object_store(IN_FLIGHT)?;
            calls.delete(&records::step_key(&entry.run_id, entry.step_id))?;
            if let Some(next_call) = &next_call {
                calls.put(next_call)?;
            }
            // The roll-up update chains requests in its success handlers, so a transaction
            // it joins must end by itself: `commit()` would refuse those requests.
            let mut chained =
                rollups::count_steps(&raw, &entry.run_id, std::slice::from_ref(entry))?;
            // The last step re-statuses the run.
            if updated.status != record.status {
                run_counts::shift(&raw, vec![(Some(record.status), Some(updated.status))])?;
                chained = true;
            }
            Ok::<_, JsValue>((existed, added, chained))
        })();
        let (existed, added, chained) = match issued {
            Ok(requests) => requests,
            Err(e) => {
                // Nothing made before the failure may commit on its own.
                let _ = raw.abort();
                return Err(js_failure(&op, &e));
            }
        };
        if let Err(e) = end_counting_steps(tx, &op, chained).await {
            return Err(if refused_as_constraint(&added) {
                StoreError::DuplicateStep {
                    run_id: entry.run_id.clone(),
                    step_id: entry.step_id,
                }
            } else {
                e
            });
        }
        if existed.result().ok().and_then(|n| n.as_f64()) == Some(0.0) {
            // Deleted while it ran (another tab): the put stored the record again, so take
            // it and the step back out.
            self.delete_run(&entry.run_id).await?;
            return Err(StoreError::NotFound {
                kind: "run",
                key: entry.run_id.clone(),
            });
        }
        Ok(updated)
    }

    /// The steps of run `run_id`, in step order (empty if it has none).
    pub async fn steps(&self, run_id: &str) -> Result<Vec<TrajectoryEntry>, StoreError> {
        let op = format!("reading the steps of run {run_id}");
        let tx = self.transaction(&[STEPS], TransactionMode::Readonly, &op)?;
        let steps = store(&tx, STEPS, &op)?;
        run_steps_in(&steps, run_id, &op).await
    }

    /// How many steps are stored, over all runs.
    pub async fn count_steps(&self) -> Result<u64, StoreError> {
        let op = "counting steps";
        let tx = self.transaction(&[STEPS], TransactionMode::Readonly, op)?;
        let steps = store(&tx, STEPS, op)?;
        let n = request(steps.count().primitive(), op)
            .await
            .map_err(|(e, _)| e)?;
        Ok(u64::from(n))
    }

    // ---- saved configs ----

    /// Saves `config` under `name`, replacing a config saved under the same name (the UI asks
    /// before it replaces one).
    pub async fn save_config(&self, name: &str, config: &PipelineConfig) -> Result<(), StoreError> {
        let op = format!("saving the config `{name}`");
        let saved = SavedConfig {
            name: name.to_string(),
            saved_ms: js_sys::Date::now(),
            config: config.clone(),
        };
        let value = ConfigRow::encode(&saved)?;
        self.put_row(CONFIGS, value, &op).await
    }

    /// The config saved under `name`, if any.
    pub async fn get_config(&self, name: &str) -> Result<Option<SavedConfig>, StoreError> {
        let op = format!("reading the config `{name}`");
        let tx = self.transaction(&[CONFIGS], TransactionMode::Readonly, &op)?;
        let configs = store(&tx, CONFIGS, &op)?;
        let value = get(&configs, JsValue::from_str(name), &op).await?;
        value.map(ConfigRow::decode).transpose()
    }

    /// Every saved config, by name.
    pub async fn list_configs(&self) -> Result<Vec<SavedConfig>, StoreError> {
        let all = self.every_value(CONFIGS, "listing saved configs").await?;
        all.into_iter().map(ConfigRow::decode).collect()
    }

    /// Writes `value` into `store_name` (replacing the record under its key) in a transaction
    /// of its own.
    pub(crate) async fn put_row(
        &self,
        store_name: &str,
        value: JsValue,
        op: &str,
    ) -> Result<(), StoreError> {
        let tx = self.transaction(&[store_name], TransactionMode::Readwrite, op)?;
        {
            let records = store(&tx, store_name, op)?;
            request(records.put(value).primitive(), op)
                .await
                .map_err(|(e, _)| e)?;
        }
        commit(tx, op).await
    }

    /// The text keys of `store_name`, in key order, read in one read-only transaction (keys
    /// only, not the records).
    pub(crate) async fn every_text_key(
        &self,
        store_name: &str,
        op: &str,
    ) -> Result<Vec<String>, StoreError> {
        let tx = self.transaction(&[store_name], TransactionMode::Readonly, op)?;
        let records = store(&tx, store_name, op)?;
        let keys = request(records.get_all_keys::<JsValue>().primitive(), op)
            .await
            .map_err(|(e, _)| e)?;
        let mut out = Vec::new();
        for key in keys {
            if let Some(key) = key.map_err(|e| from_idb(op, &e))?.as_string() {
                out.push(key);
            }
        }
        Ok(out)
    }

    /// Every record of `store_name`, raw, in key order, read in one read-only transaction.
    pub(crate) async fn every_value(
        &self,
        store_name: &str,
        op: &str,
    ) -> Result<Vec<JsValue>, StoreError> {
        let tx = self.transaction(&[store_name], TransactionMode::Readonly, op)?;
        let records = store(&tx, store_name, op)?;
        let all = request(records.get_all::<JsValue>().primitive(), op)
            .await
            .map_err(|(e, _)| e)?;
        all.into_iter()
            .map(|value| value.map_err(|e| from_idb(op, &e)))
            .collect()
    }

    /// Deletes the config saved under `name`; returns whether there was one.
    pub async fn delete_config(&self, name: &str) -> Result<bool, StoreError> {
        let op = format!("deleting the config `{name}`");
        let tx = self.transaction(&[CONFIGS], TransactionMode::Readwrite, &op)?;
        let existed = {
            let configs = store(&tx, CONFIGS, &op)?;
            let key = JsValue::from_str(name);
            let existed = count(&configs, key.clone(), &op).await? > 0;
            request(configs.delete(key).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
            existed
        };
        commit(tx, &op).await?;
        Ok(existed)
    }

    // ---- storage health ----

    /// The browser's estimate of this site's storage use and quota
    /// (`navigator.storage.estimate()`).
    pub async fn estimate() -> Result<StorageUsage, StoreError> {
        let op = "estimating storage use";
        let storage = storage_manager(op)?;
        let promise = storage.estimate().map_err(|e| js_failure(op, &e))?;
        let value = JsFuture::from(promise)
            .await
            .map_err(|e| js_failure(op, &e))?;
        let estimate: web_sys::StorageEstimate = value.unchecked_into();
        // Byte counts are whole numbers well inside f64's exact range.
        Ok(StorageUsage {
            usage: estimate.get_usage().map(|b| b as u64),
            quota: estimate.get_quota().map(|b| b as u64),
        })
    }

    /// Asks the browser to keep this site's data when space runs low
    /// (`navigator.storage.persist()`); returns whether it is now persistent.
    pub async fn request_persistence() -> Result<bool, StoreError> {
        let op = "asking for persistent storage";
        let storage = storage_manager(op)?;
        let promise = storage.persist().map_err(|e| js_failure(op, &e))?;
        let value = JsFuture::from(promise)
            .await
            .map_err(|e| js_failure(op, &e))?;
        Ok(value.as_bool().unwrap_or(false))
    }

    /// Whether this site's data is already persistent (`navigator.storage.persisted()`).
    pub async fn is_persisted() -> Result<bool, StoreError> {
        let op = "checking persistent storage";
        let storage = storage_manager(op)?;
        let promise = storage.persisted().map_err(|e| js_failure(op, &e))?;
        let value = JsFuture::from(promise)
            .await
            .map_err(|e| js_failure(op, &e))?;
        Ok(value.as_bool().unwrap_or(false))
    }
}

/// Newest first by creation time, ties by id descending: the order of the `created_at` index
/// read backwards.
fn sort_newest_first(runs: &mut Vec<RunRecord>) {
    sorting::sort_by(runs, |a, b| {
        b.created_ms
            .total_cmp(&a.created_ms)
            .then_with(|| b.run_id.cmp(&a.run_id))
    });
}

fn close_on_version_change(db: &Database, closed: &Rc<Cell<bool>>) {
    let raw: web_sys::IdbDatabase = db.as_sys().clone().into();
    let closer = raw.clone();
    let flag = Rc::clone(closed);
    // Let a newer Trialogue in another tab upgrade the database instead of being blocked.
    let on_change = Closure::once_into_js(move || {
        flag.set(true);
        closer.close();
    });
    raw.set_onversionchange(Some(on_change.unchecked_ref()));
    // Fired when the browser closes the connection itself (the site's data cleared, a
    // database error); never after our own close.
    let flag = Rc::clone(closed);
    let on_close = Closure::once_into_js(move || flag.set(true));
    raw.set_onclose(Some(on_close.unchecked_ref()));
}

/// A transaction of the store. One that writes is committed by [`commit`] (or ends by
/// itself, [`ended_by_itself`]) and aborted when dropped before that, so nothing of a failed
/// write stays. One that only reads is committed when dropped: `indexed_db_futures` aborts
/// every transaction dropped without `commit()`, which would end each read in an `abort`
/// event (and the browser's work of rolling back a transaction that changed nothing).
struct Tx<'a> {
    /// Taken only by [`Tx::into_inner`], which consumes the wrapper.
    tx: Option<Transaction<'a>>,
    read_only: bool,
}

impl<'a> Tx<'a> {
    fn inner(&self) -> &Transaction<'a> {
        match &self.tx {
            Some(tx) => tx,
            None => unreachable!("a transaction is taken out only by consuming its wrapper"),
        }
    }

    fn into_inner(mut self) -> Transaction<'a> {
        match self.tx.take() {
            Some(tx) => tx,
            None => unreachable!("a transaction is taken out only by consuming its wrapper"),
        }
    }
}

impl<'a> std::ops::Deref for Tx<'a> {
    type Target = Transaction<'a>;

    fn deref(&self) -> &Transaction<'a> {
        self.inner()
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.read_only {
            return;
        }
        if let Some(tx) = &self.tx {
            // `commit()` is allowed on a read-only transaction; requests still pending finish
            // first. The crate's own drop then calls `abort()`, which a committing (or
            // finished) transaction refuses with an error the crate ignores.
            let raw: &web_sys::IdbTransaction = tx.as_sys().unchecked_ref();
            // web-sys marks `commit` deprecated, but it is IndexedDB 3.0's, and the crate's
            // own `Transaction::commit` calls the same method.
            #[allow(deprecated)]
            let _ = raw.commit();
        }
    }
}

fn store<'a>(
    tx: &'a Transaction<'_>,
    name: &str,
    operation: &str,
) -> Result<ObjectStore<'a>, StoreError> {
    tx.object_store(name).map_err(|e| from_idb(operation, &e))
}

/// Keys read by `getAllKeys`, as text: the stores keyed by name or id key by text, so any other
/// key is a corrupt record of `store_name` (`noun` names one of its records in the message).
fn text_keys(
    keys: impl IntoIterator<Item = indexed_db_futures::Result<JsValue>>,
    store_name: &'static str,
    noun: &str,
    operation: &str,
) -> Result<Vec<String>, StoreError> {
    keys.into_iter()
        .map(|key| {
            key.map_err(|e| from_idb(operation, &e))?
                .as_string()
                .ok_or_else(|| StoreError::Corrupt {
                    store: store_name,
                    key: "?".to_string(),
                    reason: format!("a {noun}'s key is not text"),
                })
        })
        .collect()
}

/// Awaits a request built with `primitive()`; on failure also says whether it was a
/// `ConstraintError` (a key that is taken).
async fn request<F, T>(
    built: indexed_db_futures::Result<F>,
    operation: &str,
) -> Result<T, (StoreError, bool)>
where
    F: Future<Output = indexed_db_futures::Result<T>>,
{
    let fail = |e: indexed_db_futures::error::Error| (from_idb(operation, &e), is_constraint(&e));
    built.map_err(fail)?.await.map_err(fail)
}

/// The steps of run `run_id` in `steps` (the store, in a transaction the caller holds), in step
/// order.
async fn run_steps_in(
    steps: &ObjectStore<'_>,
    run_id: &str,
    op: &str,
) -> Result<Vec<TrajectoryEntry>, StoreError> {
    let (low, high) = run_step_bounds(run_id);
    steps_between(steps, low, high, op).await
}

/// The steps of `steps` (the store, in a transaction the caller holds) with keys from `low` to
/// `high`, both included, in key order.
async fn steps_between(
    steps: &ObjectStore<'_>,
    low: JsValue,
    high: JsValue,
    op: &str,
) -> Result<Vec<TrajectoryEntry>, StoreError> {
    let rows = request(
        steps
            .get_all::<JsValue>()
            .with_query::<JsValue, _>(KeyRange::Bound(low, false, high, false))
            .primitive(),
        op,
    )
    .await
    .map_err(|(e, _)| e)?;
    decode_steps(rows, op)
}

/// The steps of rows read from the `steps` store.
fn decode_steps(
    rows: impl IntoIterator<Item = indexed_db_futures::Result<JsValue>>,
    op: &str,
) -> Result<Vec<TrajectoryEntry>, StoreError> {
    rows.into_iter()
        .map(|value| StepRow::decode(value.map_err(|e| from_idb(op, &e))?))
        .collect()
}

/// Adds `entry` to `steps` (the store, in a transaction the caller holds); a step stored under
/// its key already is refused as [`StoreError::DuplicateStep`], never replaced.
async fn add_step_in(
    steps: &ObjectStore<'_>,
    entry: &TrajectoryEntry,
    op: &str,
) -> Result<(), StoreError> {
    match request(steps.add(StepRow::encode(entry)?).primitive(), op).await {
        Ok(()) => Ok(()),
        Err((_, true)) => Err(StoreError::DuplicateStep {
            run_id: entry.run_id.clone(),
            step_id: entry.step_id,
        }),
        Err((e, false)) => Err(e),
    }
}

async fn get(
    source: &ObjectStore<'_>,
    key: JsValue,
    operation: &str,
) -> Result<Option<JsValue>, StoreError> {
    request(
        source.get::<JsValue, JsValue, _>(key).primitive(),
        operation,
    )
    .await
    .map_err(|(e, _)| e)
}

async fn count(source: &ObjectStore<'_>, key: JsValue, operation: &str) -> Result<u32, StoreError> {
    request(source.count().with_query(key).primitive(), operation)
        .await
        .map_err(|(e, _)| e)
}

/// Whether `request` failed on a key the store holds already (`add` of a taken key).
fn refused_as_constraint(request: &web_sys::IdbRequest) -> bool {
    request
        .error()
        .ok()
        .flatten()
        .is_some_and(|dom| dom.name() == "ConstraintError")
}

/// Commits `tx`; when the browser aborted it (a full disk reports `QuotaExceededError` only
/// here), the transaction's own error says why.
async fn commit(tx: Tx<'_>, operation: &str) -> Result<(), StoreError> {
    let tx = tx.into_inner();
    let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
    tx.commit().await.map_err(|e| match raw.error() {
        Some(dom) => StoreError::from_dom(operation, &dom.name(), &dom.message()),
        None => from_idb(operation, &e),
    })
}

/// Ends a transaction that counted steps in the cost roll-ups ([`rollups::count_steps`]
/// says whether it `chained` requests): by itself when it did, as `commit()` would refuse
/// those requests, else by `commit()`.
async fn end_counting_steps(tx: Tx<'_>, operation: &str, chained: bool) -> Result<(), StoreError> {
    if chained {
        ended_by_itself(tx, operation).await
    } else {
        commit(tx, operation).await
    }
}

/// Waits until `tx` ends by itself (its `complete` event: every request made, including those
/// made from success handlers, has finished) without calling `commit()`; when it aborted, the
/// transaction's own error says why.
async fn ended_by_itself(tx: Tx<'_>, operation: &str) -> Result<(), StoreError> {
    let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
    let ended = js_sys::Promise::new(&mut |resolve, reject| {
        let _ = raw.add_event_listener_with_callback("complete", &resolve);
        let _ = raw.add_event_listener_with_callback("abort", &reject);
    });
    let outcome = wasm_bindgen_futures::JsFuture::from(ended).await;
    // It has ended, so the abort `Transaction` makes when dropped uncommitted does nothing.
    drop(tx);
    outcome.map(|_| ()).map_err(|_| match raw.error() {
        Some(dom) => StoreError::from_dom(operation, &dom.name(), &dom.message()),
        None => StoreError::from_dom(operation, "AbortError", "the transaction was aborted"),
    })
}

fn storage_manager(operation: &str) -> Result<web_sys::StorageManager, StoreError> {
    let window = web_sys::window().ok_or_else(|| StoreError::Unavailable {
        reason: format!("{operation}: no window"),
    })?;
    let storage: JsValue = window.navigator().storage().into();
    // `navigator.storage` is missing outside secure contexts (plain http on a LAN address).
    if storage.is_undefined() || storage.is_null() {
        return Err(StoreError::Unavailable {
            reason: format!("{operation}: navigator.storage is missing (the page is not served over https or localhost)"),
        });
    }
    Ok(storage.unchecked_into())
}

fn js_failure(operation: &str, value: &JsValue) -> StoreError {
    let name = js_sys::Reflect::get(value, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| "Error".to_string());
    let message = js_sys::Reflect::get(value, &JsValue::from_str("message"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| crate::web::js_reason(value));
    StoreError::from_dom(operation, &name, &message)
}

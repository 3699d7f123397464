//! The `cost_rollups` store (schema version 6): the Costs page's sums
//! ([`crate::core::cost_rollup`]), one record per cell, kept as steps are committed and runs
//! deleted, so that the page reads a few hundred cells instead of every step.
//!
//! A progress record (key `""`) says which runs the cells count: all of them once a build has
//! finished, else the runs up to `through` in key order. A build goes through the runs in key
//! order, a chunk per transaction, and moves `through` in the same transaction as it adds the
//! chunk's steps, so a tab closed mid-build resumes where it stopped. A step committed, or a
//! run deleted, changes the cells only when its run is counted already: a run the build has
//! not reached yet is counted whole when it gets there. A database upgraded from version 5
//! starts with no progress record, so the first visit to the Costs page builds the cells.
//!
//! The progress record also names the cells' format ([`CELL_FORMAT`]). Cells of an earlier
//! format (before cells were keyed by how requests were sent, say) count as no build at all:
//! the Costs page builds them again, and the build clears them first.
//!
//! Each record keeps its value as JSON text, like the other stores (amounts are whole
//! nano-dollars, exact as text).

use std::cell::Cell;
use std::rc::Rc;

use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyRange;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use web_sys::{IdbObjectStore, IdbRequest, IdbTransaction};

use super::records::{from_js_row, run_step_bounds, to_js_row, MAX_STEP_ID};
use super::schema::{COST_ROLLUPS, RUNS, STEPS};
use super::{
    commit, from_idb, request, run_steps_in, steps_between, store, StoreError, TrajectoryStore,
};
use crate::core::cost_rollup::{CostRollup, RollupCell, RollupKey, RollupStep};
use crate::core::cost_views::StepCost;
use crate::core::trajectory::TrajectoryEntry;

/// The key of the progress record (cells are keyed by their JSON key, never empty).
const PROGRESS_KEY: &str = "";

/// Runs a build reads per transaction: few enough that a transaction stays short, many enough
/// that a million steps take a few hundred transactions.
const RUNS_PER_CHUNK: u32 = 500;

/// One record of the store: its key and its value as JSON text.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    key: String,
    json: String,
}

/// The format of the cells a build writes. 1: keyed by route too (`sent_via`), so that a
/// re-price prices batched tokens at the batch rates; 0 (no `format` in the record): the cells
/// of before, which priced every token live.
pub const CELL_FORMAT: u32 = 1;

/// Which runs the cells count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollupProgress {
    /// Every run (a build finished).
    pub complete: bool,
    /// The last run, in key order, a build has counted so far (`None`: none yet).
    pub through: Option<String>,
    /// The cells' format ([`CELL_FORMAT`] for a build of this version).
    #[serde(default)]
    pub format: u32,
}

impl Default for RollupProgress {
    fn default() -> Self {
        RollupProgress {
            complete: false,
            through: None,
            format: CELL_FORMAT,
        }
    }
}

impl RollupProgress {
    /// Whether the cells count the steps of run `run_id`.
    pub fn covers(&self, run_id: &str) -> bool {
        self.complete || self.through.as_deref().is_some_and(|t| run_id <= t)
    }
}

fn cell_key(key: &RollupKey) -> String {
    // Field values are plain strings and a bool: serializing them cannot fail.
    serde_json::to_string(key).unwrap_or_default()
}

fn row_value<T: Serialize>(key: String, value: &T) -> Result<JsValue, StoreError> {
    let json = serde_json::to_string(value).map_err(|e| StoreError::Encode {
        what: format!("cost roll-up {key}"),
        reason: e.to_string(),
    })?;
    to_js_row(&Row { key, json }, || "a cost roll-up".to_string())
}

fn decode_row(value: JsValue) -> Result<Row, StoreError> {
    from_js_row(value, COST_ROLLUPS, "cost roll-up")
}

fn corrupt(key: &str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        store: COST_ROLLUPS,
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

/// The progress a stored record holds, when its cells are of the current format (cells of an
/// earlier one count as not built).
fn progress_of(value: JsValue) -> Option<RollupProgress> {
    if value.is_undefined() || value.is_null() {
        return None;
    }
    progress_in(&decode_row(value).ok()?.json)
}

fn progress_in(json: &str) -> Option<RollupProgress> {
    serde_json::from_str::<RollupProgress>(json)
        .ok()
        .filter(|p| p.format == CELL_FORMAT)
}

/// Counts steps `entries` of run `run_id`, being stored, in the cells, inside their own
/// transaction `tx` (which must include [`COST_ROLLUPS`]): requests chained by their success
/// handlers, so the caller must let `tx` end by itself (no explicit `commit()`, after which
/// no request may be made) and await its `complete` event. Returns whether it made requests.
///
/// The progress record and the cells are read at once, not one after the other: requests of a
/// transaction complete in the order they were made, so the progress is known by the time a
/// cell's read completes, and each cell's write waits on one read instead of two in a row (on
/// the path between a step's reply and the next call). The steps are summed per cell first, so
/// each cell is read and written once (two read-then-write pairs on one cell in one
/// transaction would lose the first write). A roll-up request that fails has its error
/// stopped from aborting `tx` (the step commits regardless) and drops the progress record: the
/// next visit to the Costs page rebuilds the cells rather than show a wrong sum.
pub(crate) fn count_steps(
    tx: &IdbTransaction,
    run_id: &str,
    entries: &[TrajectoryEntry],
) -> Result<bool, JsValue> {
    let added = rollup_of(entries);
    if added.is_empty() {
        return Ok(false);
    }
    let rollups = tx.object_store(COST_ROLLUPS)?;
    let progress = rollups.get(&JsValue::from_str(PROGRESS_KEY))?;
    // Read by the cells' handlers; this one only keeps a failed read from aborting `tx`.
    on_settled(&progress, &rollups, |_| {});
    let counted = Rc::new(CountedOnce {
        progress,
        run_id: run_id.to_string(),
        answer: Cell::new(None),
    });
    for (key, sums) in added.cells() {
        let step = RollupStep {
            key: key.clone(),
            sums: *sums,
        };
        if add_to_cell(&rollups, step, Rc::clone(&counted)).is_err() {
            forget_progress(&rollups);
        }
    }
    Ok(true)
}

/// Whether the run is counted in the cells, read from the progress record's request once it
/// has completed (before any cell's read, which was made after it).
struct CountedOnce {
    progress: IdbRequest,
    run_id: String,
    answer: Cell<Option<bool>>,
}

impl CountedOnce {
    fn counted(&self) -> bool {
        if let Some(answer) = self.answer.get() {
            return answer;
        }
        // A failed read has no result: the run reads as not counted (and its handler drops
        // the progress record, so the cells are rebuilt).
        let stored = self.progress.result().unwrap_or(JsValue::UNDEFINED);
        let answer = progress_of(stored).is_some_and(|p| p.covers(&self.run_id));
        self.answer.set(Some(answer));
        answer
    }
}

/// Reads the cell of `step` and, when the run is counted in the cells, puts it back with the
/// step added (from a success handler).
fn add_to_cell(
    rollups: &IdbObjectStore,
    step: RollupStep,
    counted: Rc<CountedOnce>,
) -> Result<(), JsValue> {
    let key = cell_key(&step.key);
    let read: IdbRequest = rollups.get(&JsValue::from_str(&key))?;
    let store = rollups.clone();
    on_settled(&read, rollups, move |stored| {
        if !counted.counted() {
            return;
        }
        let mut cell = if stored.is_undefined() {
            Some(RollupCell::default())
        } else {
            decode_row(stored)
                .ok()
                .and_then(|row| serde_json::from_str::<RollupCell>(&row.json).ok())
        };
        let written = match cell.as_mut() {
            Some(cell) => {
                cell.add(&step.sums);
                row_value(key, cell).ok().map(|row| store.put(&row))
            }
            None => None,
        };
        match written {
            Some(Ok(put)) => on_settled(&put, &store, |_| {}),
            _ => forget_progress(&store),
        }
    });
    Ok(())
}

/// Calls `then` with the result of roll-up request `request` once it succeeds; when it fails,
/// the step being committed is kept and the progress record dropped instead
/// ([`super::chained::on_settled`]).
fn on_settled(
    request: &IdbRequest,
    rollups: &IdbObjectStore,
    then: impl FnOnce(JsValue) + 'static,
) {
    let rollups = rollups.clone();
    super::chained::on_settled(request, then, move || forget_progress(&rollups));
}

/// Drops the progress record, so that the next build counts every step again. In a
/// transaction being aborted this fails, and nothing of it stays anyway.
fn forget_progress(rollups: &IdbObjectStore) {
    let _ = rollups.delete(&JsValue::from_str(PROGRESS_KEY));
}

/// The roll-up of `entries`.
fn rollup_of(entries: &[TrajectoryEntry]) -> CostRollup {
    CostRollup::of(
        &entries
            .iter()
            .flat_map(|e| RollupStep::split(&StepCost::of(e), e.possibly_billed_usd()))
            .collect::<Vec<_>>(),
    )
}

/// Awaits one request of a roll-up transaction.
async fn settle<F, T>(built: indexed_db_futures::Result<F>, op: &str) -> Result<T, StoreError>
where
    F: std::future::Future<Output = indexed_db_futures::Result<T>>,
{
    request(built, op).await.map_err(|(e, _)| e)
}

/// The record stored under `id` in `rollups`, if any.
async fn stored_row(
    rollups: &ObjectStore<'_>,
    id: &str,
    op: &str,
) -> Result<Option<JsValue>, StoreError> {
    settle(
        rollups
            .get::<JsValue, JsValue, _>(JsValue::from_str(id))
            .primitive(),
        op,
    )
    .await
}

/// Puts `value` under `id` in `rollups`.
async fn put_row<T: Serialize>(
    rollups: &ObjectStore<'_>,
    id: String,
    value: &T,
    op: &str,
) -> Result<(), StoreError> {
    settle(rollups.put(row_value(id, value)?).primitive(), op).await
}

/// The progress recorded in `rollups` (`None`: no build of the current format).
async fn stored_progress(
    rollups: &ObjectStore<'_>,
    op: &str,
) -> Result<Option<RollupProgress>, StoreError> {
    Ok(stored_row(rollups, PROGRESS_KEY, op)
        .await?
        .and_then(progress_of))
}

/// The cell stored under `id` in `rollups` (`None`: no step counted in it yet).
async fn stored_cell(
    rollups: &ObjectStore<'_>,
    id: &str,
    op: &str,
) -> Result<Option<RollupCell>, StoreError> {
    stored_row(rollups, id, op)
        .await?
        .map(|value| serde_json::from_str(&decode_row(value)?.json).map_err(|e| corrupt(id, e)))
        .transpose()
}

/// Progress of a build: runs counted so far and runs stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildProgress {
    /// Runs counted.
    pub done: u64,
    /// Runs stored.
    pub total: u64,
}

impl TrajectoryStore {
    /// The cells, when they count every run (`None`: a build has not finished, see
    /// [`Self::build_cost_rollups`]).
    pub async fn cost_rollups(&self) -> Result<Option<CostRollup>, StoreError> {
        let op = "reading the cost roll-ups";
        let rows = self
            .every_value(COST_ROLLUPS, op)
            .await?
            .into_iter()
            .map(decode_row)
            .collect::<Result<Vec<_>, _>>()?;
        let complete = rows.iter().any(|row| {
            row.key == PROGRESS_KEY && progress_in(&row.json).is_some_and(|p| p.complete)
        });
        // Cells not known to count every run are not read: one left damaged by a failed
        // update (which dropped the progress record) is replaced by the next build.
        if !complete {
            return Ok(None);
        }
        let mut cells = Vec::with_capacity(rows.len());
        for row in rows.into_iter().filter(|row| row.key != PROGRESS_KEY) {
            let key: RollupKey =
                serde_json::from_str(&row.key).map_err(|e| corrupt(&row.key, e))?;
            let cell: RollupCell =
                serde_json::from_str(&row.json).map_err(|e| corrupt(&row.key, e))?;
            cells.push((key, cell));
        }
        Ok(Some(CostRollup::from_cells(cells)))
    }

    /// Forgets the cells, so that the next [`Self::build_cost_rollups`] counts every step again
    /// (after an import, a re-price, or on the user's asking).
    pub async fn clear_cost_rollups(&self) -> Result<(), StoreError> {
        let op = "clearing the cost roll-ups";
        let tx = self.transaction(&[COST_ROLLUPS], TransactionMode::Readwrite, op)?;
        {
            let rollups = store(&tx, COST_ROLLUPS, op)?;
            settle(rollups.clear(), op).await?;
        }
        commit(tx, op).await
    }

    /// Counts every run not counted yet in the cells, a chunk of runs per transaction, from
    /// where an earlier build stopped. `progress` is
    /// called after each chunk and `stop` checked before each (a page that went away stops;
    /// what was counted stays). Returns whether the build finished.
    pub async fn build_cost_rollups(
        &self,
        progress: impl Fn(BuildProgress),
        stop: impl Fn() -> bool,
    ) -> Result<bool, StoreError> {
        let total = self.count_runs().await?;
        let mut done = 0u64;
        loop {
            if stop() {
                return Ok(false);
            }
            let (counted, finished) = self.build_chunk().await?;
            done += counted;
            progress(BuildProgress {
                done: done.min(total),
                total,
            });
            if finished {
                return Ok(true);
            }
        }
    }

    /// Counts the next chunk of runs; returns how many and whether none was left.
    async fn build_chunk(&self) -> Result<(u64, bool), StoreError> {
        let op = "building the cost roll-ups";
        let tx = self.transaction(&[RUNS, STEPS, COST_ROLLUPS], TransactionMode::Readwrite, op)?;
        let outcome = {
            let runs = store(&tx, RUNS, op)?;
            let steps = store(&tx, STEPS, op)?;
            let rollups = store(&tx, COST_ROLLUPS, op)?;
            let recorded = stored_progress(&rollups, op).await?;
            if recorded.is_none() {
                // No progress record of this format: a new store, one whose record was dropped
                // after a failed update, or cells of an earlier format. Cells left from before
                // would be counted twice.
                settle(rollups.clear(), op).await?;
            }
            let mut state = recorded.unwrap_or_default();
            if state.complete {
                (0, true)
            } else {
                let keys = match &state.through {
                    Some(last) => {
                        settle(
                            runs.get_all_keys::<JsValue>()
                                .with_query::<JsValue, _>(KeyRange::LowerBound(
                                    JsValue::from_str(last),
                                    true,
                                ))
                                .with_limit(RUNS_PER_CHUNK)
                                .primitive(),
                            op,
                        )
                        .await?
                    }
                    None => {
                        settle(
                            runs.get_all_keys::<JsValue>()
                                .with_limit(RUNS_PER_CHUNK)
                                .primitive(),
                            op,
                        )
                        .await?
                    }
                };
                let mut ids = Vec::new();
                for key in keys {
                    if let Some(id) = key.map_err(|e| from_idb(op, &e))?.as_string() {
                        ids.push(id);
                    }
                }
                match (ids.first(), ids.last()) {
                    (Some(first), Some(last)) => {
                        // The chunk's runs are consecutive keys, so their steps are one range.
                        let low = run_step_bounds(first).0;
                        let high = super::records::step_key(last, MAX_STEP_ID);
                        let chunk = rollup_of(&steps_between(&steps, low, high, op).await?);
                        for (key, sums) in chunk.cells() {
                            let id = cell_key(key);
                            let mut cell =
                                stored_cell(&rollups, &id, op).await?.unwrap_or_default();
                            cell.add(sums);
                            put_row(&rollups, id, &cell, op).await?;
                        }
                        state.through = Some(last.clone());
                    }
                    _ => state.complete = true,
                }
                put_row(&rollups, PROGRESS_KEY.to_string(), &state, op).await?;
                (ids.len() as u64, state.complete)
            }
        };
        commit(tx, op).await?;
        Ok(outcome)
    }
}

/// Takes run `run_id`'s steps out of the cells, inside the transaction deleting the run
/// (`rollups` and `steps` its stores), before its steps are deleted.
pub(crate) async fn forget_run(
    rollups: &ObjectStore<'_>,
    steps: &ObjectStore<'_>,
    run_id: &str,
    op: &str,
) -> Result<(), StoreError> {
    if !stored_progress(rollups, op)
        .await?
        .is_some_and(|p| p.covers(run_id))
    {
        return Ok(());
    }
    let gone = rollup_of(&run_steps_in(steps, run_id, op).await?);
    for (key, sums) in gone.cells() {
        let id = cell_key(key);
        let Some(mut cell) = stored_cell(rollups, &id, op).await? else {
            continue;
        };
        cell.subtract(sums);
        if cell.is_empty() {
            settle(rollups.delete(JsValue::from_str(&id)).primitive(), op).await?;
        } else {
            put_row(rollups, id, &cell, op).await?;
        }
    }
    Ok(())
}

//! The `run_counts` store (schema version 8): one record of how many runs are stored in each
//! status ([`RunCounts`]), changed in the same transaction as every change that stores,
//! re-statuses or deletes a run, so that the Runs page reads its counts as one record.
//!
//! The record is built from the `status` index's entry counts: by the upgrade to version 8,
//! and again by the first read after it went missing. A change that finds no record leaves
//! none (the next read counts them all); a change that cannot apply (a request failed, or the
//! record had drifted from the runs, see [`RunCounts::apply`]) drops it, never the change it
//! goes with.
//!
//! Updates are requests chained from success handlers, as the cost roll-ups' are: a
//! transaction that made one must end by itself (`commit()` would refuse the chained requests).

use std::cell::RefCell;
use std::rc::Rc;

use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::transaction::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IdbObjectStore, IdbRequest, IdbTransaction};

use super::records::{from_js_row, to_js_row};
use super::schema::{index, RUNS, RUN_COUNTS};
use super::{ended_by_itself, get, js_failure, store, StoreError, TrajectoryStore};
use crate::core::run_counts::RunCounts;
use crate::core::trajectory::RunStatus;

/// The key of the one record.
const COUNTS_KEY: &str = "by_status";

/// The record: its key and the counts as JSON text, like the other stores.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    key: String,
    json: String,
}

fn encode(counts: &RunCounts) -> Result<JsValue, StoreError> {
    let json = serde_json::to_string(counts).map_err(|e| StoreError::Encode {
        what: "the run counts".to_string(),
        reason: e.to_string(),
    })?;
    to_js_row(
        &Row {
            key: COUNTS_KEY.to_string(),
            json,
        },
        || "the run counts".to_string(),
    )
}

/// The counts in a stored record; `None` when there is none or it cannot be read.
fn decode(value: JsValue) -> Option<RunCounts> {
    if value.is_undefined() || value.is_null() {
        return None;
    }
    let row: Row = from_js_row(value, RUN_COUNTS, "run counts").ok()?;
    serde_json::from_str(&row.json).ok()
}

/// Counts the runs leaving and entering statuses by `changes` (`(from, to)` each, `None` for
/// "not stored", see [`RunCounts::apply`]) in `tx`, which must include [`RUN_COUNTS`]: the
/// record is read and put back by chained requests, so `tx` must end by itself.
pub(crate) fn shift(
    tx: &IdbTransaction,
    changes: Vec<(Option<RunStatus>, Option<RunStatus>)>,
) -> Result<(), JsValue> {
    let counts = tx.object_store(RUN_COUNTS)?;
    let read = counts.get(&JsValue::from_str(COUNTS_KEY))?;
    let store = counts.clone();
    on_settled(&read, &counts, move |stored| {
        // No record: the next read counts every run, this change included.
        if stored.is_undefined() {
            return;
        }
        let Some(mut now) = decode(stored) else {
            forget(&store);
            return;
        };
        let applied = changes
            .iter()
            .try_for_each(|&(from, to)| now.apply(from, to));
        match applied.ok().map(|()| encode(&now)) {
            Some(Ok(row)) => match store.put(&row) {
                Ok(put) => on_settled(&put, &store, |_| {}),
                Err(_) => forget(&store),
            },
            _ => forget(&store),
        }
    });
    Ok(())
}

/// [`shift`] for run `run_id` going to status `to` (`None`: deleted) from whatever status it is
/// stored in now (`None` when it is not stored). Must be called before the request that
/// changes the run is made, so that the read sees the run as it was.
pub(crate) fn shift_stored(
    tx: &IdbTransaction,
    run_id: &str,
    to: Option<RunStatus>,
) -> Result<(), JsValue> {
    let runs = tx.object_store(RUNS)?;
    let read = runs.get(&JsValue::from_str(run_id))?;
    let counts = tx.object_store(RUN_COUNTS)?;
    let tx = tx.clone();
    on_settled(&read, &counts.clone(), move |stored| {
        let from = status_of(&stored);
        if from == to {
            return;
        }
        if shift(&tx, vec![(from, to)]).is_err() {
            forget(&counts);
        }
    });
    Ok(())
}

/// The status of a raw run record (`None` when there is no record).
fn status_of(record: &JsValue) -> Option<RunStatus> {
    let name = js_sys::Reflect::get(record, &JsValue::from_str("status"))
        .ok()?
        .as_string()?;
    RunStatus::named(&name)
}

/// Builds the record from the `status` index's entry counts (no run is read) in `tx`, which
/// must include [`RUNS`] and [`RUN_COUNTS`] and end by itself. A failed count leaves no record,
/// and never aborts `tx` (the upgrade to version 8 builds it this way).
pub(crate) fn build(tx: &IdbTransaction) -> Result<(), JsValue> {
    let by_status = tx.object_store(RUNS)?.index(index::STATUS)?;
    let counts = tx.object_store(RUN_COUNTS)?;
    let requests = RunStatus::ALL
        .into_iter()
        .map(|s| Ok((s, by_status.count_with_key(&JsValue::from_str(s.as_str()))?)))
        .collect::<Result<Vec<(RunStatus, IdbRequest)>, JsValue>>()?;
    let failed = Rc::new(RefCell::new(false));
    for (_, request) in &requests[..requests.len() - 1] {
        let failed = Rc::clone(&failed);
        let on_error = Closure::once_into_js(move |event: web_sys::Event| {
            event.prevent_default();
            event.stop_propagation();
            *failed.borrow_mut() = true;
        });
        request.set_onerror(Some(on_error.unchecked_ref()));
    }
    // Requests of one transaction end in the order made: when the last count is in, every
    // count is.
    let (_, last) = requests[requests.len() - 1].clone();
    on_settled(&last, &counts.clone(), move |_| {
        if *failed.borrow() {
            return;
        }
        let tallied = requests
            .iter()
            .map(|(s, r)| Some((*s, r.result().ok()?.as_f64()? as u64)))
            .collect::<Option<Vec<_>>>();
        let written = tallied.map(|t| encode(&RunCounts::of(t)));
        if let Some(Ok(row)) = written {
            if let Ok(put) = counts.put(&row) {
                on_settled(&put, &counts, |_| {});
            }
        }
    });
    Ok(())
}

/// Calls `then` with the result of `request` once it succeeds; when it fails, the change it
/// goes with is kept and the record dropped instead ([`super::chained::on_settled`]).
fn on_settled(request: &IdbRequest, counts: &IdbObjectStore, then: impl FnOnce(JsValue) + 'static) {
    let counts = counts.clone();
    super::chained::on_settled(request, then, move || forget(&counts));
}

/// Drops the record, so that the next read counts every run again. In a transaction being
/// aborted this fails, and nothing of it stays anyway.
fn forget(counts: &IdbObjectStore) {
    let _ = counts.delete(&JsValue::from_str(COUNTS_KEY));
}

impl TrajectoryStore {
    /// How many runs are stored in each status: one record read, or, when it is missing or
    /// unreadable, counted again from the `status` index (no run is read) and stored.
    pub async fn run_counts(&self) -> Result<RunCounts, StoreError> {
        if let Some(counts) = self.stored_run_counts().await? {
            return Ok(counts);
        }
        let op = "counting runs by status";
        let tx = self.transaction(&[RUNS, RUN_COUNTS], TransactionMode::Readwrite, op)?;
        let raw: IdbTransaction = tx.as_sys().clone().into();
        if let Err(e) = build(&raw) {
            let _ = raw.abort();
            return Err(js_failure(op, &e));
        }
        ended_by_itself(tx, op).await?;
        self.stored_run_counts()
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                store: RUN_COUNTS,
                key: COUNTS_KEY.to_string(),
                reason: "the runs could not be counted by status".to_string(),
            })
    }

    /// The counts as stored (`None`: no readable record), never counted again.
    pub async fn stored_run_counts(&self) -> Result<Option<RunCounts>, StoreError> {
        let op = "reading the run counts";
        let tx = self.transaction(&[RUN_COUNTS], TransactionMode::Readonly, op)?;
        let counts = store(&tx, RUN_COUNTS, op)?;
        Ok(get(&counts, JsValue::from_str(COUNTS_KEY), op)
            .await?
            .and_then(decode))
    }
}

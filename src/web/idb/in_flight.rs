//! The `in_flight` store (schema version 5): a call's worst case, written before its first
//! request goes out and removed with its step's commit or its run's final record (see
//! [`crate::core::in_flight`]). Keyed by `[run_id, step_id]` like the steps, so one run's
//! calls are one key range.

use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyRange;
use wasm_bindgen::JsValue;

use super::records::{from_js_row, run_step_bounds, to_js_row, RunRow};
use super::schema::{IN_FLIGHT, RUNS, RUN_COUNTS};
use super::{
    commit, ended_by_itself, from_idb, js_failure, request, run_counts, store, StoreError,
    TrajectoryStore,
};
use crate::core::in_flight::InFlightCall;
use crate::core::trajectory::RunRecord;

impl TrajectoryStore {
    /// Stores `call` as in flight; the transaction has committed when this returns, so a tab
    /// killed from here on leaves it behind.
    pub async fn begin_call(&self, call: &InFlightCall) -> Result<(), StoreError> {
        let op = format!(
            "recording the call of step {} of run {}",
            call.step_id, call.run_id
        );
        let value = to_js_row(call, || op.clone())?;
        let tx = self.transaction(&[IN_FLIGHT], TransactionMode::Readwrite, &op)?;
        {
            let calls = store(&tx, IN_FLIGHT, &op)?;
            request(calls.put(value).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
        }
        commit(tx, &op).await
    }

    /// The calls of run `run_id` stored as in flight.
    pub async fn in_flight_calls(&self, run_id: &str) -> Result<Vec<InFlightCall>, StoreError> {
        let op = format!("reading the calls in flight of run {run_id}");
        let tx = self.transaction(&[IN_FLIGHT], TransactionMode::Readonly, &op)?;
        let calls = store(&tx, IN_FLIGHT, &op)?;
        let (low, high) = run_step_bounds(run_id);
        let range = KeyRange::Bound(low, false, high, false);
        let rows = request(
            calls
                .get_all::<JsValue>()
                .with_query::<JsValue, _>(range)
                .primitive(),
            &op,
        )
        .await
        .map_err(|(e, _)| e)?;
        let mut out = Vec::new();
        for value in rows {
            out.push(from_js_row(
                value.map_err(|e| from_idb(&op, &e))?,
                IN_FLIGHT,
                "call in flight",
            )?);
        }
        Ok(out)
    }

    /// The ids of the runs with a call stored as in flight, each once (the store holds a call
    /// per run being driven, so it is read whole).
    pub async fn runs_with_calls_in_flight(&self) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        for value in self
            .every_value(IN_FLIGHT, "reading the calls in flight")
            .await?
        {
            let call: InFlightCall = from_js_row(value, IN_FLIGHT, "call in flight")?;
            if ids.last() != Some(&call.run_id) {
                ids.push(call.run_id);
            }
        }
        Ok(ids)
    }

    /// Replaces `record` and removes its run's calls in flight, in one transaction.
    pub async fn put_run_settling_calls(&self, record: &RunRecord) -> Result<(), StoreError> {
        let op = format!("saving run {}", record.run_id);
        let value = RunRow::encode(record)?;
        let tx = self.transaction(
            &[RUNS, IN_FLIGHT, RUN_COUNTS],
            TransactionMode::Readwrite,
            &op,
        )?;
        {
            let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
            run_counts::shift_stored(&raw, &record.run_id, Some(record.status))
                .map_err(|e| js_failure(&op, &e))?;
            let runs = store(&tx, RUNS, &op)?;
            request(runs.put(value).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
            let calls = store(&tx, IN_FLIGHT, &op)?;
            let (low, high) = run_step_bounds(&record.run_id);
            let range = KeyRange::Bound(low, false, high, false);
            request(calls.delete::<JsValue, _>(range).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
        }
        ended_by_itself(tx, &op).await
    }
}

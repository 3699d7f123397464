//! Datasets and batches in the run store, and the store as core's [`RunStore`] and
//! [`BatchStore`], where the run driver ([`crate::core::driver`]) keeps runs and batches.
//!
//! Like runs, both are stored as JSON text beside the few fields they are keyed and indexed by
//! (see `records.rs` for why text): a dataset's problems keep their metadata numbers exactly
//! (`level: 5` stays an integer), and a batch record reads back equal to what was written.
//!
//! A dataset record also carries its summary (name, counts) as a separate small text, so the
//! list of datasets is read without parsing every problem of every dataset.

use std::collections::HashSet;

use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::{DeserialiseFromJs, SerialiseToJs};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use crate::core::batch::{BatchRecord, BatchStatus};
use crate::core::dataset::{FieldMapping, Problem};
use crate::core::driver::startup::StartupStore;
use crate::core::in_flight::InFlightCall;
use crate::core::pipeline::SinkError;
use crate::core::run_store::{BatchStore, RunStore};
use crate::core::sorting;
use crate::core::stored_dataset::{DatasetSummary, StoredDataset};
use crate::core::trajectory::{RunRecord, TrajectoryEntry};

use super::error::{from_idb, StoreError};
use super::records::RunRow;
use super::schema::{index, BATCHES, DATASETS, RUNS, STEPS};
use super::{commit, count, get, request, run_steps_in, store, text_keys, TrajectoryStore};

/// The part of a dataset kept as one JSON text.
#[derive(Serialize, Deserialize)]
struct DatasetBody {
    mapping: FieldMapping,
    problems: Vec<Problem>,
}

/// A record of the `datasets` store.
#[derive(Serialize, Deserialize)]
struct DatasetRow {
    dataset_id: String,
    created_ms: f64,
    summary: String,
    json: String,
}

/// The fields of a dataset record the list reads; the problems' text is not copied out.
#[derive(Deserialize)]
struct DatasetHead {
    dataset_id: String,
    summary: String,
}

/// A record of the `batches` store.
#[derive(Serialize, Deserialize)]
struct BatchRow {
    batch_id: String,
    created_ms: f64,
    dataset_id: String,
    status: BatchStatus,
    json: String,
}

fn encode_json<T: Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Encode {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

fn decode_json<T: DeserializeOwned>(
    text: &str,
    store: &'static str,
    key: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        store,
        key: key.to_string(),
        reason: e.to_string(),
    })
}

fn to_js<T: Serialize>(value: &T, what: &str) -> Result<JsValue, StoreError> {
    value.serialise_to_js().map_err(|e| StoreError::Encode {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

fn from_js<T: DeserializeOwned>(
    value: JsValue,
    store: &'static str,
    key: &str,
) -> Result<T, StoreError> {
    T::deserialise_from_js(value).map_err(|e| StoreError::Corrupt {
        store,
        key: key.to_string(),
        reason: e.to_string(),
    })
}

impl DatasetRow {
    fn encode(dataset: &StoredDataset) -> Result<JsValue, StoreError> {
        let what = format!("the dataset `{}`", dataset.summary.name);
        let body = DatasetBody {
            mapping: dataset.mapping.clone(),
            problems: dataset.problems.clone(),
        };
        let row = DatasetRow {
            dataset_id: dataset.summary.dataset_id.clone(),
            created_ms: dataset.summary.created_ms,
            summary: encode_json(&dataset.summary, &what)?,
            json: encode_json(&body, &what)?,
        };
        to_js(&row, &what)
    }

    fn decode(value: JsValue, key: &str) -> Result<StoredDataset, StoreError> {
        let row: DatasetRow = from_js(value, DATASETS, key)?;
        let summary: DatasetSummary = decode_json(&row.summary, DATASETS, &row.dataset_id)?;
        let body: DatasetBody = decode_json(&row.json, DATASETS, &row.dataset_id)?;
        check_key(DATASETS, &row.dataset_id, &summary.dataset_id)?;
        Ok(StoredDataset {
            summary,
            mapping: body.mapping,
            problems: body.problems,
        })
    }
}

impl BatchRow {
    fn encode(batch: &BatchRecord) -> Result<JsValue, StoreError> {
        let what = format!("batch {}", batch.spec.batch_id);
        let row = BatchRow {
            batch_id: batch.spec.batch_id.clone(),
            created_ms: batch.spec.created_ms,
            dataset_id: batch.spec.dataset_id.clone(),
            status: batch.status,
            json: encode_json(batch, &what)?,
        };
        to_js(&row, &what)
    }

    fn decode(value: JsValue) -> Result<BatchRecord, StoreError> {
        let row: BatchRow = from_js(value, BATCHES, "?")?;
        let batch: BatchRecord = decode_json(&row.json, BATCHES, &row.batch_id)?;
        check_key(BATCHES, &row.batch_id, &batch.spec.batch_id)?;
        Ok(batch)
    }
}

/// A record whose key and content disagree was written by something other than this code.
fn check_key(store: &'static str, key: &str, inside: &str) -> Result<(), StoreError> {
    if key == inside {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            store,
            key: key.to_string(),
            reason: format!("the record holds `{inside}`"),
        })
    }
}

impl TrajectoryStore {
    // ---- datasets ----

    /// Saves a dataset, replacing one with the same id (the same problems imported again,
    /// perhaps under another name).
    pub async fn put_dataset(&self, dataset: &StoredDataset) -> Result<(), StoreError> {
        let op = format!("saving the dataset `{}`", dataset.summary.name);
        let value = DatasetRow::encode(dataset)?;
        self.put_row(DATASETS, value, &op).await
    }

    /// The dataset `id` with its problems, if stored.
    pub async fn get_dataset(&self, id: &str) -> Result<Option<StoredDataset>, StoreError> {
        let op = format!("reading the dataset {id}");
        let tx = self.transaction(&[DATASETS], TransactionMode::Readonly, &op)?;
        let datasets = store(&tx, DATASETS, &op)?;
        let value = get(&datasets, JsValue::from_str(id), &op).await?;
        value.map(|v| DatasetRow::decode(v, id)).transpose()
    }

    /// Deletes dataset `id` and returns it as it was stored (`None` when it was not), read and
    /// deleted in one transaction so that an undo puts back exactly what went away.
    pub async fn take_dataset(&self, id: &str) -> Result<Option<StoredDataset>, StoreError> {
        let op = format!("deleting the dataset {id}");
        let tx = self.transaction(&[DATASETS], TransactionMode::Readwrite, &op)?;
        let taken = {
            let datasets = store(&tx, DATASETS, &op)?;
            let key = JsValue::from_str(id);
            let value = get(&datasets, key.clone(), &op).await?;
            if value.is_some() {
                request(datasets.delete(key).primitive(), &op)
                    .await
                    .map_err(|(e, _)| e)?;
            }
            value
        };
        commit(tx, &op).await?;
        taken.map(|v| DatasetRow::decode(v, id)).transpose()
    }

    /// Every stored dataset's summary, newest first.
    pub async fn list_datasets(&self) -> Result<Vec<DatasetSummary>, StoreError> {
        let all = self.every_value(DATASETS, "listing datasets").await?;
        let mut out = Vec::new();
        for value in all {
            let head: DatasetHead = from_js(value, DATASETS, "?")?;
            let summary: DatasetSummary = decode_json(&head.summary, DATASETS, &head.dataset_id)?;
            check_key(DATASETS, &head.dataset_id, &summary.dataset_id)?;
            out.push(summary);
        }
        sorting::sort_by(&mut out, |a, b| {
            b.created_ms
                .total_cmp(&a.created_ms)
                .then_with(|| b.dataset_id.cmp(&a.dataset_id))
        });
        Ok(out)
    }

    /// Deletes dataset `id`; returns whether it was there. Batches made from it are kept (their
    /// runs and results stay), but cannot be resumed without it.
    pub async fn delete_dataset(&self, id: &str) -> Result<bool, StoreError> {
        let op = format!("deleting the dataset {id}");
        let tx = self.transaction(&[DATASETS], TransactionMode::Readwrite, &op)?;
        let existed = {
            let datasets = store(&tx, DATASETS, &op)?;
            let key = JsValue::from_str(id);
            let existed = count(&datasets, key.clone(), &op).await? > 0;
            request(datasets.delete(key).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
            existed
        };
        commit(tx, &op).await?;
        Ok(existed)
    }

    // ---- batches ----

    /// Saves a batch record, replacing the one with the same id (its status and items as they
    /// change).
    pub async fn put_batch(&self, batch: &BatchRecord) -> Result<(), StoreError> {
        let op = format!("saving batch {}", batch.spec.batch_id);
        let value = BatchRow::encode(batch)?;
        self.put_row(BATCHES, value, &op).await
    }

    /// The batch `id`, if stored.
    pub async fn get_batch(&self, id: &str) -> Result<Option<BatchRecord>, StoreError> {
        let op = format!("reading batch {id}");
        let tx = self.transaction(&[BATCHES], TransactionMode::Readonly, &op)?;
        let batches = store(&tx, BATCHES, &op)?;
        let value = get(&batches, JsValue::from_str(id), &op).await?;
        value.map(BatchRow::decode).transpose()
    }

    /// Every batch, newest first (by creation time).
    pub async fn list_batches(&self) -> Result<Vec<BatchRecord>, StoreError> {
        self.newest_first(BATCHES, BatchRow::decode, "listing batches")
            .await
    }

    /// The ids of every stored batch (to pick a new one that is free).
    pub async fn batch_ids(&self) -> Result<HashSet<String>, StoreError> {
        let ids = self.every_text_key(BATCHES, "listing batch ids").await?;
        Ok(ids.into_iter().collect())
    }

    /// Deletes the batch record `id`; returns whether it was there. Its runs are kept (they
    /// are runs like any other, listed on the Runs page).
    pub async fn delete_batch(&self, id: &str) -> Result<bool, StoreError> {
        let op = format!("deleting batch {id}");
        let tx = self.transaction(&[BATCHES], TransactionMode::Readwrite, &op)?;
        let existed = {
            let batches = store(&tx, BATCHES, &op)?;
            let key = JsValue::from_str(id);
            let existed = count(&batches, key.clone(), &op).await? > 0;
            request(batches.delete(key).primitive(), &op)
                .await
                .map_err(|(e, _)| e)?;
            existed
        };
        commit(tx, &op).await?;
        Ok(existed)
    }

    /// The runs tagged with `batch_id`, oldest first (by id, which is start order).
    pub async fn batch_runs(&self, batch_id: &str) -> Result<Vec<RunRecord>, StoreError> {
        let op = format!("listing the runs of batch {batch_id}");
        let tx = self.transaction(&[RUNS], TransactionMode::Readonly, &op)?;
        let runs = store(&tx, RUNS, &op)?;
        let by_batch = runs.index(index::BATCH_ID).map_err(|e| from_idb(&op, &e))?;
        let found = request(
            by_batch
                .get_all::<JsValue>()
                .with_query(JsValue::from_str(batch_id))
                .primitive(),
            &op,
        )
        .await
        .map_err(|(e, _)| e)?;
        let mut out = Vec::new();
        for value in found {
            out.push(RunRow::decode(value.map_err(|e| from_idb(&op, &e))?)?);
        }
        Ok(out)
    }

    /// The steps of each of `run_ids` (in that order, each in step order), read in one
    /// transaction.
    pub async fn steps_of_runs(
        &self,
        run_ids: &[String],
    ) -> Result<Vec<Vec<TrajectoryEntry>>, StoreError> {
        let op = format!("reading the steps of {} runs", run_ids.len());
        let tx = self.transaction(&[STEPS], TransactionMode::Readonly, &op)?;
        let steps = store(&tx, STEPS, &op)?;
        let mut out = Vec::with_capacity(run_ids.len());
        for id in run_ids {
            out.push(run_steps_in(&steps, id, &op).await?);
        }
        Ok(out)
    }

    /// The ids of the batches stored as running or paused, read-only, in id order. When the
    /// app loads, each is either driven by another open tab (which holds its lock, see
    /// [`crate::web::locks`]) or was cut off by a closed or reloaded page.
    ///
    /// Every page load asks, before its first page draws, and a batch's record holds every
    /// item: read from the `status` index's keys, so no batch record is read or parsed, however
    /// many batches are stored.
    pub async fn unfinished_batch_ids(&self) -> Result<Vec<String>, StoreError> {
        let op = "looking for batches left running";
        let tx = self.transaction(&[BATCHES], TransactionMode::Readonly, op)?;
        let batches = store(&tx, BATCHES, op)?;
        let by_status = batches.index(index::STATUS).map_err(|e| from_idb(op, &e))?;
        let mut ids = Vec::new();
        for status in [BatchStatus::Running, BatchStatus::Paused] {
            let keys = request(
                by_status
                    .get_all_keys::<JsValue>()
                    .with_query(JsValue::from_str(status.as_str()))
                    .primitive(),
                op,
            )
            .await
            .map_err(|(e, _)| e)?;
            ids.extend(text_keys(keys, BATCHES, "batch", op)?);
        }
        sorting::sort_by(&mut ids, |a, b| a.cmp(b));
        Ok(ids)
    }

    /// Marks the batches `ids` as interrupted (their items in flight pending again, see
    /// [`BatchRecord::mark_interrupted`]) where they are still running or paused, and returns
    /// the ids it changed.
    pub async fn mark_batches_interrupted(
        &self,
        ids: &[String],
        now_ms: f64,
    ) -> Result<Vec<String>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let op = "marking interrupted batches";
        let tx = self.transaction(&[BATCHES], TransactionMode::Readwrite, op)?;
        let marked = {
            let batches = store(&tx, BATCHES, op)?;
            let mut marked = Vec::new();
            for id in ids {
                let Some(value) = super::get(&batches, JsValue::from_str(id), op).await? else {
                    continue;
                };
                let mut batch = BatchRow::decode(value)?;
                if !matches!(batch.status, BatchStatus::Running | BatchStatus::Paused) {
                    continue;
                }
                batch.mark_interrupted(now_ms);
                request(batches.put(BatchRow::encode(&batch)?).primitive(), op)
                    .await
                    .map_err(|(e, _)| e)?;
                marked.push(batch.spec.batch_id);
            }
            marked
        };
        commit(tx, op).await?;
        Ok(marked)
    }
}

/// The start-up check's questions, answered by the methods above.
impl StartupStore for TrajectoryStore {
    async fn running_runs(&self) -> Result<Vec<(String, Option<String>)>, SinkError> {
        Ok(TrajectoryStore::running_runs(self).await?)
    }

    async fn mark_runs_interrupted(
        &self,
        ids: &[String],
        now_ms: f64,
    ) -> Result<Vec<String>, SinkError> {
        Ok(TrajectoryStore::mark_runs_interrupted(self, ids, now_ms).await?)
    }

    async fn unfinished_batch_ids(&self) -> Result<Vec<String>, SinkError> {
        Ok(TrajectoryStore::unfinished_batch_ids(self).await?)
    }

    async fn runs_with_calls_in_flight(&self) -> Result<Vec<String>, SinkError> {
        Ok(TrajectoryStore::runs_with_calls_in_flight(self).await?)
    }

    async fn mark_batches_interrupted(
        &self,
        ids: &[String],
        now_ms: f64,
    ) -> Result<Vec<String>, SinkError> {
        Ok(TrajectoryStore::mark_batches_interrupted(self, ids, now_ms).await?)
    }
}

/// The store as the run driver's: runs are created, replaced and read here, and each step is
/// committed with its run's record ([`TrajectoryStore::append_step`]).
impl RunStore for TrajectoryStore {
    async fn append_step(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
    ) -> Result<RunRecord, SinkError> {
        Ok(TrajectoryStore::append_step(self, record, entry).await?)
    }

    /// One readwrite transaction per id tried: the store's own `add` refuses a taken id.
    async fn create_run_under_free_id(&self, record: &mut RunRecord) -> Result<(), SinkError> {
        Ok(TrajectoryStore::create_run_under_free_id(self, record).await?)
    }

    async fn create_run_before_call(
        &self,
        record: &mut RunRecord,
        first_call: &mut InFlightCall,
    ) -> Result<bool, SinkError> {
        TrajectoryStore::create_run_under_free_id_before_call(self, record, first_call).await?;
        Ok(true)
    }

    async fn put_run(&self, record: &RunRecord) -> Result<(), SinkError> {
        Ok(TrajectoryStore::put_run(self, record).await?)
    }

    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, SinkError> {
        Ok(TrajectoryStore::get_run(self, run_id).await?)
    }

    async fn steps(&self, run_id: &str) -> Result<Vec<TrajectoryEntry>, SinkError> {
        Ok(TrajectoryStore::steps(self, run_id).await?)
    }

    async fn begin_call(&self, call: &InFlightCall) -> Result<(), SinkError> {
        Ok(TrajectoryStore::begin_call(self, call).await?)
    }

    async fn append_step_before_call(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
        next_call: &InFlightCall,
    ) -> Result<(RunRecord, bool), SinkError> {
        let updated =
            TrajectoryStore::append_step_before_call(self, record, entry, Some(next_call)).await?;
        Ok((updated, true))
    }

    async fn in_flight_calls(&self, run_id: &str) -> Result<Vec<InFlightCall>, SinkError> {
        Ok(TrajectoryStore::in_flight_calls(self, run_id).await?)
    }

    async fn put_run_settling_calls(&self, record: &RunRecord) -> Result<(), SinkError> {
        Ok(TrajectoryStore::put_run_settling_calls(self, record).await?)
    }
}

/// The store as the batch driver's.
impl BatchStore for TrajectoryStore {
    async fn put_batch(&self, record: &BatchRecord) -> Result<(), SinkError> {
        Ok(TrajectoryStore::put_batch(self, record).await?)
    }

    async fn get_batch(&self, batch_id: &str) -> Result<Option<BatchRecord>, SinkError> {
        Ok(TrajectoryStore::get_batch(self, batch_id).await?)
    }

    async fn batch_ids(&self) -> Result<HashSet<String>, SinkError> {
        Ok(TrajectoryStore::batch_ids(self).await?)
    }

    async fn dataset_problems(&self, dataset_id: &str) -> Result<Option<Vec<Problem>>, SinkError> {
        let dataset = TrajectoryStore::get_dataset(self, dataset_id).await?;
        Ok(dataset.map(|d| d.problems))
    }

    async fn batch_runs(&self, batch_id: &str) -> Result<Vec<RunRecord>, SinkError> {
        Ok(TrajectoryStore::batch_runs(self, batch_id).await?)
    }
}

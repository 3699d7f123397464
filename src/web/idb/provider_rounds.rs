//! The `provider_rounds` store (schema version 4): provider batch mode's journal, one record
//! per provider batch of a round, keyed by `[batch_id, round]`, behind core's
//! [`BatchJournal`]. Each record keeps the round as JSON text beside its key (its results
//! included, so a reopened page applies them without asking the provider again).

use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::records::{from_js_row, to_js_row};
use super::schema::{index, PROVIDER_ROUNDS};
use super::{from_idb, request, store, StoreError, TrajectoryStore};
use crate::core::pipeline::SinkError;
use crate::core::provider_batch::turnaround::RoundTiming;
use crate::core::provider_batch::{BatchJournal, RoundRecord};

/// A record of the `provider_rounds` store.
#[derive(Debug, Serialize, Deserialize)]
struct RoundRow {
    batch_id: String,
    round: u32,
    json: String,
}

impl RoundRow {
    fn encode(round: &RoundRecord) -> Result<JsValue, StoreError> {
        let what = || format!("round {} of batch {}", round.round, round.batch_id);
        let json = serde_json::to_string(round).map_err(|e| StoreError::Encode {
            what: what(),
            reason: e.to_string(),
        })?;
        let row = RoundRow {
            batch_id: round.batch_id.clone(),
            round: round.round,
            json,
        };
        to_js_row(&row, what)
    }

    fn decode(value: JsValue) -> Result<RoundRecord, StoreError> {
        let row: RoundRow = from_js_row(value, PROVIDER_ROUNDS, "provider round")?;
        serde_json::from_str(&row.json).map_err(|e| StoreError::Corrupt {
            store: PROVIDER_ROUNDS,
            key: format!("{}/{}", row.batch_id, row.round),
            reason: e.to_string(),
        })
    }
}

impl TrajectoryStore {
    /// Saves a round, replacing the record of the same batch and round.
    pub async fn put_provider_round(&self, round: &RoundRecord) -> Result<(), StoreError> {
        let op = format!("saving round {} of batch {}", round.round, round.batch_id);
        let value = RoundRow::encode(round)?;
        self.put_row(PROVIDER_ROUNDS, value, &op).await
    }

    /// Every round of batch `batch_id`, in round order.
    pub async fn provider_rounds(&self, batch_id: &str) -> Result<Vec<RoundRecord>, StoreError> {
        let op = format!("reading the provider rounds of batch {batch_id}");
        let tx = self.transaction(&[PROVIDER_ROUNDS], TransactionMode::Readonly, &op)?;
        let rounds = store(&tx, PROVIDER_ROUNDS, &op)?;
        let by_batch = rounds
            .index(index::BATCH_ID)
            .map_err(|e| from_idb(&op, &e))?;
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
            out.push(RoundRow::decode(value.map_err(|e| from_idb(&op, &e))?)?);
        }
        out.sort_by_key(|r| r.round);
        Ok(out)
    }
}

impl TrajectoryStore {
    /// When every stored round of every batch was submitted and ended, by family (what the
    /// Batch page learns turnarounds from); a round that does not read is left out, since a
    /// forecast does without it.
    pub async fn provider_round_timings(&self) -> Result<Vec<RoundTiming>, StoreError> {
        let op = "reading past provider batches' turnarounds";
        let tx = self.transaction(&[PROVIDER_ROUNDS], TransactionMode::Readonly, op)?;
        let rounds = store(&tx, PROVIDER_ROUNDS, op)?;
        let found = request(rounds.get_all::<JsValue>().primitive(), op)
            .await
            .map_err(|(e, _)| e)?;
        let mut out = Vec::new();
        for value in found {
            let value = value.map_err(|e| from_idb(op, &e))?;
            let Ok(row) = from_js_row::<RoundRow>(value, PROVIDER_ROUNDS, "provider round") else {
                continue;
            };
            // Read past the requests and results without keeping them.
            if let Ok(timing) = serde_json::from_str::<RoundTiming>(&row.json) {
                out.push(timing);
            }
        }
        Ok(out)
    }
}

/// The store as provider batch mode's journal.
impl BatchJournal for TrajectoryStore {
    async fn put_round(&self, round: &RoundRecord) -> Result<(), SinkError> {
        Ok(self.put_provider_round(round).await?)
    }

    async fn rounds(&self, batch_id: &str) -> Result<Vec<RoundRecord>, SinkError> {
        Ok(self.provider_rounds(batch_id).await?)
    }
}

//! The `replies` store (schema version 3): paid replies by request hash, behind core's
//! [`ReplyStore`]. Each record keeps the reply as JSON text beside its key, its storage time
//! (indexed, for clearing old replies) and its size.
//!
//! Clearing replies never touches `runs` or `steps`: a trajectory keeps everything it shows and
//! exports, so only replaying the runs that used a cleared reply is lost.

use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::transaction::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::records::{from_js_row, to_js_row};
use super::schema::REPLIES;
use super::{commit, get, js_failure, refused_as_constraint, store, StoreError, TrajectoryStore};
use crate::core::replies::store::ReplyStoreError;
use crate::core::replies::{ReplyStore, StoredReply};

/// How much the reply store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplyStoreSize {
    /// Stored replies.
    pub replies: u64,
    /// Their approximate size in bytes ([`StoredReply::size_bytes`]).
    pub bytes: u64,
}

/// A record of the `replies` store.
#[derive(Debug, Serialize, Deserialize)]
struct ReplyRow {
    request_hash: String,
    stored_ms: f64,
    bytes: f64,
    json: String,
}

impl ReplyRow {
    fn encode(reply: &StoredReply) -> Result<JsValue, StoreError> {
        let what = || format!("reply {}", reply.request_hash);
        let json = serde_json::to_string(reply).map_err(|e| StoreError::Encode {
            what: what(),
            reason: e.to_string(),
        })?;
        let row = ReplyRow {
            request_hash: reply.request_hash.clone(),
            stored_ms: reply.stored_ms,
            bytes: reply.size_bytes() as f64,
            json,
        };
        to_js_row(&row, what)
    }

    fn decode(value: JsValue) -> Result<ReplyRow, StoreError> {
        from_js_row(value, REPLIES, "reply")
    }
}

impl TrajectoryStore {
    /// The reply stored under `request_hash`, if any.
    pub async fn get_stored_reply(
        &self,
        request_hash: &str,
    ) -> Result<Option<StoredReply>, StoreError> {
        let op = format!("reading stored reply {request_hash}");
        let tx = self.transaction(&[REPLIES], TransactionMode::Readonly, &op)?;
        let replies = store(&tx, REPLIES, &op)?;
        let Some(value) = get(&replies, JsValue::from_str(request_hash), &op).await? else {
            return Ok(None);
        };
        let row = ReplyRow::decode(value)?;
        serde_json::from_str(&row.json)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                store: REPLIES,
                key: request_hash.to_string(),
                reason: e.to_string(),
            })
    }

    /// Stores `reply` unless one is stored under its hash; returns whether it was added.
    pub async fn add_stored_reply(&self, reply: &StoredReply) -> Result<bool, StoreError> {
        let op = format!("storing reply {}", reply.request_hash);
        let value = ReplyRow::encode(reply)?;
        let tx = self.transaction(&[REPLIES], TransactionMode::Readwrite, &op)?;
        let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
        let added = raw
            .object_store(REPLIES)
            .and_then(|replies| replies.add(&value))
            .map_err(|e| js_failure(&op, &e))?;
        match commit(tx, &op).await {
            Ok(()) => Ok(true),
            Err(_) if refused_as_constraint(&added) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// How many replies are stored and their size.
    pub async fn reply_store_size(&self) -> Result<ReplyStoreSize, StoreError> {
        let rows = self
            .every_value(REPLIES, "measuring the reply store")
            .await?;
        let mut size = ReplyStoreSize::default();
        for value in rows {
            let row = ReplyRow::decode(value)?;
            size.replies += 1;
            size.bytes += row.bytes as u64;
        }
        Ok(size)
    }

    /// Deletes the replies stored before `cutoff_ms`; returns how many went. Runs and their
    /// steps are not touched.
    pub async fn delete_replies_older_than(&self, cutoff_ms: f64) -> Result<u64, StoreError> {
        let op = "clearing old replies";
        let rows = self.every_value(REPLIES, op).await?;
        let mut old = Vec::new();
        for value in rows {
            let row = ReplyRow::decode(value)?;
            if row.stored_ms < cutoff_ms {
                old.push(row.request_hash);
            }
        }
        if old.is_empty() {
            return Ok(0);
        }
        let tx = self.transaction(&[REPLIES], TransactionMode::Readwrite, op)?;
        {
            let raw: web_sys::IdbTransaction = tx.as_sys().clone().into();
            let replies = raw.object_store(REPLIES).map_err(|e| js_failure(op, &e))?;
            for hash in &old {
                replies
                    .delete(&JsValue::from_str(hash))
                    .map_err(|e| js_failure(op, &e))?;
            }
        }
        commit(tx, op).await?;
        Ok(old.len() as u64)
    }
}

impl ReplyStore for TrajectoryStore {
    async fn get_reply(&self, request_hash: &str) -> Result<Option<StoredReply>, ReplyStoreError> {
        self.get_stored_reply(request_hash)
            .await
            .map_err(|e| ReplyStoreError(e.to_string()))
    }

    async fn put_reply(&self, reply: &StoredReply) -> Result<bool, ReplyStoreError> {
        self.add_stored_reply(reply)
            .await
            .map_err(|e| ReplyStoreError(e.to_string()))
    }
}

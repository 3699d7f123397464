//! The `replies` store (schema version 3): paid replies by request hash, behind core's
//! [`ReplyStore`]. Each record keeps the reply as JSON text beside its key, its storage time
//! (indexed, for clearing old replies) and its size.
//!
//! Which hashes are stored is read once per tab into [`tab_reply_index`], so a paid call reads
//! nothing; each reply this tab stores is announced to the other tabs on a `BroadcastChannel`,
//! whose index lists it at once.
//!
//! Clearing replies never touches `runs` or `steps`: a trajectory keeps everything it shows and
//! exports, so only replaying the runs that used a cleared reply is lost.

use std::rc::Rc;

use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::transaction::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

use super::records::{from_js_row, to_js_row};
use super::schema::REPLIES;
use super::{commit, get, js_failure, refused_as_constraint, store, StoreError, TrajectoryStore};
use crate::core::replies::known::StoredHashes;
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

/// The reply in a row of the `replies` store read under `request_hash`.
pub(super) fn decode_reply(value: JsValue, request_hash: &str) -> Result<StoredReply, StoreError> {
    let row = ReplyRow::decode(value)?;
    serde_json::from_str(&row.json).map_err(|e| StoreError::Corrupt {
        store: REPLIES,
        key: request_hash.to_string(),
        reason: e.to_string(),
    })
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
        decode_reply(value, request_hash).map(Some)
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

    /// The hash of every stored reply (the store's keys only, in one read).
    pub async fn stored_reply_hashes(&self) -> Result<Vec<String>, StoreError> {
        self.every_text_key(REPLIES, "listing the stored replies")
            .await
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

    async fn get_replies(
        &self,
        request_hashes: &[String],
    ) -> Result<Vec<Option<StoredReply>>, ReplyStoreError> {
        self.get_stored_replies(request_hashes)
            .await
            .map_err(|e| ReplyStoreError(e.to_string()))
    }

    async fn put_reply(&self, reply: &StoredReply) -> Result<bool, ReplyStoreError> {
        let added = self
            .add_stored_reply(reply)
            .await
            .map_err(|e| ReplyStoreError(e.to_string()))?;
        if added {
            announce(&reply.request_hash);
        }
        Ok(added)
    }

    async fn stored_hashes(&self) -> Result<Vec<String>, ReplyStoreError> {
        self.stored_reply_hashes()
            .await
            .map_err(|e| ReplyStoreError(e.to_string()))
    }
}

/// The channel the tabs of this origin announce stored replies on.
const ANNOUNCE_CHANNEL: &str = "trialogue-replies";

/// This tab's index of stored hashes and the channel that keeps it current; made on first use
/// and kept for the tab's life.
struct TabIndex {
    known: Rc<StoredHashes>,
    channel: Option<AnnounceChannel>,
}

impl TabIndex {
    fn new() -> Self {
        let known = StoredHashes::new();
        let listed = Rc::clone(&known);
        let channel = AnnounceChannel::open(move |hash| listed.insert(&hash));
        TabIndex { known, channel }
    }
}

/// The `BroadcastChannel` the tabs announce stored replies on, reached through `Reflect` and
/// the JS imports the first load has anyway: web-sys's `BroadcastChannel` and `MessageEvent`
/// bindings would each add an import to the glue every visit fetches, for a channel only a
/// run uses.
struct AnnounceChannel {
    channel: js_sys::Object,
    post_message: js_sys::Function,
    // Held so the channel's handler lives as long as the channel.
    _on_message: Closure<dyn FnMut(web_sys::Event)>,
}

impl AnnounceChannel {
    /// The channel, with `on_hash` called for each hash another tab announces; `None` where
    /// the browser has no `BroadcastChannel`.
    fn open(mut on_hash: impl FnMut(String) + 'static) -> Option<Self> {
        let property = |target: &JsValue, name: &str| {
            js_sys::Reflect::get(target, &JsValue::from_str(name)).ok()
        };
        let constructor: js_sys::Function = property(&js_sys::global(), "BroadcastChannel")?
            .dyn_into()
            .ok()?;
        let channel: js_sys::Object = js_sys::Reflect::construct(
            &constructor,
            &js_sys::Array::of1(&JsValue::from_str(ANNOUNCE_CHANNEL)),
        )
        .ok()?
        .dyn_into()
        .ok()?;
        let post_message: js_sys::Function = property(&channel, "postMessage")?.dyn_into().ok()?;
        let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            if let Some(hash) = property(&event, "data").and_then(|data| data.as_string()) {
                on_hash(hash);
            }
        });
        js_sys::Reflect::set(
            &channel,
            &JsValue::from_str("onmessage"),
            on_message.as_ref(),
        )
        .ok()?;
        Some(AnnounceChannel {
            channel,
            post_message,
            _on_message: on_message,
        })
    }

    fn post(&self, request_hash: &str) {
        // A tab that misses it pays for the request once more; nothing is lost.
        let _ = self
            .post_message
            .call1(&self.channel, &JsValue::from_str(request_hash));
    }
}

thread_local! {
    static TAB_INDEX: TabIndex = TabIndex::new();
}

/// The hashes of the stored replies as this tab knows them: read from IndexedDB by the first
/// session that needs them, then kept current by this tab's writes and the other tabs'
/// announcements. Where the browser has no `BroadcastChannel` each session gets an index of
/// its own, read when it starts, so it still sees what other tabs stored before.
pub fn tab_reply_index() -> Rc<StoredHashes> {
    TAB_INDEX.with(|tab| match tab.channel {
        Some(_) => Rc::clone(&tab.known),
        None => StoredHashes::new(),
    })
}

/// Tells the other tabs that a reply is stored under `request_hash`.
fn announce(request_hash: &str) {
    TAB_INDEX.with(|tab| {
        if let Some(channel) = &tab.channel {
            channel.post(request_hash);
        }
    });
}

//! The [`ReplyStore`] seam: paid replies by request hash. IndexedDB implements it in the browser,
//! [`MemoryReplyStore`] natively.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::core::llm::chat::HttpResponse;
use crate::core::llm::Usage;

/// One paid reply, stored once however many steps refer to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReply {
    /// The sha-256 of the canonical request: the store's key.
    pub request_hash: String,
    /// The canonical request's JSON (no credentials).
    pub request: String,
    /// The provider's response as it came: status, readable headers, raw body.
    pub response: HttpResponse,
    /// The usage the provider reported for it, when known.
    pub usage: Option<Usage>,
    /// The run that paid for it.
    pub paid_by: String,
    /// When it was stored, epoch milliseconds.
    pub stored_ms: f64,
}

impl StoredReply {
    /// Roughly what it occupies: the bytes of its texts.
    pub fn size_bytes(&self) -> u64 {
        let headers: usize = self
            .response
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        (self.request.len() + self.response.body.len() + headers + self.paid_by.len() + 64) as u64
    }
}

/// Why the reply store could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reply store failed: {0}")]
pub struct ReplyStoreError(pub String);

/// Paid replies addressed by request hash.
// Browser futures are not `Send`; nothing here crosses threads.
#[allow(async_fn_in_trait)]
pub trait ReplyStore {
    /// The reply stored under `request_hash`, if any.
    async fn get_reply(&self, request_hash: &str) -> Result<Option<StoredReply>, ReplyStoreError>;
    /// The replies stored under `request_hashes`, in their order (`None` where none is), read
    /// together where the store can (one transaction in the browser).
    async fn get_replies(
        &self,
        request_hashes: &[String],
    ) -> Result<Vec<Option<StoredReply>>, ReplyStoreError> {
        let mut replies = Vec::with_capacity(request_hashes.len());
        for hash in request_hashes {
            replies.push(self.get_reply(hash).await?);
        }
        Ok(replies)
    }
    /// Stores `reply` unless one is stored under its hash already (the first payer is kept);
    /// returns whether it was added.
    async fn put_reply(&self, reply: &StoredReply) -> Result<bool, ReplyStoreError>;
    /// The hash of every stored reply.
    async fn stored_hashes(&self) -> Result<Vec<String>, ReplyStoreError>;
}

impl<S: ReplyStore + ?Sized> ReplyStore for &S {
    async fn get_reply(&self, request_hash: &str) -> Result<Option<StoredReply>, ReplyStoreError> {
        (**self).get_reply(request_hash).await
    }
    async fn get_replies(
        &self,
        request_hashes: &[String],
    ) -> Result<Vec<Option<StoredReply>>, ReplyStoreError> {
        (**self).get_replies(request_hashes).await
    }
    async fn put_reply(&self, reply: &StoredReply) -> Result<bool, ReplyStoreError> {
        (**self).put_reply(reply).await
    }
    async fn stored_hashes(&self) -> Result<Vec<String>, ReplyStoreError> {
        (**self).stored_hashes().await
    }
}

/// An in-memory [`ReplyStore`]; clones share the replies.
#[derive(Debug, Clone, Default)]
pub struct MemoryReplyStore {
    replies: Rc<RefCell<BTreeMap<String, StoredReply>>>,
}

impl MemoryReplyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many replies it holds.
    pub fn len(&self) -> usize {
        self.replies.borrow().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every reply, by hash.
    pub fn replies(&self) -> Vec<StoredReply> {
        self.replies.borrow().values().cloned().collect()
    }

    /// Removes the replies stored before `cutoff_ms`; returns how many went. Trajectories keep
    /// their own copy of everything they show and export, so only replaying the runs that used
    /// them is lost.
    pub fn remove_older_than(&self, cutoff_ms: f64) -> usize {
        let mut replies = self.replies.borrow_mut();
        let before = replies.len();
        replies.retain(|_, r| r.stored_ms >= cutoff_ms);
        before - replies.len()
    }
}

impl ReplyStore for MemoryReplyStore {
    async fn get_reply(&self, request_hash: &str) -> Result<Option<StoredReply>, ReplyStoreError> {
        Ok(self.replies.borrow().get(request_hash).cloned())
    }

    async fn put_reply(&self, reply: &StoredReply) -> Result<bool, ReplyStoreError> {
        let mut replies = self.replies.borrow_mut();
        if replies.contains_key(&reply.request_hash) {
            return Ok(false);
        }
        replies.insert(reply.request_hash.clone(), reply.clone());
        Ok(true)
    }

    async fn stored_hashes(&self) -> Result<Vec<String>, ReplyStoreError> {
        Ok(self.replies.borrow().keys().cloned().collect())
    }
}

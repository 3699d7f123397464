//! What provider batch mode keeps across closing the tab: one [`RoundRecord`] per provider
//! batch, written before the provider is asked to create it (its custom ids), again as soon
//! as the provider returns its id (before the submit returns), and once more with its results
//! when it ends. Reopening the batch reads them back: a batch still running is polled, results
//! already read are given to the calls that ask for them again, and nothing is submitted
//! twice.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{BatchCounts, BatchFamily, CustomId, ItemOutcome};
use crate::core::pipeline::SinkError;

/// Where a round's provider batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Its custom ids are recorded; the provider has not (yet) returned a batch id. A round
    /// found in this state on reopening was never acknowledged, so its requests are sent
    /// again in a new round.
    Submitting,
    /// The provider holds it under `provider_batch_id`.
    Submitted,
    /// It ended and its results are in the record.
    Ended,
    /// The provider refused it or it was cancelled; its requests got errors.
    Failed,
}

/// One provider batch of one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// The Trialogue batch it belongs to.
    pub batch_id: String,
    /// Its number among the batch's provider batches (1-based, in submission order).
    pub round: u32,
    /// The API family.
    pub family: BatchFamily,
    /// What the provider batch holds, as its family's [`BatchApi::group`](super::BatchApi::group)
    /// names it: an API root (`https://api.anthropic.com/v1`), with the model for OpenAI (one
    /// model per input file) and Gemini (`…/models/gemini-2.5-flash`); never a key. (Records
    /// from before families held the bare OpenAI root, which reads the same.)
    pub api_root: String,
    /// The provider's id for it, once it returned one.
    pub provider_batch_id: Option<String>,
    /// Where it stands.
    pub status: RoundStatus,
    /// When it was submitted, epoch milliseconds.
    pub submitted_ms: f64,
    /// When its results were read, epoch milliseconds.
    pub ended_ms: Option<f64>,
    /// Its requests: encoded custom id → whose request it is.
    pub requests: BTreeMap<String, CustomId>,
    /// When runs share requests: the request hash of each shareable request, by encoded
    /// custom id, so that a reopened hub finds the request an identical one of another run
    /// waits on. Absent from records of rounds that shared nothing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hashes: BTreeMap<String, String>,
    /// The provider's counts as last polled.
    pub counts: BatchCounts,
    /// The outcome of each request, by encoded custom id, once it ended.
    pub results: BTreeMap<String, ItemOutcome>,
    /// Why it failed, when it did.
    pub message: Option<String>,
}

/// Where rounds are kept (IndexedDB in the browser, [`MemoryJournal`] in tests).
// Futures are not `Send` in the browser, by design.
#[allow(async_fn_in_trait)]
pub trait BatchJournal {
    /// Stores `round`, replacing the record of the same batch and round.
    async fn put_round(&self, round: &RoundRecord) -> Result<(), SinkError>;
    /// Every round of batch `batch_id`, in round order.
    async fn rounds(&self, batch_id: &str) -> Result<Vec<RoundRecord>, SinkError>;
}

impl<J: BatchJournal + ?Sized> BatchJournal for &J {
    async fn put_round(&self, round: &RoundRecord) -> Result<(), SinkError> {
        (**self).put_round(round).await
    }
    async fn rounds(&self, batch_id: &str) -> Result<Vec<RoundRecord>, SinkError> {
        (**self).rounds(batch_id).await
    }
}

/// A journal in memory; clones share it. Tests can make its writes fail.
#[derive(Debug, Clone, Default)]
pub struct MemoryJournal {
    rounds: Rc<RefCell<BTreeMap<(String, u32), RoundRecord>>>,
    writes: Rc<RefCell<Vec<RoundRecord>>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every write so far, in order (what a test checks was durable when).
    pub fn writes(&self) -> Vec<RoundRecord> {
        self.writes.borrow().clone()
    }
}

impl BatchJournal for MemoryJournal {
    async fn put_round(&self, round: &RoundRecord) -> Result<(), SinkError> {
        self.writes.borrow_mut().push(round.clone());
        self.rounds
            .borrow_mut()
            .insert((round.batch_id.clone(), round.round), round.clone());
        Ok(())
    }

    async fn rounds(&self, batch_id: &str) -> Result<Vec<RoundRecord>, SinkError> {
        Ok(self
            .rounds
            .borrow()
            .values()
            .filter(|r| r.batch_id == batch_id)
            .cloned()
            .collect())
    }
}

//! What the app does once when it loads, before any run or batch starts: runs and batches a
//! closed or reloaded tab left going become `interrupted`, so they can be resumed and are never
//! taken for live work. Work another open tab drives keeps its status: that tab holds its lock
//! ([`TabLocks`]).
//!
//! Runs and batches are checked in one pass under one set of claims. A batch's runs are driven
//! under the batch's lock, so the run check and the batch check ask for the same locks; done
//! one after the other, the first check's claims would have to be handed back before the
//! second asks, and two pages of code would have to wait on each other. Here each lock is
//! asked for once, and held until every mark under it is stored, so a tab that starts
//! resuming that work meanwhile cannot have it marked under it.
//!
//! The check waits on the store and the locks only: nothing in it sleeps or looks again later.

use std::collections::HashMap;

use crate::core::in_flight::recover_in_flight;
use crate::core::pipeline::SinkError;
use crate::core::run_store::RunStore;

use super::error::Work;
use super::locks::{Claim, TabLocks};

/// The message put on runs found `running` when the app loads.
pub const INTERRUPTED_MESSAGE: &str =
    "The page was closed or reloaded while this run was going; its committed steps are kept and it can be resumed.";

/// What the start-up check asks of the store beside runs.
// Futures are not `Send` in the browser, by design.
#[allow(async_fn_in_trait)]
pub trait StartupStore: RunStore {
    /// The runs stored as `running`, as (run id, batch id).
    async fn running_runs(&self) -> Result<Vec<(String, Option<String>)>, SinkError>;
    /// Marks the runs `ids` interrupted (with [`INTERRUPTED_MESSAGE`]) where they are still
    /// `running` at `now_ms`, and returns the ids it changed.
    async fn mark_runs_interrupted(
        &self,
        ids: &[String],
        now_ms: f64,
    ) -> Result<Vec<String>, SinkError>;
    /// The ids of the batches stored as running or paused.
    async fn unfinished_batch_ids(&self) -> Result<Vec<String>, SinkError>;
    /// Marks the batches `ids` interrupted (see
    /// [`BatchRecord::mark_interrupted`](crate::core::batch::BatchRecord::mark_interrupted))
    /// where they are still running or paused, and returns the ids it changed.
    async fn mark_batches_interrupted(
        &self,
        ids: &[String],
        now_ms: f64,
    ) -> Result<Vec<String>, SinkError>;
    /// The ids of the runs with a call stored as in flight, each once.
    async fn runs_with_calls_in_flight(&self) -> Result<Vec<String>, SinkError>;
}

/// What the start-up check marked interrupted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Abandoned {
    /// The runs, in the order the store listed them.
    pub runs: Vec<String>,
    /// The batches, in the order the store listed them.
    pub batches: Vec<String>,
}

/// Marks interrupted the runs and batches left going whose lock no tab holds, at `now_ms`, and
/// returns them. A run outside a batch is driven under its own lock, a batch's run under the
/// batch's. Without a lock service (or when it refuses) everything counts as abandoned, as a
/// lone tab would see it.
pub async fn mark_abandoned<S: StartupStore, K: TabLocks>(
    store: &S,
    locks: &K,
    now_ms: f64,
) -> Result<Abandoned, SinkError> {
    let running = store.running_runs().await?;
    let unfinished = store.unfinished_batch_ids().await?;
    let mut claims = Claims::new(locks);
    let mut runs = Vec::new();
    for (run_id, batch_id) in running {
        let work = match batch_id {
            Some(batch_id) => Work::Batch(batch_id),
            None => Work::Run(run_id.clone()),
        };
        if claims.is_free(work).await {
            runs.push(run_id);
        }
    }
    let mut batches = Vec::new();
    for batch_id in unfinished {
        if claims.is_free(Work::Batch(batch_id.clone())).await {
            batches.push(batch_id);
        }
    }
    let marked = Abandoned {
        runs: store.mark_runs_interrupted(&runs, now_ms).await?,
        batches: store.mark_batches_interrupted(&batches, now_ms).await?,
    };
    // The calls no tab is making may have been billed: counted on their runs now, so the run
    // pages show them before anything is resumed. Not only the calls of the runs just marked:
    // a check cut short between its marks and these counts (the page closed as it loaded)
    // leaves calls of runs that are no longer `running`.
    for run_id in store.runs_with_calls_in_flight().await? {
        let Some(record) = store.get_run(&run_id).await? else {
            continue;
        };
        let work = match record.batch_id {
            Some(batch_id) => Work::Batch(batch_id),
            None => Work::Run(run_id.clone()),
        };
        if claims.is_free(work).await {
            recover_in_flight(store, &run_id).await?;
        }
    }
    // Handed back only now: until the marks are stored, no tab may start on this work.
    drop(claims);
    Ok(marked)
}

/// The locks asked for so far, each once (asking again for a lock this task holds would be
/// refused as taken), kept until dropped.
struct Claims<'k, K: TabLocks> {
    locks: &'k K,
    found: HashMap<Work, Claim<K::Guard>>,
}

impl<'k, K: TabLocks> Claims<'k, K> {
    fn new(locks: &'k K) -> Self {
        Claims {
            locks,
            found: HashMap::new(),
        }
    }

    /// Whether no other tab holds `work`'s lock.
    async fn is_free(&mut self, work: Work) -> bool {
        if let Some(found) = self.found.get(&work) {
            return found.is_free();
        }
        let found = self.locks.claim(&work).await;
        let free = found.is_free();
        self.found.insert(work, found);
        free
    }
}

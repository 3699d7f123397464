//! The cost facts of stored steps ([`StepCost`]), read run by run and kept for the page's
//! lifetime, for what run records cannot tell: the splits by agent and by model, and
//! re-pricing.
//!
//! Run records carry a run's total but not its split, so the split needs the steps. They are
//! read lazily, one short transaction per run, only for runs not read yet or changed since
//! (their step count or `updated_ms` moved), and only their cost facts are kept, not their
//! text. A second visit to the Costs page reads nothing again.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use futures::future::join_all;

use crate::core::cost_views::StepCost;
use crate::core::trajectory::RunRecord;
use crate::ui::store::SharedStore;
use crate::web::idb::StoreError;

/// One run's cost facts and the record state they were read at.
#[derive(Debug, Clone)]
struct Cached {
    step_count: u64,
    updated_ms: f64,
    steps: Arc<Vec<StepCost>>,
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Cached>> = RefCell::new(HashMap::new());
}

/// What decides whether a run's cached facts are still good: its id, step count and last change.
#[derive(Debug, Clone, PartialEq)]
pub struct RunKey {
    /// The run.
    pub run_id: String,
    /// Its committed steps.
    pub step_count: u64,
    /// When its record last changed.
    pub updated_ms: f64,
}

impl RunKey {
    /// The key of a stored run.
    pub fn of(record: &RunRecord) -> Self {
        RunKey {
            run_id: record.run_id.clone(),
            step_count: record.step_count,
            updated_ms: record.updated_ms,
        }
    }
}

/// Runs read from the store at the same time: IndexedDB serves several read-only
/// transactions at once, so the page waits on one round trip per batch, not per run.
const PARALLEL_READS: usize = 8;

/// The cost facts of every run in `runs` (every stored run: runs not in it are dropped from
/// the cache), in the same order.
///
/// `progress(done, total)` is called after each batch read from the store; `stop` is checked
/// between batches (a page that went away stops reading; what was read stays cached). Returns
/// `Ok(None)` when stopped.
pub async fn step_costs(
    store: SharedStore,
    runs: &[RunKey],
    progress: impl Fn(usize, usize),
    stop: Rc<Cell<bool>>,
) -> Result<Option<Vec<Arc<Vec<StepCost>>>>, StoreError> {
    let fresh = |k: &RunKey| {
        CACHE.with(|c| {
            c.borrow()
                .get(&k.run_id)
                .filter(|c| c.step_count == k.step_count && c.updated_ms == k.updated_ms)
                .map(|c| Arc::clone(&c.steps))
        })
    };
    let missing: Vec<&RunKey> = runs.iter().filter(|k| fresh(k).is_none()).collect();
    if !missing.is_empty() {
        let store = store.open().await?;
        let total = missing.len();
        let mut done = 0;
        for batch in missing.chunks(PARALLEL_READS) {
            if stop.get() {
                return Ok(None);
            }
            let reads = batch.iter().map(|key| store.steps(&key.run_id));
            for (key, read) in batch.iter().zip(join_all(reads).await) {
                let entries = read?;
                let steps = Arc::new(entries.iter().map(StepCost::of).collect::<Vec<_>>());
                CACHE.with(|c| {
                    c.borrow_mut().insert(
                        key.run_id.clone(),
                        Cached {
                            step_count: key.step_count,
                            updated_ms: key.updated_ms,
                            steps,
                        },
                    )
                });
            }
            done += batch.len();
            progress(done, total);
        }
    }
    // Runs deleted since are dropped from the cache.
    let listed: HashSet<&str> = runs.iter().map(|k| k.run_id.as_str()).collect();
    CACHE.with(|c| c.borrow_mut().retain(|id, _| listed.contains(id.as_str())));
    Ok(Some(
        runs.iter().map(|k| fresh(k).unwrap_or_default()).collect(),
    ))
}

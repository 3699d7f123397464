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

use crate::core::cost_views::StepCost;
use crate::core::trajectory::RunRecord;
use crate::ui::run::store::{forget_if_closed, run_store};
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

/// The cost facts of every run in `records`, in the same order.
///
/// `progress(done, total)` is called after each run read from the store; `stop` is checked
/// between runs (a page that went away stops reading; what was read stays cached). Returns
/// `Ok(None)` when stopped.
pub async fn step_costs(
    records: &[RunRecord],
    progress: impl Fn(usize, usize),
    stop: Rc<Cell<bool>>,
) -> Result<Option<Vec<Arc<Vec<StepCost>>>>, StoreError> {
    let fresh = |r: &RunRecord| {
        CACHE.with(|c| {
            c.borrow()
                .get(&r.run_id)
                .filter(|c| c.step_count == r.step_count && c.updated_ms == r.updated_ms)
                .map(|c| Arc::clone(&c.steps))
        })
    };
    let missing: Vec<&RunRecord> = records.iter().filter(|r| fresh(r).is_none()).collect();
    if !missing.is_empty() {
        let store = run_store().await.inspect_err(forget_if_closed)?;
        let total = missing.len();
        for (done, record) in missing.into_iter().enumerate() {
            if stop.get() {
                return Ok(None);
            }
            let entries = store
                .steps(&record.run_id)
                .await
                .inspect_err(forget_if_closed)?;
            let steps = Arc::new(entries.iter().map(StepCost::of).collect::<Vec<_>>());
            CACHE.with(|c| {
                c.borrow_mut().insert(
                    record.run_id.clone(),
                    Cached {
                        step_count: record.step_count,
                        updated_ms: record.updated_ms,
                        steps,
                    },
                )
            });
            progress(done + 1, total);
        }
    }
    // Runs deleted since are dropped from the cache.
    let listed: HashSet<&str> = records.iter().map(|r| r.run_id.as_str()).collect();
    CACHE.with(|c| c.borrow_mut().retain(|id, _| listed.contains(id.as_str())));
    Ok(Some(
        records
            .iter()
            .map(|r| fresh(r).unwrap_or_default())
            .collect(),
    ))
}

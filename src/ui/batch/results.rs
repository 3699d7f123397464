//! A batch's results, read from the store: only the runs the page has not read yet (see
//! [`RunCache`]), so a running batch's results follow its items as they finish without reading
//! every run again after each one.

use std::collections::{BTreeMap, HashSet};

pub use crate::core::batch::results::{BatchResults, ItemRow, RunCache, Spend};
use crate::core::batch::BatchRecord;
use crate::core::trajectory::RunRecord;
use crate::ui::run::store::run_store;
use crate::web::idb::StoreError;

/// Reads the runs of `record`'s items that `cache` lacks, with their steps, keeps them in it,
/// and builds the results; `live_steps` counts the steps of the runs in flight, by item.
///
/// The cache is taken out of its cell around the reads (which wait on the store) and put back
/// after: a second read started meanwhile finds it empty and reads everything itself.
pub async fn load_results(
    record: &BatchRecord,
    cache: &std::cell::RefCell<RunCache>,
    live_steps: &BTreeMap<usize, u64>,
) -> Result<BatchResults, StoreError> {
    let mut taken = cache.take();
    let wanted: HashSet<String> = taken.to_read(record).into_iter().collect();
    if !wanted.is_empty() || taken.needs_problems() {
        let store = run_store().await?;
        if taken.needs_problems() {
            // A dataset deleted since is no error: the results go without facets.
            let dataset = store.get_dataset(&record.spec.dataset_id).await?;
            taken.set_problems(
                record,
                dataset.map(|d| d.problems).as_deref().unwrap_or_default(),
            );
        }
        // Only the runs the items point at (an earlier attempt at an item, superseded by a
        // completed one, is left out of the statistics).
        let runs: Vec<RunRecord> = store
            .batch_runs(&record.spec.batch_id)
            .await?
            .into_iter()
            .filter(|r| wanted.contains(&r.run_id))
            .collect();
        let ids: Vec<String> = runs.iter().map(|r| r.run_id.clone()).collect();
        let steps = store.steps_of_runs(&ids).await?;
        taken.insert(record, runs, steps);
    }
    let results = taken.results(record, live_steps);
    cache.replace(taken);
    Ok(results)
}

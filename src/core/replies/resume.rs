//! The reuse policy a stored run or batch goes on with: the one it was started with, so that a
//! resumed run does not start paying for what it reused before, or the reverse.

use super::policy::ReusePolicy;
use crate::core::pipeline::SinkError;
use crate::core::run_store::{BatchStore, RunStore};

/// The policy run `run_id` was made with: its committed steps say; a run with none yet goes
/// by its batch's; otherwise the default.
pub async fn run_policy<S: RunStore + BatchStore>(
    store: &S,
    run_id: &str,
) -> Result<ReusePolicy, SinkError> {
    let steps = store.steps(run_id).await?;
    if let Some(policy) = ReusePolicy::of_steps(&steps) {
        return Ok(policy);
    }
    let batch_id = store.get_run(run_id).await?.and_then(|r| r.batch_id);
    match batch_id {
        Some(batch_id) => batch_policy(store, &batch_id).await,
        None => Ok(ReusePolicy::default()),
    }
}

/// The policy batch `batch_id` was made with (the default for one that is not stored: the
/// driver reports that itself).
pub async fn batch_policy<S: BatchStore>(
    store: &S,
    batch_id: &str,
) -> Result<ReusePolicy, SinkError> {
    Ok(store
        .get_batch(batch_id)
        .await?
        .map(|b| b.spec.reuse_policy)
        .unwrap_or_default())
}

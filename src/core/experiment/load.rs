//! Reading a config's runs back from the store for the matrix.

use crate::core::batch::BatchRecord;
use crate::core::config::Mode;
use crate::core::pipeline::SinkError;
use crate::core::run_store::BatchStore;

use super::matrix::ArmRuns;
use super::outcome::RunOutcome;

/// The runs of `batch`, labelled `label`, read from `store`: the batch's items are first
/// brought up to date with its stored runs (a record saved before a reload may not name its
/// latest runs yet), then each item with a run gives one outcome, in item order.
pub async fn arm_runs<S: BatchStore>(
    store: &S,
    batch: &BatchRecord,
    label: &str,
) -> Result<ArmRuns, SinkError> {
    let mut record = batch.clone();
    let runs = store.batch_runs(&record.spec.batch_id).await?;
    let problems = store
        .dataset_problems(&record.spec.dataset_id)
        .await?
        .unwrap_or_default();
    record.reconcile(&problems, &runs);
    let mut outcomes = Vec::new();
    for item in &record.items {
        let Some(run_id) = &item.run_id else { continue };
        let Some(run) = runs.iter().find(|r| &r.run_id == run_id) else {
            continue;
        };
        let steps = store.steps(run_id).await?;
        outcomes.push(RunOutcome::new(&item.problem_id, run, &steps));
    }
    let mode = record
        .spec
        .modes
        .modes()
        .first()
        .copied()
        .unwrap_or(Mode::Debate);
    Ok(ArmRuns {
        label: label.to_string(),
        config_hash: record.spec.config_hash.clone(),
        batch_id: record.spec.batch_id.clone(),
        mode,
        runs: outcomes,
    })
}

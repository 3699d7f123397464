//! Reading a config's runs back from the store for the matrix and for comparisons.

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
    let mode = batch
        .spec
        .modes
        .modes()
        .first()
        .copied()
        .unwrap_or(Mode::Debate);
    runs_of(store, batch, label, mode, None).await
}

/// The runs of `batch` made in `mode` only, labelled `label`: one side of a comparison of
/// two batches (a batch of both modes is two sides, its debate runs and its baseline runs).
/// The side's config hash is the one its runs were made under (the batch's config with
/// `mode`).
pub async fn mode_runs<S: BatchStore>(
    store: &S,
    batch: &BatchRecord,
    label: &str,
    mode: Mode,
) -> Result<ArmRuns, SinkError> {
    runs_of(store, batch, label, mode, Some(mode)).await
}

async fn runs_of<S: BatchStore>(
    store: &S,
    batch: &BatchRecord,
    label: &str,
    mode: Mode,
    only: Option<Mode>,
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
        if only.is_some_and(|m| m != item.mode) {
            continue;
        }
        let Some(run_id) = &item.run_id else { continue };
        let Some(run) = runs.iter().find(|r| &r.run_id == run_id) else {
            continue;
        };
        let steps = store.steps(run_id).await?;
        outcomes.push(RunOutcome::new(&item.problem_id, run, &steps));
    }
    let config_hash = match only {
        None => record.spec.config_hash.clone(),
        Some(mode) => {
            let mut config = record.spec.config.clone();
            config.mode = mode;
            config.config_hash()
        }
    };
    Ok(ArmRuns {
        label: label.to_string(),
        config_hash,
        batch_id: record.spec.batch_id.clone(),
        mode,
        runs: outcomes,
    })
}

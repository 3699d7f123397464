//! An experiment's lifecycle: [`create`] stores every config's batch before any run, and
//! [`ExperimentDriver`] drives the unfinished ones, one after another, through the
//! [`BatchDriver`].
//!
//! The configs run one after another rather than side by side so that a later config finds
//! the replies an earlier one paid for in the reply store (a shared solver turn is paid once)
//! and the experiment's concurrency is the one the user set, not one per config.

use std::collections::HashSet;
use std::rc::Rc;

use crate::core::batch::scheduler::{BatchControl, BatchEvent, SchedulerOptions};
use crate::core::batch::{BatchRecord, BatchStatus, ItemStatus};
use crate::core::clock::Clock;
use crate::core::driver::{BatchDriver, BatchProgress, LlmSource, NoLocks, StartError, TabLocks};
use crate::core::pricing::Pricer;
use crate::core::run_store::BatchStore;

use super::{Experiment, ExperimentError, ExperimentPlan};

/// Why an experiment could not be made or continued.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExperimentStartError {
    /// The plan does not hold.
    #[error("{0}")]
    Plan(#[from] ExperimentError),
    /// A batch could not be stored or continued.
    #[error("{0}")]
    Start(#[from] StartError),
}

/// Stores the batches of `plan`, made at `now_ms`, all pending, and returns the experiment.
/// `taken_experiments` are the ids of the experiments stored already. The plan is checked
/// first; nothing is stored when it does not hold.
pub async fn create<S: BatchStore>(
    store: &S,
    plan: &ExperimentPlan,
    custom_provider_ids: &[&str],
    taken_experiments: &HashSet<String>,
    now_ms: f64,
) -> Result<Experiment, ExperimentStartError> {
    plan.check(custom_provider_ids)?;
    let taken_batches = store.batch_ids().await.map_err(StartError::from)?;
    let specs = plan.specs(now_ms, taken_experiments, &taken_batches)?;
    let mut batches = Vec::with_capacity(specs.len());
    for spec in specs {
        let record = BatchRecord::new(spec);
        store.put_batch(&record).await.map_err(StartError::from)?;
        batches.push(record);
    }
    let mut experiments = Experiment::group(batches);
    // One plan makes one experiment.
    Ok(experiments.remove(0))
}

/// What the driver reports while it drives an experiment.
#[derive(Debug, Clone, Copy)]
pub struct ArmProgress<'e> {
    /// The config whose batch reports.
    pub arm: usize,
    /// What its batch driver reported.
    pub progress: &'e BatchProgress<'e>,
}

/// Drives experiments over the batch driver's inputs.
pub struct ExperimentDriver<'a, L, C, S, K = NoLocks> {
    /// The inputs every config's batch is driven with.
    batches: BatchDriver<'a, L, C, S, K>,
    listener: Option<&'a dyn Fn(&ArmProgress<'_>)>,
}

impl<'a, L: LlmSource, C: Clock, S: BatchStore> ExperimentDriver<'a, L, C, S, NoLocks> {
    /// A driver calling `llm`, timed by `clock`, storing into `store`; no locks, prices or
    /// listener until given.
    pub fn new(llm: &'a L, clock: &'a C, store: &'a S) -> Self {
        ExperimentDriver {
            batches: BatchDriver::new(llm, clock, store),
            listener: None,
        }
    }
}

impl<'a, L: LlmSource, C: Clock, S: BatchStore, K: TabLocks> ExperimentDriver<'a, L, C, S, K> {
    /// Holds each batch's lock from `locks` while driving it.
    pub fn with_locks<K2: TabLocks>(self, locks: &'a K2) -> ExperimentDriver<'a, L, C, S, K2> {
        ExperimentDriver {
            batches: self.batches.with_locks(locks),
            listener: self.listener,
        }
    }

    /// Prices every step and holds each config's batch to its budget.
    pub fn with_pricer(mut self, pricer: Rc<Pricer>) -> Self {
        self.batches = self.batches.with_pricer(pricer);
        self
    }

    /// Reports progress to `listener`.
    pub fn with_listener(mut self, listener: &'a dyn Fn(&ArmProgress<'_>)) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Tunes each batch's scheduler.
    pub fn with_scheduler_options(mut self, options: SchedulerOptions) -> Self {
        self.batches = self.batches.with_scheduler_options(options);
        self
    }

    /// Drives `experiment`'s unfinished batches in config order, each resumed from its stored
    /// runs, until all are done, `control` cancels, or a budget stops one (its batch is then
    /// cancelled once its runs in flight finish, and the experiment stops there: resume it
    /// with a larger `offered_budget_usd`, the Configure page's batch budget). Returns the
    /// experiment with its batches as they ended.
    pub async fn resume(
        &self,
        experiment: &Experiment,
        offered_budget_usd: Option<f64>,
        control: &BatchControl,
    ) -> Result<Experiment, StartError> {
        let mut current = experiment.clone();
        for (arm, batch_id) in experiment.batch_ids().into_iter().enumerate() {
            if control.is_cancelled() {
                break;
            }
            if current.batches[arm].status == BatchStatus::Completed {
                continue;
            }
            let finished = self
                .resume_arm(arm, &batch_id, offered_budget_usd, control)
                .await?;
            let stopped = finished.status != BatchStatus::Completed;
            current.batches[arm] = finished;
            if stopped {
                break;
            }
        }
        Ok(current)
    }

    async fn resume_arm(
        &self,
        arm: usize,
        batch_id: &str,
        offered_budget_usd: Option<f64>,
        control: &BatchControl,
    ) -> Result<BatchRecord, StartError> {
        let listener = |progress: &BatchProgress<'_>| {
            // The experiment shows no pause button, so a pause is a budget's: the batch ends
            // once its runs in flight have, and the experiment stops with it.
            if let BatchProgress::Batch { event, record } = progress {
                let settled = !record.items.iter().any(|i| i.status == ItemStatus::Running);
                if control.is_paused()
                    && settled
                    && !matches!(event, BatchEvent::Status(BatchStatus::Cancelled))
                {
                    control.cancel();
                }
            }
            if let Some(listener) = self.listener {
                listener(&ArmProgress { arm, progress });
            }
        };
        self.batches
            .reporting_to(&listener)
            .resume(batch_id, false, offered_budget_usd, control.clone())
            .await
    }
}

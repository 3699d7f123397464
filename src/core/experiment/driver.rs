//! An experiment's lifecycle: [`create`] stores every config's batch before any run, and
//! [`ExperimentDriver`] drives the unfinished ones side by side, each through the
//! [`BatchDriver`].
//!
//! The configs' batches share one concurrency limit, the one the user set ([`SharedSlots`]):
//! its slots go to the lowest problem first, across configs, so the configs work through the
//! problems abreast. The turns two configs share (the same solver on the same problem) are then
//! asked at the same moment, and the reply store sends such a request once and hands its reply
//! to every config waiting on it; a turn asked later is answered from the store. Either way it
//! is paid once.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::core::batch::scheduler::{BatchControl, BatchEvent, SchedulerOptions};
use crate::core::batch::slots::SharedSlots;
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

    /// Drives `experiment`'s unfinished batches side by side, each resumed from its stored
    /// runs, under the experiment's one concurrency limit, until all are done or `control`
    /// cancels. A batch whose budget runs out stops alone once its runs in flight end (it is
    /// cancelled, and the experiment shows `budget_exceeded`): resume it with a larger
    /// `offered_budget_usd`, the Configure page's batch budget. A batch that cannot be
    /// continued stops the others, and its error is returned once they have stopped. Returns
    /// the experiment with its batches as they ended.
    pub async fn resume(
        &self,
        experiment: &Experiment,
        offered_budget_usd: Option<f64>,
        control: &BatchControl,
    ) -> Result<Experiment, StartError> {
        let mut current = experiment.clone();
        if control.is_cancelled() {
            return Ok(current);
        }
        let unfinished: Vec<(usize, String)> = experiment
            .batch_ids()
            .into_iter()
            .enumerate()
            .filter(|(arm, _)| current.batches[*arm].status != BatchStatus::Completed)
            .collect();
        let concurrency = experiment
            .batches
            .iter()
            .map(|b| b.spec.concurrency)
            .max()
            .unwrap_or(1);
        let slots = SharedSlots::new(concurrency as usize);
        // One control per batch (a scheduler reads its own control's signals), all cancelled
        // with the experiment's.
        let controls: Vec<BatchControl> = unfinished.iter().map(|_| BatchControl::new()).collect();
        let cancel_all = {
            let controls = controls.clone();
            move || controls.iter().for_each(BatchControl::cancel)
        };
        let _follow = control.cancel_token().on_cancel(cancel_all.clone());
        let arms = unfinished
            .iter()
            .zip(&controls)
            .map(|((arm, batch_id), arm_control)| {
                let slots = Rc::clone(&slots);
                let cancel_all = cancel_all.clone();
                async move {
                    let ended = self
                        .resume_arm(*arm, batch_id, offered_budget_usd, arm_control, slots)
                        .await;
                    if ended.is_err() {
                        cancel_all();
                    }
                    (*arm, ended)
                }
            })
            .collect();
        let mut first_error = None;
        for (arm, ended) in join_all(arms).await {
            match ended {
                Ok(record) => current.batches[arm] = record,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(current),
        }
    }

    async fn resume_arm(
        &self,
        arm: usize,
        batch_id: &str,
        offered_budget_usd: Option<f64>,
        control: &BatchControl,
        slots: Rc<SharedSlots>,
    ) -> Result<BatchRecord, StartError> {
        let listener = |progress: &BatchProgress<'_>| {
            // The experiment shows no pause button, so a pause is a budget's: the batch ends
            // once its runs in flight have.
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
            .with_shared_slots(slots, arm)
            .resume(batch_id, false, offered_budget_usd, control.clone())
            .await
    }
}

/// Polls every future until all are done; their outputs in the order given.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let outputs: RefCell<Vec<Option<F::Output>>> =
        RefCell::new(futures.iter().map(|_| None).collect());
    let mut futures = futures;
    std::future::poll_fn(|cx: &mut Context<'_>| {
        let mut outputs = outputs.borrow_mut();
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                if let Poll::Ready(value) = future.as_mut().poll(cx) {
                    *output = Some(value);
                }
            }
        }
        if outputs.iter().all(Option::is_some) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_inner().into_iter().flatten().collect()
}

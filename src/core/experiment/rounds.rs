//! An experiment in provider batch mode: every config's batch driven by the
//! [`ExperimentDriver`] as live, with each run's calls going through one [`RoundHub`] for the
//! whole experiment.
//!
//! One hub, not one per config, so that the turns the configs share are paid once: a round
//! holds every item of every config, and a request identical to another config's run's (same
//! request hash) waits on that one instead of going up again
//! ([`RoundHub::sharing_between_runs`], by the batches' reuse policy). Its step is then
//! `reused_from` that run, at $0, as a reply reused from the store is. The hub's rounds are
//! journaled under the experiment's id, so reopening the experiment polls them and goes on.

use std::rc::Rc;

use super::driver::{ArmProgress, ExperimentDriver};
use super::Experiment;
use crate::core::batch::scheduler::BatchControl;
use crate::core::clock::Clock;
use crate::core::driver::wait::join;
use crate::core::driver::{StartError, TabLocks};
use crate::core::llm::transport::Transport;
use crate::core::provider_batch::engine::RoundEngine;
use crate::core::provider_batch::BatchJournal;
use crate::core::replies::{MemoryReplyStore, ReplyStore};
use crate::core::run_store::BatchStore;

/// Drives experiments in provider batch mode: the [`RoundEngine`] with each config's progress
/// heard.
pub type ExperimentRounds<'a, T, C, S, J, K, R = MemoryReplyStore> =
    RoundEngine<'a, T, C, S, J, K, R, &'a dyn Fn(&ArmProgress<'_>)>;

impl<'a, T, C, S, J, K, R> ExperimentRounds<'a, T, C, S, J, K, R>
where
    T: Transport + Clone,
    C: Clock + Clone + 'static,
    S: BatchStore,
    J: BatchJournal,
    K: TabLocks,
    R: ReplyStore + 'static,
{
    /// Drives `experiment`'s unfinished batches in rounds until all are done or `control`
    /// cancels (the provider batches still running are then cancelled). Rounds already
    /// submitted are polled and results already read applied, each once. Budgets as
    /// [`ExperimentDriver::resume`], with `offered_budget_usd`.
    pub async fn resume(
        &self,
        experiment: &Experiment,
        offered_budget_usd: Option<f64>,
        control: &BatchControl,
    ) -> Result<Experiment, StartError> {
        // Every config's batch is made with the same policy (ExperimentPlan::specs).
        let policy = experiment
            .batches
            .first()
            .map(|b| b.spec.reuse_policy)
            .unwrap_or_default();
        let hub = self.hub(Some(policy));
        hub.load(&experiment.experiment_id).await?;
        let source = self.source(&hub, policy);
        let listen = |p: &ArmProgress<'_>| {
            hub.follow(p.progress);
            if let Some(listener) = self.listener {
                listener(p);
            }
        };
        let mut driver = ExperimentDriver::new(&source, self.clock, self.store)
            .with_locks(self.locks)
            .with_listener(&listen);
        if let Some(pricer) = &self.pricer {
            driver = driver.with_pricer(Rc::clone(pricer));
        }
        let cancel = control.cancel_token();
        let drive = async {
            let ended = driver.resume(experiment, offered_budget_usd, control).await;
            hub.finish();
            ended
        };
        let (ended, ()) = join(drive, hub.run(&cancel)).await;
        ended
    }
}

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
use crate::core::batch::scheduler::{BatchControl, BatchEvent};
use crate::core::clock::Clock;
use crate::core::driver::wait::join;
use crate::core::driver::{BatchProgress, StartError, TabLocks};
use crate::core::llm::transport::Transport;
use crate::core::pricing::Pricer;
use crate::core::provider_batch::hub::RoundReplies;
use crate::core::provider_batch::{
    BatchJournal, BatchSource, ProviderBatchOptions, RoundHub, RoundListener,
};
use crate::core::providers::ProviderRegistry;
use crate::core::replies::hub::ReplyHub;
use crate::core::replies::{MemoryReplyStore, ReplyStore};
use crate::core::run_store::BatchStore;

/// Drives experiments in provider batch mode. Each option documents its default.
pub struct ExperimentRounds<'a, T, C, S, J, K, R = MemoryReplyStore> {
    registry: ProviderRegistry,
    transport: &'a T,
    clock: &'a C,
    store: &'a S,
    journal: &'a J,
    locks: &'a K,
    options: ProviderBatchOptions,
    /// Prices every step and holds each config's batch to its budget. Default: unpriced.
    pricer: Option<Rc<Pricer>>,
    /// How often a running provider batch is polled at most. Default: the hub's.
    poll_interval_ms: Option<u64>,
    /// Hears every config's progress. Default: nobody.
    listener: Option<&'a dyn Fn(&ArmProgress<'_>)>,
    /// Hears every round. Default: nobody.
    round_listener: Option<RoundListener>,
    /// Where the replies its provider batches answered are kept. Default: a reply store of
    /// its own, in memory.
    replies: Rc<ReplyHub<R>>,
}

impl<'a, T, C, S, J, K> ExperimentRounds<'a, T, C, S, J, K>
where
    T: Transport + Clone,
    C: Clock + Clone + 'static,
    S: BatchStore,
    J: BatchJournal,
    K: TabLocks,
{
    /// Experiments calling `registry`'s providers over `transport`, those `options` batch in
    /// rounds journaled in `journal`; runs stored in `store`, batches' locks from `locks`.
    pub fn new(
        registry: ProviderRegistry,
        transport: &'a T,
        clock: &'a C,
        store: &'a S,
        journal: &'a J,
        locks: &'a K,
        options: ProviderBatchOptions,
    ) -> Self {
        ExperimentRounds {
            registry,
            transport,
            clock,
            store,
            journal,
            locks,
            options,
            pricer: None,
            poll_interval_ms: None,
            listener: None,
            round_listener: None,
            replies: ReplyHub::new(MemoryReplyStore::new()),
        }
    }
}

impl<'a, T, C, S, J, K, R> ExperimentRounds<'a, T, C, S, J, K, R>
where
    T: Transport + Clone,
    C: Clock + Clone + 'static,
    S: BatchStore,
    J: BatchJournal,
    K: TabLocks,
    R: ReplyStore + 'static,
{
    /// Keeps every reply a provider batch answered in `replies` (the session's reply store),
    /// under the address a live call of the same request has, so that the experiment's runs
    /// can be replayed and later runs reuse the replies.
    pub fn with_replies<R2: ReplyStore + 'static>(
        self,
        replies: Rc<ReplyHub<R2>>,
    ) -> ExperimentRounds<'a, T, C, S, J, K, R2> {
        ExperimentRounds {
            registry: self.registry,
            transport: self.transport,
            clock: self.clock,
            store: self.store,
            journal: self.journal,
            locks: self.locks,
            options: self.options,
            pricer: self.pricer,
            poll_interval_ms: self.poll_interval_ms,
            listener: self.listener,
            round_listener: self.round_listener,
            replies,
        }
    }

    /// Prices steps with `pricer` (a request a provider batch answered at its batch rates).
    pub fn with_pricer(mut self, pricer: Rc<Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Polls running provider batches every `ms` at most.
    pub fn with_poll_interval(mut self, ms: u64) -> Self {
        self.poll_interval_ms = Some(ms);
        self
    }

    /// Reports each config's progress to `listener`.
    pub fn with_listener(mut self, listener: &'a dyn Fn(&ArmProgress<'_>)) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Shows `listener` every round after each change of one.
    pub fn with_round_listener(mut self, listener: RoundListener) -> Self {
        self.round_listener = Some(listener);
        self
    }

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
        let mut hub = RoundHub::new(self.transport.clone(), self.clock.clone(), self.journal)
            .sharing_between_runs(policy);
        if let Some(ms) = self.poll_interval_ms {
            hub = hub.with_poll_interval(ms);
        }
        if let Some(listener) = &self.round_listener {
            hub = hub.with_listener(Rc::clone(listener));
        }
        hub.load(&experiment.experiment_id).await?;
        let source = BatchSource::new(
            &hub,
            self.registry.clone(),
            &self.options,
            self.transport,
            self.clock.clone(),
            self.store,
            RoundReplies {
                hub: Rc::clone(&self.replies),
                policy,
            },
        );
        let listen = |p: &ArmProgress<'_>| {
            if let BatchProgress::Batch { event, .. } = p.progress {
                match event {
                    BatchEvent::ItemStarted { .. } => hub.item_started(),
                    BatchEvent::ItemFinished { .. } => hub.item_finished(),
                    _ => {}
                }
            }
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

//! A batch in provider batch mode: the [`BatchDriver`] drives it as it drives every batch, with
//! each run's calls going through the [`RoundHub`] ([`BatchSource`]), every request a provider
//! batch answered priced at batch-API rates, and the hub's rounds running beside the driver
//! until it is done.

use std::rc::Rc;

use super::hub::{BatchSource, RoundHub, RoundListener, RoundReplies};
use super::journal::BatchJournal;
use crate::core::batch::scheduler::{BatchControl, BatchEvent};
use crate::core::batch::{BatchEngine, BatchRecord, BatchSpec};
use crate::core::clock::Clock;
use crate::core::dataset::Problem;
use crate::core::driver::wait::join;
use crate::core::driver::{BatchDriver, BatchProgress, StartError, TabLocks};
use crate::core::llm::transport::Transport;
use crate::core::pricing::Pricer;
use crate::core::providers::ProviderRegistry;
use crate::core::replies::hub::ReplyHub;
use crate::core::replies::policy::ReusePolicy;
use crate::core::replies::resume::batch_policy;
use crate::core::replies::{MemoryReplyStore, ReplyStore};
use crate::core::run_store::BatchStore;

/// Which providers take provider batches. Each option documents its default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderBatchOptions {
    /// Ids of the providers whose calls go into provider batches; a provider without a batch
    /// API ([`BatchFamily::of`](super::BatchFamily::of)) is called live whatever this says,
    /// as is any provider not named. Default: none.
    pub batched_providers: Vec<String>,
    /// "Finish the stragglers live": a request its provider batch did not answer (expired,
    /// errored, canceled) is sent live at once instead of going into the next round.
    /// Default: off.
    pub stragglers_live: bool,
}

impl ProviderBatchOptions {
    /// Every provider of `registry` that has a batch API, stragglers as `stragglers_live`.
    pub fn all_batchable(registry: &ProviderRegistry, stragglers_live: bool) -> Self {
        ProviderBatchOptions {
            batched_providers: registry
                .providers
                .iter()
                .filter(|p| super::BatchFamily::of(p).is_some())
                .map(|p| p.id.clone())
                .collect(),
            stragglers_live,
        }
    }
}

/// Starts and resumes batches in provider batch mode.
pub struct ProviderBatchEngine<'a, T, C, S, J, K, R = MemoryReplyStore> {
    registry: ProviderRegistry,
    transport: &'a T,
    clock: &'a C,
    store: &'a S,
    journal: &'a J,
    locks: &'a K,
    pricer: Option<Rc<Pricer>>,
    options: ProviderBatchOptions,
    poll_interval_ms: Option<u64>,
    listener: Option<&'a dyn Fn(&BatchProgress<'_>)>,
    round_listener: Option<RoundListener>,
    replies: Rc<ReplyHub<R>>,
}

impl<'a, T, C, S, J, K> ProviderBatchEngine<'a, T, C, S, J, K>
where
    T: Transport + Clone,
    C: Clock + Clone + 'static,
    S: BatchStore,
    J: BatchJournal,
    K: TabLocks,
{
    /// An engine calling `registry`'s providers over `transport`, storing runs in `store` and
    /// rounds in `journal`, holding batches' locks from `locks`. The replies its provider
    /// batches answer are kept in a reply store of its own, in memory, until
    /// [`Self::with_replies`] gives it the session's.
    pub fn new(
        registry: ProviderRegistry,
        transport: &'a T,
        clock: &'a C,
        store: &'a S,
        journal: &'a J,
        locks: &'a K,
        options: ProviderBatchOptions,
    ) -> Self {
        ProviderBatchEngine {
            registry,
            transport,
            clock,
            store,
            journal,
            locks,
            pricer: None,
            options,
            poll_interval_ms: None,
            listener: None,
            round_listener: None,
            replies: ReplyHub::new(MemoryReplyStore::new()),
        }
    }
}

impl<'a, T, C, S, J, K, R> ProviderBatchEngine<'a, T, C, S, J, K, R>
where
    T: Transport + Clone,
    C: Clock + Clone + 'static,
    S: BatchStore,
    J: BatchJournal,
    K: TabLocks,
    R: ReplyStore + 'static,
{
    /// Keeps every reply a provider batch answered in `replies` (the session's reply store),
    /// under the address a live call of the same request has: the batch's runs can then be
    /// replayed, and later runs reuse the replies by their policy. A reply already stored is
    /// also reused by the batch's runs (by the batch's policy), and not paid again.
    pub fn with_replies<R2: ReplyStore + 'static>(
        self,
        replies: Rc<ReplyHub<R2>>,
    ) -> ProviderBatchEngine<'a, T, C, S, J, K, R2> {
        ProviderBatchEngine {
            registry: self.registry,
            transport: self.transport,
            clock: self.clock,
            store: self.store,
            journal: self.journal,
            locks: self.locks,
            pricer: self.pricer,
            options: self.options,
            poll_interval_ms: self.poll_interval_ms,
            listener: self.listener,
            round_listener: self.round_listener,
            replies,
        }
    }

    /// Prices steps with `pricer`: each request a provider batch answered at the batch API's
    /// rates, each one sent live (another provider's, a straggler finished live) at the live
    /// rates, as the step's attempts record ([`SentVia`](crate::core::llm::SentVia)).
    pub fn with_pricer(mut self, pricer: &Pricer) -> Self {
        self.pricer = Some(Rc::new(pricer.clone()));
        self
    }

    /// Polls running provider batches every `ms`.
    pub fn with_poll_interval(mut self, ms: u64) -> Self {
        self.poll_interval_ms = Some(ms);
        self
    }

    /// Reports the batch's progress to `listener`.
    pub fn with_listener(mut self, listener: &'a dyn Fn(&BatchProgress<'_>)) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Shows `listener` every round after each change of one (submitted, polled, ended).
    pub fn with_round_listener(mut self, listener: RoundListener) -> Self {
        self.round_listener = Some(listener);
        self
    }

    /// Stores a new batch of `spec` and drives it over `problems` in rounds. Every item is
    /// in flight at once (up to [`PROVIDER_BATCH_MAX_ITEMS`](crate::core::batch::PROVIDER_BATCH_MAX_ITEMS)): a round holds each one's next
    /// call.
    pub async fn start(
        &self,
        mut spec: BatchSpec,
        problems: &[Problem],
        control: BatchControl,
    ) -> Result<BatchRecord, StartError> {
        spec.concurrency = BatchEngine::ProviderBatch.max_concurrency();
        // Recorded, so that a reopened batch goes on in rounds.
        spec.engine = BatchEngine::ProviderBatch;
        let hub = self.hub();
        let cancel = control.cancel_token();
        let driver = self.driver(&hub, spec.reuse_policy);
        let drive = async {
            let result = driver.start(spec, problems, control).await;
            hub.finish();
            result
        };
        let (result, ()) = join(drive, hub.run(&cancel)).await;
        result
    }

    /// Continues stored batch `batch_id`: rounds already submitted are polled, results already
    /// read are applied, and its unfinished items go on in rounds.
    pub async fn resume(
        &self,
        batch_id: &str,
        control: BatchControl,
    ) -> Result<BatchRecord, StartError> {
        // An experiment's config journals its rounds under the experiment, with the others.
        let stored = self.store.get_batch(batch_id).await?;
        if let Some(tag) = stored.and_then(|b| b.spec.experiment) {
            return Err(StartError::ExperimentInRounds {
                batch_id: batch_id.to_string(),
                experiment: tag.name,
            });
        }
        let policy = batch_policy(self.store, batch_id).await?;
        let hub = self.hub();
        hub.load(batch_id).await?;
        let cancel = control.cancel_token();
        let driver = self.driver(&hub, policy);
        let drive = async {
            let result = driver.resume(batch_id, false, None, control).await;
            hub.finish();
            result
        };
        let (result, ()) = join(drive, hub.run(&cancel)).await;
        result
    }

    fn hub(&self) -> RoundHub<T, C, &'a J> {
        let mut hub = RoundHub::new(self.transport.clone(), self.clock.clone(), self.journal);
        if let Some(ms) = self.poll_interval_ms {
            hub = hub.with_poll_interval(ms);
        }
        if let Some(listener) = &self.round_listener {
            hub = hub.with_listener(Rc::clone(listener));
        }
        hub
    }

    fn driver<'h>(
        &'h self,
        hub: &'h RoundHub<T, C, &'a J>,
        policy: ReusePolicy,
    ) -> BoundDriver<'h, 'a, T, C, S, J, K, R> {
        let replies = RoundReplies {
            hub: Rc::clone(&self.replies),
            policy,
        };
        BoundDriver {
            engine: self,
            hub,
            source: BatchSource::new(
                hub,
                self.registry.clone(),
                &self.options,
                self.transport,
                self.clock.clone(),
                self.store,
                replies,
            ),
        }
    }
}

/// The batch driver of one batch, over the hub's source.
struct BoundDriver<'h, 'a, T, C, S, J, K, R> {
    engine: &'h ProviderBatchEngine<'a, T, C, S, J, K, R>,
    hub: &'h RoundHub<T, C, &'a J>,
    source: BatchSource<'h, T, C, &'a J, S, R>,
}

impl<'a, T, C, S, J, K, R> BoundDriver<'_, 'a, T, C, S, J, K, R>
where
    T: Transport + Clone,
    C: Clock + Clone + 'static,
    S: BatchStore,
    J: BatchJournal,
    K: TabLocks,
    R: ReplyStore + 'static,
{
    fn listen(&self, progress: &BatchProgress<'_>) {
        match progress {
            BatchProgress::Started { record, .. } => self.hub.set_batch_id(&record.spec.batch_id),
            BatchProgress::Batch {
                event: BatchEvent::ItemStarted { .. },
                ..
            } => self.hub.item_started(),
            BatchProgress::Batch {
                event: BatchEvent::ItemFinished { .. },
                ..
            } => self.hub.item_finished(),
            _ => {}
        }
        if let Some(listener) = self.engine.listener {
            listener(progress);
        }
    }

    async fn start(
        &self,
        spec: BatchSpec,
        problems: &[Problem],
        control: BatchControl,
    ) -> Result<BatchRecord, StartError> {
        let listen = |p: &BatchProgress<'_>| self.listen(p);
        let mut driver = BatchDriver::new(&self.source, self.engine.clock, self.engine.store)
            .with_locks(self.engine.locks)
            .with_listener(&listen);
        if let Some(pricer) = &self.engine.pricer {
            driver = driver.with_pricer(Rc::clone(pricer));
        }
        driver.start(spec, problems, control).await
    }

    async fn resume(
        &self,
        batch_id: &str,
        retry_failed: bool,
        offered_budget_usd: Option<f64>,
        control: BatchControl,
    ) -> Result<BatchRecord, StartError> {
        let listen = |p: &BatchProgress<'_>| self.listen(p);
        let mut driver = BatchDriver::new(&self.source, self.engine.clock, self.engine.store)
            .with_locks(self.engine.locks)
            .with_listener(&listen);
        if let Some(pricer) = &self.engine.pricer {
            driver = driver.with_pricer(Rc::clone(pricer));
        }
        driver
            .resume(batch_id, retry_failed, offered_budget_usd, control)
            .await
    }
}

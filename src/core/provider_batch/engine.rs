//! Work in provider batch mode: [`RoundEngine`] holds what driving in rounds needs (the
//! providers, the stores, the journal, the reply store, prices, polling, who listens) and makes
//! the [`RoundHub`] and the runs' [`BatchSource`]; what it drives is a batch
//! ([`ProviderBatchEngine`], here) or an experiment's batches
//! ([`ExperimentRounds`](crate::core::experiment::rounds::ExperimentRounds)).
//!
//! A batch is driven by the [`BatchDriver`] as every batch is, with each run's calls going
//! through the hub, every request a provider batch answered priced at batch-API rates, and the
//! hub's rounds running beside the driver until it is done.

use std::rc::Rc;

use super::hub::{BatchSource, ParkedListener, RoundHub, RoundListener, RoundReplies};
use super::journal::BatchJournal;
use crate::core::batch::scheduler::BatchControl;
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

/// What driving work in provider batch rounds needs, whoever listens (`L`: a batch's or an
/// experiment's progress listener). Each option documents its default.
pub struct RoundEngine<'a, T, C, S, J, K, R, L> {
    registry: ProviderRegistry,
    transport: &'a T,
    pub(crate) clock: &'a C,
    pub(crate) store: &'a S,
    journal: &'a J,
    pub(crate) locks: &'a K,
    options: ProviderBatchOptions,
    /// Prices every step (a request a provider batch answered at its batch rates). Default:
    /// unpriced.
    pub(crate) pricer: Option<Rc<Pricer>>,
    /// How often a running provider batch is polled at most. Default: the hub's.
    poll_interval_ms: Option<u64>,
    /// Hears the progress. Default: nobody.
    pub(crate) listener: Option<L>,
    /// Hears every round. Default: nobody.
    round_listener: Option<RoundListener>,
    /// Hears how many calls wait on a round. Default: nobody.
    parked_listener: Option<ParkedListener>,
    /// Where the replies its provider batches answered are kept. Default: a reply store of
    /// its own, in memory, for the engine's life.
    replies: Rc<ReplyHub<R>>,
}

/// Starts and resumes batches in provider batch mode.
pub type ProviderBatchEngine<'a, T, C, S, J, K, R = MemoryReplyStore> =
    RoundEngine<'a, T, C, S, J, K, R, &'a dyn Fn(&BatchProgress<'_>)>;

impl<'a, T, C, S, J, K, L> RoundEngine<'a, T, C, S, J, K, MemoryReplyStore, L>
where
    T: Transport + Clone,
    C: Clock + Clone + 'static,
    S: BatchStore,
    J: BatchJournal,
    K: TabLocks,
{
    /// An engine calling `registry`'s providers over `transport`, those `options` batch in
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
        RoundEngine {
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
            parked_listener: None,
            replies: ReplyHub::new(MemoryReplyStore::new()),
        }
    }
}

impl<'a, T, C, S, J, K, R, L> RoundEngine<'a, T, C, S, J, K, R, L>
where
    T: Transport + Clone,
    C: Clock + Clone + 'static,
    S: BatchStore,
    J: BatchJournal,
    K: TabLocks,
    R: ReplyStore + 'static,
{
    /// Keeps every reply a provider batch answered in `replies` (the session's reply store),
    /// under the address a live call of the same request has: the runs can then be replayed,
    /// and later runs reuse the replies by their policy. A reply already stored is also
    /// reused by these runs (by their policy), and not paid again.
    pub fn with_replies<R2: ReplyStore + 'static>(
        self,
        replies: Rc<ReplyHub<R2>>,
    ) -> RoundEngine<'a, T, C, S, J, K, R2, L> {
        RoundEngine {
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
            parked_listener: self.parked_listener,
            replies,
        }
    }

    /// Prices steps with `pricer`: each request a provider batch answered at the batch API's
    /// rates, each one sent live (another provider's, a straggler finished live) at the live
    /// rates, as the step's attempts record ([`SentVia`](crate::core::llm::SentVia)).
    pub fn with_pricer(mut self, pricer: Rc<Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Polls running provider batches every `ms` at most.
    pub fn with_poll_interval(mut self, ms: u64) -> Self {
        self.poll_interval_ms = Some(ms);
        self
    }

    /// Reports the progress to `listener`.
    pub fn with_listener(mut self, listener: L) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Shows `listener` every round after each change of one (submitted, polled, ended).
    pub fn with_round_listener(mut self, listener: RoundListener) -> Self {
        self.round_listener = Some(listener);
        self
    }

    /// Tells `listener` how many calls wait on a round whenever that changes: their items are
    /// parked (waiting), not working.
    pub fn with_parked_listener(mut self, listener: ParkedListener) -> Self {
        self.parked_listener = Some(listener);
        self
    }

    /// A round hub over the engine's transport and journal; `shared` makes it share identical
    /// requests between the runs it serves, by that policy.
    pub(crate) fn hub(&self, shared: Option<ReusePolicy>) -> RoundHub<T, C, &'a J> {
        let mut hub = RoundHub::new(self.transport.clone(), self.clock.clone(), self.journal);
        if let Some(policy) = shared {
            hub = hub.sharing_between_runs(policy);
        }
        if let Some(ms) = self.poll_interval_ms {
            hub = hub.with_poll_interval(ms);
        }
        if let Some(listener) = &self.round_listener {
            hub = hub.with_listener(Rc::clone(listener));
        }
        if let Some(listener) = &self.parked_listener {
            hub = hub.with_parked_listener(Rc::clone(listener));
        }
        hub
    }

    /// The runs' LLMs over `hub`, their replies kept and reused by `policy`.
    pub(crate) fn source<'h>(
        &'h self,
        hub: &'h RoundHub<T, C, &'a J>,
        policy: ReusePolicy,
    ) -> BatchSource<'h, T, C, &'a J, S, R> {
        BatchSource::new(
            hub,
            self.registry.clone(),
            &self.options,
            self.transport,
            self.clock.clone(),
            self.store,
            RoundReplies {
                hub: Rc::clone(&self.replies),
                policy,
            },
        )
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
        let hub = self.hub(None);
        let cancel = control.cancel_token();
        let driver = self.bound(&hub, spec.reuse_policy);
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
        let hub = self.hub(None);
        hub.load(batch_id).await?;
        let cancel = control.cancel_token();
        let driver = self.bound(&hub, policy);
        let drive = async {
            let result = driver.resume(batch_id, control).await;
            hub.finish();
            result
        };
        let (result, ()) = join(drive, hub.run(&cancel)).await;
        result
    }

    fn bound<'h>(
        &'h self,
        hub: &'h RoundHub<T, C, &'a J>,
        policy: ReusePolicy,
    ) -> BoundDriver<'h, 'a, T, C, S, J, K, R> {
        BoundDriver {
            engine: self,
            hub,
            source: self.source(hub, policy),
        }
    }
}

/// The batch driver of one batch, over the hub's source.
struct BoundDriver<'h, 'a, T, C, S, J, K, R> {
    engine: &'h ProviderBatchEngine<'a, T, C, S, J, K, R>,
    hub: &'h RoundHub<T, C, &'a J>,
    source: BatchSource<'h, T, C, &'a J, S, R>,
}

impl<'h, 'a, T, C, S, J, K, R> BoundDriver<'h, 'a, T, C, S, J, K, R>
where
    T: Transport + Clone,
    C: Clock + Clone + 'static,
    S: BatchStore,
    J: BatchJournal,
    K: TabLocks,
    R: ReplyStore + 'static,
{
    fn listen(&self, progress: &BatchProgress<'_>) {
        if let BatchProgress::Started { record, .. } = progress {
            self.hub.set_batch_id(&record.spec.batch_id);
        }
        self.hub.follow(progress);
        if let Some(listener) = self.engine.listener {
            listener(progress);
        }
    }

    /// The batch driver of this batch, its progress heard by `listen`.
    fn driver<'d>(
        &'d self,
        listen: &'d dyn Fn(&BatchProgress<'_>),
    ) -> BatchDriver<'d, BatchSource<'h, T, C, &'a J, S, R>, C, S, K> {
        let mut driver = BatchDriver::new(&self.source, self.engine.clock, self.engine.store)
            .with_locks(self.engine.locks)
            .with_listener(listen);
        if let Some(pricer) = &self.engine.pricer {
            driver = driver.with_pricer(Rc::clone(pricer));
        }
        driver
    }

    async fn start(
        &self,
        spec: BatchSpec,
        problems: &[Problem],
        control: BatchControl,
    ) -> Result<BatchRecord, StartError> {
        let listen = |p: &BatchProgress<'_>| self.listen(p);
        self.driver(&listen).start(spec, problems, control).await
    }

    async fn resume(
        &self,
        batch_id: &str,
        control: BatchControl,
    ) -> Result<BatchRecord, StartError> {
        let listen = |p: &BatchProgress<'_>| self.listen(p);
        self.driver(&listen)
            .resume(batch_id, false, None, control)
            .await
    }
}

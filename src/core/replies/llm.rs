//! [`CachedLlm`]: an [`AgentLlm`] over a [`ReplyCache`] that stores the replies its calls paid
//! for (with their usage) and gives each completion its [`ReplyProvenance`]; [`ReplySource`]
//! makes one per run for the run driver.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::cache::{Notes, ReplyCache, ReplyNote, RunScope};
use super::hub::ReplyHub;
use super::policy::ReusePolicy;
use super::store::{ReplyStore, StoredReply};
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::config::PipelineConfig;
use crate::core::driver::run::{client_options, LlmSource};
use crate::core::llm::client::{LlmClient, StreamListener};
use crate::core::llm::transport::Transport;
use crate::core::llm::{AgentCall, AgentCallError, AgentCompletion, AgentLlm, AttemptRecord};
use crate::core::pipeline::CallGate;
use crate::core::providers::ProviderRegistry;

/// Where a completion's reply came from; written to the step's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyProvenance {
    /// The address of the request whose reply became the step's output.
    pub request_hash: String,
    /// The run that paid for the reply, when every request of the call was answered from
    /// another run's replies (the step then costs $0).
    pub reused_from: Option<String>,
    /// The run's reuse policy.
    pub policy: ReusePolicy,
}

/// An LLM whose transport is a [`ReplyCache`].
pub struct CachedLlm<L, S> {
    inner: L,
    notes: Notes,
    hub: Rc<ReplyHub<S>>,
    scope: RunScope,
    now_ms: Box<dyn Fn() -> f64>,
}

impl<L, S> std::fmt::Debug for CachedLlm<L, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedLlm")
            .field("scope", &self.scope)
            .finish()
    }
}

impl<T: Transport, C: Clock + Clone + 'static, S: ReplyStore>
    CachedLlm<LlmClient<ReplyCache<T, S>, C>, S>
{
    /// The client `client` whose transport is `cache`; `clock` dates the stored replies.
    pub fn over_client(client: LlmClient<ReplyCache<T, S>, C>, clock: C) -> Self {
        let cache = client.transport();
        CachedLlm {
            notes: cache.notes(),
            hub: cache.hub().clone(),
            scope: cache.scope().clone(),
            inner: client,
            now_ms: Box::new(move || clock.now_ms()),
        }
    }

    /// The client inside.
    pub fn client(&self) -> &LlmClient<ReplyCache<T, S>, C> {
        &self.inner
    }
}

impl<L: AgentLlm, S: ReplyStore + 'static> CachedLlm<L, S> {
    /// Stores the paid replies the call's requests noted, each with its attempt's usage, and
    /// reads the call's provenance from the notes.
    async fn settle(&self, attempts: &[AttemptRecord]) -> Option<ReplyProvenance> {
        let notes: Vec<_> = self.notes.borrow_mut().drain(..).collect();
        let payer = |_: usize| self.scope.run_id.clone();
        keep_paid(&self.hub, &notes, attempts, payer, (self.now_ms)()).await;
        let last = notes.last()?;
        let reused_from = if notes.iter().all(|n| n.reused_from.is_some()) {
            last.reused_from.clone()
        } else {
            None
        };
        Some(ReplyProvenance {
            request_hash: last.request_hash.clone(),
            reused_from,
            policy: self.scope.policy,
        })
    }
}

/// Keeps each reply `notes` say was paid in `hub`'s store, with the usage of its attempt
/// (`attempts` are the call's requests, one per note, in order) and the run `payer_of` names
/// for the note at that place, dated `stored_ms`. A reply already stored under its address
/// stays as it is (the first payer is kept), so a result applied twice is stored once.
pub(crate) async fn keep_paid<S: ReplyStore + 'static>(
    hub: &Rc<ReplyHub<S>>,
    notes: &[ReplyNote],
    attempts: &[AttemptRecord],
    payer_of: impl Fn(usize) -> String,
    stored_ms: f64,
) {
    for (i, note) in notes.iter().enumerate() {
        let Some(response) = &note.paid else { continue };
        let reply = StoredReply {
            request_hash: note.request_hash.clone(),
            request: note.request.clone(),
            response: response.clone(),
            usage: attempts.get(i).and_then(|a| a.usage),
            paid_by: payer_of(i),
            stored_ms,
        };
        // Queued (answerable at once) before the flight goes, so an identical request
        // made now finds it; a write that fails is kept by the hub for the session to report.
        hub.keep(reply).await;
        hub.settle(&note.request_hash);
    }
}

impl<L: AgentLlm, S: ReplyStore + 'static> AgentLlm for CachedLlm<L, S> {
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError> {
        let result = self.inner.complete(call, cancel).await;
        self.settle_result(result).await
    }

    fn gates_each_request(&self) -> bool {
        self.inner.gates_each_request()
    }

    async fn complete_gated(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
        gate: &dyn CallGate,
    ) -> Result<AgentCompletion, AgentCallError> {
        let result = self.inner.complete_gated(call, cancel, gate).await;
        self.settle_result(result).await
    }
}

impl<L: AgentLlm, S: ReplyStore + 'static> CachedLlm<L, S> {
    async fn settle_result(
        &self,
        result: Result<AgentCompletion, AgentCallError>,
    ) -> Result<AgentCompletion, AgentCallError> {
        match result {
            Ok(mut completion) => {
                completion.provenance = self.settle(&completion.attempts).await;
                Ok(completion)
            }
            Err(error) => {
                self.settle(&error.attempts).await;
                Err(error)
            }
        }
    }
}

/// The providers' client behind the reply store, made per run: what the run driver calls when
/// replies are stored and reused.
pub struct ReplySource<T, C, S> {
    registry: ProviderRegistry,
    transport: T,
    clock: C,
    hub: Rc<ReplyHub<S>>,
    policy: ReusePolicy,
    sample_index: u32,
    listener: Option<StreamListener>,
}

impl<T, C, S> std::fmt::Debug for ReplySource<T, C, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplySource")
            .field("policy", &self.policy)
            .field("sample_index", &self.sample_index)
            .finish()
    }
}

impl<T: Transport + Clone, C: Clock + Clone + 'static, S: ReplyStore + 'static>
    ReplySource<T, C, S>
{
    /// Clients of `registry` over `transport`, answering from `hub`'s store by `policy`.
    pub fn new(
        registry: ProviderRegistry,
        transport: T,
        clock: C,
        hub: Rc<ReplyHub<S>>,
        policy: ReusePolicy,
    ) -> Self {
        ReplySource {
            registry,
            transport,
            clock,
            hub,
            policy,
            sample_index: 0,
            listener: None,
        }
    }

    /// Clients that report every piece of a streamed reply to `listener` (a reply answered
    /// from the store arrives as one piece).
    pub fn with_stream_listener(mut self, listener: StreamListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// The policy its runs reuse replies by.
    pub fn policy(&self) -> ReusePolicy {
        self.policy
    }

    /// The sample index the runs are addressed with (under
    /// [`ReusePolicy::IdenticalWithSampleIndex`]).
    pub fn with_sample_index(mut self, sample_index: u32) -> Self {
        self.sample_index = sample_index;
        self
    }

    /// The LLM of one run with `config` and `scope`.
    pub fn llm_in_scope(
        &self,
        config: &PipelineConfig,
        scope: RunScope,
    ) -> CachedLlm<LlmClient<ReplyCache<T, S>, C>, S> {
        let cache = ReplyCache::new(self.transport.clone(), self.hub.clone(), scope);
        let mut client = LlmClient::with_options(
            self.registry.clone(),
            cache,
            self.clock.clone(),
            client_options(config),
        );
        client.set_stream_listener(self.listener.clone());
        CachedLlm::over_client(client, self.clock.clone())
    }
}

impl<T: Transport + Clone, C: Clock + Clone + 'static, S: ReplyStore + 'static> LlmSource
    for ReplySource<T, C, S>
{
    type Llm<'s>
        = CachedLlm<LlmClient<ReplyCache<T, S>, C>, S>
    where
        Self: 's;

    fn llm_for(&self, config: &PipelineConfig) -> Self::Llm<'_> {
        self.llm_for_run(config, "")
    }

    fn llm_for_run(&self, config: &PipelineConfig, run_id: &str) -> Self::Llm<'_> {
        let scope = RunScope::live(run_id, self.policy, self.sample_index);
        self.llm_in_scope(config, scope)
    }
}

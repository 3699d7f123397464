//! The seams the loop is plugged into: where steps are stored ([`TrajectorySink`]), what a step
//! costs ([`StepPricer`]), whether a call may be made ([`CallGate`]), and who hears about
//! progress ([`PipelineListener`]). Each has a do-nothing default so a caller only supplies
//! what it needs.

use std::cell::RefCell;

use crate::core::in_flight::InFlightCall;
use crate::core::llm::{AgentCall, SentVia, Usage};
use crate::core::trajectory::TrajectoryEntry;

use super::events::PipelineEvent;

/// Storing a step failed; the run stops, since a step that is not stored cannot be resumed from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    /// What the storage reported (e.g. "QuotaExceededError: the browser's storage is full").
    pub message: String,
}

impl SinkError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        SinkError {
            message: message.into(),
        }
    }
}

/// Where committed steps go (IndexedDB in the browser, memory in tests).
///
/// The loop awaits each `append` before it starts the next LLM call, so a crash or a closed tab
/// loses at most the step in flight, as the original's flushed JSONL did.
// Futures are not `Send` in the browser, by design.
#[allow(async_fn_in_trait)]
pub trait TrajectorySink {
    /// Stores one step durably; `Ok` means it survives a reload.
    async fn append(&self, entry: &TrajectoryEntry) -> Result<(), SinkError>;

    /// Stores durably that `call` is about to be sent, so that a tab closed before its step is
    /// committed leaves its worst case behind as possibly billed (see
    /// [`crate::core::in_flight`]). A sink that outlives no tab keeps nothing.
    async fn call_started(&self, call: &InFlightCall) -> Result<(), SinkError> {
        let _ = call;
        Ok(())
    }

    /// Stores `entry` as [`TrajectorySink::append`] does, and `next_call` (the call the step
    /// leads to) as [`TrajectorySink::call_started`] does when the sink can in the same write;
    /// returns whether it stored `next_call` (if not, the loop records it before sending it).
    async fn append_before_call(
        &self,
        entry: &TrajectoryEntry,
        next_call: &InFlightCall,
    ) -> Result<bool, SinkError> {
        let _ = next_call;
        self.append(entry).await?;
        Ok(false)
    }
}

/// A sink that keeps the steps in memory.
#[derive(Debug, Default)]
pub struct MemorySink {
    entries: RefCell<Vec<TrajectoryEntry>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every step stored so far, in order.
    pub fn entries(&self) -> Vec<TrajectoryEntry> {
        self.entries.borrow().clone()
    }
}

impl TrajectorySink for MemorySink {
    async fn append(&self, entry: &TrajectoryEntry) -> Result<(), SinkError> {
        self.entries.borrow_mut().push(entry.clone());
        Ok(())
    }
}

impl<T: TrajectorySink + ?Sized> TrajectorySink for &T {
    async fn append(&self, entry: &TrajectoryEntry) -> Result<(), SinkError> {
        (**self).append(entry).await
    }

    async fn call_started(&self, call: &InFlightCall) -> Result<(), SinkError> {
        (**self).call_started(call).await
    }

    async fn append_before_call(
        &self,
        entry: &TrajectoryEntry,
        next_call: &InFlightCall,
    ) -> Result<bool, SinkError> {
        (**self).append_before_call(entry, next_call).await
    }
}

/// Prices a step from its normalized usage.
pub trait StepPricer {
    /// The cost in USD, or `None` when the price of this model is unknown (never a made-up 0).
    ///
    /// For a successful call `provider` is the provider id that served it and `model` the model
    /// name sent to its API. For a failed call the provider is the one the error names, or `""`
    /// when unknown, and `model` is the configured model string (`openai/gpt-4o`).
    fn price(&self, provider: &str, model: &str, usage: &Usage) -> Option<f64>;

    /// [`StepPricer::price`] for a call billed at `at` (epoch milliseconds, UTC), for prices
    /// that depend on the time of day; a pricer without such prices keeps the default.
    fn price_at(&self, provider: &str, model: &str, usage: &Usage, at: Option<f64>) -> Option<f64> {
        let _ = at;
        self.price(provider, model, usage)
    }

    /// [`StepPricer::price_at`] for one request sent `via` the route it took: a request a
    /// provider batch answered is billed at the batch API's rates. A pricer without batch
    /// rates keeps the default (the live price).
    fn price_sent(
        &self,
        provider: &str,
        model: &str,
        usage: &Usage,
        at: Option<f64>,
        via: SentVia,
    ) -> Option<f64> {
        let _ = via;
        self.price_at(provider, model, usage, at)
    }
}

/// No price table: every cost is unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPricing;

impl StepPricer for NoPricing {
    fn price(&self, _provider: &str, _model: &str, _usage: &Usage) -> Option<f64> {
        None
    }
}

/// A gate refused a call (a budget would be exceeded).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct GateRefusal {
    /// Why, as a sentence the user can act on ("the run budget of $0.50 is spent: …").
    pub reason: String,
}

impl GateRefusal {
    /// A refusal with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        GateRefusal {
            reason: reason.into(),
        }
    }
}

/// Asked before and told after every LLM call, so a budget can stop a run in time.
pub trait CallGate {
    /// `Err` refuses the call: the run stops with status `budget_exceeded`.
    fn before_call(&self, call: &AgentCall) -> Result<(), GateRefusal>;

    /// What the call spent (failed and cancelled calls included). `cost_usd` is `None` when
    /// the price is unknown.
    fn after_call(&self, call: &AgentCall, usage: &Usage, cost_usd: Option<f64>) {
        let _ = (call, usage, cost_usd);
    }

    /// As [`CallGate::before_call`], for an LLM that asks [`CallGate::before_request`] before
    /// each later request: only the first request needs to fit now. By default the whole call
    /// is reserved, which covers every later request as well.
    fn before_first_request(&self, call: &AgentCall) -> Result<(), GateRefusal> {
        self.before_call(call)
    }

    /// Asked before request `request` of a call in flight (a re-ask, numbered from 1, or a
    /// retry of a request that got no reply, numbered as the request it repeats). `Err`: the
    /// request is not sent.
    fn before_request(&self, call: &AgentCall, request: u64) -> Result<(), GateRefusal> {
        let _ = (call, request);
        Ok(())
    }

    /// Told, before [`CallGate::after_call`], that requests of the call got no reply saying
    /// what they cost (timeouts, dropped connections) and may still be billed up to
    /// `worst_case_usd`; a budget counts it as spent.
    fn possibly_billed(&self, call: &AgentCall, worst_case_usd: f64) {
        let _ = (call, worst_case_usd);
    }

    /// Told the exact prompt count a provider reported for the call's first request, so an
    /// identical call later can be bounded by it rather than by its length.
    fn prompt_tokens_reported(&self, call: &AgentCall, input_tokens: u64) {
        let _ = (call, input_tokens);
    }
}

/// Lets every call through.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl CallGate for AllowAll {
    fn before_call(&self, _call: &AgentCall) -> Result<(), GateRefusal> {
        Ok(())
    }
}

/// Hears about the run's progress (the UI's live transcript, a batch's counters).
pub trait PipelineListener {
    /// Called synchronously as things happen; keep it quick.
    fn on_event(&self, event: &PipelineEvent);
}

impl<F: Fn(&PipelineEvent)> PipelineListener for F {
    fn on_event(&self, event: &PipelineEvent) {
        self(event)
    }
}

/// Hears nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoListener;

impl PipelineListener for NoListener {
    fn on_event(&self, _event: &PipelineEvent) {}
}

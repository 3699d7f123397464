//! Calling LLMs: provider adapters (pure request building and response parsing) behind one
//! dispatch point, structured outputs with validation and re-ask, retries, and the [`AgentLlm`]
//! seam the loop calls through.
//!
//! One call, layer by layer: [`client`] resolves the model to a provider and builds the
//! [`chat::ChatRequest`] ([`structured`] adds the role's schema), [`dispatch`] picks the
//! provider's adapter in [`adapters`] to turn it into an HTTP request, a [`transport`] sends it,
//! the adapter reads the response back, and [`structured`] validates the reply into the role's
//! typed [`AgentOutput`], which the completion carries to the loop.

pub mod adapters;
pub mod chat;
pub mod chunk_gather;
pub mod client;
pub mod dispatch;
pub mod error;
pub mod partial_json;
pub mod probe;
pub mod reasoning;
pub mod retry;
pub mod sse;
pub mod stream;
pub mod structured;
pub mod transport;
pub mod usage;

pub use error::{ErrorKind, LlmError};
pub use reasoning::{Reasoning, Thinking};
pub use usage::Usage;

use serde::{Deserialize, Serialize};

use crate::core::cancel::CancelToken;
use crate::core::outputs::AgentOutput;
use crate::core::pipeline::CallGate;
use crate::core::role::AgentRole;

/// One agent call as the loop asks for it: rendered prompts plus the agent's model settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCall {
    /// Which agent is calling; decides the output schema.
    pub role: AgentRole,
    /// The model string as configured (`openai/gpt-4o`, `claude-sonnet-4-5`, `local/smollm2-135m`).
    pub model: String,
    /// The agent's system prompt (may be empty).
    pub system_prompt: String,
    /// The rendered prompt template.
    pub user_prompt: String,
    /// Sampling temperature.
    pub temperature: f64,
    /// Upper bound on generated tokens (thinking included).
    pub max_tokens: u32,
    /// How much to reason before answering.
    #[serde(default)]
    pub reasoning: Reasoning,
}

/// How one attempt inside a call went: the first try, a transport retry, or a re-ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptKind {
    /// The first request of the call.
    Initial,
    /// The same request again after a transport or retryable HTTP failure.
    Retry,
    /// A new request carrying the invalid reply and the validation error.
    Reask,
}

/// One HTTP request made while serving an [`AgentCall`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// 1-based position among the call's requests.
    pub attempt: u32,
    /// Why this request was made.
    pub kind: AttemptKind,
    /// Tokens the provider reported for this request, if any.
    pub usage: Option<Usage>,
    /// What went wrong, if it failed (HTTP error, invalid JSON, validation error).
    pub error: Option<String>,
    /// Wall time of the request in milliseconds.
    pub latency_ms: f64,
    /// The raw text of a reply that failed validation (the re-ask after it sends it back), so
    /// that what the model wrote can be read later; `None` for an accepted reply (the step's
    /// output is that one) and for a request that got no reply. A key the original's files
    /// never have, written only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Whether the request went out and no reply settled what it cost (a timeout, a dropped
    /// connection, an abort mid-flight): the provider may still bill it, so its worst case is
    /// counted as possibly billed. A key the original's files never have, written only when
    /// set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsettled: bool,
    /// How the request was sent, which decides the rate it is billed at. A key the original's
    /// files never have, written only for a request a provider batch answered.
    #[serde(default, skip_serializing_if = "SentVia::is_live")]
    pub sent_via: SentVia,
}

/// How a request reached its provider.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SentVia {
    /// On its own, billed at the live rates (every request of a step that does not say).
    #[default]
    Live,
    /// Inside a provider batch that answered it, billed at the batch API's rates.
    ProviderBatch,
}

impl SentVia {
    /// Whether the request was sent live.
    pub fn is_live(&self) -> bool {
        *self == SentVia::Live
    }
}

/// A successful agent call: validated output plus everything cost tracking needs.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentCompletion {
    /// The validated structured output, of the called role's type.
    pub output: AgentOutput,
    /// Usage summed over every attempt, re-asks and retries included.
    pub usage: Usage,
    /// False when some attempt's response carried no usage at all (cost is then unknown).
    pub usage_complete: bool,
    /// Every request made for this call.
    pub attempts: Vec<AttemptRecord>,
    /// The provider id that served it (`openai`, `local`, ...).
    pub provider: String,
    /// The model name sent to the provider's API.
    pub model: String,
    /// The provider's finish reason for the last attempt, as reported.
    pub finish_reason: Option<String>,
    /// Wall time of the whole call in milliseconds.
    pub latency_ms: f64,
    /// Where the reply came from, when the call went through the reply store.
    pub provenance: Option<crate::core::replies::llm::ReplyProvenance>,
    /// What the model thought before its accepted reply, when the provider returned it.
    pub thinking: Option<Thinking>,
    /// How the accepted reply streamed; `None` when it was not streamed.
    pub stream: Option<stream::StreamStats>,
}

/// A failed agent call: the error, and what was spent on the way (failed attempts cost money too).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentCallError {
    /// Why the call failed in the end.
    pub error: LlmError,
    /// Usage summed over every attempt made.
    pub usage: Usage,
    /// Every request made for this call.
    pub attempts: Vec<AttemptRecord>,
}

impl std::fmt::Display for AgentCallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for AgentCallError {}

/// What the agent loop needs from an LLM: one validated structured call.
///
/// Implemented by the real client (providers + transport) and by scripted fakes in tests. A
/// completion's output is the called role's: `call.role == completion.output.role()`.
// Futures are not `Send` in the browser, by design; callers never move them across threads.
#[allow(async_fn_in_trait)]
pub trait AgentLlm {
    /// Makes the call, re-asking and retrying as configured; returns early once `cancel` fires.
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError>;

    /// Whether [`AgentLlm::complete_gated`] asks its gate before every request after the
    /// first; then only the first request is reserved before the call (default: no, and the
    /// whole call is reserved up front).
    fn gates_each_request(&self) -> bool {
        false
    }

    /// As [`AgentLlm::complete`], asking `gate` ([`CallGate::before_request`]) before each
    /// request after the first that may be billed, when [`AgentLlm::gates_each_request`]
    /// says so; by default the gate is not asked.
    async fn complete_gated(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
        gate: &dyn CallGate,
    ) -> Result<AgentCompletion, AgentCallError> {
        let _ = gate;
        self.complete(call, cancel).await
    }
}

//! Provider adapters, one file per API family: pure functions from a [`ChatRequest`] to the
//! provider's HTTP request, and from its HTTP response to a [`ChatResponse`] or a classified
//! [`LlmError`]. No I/O and no clock: sending is the transport's job, and choosing the adapter
//! for a provider is [`super::dispatch`]'s (adapters never import it).
//!
//! Conventions every adapter keeps:
//! - The structured-output mechanism is the one in `request.structured.mode` (callers set it
//!   from `ProviderSettings::effective_structured_mode`); `PromptOnly` adds nothing to the
//!   request. Families with a single schema mechanism (Anthropic, Cohere, Gemini) treat
//!   `JsonObjectSchema` like `Native`.
//! - A refusal or a cut-off reply is a successful parse (`Ok`) with [`FinishKind::Refusal`] /
//!   [`FinishKind::Length`], so its usage is still counted; the client decides whether it
//!   becomes an error.
//! - Usage is normalised once, in the adapter, onto [`Usage`](super::Usage)'s conventions.
//! - Any non-2xx status becomes an [`LlmError`] carrying the provider id, the status and the
//!   provider's own message; the wait a `Retry-After` header asks for is read here, for all.
//!
//! Streaming: [`Adapter::build_stream_request`] asks for server-sent events, and
//! [`Adapter::stream_decoder`] reads the family's events back into the body a non-streamed
//! call returns, which `parse_reply` then reads (see [`super::stream`]).
//!
//! [`FinishKind::Refusal`]: super::chat::FinishKind::Refusal
//! [`FinishKind::Length`]: super::chat::FinishKind::Length

pub mod anthropic;
pub mod cohere;
pub mod gemini;
pub mod openai;
pub mod support;

use super::chat::{ChatRequest, ChatResponse, HttpRequest, HttpResponse, StructuredMode};
use super::error::LlmError;
use super::reasoning::Reasoning;
use super::stream::StreamDecoder;
use crate::core::providers::ProviderSettings;

/// One API family's request building and response reading. Implemented by unit types
/// ([`openai::OpenAiAdapter`], …); [`super::dispatch::adapter`] picks one per provider kind.
pub trait Adapter {
    /// Whether calls to the provider described by `settings` need an API key. Hosted APIs do;
    /// an adapter whose servers may run without one says so.
    fn needs_key(&self, settings: &ProviderSettings) -> bool {
        let _ = settings;
        true
    }

    /// The structured-output mechanism to use for a call asking for `reasoning`, when the
    /// provider's setting is `mode`: `mode` itself unless the family cannot combine the two.
    fn structured_mode(&self, mode: StructuredMode, reasoning: Reasoning) -> StructuredMode {
        let _ = reasoning;
        mode
    }

    /// The HTTP request that asks `base_url` for `request`, authenticated with `api_key`.
    fn build_request(&self, base_url: &str, api_key: &str, request: &ChatRequest) -> HttpRequest;

    /// The HTTP request that asks for `request` as a stream of server-sent events.
    fn build_stream_request(
        &self,
        base_url: &str,
        api_key: &str,
        request: &ChatRequest,
    ) -> HttpRequest;

    /// A reader of this family's stream events, for one response.
    fn stream_decoder(&self) -> Box<dyn StreamDecoder>;

    /// Reads the body of a successful (2xx) response. Some gateways report failures inside a
    /// 2xx, so this may still give an error; errors name `provider`.
    fn parse_reply(&self, provider: &str, body: &str) -> Result<ChatResponse, LlmError>;

    /// Classifies an unsuccessful response from its status and body. A wait given in the body
    /// (Gemini's `RetryInfo`) is the adapter's to read; `Retry-After` headers are read by
    /// [`Adapter::parse_response`].
    fn parse_error(&self, provider: &str, response: &HttpResponse) -> LlmError;

    /// Reads any response: the reply on 2xx, a classified error otherwise. `now_ms` (epoch
    /// milliseconds) lets a `Retry-After` given as an HTTP date count; without it only the
    /// delta-seconds form does.
    fn parse_response(
        &self,
        provider: &str,
        response: &HttpResponse,
        now_ms: Option<f64>,
    ) -> Result<ChatResponse, LlmError> {
        if support::is_success(response.status) {
            return self.parse_reply(provider, &response.body);
        }
        let error = self.parse_error(provider, response);
        let asked = support::retry_after_from(&response.headers, now_ms);
        let wait = asked.or(error.retry_after_ms());
        Err(error.with_retry_after(wait))
    }
}

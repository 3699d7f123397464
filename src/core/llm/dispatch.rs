//! The one dispatch point over [`ProviderKind`]: which [`Adapter`] serves a provider, and the
//! calls the client makes through it. Nothing else in the app matches on the provider kind to
//! build or read a request.

pub use crate::core::providers::{ProviderKind, ProviderSettings};

use super::adapters::anthropic::AnthropicAdapter;
use super::adapters::cohere::CohereAdapter;
use super::adapters::gemini::GeminiAdapter;
use super::adapters::openai::OpenAiAdapter;
use super::adapters::Adapter;
use super::chat::{ChatRequest, ChatResponse, HttpRequest, HttpResponse, StructuredMode};
use super::error::LlmError;
use super::reasoning::{self, Reasoning, ReasoningTarget};

/// The adapter that speaks `kind`'s API.
pub fn adapter(kind: ProviderKind) -> &'static dyn Adapter {
    match kind {
        ProviderKind::OpenAiCompatible => &OpenAiAdapter,
        ProviderKind::Anthropic => &AnthropicAdapter,
        ProviderKind::Cohere => &CohereAdapter,
        ProviderKind::Gemini => &GeminiAdapter,
    }
}

/// Builds the HTTP request for `request` to the provider described by `settings`.
pub fn build_request(settings: &ProviderSettings, request: &ChatRequest) -> HttpRequest {
    adapter(settings.kind).build_request(&settings.base_url, &settings.api_key, request)
}

/// Builds the streamed request for `request` to the provider described by `settings`.
pub fn build_stream_request(settings: &ProviderSettings, request: &ChatRequest) -> HttpRequest {
    adapter(settings.kind).build_stream_request(&settings.base_url, &settings.api_key, request)
}

/// The structured-output mechanism for a call to `settings`'s provider asking for `reasoning`.
pub fn structured_mode(settings: &ProviderSettings, reasoning: Reasoning) -> StructuredMode {
    adapter(settings.kind).structured_mode(settings.effective_structured_mode(), reasoning)
}

/// An [`LlmError`] of kind `Unsupported` when `settings`'s family cannot take `reasoning` for
/// `model` with `max_tokens` (see [`reasoning::check`]); found before any request.
pub fn check_reasoning(
    settings: &ProviderSettings,
    model: &str,
    reasoning: Reasoning,
    max_tokens: u32,
) -> Result<(), LlmError> {
    let target = ReasoningTarget {
        kind: settings.kind,
        base_url: &settings.base_url,
        model,
        max_tokens,
    };
    reasoning::check(reasoning, target).map_err(|r| LlmError::unsupported(&settings.id, &r.0))
}

/// Reads the HTTP response of the provider described by `settings`: the reply on 2xx, a
/// classified [`LlmError`] naming the provider otherwise. `now_ms` (epoch milliseconds) lets a
/// `Retry-After` given as an HTTP date count.
pub fn parse_response(
    settings: &ProviderSettings,
    response: &HttpResponse,
    now_ms: Option<f64>,
) -> Result<ChatResponse, LlmError> {
    adapter(settings.kind).parse_response(&settings.id, response, now_ms)
}

/// An [`LlmError`] of kind `MissingKey` when the provider needs a key and has none.
///
/// Anthropic, Cohere, Gemini and the built-in hosted OpenAI-compatible providers (OpenAI,
/// OpenRouter) need one; the local server and custom OpenAI-compatible servers may run without.
pub fn check_api_key(settings: &ProviderSettings) -> Result<(), LlmError> {
    if adapter(settings.kind).needs_key(settings) && settings.api_key.trim().is_empty() {
        return Err(LlmError::missing_key(&settings.id));
    }
    Ok(())
}

/// An [`LlmError`] of kind `InvalidSettings` when Settings' own check
/// ([`ProviderSettings::validate`]) rejects the provider, e.g. a plain-http base URL on another
/// machine: the key would cross the network in clear text, and the page's content security
/// policy would block the request anyway.
///
/// Settings only shows these problems; providers stored before a check existed, or edited in
/// localStorage, reach the client without it, so every request passes here first.
pub fn check_settings(settings: &ProviderSettings) -> Result<(), LlmError> {
    match settings.validate() {
        problems if problems.is_empty() => Ok(()),
        problems => Err(LlmError::invalid_settings(
            &settings.id,
            &problems.join("; "),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::llm::error::ErrorKind;
    use crate::core::providers::ProviderRegistry;

    #[test]
    fn keys_required_where_hosted() {
        let reg = ProviderRegistry::builtin();
        for id in ["openai", "openrouter", "anthropic", "cohere", "gemini"] {
            let p = reg.get(id).cloned();
            let err = p.as_ref().map(check_api_key);
            assert_eq!(err, Some(Err(LlmError::missing_key(id))), "{id}");
            let missing = err.and_then(Result::err).map(|e| e.kind());
            assert_eq!(missing, Some(ErrorKind::MissingKey), "{id}");
        }
        let local = reg.get("local").cloned();
        assert_eq!(local.as_ref().map(check_api_key), Some(Ok(())));
        let mut openai = reg.get("openai").cloned();
        if let Some(p) = openai.as_mut() {
            p.api_key = "sk-test".into();
        }
        assert_eq!(openai.as_ref().map(check_api_key), Some(Ok(())));
    }
}

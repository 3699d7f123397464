//! The one dispatch point over [`ProviderKind`]: build a provider's HTTP request from a
//! [`ChatRequest`], and read its HTTP response back into a [`ChatResponse`] or an [`LlmError`].
//!
//! Adapters are pure: no I/O, no clock. Sending the request is the transport's job.
//!
//! Conventions shared by every adapter:
//! - The structured-output mechanism is the one in `request.structured.mode` (callers set it from
//!   [`ProviderSettings::effective_structured_mode`]); [`StructuredMode::PromptOnly`] adds nothing
//!   to the request. Families with a single schema mechanism (Anthropic, Cohere, Gemini) treat
//!   [`StructuredMode::JsonObjectSchema`] like [`StructuredMode::Native`].
//! - A refusal or a cut-off reply is a successful parse (`Ok`) with
//!   [`FinishKind::Refusal`] / [`FinishKind::Length`], so its usage is still counted; the
//!   structured layer decides whether it becomes [`LlmError::Refusal`] / [`LlmError::Truncated`].
//! - Any non-2xx status becomes a classified [`LlmError`] carrying the provider id, the status and
//!   the provider's message.
//!
//! [`StructuredMode::PromptOnly`]: super::chat::StructuredMode::PromptOnly
//! [`StructuredMode::JsonObjectSchema`]: super::chat::StructuredMode::JsonObjectSchema
//! [`StructuredMode::Native`]: super::chat::StructuredMode::Native
//! [`FinishKind::Refusal`]: super::chat::FinishKind::Refusal
//! [`FinishKind::Length`]: super::chat::FinishKind::Length

use serde_json::Value;

pub use crate::core::providers::{ProviderKind, ProviderSettings};

use super::chat::{ChatRequest, ChatResponse, ChatRole, HttpRequest, HttpResponse};
use super::error::LlmError;
use super::{anthropic, cohere, gemini, openai};

/// Builds the HTTP request for `request` to the provider described by `settings`.
pub fn build_request(settings: &ProviderSettings, request: &ChatRequest) -> HttpRequest {
    let (base, key) = (settings.base_url.as_str(), settings.api_key.as_str());
    match settings.kind {
        ProviderKind::OpenAiCompatible => openai::build_request(base, key, request),
        ProviderKind::Anthropic => anthropic::build_request(base, key, request),
        ProviderKind::Cohere => cohere::build_request(base, key, request),
        ProviderKind::Gemini => gemini::build_request(base, key, request),
    }
}

/// Reads a provider's HTTP response: the reply on 2xx, a classified [`LlmError`] otherwise.
///
/// `provider_id` names the provider in errors. A `Retry-After` given as an HTTP date needs the
/// current time and is ignored here; use [`parse_response_at`] when a clock is at hand.
pub fn parse_response(
    kind: ProviderKind,
    provider_id: &str,
    response: &HttpResponse,
) -> Result<ChatResponse, LlmError> {
    parse_response_at(kind, provider_id, response, None)
}

/// [`parse_response`] with the current time (epoch milliseconds), so that a `Retry-After` HTTP
/// date can be turned into a wait.
pub fn parse_response_at(
    kind: ProviderKind,
    provider_id: &str,
    response: &HttpResponse,
    now_ms: Option<f64>,
) -> Result<ChatResponse, LlmError> {
    match kind {
        ProviderKind::OpenAiCompatible => openai::parse_response_as(provider_id, response, now_ms),
        ProviderKind::Anthropic => anthropic::parse_response_as(provider_id, response, now_ms),
        ProviderKind::Cohere => cohere::parse_response_as(provider_id, response, now_ms),
        ProviderKind::Gemini => gemini::parse_response_as(provider_id, response, now_ms),
    }
}

/// `Err(LlmError::MissingKey)` when the provider needs a key and has none.
///
/// Anthropic, Cohere, Gemini and the built-in hosted OpenAI-compatible providers (OpenAI,
/// OpenRouter) need one; the local server and custom OpenAI-compatible servers may run without.
pub fn check_api_key(settings: &ProviderSettings) -> Result<(), LlmError> {
    let needs_key = match settings.kind {
        ProviderKind::OpenAiCompatible => {
            settings.builtin && settings.id != crate::core::providers::LOCAL_ID
        }
        _ => true,
    };
    if needs_key && settings.api_key.trim().is_empty() {
        return Err(LlmError::MissingKey {
            provider: settings.id.clone(),
        });
    }
    Ok(())
}

/// `base_url` without trailing slashes, followed by `path` (which starts with `/`).
/// The conversation as `{role, content}` messages with the system prompt first (when there is
/// one): the shape OpenAI-compatible servers and Cohere v2 both take.
pub(crate) fn messages_with_system(request: &ChatRequest) -> Vec<Value> {
    let system = (!request.system.is_empty())
        .then(|| serde_json::json!({"role": "system", "content": request.system}));
    let turns = request.messages.iter().map(|message| {
        let role = match message.role {
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        };
        serde_json::json!({"role": role, "content": message.content})
    });
    system.into_iter().chain(turns).collect()
}

pub(crate) fn endpoint(base_url: &str, path: &str) -> String {
    format!("{}{}", base_url.trim().trim_end_matches('/'), path)
}

/// Whether the status is 2xx.
pub(crate) fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The body as JSON, or [`LlmError::InvalidResponse`] keeping its start as evidence.
pub(crate) fn parse_json(provider: &str, body: &str) -> Result<Value, LlmError> {
    serde_json::from_str(body).map_err(|e| {
        let what = if body.trim().is_empty() {
            "the body is empty".to_string()
        } else {
            format!("the body is not JSON: {e}")
        };
        LlmError::invalid_response(provider, what, body)
    })
}

/// An error body that is not the provider's JSON error shape (an HTML proxy page, plain text):
/// its start, or the status line when empty.
pub(crate) fn fallback_detail(response: &HttpResponse) -> String {
    let body = response.body.trim();
    if body.is_empty() {
        format!("HTTP {} with an empty body", response.status)
    } else {
        body.to_string()
    }
}

/// A non-negative integer at a JSON pointer; accepts integral floats (`12.0`), which some
/// OpenAI-compatible servers emit.
pub(crate) fn u64_at(value: &Value, pointer: &str) -> Option<u64> {
    let v = value.pointer(pointer)?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0)
            .map(|f| f as u64)
    })
}

/// A string at a JSON pointer.
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// A tool or schema name the providers accept (`^[a-zA-Z0-9_-]{1,64}$` for OpenAI's
/// `json_schema.name` and Anthropic's tool name): other characters become `_`.
pub(crate) fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "output".to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::providers::ProviderRegistry;

    #[test]
    fn endpoint_joins_without_double_slash() {
        assert_eq!(endpoint("https://a/v1/", "/chat"), "https://a/v1/chat");
        assert_eq!(endpoint(" https://a/v1 ", "/chat"), "https://a/v1/chat");
    }

    #[test]
    fn numbers_from_json() {
        let v = serde_json::json!({"a": 12, "b": 12.0, "c": 1.5, "d": -1, "e": "3"});
        assert_eq!(u64_at(&v, "/a"), Some(12));
        assert_eq!(u64_at(&v, "/b"), Some(12));
        assert_eq!(u64_at(&v, "/c"), None);
        assert_eq!(u64_at(&v, "/d"), None);
        assert_eq!(u64_at(&v, "/e"), None);
        assert_eq!(u64_at(&v, "/missing"), None);
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("solver_output"), "solver_output");
        assert_eq!(safe_name("Solver Output.v2"), "Solver_Output_v2");
        assert_eq!(safe_name(""), "output");
        assert_eq!(safe_name(&"x".repeat(80)).len(), 64);
    }

    #[test]
    fn keys_required_where_hosted() {
        let reg = ProviderRegistry::builtin();
        for id in ["openai", "openrouter", "anthropic", "cohere", "gemini"] {
            let p = reg.get(id).cloned();
            let err = p.as_ref().map(check_api_key);
            assert_eq!(
                err,
                Some(Err(LlmError::MissingKey {
                    provider: id.to_string()
                })),
                "{id}"
            );
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

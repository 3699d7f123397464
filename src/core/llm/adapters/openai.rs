//! OpenAI chat completions, and the servers that copy it: OpenRouter, llama.cpp,
//! llama-cpp-python, vLLM, Ollama.
//!
//! API reference: <https://platform.openai.com/docs/api-reference/chat/create>.

use serde_json::{json, Map, Value};

use super::support::{
    endpoint, error_json, fallback_detail, messages_with_system, parse_json, safe_name, str_at,
    u64_at, with_body_fields,
};
use super::Adapter;
use crate::core::llm::chat::{
    ChatRequest, ChatResponse, FinishKind, HttpRequest, HttpResponse, StructuredMode,
};
use crate::core::llm::error::{ErrorKind, LlmError};
use crate::core::llm::reasoning::{Reasoning, Thinking};
use crate::core::llm::sse::SseEvent;
use crate::core::llm::stream::{event_json, StreamDecoder, StreamDelta, StreamFault};
use crate::core::llm::usage::Usage;
use crate::core::providers::{ProviderSettings, LOCAL_ID};

/// The OpenAI chat-completions family.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiAdapter;

impl Adapter for OpenAiAdapter {
    /// The hosted built-ins (OpenAI, OpenRouter) need a key; the local server and custom
    /// servers may run without one.
    fn needs_key(&self, settings: &ProviderSettings) -> bool {
        settings.builtin && settings.id != LOCAL_ID
    }

    /// Builds `POST {base_url}/chat/completions`.
    ///
    /// - `Authorization: Bearer` only when `api_key` is not empty (local servers need none).
    /// - The system prompt is the first message, with role `system`.
    /// - `max_tokens`, except [`uses_max_completion_tokens`] models on api.openai.com, which get
    ///   `max_completion_tokens` and no `temperature`.
    /// - Structured output: `Native` → `response_format: {type: "json_schema", json_schema: {name,
    ///   strict: true, schema}}`; `JsonObjectSchema` → `{type: "json_object", schema}`
    ///   (llama.cpp / llama-cpp-python); `PromptOnly` → nothing.
    /// - Reasoning: `reasoning_effort` (OpenAI, vLLM, Ollama, DeepSeek, …); on OpenRouter its own
    ///   `reasoning: {effort}` or `reasoning: {max_tokens}`. Off sends nothing.
    fn build_request(&self, base_url: &str, api_key: &str, request: &ChatRequest) -> HttpRequest {
        let messages = messages_with_system(request);

        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        body.insert("messages".into(), Value::Array(messages));
        if uses_max_completion_tokens(base_url, &request.model) {
            // NOTE: OpenAI's reasoning models (o-series, gpt-5) reject `max_tokens` ("Use
            // 'max_completion_tokens' instead") and any temperature but the default.
            // https://platform.openai.com/docs/api-reference/chat/create#chat-create-max_tokens
            // https://platform.openai.com/docs/guides/reasoning
            body.insert("max_completion_tokens".into(), json!(request.max_tokens));
        } else {
            body.insert("temperature".into(), json!(request.temperature));
            body.insert("max_tokens".into(), json!(request.max_tokens));
        }
        if let Some((key, value)) = reasoning_field(base_url, request.reasoning) {
            body.insert(key.into(), value);
        }
        if let Some(spec) = &request.structured {
            match spec.mode {
                StructuredMode::Native => {
                    body.insert(
                        "response_format".into(),
                        json!({
                            "type": "json_schema",
                            "json_schema": {
                                "name": safe_name(&spec.name),
                                "strict": true,
                                "schema": spec.schema,
                            }
                        }),
                    );
                }
                StructuredMode::JsonObjectSchema => {
                    // NOTE: llama-cpp-python's server turns this schema into a grammar.
                    // https://github.com/abetlen/llama-cpp-python#json-schema-mode
                    body.insert(
                        "response_format".into(),
                        json!({"type": "json_object", "schema": spec.schema}),
                    );
                }
                StructuredMode::PromptOnly => {}
            }
        }

        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if !api_key.is_empty() {
            headers.push(("authorization".to_string(), format!("Bearer {api_key}")));
        }
        HttpRequest {
            method: "POST".to_string(),
            url: endpoint(base_url, "/chat/completions"),
            headers,
            body: Value::Object(body).to_string(),
        }
    }

    /// The same request with `stream: true` and `stream_options.include_usage`, without which
    /// a stream carries no usage.
    // NOTE: https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options
    fn build_stream_request(
        &self,
        base_url: &str,
        api_key: &str,
        request: &ChatRequest,
    ) -> HttpRequest {
        let http = self.build_request(base_url, api_key, request);
        with_body_fields(
            http,
            &[
                ("stream", json!(true)),
                ("stream_options", json!({"include_usage": true})),
            ],
        )
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        Box::<OpenAiStream>::default()
    }

    /// Reads a chat completion; errors name `provider`.
    fn parse_reply(&self, provider: &str, body: &str) -> Result<ChatResponse, LlmError> {
        let json = parse_json(provider, body)?;
        let Some(choice) = json.pointer("/choices/0") else {
            // NOTE: some OpenAI-compatible gateways (OpenRouter) report upstream failures as a
            // 200 carrying an error object.
            if json.get("error").is_some_and(|e| !e.is_null()) {
                let status = u64_at(&json, "/error/code")
                    .and_then(|c| u16::try_from(c).ok())
                    .filter(|c| (400..600).contains(c))
                    .unwrap_or(502);
                let (detail, code, kind) = error_fields(&json, body, status);
                let kind = classify(status, &detail, code.as_deref(), kind.as_deref());
                return Err(LlmError::from_http(provider, status, kind, &detail, None));
            }
            return Err(LlmError::invalid_response(
                provider,
                "no choices in the response",
                body,
            ));
        };

        let message = choice.get("message").unwrap_or(&Value::Null);
        let text = match message.get("content") {
            Some(Value::String(s)) => s.clone(),
            // Some servers send content parts instead of a string.
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
            _ => String::new(),
        };
        let finish_reason = choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut refusal = message
            .get("refusal")
            .and_then(Value::as_str)
            .filter(|r| !r.trim().is_empty())
            .map(str::to_string);
        let finish = if refusal.is_some() {
            FinishKind::Refusal
        } else {
            match finish_reason.as_deref() {
                Some("stop") => FinishKind::Stop,
                Some("length") => FinishKind::Length,
                Some("content_filter") => FinishKind::Refusal,
                _ => FinishKind::Other,
            }
        };
        if finish == FinishKind::Refusal && refusal.is_none() {
            refusal = Some("the provider's content filter stopped the reply".to_string());
        }
        let thinking = thinking(message);
        Ok(ChatResponse {
            text,
            finish,
            finish_reason,
            usage: usage(&json, thinking.is_some()),
            refusal,
            thinking,
        })
    }

    /// Classifies an unsuccessful response.
    ///
    /// Reads OpenAI's `{"error": {"message", "type", "code"}}` and the variants of compatible
    /// servers: llama.cpp's numeric `code` with `type: "exceed_context_size_error"`, vLLM's top-level
    /// `message`, Ollama's `{"error": "..."}`.
    fn parse_error(&self, provider: &str, response: &HttpResponse) -> LlmError {
        let json = error_json(response);
        let (detail, code, kind) = error_fields(&json, &response.body, response.status);
        let kind = classify(response.status, &detail, code.as_deref(), kind.as_deref());
        LlmError::from_http(provider, response.status, kind, &detail, None)
    }
}

/// A chat-completions stream: `chat.completion.chunk`s whose `choices[0].delta` carry
/// `content`, `reasoning_content` / `reasoning` and `refusal` pieces, a `finish_reason` at the
/// end, `usage` in a last chunk without choices, then `data: [DONE]`.
// NOTE: https://platform.openai.com/docs/api-reference/chat-streaming/streaming
#[derive(Debug, Default)]
struct OpenAiStream {
    content: String,
    reasoning: String,
    refusal: String,
    reasoning_details: Vec<Value>,
    finish_reason: Option<Value>,
    usage: Option<Value>,
    done: bool,
}

impl StreamDecoder for OpenAiStream {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamDelta>, StreamFault> {
        if event.is_done() {
            self.done = true;
            return Ok(Vec::new());
        }
        let json = event_json(event)?;
        if json.get("error").is_some_and(|e| !e.is_null()) {
            return Err(StreamFault::Provider(json));
        }
        if let Some(usage) = json.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(usage.clone());
        }
        let mut deltas = Vec::new();
        let Some(choice) = json.pointer("/choices/0") else {
            return Ok(deltas);
        };
        if let Some(reason) = choice.get("finish_reason").filter(|r| !r.is_null()) {
            self.finish_reason = Some(reason.clone());
        }
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        let piece = |key: &str| {
            delta
                .get(key)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
        };
        if let Some(text) = piece("reasoning_content").or_else(|| piece("reasoning")) {
            self.reasoning.push_str(text);
            deltas.push(StreamDelta::Thinking(text.to_string()));
        }
        if let Some(text) = piece("content") {
            self.content.push_str(text);
            deltas.push(StreamDelta::Answer(text.to_string()));
        }
        if let Some(text) = piece("refusal") {
            self.refusal.push_str(text);
        }
        if let Some(details) = delta.get("reasoning_details").and_then(Value::as_array) {
            self.reasoning_details.extend(details.iter().cloned());
        }
        Ok(deltas)
    }

    fn is_complete(&self) -> bool {
        self.done || self.finish_reason.is_some()
    }

    fn body(&self) -> Value {
        let mut message = Map::new();
        message.insert("role".into(), json!("assistant"));
        message.insert("content".into(), json!(self.content));
        if !self.reasoning.is_empty() {
            message.insert("reasoning_content".into(), json!(self.reasoning));
        }
        if !self.refusal.is_empty() {
            message.insert("refusal".into(), json!(self.refusal));
        }
        if !self.reasoning_details.is_empty() {
            message.insert("reasoning_details".into(), json!(self.reasoning_details));
        }
        let mut body = Map::new();
        body.insert(
            "choices".into(),
            json!([{
                "index": 0,
                "message": message,
                "finish_reason": self.finish_reason.clone().unwrap_or(Value::Null),
            }]),
        );
        if let Some(usage) = &self.usage {
            body.insert("usage".into(), usage.clone());
        }
        Value::Object(body)
    }
}

/// The reasoning field for `reasoning` on the server at `base_url`, if any.
fn reasoning_field(base_url: &str, reasoning: Reasoning) -> Option<(&'static str, Value)> {
    if reasoning.is_off() {
        return None;
    }
    if is_openrouter_host(base_url) {
        // NOTE: OpenRouter normalises reasoning across its upstreams with one object: an
        // `effort`, or a `max_tokens` budget. https://openrouter.ai/docs/use-cases/reasoning-tokens
        let value = match reasoning.effort_name() {
            Some(effort) => json!({ "effort": effort }),
            None => json!({ "max_tokens": reasoning.budget_tokens() }),
        };
        return Some(("reasoning", value));
    }
    // NOTE: `reasoning_effort: "low" | "medium" | "high"`.
    // https://platform.openai.com/docs/api-reference/chat/create#chat-create-reasoning_effort
    // vLLM and Ollama take the same field on their OpenAI-compatible endpoints. A budget is
    // refused for these servers before the call (reasoning::check).
    reasoning
        .effort_name()
        .map(|effort| ("reasoning_effort", json!(effort)))
}

/// What the model thought, from the message: `reasoning_content` (DeepSeek, vLLM, llama.cpp
/// with `--reasoning-format`) or `reasoning` (OpenRouter, Ollama). OpenRouter's
/// `reasoning_details` are kept as they came when some are encrypted.
// NOTE: https://api-docs.deepseek.com/guides/reasoning_model (reasoning_content),
// https://openrouter.ai/docs/use-cases/reasoning-tokens (reasoning, reasoning_details).
// OpenAI's own chat completions return no reasoning text (only its token count).
fn thinking(message: &Value) -> Option<Thinking> {
    let details = message.get("reasoning_details").and_then(Value::as_array);
    if let Some(details) = details.filter(|d| {
        d.iter()
            .any(|x| str_at(x, "/type") == Some("reasoning.encrypted"))
    }) {
        return Some(Thinking::Blocks(details.clone()));
    }
    ["reasoning_content", "reasoning"]
        .iter()
        .find_map(|key| message.get(*key).and_then(Value::as_str))
        .filter(|text| !text.is_empty())
        .map(|text| Thinking::Text(text.to_string()))
}

/// The lowercase host of `base_url` (no port), or empty.
fn host_of(base_url: &str) -> String {
    base_url
        .trim()
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Whether `base_url` is OpenAI's own API.
pub fn is_openai_host(base_url: &str) -> bool {
    host_of(base_url) == "api.openai.com"
}

/// Whether `base_url` is OpenRouter's API.
pub fn is_openrouter_host(base_url: &str) -> bool {
    host_of(base_url) == "openrouter.ai"
}

/// Whether the request must use `max_completion_tokens` and leave out `temperature`: OpenAI's
/// reasoning models (`o1`, `o3-mini`, `o4-mini`, `gpt-5*`) on `api.openai.com`. Every other
/// server and model gets `max_tokens`, which OpenAI-compatible servers all understand.
pub fn uses_max_completion_tokens(base_url: &str, model: &str) -> bool {
    if !is_openai_host(base_url) {
        return false;
    }
    let model = model.trim().to_ascii_lowercase();
    let mut chars = model.chars();
    let o_series = chars.next() == Some('o') && chars.next().is_some_and(|c| c.is_ascii_digit());
    o_series || model.starts_with("gpt-5")
}

/// Normalized usage from `usage`, or `None` when the response has none.
///
/// `prompt_tokens` already includes `prompt_tokens_details.cached_tokens`, and
/// `completion_tokens` already includes `completion_tokens_details.reasoning_tokens`. A reply
/// that `thought` without that count (llama.cpp, Ollama) has an unknown reasoning count.
fn usage(json: &Value, thought: bool) -> Option<Usage> {
    let u = json.get("usage").filter(|u| u.is_object())?;
    let input = u64_at(u, "/prompt_tokens");
    let output = u64_at(u, "/completion_tokens");
    if input.is_none() && output.is_none() {
        return None;
    }
    let (input, output) = (input.unwrap_or(0), output.unwrap_or(0));
    // NOTE: DeepSeek reports cache hits as `prompt_cache_hit_tokens`.
    // https://api-docs.deepseek.com/api/create-chat-completion
    let cached = u64_at(u, "/prompt_tokens_details/cached_tokens")
        .or_else(|| u64_at(u, "/prompt_cache_hit_tokens"))
        .unwrap_or(0);
    let reasoning = u64_at(u, "/completion_tokens_details/reasoning_tokens");
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input.saturating_add(output),
        cache_read_tokens: cached.min(input),
        cache_write_tokens: 0,
        reasoning_tokens: reasoning.unwrap_or(0).min(output),
        reasoning_tokens_unknown: thought && reasoning.is_none(),
    })
}

/// `(message, code, type)` from the error body, whatever the server's shape.
fn error_fields(json: &Value, body: &str, status: u16) -> (String, Option<String>, Option<String>) {
    let scalar = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let error = json.get("error");
    if let Some(Value::String(message)) = error {
        return (message.clone(), None, None);
    }
    if let Some(e) = error.filter(|e| e.is_object()) {
        let message = str_at(e, "/message")
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
        return (message, scalar(e.get("code")), scalar(e.get("type")));
    }
    if let Some(message) = str_at(json, "/message") {
        return (
            message.to_string(),
            scalar(json.get("code")),
            scalar(json.get("type")),
        );
    }
    (fallback_detail(status, body), None, None)
}

fn classify(status: u16, message: &str, code: Option<&str>, kind: Option<&str>) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    let is_client_error = (400..500).contains(&status);
    // NOTE: OpenAI uses code `context_length_exceeded`; llama.cpp uses type
    // `exceed_context_size_error`; vLLM and older servers only say it in the message.
    // https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md
    let context = code == Some("context_length_exceeded")
        || kind == Some("exceed_context_size_error")
        || lower.contains("maximum context length")
        || lower.contains("context length exceeded")
        || lower.contains("exceeds the available context size")
        || (lower.contains("context") && lower.contains("too long"));
    if is_client_error && context {
        return ErrorKind::ContextLength;
    }
    // NOTE: a 429 `insufficient_quota` is a billing problem, not a rate limit; OpenRouter uses
    // 402 for exhausted credits.
    // https://platform.openai.com/docs/guides/error-codes#api-errors
    if code == Some("insufficient_quota") || kind == Some("insufficient_quota") || status == 402 {
        return ErrorKind::QuotaExceeded;
    }
    if code == Some("model_not_found") || (status == 404 && lower.contains("model")) {
        return ErrorKind::ModelNotFound;
    }
    if code == Some("invalid_api_key") {
        return ErrorKind::Auth;
    }
    ErrorKind::from_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_model_rule() {
        let openai = "https://api.openai.com/v1";
        for model in ["o1", "o3-mini", "o4-mini-2025-04-16", "gpt-5", "gpt-5-mini"] {
            assert!(uses_max_completion_tokens(openai, model), "{model}");
        }
        for model in ["gpt-4o", "gpt-4.1-nano", "omni-moderation", "ollama"] {
            assert!(!uses_max_completion_tokens(openai, model), "{model}");
        }
        assert!(!uses_max_completion_tokens(
            "https://openrouter.ai/api/v1",
            "o3-mini"
        ));
        assert!(!uses_max_completion_tokens(
            "http://127.0.0.1:8091/v1",
            "gpt-5"
        ));
        assert!(uses_max_completion_tokens(
            "HTTPS://API.OPENAI.COM:443/v1/",
            "o3"
        ));
    }

    #[test]
    fn ollama_and_vllm_error_shapes() {
        let resp = |status, body: &str| HttpResponse {
            status,
            headers: vec![],
            body: body.to_string(),
        };
        let ollama = OpenAiAdapter.parse_error(
            "local",
            &resp(404, r#"{"error":"model 'llama9' not found"}"#),
        );
        assert_eq!(ollama.kind(), ErrorKind::ModelNotFound);
        assert_eq!(ollama.detail(), "model 'llama9' not found");
        let vllm = OpenAiAdapter.parse_error(
            "local",
            &resp(
                400,
                r#"{"object":"error","message":"This model's maximum context length is 2048 tokens. However, you requested 4000 tokens.","type":"BadRequestError","param":null,"code":400}"#,
            ),
        );
        assert_eq!(
            (vllm.kind(), vllm.status()),
            (ErrorKind::ContextLength, Some(400)),
            "{vllm:?}"
        );
        let html = OpenAiAdapter.parse_error("local", &resp(502, "<html>Bad Gateway</html>"));
        assert_eq!(
            (html.kind(), html.status(), html.detail()),
            (ErrorKind::Server, Some(502), "<html>Bad Gateway</html>")
        );
    }
}

//! Anthropic Messages API.
//!
//! API reference: <https://docs.anthropic.com/en/api/messages>.

use serde_json::{json, Map, Value};

use super::support::{
    endpoint, error_json, fallback_detail, parse_json, role_name, safe_name, str_at, u64_at,
    with_body_fields,
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

/// The Anthropic Messages family.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnthropicAdapter;

impl Adapter for AnthropicAdapter {
    /// Builds `POST {base_url}/messages`.
    ///
    /// - Headers `x-api-key`, `anthropic-version: 2023-06-01`, and
    ///   `anthropic-dangerous-direct-browser-access: true`, without which the browser's CORS
    ///   preflight is refused.
    /// - The system prompt is the top-level `system` field; `max_tokens` is required.
    /// - Structured output (`Native`, and `JsonObjectSchema` which has no other meaning here): one
    ///   tool named after the schema with the schema as `input_schema`, forced with
    ///   `tool_choice: {type: "tool", name}`. `PromptOnly` adds nothing.
    fn build_request(&self, base_url: &str, api_key: &str, request: &ChatRequest) -> HttpRequest {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| json!({"role": role_name(m.role), "content": m.content}))
            .collect();

        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        body.insert("max_tokens".into(), json!(request.max_tokens));
        match request.reasoning.budget_within(request.max_tokens) {
            // NOTE: "Thinking isn't compatible with temperature or top_k modifications", and
            // budget_tokens must be ≥ 1024 and below max_tokens (checked before the call).
            // https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
            // https://docs.anthropic.com/en/api/messages#body-thinking
            Some(budget) => {
                body.insert(
                    "thinking".into(),
                    json!({"type": "enabled", "budget_tokens": budget}),
                );
            }
            None => {
                body.insert("temperature".into(), json!(request.temperature));
            }
        }
        if !request.system.is_empty() {
            body.insert("system".into(), json!(request.system));
        }
        body.insert("messages".into(), Value::Array(messages));
        if let Some(spec) = &request.structured {
            if spec.mode != StructuredMode::PromptOnly {
                // NOTE: forcing one tool is Anthropic's documented way to get JSON that follows a
                // schema. https://docs.anthropic.com/en/docs/build-with-claude/tool-use#json-mode
                let name = safe_name(&spec.name);
                body.insert(
                    "tools".into(),
                    json!([{
                        "name": name,
                        "description": "Record the answer in exactly this structure.",
                        "input_schema": spec.schema,
                    }]),
                );
                body.insert("tool_choice".into(), json!({"type": "tool", "name": name}));
            }
        }

        HttpRequest {
            method: "POST".to_string(),
            url: endpoint(base_url, "/messages"),
            headers: vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("x-api-key".to_string(), api_key.to_string()),
                ("anthropic-version".to_string(), API_VERSION.to_string()),
                // NOTE: without it a call from a web page gets "401 CORS requests must set
                // 'anthropic-dangerous-direct-browser-access' header"; the official SDK sends it
                // when `dangerouslyAllowBrowser` is set.
                // https://github.com/anthropics/anthropic-sdk-typescript#requirements
                (
                    "anthropic-dangerous-direct-browser-access".to_string(),
                    "true".to_string(),
                ),
            ],
            body: Value::Object(body).to_string(),
        }
    }

    /// The same request with `stream: true`.
    // NOTE: https://docs.anthropic.com/en/docs/build-with-claude/streaming
    fn build_stream_request(
        &self,
        base_url: &str,
        api_key: &str,
        request: &ChatRequest,
    ) -> HttpRequest {
        let http = self.build_request(base_url, api_key, request);
        with_body_fields(http, &[("stream", json!(true))])
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        Box::<AnthropicStream>::default()
    }

    /// With thinking on, a forced tool call is refused ("Thinking may not be enabled when
    /// tool_choice forces tool use"), so the schema travels in the prompt instead.
    // NOTE: https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#extended-thinking-with-tool-use
    fn structured_mode(&self, mode: StructuredMode, reasoning: Reasoning) -> StructuredMode {
        if reasoning.is_off() {
            mode
        } else {
            StructuredMode::PromptOnly
        }
    }

    /// Reads a Messages response; errors name `provider`.
    ///
    /// The text is the input of the first `tool_use` block serialized as JSON when there is one
    /// (the forced tool call), else the concatenated `text` blocks. `thinking` and
    /// `redacted_thinking` blocks are kept as they came, signatures and encrypted data
    /// included, as the reply's thinking.
    fn parse_reply(&self, provider: &str, body: &str) -> Result<ChatResponse, LlmError> {
        let json = parse_json(provider, body)?;
        if str_at(&json, "/type") == Some("error") {
            let status = status_for_type(str_at(&json, "/error/type")).unwrap_or(500);
            let (detail, error_type) = error_fields(&json, status, body);
            let kind = classify(status, &detail, error_type.as_deref());
            return Err(LlmError::from_http(provider, status, kind, &detail, None));
        }
        let Some(blocks) = json.get("content").and_then(Value::as_array) else {
            return Err(LlmError::invalid_response(
                provider,
                "no content in the response",
                body,
            ));
        };
        let tool_input = blocks
            .iter()
            .find(|b| str_at(b, "/type") == Some("tool_use"))
            .and_then(|b| b.get("input"));
        let text = match tool_input {
            Some(input) => input.to_string(),
            None => blocks
                .iter()
                .filter(|b| str_at(b, "/type") == Some("text"))
                .filter_map(|b| str_at(b, "/text"))
                .collect(),
        };
        let thinking_blocks: Vec<Value> = blocks
            .iter()
            .filter(|b| matches!(str_at(b, "/type"), Some("thinking" | "redacted_thinking")))
            .cloned()
            .collect();
        let thinking = (!thinking_blocks.is_empty()).then_some(Thinking::Blocks(thinking_blocks));
        let finish_reason = str_at(&json, "/stop_reason").map(str::to_string);
        let finish = match finish_reason.as_deref() {
            Some("end_turn" | "stop_sequence" | "tool_use") => FinishKind::Stop,
            // NOTE: `model_context_window_exceeded` also means the output was cut short.
            // https://docs.anthropic.com/en/api/handling-stop-reasons
            Some("max_tokens" | "model_context_window_exceeded") => FinishKind::Length,
            Some("refusal") => FinishKind::Refusal,
            _ => FinishKind::Other,
        };
        let refusal = (finish == FinishKind::Refusal).then(|| {
            if text.trim().is_empty() {
                "the model declined to answer (stop_reason: refusal)".to_string()
            } else {
                text.clone()
            }
        });
        Ok(ChatResponse {
            text,
            finish,
            finish_reason,
            usage: usage(&json, thinking.is_some()),
            refusal,
            thinking,
        })
    }

    /// Classifies an unsuccessful response from `{"type": "error", "error": {"type", "message"}}`.
    ///
    /// Error types: <https://docs.anthropic.com/en/api/errors>.
    fn parse_error(&self, provider: &str, response: &HttpResponse) -> LlmError {
        let json = error_json(response);
        let (detail, error_type) = error_fields(&json, response.status, &response.body);
        let kind = classify(response.status, &detail, error_type.as_deref());
        LlmError::from_http(provider, response.status, kind, &detail, None)
    }
}

/// A Messages stream: `message_start` (the message, usage so far), per content block a
/// `content_block_start`, `content_block_delta`s (`text_delta`, `thinking_delta`,
/// `signature_delta`, `input_json_delta`) and a `content_block_stop`, then `message_delta`
/// (stop reason, final usage) and `message_stop`; `ping`s between, an `error` event on failure.
// NOTE: https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
#[derive(Debug, Default)]
struct AnthropicStream {
    message: Map<String, Value>,
    blocks: Vec<Value>,
    partial_json: Vec<String>,
    stopped: bool,
}

impl AnthropicStream {
    fn block(&mut self, event: &Value) -> Result<usize, StreamFault> {
        let index = u64_at(event, "/index")
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < self.blocks.len())
            .ok_or_else(|| StreamFault::Malformed("a delta for a block never started".into()))?;
        Ok(index)
    }

    fn append(&mut self, index: usize, key: &str, piece: &str) {
        if let Some(block) = self.blocks[index].as_object_mut() {
            let text = block.entry(key).or_insert_with(|| json!(""));
            if let Some(existing) = text.as_str() {
                *text = json!(format!("{existing}{piece}"));
            }
        }
    }
}

impl StreamDecoder for AnthropicStream {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamDelta>, StreamFault> {
        let json = event_json(event)?;
        let mut deltas = Vec::new();
        match str_at(&json, "/type") {
            Some("message_start") => {
                if let Some(message) = json.get("message").and_then(Value::as_object) {
                    self.message = message.clone();
                }
            }
            Some("content_block_start") => {
                let block = json.get("content_block").cloned().unwrap_or(Value::Null);
                let mut block = block;
                if str_at(&block, "/type") == Some("tool_use") {
                    // The input arrives as JSON text in pieces; it is read at the block's end.
                    if let Some(b) = block.as_object_mut() {
                        b.remove("input");
                    }
                }
                self.blocks.push(block);
                self.partial_json.push(String::new());
            }
            Some("content_block_delta") => {
                let index = self.block(&json)?;
                let delta = json.get("delta").unwrap_or(&Value::Null);
                match str_at(delta, "/type") {
                    Some("text_delta") => {
                        let text = str_at(delta, "/text").unwrap_or_default().to_string();
                        self.append(index, "text", &text);
                        deltas.push(StreamDelta::Answer(text));
                    }
                    Some("thinking_delta") => {
                        let text = str_at(delta, "/thinking").unwrap_or_default().to_string();
                        self.append(index, "thinking", &text);
                        deltas.push(StreamDelta::Thinking(text));
                    }
                    Some("signature_delta") => {
                        let signature = str_at(delta, "/signature").unwrap_or_default();
                        self.append(index, "signature", signature);
                    }
                    Some("input_json_delta") => {
                        let piece = str_at(delta, "/partial_json")
                            .unwrap_or_default()
                            .to_string();
                        self.partial_json[index].push_str(&piece);
                        deltas.push(StreamDelta::Answer(piece));
                    }
                    _ => {}
                }
            }
            Some("content_block_stop") => {
                let index = self.block(&json)?;
                if str_at(&self.blocks[index], "/type") == Some("tool_use") {
                    let text = std::mem::take(&mut self.partial_json[index]);
                    let input = if text.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&text).map_err(|e| {
                            StreamFault::Malformed(format!("a tool input is not JSON: {e}"))
                        })?
                    };
                    if let Some(b) = self.blocks[index].as_object_mut() {
                        b.insert("input".into(), input);
                    }
                }
            }
            Some("message_delta") => {
                if let Some(delta) = json.get("delta").and_then(Value::as_object) {
                    for (key, value) in delta {
                        self.message.insert(key.clone(), value.clone());
                    }
                }
                if let Some(usage) = json.get("usage").and_then(Value::as_object) {
                    let merged = self.message.entry("usage").or_insert_with(|| json!({}));
                    if let Some(merged) = merged.as_object_mut() {
                        for (key, value) in usage {
                            if !value.is_null() {
                                merged.insert(key.clone(), value.clone());
                            }
                        }
                    }
                }
            }
            Some("message_stop") => self.stopped = true,
            Some("error") => return Err(StreamFault::Provider(json)),
            _ => {}
        }
        Ok(deltas)
    }

    fn is_complete(&self) -> bool {
        self.stopped
    }

    fn body(&self) -> Value {
        let mut message = self.message.clone();
        message.insert("content".into(), Value::Array(self.blocks.clone()));
        Value::Object(message)
    }
}

/// The API version header value this adapter speaks.
pub const API_VERSION: &str = "2023-06-01";

/// Normalized usage, or `None` when the response has none.
///
/// Anthropic's `input_tokens` excludes cache reads and writes, so all three are added up.
/// Thinking is billed inside `output_tokens`; its share is read from
/// `output_tokens_details.thinking_tokens` where the API gives it, and is unknown (not 0) when
/// the reply `thought` but carries no such count.
fn usage(json: &Value, thought: bool) -> Option<Usage> {
    let u = json.get("usage").filter(|u| u.is_object())?;
    let uncached = u64_at(u, "/input_tokens");
    let output = u64_at(u, "/output_tokens");
    if uncached.is_none() && output.is_none() {
        return None;
    }
    let read = u64_at(u, "/cache_read_input_tokens").unwrap_or(0);
    let write = u64_at(u, "/cache_creation_input_tokens").unwrap_or(0);
    let input = uncached.unwrap_or(0) + read + write;
    let output = output.unwrap_or(0);
    let thinking = u64_at(u, "/output_tokens_details/thinking_tokens");
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input.saturating_add(output),
        cache_read_tokens: read,
        cache_write_tokens: write,
        reasoning_tokens: thinking.unwrap_or(0).min(output),
        reasoning_tokens_unknown: thought && thinking.is_none(),
    })
}

fn error_fields(json: &Value, status: u16, body: &str) -> (String, Option<String>) {
    let error_type = str_at(json, "/error/type").map(str::to_string);
    let message = str_at(json, "/error/message")
        .map(str::to_string)
        .unwrap_or_else(|| fallback_detail(status, body));
    (message, error_type)
}

/// The status Anthropic documents for an error type (for errors that arrive inside a 200).
fn status_for_type(error_type: Option<&str>) -> Option<u16> {
    Some(match error_type? {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "overloaded_error" => 529,
        _ => return None,
    })
}

fn classify(status: u16, message: &str, error_type: Option<&str>) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    match error_type {
        Some("authentication_error") => return ErrorKind::Auth,
        Some("permission_error") => return ErrorKind::PermissionDenied,
        Some("billing_error") => return ErrorKind::QuotaExceeded,
        Some("rate_limit_error") => return ErrorKind::RateLimited,
        Some("overloaded_error") => return ErrorKind::Overloaded,
        Some("not_found_error") if lower.starts_with("model:") || lower.contains("model") => {
            return ErrorKind::ModelNotFound
        }
        _ => {}
    }
    // NOTE: context overflows are `invalid_request_error`s whose message says so:
    // "prompt is too long: 208310 tokens > 200000 maximum", or "input length and `max_tokens`
    // exceed context limit".
    if (400..500).contains(&status)
        && (lower.contains("prompt is too long") || lower.contains("exceed context limit"))
    {
        return ErrorKind::ContextLength;
    }
    ErrorKind::from_status(status)
}

//! Cohere Chat API v2.
//!
//! API reference: <https://docs.cohere.com/reference/chat>.

use serde_json::{json, Map, Value};

use super::support::{
    endpoint, error_json, fallback_detail, messages_with_system, parse_json, str_at, u64_at,
    with_body_fields,
};
use super::Adapter;
use crate::core::llm::chat::{
    ChatRequest, ChatResponse, FinishKind, HttpRequest, HttpResponse, StructuredMode,
};
use crate::core::llm::error::{ErrorKind, LlmError};
use crate::core::llm::reasoning::Thinking;
use crate::core::llm::sse::SseEvent;
use crate::core::llm::stream::{event_json, StreamDecoder, StreamDelta, StreamFault};
use crate::core::llm::usage::Usage;

/// The Cohere v2 chat family.
#[derive(Debug, Clone, Copy, Default)]
pub struct CohereAdapter;

impl Adapter for CohereAdapter {
    /// Builds `POST {base_url}/chat` with `Authorization: Bearer`.
    ///
    /// - The system prompt is the first message, with role `system`.
    /// - Structured output (`Native`, and `JsonObjectSchema` which means the same here):
    ///   `response_format: {type: "json_object", json_schema: schema}`. `PromptOnly` adds nothing.
    /// - Reasoning: `thinking: {type: "enabled", token_budget}`, the budget taken within
    ///   `max_tokens`. Off sends nothing.
    fn build_request(&self, base_url: &str, api_key: &str, request: &ChatRequest) -> HttpRequest {
        let messages = messages_with_system(request);

        let mut body = Map::new();
        body.insert("model".into(), json!(request.model));
        body.insert("messages".into(), Value::Array(messages));
        body.insert("temperature".into(), json!(request.temperature));
        body.insert("max_tokens".into(), json!(request.max_tokens));
        if let Some(budget) = request.reasoning.budget_within(request.max_tokens) {
            // NOTE: reasoning models take `thinking: {type, token_budget}`.
            // https://docs.cohere.com/reference/chat#request.body.thinking
            // https://docs.cohere.com/docs/reasoning
            body.insert(
                "thinking".into(),
                json!({"type": "enabled", "token_budget": budget}),
            );
        }
        if let Some(spec) = &request.structured {
            if spec.mode != StructuredMode::PromptOnly {
                // NOTE: https://docs.cohere.com/docs/structured-outputs#json-schema-mode
                body.insert(
                    "response_format".into(),
                    json!({"type": "json_object", "json_schema": spec.schema}),
                );
            }
        }

        HttpRequest {
            method: "POST".to_string(),
            url: endpoint(base_url, "/chat"),
            headers: vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("authorization".to_string(), format!("Bearer {api_key}")),
            ],
            body: Value::Object(body).to_string(),
        }
    }

    /// The same request with `stream: true`.
    // NOTE: https://docs.cohere.com/reference/chat-stream
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
        Box::<CohereStream>::default()
    }

    /// Reads a v2 chat response (`message.content[].text`, `finish_reason`, `usage`); errors name
    /// `provider`.
    fn parse_reply(&self, provider: &str, body: &str) -> Result<ChatResponse, LlmError> {
        let json = parse_json(provider, body)?;
        let Some(message) = json.get("message").filter(|m| m.is_object()) else {
            return Err(LlmError::invalid_response(
                provider,
                "no message in the response",
                body,
            ));
        };
        let parts = message
            .get("content")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let joined = |kind: &str| -> String {
            parts
                .iter()
                .filter(|p| str_at(p, "/type") == Some(kind))
                .filter_map(|p| str_at(p, &format!("/{kind}")))
                .collect()
        };
        // The `thinking` parts of reasoning models are the reply's thinking, not its text.
        let text = joined("text");
        let thought = joined("thinking");
        let thinking = (!thought.is_empty()).then_some(Thinking::Text(thought));
        let finish_reason = str_at(&json, "/finish_reason").map(str::to_string);
        let finish = match finish_reason.as_deref() {
            Some("COMPLETE" | "STOP_SEQUENCE") => FinishKind::Stop,
            Some("MAX_TOKENS") => FinishKind::Length,
            // NOTE: API v1 reported filtered generations as `ERROR_TOXIC`.
            // https://docs.cohere.com/v1/reference/chat
            Some("ERROR_TOXIC") => FinishKind::Refusal,
            _ => FinishKind::Other,
        };
        let refusal = (finish == FinishKind::Refusal)
            .then(|| "Cohere's safety filter stopped the reply (ERROR_TOXIC)".to_string());
        Ok(ChatResponse {
            text,
            finish,
            finish_reason,
            // Cohere bills thinking as output without a separate count.
            usage: usage(&json).map(|mut u| {
                u.reasoning_tokens_unknown = thinking.is_some();
                u
            }),
            refusal,
            thinking,
        })
    }

    /// Classifies an unsuccessful response from `{"id", "message"}`.
    ///
    /// Statuses and messages: <https://docs.cohere.com/reference/errors>.
    fn parse_error(&self, provider: &str, response: &HttpResponse) -> LlmError {
        let json = error_json(response);
        let detail = str_at(&json, "/message")
            .map(str::to_string)
            .unwrap_or_else(|| fallback_detail(response.status, &response.body));
        let kind = classify(response.status, &detail);
        LlmError::from_http(provider, response.status, kind, &detail, None)
    }
}

/// A v2 chat stream: `message-start`, per content part a `content-start` (its `type`, `text` or
/// `thinking`), `content-delta`s and a `content-end`, then `message-end` with the finish reason
/// and usage.
// NOTE: https://docs.cohere.com/docs/streaming (v2 event types)
#[derive(Debug, Default)]
struct CohereStream {
    id: Option<Value>,
    parts: Vec<Value>,
    finish_reason: Option<Value>,
    usage: Option<Value>,
    ended: bool,
}

impl StreamDecoder for CohereStream {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamDelta>, StreamFault> {
        let json = event_json(event)?;
        let content = json.pointer("/delta/message/content");
        let mut deltas = Vec::new();
        match str_at(&json, "/type") {
            Some("message-start") => self.id = json.get("id").cloned(),
            Some("content-start") => {
                let kind = content.and_then(|c| str_at(c, "/type")).unwrap_or("text");
                let mut part = Map::new();
                part.insert("type".into(), json!(kind));
                part.insert(kind.into(), json!(""));
                self.parts.push(Value::Object(part));
                deltas.extend(self.append(content));
            }
            Some("content-delta") => deltas.extend(self.append(content)),
            Some("message-end") => {
                self.ended = true;
                self.finish_reason = json.pointer("/delta/finish_reason").cloned();
                self.usage = json.pointer("/delta/usage").cloned();
            }
            _ => {}
        }
        Ok(deltas)
    }

    fn is_complete(&self) -> bool {
        self.ended
    }

    fn body(&self) -> Value {
        let mut body = Map::new();
        if let Some(id) = &self.id {
            body.insert("id".into(), id.clone());
        }
        body.insert(
            "finish_reason".into(),
            self.finish_reason.clone().unwrap_or(Value::Null),
        );
        body.insert(
            "message".into(),
            json!({"role": "assistant", "content": self.parts}),
        );
        if let Some(usage) = &self.usage {
            body.insert("usage".into(), usage.clone());
        }
        Value::Object(body)
    }
}

impl CohereStream {
    /// Appends a delta's `text` or `thinking` to the current part.
    fn append(&mut self, content: Option<&Value>) -> Option<StreamDelta> {
        let content = content?;
        let part = self.parts.last_mut()?.as_object_mut()?;
        for (key, wrap) in [
            (
                "thinking",
                StreamDelta::Thinking as fn(String) -> StreamDelta,
            ),
            ("text", StreamDelta::Answer),
        ] {
            if let Some(piece) = content.get(key).and_then(Value::as_str) {
                let joined = format!(
                    "{}{piece}",
                    part.get(key).and_then(Value::as_str).unwrap_or_default()
                );
                part.insert(key.into(), json!(joined));
                return (!piece.is_empty()).then(|| wrap(piece.to_string()));
            }
        }
        None
    }
}

/// Normalized usage, or `None` when the response has none.
///
/// Counts `usage.billed_units`, what Cohere bills, so that costs are what the invoice says;
/// `usage.tokens` (what the model processed, which also counts tokens Cohere does not bill,
/// such as its own prompt wrapping) stands in only when a reply has no billed units.
/// `usage.cached_tokens` counts processed prompt tokens read from Cohere's cache: part of
/// `tokens`, not of the billed units, so it is a cache read only where `tokens` is counted.
// NOTE: https://docs.cohere.com/reference/chat (response `usage`: `billed_units` and
// `tokens`), https://docs.cohere.com/docs/how-does-cohere-pricing-work (billed units).
fn usage(json: &Value) -> Option<Usage> {
    let u = json.get("usage").filter(|u| u.is_object())?;
    let read = |section: &str| {
        let input = u64_at(u, &format!("/{section}/input_tokens"));
        let output = u64_at(u, &format!("/{section}/output_tokens"));
        (input.is_some() || output.is_some()).then(|| (input.unwrap_or(0), output.unwrap_or(0)))
    };
    let (input, output, cached) = match read("billed_units") {
        Some((input, output)) => (input, output, 0),
        None => {
            let (input, output) = read("tokens")?;
            (input, output, u64_at(u, "/cached_tokens").unwrap_or(0))
        }
    };
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input.saturating_add(output),
        cache_read_tokens: cached.min(input),
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        reasoning_tokens_unknown: false,
    })
}

fn classify(status: u16, message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    match status {
        // NOTE: "too many tokens: size limit exceeded by 11326 tokens", "... total number of
        // tokens in the prompt cannot exceed 4081"; but "too many tokens: max tokens must be
        // less than or equal to 4096" is about max_tokens alone.
        400 if lower.starts_with("too many tokens") && !lower.contains("max tokens must") => {
            ErrorKind::ContextLength
        }
        404 if lower.contains("model") => ErrorKind::ModelNotFound,
        // NOTE: trial keys also have a monthly cap ("limited to 1000 API calls / month") that
        // no short wait lifts.
        429 if lower.contains("/ month") || lower.contains("per month") => ErrorKind::QuotaExceeded,
        _ => ErrorKind::from_status(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processed_tokens_count_only_without_billed_units() {
        let processed = json!({"usage": {"tokens": {"input_tokens": 40, "output_tokens": 5}, "cached_tokens": 32}});
        let u = usage(&processed).unwrap();
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.cache_read_tokens),
            (40, 5, 32)
        );
        let both = json!({"usage": {
            "billed_units": {"input_tokens": 8, "output_tokens": 5},
            "tokens": {"input_tokens": 40, "output_tokens": 5},
            "cached_tokens": 32
        }});
        let u = usage(&both).unwrap();
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.cache_read_tokens),
            (8, 5, 0)
        );
        assert_eq!(usage(&json!({"usage": {}})), None);
    }
}

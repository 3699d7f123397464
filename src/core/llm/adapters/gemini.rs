//! Google Gemini API, `models.generateContent`.
//!
//! API reference: <https://ai.google.dev/api/generate-content>.

use serde_json::{json, Map, Value};

use super::support::{
    endpoint, error_json, fallback_detail, parse_duration_secs_ms, parse_json, str_at, u64_at,
};
use super::Adapter;
use crate::core::llm::chat::{
    ChatRequest, ChatResponse, ChatRole, FinishKind, HttpRequest, HttpResponse, StructuredMode,
};
use crate::core::llm::error::{ErrorKind, LlmError};
use crate::core::llm::reasoning::{Reasoning, Thinking};
use crate::core::llm::sse::SseEvent;
use crate::core::llm::stream::{event_json, StreamDecoder, StreamDelta, StreamFault};
use crate::core::llm::usage::Usage;

/// The Gemini `generateContent` family.
#[derive(Debug, Clone, Copy, Default)]
pub struct GeminiAdapter;

impl Adapter for GeminiAdapter {
    /// Builds `POST {base_url}/models/{model}:generateContent`.
    ///
    /// - The key goes in the `x-goog-api-key` header, never in the URL (URLs end up in logs and
    ///   trajectories).
    /// - The system prompt is `systemInstruction`; turns are `contents` with roles `user` / `model`.
    /// - `generationConfig` carries `temperature` and `maxOutputTokens`.
    /// - Structured output (`Native`, and `JsonObjectSchema` which means the same here):
    ///   `responseMimeType: "application/json"` with the schema as `responseJsonSchema`.
    ///   `PromptOnly` adds nothing.
    /// - Reasoning: `generationConfig.thinkingConfig` with `includeThoughts: true` and a
    ///   `thinkingBudget` (Gemini 2.5; an effort is a share of `max_tokens`), or a
    ///   `thinkingLevel` for an effort on Gemini 3. Off sends nothing (the model's default).
    ///
    /// `responseJsonSchema` takes standard JSON Schema, so the schema is sent unchanged. The older
    /// `responseSchema` takes an OpenAPI subset that rejects keywords such as
    /// `additionalProperties`, which the strict schemas for other providers need.
    fn build_request(&self, base_url: &str, api_key: &str, request: &ChatRequest) -> HttpRequest {
        let contents: Vec<Value> = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    ChatRole::User => "user",
                    ChatRole::Assistant => "model",
                };
                json!({"role": role, "parts": [{"text": m.content}]})
            })
            .collect();

        let mut config = Map::new();
        config.insert("temperature".into(), json!(request.temperature));
        config.insert("maxOutputTokens".into(), json!(request.max_tokens));
        if let Some(thinking) =
            thinking_config(&request.model, request.reasoning, request.max_tokens)
        {
            config.insert("thinkingConfig".into(), thinking);
        }
        if let Some(spec) = &request.structured {
            if spec.mode != StructuredMode::PromptOnly {
                // NOTE: `responseJsonSchema` accepts JSON Schema including `additionalProperties`
                // and `$ref`/`$defs`. https://ai.google.dev/gemini-api/docs/structured-output
                config.insert("responseMimeType".into(), json!("application/json"));
                config.insert("responseJsonSchema".into(), spec.schema.clone());
            }
        }

        let mut body = Map::new();
        body.insert("contents".into(), Value::Array(contents));
        if !request.system.is_empty() {
            body.insert(
                "systemInstruction".into(),
                json!({"parts": [{"text": request.system}]}),
            );
        }
        body.insert("generationConfig".into(), Value::Object(config));

        let model = request.model.trim();
        let model = model.strip_prefix("models/").unwrap_or(model);
        HttpRequest {
            method: "POST".to_string(),
            url: endpoint(
                base_url,
                &format!("/models/{}:generateContent", path_segment(model)),
            ),
            headers: vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("x-goog-api-key".to_string(), api_key.to_string()),
            ],
            body: Value::Object(body).to_string(),
        }
    }

    /// `models/{model}:streamGenerateContent?alt=sse`, the same body.
    // NOTE: https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
    fn build_stream_request(
        &self,
        base_url: &str,
        api_key: &str,
        request: &ChatRequest,
    ) -> HttpRequest {
        let mut http = self.build_request(base_url, api_key, request);
        if let Some(base) = http.url.strip_suffix(":generateContent") {
            http.url = format!("{base}:streamGenerateContent?alt=sse");
        }
        http
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        Box::<GeminiStream>::default()
    }

    /// Reads a `GenerateContentResponse`; errors name `provider`.
    ///
    /// The text joins the first candidate's text parts, skipping thought summaries, which are
    /// the reply's thinking (kept as parts when they carry a `thoughtSignature`). A prompt
    /// blocked by `promptFeedback.blockReason`, and a candidate stopped for safety, recitation or
    /// prohibited content, are refusals.
    fn parse_reply(&self, provider: &str, body: &str) -> Result<ChatResponse, LlmError> {
        let json = parse_json(provider, body)?;
        let usage = usage(&json);
        let Some(candidate) = json.pointer("/candidates/0") else {
            if let Some(reason) = str_at(&json, "/promptFeedback/blockReason") {
                return Ok(ChatResponse {
                    text: String::new(),
                    finish: FinishKind::Refusal,
                    finish_reason: Some(reason.to_string()),
                    usage,
                    refusal: Some(format!("Gemini blocked the prompt ({reason})")),
                    thinking: None,
                });
            }
            return Err(LlmError::invalid_response(
                provider,
                "no candidates in the response",
                body,
            ));
        };
        let parts = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let is_thought = |p: &&Value| p.get("thought").and_then(Value::as_bool) == Some(true);
        let text: String = parts
            .iter()
            .filter(|p| !is_thought(p))
            .filter_map(|p| str_at(p, "/text"))
            .collect();
        let thoughts: Vec<&Value> = parts.iter().filter(is_thought).collect();
        let thinking = if thoughts.is_empty() {
            None
        } else if thoughts.iter().any(|p| p.get("thoughtSignature").is_some()) {
            Some(Thinking::Blocks(thoughts.into_iter().cloned().collect()))
        } else {
            Some(Thinking::Text(
                thoughts.iter().filter_map(|p| str_at(p, "/text")).collect(),
            ))
        };
        let usage = usage.map(|mut u| {
            u.reasoning_tokens_unknown = thinking.is_some() && !reports_thoughts(&json);
            u
        });
        let finish_reason = str_at(candidate, "/finishReason").map(str::to_string);
        // NOTE: FinishReason values: https://ai.google.dev/api/generate-content#FinishReason
        let finish = match finish_reason.as_deref() {
            Some("STOP") => FinishKind::Stop,
            Some("MAX_TOKENS") => FinishKind::Length,
            Some(
                "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII"
                | "IMAGE_SAFETY",
            ) => FinishKind::Refusal,
            _ => FinishKind::Other,
        };
        let refusal = (finish == FinishKind::Refusal).then(|| {
            format!(
                "Gemini blocked the reply ({})",
                finish_reason.as_deref().unwrap_or_default()
            )
        });
        Ok(ChatResponse {
            text,
            finish,
            finish_reason,
            usage,
            refusal,
            thinking,
        })
    }

    /// Classifies an unsuccessful response from `{"error": {"code", "message", "status",
    /// "details"}}`.
    ///
    /// Error codes: <https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes>.
    fn parse_error(&self, provider: &str, response: &HttpResponse) -> LlmError {
        let json = error_json(response);
        let detail = str_at(&json, "/error/message")
            .map(str::to_string)
            .unwrap_or_else(|| fallback_detail(response.status, &response.body));
        let details = json
            .pointer("/error/details")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let reason = details.iter().find_map(|d| str_at(d, "/reason"));
        let kind = classify(response.status, &detail, reason);
        // NOTE: quota errors say when to come back in a `google.rpc.RetryInfo` detail
        // (`"retryDelay": "34.4s"`) rather than in a header (a header, when sent, still wins).
        let retry_after = details
            .iter()
            .find_map(|d| str_at(d, "/retryDelay"))
            .and_then(parse_duration_secs_ms);
        LlmError::from_http(provider, response.status, kind, &detail, retry_after)
    }
}

/// A `streamGenerateContent` stream: each event a `GenerateContentResponse` holding the next
/// parts of the first candidate; the last carries `finishReason`, and `usageMetadata` counts
/// everything so far. Consecutive text parts of one kind (thought or answer) are joined into
/// one, as a non-streamed reply holds them.
#[derive(Debug, Default)]
struct GeminiStream {
    parts: Vec<Value>,
    finish_reason: Option<Value>,
    usage: Option<Value>,
    prompt_feedback: Option<Value>,
    model_version: Option<Value>,
}

impl StreamDecoder for GeminiStream {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamDelta>, StreamFault> {
        let json = event_json(event)?;
        if json.get("error").is_some_and(|e| !e.is_null()) {
            return Err(StreamFault::Provider(json));
        }
        for (key, slot) in [
            ("usageMetadata", &mut self.usage),
            ("promptFeedback", &mut self.prompt_feedback),
            ("modelVersion", &mut self.model_version),
        ] {
            if let Some(value) = json.get(key) {
                *slot = Some(value.clone());
            }
        }
        let mut deltas = Vec::new();
        let Some(candidate) = json.pointer("/candidates/0") else {
            return Ok(deltas);
        };
        if let Some(reason) = candidate.get("finishReason") {
            self.finish_reason = Some(reason.clone());
        }
        let parts = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for part in parts {
            let thought = part.get("thought").and_then(Value::as_bool) == Some(true);
            if let Some(text) = str_at(part, "/text") {
                deltas.push(if thought {
                    StreamDelta::Thinking(text.to_string())
                } else {
                    StreamDelta::Answer(text.to_string())
                });
            }
            let joins = self.parts.last().is_some_and(|last| {
                let last_thought = last.get("thought").and_then(Value::as_bool) == Some(true);
                last_thought == thought
                    && last.get("text").is_some()
                    && part.get("text").is_some()
                    && last.get("thoughtSignature").is_none()
            });
            match (joins, self.parts.last_mut().and_then(Value::as_object_mut)) {
                (true, Some(last)) => {
                    let joined = format!(
                        "{}{}",
                        last.get("text").and_then(Value::as_str).unwrap_or_default(),
                        str_at(part, "/text").unwrap_or_default()
                    );
                    last.insert("text".into(), json!(joined));
                    if let Some(signature) = part.get("thoughtSignature") {
                        last.insert("thoughtSignature".into(), signature.clone());
                    }
                }
                _ => self.parts.push(part.clone()),
            }
        }
        Ok(deltas)
    }

    fn is_complete(&self) -> bool {
        self.finish_reason.is_some()
            || self
                .prompt_feedback
                .as_ref()
                .is_some_and(|f| f.get("blockReason").is_some())
    }

    fn body(&self) -> Value {
        let mut body = Map::new();
        if self.finish_reason.is_some() || !self.parts.is_empty() {
            let mut candidate = Map::new();
            candidate.insert(
                "content".into(),
                json!({"parts": self.parts, "role": "model"}),
            );
            if let Some(reason) = &self.finish_reason {
                candidate.insert("finishReason".into(), reason.clone());
            }
            candidate.insert("index".into(), json!(0));
            body.insert("candidates".into(), json!([candidate]));
        }
        for (key, value) in [
            ("usageMetadata", &self.usage),
            ("promptFeedback", &self.prompt_feedback),
            ("modelVersion", &self.model_version),
        ] {
            if let Some(value) = value {
                body.insert(key.into(), value.clone());
            }
        }
        Value::Object(body)
    }
}

/// The `thinkingConfig` for `reasoning`, or `None` when off.
// NOTE: ThinkingConfig: `includeThoughts`, `thinkingBudget` (Gemini 2.5), `thinkingLevel`
// (Gemini 3, which recommends it over a budget).
// https://ai.google.dev/api/generate-content#ThinkingConfig
// https://ai.google.dev/gemini-api/docs/thinking
fn thinking_config(model: &str, reasoning: Reasoning, max_tokens: u32) -> Option<Value> {
    let budget = reasoning.budget_within(max_tokens)?;
    let model = model.trim().trim_start_matches("models/");
    match reasoning.effort_name() {
        Some(level) if model.starts_with("gemini-3") => {
            Some(json!({"includeThoughts": true, "thinkingLevel": level}))
        }
        _ => Some(json!({"includeThoughts": true, "thinkingBudget": budget})),
    }
}

/// Whether `usageMetadata` counts thoughts.
fn reports_thoughts(json: &Value) -> bool {
    u64_at(json, "/usageMetadata/thoughtsTokenCount").is_some()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Normalized usage from `usageMetadata`, or `None` when the response has none.
///
/// `promptTokenCount` already includes `cachedContentTokenCount`; tool-use prompt tokens are
/// input too. `thoughtsTokenCount` is billed as output but reported apart from
/// `candidatesTokenCount`, so it is added in.
fn usage(json: &Value) -> Option<Usage> {
    let u = json.get("usageMetadata").filter(|u| u.is_object())?;
    let prompt = u64_at(u, "/promptTokenCount");
    let candidates = u64_at(u, "/candidatesTokenCount");
    let thoughts = u64_at(u, "/thoughtsTokenCount");
    if prompt.is_none() && candidates.is_none() && thoughts.is_none() {
        return None;
    }
    let input = prompt.unwrap_or(0) + u64_at(u, "/toolUsePromptTokenCount").unwrap_or(0);
    let thoughts = thoughts.unwrap_or(0);
    let output = candidates.unwrap_or(0) + thoughts;
    let cached = u64_at(u, "/cachedContentTokenCount").unwrap_or(0);
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input.saturating_add(output),
        cache_read_tokens: cached.min(input),
        cache_write_tokens: 0,
        reasoning_tokens: thoughts,
        reasoning_tokens_unknown: false,
    })
}

fn classify(status: u16, message: &str, reason: Option<&str>) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    // NOTE: a bad key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID, not a 401.
    if matches!(reason, Some("API_KEY_INVALID" | "API_KEY_EXPIRED"))
        || lower.contains("api key not valid")
        || lower.contains("api key not found")
        || lower.contains("api key expired")
    {
        return ErrorKind::Auth;
    }
    match status {
        400 if lower.contains("input token count") && lower.contains("exceeds") => {
            ErrorKind::ContextLength
        }
        404 if lower.contains("model") => ErrorKind::ModelNotFound,
        503 if lower.contains("overloaded") || lower.contains("high demand") => {
            ErrorKind::Overloaded
        }
        _ => ErrorKind::from_status(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_are_path_safe() {
        assert_eq!(path_segment("gemini-2.5-flash"), "gemini-2.5-flash");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }
}

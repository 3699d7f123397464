//! The provider-neutral chat request and response that every adapter maps to and from, and the
//! plain HTTP request/response values that cross the [`Transport`](super::transport) seam.

use serde::{Deserialize, Serialize};

use super::reasoning::{Reasoning, Thinking};
use super::usage::Usage;

/// Who said a message in the conversation sent to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// The user (our rendered prompts, and re-ask instructions).
    User,
    /// The model (its earlier reply, sent back during a re-ask).
    Assistant,
}

/// One message of the conversation (the system prompt travels apart, in [`ChatRequest::system`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who said it.
    pub role: ChatRole,
    /// Plain text.
    pub content: String,
}

/// How the structured output is requested from a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredMode {
    /// The provider's native schema mechanism (OpenAI `json_schema` strict, Anthropic forced tool
    /// call, Cohere `response_format` with a schema, Gemini `responseSchema`).
    Native,
    /// llama.cpp / llama-cpp-python: `response_format: {"type": "json_object", "schema": ...}`.
    JsonObjectSchema,
    /// No mechanism: the schema is described in the prompt and JSON is extracted from the reply.
    PromptOnly,
}

/// The structured output wanted from a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructuredSpec {
    /// A short identifier for the schema (`solver_output`), used as tool / schema name.
    pub name: String,
    /// The JSON Schema of the expected object.
    pub schema: serde_json::Value,
    /// How to ask for it.
    pub mode: StructuredMode,
}

/// A provider-neutral chat request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model name as the provider's API knows it (no `provider/` prefix).
    pub model: String,
    /// System prompt; empty means none is sent.
    pub system: String,
    /// The conversation, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature.
    pub temperature: f64,
    /// Upper bound on generated tokens.
    pub max_tokens: u32,
    /// The structured output wanted, if any.
    pub structured: Option<StructuredSpec>,
    /// How much the model should reason first (each adapter maps it to its family's fields).
    #[serde(default)]
    pub reasoning: Reasoning,
}

/// Why generation stopped, normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishKind {
    /// A natural end (or the forced tool call completed).
    Stop,
    /// Cut off at `max_tokens`: the output is likely truncated.
    Length,
    /// The provider refused or filtered the content.
    Refusal,
    /// Anything else the provider reported.
    Other,
}

/// A provider-neutral chat response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The reply text; for a forced tool call, the tool input serialized as JSON.
    pub text: String,
    /// Normalized stop reason.
    pub finish: FinishKind,
    /// The stop reason exactly as the provider reported it.
    pub finish_reason: Option<String>,
    /// Normalized usage, or `None` when the response carried none.
    pub usage: Option<Usage>,
    /// The provider's refusal message, when it gave one.
    pub refusal: Option<String>,
    /// What the model thought before answering, when the provider returned it.
    #[serde(default)]
    pub thinking: Option<Thinking>,
}

/// An HTTP request, as plain data. Adapters build it; a transport sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// `POST` or `GET`.
    pub method: String,
    /// The full URL. Never carries an API key (Gemini's key goes in a header).
    pub url: String,
    /// Header name/value pairs, in the order they were added.
    pub headers: Vec<(String, String)>,
    /// The JSON body (empty for `GET`).
    pub body: String,
}

/// An HTTP response, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header name/value pairs the page could read (CORS may hide some), names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body text.
    pub body: String,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

//! Why an LLM call failed: one [`LlmError`] carrying a machine-readable [`ErrorKind`], the
//! provider, the HTTP status, the provider's own words and the wait it asked for.
//!
//! `Display` states what happened, as plain facts. What a user should do about it (which
//! setting to change, whether to wait) is the page's business, decided from the kind; provider
//! quirks (which error codes mean what) live in the adapters.

use super::transport::TransportError;
use crate::core::redact::Redactor;
use crate::core::text::excerpt;

/// Longest detail kept as evidence in an error (a provider message, a body excerpt), in
/// characters.
pub const DETAIL_CHARS: usize = 500;

/// What kind of failure an [`LlmError`] is.
///
/// [`ErrorKind::as_str`] is the stable name stored as a failed step's `error_type`; the names
/// are those Trialogue has always written, so stored trajectories keep reading the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The run was cancelled while the call was in flight.
    Cancelled,
    /// No API key is configured for a provider that needs one (found before any request).
    MissingKey,
    /// The request never got an HTTP answer: offline, DNS, refused connection, or a CORS block
    /// (the browser reports all of them the same way).
    Network,
    /// No answer within the request timeout.
    Timeout,
    /// The API key was rejected.
    Auth,
    /// The key is valid but may not use this model, feature or region.
    PermissionDenied,
    /// The provider does not know the model (or the key cannot see it).
    ModelNotFound,
    /// A 404 that is not about the model: usually a wrong base URL.
    NotFound,
    /// Too many requests for now; waiting helps.
    RateLimited,
    /// Credit, billing or a long-period quota is exhausted; waiting seconds does not help.
    QuotaExceeded,
    /// The provider is temporarily overloaded (Anthropic 529, Gemini 503 "overloaded").
    Overloaded,
    /// The prompt plus `max_tokens` does not fit the model's context window.
    ContextLength,
    /// The provider rejected the request as invalid (a parameter, the schema, the messages).
    BadRequest,
    /// The provider failed on its side (5xx).
    Server,
    /// Any other unsuccessful HTTP status (408, 409, 499, a redirect, ...).
    Http,
    /// A successful status with a body that is not the expected response.
    InvalidResponse,
    /// The model declined to answer, or the provider's safety system blocked the reply.
    Refusal,
    /// The reply stopped at `max_tokens` before the output was complete.
    Truncated,
    /// The reply still did not validate after every re-ask.
    InvalidOutput,
    /// The configured model string names no provider that can be called (found before any
    /// request).
    UnknownModel,
    /// The agent's settings ask for something the provider's API family does not take (a
    /// reasoning budget OpenAI refuses, say), found before any request.
    Unsupported,
    /// The provider's settings are not usable (a base URL Settings would reject), found before
    /// any request so that a key is never sent where it must not go.
    InvalidSettings,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 22] = [
        ErrorKind::Cancelled,
        ErrorKind::MissingKey,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::Auth,
        ErrorKind::PermissionDenied,
        ErrorKind::ModelNotFound,
        ErrorKind::NotFound,
        ErrorKind::RateLimited,
        ErrorKind::QuotaExceeded,
        ErrorKind::Overloaded,
        ErrorKind::ContextLength,
        ErrorKind::BadRequest,
        ErrorKind::Server,
        ErrorKind::Http,
        ErrorKind::InvalidResponse,
        ErrorKind::Refusal,
        ErrorKind::Truncated,
        ErrorKind::InvalidOutput,
        ErrorKind::UnknownModel,
        ErrorKind::Unsupported,
        ErrorKind::InvalidSettings,
    ];

    /// The stable machine-readable name (`RateLimited`, `Timeout`, …), stored as a failed step's
    /// `error_type` in the role the exception class name played in the original's error steps.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Cancelled => "Cancelled",
            ErrorKind::MissingKey => "MissingKey",
            ErrorKind::Network => "Network",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Auth => "Auth",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::ModelNotFound => "ModelNotFound",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::RateLimited => "RateLimited",
            ErrorKind::QuotaExceeded => "QuotaExceeded",
            ErrorKind::Overloaded => "Overloaded",
            ErrorKind::ContextLength => "ContextLength",
            ErrorKind::BadRequest => "BadRequest",
            ErrorKind::Server => "Server",
            ErrorKind::Http => "Http",
            ErrorKind::InvalidResponse => "InvalidResponse",
            ErrorKind::Refusal => "Refusal",
            ErrorKind::Truncated => "Truncated",
            ErrorKind::InvalidOutput => "InvalidOutput",
            ErrorKind::UnknownModel => "UnknownModel",
            ErrorKind::Unsupported => "Unsupported",
            ErrorKind::InvalidSettings => "InvalidSettings",
        }
    }

    /// The kind a stored `error_type` names, or `None` for a name Trialogue never wrote (the
    /// original's exception class names, say).
    ///
    /// Also reads `invalid_output`, which earlier versions wrote when the loop itself found an
    /// output without the expected fields.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        if name == "invalid_output" {
            return Some(ErrorKind::InvalidOutput);
        }
        ErrorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// The meaning of an unsuccessful status code on its own, when the body says nothing more
    /// specific.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            401 => ErrorKind::Auth,
            402 => ErrorKind::QuotaExceeded,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            529 => ErrorKind::Overloaded,
            400 | 413 | 422 => ErrorKind::BadRequest,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Http,
        }
    }

    /// Whether the provider's requested wait (`Retry-After`) is kept for this kind: the kinds
    /// that say "come back later".
    fn honours_retry_after(self) -> bool {
        matches!(self, ErrorKind::RateLimited | ErrorKind::Overloaded)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an LLM call failed.
///
/// Built by the constructors below (adapters use [`LlmError::from_http`]); the provider's words
/// are cut to [`DETAIL_CHARS`] characters.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmError {
    kind: ErrorKind,
    provider: Option<String>,
    status: Option<u16>,
    detail: String,
    retry_after_ms: Option<u64>,
}

impl LlmError {
    fn new(kind: ErrorKind, provider: Option<&str>, detail: impl Into<String>) -> LlmError {
        LlmError {
            kind,
            provider: provider.map(str::to_string),
            status: None,
            detail: detail.into(),
            retry_after_ms: None,
        }
    }

    /// The run was cancelled while the call was in flight.
    pub fn cancelled() -> LlmError {
        LlmError::new(ErrorKind::Cancelled, None, "")
    }

    /// `provider` needs an API key and has none.
    pub fn missing_key(provider: &str) -> LlmError {
        LlmError::new(ErrorKind::MissingKey, Some(provider), "")
    }

    /// `provider`'s settings are not usable; `problems` are what Settings' check says.
    pub fn invalid_settings(provider: &str, problems: &str) -> LlmError {
        LlmError::new(ErrorKind::InvalidSettings, Some(provider), problems)
    }

    /// The request to `provider` got no HTTP answer; `message` is what the transport said.
    pub fn network(provider: &str, message: &str) -> LlmError {
        LlmError::new(
            ErrorKind::Network,
            Some(provider),
            excerpt(message, DETAIL_CHARS),
        )
    }

    /// `provider` did not answer within `timeout_ms`.
    pub fn timeout(provider: &str, timeout_ms: u64) -> LlmError {
        let detail = format!("{} s", timeout_ms.div_ceil(1000));
        LlmError::new(ErrorKind::Timeout, Some(provider), detail)
    }

    /// A request to `provider` that got no HTTP response: the one place a [`TransportError`]
    /// becomes an [`LlmError`].
    pub fn from_transport(provider: &str, error: &TransportError, timeout_ms: u64) -> LlmError {
        match error {
            TransportError::Cancelled => LlmError::cancelled(),
            TransportError::Timeout => LlmError::timeout(provider, timeout_ms),
            TransportError::Network(message) => LlmError::network(provider, message),
            TransportError::TooLarge { .. } => {
                LlmError::invalid_response(provider, error.to_string(), "")
            }
        }
    }

    /// An unsuccessful HTTP answer from `provider`, once an adapter has classified it.
    ///
    /// `detail` is the provider's message (cut to [`DETAIL_CHARS`] characters). The wait the
    /// provider asked for is kept only for the kinds where waiting helps (rate limits,
    /// overload).
    pub fn from_http(
        provider: &str,
        status: u16,
        kind: ErrorKind,
        detail: &str,
        retry_after_ms: Option<u64>,
    ) -> LlmError {
        LlmError {
            kind,
            provider: Some(provider.to_string()),
            status: Some(status),
            detail: excerpt(detail, DETAIL_CHARS),
            retry_after_ms: retry_after_ms.filter(|_| kind.honours_retry_after()),
        }
    }

    /// A successful status whose body is not what `provider` should send: `what` was wrong, and
    /// the start of `body` is kept as evidence.
    pub fn invalid_response(provider: &str, what: impl Into<String>, body: &str) -> LlmError {
        let what = what.into();
        let detail = match excerpt(body, DETAIL_CHARS) {
            start if start.is_empty() => what,
            start => format!("{what}; the body began: {start}"),
        };
        LlmError::new(ErrorKind::InvalidResponse, Some(provider), detail)
    }

    /// The model or `provider`'s safety system declined; `message` is what it gave as reason.
    pub fn refusal(provider: &str, message: &str) -> LlmError {
        LlmError::new(
            ErrorKind::Refusal,
            Some(provider),
            excerpt(message, DETAIL_CHARS),
        )
    }

    /// `provider`'s reply stopped at `max_tokens` before the output was complete.
    pub fn truncated(provider: &str, max_tokens: u32) -> LlmError {
        let detail = format!("it stopped at max_tokens ({max_tokens})");
        LlmError::new(ErrorKind::Truncated, Some(provider), detail)
    }

    /// `provider`'s replies did not validate after every re-ask; `detail` is the last problem.
    pub fn invalid_output(provider: &str, detail: impl Into<String>) -> LlmError {
        LlmError::new(ErrorKind::InvalidOutput, Some(provider), detail)
    }

    /// The model string `model` names no provider that can be called, for `reason`.
    pub fn unknown_model(model: &str, reason: &str) -> LlmError {
        LlmError::new(
            ErrorKind::UnknownModel,
            None,
            format!("`{model}`: {reason}"),
        )
    }

    /// `provider`'s API family cannot take the agent's settings; `reason` says which and what
    /// to change.
    pub fn unsupported(provider: &str, reason: &str) -> LlmError {
        LlmError::new(ErrorKind::Unsupported, Some(provider), reason)
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The provider id the error is about (`openai`, `local`, a custom id), when known.
    pub fn provider(&self) -> Option<&str> {
        self.provider.as_deref()
    }

    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The evidence: the provider's message, what the transport said, the validation problem.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// How long the provider asked us to wait before retrying, if it said.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.retry_after_ms
    }

    /// The same error with every secret `redactor` knows taken out of its evidence (a provider
    /// or proxy may echo the request's headers into its error body).
    pub fn redacted(mut self, redactor: &Redactor) -> LlmError {
        self.detail = redactor.redact_owned(self.detail);
        self
    }

    /// The same error with the wait the provider asked for, when its kind keeps one.
    pub fn with_retry_after(mut self, retry_after_ms: Option<u64>) -> LlmError {
        self.retry_after_ms = retry_after_ms.filter(|_| self.kind.honours_retry_after());
        self
    }

    /// Whether sending the same request again may succeed: network failures, timeouts, 408,
    /// 409, 429 rate limits, 499, 5xx and 529. Never 400, 401, 403, 404 or 422, and never an
    /// exhausted quota (waiting seconds does not refill it).
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ErrorKind::Network
            | ErrorKind::Timeout
            | ErrorKind::RateLimited
            | ErrorKind::Overloaded
            | ErrorKind::Server => true,
            // NOTE: Cohere documents 499 "request cancelled" as "try the request again".
            // https://docs.cohere.com/reference/errors
            ErrorKind::Http => self
                .status
                .is_some_and(|s| matches!(s, 408 | 409 | 499) || s >= 500),
            _ => false,
        }
    }
}

impl LlmError {
    /// Whether the call failed because the provider could not serve it (an outage, an
    /// overload, a rate-limit storm, no connection, credit run out) rather than because of what
    /// the model answered or what the request asked. Such a failure says nothing about the
    /// model: written as the model's reply it would count as a wrong answer, so the loop stops
    /// on it instead, and the same request can be sent again on resume.
    ///
    /// Only meaningful once the retry policy gave up: these are the retryable kinds, plus an
    /// exhausted quota (no retry helps, a top-up does).
    pub fn is_provider_failure(&self) -> bool {
        self.is_retryable() || self.kind == ErrorKind::QuotaExceeded
    }

    /// Whether a request that ended in this error may still be billed: it went out and no
    /// reply said what it cost (a timeout, a connection that failed or dropped, an abort
    /// while in flight). An HTTP error status is a reply, and providers do not bill those.
    pub fn may_have_been_billed(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Timeout | ErrorKind::Network | ErrorKind::Cancelled
        )
    }
}

impl std::fmt::Display for LlmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = label(self.provider.as_deref().unwrap_or("the provider"));
        let status = self.status.map(|s| s.to_string()).unwrap_or_default();
        match self.kind {
            ErrorKind::Cancelled => f.write_str("the call was cancelled")?,
            ErrorKind::MissingKey => write!(f, "{who} has no API key")?,
            ErrorKind::Network => write!(f, "could not reach {who}")?,
            ErrorKind::Timeout => {
                return write!(f, "{who} did not answer within {}", self.detail);
            }
            ErrorKind::Auth => write!(f, "{who} rejected the API key ({status})")?,
            ErrorKind::PermissionDenied => write!(f, "{who} refused access ({status})")?,
            ErrorKind::ModelNotFound => write!(f, "{who} does not know the model ({status})")?,
            ErrorKind::NotFound => write!(f, "{who} answered {status} (not found)")?,
            ErrorKind::RateLimited => {
                write!(f, "{who} rate-limited the call ({status})")?;
                if let Some(ms) = self.retry_after_ms {
                    write!(f, " and asked for a wait of {:.1} s", ms as f64 / 1000.0)?;
                }
            }
            ErrorKind::QuotaExceeded => write!(f, "{who} quota or credit is exhausted ({status})")?,
            ErrorKind::Overloaded => write!(f, "{who} is overloaded ({status})")?,
            ErrorKind::ContextLength => write!(
                f,
                "the prompt and max_tokens exceed the model's context length ({who}, {status})"
            )?,
            ErrorKind::BadRequest => write!(f, "{who} rejected the request ({status})")?,
            ErrorKind::Server => write!(f, "{who} had a server error ({status})")?,
            ErrorKind::Http => write!(f, "{who} answered HTTP {status}")?,
            ErrorKind::InvalidResponse => {
                write!(f, "{who} sent a response that could not be read")?
            }
            ErrorKind::Refusal => write!(f, "{who} refused to answer")?,
            ErrorKind::Truncated => write!(
                f,
                "the reply from {who} was cut off before the output was complete"
            )?,
            ErrorKind::InvalidOutput => write!(
                f,
                "the model's reply did not match the expected format after all re-asks"
            )?,
            ErrorKind::UnknownModel => f.write_str("cannot call model")?,
            ErrorKind::Unsupported => write!(f, "{who} cannot take the agent's settings")?,
            ErrorKind::InvalidSettings => write!(f, "{who} is not set up correctly")?,
        }
        match (self.kind, self.detail.is_empty()) {
            (_, true) => Ok(()),
            (ErrorKind::UnknownModel, false) => write!(f, " {}", self.detail),
            (_, false) => write!(f, ": {}", self.detail),
        }
    }
}

impl std::error::Error for LlmError {}

/// A provider id as a user reads it in a sentence.
fn label(provider: &str) -> &str {
    match provider {
        "openai" => "OpenAI",
        "anthropic" => "Anthropic",
        "cohere" => "Cohere",
        "gemini" => "Gemini",
        "openrouter" => "OpenRouter",
        "local" => "the local server",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_the_stored_ones_and_read_back() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.as_str()), Some(kind));
        }
        // The names stored trajectories hold, written before the kind was a type of its own.
        let stored = [
            "Cancelled",
            "MissingKey",
            "Network",
            "Timeout",
            "Auth",
            "PermissionDenied",
            "ModelNotFound",
            "NotFound",
            "RateLimited",
            "QuotaExceeded",
            "Overloaded",
            "ContextLength",
            "BadRequest",
            "Server",
            "Http",
            "InvalidResponse",
            "Refusal",
            "Truncated",
            "InvalidOutput",
            "UnknownModel",
            "Unsupported",
        ];
        let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names[..stored.len()], stored);
        // Kinds added since keep the older names where they were.
        assert_eq!(names[stored.len()..], ["InvalidSettings"]);
        assert_eq!(
            ErrorKind::from_name("invalid_output"),
            Some(ErrorKind::InvalidOutput)
        );
        assert_eq!(ErrorKind::from_name("RateLimitError"), None);
    }

    #[test]
    fn retryable_table() {
        let http = |status| {
            LlmError::from_http("openai", status, ErrorKind::from_status(status), "x", None)
        };
        for status in [408, 409, 429, 499, 500, 502, 503, 504, 529] {
            assert!(http(status).is_retryable(), "{status} should be retryable");
        }
        for status in [400, 401, 402, 403, 404, 413, 422] {
            assert!(
                !http(status).is_retryable(),
                "{status} should not be retryable"
            );
        }
        assert!(LlmError::network("local", "Failed to fetch").is_retryable());
        assert!(LlmError::timeout("local", 60_000).is_retryable());
        assert!(!LlmError::cancelled().is_retryable());
        let quota = LlmError::from_http("openai", 429, ErrorKind::QuotaExceeded, "x", None);
        assert!(!quota.is_retryable());
        let context = LlmError::from_http("openai", 400, ErrorKind::ContextLength, "x", None);
        assert!(!context.is_retryable());
    }

    #[test]
    fn provider_failures_are_the_providers_not_the_models() {
        let http = |status, kind| LlmError::from_http("openai", status, kind, "x", None);
        let providers = [
            http(500, ErrorKind::Server),
            http(503, ErrorKind::Overloaded),
            http(529, ErrorKind::Overloaded),
            http(429, ErrorKind::RateLimited),
            http(402, ErrorKind::QuotaExceeded),
            http(499, ErrorKind::Http),
            LlmError::network("local", "Failed to fetch"),
            LlmError::timeout("local", 60_000),
        ];
        for err in providers {
            assert!(err.is_provider_failure(), "{err}");
        }
        let not_providers = [
            http(400, ErrorKind::BadRequest),
            http(400, ErrorKind::ContextLength),
            http(401, ErrorKind::Auth),
            http(404, ErrorKind::ModelNotFound),
            http(418, ErrorKind::Http),
            LlmError::refusal("openai", "no"),
            LlmError::truncated("openai", 10),
            LlmError::invalid_output("openai", "no solution"),
            LlmError::invalid_response("openai", "not JSON", "<html>"),
            LlmError::cancelled(),
            LlmError::missing_key("openai"),
        ];
        for err in not_providers {
            assert!(!err.is_provider_failure(), "{err}");
        }
    }

    #[test]
    fn a_wait_is_kept_only_where_waiting_helps() {
        let err = LlmError::from_http("anthropic", 429, ErrorKind::RateLimited, "slow", Some(3000));
        assert_eq!(err.retry_after_ms(), Some(3000));
        assert_eq!(err.status(), Some(429));
        assert_eq!(err.provider(), Some("anthropic"));
        assert_eq!(
            err.to_string(),
            "Anthropic rate-limited the call (429) and asked for a wait of 3.0 s: slow"
        );
        let overloaded = LlmError::from_http("gemini", 503, ErrorKind::Overloaded, "busy", None);
        assert_eq!(
            overloaded.with_retry_after(Some(5)).retry_after_ms(),
            Some(5)
        );
        let server = LlmError::from_http("openai", 500, ErrorKind::Server, "x", Some(3000));
        assert_eq!(server.retry_after_ms(), None);
        assert_eq!(server.with_retry_after(Some(3000)).retry_after_ms(), None);
    }

    #[test]
    fn messages_state_the_facts_with_the_providers_words() {
        let auth =
            LlmError::from_http("anthropic", 401, ErrorKind::Auth, "invalid x-api-key", None);
        assert_eq!(
            auth.to_string(),
            "Anthropic rejected the API key (401): invalid x-api-key"
        );
        let ctx = LlmError::from_http("custom-1", 400, ErrorKind::ContextLength, "too long", None);
        assert_eq!(
            ctx.to_string(),
            "the prompt and max_tokens exceed the model's context length (custom-1, 400): too long"
        );
        assert_eq!(
            LlmError::missing_key("openai").to_string(),
            "OpenAI has no API key"
        );
        assert_eq!(
            LlmError::timeout("local", 299_001).to_string(),
            "the local server did not answer within 300 s"
        );
        assert_eq!(
            LlmError::truncated("gemini", 512).to_string(),
            "the reply from Gemini was cut off before the output was complete: it stopped at \
             max_tokens (512)"
        );
        assert_eq!(
            LlmError::unknown_model("gpt9", "no provider serves it").to_string(),
            "cannot call model `gpt9`: no provider serves it"
        );
        assert_eq!(
            LlmError::invalid_response("local", "the body is empty", "").to_string(),
            "the local server sent a response that could not be read: the body is empty"
        );
        assert_eq!(LlmError::cancelled().to_string(), "the call was cancelled");
    }

    #[test]
    fn transport_failures_map_to_one_kind_each() {
        let kinds = [
            (TransportError::Cancelled, ErrorKind::Cancelled),
            (TransportError::Timeout, ErrorKind::Timeout),
            (
                TransportError::Network("Failed to fetch".into()),
                ErrorKind::Network,
            ),
        ];
        for (error, kind) in kinds {
            let mapped = LlmError::from_transport("local", &error, 1_500);
            assert_eq!(mapped.kind(), kind, "{error:?}");
        }
        let network =
            LlmError::from_transport("local", &TransportError::Network("refused".into()), 1);
        assert_eq!(network.detail(), "refused");
        assert_eq!(network.provider(), Some("local"));
        let timeout = LlmError::from_transport("local", &TransportError::Timeout, 1_500);
        assert_eq!(timeout.detail(), "2 s");
    }

    #[test]
    fn details_are_cut_to_the_evidence_limit() {
        let long = "é".repeat(DETAIL_CHARS + 50);
        let err = LlmError::from_http("openai", 500, ErrorKind::Server, &long, None);
        assert_eq!(err.detail().chars().count(), DETAIL_CHARS + 1);
        let body = format!("<html>{}</html>", "x".repeat(DETAIL_CHARS));
        let invalid = LlmError::invalid_response("local", "the body is not JSON", &body);
        assert!(invalid
            .detail()
            .starts_with("the body is not JSON; the body began: <html>"));
        assert!(invalid.detail().ends_with('…'));
    }
}

//! Errors of an LLM call, each with a sentence a user can act on, and the pieces every adapter
//! shares to turn an HTTP failure into one: the [`ErrorKind`] classification, the body excerpt,
//! and `Retry-After` parsing.
//!
//! Provider quirks (which error codes mean what) live in the adapters; this file only knows HTTP.

/// Longest body excerpt kept as evidence in an error, in characters.
pub const EXCERPT_CHARS: usize = 500;

/// Why an LLM call failed.
///
/// Every HTTP variant carries the provider id (`openai`, `local`, a custom id), the status and the
/// provider's own message (or a body excerpt of at most [`EXCERPT_CHARS`] characters).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The run was cancelled while the call was in flight.
    #[error("the call was cancelled")]
    Cancelled,

    /// No API key is configured for a provider that needs one.
    #[error("{} has no API key: add one in Settings", label(provider))]
    MissingKey {
        /// Provider id.
        provider: String,
    },

    /// The request never got an HTTP answer: offline, DNS, refused connection, or a CORS block
    /// (the browser reports all of them the same way).
    #[error(
        "could not reach {}: {message}; check the base URL, your connection, and that the \
         server allows requests from this page (CORS)",
        label(provider)
    )]
    Network {
        /// Provider id.
        provider: String,
        /// What the transport reported.
        message: String,
    },

    /// No answer within the configured time.
    #[error(
        "{} did not answer within {secs} s: try again, or raise the timeout",
        label(provider)
    )]
    Timeout {
        /// Provider id.
        provider: String,
        /// The timeout that elapsed, in seconds.
        secs: u64,
    },

    /// The API key was rejected.
    #[error(
        "{} rejected the API key ({status}): check the key in Settings",
        label(provider)
    )]
    Auth {
        /// Provider id.
        provider: String,
        /// HTTP status (401, or 400 for Gemini's `API_KEY_INVALID`).
        status: u16,
        /// The provider's message.
        detail: String,
    },

    /// The key is valid but may not use this model, feature or region.
    #[error(
        "{} refused access ({status}): the key may not use this model or feature: {detail}",
        label(provider)
    )]
    PermissionDenied {
        /// Provider id.
        provider: String,
        /// HTTP status (usually 403).
        status: u16,
        /// The provider's message.
        detail: String,
    },

    /// The provider does not know the model (or the key cannot see it).
    #[error("model not found ({status}): {detail}; check the model name in the agent settings")]
    ModelNotFound {
        /// Provider id.
        provider: String,
        /// HTTP status (usually 404).
        status: u16,
        /// The provider's message.
        detail: String,
    },

    /// A 404 that is not about the model: usually a wrong base URL.
    #[error(
        "{} answered {status} (not found): check the base URL in Settings; {detail}",
        label(provider)
    )]
    NotFound {
        /// Provider id.
        provider: String,
        /// HTTP status.
        status: u16,
        /// The provider's message or a body excerpt.
        detail: String,
    },

    /// Too many requests for now; waiting helps.
    #[error("rate limited (429) by {}: {}; {detail}", label(provider), wait_hint(*retry_after_ms))]
    RateLimited {
        /// Provider id.
        provider: String,
        /// How long the provider asked us to wait, if it said.
        retry_after_ms: Option<u64>,
        /// The provider's message.
        detail: String,
    },

    /// Credit, billing or a long-period quota is exhausted; waiting a few seconds does not help.
    #[error(
        "{} quota or credit is exhausted ({status}): check your plan and billing; {detail}",
        label(provider)
    )]
    QuotaExceeded {
        /// Provider id.
        provider: String,
        /// HTTP status (429 or 402).
        status: u16,
        /// The provider's message.
        detail: String,
    },

    /// The provider is temporarily overloaded (Anthropic 529, Gemini 503 "overloaded").
    #[error("{} is overloaded ({status}): try again in a moment", label(provider))]
    Overloaded {
        /// Provider id.
        provider: String,
        /// HTTP status.
        status: u16,
        /// How long the provider asked us to wait, if it said.
        retry_after_ms: Option<u64>,
        /// The provider's message.
        detail: String,
    },

    /// The prompt plus `max_tokens` does not fit the model's context window.
    #[error(
        "context length exceeded ({}, {status}): shorten the prompt or lower max_tokens; {detail}",
        label(provider)
    )]
    ContextLength {
        /// Provider id.
        provider: String,
        /// HTTP status (usually 400).
        status: u16,
        /// The provider's message.
        detail: String,
    },

    /// The provider rejected the request as invalid (a parameter, the schema, the messages).
    #[error("{} rejected the request ({status}): {detail}", label(provider))]
    BadRequest {
        /// Provider id.
        provider: String,
        /// HTTP status (400, 413, 422, ...).
        status: u16,
        /// The provider's message.
        detail: String,
    },

    /// The provider failed on its side (5xx).
    #[error(
        "{} had a server error ({status}): try again later; {detail}",
        label(provider)
    )]
    Server {
        /// Provider id.
        provider: String,
        /// HTTP status (500-599).
        status: u16,
        /// The provider's message or a body excerpt.
        detail: String,
    },

    /// Any other unsuccessful HTTP status (408, 409, 499, a redirect, ...).
    #[error("{} answered HTTP {status}: {detail}", label(provider))]
    Http {
        /// Provider id.
        provider: String,
        /// HTTP status.
        status: u16,
        /// The provider's message or a body excerpt.
        detail: String,
    },

    /// A successful status with a body that is not the expected response.
    #[error(
        "{} sent a response that could not be read ({detail}): check that the base URL points \
         to the right kind of API",
        label(provider)
    )]
    InvalidResponse {
        /// Provider id.
        provider: String,
        /// What was wrong with it.
        detail: String,
        /// The start of the body (at most [`EXCERPT_CHARS`] characters).
        body_excerpt: String,
    },

    /// The model declined to answer, or the provider's safety system blocked the reply.
    #[error("{} refused to answer: {message}", label(provider))]
    Refusal {
        /// Provider id.
        provider: String,
        /// The refusal text or block reason the provider gave.
        message: String,
    },

    /// The reply stopped at `max_tokens` before the output was complete.
    #[error(
        "the reply from {} was cut off at max_tokens ({max_tokens}) before the output was \
         complete: raise max_tokens for this agent",
        label(provider)
    )]
    Truncated {
        /// Provider id.
        provider: String,
        /// The limit that was hit.
        max_tokens: u32,
    },

    /// The reply still did not validate after every re-ask.
    #[error("the model's reply did not match the expected format after all re-asks: {detail}")]
    InvalidOutput {
        /// The last validation error.
        detail: String,
    },

    /// The configured model string names no provider that can be called (checked before any
    /// request is made).
    #[error("cannot call model `{model}`: {reason}")]
    UnknownModel {
        /// The model string as configured.
        model: String,
        /// Why, with what to write instead.
        reason: String,
    },
}

impl LlmError {
    /// Whether sending the same request again may succeed: network failures, timeouts, 408, 409,
    /// 429 rate limits, 499, 5xx and 529. Never 400, 401, 403, 404 or 422, and never an exhausted
    /// quota (waiting seconds does not refill it).
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Network { .. }
            | LlmError::Timeout { .. }
            | LlmError::RateLimited { .. }
            | LlmError::Overloaded { .. }
            | LlmError::Server { .. } => true,
            // NOTE: Cohere documents 499 "request cancelled" as "try the request again".
            // https://docs.cohere.com/reference/errors
            LlmError::Http { status, .. } => matches!(status, 408 | 409 | 499) || *status >= 500,
            _ => false,
        }
    }

    /// How long the provider asked us to wait before retrying, if it said.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            LlmError::RateLimited { retry_after_ms, .. }
            | LlmError::Overloaded { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }

    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            LlmError::Auth { status, .. }
            | LlmError::PermissionDenied { status, .. }
            | LlmError::ModelNotFound { status, .. }
            | LlmError::NotFound { status, .. }
            | LlmError::QuotaExceeded { status, .. }
            | LlmError::Overloaded { status, .. }
            | LlmError::ContextLength { status, .. }
            | LlmError::BadRequest { status, .. }
            | LlmError::Server { status, .. }
            | LlmError::Http { status, .. } => Some(*status),
            LlmError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The provider id the error is about, when known.
    pub fn provider(&self) -> Option<&str> {
        match self {
            LlmError::Cancelled
            | LlmError::InvalidOutput { .. }
            | LlmError::UnknownModel { .. } => None,
            LlmError::MissingKey { provider }
            | LlmError::Network { provider, .. }
            | LlmError::Timeout { provider, .. }
            | LlmError::Auth { provider, .. }
            | LlmError::PermissionDenied { provider, .. }
            | LlmError::ModelNotFound { provider, .. }
            | LlmError::NotFound { provider, .. }
            | LlmError::RateLimited { provider, .. }
            | LlmError::QuotaExceeded { provider, .. }
            | LlmError::Overloaded { provider, .. }
            | LlmError::ContextLength { provider, .. }
            | LlmError::BadRequest { provider, .. }
            | LlmError::Server { provider, .. }
            | LlmError::Http { provider, .. }
            | LlmError::InvalidResponse { provider, .. }
            | LlmError::Refusal { provider, .. }
            | LlmError::Truncated { provider, .. } => Some(provider),
        }
    }

    /// Builds the error for an unsuccessful HTTP answer once an adapter has classified it.
    ///
    /// `detail` is cut to [`EXCERPT_CHARS`] characters.
    pub fn from_http(
        provider: &str,
        status: u16,
        kind: ErrorKind,
        detail: &str,
        retry_after_ms: Option<u64>,
    ) -> LlmError {
        let provider = provider.to_string();
        let detail = excerpt(detail);
        match kind {
            ErrorKind::Auth => LlmError::Auth {
                provider,
                status,
                detail,
            },
            ErrorKind::PermissionDenied => LlmError::PermissionDenied {
                provider,
                status,
                detail,
            },
            ErrorKind::ModelNotFound => LlmError::ModelNotFound {
                provider,
                status,
                detail,
            },
            ErrorKind::NotFound => LlmError::NotFound {
                provider,
                status,
                detail,
            },
            ErrorKind::RateLimited => LlmError::RateLimited {
                provider,
                retry_after_ms,
                detail,
            },
            ErrorKind::QuotaExceeded => LlmError::QuotaExceeded {
                provider,
                status,
                detail,
            },
            ErrorKind::Overloaded => LlmError::Overloaded {
                provider,
                status,
                retry_after_ms,
                detail,
            },
            ErrorKind::ContextLength => LlmError::ContextLength {
                provider,
                status,
                detail,
            },
            ErrorKind::BadRequest => LlmError::BadRequest {
                provider,
                status,
                detail,
            },
            ErrorKind::Server => LlmError::Server {
                provider,
                status,
                detail,
            },
            ErrorKind::Other => LlmError::Http {
                provider,
                status,
                detail,
            },
        }
    }

    /// An [`LlmError::InvalidResponse`] keeping the start of the body as evidence.
    pub fn invalid_response(provider: &str, detail: impl Into<String>, body: &str) -> LlmError {
        LlmError::InvalidResponse {
            provider: provider.to_string(),
            detail: detail.into(),
            body_excerpt: excerpt(body),
        }
    }
}

/// What an unsuccessful HTTP answer means, before it becomes an [`LlmError`] variant.
///
/// Adapters decide it from the provider's error code and message; [`ErrorKind::from_status`]
/// is the fallback when the body says nothing more specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The key was rejected.
    Auth,
    /// The key may not use this model or feature.
    PermissionDenied,
    /// The model does not exist for this key.
    ModelNotFound,
    /// Something else was not found (usually the URL).
    NotFound,
    /// Too many requests for now.
    RateLimited,
    /// Credit or a long-period quota is exhausted.
    QuotaExceeded,
    /// The provider is overloaded.
    Overloaded,
    /// The prompt does not fit the context window.
    ContextLength,
    /// The request is invalid.
    BadRequest,
    /// A 5xx failure.
    Server,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// The meaning of a status code on its own.
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
            _ => ErrorKind::Other,
        }
    }
}

/// The first [`EXCERPT_CHARS`] characters of `text`, trimmed, with `…` when cut.
pub fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// How long to wait before retrying, from the response headers, in milliseconds.
///
/// Reads `retry-after-ms` (milliseconds, sent by OpenAI) first, then `Retry-After` as
/// delta-seconds or as an HTTP date, measured against `now_ms` (epoch milliseconds). A date in
/// the past gives `Some(0)`. Header names are matched case-insensitively; unreadable values are
/// ignored.
pub fn parse_retry_after(headers: &[(String, String)], now_ms: f64) -> Option<u64> {
    retry_after_from(headers, Some(now_ms))
}

/// [`parse_retry_after`] when the current time may be unknown: without `now_ms`, the HTTP-date
/// form is ignored (adapters parse responses without a clock).
pub fn retry_after_from(headers: &[(String, String)], now_ms: Option<f64>) -> Option<u64> {
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    if let Some(ms) = find("retry-after-ms").and_then(non_negative_number) {
        return Some(ms.ceil() as u64);
    }
    let value = find("retry-after")?;
    if let Some(secs) = non_negative_number(value) {
        return Some((secs * 1000.0).ceil() as u64);
    }
    let now_ms = now_ms?;
    let at_ms = parse_http_date_ms(value)?;
    Some((at_ms - now_ms).max(0.0).ceil() as u64)
}

/// Parses a Google `google.protobuf.Duration` string such as `"34.4s"` into milliseconds.
pub fn parse_duration_secs_ms(value: &str) -> Option<u64> {
    let secs = value.trim().strip_suffix('s')?;
    non_negative_number(secs).map(|s| (s * 1000.0).round() as u64)
}

fn non_negative_number(value: &str) -> Option<f64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    value.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Epoch milliseconds of an HTTP date in any of the three forms RFC 9110 §5.6.7 requires
/// recipients to accept: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
fn parse_http_date_ms(value: &str) -> Option<f64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let tokens: Vec<&str> = value
        .split([' ', ',', '-'])
        .filter(|t| !t.is_empty())
        .collect();
    let mut month = None;
    let mut time = None;
    let mut numbers = Vec::new();
    for token in &tokens {
        let lower = token.to_ascii_lowercase();
        if let Some(m) = MONTHS.iter().position(|name| lower == *name) {
            month = Some(m as u32 + 1);
        } else if token.contains(':') {
            time = Some(*token);
        } else if token.bytes().all(|b| b.is_ascii_digit()) {
            numbers.push(*token);
        }
    }
    let month = month?;
    let mut parts = time?.split(':').map(|p| p.parse::<u32>().ok());
    let (h, mi, s) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // The day has one or two digits; the year four (or two, in RFC 850).
    let (day, year) = match numbers.as_slice() {
        [a, b] if a.len() <= 2 => (a.parse::<u32>().ok()?, *b),
        [a, b] if b.len() <= 2 => (b.parse::<u32>().ok()?, *a),
        _ => return None,
    };
    let year: i64 = match year.len() {
        4 => year.parse().ok()?,
        // RFC 9110: a two-digit year more than 50 years in the future means the past century.
        2 => {
            let yy: i64 = year.parse().ok()?;
            if yy >= 70 {
                1900 + yy
            } else {
                2000 + yy
            }
        }
        _ => return None,
    };
    if !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 86_400 + (h * 3600 + mi * 60 + s) as i64) * 1000) as f64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

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

fn wait_hint(retry_after_ms: Option<u64>) -> String {
    match retry_after_ms {
        Some(ms) => format!("wait {:.1} s and try again", ms as f64 / 1000.0),
        None => "wait a little and try again".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn retry_after_delta_seconds_and_ms() {
        assert_eq!(
            parse_retry_after(&headers(&[("Retry-After", "7")]), 0.0),
            Some(7000)
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "1.5")]), 0.0),
            Some(1500)
        );
        // retry-after-ms wins over retry-after.
        let both = headers(&[("retry-after", "20"), ("retry-after-ms", "250.2")]);
        assert_eq!(parse_retry_after(&both, 0.0), Some(251));
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "-3")]), 0.0),
            None
        );
        assert_eq!(parse_retry_after(&headers(&[("x-other", "3")]), 0.0), None);
    }

    #[test]
    fn retry_after_http_dates_in_all_three_forms() {
        // 1994-11-06T08:49:37Z is 784111777 s after the epoch (python3:
        // calendar.timegm((1994, 11, 6, 8, 49, 37))).
        let at = 784_111_777_000.0;
        for value in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            let h = headers(&[("Retry-After", value)]);
            assert_eq!(
                parse_retry_after(&h, at - 30_000.0),
                Some(30_000),
                "{value}"
            );
            // Already past: retry at once.
            assert_eq!(parse_retry_after(&h, at + 5_000.0), Some(0), "{value}");
            // Without a clock the date form cannot be used.
            assert_eq!(retry_after_from(&h, None), None, "{value}");
        }
        let bad = headers(&[("Retry-After", "Sun, 32 Nov 1994 08:49:37 GMT")]);
        assert_eq!(parse_retry_after(&bad, 0.0), None);
    }

    #[test]
    fn google_duration() {
        assert_eq!(parse_duration_secs_ms("34.4s"), Some(34_400));
        assert_eq!(parse_duration_secs_ms("2s"), Some(2_000));
        assert_eq!(parse_duration_secs_ms("2"), None);
    }

    #[test]
    fn excerpt_cuts_on_char_boundary() {
        let long = "é".repeat(600);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt("  short  "), "short");
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
        let network = LlmError::Network {
            provider: "local".into(),
            message: "Failed to fetch".into(),
        };
        assert!(network.is_retryable());
        let timeout = LlmError::Timeout {
            provider: "local".into(),
            secs: 60,
        };
        assert!(timeout.is_retryable());
        assert!(!LlmError::Cancelled.is_retryable());
        let quota = LlmError::from_http("openai", 429, ErrorKind::QuotaExceeded, "x", None);
        assert!(!quota.is_retryable());
        let context = LlmError::from_http("openai", 400, ErrorKind::ContextLength, "x", None);
        assert!(!context.is_retryable());
    }

    #[test]
    fn retry_after_is_kept_and_reported() {
        let err = LlmError::from_http("anthropic", 429, ErrorKind::RateLimited, "slow", Some(3000));
        assert_eq!(err.retry_after_ms(), Some(3000));
        assert_eq!(err.status(), Some(429));
        assert_eq!(err.provider(), Some("anthropic"));
        assert_eq!(
            err.to_string(),
            "rate limited (429) by Anthropic: wait 3.0 s and try again; slow"
        );
    }

    #[test]
    fn messages_are_actionable_sentences() {
        let auth =
            LlmError::from_http("anthropic", 401, ErrorKind::Auth, "invalid x-api-key", None);
        assert_eq!(
            auth.to_string(),
            "Anthropic rejected the API key (401): check the key in Settings"
        );
        let ctx = LlmError::from_http("custom-1", 400, ErrorKind::ContextLength, "too long", None);
        assert_eq!(
            ctx.to_string(),
            "context length exceeded (custom-1, 400): shorten the prompt or lower max_tokens; too long"
        );
        let missing = LlmError::MissingKey {
            provider: "openai".into(),
        };
        assert_eq!(
            missing.to_string(),
            "OpenAI has no API key: add one in Settings"
        );
    }
}

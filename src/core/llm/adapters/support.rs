//! What the provider adapters share: the conversation as `{role, content}` messages, URL
//! joining, reading JSON bodies and numbers out of them, safe schema names, and the wait a
//! provider asks for (`Retry-After`, Google's `RetryInfo` durations).
//!
//! Nothing here knows a provider; the adapters import it, never the dispatcher.

use serde_json::Value;

use crate::core::llm::chat::{ChatRequest, ChatRole, HttpRequest, HttpResponse};
use crate::core::llm::error::LlmError;

/// The wire name of a conversation role in the APIs that say `user` / `assistant` (OpenAI
/// compatible servers, Anthropic, Cohere).
pub(crate) fn role_name(role: ChatRole) -> &'static str {
    match role {
        ChatRole::User => "user",
        ChatRole::Assistant => "assistant",
    }
}

/// The conversation as `{role, content}` messages with the system prompt first (when there is
/// one): the shape OpenAI-compatible servers and Cohere v2 both take.
pub(crate) fn messages_with_system(request: &ChatRequest) -> Vec<Value> {
    let system = (!request.system.is_empty())
        .then(|| serde_json::json!({"role": "system", "content": request.system}));
    let turns = request.messages.iter().map(
        |message| serde_json::json!({"role": role_name(message.role), "content": message.content}),
    );
    system.into_iter().chain(turns).collect()
}

/// `http` with `fields` set in its JSON body (how a request becomes its streamed twin).
pub(crate) fn with_body_fields(mut http: HttpRequest, fields: &[(&str, Value)]) -> HttpRequest {
    if let Ok(Value::Object(mut body)) = serde_json::from_str::<Value>(&http.body) {
        for (key, value) in fields {
            body.insert((*key).to_string(), value.clone());
        }
        http.body = Value::Object(body).to_string();
    }
    http
}

/// `base_url` without trailing slashes, followed by `path` (which starts with `/`).
pub(crate) fn endpoint(base_url: &str, path: &str) -> String {
    format!("{}{}", base_url.trim().trim_end_matches('/'), path)
}

/// Whether the status is 2xx.
pub(crate) fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The body as JSON, or an [`LlmError`] of kind `InvalidResponse` keeping its start as evidence.
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

/// The body of an error response as JSON, or `null` when it is not JSON (an HTML proxy page).
pub(crate) fn error_json(response: &HttpResponse) -> Value {
    serde_json::from_str(&response.body).unwrap_or(Value::Null)
}

/// An error body that is not the provider's JSON error shape (an HTML proxy page, plain text):
/// the body, or the status line when empty.
pub(crate) fn fallback_detail(status: u16, body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        format!("HTTP {status} with an empty body")
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
}

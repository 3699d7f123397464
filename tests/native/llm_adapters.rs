//! Provider adapters against stored requests and real-world responses (see
//! `tests/fixtures/README.md` for where each fixture's facts come from).
//!
//! Expected usage numbers were computed by hand from the fixture bodies (and cross-checked with a
//! short Python script applying each provider's documented rules), never from the adapters.

use serde_json::Value;

use crate::util::{fixture_json, fixture_path};
use trialogue::core::llm::adapters::cohere::CohereAdapter;
use trialogue::core::llm::adapters::openai::OpenAiAdapter;
use trialogue::core::llm::adapters::Adapter;
use trialogue::core::llm::chat::{
    ChatMessage, ChatRequest, ChatResponse, ChatRole, FinishKind, HttpRequest, HttpResponse,
    StructuredMode, StructuredSpec,
};
use trialogue::core::llm::dispatch;
use trialogue::core::llm::{ErrorKind, LlmError, Usage};
use trialogue::core::providers::{ProviderKind, ProviderRegistry, ProviderSettings};

/// Stands in for a real key; it must only ever appear in its header.
pub(crate) const FAKE_KEY: &str = "test-key-not-a-secret-7f3a";

const SYSTEM: &str = "You are a careful mathematician.";
const PROMPT: &str = "Solve: what is 17 * 23?";
const PREVIOUS: &str = r#"{"solution": "391", "reasoning": "17*23", "confidence": "high"}"#;
const FIX: &str = "Your reply failed validation: confidence must be a number. Reply again.";

fn fixture(rel: &str) -> Value {
    fixture_json(rel)
}

/// A stored response: `{status, headers: [[name, value]], body: <json> | body_text: "<raw>"}`.
pub(crate) fn response(rel: &str) -> HttpResponse {
    let f = fixture(rel);
    let status = f["status"].as_u64().expect("status") as u16;
    let headers = f["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            (
                h[0].as_str().expect("header name").to_string(),
                h[1].as_str().expect("header value").to_string(),
            )
        })
        .collect();
    let body = match f.get("body_text") {
        Some(text) => text.as_str().expect("body_text").to_string(),
        None => f["body"].to_string(),
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn schema() -> Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "solution": {"type": "string"},
            "reasoning": {"type": "string"},
            "confidence": {"type": "number"}
        },
        "required": ["solution", "reasoning", "confidence"],
        "additionalProperties": false
    })
}

/// The single-turn request with a system prompt, in the given structured mode.
pub(crate) fn single_turn(model: &str, mode: StructuredMode) -> ChatRequest {
    ChatRequest {
        model: model.to_string(),
        system: SYSTEM.to_string(),
        messages: vec![ChatMessage {
            role: ChatRole::User,
            content: PROMPT.to_string(),
        }],
        temperature: 0.2,
        max_tokens: 512,
        structured: Some(StructuredSpec {
            name: "solver_output".to_string(),
            schema: schema(),
            mode,
        }),
        reasoning: Default::default(),
    }
}

/// A re-ask conversation without a system prompt, asking for output in the prompt only.
fn reask_prompt_only(model: &str) -> ChatRequest {
    let msg = |role, content: &str| ChatMessage {
        role,
        content: content.to_string(),
    };
    ChatRequest {
        model: model.to_string(),
        system: String::new(),
        messages: vec![
            msg(ChatRole::User, PROMPT),
            msg(ChatRole::Assistant, PREVIOUS),
            msg(ChatRole::User, FIX),
        ],
        temperature: 0.2,
        max_tokens: 512,
        structured: Some(StructuredSpec {
            name: "solver_output".to_string(),
            schema: schema(),
            mode: StructuredMode::PromptOnly,
        }),
        reasoning: Default::default(),
    }
}

/// A built-in provider with the fake key (or none for `local`).
pub(crate) fn settings(id: &str) -> ProviderSettings {
    let mut s = ProviderRegistry::builtin()
        .get(id)
        .cloned()
        .unwrap_or_else(|| panic!("no built-in provider {id}"));
    if id != "local" {
        s.api_key = FAKE_KEY.to_string();
    }
    s
}

/// The built request equals the stored one; the key appears in exactly one header and nowhere
/// else.
pub(crate) fn assert_request(built: &HttpRequest, rel: &str) {
    let want = fixture(rel);
    assert_eq!(
        built.method,
        want["method"].as_str().expect("method"),
        "{rel}"
    );
    assert_eq!(built.url, want["url"].as_str().expect("url"), "{rel}");
    let want_headers: Vec<(String, String)> = want["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            (
                h[0].as_str().expect("name").to_string(),
                h[1].as_str()
                    .expect("value")
                    .replace("${API_KEY}", FAKE_KEY),
            )
        })
        .collect();
    assert_eq!(built.headers, want_headers, "{rel}");
    let body: Value = serde_json::from_str(&built.body).expect("built body is JSON");
    assert_eq!(body, want["body"], "{rel}");

    let expects_key = want["headers"].to_string().contains("${API_KEY}");
    let key_headers = built
        .headers
        .iter()
        .filter(|(_, v)| v.contains(FAKE_KEY))
        .count();
    assert_eq!(key_headers, usize::from(expects_key), "{rel}: key headers");
    assert!(!built.url.contains(FAKE_KEY), "{rel}: key in URL");
    assert!(!built.body.contains(FAKE_KEY), "{rel}: key in body");
}

pub(crate) fn usage(
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
    reasoning: u64,
) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input + output,
        cache_read_tokens: cache_read,
        cache_write_tokens: cache_write,
        reasoning_tokens: reasoning,
        reasoning_tokens_unknown: false,
    }
}

/// What a stored success response must parse to.
struct Reply {
    file: &'static str,
    text: &'static str,
    finish: FinishKind,
    finish_reason: Option<&'static str>,
    usage: Option<Usage>,
    refusal: Option<&'static str>,
}

fn check_replies(kind: ProviderKind, replies: &[Reply]) {
    for want in replies {
        let resp = response(want.file);
        let got = dispatch::adapter(kind)
            .parse_response("p", &resp, None)
            .unwrap_or_else(|e| panic!("{}: {e:?}", want.file));
        assert_eq!(got.text, want.text, "{}", want.file);
        assert_eq!(got.finish, want.finish, "{}", want.file);
        assert_eq!(
            got.finish_reason.as_deref(),
            want.finish_reason,
            "{}",
            want.file
        );
        assert_eq!(got.usage, want.usage, "{}", want.file);
        assert_eq!(got.refusal.as_deref(), want.refusal, "{}", want.file);
    }
}

/// What a stored error response must become.
struct Failure {
    file: &'static str,
    variant: &'static str,
    status: Option<u16>,
    retryable: bool,
    retry_after_ms: Option<u64>,
}

fn check_failures(kind: ProviderKind, failures: &[Failure]) {
    for want in failures {
        let resp = response(want.file);
        let err = dispatch::adapter(kind)
            .parse_response("prov-x", &resp, None)
            .err()
            .unwrap_or_else(|| panic!("{} parsed as a success", want.file));
        // The stable name a failed step stores as its `error_type`.
        assert_eq!(err.kind().as_str(), want.variant, "{}: {err:?}", want.file);
        assert_eq!(err.status(), want.status, "{}", want.file);
        assert_eq!(err.is_retryable(), want.retryable, "{}", want.file);
        assert_eq!(err.retry_after_ms(), want.retry_after_ms, "{}", want.file);
        assert_eq!(err.provider(), Some("prov-x"), "{}", want.file);
        assert!(err.to_string().len() > 20, "{}: {err}", want.file);
    }
}

fn fail(
    file: &'static str,
    variant: &'static str,
    status: Option<u16>,
    retryable: bool,
    retry_after_ms: Option<u64>,
) -> Failure {
    Failure {
        file,
        variant,
        status,
        retryable,
        retry_after_ms,
    }
}

// ------------------------------------------------------------------------------------ OpenAI

#[test]
fn openai_requests_match_fixtures() {
    let native = single_turn("gpt-4o-mini", StructuredMode::Native);
    assert_request(
        &dispatch::build_request(&settings("openai"), &native),
        "openai/request_native.json",
    );
    let local = single_turn("smollm2-135m", StructuredMode::JsonObjectSchema);
    assert_request(
        &dispatch::build_request(&settings("local"), &local),
        "openai/request_json_object_schema.json",
    );
    let reask = reask_prompt_only("meta-llama/llama-3.1-8b-instruct");
    assert_request(
        &dispatch::build_request(&settings("openrouter"), &reask),
        "openai/request_prompt_only.json",
    );
    let reasoning = single_turn("o3-mini", StructuredMode::Native);
    assert_request(
        &OpenAiAdapter.build_request("https://api.openai.com/v1/", FAKE_KEY, &reasoning),
        "openai/request_reasoning_model.json",
    );
}

#[test]
fn openai_responses_parse_to_text_and_usage() {
    check_replies(
        ProviderKind::OpenAiCompatible,
        &[
            Reply {
                file: "openai/response_native_output.json",
                text: r#"{"city":"Mexico City","country":"Mexico"}"#,
                finish: FinishKind::Stop,
                finish_reason: Some("stop"),
                usage: Some(usage(100, 15, 0, 0, 0)),
                refusal: None,
            },
            Reply {
                file: "openai/response_reasoning.json",
                text: "Hello there! How can I help you today?",
                finish: FinishKind::Stop,
                finish_reason: Some("stop"),
                usage: Some(usage(7, 87, 0, 0, 64)),
                refusal: None,
            },
            Reply {
                file: "openai/response_cached.json",
                text: r#"{"solution": "391", "reasoning": "17 * 23 = 17 * 20 + 17 * 3 = 340 + 51", "confidence": 0.98}"#,
                finish: FinishKind::Stop,
                finish_reason: Some("stop"),
                usage: Some(usage(1154, 428, 1024, 0, 0)),
                refusal: None,
            },
            Reply {
                file: "openai/response_refusal.json",
                text: "",
                finish: FinishKind::Refusal,
                finish_reason: Some("stop"),
                usage: Some(usage(81, 11, 0, 0, 0)),
                refusal: Some("I'm sorry, I cannot assist with that request."),
            },
            Reply {
                file: "openai/response_length.json",
                text: r#"{"solution": "391", "reasoning": "First multiply 17 by 20"#,
                finish: FinishKind::Length,
                finish_reason: Some("length"),
                usage: Some(usage(52, 16, 0, 0, 0)),
                refusal: None,
            },
            Reply {
                file: "openai/response_no_usage.json",
                text: r#"{"solution": "391", "reasoning": "multiplication", "confidence": 0.5}"#,
                finish: FinishKind::Stop,
                finish_reason: Some("stop"),
                usage: None,
                refusal: None,
            },
        ],
    );
}

#[test]
fn openai_errors_are_classified() {
    check_failures(
        ProviderKind::OpenAiCompatible,
        &[
            fail(
                "openai/error_401_invalid_key.json",
                "Auth",
                Some(401),
                false,
                None,
            ),
            fail(
                "openai/error_404_model.json",
                "ModelNotFound",
                Some(404),
                false,
                None,
            ),
            // retry-after-ms (6) wins over retry-after (1 s).
            fail(
                "openai/error_429_rate_limit.json",
                "RateLimited",
                Some(429),
                true,
                Some(6),
            ),
            fail(
                "openai/error_429_insufficient_quota.json",
                "QuotaExceeded",
                Some(429),
                false,
                None,
            ),
            fail(
                "openai/error_400_context_length.json",
                "ContextLength",
                Some(400),
                false,
                None,
            ),
            fail(
                "openai/error_400_unsupported_parameter.json",
                "BadRequest",
                Some(400),
                false,
                None,
            ),
            fail(
                "openai/error_400_llamacpp_context.json",
                "ContextLength",
                Some(400),
                false,
                None,
            ),
            fail("openai/error_500.json", "Server", Some(500), true, None),
            fail(
                "openai/error_502_html.json",
                "Server",
                Some(502),
                true,
                None,
            ),
            // An OpenRouter-style upstream failure inside a 200.
            fail(
                "openai/response_200_with_error.json",
                "Server",
                Some(502),
                true,
                None,
            ),
            fail(
                "openai/response_not_json.json",
                "InvalidResponse",
                None,
                false,
                None,
            ),
        ],
    );
}

/// A stored response read by `kind`'s adapter, without a clock.
fn parse(kind: ProviderKind, provider: &str, rel: &str) -> Result<ChatResponse, LlmError> {
    dispatch::adapter(kind).parse_response(provider, &response(rel), None)
}

/// The provider's own message in a stored error response, at `pointer` in its body.
fn fixture_message(rel: &str, pointer: &str) -> String {
    fixture(rel)["body"]
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{rel} has no message at {pointer}"))
        .to_string()
}

#[test]
fn openai_error_details_keep_the_providers_words() {
    let rel = "openai/error_400_context_length.json";
    let err = parse(ProviderKind::OpenAiCompatible, "openai", rel).expect_err("context error");
    let message = fixture_message(rel, "/error/message");
    assert_eq!(
        err,
        LlmError::from_http("openai", 400, ErrorKind::ContextLength, &message, None)
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the prompt and max_tokens exceed the model's context length (OpenAI, 400): {message}"
        )
    );

    let html = parse(
        ProviderKind::OpenAiCompatible,
        "openai",
        "openai/response_not_json.json",
    )
    .expect_err("not JSON");
    assert_eq!(html.kind(), ErrorKind::InvalidResponse);
    assert!(html.detail().contains("Welcome to nginx!"), "{html}");
}

// --------------------------------------------------------------------------------- Anthropic

#[test]
fn anthropic_requests_match_fixtures() {
    let s = settings("anthropic");
    assert_request(
        &dispatch::build_request(
            &s,
            &single_turn("claude-sonnet-4-5", StructuredMode::Native),
        ),
        "anthropic/request_native.json",
    );
    assert_request(
        &dispatch::build_request(
            &s,
            &single_turn("claude-sonnet-4-5", StructuredMode::JsonObjectSchema),
        ),
        "anthropic/request_json_object_schema.json",
    );
    assert_request(
        &dispatch::build_request(&s, &reask_prompt_only("claude-3-5-haiku-latest")),
        "anthropic/request_prompt_only.json",
    );
}

#[test]
fn anthropic_responses_parse_to_text_and_usage() {
    check_replies(
        ProviderKind::Anthropic,
        &[
            Reply {
                file: "anthropic/response_tool_use.json",
                text: r#"{"city":"Mexico City","country":"Mexico"}"#,
                finish: FinishKind::Stop,
                finish_reason: Some("tool_use"),
                usage: Some(usage(762, 56, 0, 0, 0)),
                refusal: None,
            },
            // input_tokens 3 + cache reads 1111 + cache writes 418 = 1532.
            Reply {
                file: "anthropic/response_cached_text.json",
                text: "Python is a beginner-friendly, versatile programming language widely used \
                       for web development, data science, machine learning, automation, and \
                       scientific computing.",
                finish: FinishKind::Stop,
                finish_reason: Some("end_turn"),
                usage: Some(usage(1532, 33, 1111, 418, 0)),
                refusal: None,
            },
            Reply {
                file: "anthropic/response_max_tokens.json",
                text: r#"{"solution": "391", "reasoning": "We compute 17 * 23 by"#,
                finish: FinishKind::Length,
                finish_reason: Some("max_tokens"),
                usage: Some(usage(40, 16, 0, 0, 0)),
                refusal: None,
            },
            Reply {
                file: "anthropic/response_refusal.json",
                text: "",
                finish: FinishKind::Refusal,
                finish_reason: Some("refusal"),
                usage: Some(usage(25, 3, 0, 0, 0)),
                refusal: Some("the model declined to answer (stop_reason: refusal)"),
            },
            // The thinking block is skipped.
            Reply {
                file: "anthropic/response_no_usage.json",
                text: "391",
                finish: FinishKind::Stop,
                finish_reason: Some("end_turn"),
                usage: None,
                refusal: None,
            },
        ],
    );
}

#[test]
fn anthropic_errors_are_classified() {
    check_failures(
        ProviderKind::Anthropic,
        &[
            fail("anthropic/error_401.json", "Auth", Some(401), false, None),
            fail(
                "anthropic/error_401_cors.json",
                "Auth",
                Some(401),
                false,
                None,
            ),
            fail(
                "anthropic/error_404_model.json",
                "ModelNotFound",
                Some(404),
                false,
                None,
            ),
            fail(
                "anthropic/error_429.json",
                "RateLimited",
                Some(429),
                true,
                Some(20_000),
            ),
            fail(
                "anthropic/error_400_context.json",
                "ContextLength",
                Some(400),
                false,
                None,
            ),
            fail(
                "anthropic/error_529.json",
                "Overloaded",
                Some(529),
                true,
                None,
            ),
            fail("anthropic/error_500.json", "Server", Some(500), true, None),
        ],
    );
    let rel = "anthropic/error_401.json";
    let err = parse(ProviderKind::Anthropic, "anthropic", rel).expect_err("401");
    assert_eq!(
        err.to_string(),
        format!(
            "Anthropic rejected the API key (401): {}",
            fixture_message(rel, "/error/message")
        )
    );
}

// ------------------------------------------------------------------------------------ Cohere

#[test]
fn cohere_requests_match_fixtures() {
    let s = settings("cohere");
    assert_request(
        &dispatch::build_request(
            &s,
            &single_turn("command-r-plus-08-2024", StructuredMode::Native),
        ),
        "cohere/request_native.json",
    );
    assert_request(
        &dispatch::build_request(
            &s,
            &single_turn("command-r-plus-08-2024", StructuredMode::JsonObjectSchema),
        ),
        "cohere/request_json_object_schema.json",
    );
    assert_request(
        &dispatch::build_request(&s, &reask_prompt_only("command-r7b-12-2024")),
        "cohere/request_prompt_only.json",
    );
}

#[test]
fn cohere_responses_parse_to_text_and_usage() {
    check_replies(
        ProviderKind::Cohere,
        &[
            // `billed_units` (1/9), what Cohere bills, over `tokens` (496/11).
            Reply {
                file: "cohere/response_simple.json",
                text: "Hello! How can I assist you today?",
                finish: FinishKind::Stop,
                finish_reason: Some("COMPLETE"),
                usage: Some(usage(1, 9, 0, 0, 0)),
                refusal: None,
            },
            Reply {
                file: "cohere/response_cached.json",
                text: "Hello!",
                finish: FinishKind::Stop,
                finish_reason: Some("COMPLETE"),
                // Billed 2406/2; the 2928 cached tokens are part of `tokens` (2935).
                usage: Some(usage(2406, 2, 0, 0, 0)),
                refusal: None,
            },
            Reply {
                file: "cohere/response_billed_only.json",
                text: r#"{"solution": "391", "reasoning": "17*23", "confidence": 0.9}"#,
                finish: FinishKind::Stop,
                finish_reason: Some("COMPLETE"),
                usage: Some(usage(31, 24, 0, 0, 0)),
                refusal: None,
            },
            Reply {
                file: "cohere/response_max_tokens.json",
                text: r#"{"solution": "391", "reaso"#,
                finish: FinishKind::Length,
                finish_reason: Some("MAX_TOKENS"),
                usage: Some(usage(30, 8, 0, 0, 0)),
                refusal: None,
            },
            Reply {
                file: "cohere/response_no_usage.json",
                text: "391",
                finish: FinishKind::Stop,
                finish_reason: Some("COMPLETE"),
                usage: None,
                refusal: None,
            },
        ],
    );
}

#[test]
fn cohere_errors_are_classified() {
    check_failures(
        ProviderKind::Cohere,
        &[
            fail("cohere/error_401.json", "Auth", Some(401), false, None),
            fail(
                "cohere/error_404_model.json",
                "ModelNotFound",
                Some(404),
                false,
                None,
            ),
            // The Retry-After here is an HTTP date: ignored without a clock.
            fail(
                "cohere/error_429_per_minute.json",
                "RateLimited",
                Some(429),
                true,
                None,
            ),
            fail(
                "cohere/error_429_monthly.json",
                "QuotaExceeded",
                Some(429),
                false,
                None,
            ),
            fail(
                "cohere/error_400_context.json",
                "ContextLength",
                Some(400),
                false,
                None,
            ),
            fail(
                "cohere/error_400_max_tokens.json",
                "BadRequest",
                Some(400),
                false,
                None,
            ),
            fail(
                "cohere/error_402.json",
                "QuotaExceeded",
                Some(402),
                false,
                None,
            ),
            fail("cohere/error_500.json", "Server", Some(500), true, None),
        ],
    );
}

#[test]
fn retry_after_http_date_counts_with_a_clock() {
    // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 s (python3 calendar.timegm).
    let at_ms = 1_445_412_480_000.0;
    let resp = response("cohere/error_429_per_minute.json");
    let err = CohereAdapter
        .parse_response("cohere", &resp, Some(at_ms - 45_000.0))
        .expect_err("429");
    assert_eq!(err.retry_after_ms(), Some(45_000));
    assert!(err.to_string().contains("a wait of 45.0 s"), "{err}");
}

// ------------------------------------------------------------------------------------ Gemini

#[test]
fn gemini_requests_match_fixtures() {
    let s = settings("gemini");
    assert_request(
        &dispatch::build_request(&s, &single_turn("gemini-2.5-flash", StructuredMode::Native)),
        "gemini/request_native.json",
    );
    assert_request(
        &dispatch::build_request(
            &s,
            &single_turn("models/gemini-2.5-flash", StructuredMode::JsonObjectSchema),
        ),
        "gemini/request_json_object_schema.json",
    );
    assert_request(
        &dispatch::build_request(&s, &reask_prompt_only("gemini-2.0-flash")),
        "gemini/request_prompt_only.json",
    );
}

#[test]
fn gemini_responses_parse_to_text_and_usage() {
    check_replies(
        ProviderKind::Gemini,
        &[
            Reply {
                file: "gemini/response_native.json",
                text: "{\n  \"city\": \"Mexico City\",\n  \"country\": \"Mexico\"\n}",
                finish: FinishKind::Stop,
                finish_reason: Some("STOP"),
                usage: Some(usage(8, 20, 0, 0, 0)),
                refusal: None,
            },
            // 29 candidate tokens + 282 thought tokens; 9 + 311 = the reported total 320.
            Reply {
                file: "gemini/response_thinking.json",
                text: "There are **3** \"r\"s in strawberry.\n\nHere is the breakdown: \
                       st**r**awbe**rr**y.",
                finish: FinishKind::Stop,
                finish_reason: Some("STOP"),
                usage: Some(usage(9, 311, 0, 0, 282)),
                refusal: None,
            },
            // Input 19 prompt + 63 tool-use prompt = 82 (3 of them cached); output 4 + 56
            // thoughts = 60; 82 + 60 = the reported total 142.
            Reply {
                file: "gemini/response_cached_tool_use.json",
                text: "42",
                finish: FinishKind::Stop,
                finish_reason: Some("STOP"),
                usage: Some(usage(82, 60, 3, 0, 56)),
                refusal: None,
            },
            Reply {
                file: "gemini/response_max_tokens_empty.json",
                text: "",
                finish: FinishKind::Length,
                finish_reason: Some("MAX_TOKENS"),
                usage: Some(usage(15, 2, 0, 0, 2)),
                refusal: None,
            },
            Reply {
                file: "gemini/response_prompt_blocked.json",
                text: "",
                finish: FinishKind::Refusal,
                finish_reason: Some("PROHIBITED_CONTENT"),
                usage: Some(usage(9, 0, 0, 0, 0)),
                refusal: Some("Gemini blocked the prompt (PROHIBITED_CONTENT)"),
            },
            Reply {
                file: "gemini/response_safety.json",
                text: "",
                finish: FinishKind::Refusal,
                finish_reason: Some("SAFETY"),
                usage: Some(usage(200, 0, 0, 0, 0)),
                refusal: Some("Gemini blocked the reply (SAFETY)"),
            },
            // The thought part is skipped; the other parts are joined.
            Reply {
                file: "gemini/response_thought_parts_no_usage.json",
                text: r#"{"solution": "391", "reasoning": "17*23", "confidence": 0.9}"#,
                finish: FinishKind::Stop,
                finish_reason: Some("STOP"),
                usage: None,
                refusal: None,
            },
        ],
    );
}

#[test]
fn gemini_errors_are_classified() {
    check_failures(
        ProviderKind::Gemini,
        &[
            // A bad key is a 400 with reason API_KEY_INVALID.
            fail(
                "gemini/error_400_api_key.json",
                "Auth",
                Some(400),
                false,
                None,
            ),
            fail(
                "gemini/error_403.json",
                "PermissionDenied",
                Some(403),
                false,
                None,
            ),
            fail(
                "gemini/error_404_model.json",
                "ModelNotFound",
                Some(404),
                false,
                None,
            ),
            // retryDelay "34.4s" from the RetryInfo detail.
            fail(
                "gemini/error_429_retry_info.json",
                "RateLimited",
                Some(429),
                true,
                Some(34_400),
            ),
            fail(
                "gemini/error_400_context.json",
                "ContextLength",
                Some(400),
                false,
                None,
            ),
            fail(
                "gemini/error_503_overloaded.json",
                "Overloaded",
                Some(503),
                true,
                None,
            ),
            fail("gemini/error_500.json", "Server", Some(500), true, None),
        ],
    );
    let rel = "gemini/error_400_api_key.json";
    let err = parse(ProviderKind::Gemini, "gemini", rel).expect_err("400");
    assert_eq!(
        err.to_string(),
        format!(
            "Gemini rejected the API key (400): {}",
            fixture_message(rel, "/error/message")
        )
    );
}

// ------------------------------------------------------------------------------- dispatch

#[test]
fn dispatch_names_the_provider_the_settings_give() {
    let rel = "openai/error_401_invalid_key.json";
    let mut openrouter = settings("openrouter");
    openrouter.id = "my-router".to_string();
    let err = dispatch::parse_response(&openrouter, &response(rel), None).expect_err("401");
    assert_eq!(err.provider(), Some("my-router"));
    assert_eq!(err.kind(), ErrorKind::Auth);
    let builtin =
        dispatch::parse_response(&settings("openrouter"), &response(rel), None).expect_err("401");
    assert!(
        builtin
            .to_string()
            .starts_with("OpenRouter rejected the API key (401): "),
        "{builtin}"
    );
}

#[test]
fn a_retry_after_header_wins_over_the_wait_in_the_body() {
    // The RetryInfo detail asks for 34.4 s; a header, when the page can read one, is the
    // provider's word at the HTTP level and is taken first.
    let mut resp = response("gemini/error_429_retry_info.json");
    resp.headers
        .push(("Retry-After".to_string(), "3".to_string()));
    let err = dispatch::adapter(ProviderKind::Gemini)
        .parse_response("gemini", &resp, None)
        .expect_err("429");
    assert_eq!(err.retry_after_ms(), Some(3_000));
}

/// The adapters' sources: file name and text.
fn adapter_sources() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core/llm/adapters");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("the adapters folder")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("an adapter source");
            (path.display().to_string(), text)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn adapters_never_reach_back_to_the_dispatcher() {
    let sources = adapter_sources();
    assert_eq!(sources.len(), 6, "mod, support and four adapters");
    for (file, text) in &sources {
        // Code lines only: the docs may point the reader to the dispatcher.
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            assert!(
                !line.contains("dispatch"),
                "{file} uses the dispatcher: {line}"
            );
            assert!(
                !line.contains("ProviderKind"),
                "{file} names the provider kind, which only dispatch.rs matches on: {line}"
            );
        }
    }
}

#[test]
fn every_family_has_request_fixtures_for_every_mode() {
    for family in ["openai", "anthropic", "cohere", "gemini"] {
        for mode in ["native", "json_object_schema", "prompt_only"] {
            let path = fixture_path(&format!("{family}/request_{mode}.json"));
            assert!(path.is_file(), "missing {}", path.display());
        }
    }
}

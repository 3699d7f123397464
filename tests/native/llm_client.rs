//! The LLM client end to end over a scripted transport and a virtual clock: re-asks, retries,
//! Retry-After, cancellation, missing keys, usage accounting, the probe, and JSON extraction.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use serde_json::{json, Value};

use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::{Clock, ManualClock};
use trialogue::core::llm::chat::{HttpResponse, StructuredMode};
use trialogue::core::llm::client::{ClientOptions, LlmClient};
use trialogue::core::llm::probe::ProbeFailure;
use trialogue::core::llm::retry::RetryPolicy;
use trialogue::core::llm::structured::{self, extract_json};
use trialogue::core::llm::transport::{ScriptedReply, ScriptedTransport, TransportError};
use trialogue::core::llm::{
    AgentCall, AgentCallError, AgentCompletion, AgentLlm, AttemptKind, ErrorKind, LlmError, Usage,
};
use trialogue::core::outputs::AgentOutput;
use trialogue::core::providers::{ProviderKind, ProviderRegistry, ProviderSettings};
use trialogue::core::role::AgentRole;

use crate::util::{fixture_json, registry_with_openai_key, Flag};

// ---------------------------------------------------------------------------------------------
// Harness

/// Polls `future` to completion. Whenever it is pending without having asked to be woken,
/// `on_stall` runs (once per stall) and must cause a wake-up, or the test fails: this checks
/// that the code under test really registers its waker.
fn run_with<F: Future>(future: F, mut on_stall: impl FnMut()) -> F::Output {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    for _ in 0..100 {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        if !flag.0.swap(false, Ordering::SeqCst) {
            on_stall();
            assert!(
                flag.0.swap(false, Ordering::SeqCst),
                "the future stalled and was never woken"
            );
        }
    }
    panic!("the future did not finish");
}

fn run<F: Future>(future: F) -> F::Output {
    run_with(future, || panic!("nothing should wait in this test"))
}

fn local_registry() -> ProviderRegistry {
    ProviderRegistry::builtin()
}

fn options() -> ClientOptions {
    ClientOptions {
        jitter_seed: Some(42),
        ..ClientOptions::default()
    }
}

fn setup(
    registry: ProviderRegistry,
) -> (
    LlmClient<ScriptedTransport, ManualClock>,
    ScriptedTransport,
    ManualClock,
) {
    let transport = ScriptedTransport::new();
    let clock = ManualClock::starting_at(1_700_000_000_000.0);
    let client = LlmClient::with_options(registry, transport.clone(), clock.clone(), options());
    (client, transport, clock)
}

fn call(role: AgentRole, model: &str) -> AgentCall {
    AgentCall {
        role,
        model: model.into(),
        system_prompt: "You are careful.".into(),
        user_prompt: "What is 2 + 3?".into(),
        temperature: 0.0,
        max_tokens: 512,
        reasoning: Default::default(),
    }
}

/// An OpenAI chat-completions body with `content`, `finish_reason` and usage.
fn completion(content: &str, finish: &str, prompt: u64, completion_tokens: u64) -> String {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish
        }],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens
        }
    })
    .to_string()
}

fn ok_reply(content: &str, prompt: u64, completion_tokens: u64) -> String {
    completion(content, "stop", prompt, completion_tokens)
}

const GOOD_SOLVER: &str = r#"{"solution": "5", "reasoning": "2 + 3 = 5", "confidence": 0.9}"#;

fn usage(input: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input + output,
        ..Usage::default()
    }
}

fn body(transport: &ScriptedTransport, index: usize) -> Value {
    let requests = transport.requests();
    serde_json::from_str(&requests[index].body).expect("request bodies are JSON")
}

fn kinds(attempts: &[trialogue::core::llm::AttemptRecord]) -> Vec<AttemptKind> {
    attempts.iter().map(|a| a.kind).collect()
}

/// An output as the trajectory's `output` object.
fn object(output: &AgentOutput) -> Value {
    Value::Object(output.to_object())
}

fn expect_ok(result: Result<AgentCompletion, AgentCallError>) -> AgentCompletion {
    match result {
        Ok(c) => c,
        Err(e) => panic!("expected success, got {e} ({e:?})"),
    }
}

fn expect_err(result: Result<AgentCompletion, AgentCallError>) -> AgentCallError {
    match result {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

fn status(code: u16, headers: &[(&str, &str)], body: &str) -> ScriptedReply {
    ScriptedReply::Respond(HttpResponse {
        status: code,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
    })
}

const SERVER_ERROR: &str = r#"{"error": {"message": "upstream failed", "type": "server_error"}}"#;

// ---------------------------------------------------------------------------------------------
// Re-asks

#[test]
fn reasks_after_a_reply_without_json_and_sums_usage_of_both_attempts() {
    let (client, transport, _) = setup(local_registry());
    transport
        .push_json(200, ok_reply("I believe the answer is five.", 30, 8))
        .push_json(200, ok_reply(GOOD_SOLVER, 70, 20));
    let done = expect_ok(run(client.complete(
        &call(AgentRole::Solver, "local/smollm2-135m"),
        &CancelToken::new(),
    )));

    assert_eq!(
        object(&done.output),
        json!({"solution": "5", "reasoning": "2 + 3 = 5", "confidence": 0.9})
    );
    assert_eq!(done.usage, usage(100, 28));
    assert!(done.usage_complete);
    assert_eq!(
        kinds(&done.attempts),
        [AttemptKind::Initial, AttemptKind::Reask]
    );
    assert_eq!(done.attempts[0].usage, Some(usage(30, 8)));
    assert!(done.attempts[0]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("no complete JSON object")));
    assert_eq!(done.attempts[1].error, None);
    // The rejected reply is kept as written, the accepted one is the step's output.
    assert_eq!(
        done.attempts[0].reply.as_deref(),
        Some("I believe the answer is five.")
    );
    assert_eq!(done.attempts[1].reply, None);
    assert_eq!(
        (done.provider.as_str(), done.model.as_str()),
        ("local", "smollm2-135m")
    );
    assert_eq!(done.finish_reason.as_deref(), Some("stop"));

    // The re-ask carries the conversation so far: prompt, the bad reply, then the problems.
    let messages = body(&transport, 1)["messages"].clone();
    let roles: Vec<&str> = messages
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["role"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(messages[1]["content"], "What is 2 + 3?");
    assert_eq!(messages[2]["content"], "I believe the answer is five.");
    let feedback = messages[3]["content"].as_str().unwrap_or_default();
    assert!(
        feedback.contains("- the reply contains no complete JSON object"),
        "{feedback}"
    );
    assert!(feedback.contains("only a JSON object"), "{feedback}");
    // The schema travels with every request (local server: json_object with a schema).
    assert_eq!(
        body(&transport, 1)["response_format"],
        json!({"type": "json_object", "schema": structured::schema(AgentRole::Solver)})
    );
}

#[test]
fn reasks_on_out_of_range_values_with_the_validation_error() {
    let (client, transport, _) = setup(local_registry());
    let bad = r#"{"passed": true, "critique": "fine", "confidence": 1.7, "scores": []}"#;
    let good = r#"{"passed": true, "critique": "fine", "confidence": 0.7,
                   "scores": [{"criterion": "rigor", "score": 0.5}]}"#;
    transport
        .push_json(200, ok_reply(bad, 50, 10))
        .push_json(200, ok_reply(good, 80, 12));
    let done = expect_ok(run(client.complete(
        &call(AgentRole::Verifier, "local/qwen"),
        &CancelToken::new(),
    )));
    // The schema's array of pairs comes back as the original's map.
    assert_eq!(
        object(&done.output),
        json!({"passed": true, "critique": "fine", "confidence": 0.7, "scores": {"rigor": 0.5}})
    );
    assert_eq!(done.usage, usage(130, 22));
    let reask = body(&transport, 1);
    assert_eq!(reask["messages"][2]["content"], bad);
    let feedback = reask["messages"][3]["content"].as_str().unwrap_or_default();
    assert!(
        feedback.contains("- confidence: must be between 0 and 1, got 1.7"),
        "{feedback}"
    );
}

#[test]
fn exhausted_reasks_fail_with_all_usage_and_attempts() {
    let (client, transport, _) = setup(local_registry());
    for n in 0..3 {
        transport.push_json(200, ok_reply(r#"{"solution": ""}"#, 10 + n, 5));
    }
    let err = expect_err(run(
        client.complete(&call(AgentRole::Solver, "local/m"), &CancelToken::new())
    ));
    assert_eq!(
        err.error.kind(),
        ErrorKind::InvalidOutput,
        "{:?}",
        err.error
    );
    let detail = err.error.detail();
    assert!(
        detail.contains("solution: must not be empty") && detail.contains("after 3 replies"),
        "{detail}"
    );
    // 10 + 11 + 12 input tokens, 3 × 5 output tokens.
    assert_eq!(err.usage, usage(33, 15));
    assert_eq!(
        kinds(&err.attempts),
        [AttemptKind::Initial, AttemptKind::Reask, AttemptKind::Reask]
    );
    assert_eq!(transport.requests().len(), 3);
    let replies: Vec<Option<&str>> = err.attempts.iter().map(|a| a.reply.as_deref()).collect();
    assert_eq!(replies, [Some(r#"{"solution": ""}"#); 3]);
    // The last request carries both earlier exchanges.
    assert_eq!(
        body(&transport, 2)["messages"].as_array().map(Vec::len),
        Some(6)
    );
}

#[test]
fn max_reasks_zero_fails_on_the_first_invalid_reply() {
    let transport = ScriptedTransport::new();
    let client = LlmClient::with_options(
        local_registry(),
        transport.clone(),
        ManualClock::default(),
        ClientOptions {
            max_reasks: 0,
            ..options()
        },
    );
    transport.push_json(200, ok_reply("[1, 2]", 1, 1));
    let err = expect_err(run(
        client.complete(&call(AgentRole::Judge, "local/m"), &CancelToken::new())
    ));
    assert_eq!(err.error.kind(), ErrorKind::InvalidOutput);
    assert_eq!(transport.requests().len(), 1);
}

#[test]
fn refusal_and_truncation_are_reported_without_reasking() {
    let (client, transport, _) = setup(registry_with_openai_key());
    let refusal = json!({
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": null,
                                 "refusal": "I can't help with that."}}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 6, "total_tokens": 46}
    });
    transport.push_json(200, refusal.to_string());
    let err = expect_err(run(
        client.complete(&call(AgentRole::Solver, "gpt-4o"), &CancelToken::new())
    ));
    assert_eq!(
        err.error,
        LlmError::refusal("openai", "I can't help with that.")
    );
    assert_eq!(err.usage, usage(40, 6));
    assert_eq!(transport.requests().len(), 1);

    let (client, transport, _) = setup(registry_with_openai_key());
    transport.push_json(
        200,
        completion(
            r#"{"solution": "5", "reasoning": "First,"#,
            "length",
            40,
            512,
        ),
    );
    let err = expect_err(run(
        client.complete(&call(AgentRole::Solver, "gpt-4o"), &CancelToken::new())
    ));
    assert_eq!(err.error, LlmError::truncated("openai", 512));
    assert!(err.error.to_string().contains("max_tokens (512)"));
    assert_eq!(err.usage, usage(40, 512));
    assert_eq!(transport.requests().len(), 1);
}

#[test]
fn a_reply_without_usage_marks_usage_incomplete() {
    let (client, transport, _) = setup(local_registry());
    let no_usage = json!({"choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": GOOD_SOLVER}}]});
    transport.push_json(200, no_usage.to_string());
    let done = expect_ok(run(
        client.complete(&call(AgentRole::Solver, "local/m"), &CancelToken::new())
    ));
    assert!(!done.usage_complete);
    assert_eq!(done.usage, Usage::default());
    assert_eq!(done.attempts[0].usage, None);
}

// ---------------------------------------------------------------------------------------------
// Modes

#[test]
fn native_mode_sends_the_strict_schema() {
    let (client, transport, _) = setup(registry_with_openai_key());
    transport.push_json(
        200,
        ok_reply(
            r#"{"score": 0.8, "reasoning": "good", "strengths": ["clear"], "weaknesses": []}"#,
            12,
            9,
        ),
    );
    let done = expect_ok(run(client.complete(
        &call(AgentRole::Judge, "openai/gpt-4o-mini"),
        &CancelToken::new(),
    )));
    assert_eq!(object(&done.output)["strengths"], json!(["clear"]));
    let sent = &transport.sent()[0];
    assert_eq!(
        sent.request.url,
        "https://api.openai.com/v1/chat/completions"
    );
    assert_eq!(sent.timeout_ms, 300_000);
    let b = body(&transport, 0);
    assert_eq!(b["model"], "gpt-4o-mini");
    assert_eq!(b["response_format"]["type"], "json_schema");
    assert_eq!(b["response_format"]["json_schema"]["strict"], true);
    assert_eq!(b["response_format"]["json_schema"]["name"], "judge_output");
    assert_eq!(
        b["response_format"]["json_schema"]["schema"],
        structured::schema(AgentRole::Judge)
    );
    // The prompt is untouched in native mode.
    assert_eq!(b["messages"][1]["content"], "What is 2 + 3?");
}

#[test]
fn prompt_only_mode_puts_the_schema_in_the_prompt_and_extracts_from_prose() {
    let mut registry = ProviderRegistry::builtin();
    registry.upsert(ProviderSettings {
        id: "plain".into(),
        label: "Plain server".into(),
        kind: ProviderKind::OpenAiCompatible,
        base_url: "http://127.0.0.1:9000/v1".into(),
        api_key: String::new(),
        structured_mode: Some(StructuredMode::PromptOnly),
        builtin: false,
        streaming: None,
        batch_endpoints: None,
    });
    let (client, transport, _) = setup(registry);
    transport.push_json(
        200,
        ok_reply(&format!("Sure!\n```json\n{GOOD_SOLVER}\n```"), 5, 5),
    );
    let done = expect_ok(run(
        client.complete(&call(AgentRole::Solver, "plain/tiny"), &CancelToken::new())
    ));
    assert_eq!(object(&done.output)["solution"], "5");
    let b = body(&transport, 0);
    assert!(b.get("response_format").is_none(), "{b}");
    let prompt = b["messages"][1]["content"].as_str().unwrap_or_default();
    assert!(prompt.starts_with("What is 2 + 3?\n\nReply with only a JSON object"));
    assert!(prompt.contains("\"additionalProperties\": false"));
}

// ---------------------------------------------------------------------------------------------
// Retries

#[test]
fn retries_follow_a_growing_deterministic_backoff() {
    let policy = RetryPolicy {
        max_attempts: 5,
        ..RetryPolicy::default()
    };
    let sleeps_for = |seed: u64| {
        let transport = ScriptedTransport::new();
        let clock = ManualClock::default();
        let client = LlmClient::with_options(
            local_registry(),
            transport.clone(),
            clock.clone(),
            ClientOptions {
                retry: policy,
                jitter_seed: Some(seed),
                ..ClientOptions::default()
            },
        );
        for _ in 0..4 {
            transport.push(status(503, &[], SERVER_ERROR));
        }
        transport.push_json(200, ok_reply(GOOD_SOLVER, 3, 4));
        let done = expect_ok(run(
            client.complete(&call(AgentRole::Solver, "local/m"), &CancelToken::new())
        ));
        assert_eq!(
            kinds(&done.attempts),
            [
                AttemptKind::Initial,
                AttemptKind::Retry,
                AttemptKind::Retry,
                AttemptKind::Retry,
                AttemptKind::Retry
            ]
        );
        assert!(done.attempts[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("server error (503)")));
        // Only the successful reply carried usage; the failed ones are not billed.
        assert_eq!(done.usage, usage(3, 4));
        // The whole call's wall time includes the waits.
        let slept: u64 = clock.sleeps().iter().sum();
        assert_eq!(done.latency_ms, slept as f64);
        clock.sleeps()
    };
    let sleeps = sleeps_for(7);
    assert_eq!(sleeps.len(), 4);
    assert!(
        sleeps.iter().all(|s| (2_000..=10_000).contains(s)),
        "{sleeps:?}"
    );
    assert!(
        sleeps.windows(2).all(|w| w[0] < w[1] || w[1] == 10_000),
        "{sleeps:?}"
    );
    assert!((2_000..=3_000).contains(&sleeps[0]), "{sleeps:?}");
    assert!((4_000..=6_000).contains(&sleeps[1]), "{sleeps:?}");
    assert_eq!(sleeps_for(7), sleeps);
    assert_ne!(sleeps_for(8), sleeps);
}

#[test]
fn three_failures_exhaust_the_default_policy() {
    let (client, transport, clock) = setup(local_registry());
    transport
        .push_error(TransportError::Network("connection refused".into()))
        .push_error(TransportError::Timeout)
        .push(status(500, &[], SERVER_ERROR));
    let err = expect_err(run(
        client.complete(&call(AgentRole::Solver, "local/m"), &CancelToken::new())
    ));
    assert_eq!(
        (err.error.kind(), err.error.status()),
        (ErrorKind::Server, Some(500)),
        "{:?}",
        err.error
    );
    assert_eq!(transport.requests().len(), 3);
    assert_eq!(clock.sleeps().len(), 2);
    let errors: Vec<String> = err
        .attempts
        .iter()
        .map(|a| a.error.clone().unwrap_or_default())
        .collect();
    assert!(
        errors[0] == "could not reach the local server: connection refused",
        "{errors:?}"
    );
    assert!(
        errors[1].contains("did not answer within 300 s"),
        "{errors:?}"
    );
    assert_eq!(err.usage, Usage::default());
}

#[test]
fn retry_after_seconds_and_http_dates_are_honoured() {
    let (client, transport, clock) = setup(local_registry());
    let limited = r#"{"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}"#;
    transport
        .push(status(429, &[("retry-after", "7")], limited))
        .push_json(200, ok_reply(GOOD_SOLVER, 1, 1));
    expect_ok(run(client.complete(
        &call(AgentRole::Solver, "local/m"),
        &CancelToken::new(),
    )));
    assert_eq!(clock.sleeps(), [7_000]);

    // An HTTP date 12 s after the clock's now: 2023-11-14T22:13:32Z is 1_700_000_012 s after
    // the epoch (python3: calendar.timegm((2023, 11, 14, 22, 13, 32))).
    let (client, transport, clock) = setup(local_registry());
    transport
        .push(status(
            429,
            &[("retry-after", "Tue, 14 Nov 2023 22:13:32 GMT")],
            limited,
        ))
        .push_json(200, ok_reply(GOOD_SOLVER, 1, 1));
    expect_ok(run(client.complete(
        &call(AgentRole::Solver, "local/m"),
        &CancelToken::new(),
    )));
    assert_eq!(clock.sleeps(), [12_000]);

    // A wait of an hour is capped at a minute.
    let (client, transport, clock) = setup(local_registry());
    transport
        .push(status(429, &[("retry-after", "3600")], limited))
        .push_json(200, ok_reply(GOOD_SOLVER, 1, 1));
    expect_ok(run(client.complete(
        &call(AgentRole::Solver, "local/m"),
        &CancelToken::new(),
    )));
    assert_eq!(clock.sleeps(), [60_000]);
}

#[test]
fn a_rejected_key_is_not_retried() {
    let (client, transport, clock) = setup(registry_with_openai_key());
    transport.push(status(
        401,
        &[],
        r#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}"#,
    ));
    let err = expect_err(run(
        client.complete(&call(AgentRole::Solver, "gpt-4o"), &CancelToken::new())
    ));
    assert_eq!(
        (err.error.kind(), err.error.status()),
        (ErrorKind::Auth, Some(401)),
        "{:?}",
        err.error
    );
    assert_eq!(transport.requests().len(), 1);
    assert!(clock.sleeps().is_empty());
    assert_eq!(err.attempts.len(), 1);
    assert!(transport.requests()[0]
        .headers
        .contains(&("authorization".to_string(), "Bearer sk-test".to_string())));
}

// ---------------------------------------------------------------------------------------------
// Cancellation and set-up errors

/// A clock whose sleeps never end on their own; it records what was asked.
#[derive(Clone, Default)]
struct StuckClock {
    asked: Rc<RefCell<Vec<u64>>>,
}

impl Clock for StuckClock {
    fn now_ms(&self) -> f64 {
        0.0
    }

    async fn sleep(&self, ms: u64) {
        self.asked.borrow_mut().push(ms);
        std::future::pending::<()>().await
    }
}

#[test]
fn cancelling_during_a_backoff_wait_returns_at_once() {
    let transport = ScriptedTransport::new();
    let clock = StuckClock::default();
    let client = LlmClient::with_options(
        local_registry(),
        transport.clone(),
        clock.clone(),
        options(),
    );
    transport
        .push(status(503, &[], SERVER_ERROR))
        .push_json(200, ok_reply(GOOD_SOLVER, 1, 1));
    let token = CancelToken::new();
    let stopper = token.clone();
    let result = run_with(
        client.complete(&call(AgentRole::Solver, "local/m"), &token),
        // The call is stuck in its backoff sleep: the user presses stop.
        move || stopper.cancel(),
    );
    let err = expect_err(result);
    assert_eq!(err.error, LlmError::cancelled());
    assert_eq!(clock.asked.borrow().len(), 1);
    assert_eq!(transport.requests().len(), 1);
    assert_eq!(transport.pending(), 1);
    assert_eq!(err.attempts.len(), 1);
}

#[test]
fn cancelling_in_flight_stops_without_retrying() {
    let (client, transport, clock) = setup(local_registry());
    transport
        .push(ScriptedReply::CancelInFlight)
        .push_json(200, ok_reply(GOOD_SOLVER, 1, 1));
    let token = CancelToken::new();
    let err = expect_err(run(
        client.complete(&call(AgentRole::Solver, "local/m"), &token)
    ));
    assert_eq!(err.error, LlmError::cancelled());
    assert!(token.is_cancelled());
    assert!(clock.sleeps().is_empty());
    assert_eq!(transport.pending(), 1);
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(
        err.attempts[0].error.as_deref(),
        Some("the call was cancelled")
    );

    // Already cancelled before the call: nothing is sent.
    let (client, transport, _) = setup(local_registry());
    let err = expect_err(run(
        client.complete(&call(AgentRole::Solver, "local/m"), &token)
    ));
    assert_eq!(err.error, LlmError::cancelled());
    assert!(transport.requests().is_empty());
}

#[test]
fn a_missing_key_fails_before_any_request() {
    let (client, transport, _) = setup(ProviderRegistry::builtin());
    for model in [
        "gpt-4o",
        "anthropic/claude-sonnet-4-5",
        "command-r-plus",
        "gemini-2.5-flash",
    ] {
        let err = expect_err(run(
            client.complete(&call(AgentRole::Solver, model), &CancelToken::new())
        ));
        assert_eq!(
            err.error.kind(),
            ErrorKind::MissingKey,
            "{model}: {:?}",
            err.error
        );
        assert!(err.error.to_string().contains("has no API key"), "{model}");
        assert!(err.attempts.is_empty());
    }
    assert!(transport.requests().is_empty());
}

#[test]
fn an_unknown_provider_fails_before_any_request() {
    let (client, transport, _) = setup(local_registry());
    let err = expect_err(run(client.complete(
        &call(AgentRole::Solver, "mystery/model-x"),
        &CancelToken::new(),
    )));
    assert_eq!(err.error.kind(), ErrorKind::UnknownModel, "{:?}", err.error);
    let detail = err.error.detail();
    assert!(
        detail.starts_with("`mystery/model-x`: ") && detail.contains("unknown provider `mystery`"),
        "{detail}"
    );
    assert!(transport.requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Probe

#[test]
fn probe_reports_a_working_provider() {
    let (client, transport, _) = setup(registry_with_openai_key());
    let reply_body = json!({
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": GOOD_SOLVER}}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160,
                  "prompt_tokens_details": {"cached_tokens": 64},
                  "completion_tokens_details": {"reasoning_tokens": 16}}
    });
    transport.push(status(
        200,
        &[
            ("content-type", "application/json"),
            ("x-ratelimit-remaining-requests", "499"),
            ("x-request-id", "req_1"),
        ],
        &reply_body.to_string(),
    ));
    let report = run(client.probe("openai", "gpt-4o-mini", &CancelToken::new()));
    assert!(report.ok());
    assert!(report.reachable);
    assert_eq!(report.key_accepted, Some(true));
    assert_eq!(report.working_mode, Some(StructuredMode::Native));
    assert_eq!(report.trials.len(), 1);
    let u = report.usage.expect("usage");
    assert_eq!((u.cache_read_tokens, u.reasoning_tokens), (64, 16));
    assert_eq!(
        report.rate_limit_headers,
        [(
            "x-ratelimit-remaining-requests".to_string(),
            "499".to_string()
        )]
    );
    assert_eq!(report.reply.as_deref(), Some(GOOD_SOLVER));
    assert_eq!(report.failure, None);
    assert_eq!(body(&transport, 0)["model"], "gpt-4o-mini");
}

#[test]
fn probe_falls_back_to_prompt_only_and_advises() {
    let (client, transport, _) = setup(registry_with_openai_key());
    transport
        .push(status(
            400,
            &[],
            r#"{"error": {"message": "response_format json_schema is not supported by this model", "type": "invalid_request_error"}}"#,
        ))
        .push_json(200, ok_reply(&format!("Here: {GOOD_SOLVER}"), 9, 9));
    let report = run(client.probe("openai", "old-model", &CancelToken::new()));
    assert_eq!(report.working_mode, Some(StructuredMode::PromptOnly));
    let modes: Vec<(StructuredMode, bool)> =
        report.trials.iter().map(|t| (t.mode, t.ok())).collect();
    assert_eq!(
        modes,
        [
            (StructuredMode::Native, false),
            (StructuredMode::PromptOnly, true)
        ]
    );
    let first = report.trials[0].failure.as_ref().map(ToString::to_string);
    assert!(
        first
            .as_deref()
            .is_some_and(|d| d.contains("not supported")),
        "{first:?}"
    );
    assert_eq!(report.configured_mode(), Some(StructuredMode::Native));
    assert!(body(&transport, 1).get("response_format").is_none());
}

#[test]
fn probe_reports_a_rejected_key_a_missing_key_and_an_unreachable_server() {
    let (client, transport, _) = setup(registry_with_openai_key());
    transport.push(status(
        401,
        &[],
        r#"{"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}"#,
    ));
    let report = run(client.probe("openai", "gpt-4o", &CancelToken::new()));
    assert!(!report.ok());
    assert!(report.reachable);
    assert_eq!(report.key_accepted, Some(false));
    assert_eq!(
        report.trials.len(),
        1,
        "a rejected key is not retried in another mode"
    );
    assert!(
        matches!(&report.failure, Some(ProbeFailure::Call(e)) if e.kind() == ErrorKind::Auth),
        "{:?}",
        report.failure
    );

    let (client, transport, _) = setup(ProviderRegistry::builtin());
    let report = run(client.probe("anthropic", "claude-sonnet-4-5", &CancelToken::new()));
    assert_eq!(report.key_accepted, Some(false));
    assert!(
        matches!(&report.failure, Some(ProbeFailure::Call(e)) if e.kind() == ErrorKind::MissingKey),
        "{:?}",
        report.failure
    );
    assert!(transport.requests().is_empty());

    let (client, transport, _) = setup(local_registry());
    transport.push_error(TransportError::Network("Failed to fetch".into()));
    let report = run(client.probe("local", "m", &CancelToken::new()));
    assert!(!report.reachable);
    assert_eq!(report.key_accepted, None);
    assert_eq!(report.trials.len(), 1);
    assert!(
        matches!(&report.failure, Some(ProbeFailure::Call(e)) if e.kind() == ErrorKind::Network),
        "{:?}",
        report.failure
    );

    let (client, _, _) = setup(local_registry());
    let report = run(client.probe("nope", "m", &CancelToken::new()));
    assert_eq!(
        report.failure,
        Some(ProbeFailure::NoSuchProvider("nope".to_string()))
    );
}

// ---------------------------------------------------------------------------------------------
// Extraction table (fixture)

#[test]
fn extraction_fixture_table() {
    let cases: Vec<Value> = serde_json::from_value(fixture_json("structured/extraction.json"))
        .expect("the fixture is a list");
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let reply = case["reply"].as_str().unwrap_or_default();
        let got = extract_json(reply);
        match &case["expected"] {
            Value::Null => assert!(got.is_err(), "{name}: expected failure, got {got:?}"),
            expected => assert_eq!(got.as_ref().ok(), Some(expected), "{name}: {got:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Settings the page would reject are never sent to

/// A registry with a custom OpenAI-compatible provider `lab` at `base_url`, holding a key.
fn with_lab_at(base_url: &str) -> ProviderRegistry {
    let mut registry = ProviderRegistry::builtin();
    registry.upsert(ProviderSettings {
        id: "lab".into(),
        label: "Lab".into(),
        kind: ProviderKind::OpenAiCompatible,
        base_url: base_url.into(),
        api_key: "sk-lab-secret".into(),
        structured_mode: None,
        builtin: false,
        streaming: None,
        batch_endpoints: None,
    });
    registry
}

#[test]
fn calls_and_probes_refuse_a_base_url_that_settings_reject_before_any_request() {
    for base_url in [
        "http://192.168.1.5:8000/v1",
        "http://[::1]:8000/v1",
        "https://user:pw@lab.example/v1",
    ] {
        let registry = with_lab_at(base_url);
        let problems = registry.get("lab").map(ProviderSettings::validate);
        assert!(problems.is_some_and(|p| !p.is_empty()), "{base_url}");

        let (client, transport, _) = setup(registry);
        let failed = expect_err(run(
            client.complete(&call(AgentRole::Solver, "lab/m"), &CancelToken::new())
        ));
        assert_eq!(
            failed.error.kind(),
            ErrorKind::InvalidSettings,
            "{base_url}"
        );
        assert!(
            failed.error.to_string().contains(base_url),
            "{base_url}: {}",
            failed.error
        );
        assert!(failed.attempts.is_empty());

        let report = run(client.probe("lab", "m", &CancelToken::new()));
        assert!(
            matches!(&report.failure, Some(ProbeFailure::Call(e)) if e.kind() == ErrorKind::InvalidSettings),
            "{base_url}: {:?}",
            report.failure
        );
        assert!(
            transport.requests().is_empty(),
            "{base_url}: a request was sent"
        );
    }

    // What Settings accept is sent as before.
    let (client, transport, _) = setup(with_lab_at("http://127.0.0.1:8000/v1"));
    transport.push_json(200, ok_reply(GOOD_SOLVER, 10, 5));
    expect_ok(run(
        client.complete(&call(AgentRole::Solver, "lab/m"), &CancelToken::new())
    ));
    assert_eq!(transport.requests().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Keys never leave in error text; bodies are read up to a limit

const CANARY_KEY: &str = "sk-canary-7f3a9c1e5b";

fn with_canary_key() -> ProviderRegistry {
    let mut registry = ProviderRegistry::builtin();
    let mut openai = registry.get("openai").cloned().expect("built-in openai");
    openai.api_key = CANARY_KEY.into();
    registry.upsert(openai);
    registry
}

#[test]
fn a_key_echoed_by_the_server_is_redacted_from_errors_and_attempts() {
    // A proxy that quotes the request's headers, key included, in its error body.
    let transport = ScriptedTransport::with_responder(|request| {
        let headers: Vec<String> = request
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let message = format!("bad request; you sent {}", headers.join(", "));
        Ok(HttpResponse {
            status: 400,
            headers: vec![],
            body: json!({"error": {"message": message}}).to_string(),
        })
    });
    let clock = ManualClock::starting_at(1_700_000_000_000.0);
    let client = LlmClient::with_options(with_canary_key(), transport.clone(), clock, options());
    let failed = expect_err(run(client.complete(
        &call(AgentRole::Solver, "openai/gpt-4o"),
        &CancelToken::new(),
    )));
    let sent = format!("{:?}", transport.requests());
    assert!(sent.contains(CANARY_KEY), "the request carried the key");
    let text = format!("{} {:?}", failed.error, failed.attempts);
    assert!(!text.contains(CANARY_KEY), "{text}");
    assert!(text.contains(trialogue::core::redact::REDACTED), "{text}");

    // A 200 whose reply (not JSON) repeats the key: the re-ask problems and the final
    // InvalidOutput quote it.
    let (client, transport, _) = setup(with_canary_key());
    for _ in 0..3 {
        transport.push_json(200, ok_reply(&format!("my key is {CANARY_KEY}"), 5, 5));
    }
    let failed = expect_err(run(client.complete(
        &call(AgentRole::Solver, "openai/gpt-4o"),
        &CancelToken::new(),
    )));
    assert_eq!(failed.error.kind(), ErrorKind::InvalidOutput);
    let text = format!("{} {:?}", failed.error, failed.attempts);
    assert!(!text.contains(CANARY_KEY), "{text}");
    assert!(text.contains("my key is [key redacted]"), "{text}");

    // The connection check shows the provider's words too.
    let (client, transport, _) = setup(with_canary_key());
    transport.push_json(
        401,
        json!({"error": {"message": format!("invalid key {CANARY_KEY}")}}).to_string(),
    );
    let report = run(client.probe("openai", "gpt-4o", &CancelToken::new()));
    let text = format!("{:?}", report.failure);
    assert!(!text.contains(CANARY_KEY), "{text}");
    assert!(text.contains("[key redacted]"), "{text}");
}

#[test]
fn a_reply_longer_than_the_limit_is_an_error_saying_so_and_is_not_retried() {
    use trialogue::core::llm::transport::MAX_RESPONSE_BYTES;
    let (client, transport, _) = setup(registry_with_openai_key());
    let padding = " ".repeat(MAX_RESPONSE_BYTES);
    transport.push_json(200, format!("{}{padding}", ok_reply(GOOD_SOLVER, 1, 1)));
    transport.push_json(200, ok_reply(GOOD_SOLVER, 1, 1));
    let failed = expect_err(run(client.complete(
        &call(AgentRole::Solver, "openai/gpt-4o"),
        &CancelToken::new(),
    )));
    assert_eq!(failed.error.kind(), ErrorKind::InvalidResponse);
    assert!(
        failed.error.to_string().contains("larger than 4 MiB"),
        "{}",
        failed.error
    );
    assert_eq!(failed.attempts.len(), 1);
    assert_eq!(
        transport.pending(),
        1,
        "a huge reply is not asked for again"
    );

    // A transport that stops reading itself says the same.
    let (client, transport, _) = setup(registry_with_openai_key());
    transport.push_error(TransportError::TooLarge {
        limit_bytes: MAX_RESPONSE_BYTES,
    });
    let failed = expect_err(run(client.complete(
        &call(AgentRole::Solver, "openai/gpt-4o"),
        &CancelToken::new(),
    )));
    assert_eq!(failed.error.kind(), ErrorKind::InvalidResponse);
    assert!(failed.error.to_string().contains("larger than 4 MiB"));
}

//! Streaming: the event-stream parser under any chunking, each family's stream read back to the
//! reply its non-streamed twin gives, and the client over a stream (live pieces, a cut stream
//! retried, cancel mid-stream, an error inside the stream, the same step stored either way).
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use proptest::prelude::*;
use serde_json::{json, Value};

use trialogue::app::run::live::LiveReply;
use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::{Clock, ManualClock};
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::jsonl;
use trialogue::core::llm::chat::ChatResponse;
use trialogue::core::llm::chat::{HttpRequest, HttpResponse};
use trialogue::core::llm::client::{ClientOptions, LlmClient, StreamProgress};
use trialogue::core::llm::sse::{SseEvent, SseParser};
use trialogue::core::llm::stream::{StreamDelta, StreamReader};
use trialogue::core::llm::transport::{
    ScriptedReply, ScriptedTransport, Transport, TransportError,
};
use trialogue::core::llm::{dispatch, AgentCall, AgentLlm, AttemptKind, ErrorKind, Reasoning};
use trialogue::core::pipeline::{MemorySink, Pipeline, RunInput};
use trialogue::core::pricing::{PriceOverrides, Pricer, PricingTable};
use trialogue::core::providers::{ProviderKind, ProviderRegistry};
use trialogue::core::role::AgentRole;
use trialogue::core::trajectory::TrajectoryEntry;

use crate::llm_adapters::response;
use crate::util::ready_now;

// ------------------------------------------------------------------------------ the parser

/// Events as one parser reads `text` fed in the given chunk sizes (cycled).
fn parse_in_chunks(bytes: &[u8], sizes: &[usize]) -> Vec<SseEvent> {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        let end = (at + size.max(&1)).min(bytes.len());
        parser.push(&bytes[at..end], &mut out);
        at = end;
    }
    out
}

fn event_strategy() -> impl Strategy<Value = (String, Vec<String>)> {
    (
        prop_oneof![Just(String::new()), "[a-z_]{1,12}"],
        prop::collection::vec("[^\r\n]{0,24}", 1..4),
    )
}

proptest! {
    #[test]
    fn chunk_boundaries_line_ends_and_comments_never_change_the_events(
        events in prop::collection::vec(event_strategy(), 1..8),
        ending in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        comments in any::<bool>(),
        sizes in prop::collection::vec(1usize..9, 1..6),
    ) {
        let mut text = String::new();
        let mut want = Vec::new();
        for (name, lines) in &events {
            if comments {
                text.push_str(&format!(": keep-alive{ending}"));
            }
            if !name.is_empty() {
                text.push_str(&format!("event: {name}{ending}"));
            }
            for line in lines {
                text.push_str(&format!("data: {line}{ending}"));
            }
            text.push_str(ending);
            want.push(SseEvent { event: name.clone(), data: lines.join("\n") });
        }
        let whole = parse_in_chunks(text.as_bytes(), &[text.len()]);
        prop_assert_eq!(&whole, &want);
        prop_assert_eq!(parse_in_chunks(text.as_bytes(), &sizes), want);
    }
}

#[test]
fn a_data_line_may_hold_json_with_colons_and_done_ends_openai_streams() {
    let events = parse_in_chunks(b"data: {\"a\": \"x: y\"}\n\ndata: [DONE]\n\n", &[3]);
    assert_eq!(events[0].data, r#"{"a": "x: y"}"#);
    assert!(events[1].is_done());
}

// ------------------------------------------------------------------------------ each family

/// The reply a stream fixture reads as, fed in `sizes`-byte chunks.
fn read_stream(
    kind: ProviderKind,
    file: &str,
    sizes: &[usize],
) -> (ChatResponse, Vec<StreamDelta>) {
    let body = response(file).body.into_bytes();
    let mut reader = StreamReader::new(dispatch::adapter(kind), "p", Some("text/event-stream"));
    let mut deltas = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= body.len() {
            break;
        }
        let end = (at + size).min(body.len());
        deltas.extend(reader.push(&body[at..end]));
        at = end;
    }
    (reader.finish().expect(file), deltas)
}

fn joined(deltas: &[StreamDelta], thinking: bool) -> String {
    deltas
        .iter()
        .filter_map(|d| match d {
            StreamDelta::Thinking(t) if thinking => Some(t.as_str()),
            StreamDelta::Answer(t) if !thinking => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn each_familys_stream_reads_as_its_non_streamed_twin() {
    let cases = [
        (
            ProviderKind::OpenAiCompatible,
            "streams/openai_reasoning_content.json",
            "openai/response_reasoning_content.json",
        ),
        (
            ProviderKind::Anthropic,
            "streams/anthropic_thinking.json",
            "anthropic/response_thinking.json",
        ),
        (
            ProviderKind::Anthropic,
            "streams/anthropic_tool_use.json",
            "anthropic/response_tool_use.json",
        ),
        (
            ProviderKind::Gemini,
            "streams/gemini_thought_summary.json",
            "gemini/response_thought_summary.json",
        ),
        (
            ProviderKind::Cohere,
            "streams/cohere_thinking.json",
            "cohere/response_thinking.json",
        ),
    ];
    for (kind, stream, twin) in cases {
        let want = dispatch::adapter(kind)
            .parse_response("p", &response(twin), None)
            .expect(twin);
        for sizes in [vec![usize::MAX / 2], vec![1], vec![7, 3, 64]] {
            let (got, deltas) = read_stream(kind, stream, &sizes);
            assert_eq!(got, want, "{stream} in chunks of {sizes:?}");
            let thought = joined(&deltas, true);
            assert_eq!(
                Some(thought.as_str()).filter(|t| !t.is_empty()),
                want.thinking
                    .as_ref()
                    .map(|t| t.text())
                    .as_deref()
                    .filter(|_| !thought.is_empty()),
                "{stream}"
            );
            if kind != ProviderKind::Anthropic || stream.contains("thinking") {
                assert_eq!(joined(&deltas, false), want.text, "{stream}");
            }
        }
    }
}

#[test]
fn a_stream_cut_before_its_end_is_a_network_error() {
    let body = response("streams/anthropic_thinking.json").body;
    let cut = &body[..body.find("event: message_delta").unwrap()];
    let mut reader = StreamReader::new(
        dispatch::adapter(ProviderKind::Anthropic),
        "anthropic",
        Some("text/event-stream"),
    );
    reader.push(cut.as_bytes());
    let err = reader.finish().expect_err("cut");
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.is_retryable());
    assert!(
        err.to_string().contains("cut before the reply ended"),
        "{err}"
    );
}

#[test]
fn an_error_sent_inside_a_stream_is_classified_like_its_http_twin() {
    let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let mut reader = StreamReader::new(
        dispatch::adapter(ProviderKind::Anthropic),
        "anthropic",
        Some("text/event-stream"),
    );
    reader.push(body.as_bytes());
    let err = reader.finish().expect_err("error event");
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert_eq!(err.detail(), "Overloaded");
    let openai = "data: {\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}\n\n";
    let mut reader = StreamReader::new(
        dispatch::adapter(ProviderKind::OpenAiCompatible),
        "openai",
        Some("text/event-stream"),
    );
    reader.push(openai.as_bytes());
    let err = reader.finish().expect_err("error chunk");
    assert_eq!(err.detail(), "Rate limit reached");
}

#[test]
fn a_whole_json_reply_where_a_stream_was_asked_for_is_read_as_it_is() {
    let twin = response("openai/response_reasoning_content.json");
    let mut reader = StreamReader::new(
        dispatch::adapter(ProviderKind::OpenAiCompatible),
        "p",
        Some("application/json"),
    );
    assert!(reader.push(twin.body.as_bytes()).is_empty());
    assert!(!reader.is_event_stream());
    let want = dispatch::adapter(ProviderKind::OpenAiCompatible)
        .parse_response("p", &twin, None)
        .unwrap();
    assert_eq!(reader.finish().unwrap(), want);
}

#[test]
fn each_family_asks_for_a_stream_in_its_own_way() {
    let registry = ProviderRegistry::builtin();
    let request =
        crate::llm_adapters::single_turn("m", trialogue::core::llm::chat::StructuredMode::Native);
    for (id, url_end, fields) in [
        (
            "openai",
            "/chat/completions",
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        ),
        ("anthropic", "/messages", json!({"stream": true})),
        ("cohere", "/chat", json!({"stream": true})),
        (
            "gemini",
            "/models/m:streamGenerateContent?alt=sse",
            json!({}),
        ),
    ] {
        let settings = registry.get(id).unwrap();
        let plain = dispatch::build_request(settings, &request);
        let streamed = dispatch::build_stream_request(settings, &request);
        assert!(streamed.url.ends_with(url_end), "{id}: {}", streamed.url);
        let mut want: Value = serde_json::from_str(&plain.body).unwrap();
        for (k, v) in fields.as_object().unwrap() {
            want[k] = v.clone();
        }
        let got: Value = serde_json::from_str(&streamed.body).unwrap();
        assert_eq!(got, want, "{id}");
        assert_eq!(streamed.headers, plain.headers, "{id}");
    }
}

// ------------------------------------------------------------------------------ the client

fn registry(streaming: bool) -> ProviderRegistry {
    let mut registry = ProviderRegistry::builtin();
    for id in ["anthropic", "openai"] {
        let mut p = registry.get(id).cloned().unwrap();
        p.api_key = "k".into();
        p.streaming = Some(streaming);
        registry.upsert(p);
    }
    registry
}

fn client(
    streaming: bool,
    transport: &ScriptedTransport,
    clock: &ManualClock,
) -> LlmClient<ScriptedTransport, ManualClock> {
    LlmClient::with_options(
        registry(streaming),
        transport.clone(),
        clock.clone(),
        ClientOptions {
            jitter_seed: Some(3),
            ..ClientOptions::default()
        },
    )
}

/// An Anthropic reply (thinking, then the answer's JSON as text) as SSE, and as one body.
fn claude(answer: &Value) -> (String, String) {
    let text = answer.to_string();
    let stream = [
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "usage": {"input_tokens": 70, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Two and two "}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "make four."}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig-9"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": &text[..text.len() / 2]}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": &text[text.len() / 2..]}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 900}}),
        json!({"type": "message_stop"}),
    ]
    .iter()
    .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
    .collect::<String>();
    let whole = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Two and two make four.", "signature": "sig-9"},
            {"type": "text", "text": text}
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 70, "output_tokens": 900}
    })
    .to_string();
    (stream, whole)
}

fn solver_answer() -> Value {
    json!({"solution": "4", "reasoning": "2 + 2", "confidence": 1.0})
}

fn judge_answer() -> Value {
    json!({"score": 1.0, "reasoning": "right", "strengths": ["short"], "weaknesses": []})
}

fn chunks(text: &str, size: usize) -> Vec<Vec<u8>> {
    text.as_bytes().chunks(size).map(<[u8]>::to_vec).collect()
}

fn config() -> PipelineConfig {
    let mut config = PipelineConfig {
        mode: Mode::Baseline,
        ..PipelineConfig::default()
    };
    for agent in [&mut config.solver.model, &mut config.judge.model] {
        *agent = "anthropic/claude-sonnet-4-5".into();
    }
    config.solver.max_tokens = 4096;
    config.solver.reasoning = Reasoning::Low;
    config.judge.max_tokens = 4096;
    config.judge.reasoning = Reasoning::Low;
    config
}

fn run_once(streaming: bool) -> (Vec<TrajectoryEntry>, ScriptedTransport) {
    let transport = ScriptedTransport::new();
    for answer in [solver_answer(), judge_answer()] {
        let (stream, whole) = claude(&answer);
        if streaming {
            transport.push_stream(chunks(&stream, 5));
        } else {
            transport.push_json(200, whole);
        }
    }
    let clock = ManualClock::starting_at(1_772_366_400_000.0);
    let client = client(streaming, &transport, &clock);
    let config = config();
    let sink = MemorySink::new();
    let input = RunInput {
        run_id: "run_20260301_120000_0badf00d".into(),
        problem: "What is 2+2?".into(),
        ground_truth: Some("4".into()),
    };
    let table = PricingTable::from_json(include_str!("../../public/pricing.json")).unwrap();
    let pricer = Pricer::new(Some(Rc::new(table)), PriceOverrides::new());
    let outcome = ready_now(
        Pipeline::new(&config, &client, &clock, &sink)
            .with_pricer(&pricer)
            .run(&input),
    );
    (outcome.entries, transport)
}

#[test]
fn a_streamed_step_stores_what_the_same_reply_not_streamed_stores() {
    let (streamed, sent) = run_once(true);
    let (plain, _) = run_once(false);
    assert_eq!(streamed.len(), 2);
    let body: Value = serde_json::from_str(&sent.requests()[0].body).unwrap();
    assert_eq!(body["stream"], true);
    for (s, p) in streamed.iter().zip(&plain) {
        assert_eq!(s.metadata.streamed, Some(true));
        assert_eq!(p.metadata.streamed, None);
        assert!(s.cost_usd().is_some_and(|c| c > 0.0), "priced: {s:?}");
        let mut s = s.clone();
        s.metadata.streamed = None;
        s.metadata.ttft_ms = None;
        s.metadata.ttfat_ms = None;
        s.metadata.output_tokens_per_s = None;
        assert_eq!(&s, p);
        assert_eq!(jsonl::to_line(&s).unwrap(), jsonl::to_line(p).unwrap());
    }
}

fn solver_call() -> AgentCall {
    AgentCall {
        role: AgentRole::Solver,
        model: "anthropic/claude-sonnet-4-5".into(),
        system_prompt: String::new(),
        user_prompt: "2+2?".into(),
        temperature: 0.0,
        max_tokens: 4096,
        reasoning: Reasoning::Low,
    }
}

#[test]
fn pieces_reach_the_listener_as_they_come_and_the_step_keeps_the_timings() {
    let transport = ScriptedTransport::new();
    let (stream, _) = claude(&solver_answer());
    transport.push_stream(chunks(&stream, 40));
    let clock = ManualClock::starting_at(0.0);
    let mut client = client(true, &transport, &clock);
    let seen: Rc<RefCell<Vec<StreamProgress>>> = Rc::default();
    let (log, ticking) = (seen.clone(), clock.clone());
    client.set_stream_listener(Some(Rc::new(move |p: &StreamProgress| {
        log.borrow_mut().push(p.clone());
        ticking.advance(100.0);
    })));
    let done = ready_now(client.complete(&solver_call(), &CancelToken::new())).unwrap();
    let seen = seen.borrow();
    assert!(seen.iter().all(|p| p.role == AgentRole::Solver));
    let first_answer = seen
        .iter()
        .position(|p| matches!(p.delta, StreamDelta::Answer(_)))
        .unwrap();
    assert_eq!(
        seen[..first_answer].to_vec(),
        [
            StreamProgress {
                role: AgentRole::Solver,
                round_trip: 1,
                delta: StreamDelta::Thinking("Two and two ".into())
            },
            StreamProgress {
                role: AgentRole::Solver,
                round_trip: 1,
                delta: StreamDelta::Thinking("make four.".into())
            },
        ]
    );
    let stats = done.stream.expect("streamed");
    assert_eq!(stats.ttft_ms, Some(0.0));
    assert_eq!(stats.ttfat_ms, Some(200.0));
    let end = clock.now_ms();
    assert_eq!(stats.output_tokens_per_s, Some(900.0 / (end / 1000.0)));
}

/// A transport that hands a whole stream over at once, `handed_after_ms` after the request,
/// each event with the time it came (one every `every_ms`): what the browser's transport does
/// when it gathers pieces between two deliveries.
struct HeldBack {
    events: Vec<String>,
    clock: ManualClock,
    every_ms: f64,
    handed_after_ms: f64,
}

impl Transport for HeldBack {
    async fn send(
        &self,
        _: &HttpRequest,
        _: u64,
        _: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        Err(TransportError::Network(
            "this transport only streams".into(),
        ))
    }

    async fn send_streaming(
        &self,
        _: &HttpRequest,
        _: u64,
        _: &CancelToken,
        on_chunk: &mut dyn FnMut(&[u8], Option<f64>),
    ) -> Result<HttpResponse, TransportError> {
        let sent = self.clock.now_ms();
        self.clock.advance(self.handed_after_ms);
        for (n, event) in self.events.iter().enumerate() {
            on_chunk(event.as_bytes(), Some(sent + self.every_ms * n as f64));
        }
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            body: String::new(),
        })
    }
}

#[test]
fn pieces_handed_over_late_are_timed_by_when_they_came() {
    let (stream, _) = claude(&solver_answer());
    let events: Vec<String> = stream.split_inclusive("\n\n").map(str::to_string).collect();
    let first_thinking = events
        .iter()
        .position(|e| e.contains("thinking_delta"))
        .unwrap();
    let first_answer = events
        .iter()
        .position(|e| e.contains("text_delta"))
        .unwrap();
    let clock = ManualClock::starting_at(0.0);
    let transport = HeldBack {
        events,
        clock: clock.clone(),
        every_ms: 10.0,
        handed_after_ms: 1000.0,
    };
    let client = LlmClient::with_options(
        registry(true),
        transport,
        clock.clone(),
        ClientOptions::default(),
    );
    let done = ready_now(client.complete(&solver_call(), &CancelToken::new())).unwrap();
    let stats = done.stream.expect("streamed");
    // Handed over at 1000 ms, the pieces came at 10 ms apart from the request on.
    assert_eq!(stats.ttft_ms, Some(10.0 * first_thinking as f64));
    assert_eq!(stats.ttfat_ms, Some(10.0 * first_answer as f64));
}

/// A transport whose first reply is the solver's stream cut halfway and whose second is the
/// whole stream; and that stream.
fn cut_then_whole() -> (ScriptedTransport, String) {
    let transport = ScriptedTransport::new();
    let (stream, _) = claude(&solver_answer());
    let half = stream.len() / 2;
    transport.push(ScriptedReply::Stream {
        headers: vec![("content-type".into(), "text/event-stream".into())],
        chunks: vec![stream.as_bytes()[..half].to_vec()],
        cut: false,
        cancel_after: None,
    });
    transport.push_stream(chunks(&stream, 64));
    (transport, stream)
}

#[test]
fn a_cut_stream_is_retried_and_counted_as_a_failed_attempt() {
    let (transport, _) = cut_then_whole();
    let clock = ManualClock::starting_at(0.0);
    let client = client(true, &transport, &clock);
    let call = solver_call();
    let cancel = CancelToken::new();
    let mut future = std::pin::pin!(client.complete(&call, &cancel));
    // The retry waits out its backoff on the manual clock.
    let done = loop {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(done) => break done.unwrap(),
            std::task::Poll::Pending => clock.advance(10_000.0),
        }
    };
    let kinds: Vec<AttemptKind> = done.attempts.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [AttemptKind::Initial, AttemptKind::Retry]);
    assert!(done.attempts[0]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("cut before the reply ended")));
    assert_eq!(transport.requests().len(), 2);
}

#[test]
fn the_live_view_starts_over_when_a_cut_stream_is_retried() {
    let (transport, stream) = cut_then_whole();
    let clock = ManualClock::starting_at(0.0);
    let mut retried = client(true, &transport, &clock);
    let live: Rc<RefCell<LiveReply>> = Rc::default();
    let cut_attempt: Rc<RefCell<Option<LiveReply>>> = Rc::default();
    let (view, cut, sent) = (live.clone(), cut_attempt.clone(), transport.clone());
    retried.set_stream_listener(Some(Rc::new(move |p: &StreamProgress| {
        view.borrow_mut().add(p);
        if sent.requests().len() == 1 {
            *cut.borrow_mut() = Some(view.borrow().clone());
        }
    })));
    let call = solver_call();
    let cancel = CancelToken::new();
    let mut future = std::pin::pin!(retried.complete(&call, &cancel));
    loop {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(done) => {
                done.unwrap();
                break;
            }
            std::task::Poll::Pending => clock.advance(10_000.0),
        };
    }
    let cut = cut_attempt
        .borrow()
        .clone()
        .expect("the cut attempt showed text");
    assert!(
        !cut.thinking.is_empty(),
        "the cut attempt streamed its thinking"
    );
    // Shown alone, the retry's stream is exactly what one uncut stream shows.
    let mut alone = LiveReply::default();
    let replayed = ScriptedTransport::new();
    replayed.push_stream(chunks(&stream, 64));
    let mut once = client(true, &replayed, &clock);
    let seen: Rc<RefCell<Vec<StreamProgress>>> = Rc::default();
    let log = seen.clone();
    once.set_stream_listener(Some(Rc::new(move |p: &StreamProgress| {
        log.borrow_mut().push(p.clone())
    })));
    ready_now(once.complete(&call, &CancelToken::new())).unwrap();
    for p in seen.borrow().iter() {
        alone.add(p);
    }
    let live = live.borrow();
    assert_eq!(
        live.thinking, alone.thinking,
        "no text of the cut attempt left"
    );
    assert_eq!(live.answer, alone.answer);
}

#[test]
fn cancelling_mid_stream_stops_the_call_at_once() {
    let transport = ScriptedTransport::new();
    let (stream, _) = claude(&solver_answer());
    let pieces = chunks(&stream, 50);
    let halfway = pieces.len() / 2;
    transport.push(ScriptedReply::Stream {
        headers: vec![("content-type".into(), "text/event-stream".into())],
        chunks: pieces,
        cut: false,
        cancel_after: Some(halfway),
    });
    let clock = ManualClock::starting_at(0.0);
    let mut client = client(true, &transport, &clock);
    let seen = Rc::new(RefCell::new(0));
    let count = seen.clone();
    client.set_stream_listener(Some(Rc::new(move |_: &StreamProgress| {
        *count.borrow_mut() += 1;
    })));
    let cancel = CancelToken::new();
    let err = ready_now(client.complete(&solver_call(), &cancel)).expect_err("cancelled");
    assert_eq!(err.error.kind(), ErrorKind::Cancelled);
    assert!(cancel.is_cancelled());
    assert_eq!(transport.requests().len(), 1, "no retry after a cancel");
    assert!(*seen.borrow() > 0, "pieces came before the cancel");
}

#[test]
fn every_provider_streams_by_default_but_the_local_server_whose_streams_carry_no_usage() {
    let registry = ProviderRegistry::builtin();
    for p in &registry.providers {
        assert_eq!(p.streams(), p.id != "local", "{}", p.id);
    }
    let mut local = registry.get("local").cloned().unwrap();
    local.streaming = Some(true);
    assert!(local.streams());
    let stored: trialogue::core::providers::ProviderSettings = serde_json::from_value(json!({
        "id": "anthropic", "label": "Anthropic", "kind": "anthropic",
        "base_url": "https://api.anthropic.com/v1", "builtin": true
    }))
    .unwrap();
    assert!(
        stored.streams(),
        "settings stored before streaming existed stream"
    );
}

#[test]
fn a_provider_with_streaming_off_is_asked_for_a_whole_reply() {
    let transport = ScriptedTransport::new();
    let (_, whole) = claude(&solver_answer());
    transport.push_json(200, whole);
    let clock = ManualClock::starting_at(0.0);
    let client = client(false, &transport, &clock);
    let done = ready_now(client.complete(&solver_call(), &CancelToken::new())).unwrap();
    assert_eq!(done.stream, None);
    let body: Value = serde_json::from_str(&transport.requests()[0].body).unwrap();
    assert!(body.get("stream").is_none(), "{body}");
}

#[test]
fn a_signed_gemini_thought_streamed_in_pieces_is_stored_as_one_part() {
    let twin = response("gemini/response_signed_thought.json");
    let want = dispatch::adapter(ProviderKind::Gemini)
        .parse_response("p", &twin, None)
        .unwrap();
    let body: Value = serde_json::from_str(&twin.body).unwrap();
    let parts = &body["candidates"][0]["content"]["parts"];
    let thought = parts[0]["text"].as_str().unwrap();
    let (a, b) = thought.split_at(thought.len() / 2);
    let events = [
        json!({"candidates": [{"content": {"parts": [{"text": a, "thought": true}], "role": "model"}, "index": 0}]}),
        json!({"candidates": [{"content": {"parts": [{"text": b, "thought": true, "thoughtSignature": parts[0]["thoughtSignature"]}], "role": "model"}, "index": 0}]}),
        json!({"candidates": [{"content": {"parts": [parts[1]], "role": "model"}, "finishReason": "STOP", "index": 0}], "usageMetadata": body["usageMetadata"], "modelVersion": body["modelVersion"]}),
    ];
    let text: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    let mut reader = StreamReader::new(
        dispatch::adapter(ProviderKind::Gemini),
        "p",
        Some("text/event-stream"),
    );
    reader.push(text.as_bytes());
    assert_eq!(reader.finish().unwrap(), want);
}

//! The reply store natively: canonical addresses, reuse by policy at $0 with provenance,
//! identical requests in flight sent once, and replay from stored replies reproducing the
//! exported JSONL, over the real client, a scripted transport and the in-memory stores.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use serde_json::{json, Value};
use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::ManualClock;
use trialogue::core::config::PipelineConfig;
use trialogue::core::driver::{NewRun, RunDriver};
use trialogue::core::llm::chat::{HttpRequest, HttpResponse};
use trialogue::core::llm::transport::{ScriptedTransport, Transport, TransportError};
use trialogue::core::llm::{AgentCall, AgentLlm};
use trialogue::core::pricing::{PriceOverrides, Pricer, RateOverride};
use trialogue::core::providers::ProviderRegistry;
use trialogue::core::replies::cache::{ReplyCache, RunScope};
use trialogue::core::replies::hub::ReplyHub;
use trialogue::core::replies::known::StoredHashes;
use trialogue::core::replies::llm::ReplySource;
use trialogue::core::replies::replay::{lines_without_timestamps, replay_run, ReplayError};
use trialogue::core::replies::store::ReplyStoreError;
use trialogue::core::replies::{MemoryReplyStore, ReplyStore, ReusePolicy};
use trialogue::core::role::AgentRole;
use trialogue::core::run_store::MemoryRunStore;
use trialogue::core::trajectory::{RunRecord, TrajectoryEntry};

use crate::util::block_on;

const START_MS: f64 = 1_780_000_000_000.0;
const KEY: &str = "sk-canary-replystore";

fn registry() -> ProviderRegistry {
    let mut registry = ProviderRegistry::builtin();
    let mut openai = registry.get("openai").cloned().expect("built-in openai");
    openai.api_key = KEY.into();
    registry.upsert(openai);
    registry
}

/// $1 per million tokens, so a paid step costs more than $0.
fn pricer() -> Rc<Pricer> {
    let mut overrides = PriceOverrides::new();
    overrides
        .insert("openai/gpt-4o-mini", RateOverride::new(1.0, 1.0))
        .unwrap();
    Rc::new(Pricer::new(None, overrides))
}

fn config(temperature: f64) -> PipelineConfig {
    let agent = |role: &str, template: &str| {
        json!({"role": role, "model": "openai/gpt-4o-mini", "temperature": temperature,
               "prompt_template": template})
    };
    let mut judge = agent("judge", "Score {solution} for {problem} by {rubric}");
    judge["scoring_rubric"] = json!("correctness");
    serde_json::from_value(json!({
        "solver": agent("solver", "Solve: {problem}\nFeedback: {feedback}"),
        "verifier": agent("verifier", "Check {solution} for {problem}"),
        "judge": judge,
        "mode": "debate",
        "max_iterations": 3,
        "config_version": "1.0"
    }))
    .expect("test config")
}

/// An OpenAI chat completion carrying `content`.
fn completion(content: Value) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content.to_string()}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        })
        .to_string(),
    }
}

/// A model that answers by the schema the request asks for: the verifier rejects a solution
/// until it has seen feedback once, so a run revises once (five steps).
fn model() -> ScriptedTransport {
    ScriptedTransport::with_responder(move |request: &HttpRequest| {
        let body = &request.body;
        let content = if body.contains("verifier_output") {
            let passed = body.contains("revised");
            json!({"passed": passed, "critique": "check the sum", "confidence": 0.8})
        } else if body.contains("judge_output") {
            json!({"score": 0.9, "reasoning": "right", "strengths": [], "weaknesses": []})
        } else {
            let solution = if body.contains("check the sum") {
                "revised: \\boxed{4}"
            } else {
                "\\boxed{4}"
            };
            json!({"solution": solution, "reasoning": "2+2", "confidence": 0.9})
        };
        Ok(completion(content))
    })
}

struct Session {
    transport: ScriptedTransport,
    hub: Rc<ReplyHub<MemoryReplyStore>>,
    store: MemoryReplyStore,
    runs: MemoryRunStore,
    clock: ManualClock,
}

impl Session {
    fn new() -> Self {
        let store = MemoryReplyStore::new();
        Session {
            transport: model(),
            hub: ReplyHub::new(store.clone()),
            store,
            runs: MemoryRunStore::new(),
            clock: ManualClock::starting_at(START_MS),
        }
    }

    fn source(
        &self,
        policy: ReusePolicy,
    ) -> ReplySource<ScriptedTransport, ManualClock, MemoryReplyStore> {
        ReplySource::new(
            registry(),
            self.transport.clone(),
            self.clock.clone(),
            self.hub.clone(),
            policy,
        )
    }

    fn run_with(
        &self,
        source: &ReplySource<ScriptedTransport, ManualClock, MemoryReplyStore>,
        config: &PipelineConfig,
    ) -> (RunRecord, Vec<TrajectoryEntry>) {
        let finished = block_on(
            RunDriver::new(source, &self.clock, &self.runs)
                .with_pricer(pricer())
                .start(NewRun {
                    config,
                    problem: "What is 2+2?",
                    ground_truth: Some("4"),
                    batch_id: None,
                }),
        )
        .expect("run starts");
        let id = finished.record.run_id.clone();
        (finished.record, self.runs.steps_of(&id))
    }

    fn run(&self, policy: ReusePolicy, temperature: f64) -> (RunRecord, Vec<TrajectoryEntry>) {
        self.run_with(&self.source(policy), &config(temperature))
    }

    fn sent(&self) -> usize {
        self.transport.sent().len()
    }
}

#[test]
fn a_rerun_at_temperature_zero_is_answered_from_the_store_at_no_cost() {
    let session = Session::new();
    let (first, first_steps) = session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.0);
    let paid = session.sent();
    assert_eq!(
        first_steps.len(),
        5,
        "solver, verifier, solver, verifier, judge"
    );
    assert_eq!(paid, 5);
    assert_eq!(session.store.len(), 5, "every paid reply stored once");
    for reply in session.store.replies() {
        assert_eq!(reply.paid_by, first.run_id);
        assert_eq!(reply.usage.map(|u| u.total_tokens), Some(120));
        assert!(!reply.request.contains(KEY), "no credentials in the store");
    }
    for step in &first_steps {
        assert_eq!(step.metadata.reused_from, None);
        assert_eq!(
            step.metadata.reuse_policy,
            Some(ReusePolicy::IdenticalAtTemperatureZero)
        );
        assert!(step.cost_usd().unwrap() > 0.0);
    }

    let (second, second_steps) = session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.0);
    assert_ne!(second.run_id, first.run_id);
    assert_eq!(session.sent(), paid, "the re-run sent nothing");
    assert_eq!(session.store.len(), 5);
    assert_eq!(second_steps.len(), first_steps.len());
    for (a, b) in first_steps.iter().zip(&second_steps) {
        assert_eq!(
            b.metadata.reused_from.as_deref(),
            Some(first.run_id.as_str())
        );
        assert_eq!(b.metadata.request_hash, a.metadata.request_hash);
        assert_eq!(b.cost_usd(), Some(0.0));
        assert_eq!(b.output, a.output);
        assert_eq!(
            b.metadata.tokens, a.metadata.tokens,
            "tokens are kept, not paid"
        );
    }
    assert_eq!(second.cost_usd, Some(0.0));
}

#[test]
fn above_temperature_zero_the_default_pays_again_and_sample_indices_keep_samples_apart() {
    let session = Session::new();
    session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.7);
    session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.7);
    assert_eq!(session.sent(), 10, "two independent samples");
    assert_eq!(
        session.store.len(),
        10,
        "each paid reply keeps its own address"
    );

    let session = Session::new();
    let sampled = |k| {
        session
            .source(ReusePolicy::IdenticalWithSampleIndex)
            .with_sample_index(k)
    };
    session.run_with(&sampled(0), &config(0.7));
    session.run_with(&sampled(1), &config(0.7));
    assert_eq!(session.sent(), 10, "sample 1 is not sample 0");
    let (_, again) = session.run_with(&sampled(1), &config(0.7));
    assert_eq!(session.sent(), 10, "a re-run of sample 1 reuses sample 1");
    assert!(again.iter().all(|s| s.cost_usd() == Some(0.0)));
}

#[test]
fn policy_never_pays_every_request_and_still_stores_each_reply() {
    let session = Session::new();
    session.run(ReusePolicy::Never, 0.0);
    let (_, steps) = session.run(ReusePolicy::Never, 0.0);
    assert_eq!(session.sent(), 10);
    assert_eq!(session.store.len(), 10);
    assert!(steps.iter().all(|s| s.metadata.reused_from.is_none()));
    assert!(steps.iter().all(|s| s.cost_usd().unwrap() > 0.0));
}

/// Polls both futures until both are done (a minimal `join`).
fn join_both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let (mut ra, mut rb) = (None, None);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(&mut cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(&mut cx) {
                rb = Some(v);
            }
        }
        if let (Some(_), Some(_)) = (&ra, &rb) {
            return (ra.unwrap(), rb.unwrap());
        }
    }
    panic!("the two calls never finished");
}

/// A transport whose replies take a few polls to come, so that calls overlap.
#[derive(Clone)]
struct Slow(ScriptedTransport);

impl Transport for Slow {
    async fn send(
        &self,
        request: &HttpRequest,
        timeout_ms: u64,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        crate::util::YieldNow(3).await;
        self.0.send(request, timeout_ms, cancel).await
    }
}

#[test]
fn identical_requests_in_flight_at_the_same_moment_are_sent_once() {
    let session = Session::new();
    let source = ReplySource::new(
        registry(),
        Slow(session.transport.clone()),
        session.clock.clone(),
        session.hub.clone(),
        ReusePolicy::IdenticalAtTemperatureZero,
    );
    let config = config(0.0);
    let a = trialogue::core::driver::LlmSource::llm_for_run(&source, &config, "run_a");
    let b = trialogue::core::driver::LlmSource::llm_for_run(&source, &config, "run_b");
    let call = AgentCall {
        role: AgentRole::Solver,
        model: "openai/gpt-4o-mini".into(),
        system_prompt: String::new(),
        user_prompt: "What is 2+2?".into(),
        temperature: 0.0,
        max_tokens: 256,
        reasoning: Default::default(),
    };
    let token = CancelToken::new();
    let (ra, rb) = join_both(a.complete(&call, &token), b.complete(&call, &token));
    let (ra, rb) = (ra.expect("a answered"), rb.expect("b answered"));
    assert_eq!(session.sent(), 1, "sent once, awaited by both");
    assert_eq!(ra.output, rb.output);
    let (pa, pb) = (ra.provenance.unwrap(), rb.provenance.unwrap());
    assert_eq!(pa.reused_from, None);
    assert_eq!(pb.reused_from.as_deref(), Some("run_a"));
    assert_eq!(pa.request_hash, pb.request_hash);
    assert_eq!(session.store.len(), 1);
}

#[test]
fn a_cancelled_leader_does_not_strand_the_identical_request_waiting_on_it() {
    let session = Session::new();
    let hub = session.hub.clone();
    let scope = |id: &str| RunScope::live(id, ReusePolicy::IdenticalAtTemperatureZero, 0);
    let a = ReplyCache::new(Slow(session.transport.clone()), hub.clone(), scope("a"));
    let b = ReplyCache::new(Slow(session.transport.clone()), hub, scope("b"));
    let request = HttpRequest {
        method: "POST".into(),
        url: "https://api.example/v1/chat".into(),
        headers: vec![],
        body: r#"{"temperature":0}"#.into(),
    };
    let cancelled = CancelToken::new();
    let live = CancelToken::new();
    {
        let mut leader = Box::pin(a.send(&request, 1000, &cancelled));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(leader.as_mut().poll(&mut cx).is_pending());
        let follower = b.send(&request, 1000, &live);
        drop(leader);
        let response = block_on(follower).expect("the follower sends it itself");
        assert_eq!(response.status, 200);
    }
    assert_eq!(session.sent(), 1);
}

/// Polls every future until all are done (a minimal `join_all`), in the order given.
fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        for (future, result) in futures.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                    *result = Some(v);
                }
            }
        }
        if results.iter().all(Option::is_some) {
            return results.into_iter().flatten().collect();
        }
    }
    panic!("the calls never finished");
}

fn solver_call(temperature: f64) -> AgentCall {
    AgentCall {
        role: AgentRole::Solver,
        model: "openai/gpt-4o-mini".into(),
        system_prompt: String::new(),
        user_prompt: "What is 2+2?".into(),
        temperature,
        max_tokens: 256,
        reasoning: Default::default(),
    }
}

fn slow_source(
    session: &Session,
    policy: ReusePolicy,
    sample_index: u32,
) -> ReplySource<Slow, ManualClock, MemoryReplyStore> {
    ReplySource::new(
        registry(),
        Slow(session.transport.clone()),
        session.clock.clone(),
        session.hub.clone(),
        policy,
    )
    .with_sample_index(sample_index)
}

#[test]
fn many_identical_requests_in_flight_are_paid_once_and_the_rest_are_reused_at_no_cost() {
    let session = Session::new();
    let source = slow_source(&session, ReusePolicy::IdenticalAtTemperatureZero, 0);
    let config = config(0.0);
    let llms: Vec<_> = (0..5)
        .map(|n| {
            trialogue::core::driver::LlmSource::llm_for_run(&source, &config, &format!("run_{n}"))
        })
        .collect();
    let call = solver_call(0.0);
    let token = CancelToken::new();
    let results = join_all(llms.iter().map(|llm| llm.complete(&call, &token)).collect());
    assert_eq!(session.sent(), 1, "five identical requests, one paid call");
    assert_eq!(session.store.len(), 1);
    let provenances: Vec<_> = results
        .into_iter()
        .map(|r| r.expect("answered").provenance.expect("provenance"))
        .collect();
    assert_eq!(provenances[0].reused_from, None, "the first one paid");
    for provenance in &provenances[1..] {
        assert_eq!(provenance.reused_from.as_deref(), Some("run_0"));
        assert_eq!(provenance.request_hash, provenances[0].request_hash);
    }
}

/// A reply store whose reads take a few polls to come, noting how many replies each read asks for.
#[derive(Clone, Default)]
struct SlowReads {
    inner: MemoryReplyStore,
    reads: Rc<std::cell::RefCell<Vec<usize>>>,
}

impl ReplyStore for SlowReads {
    async fn get_reply(
        &self,
        request_hash: &str,
    ) -> Result<Option<trialogue::core::replies::StoredReply>, ReplyStoreError> {
        self.get_replies(&[request_hash.to_string()])
            .await
            .map(|mut replies| replies.pop().flatten())
    }
    async fn get_replies(
        &self,
        request_hashes: &[String],
    ) -> Result<Vec<Option<trialogue::core::replies::StoredReply>>, ReplyStoreError> {
        self.reads.borrow_mut().push(request_hashes.len());
        crate::util::YieldNow(3).await;
        self.inner.get_replies(request_hashes).await
    }
    async fn put_reply(
        &self,
        reply: &trialogue::core::replies::StoredReply,
    ) -> Result<bool, ReplyStoreError> {
        self.inner.put_reply(reply).await
    }
    async fn stored_hashes(&self) -> Result<Vec<String>, ReplyStoreError> {
        self.inner.stored_hashes().await
    }
}

#[test]
fn requests_of_many_runs_answered_from_the_store_are_read_together() {
    let session = Session::new();
    let config = config(0.0);
    let token = CancelToken::new();
    let calls: Vec<AgentCall> = (0..5)
        .map(|n| AgentCall {
            user_prompt: format!("What is {n}+2?"),
            ..solver_call(0.0)
        })
        .collect();
    let paying = session.source(ReusePolicy::IdenticalAtTemperatureZero);
    for (n, call) in calls.iter().enumerate() {
        let llm =
            trialogue::core::driver::LlmSource::llm_for_run(&paying, &config, &format!("paid_{n}"));
        block_on(llm.complete(call, &token)).expect("paid");
    }
    assert_eq!(session.sent(), 5);
    let store = SlowReads {
        inner: session.store.clone(),
        ..SlowReads::default()
    };
    let again = ReplySource::new(
        registry(),
        session.transport.clone(),
        session.clock.clone(),
        ReplyHub::new(store.clone()),
        ReusePolicy::IdenticalAtTemperatureZero,
    );
    let llms: Vec<_> = (0..5)
        .map(|n| {
            trialogue::core::driver::LlmSource::llm_for_run(&again, &config, &format!("again_{n}"))
        })
        .collect();
    let results = join_all(
        llms.iter()
            .zip(&calls)
            .map(|(llm, call)| llm.complete(call, &token))
            .collect(),
    );
    assert_eq!(session.sent(), 5, "nothing paid again");
    for (n, result) in results.into_iter().enumerate() {
        let provenance = result.expect("answered").provenance.expect("provenance");
        assert_eq!(
            provenance.reused_from.as_deref(),
            Some(format!("paid_{n}").as_str())
        );
    }
    assert_eq!(
        *store.reads.borrow(),
        vec![1, 4],
        "the first read goes at once; the four asked while it was on its way go together"
    );
}

#[test]
fn when_the_leader_fails_the_identical_request_waiting_on_it_is_sent_by_itself() {
    let session = Session::new();
    session
        .transport
        .push_json(500, r#"{"error":{"message":"overloaded"}}"#);
    let hub = session.hub.clone();
    let scope = |id: &str| RunScope::live(id, ReusePolicy::IdenticalAtTemperatureZero, 0);
    let caches: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| ReplyCache::new(Slow(session.transport.clone()), hub.clone(), scope(id)))
        .collect();
    let request = HttpRequest {
        method: "POST".into(),
        url: "https://api.example/v1/chat".into(),
        headers: vec![],
        body: r#"{"temperature":0}"#.into(),
    };
    let token = CancelToken::new();
    let results = join_all(
        caches
            .iter()
            .map(|cache| cache.send(&request, 1000, &token))
            .collect(),
    );
    let statuses: Vec<u16> = results
        .into_iter()
        .map(|r| r.expect("a response").status)
        .collect();
    assert_eq!(statuses, [500, 200, 200], "the leader's failure is its own");
    assert_eq!(
        session.sent(),
        2,
        "the first follower sent it again, the second awaited that one"
    );
}

#[test]
fn identical_requests_in_flight_above_temperature_zero_stay_apart_by_sample_index() {
    let session = Session::new();
    let config = config(0.7);
    let call = solver_call(0.7);
    let token = CancelToken::new();
    let sample = |k| slow_source(&session, ReusePolicy::IdenticalWithSampleIndex, k);
    let (zero, one, one_again) = (sample(0), sample(1), sample(1));
    let llm = |source: &ReplySource<Slow, ManualClock, MemoryReplyStore>, run: &str| {
        trialogue::core::driver::LlmSource::llm_for_run(source, &config, run)
    };
    let llms = [
        llm(&zero, "sample_0"),
        llm(&one, "sample_1"),
        llm(&one_again, "sample_1_again"),
    ];
    let results = join_all(llms.iter().map(|l| l.complete(&call, &token)).collect());
    assert_eq!(
        session.sent(),
        2,
        "samples 0 and 1 are two independent samples; sample 1 asked twice is paid once"
    );
    let provenances: Vec<_> = results
        .into_iter()
        .map(|r| r.expect("answered").provenance.expect("provenance"))
        .collect();
    assert_ne!(provenances[0].request_hash, provenances[1].request_hash);
    assert_eq!(provenances[0].reused_from, None);
    assert_eq!(provenances[1].reused_from, None);
    assert_eq!(provenances[2].reused_from.as_deref(), Some("sample_1"));

    // Under the default policy, nothing above temperature 0 is shared, even in flight.
    let session = Session::new();
    let source = slow_source(&session, ReusePolicy::IdenticalAtTemperatureZero, 0);
    let llms: Vec<_> = (0..3).map(|n| llm(&source, &format!("run_{n}"))).collect();
    join_all(llms.iter().map(|l| l.complete(&call, &token)).collect());
    assert_eq!(session.sent(), 3);
}

#[test]
fn a_replay_from_stored_replies_exports_the_same_jsonl_and_sends_nothing() {
    let session = Session::new();
    let (record, steps) = session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.0);
    let sent = session.sent();
    let pricer = pricer();
    let replayed = block_on(replay_run(
        &record,
        &steps,
        registry(),
        &session.clock,
        session.hub.clone(),
        Some(pricer.as_ref()),
    ))
    .expect("every reply is stored");
    assert_eq!(session.sent(), sent, "the replay sent no request");
    assert_eq!(
        lines_without_timestamps(&replayed).unwrap(),
        lines_without_timestamps(&steps).unwrap()
    );
    assert!(replayed.iter().any(|s| s.cost_usd().unwrap() > 0.0));
}

#[test]
fn a_replay_reproduces_a_run_that_itself_reused_replies() {
    let session = Session::new();
    session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.0);
    let (record, steps) = session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.0);
    let replayed = block_on(replay_run(
        &record,
        &steps,
        registry(),
        &session.clock,
        session.hub.clone(),
        Some(pricer().as_ref()),
    ))
    .unwrap();
    assert_eq!(
        lines_without_timestamps(&replayed).unwrap(),
        lines_without_timestamps(&steps).unwrap()
    );
}

#[test]
fn a_replay_with_a_missing_reply_stops_and_names_the_request() {
    let session = Session::new();
    let (record, steps) = session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.0);
    // Only the first two replies survive (e.g. the rest were cleared).
    let partial = MemoryReplyStore::new();
    for step in &steps[..2] {
        let hash = step.metadata.request_hash.as_deref().unwrap();
        let reply = block_on(session.store.get_reply(hash)).unwrap().unwrap();
        block_on(partial.put_reply(&reply)).unwrap();
    }
    let sent = session.sent();
    let error = block_on(replay_run(
        &record,
        &steps,
        registry(),
        &session.clock,
        ReplyHub::new(partial),
        Some(pricer().as_ref()),
    ))
    .unwrap_err();
    let expected = steps[2].metadata.request_hash.clone().unwrap();
    match &error {
        ReplayError::MissingReply {
            step, request_hash, ..
        } => assert_eq!((*step, request_hash), (3, &expected)),
        other => panic!("expected a missing reply, got {other:?}"),
    }
    assert!(error.to_string().contains(&expected));
    assert!(error.to_string().contains("api.openai.com"));
    assert_eq!(session.sent(), sent, "the replay sent no request");
}

// ---------------------------------------------------------------------------------------------
// The app's wiring: batches, streaming, the policy a stored run goes on with
// ---------------------------------------------------------------------------------------------

fn same_problem_twice() -> Vec<trialogue::core::dataset::Problem> {
    ["P1", "P2"]
        .into_iter()
        .map(|id| trialogue::core::dataset::Problem {
            id: id.into(),
            problem: "What is 2+2?".into(),
            ground_truth: Some("4".into()),
            domain: None,
            metadata: Default::default(),
        })
        .collect()
}

fn batch_of_the_same_problem_twice(
    session: &Session,
    policy: ReusePolicy,
) -> trialogue::core::batch::BatchRecord {
    use trialogue::core::batch::scheduler::BatchControl;
    use trialogue::core::batch::{BatchModes, BatchSpec};
    let spec = BatchSpec::new(
        "twice",
        "ds_000000000000",
        "fixture",
        vec!["P1".into(), "P2".into()],
        BatchModes::Debate,
        1,
        config(0.0),
        START_MS,
        |_| false,
    )
    .unwrap()
    .with_reuse_policy(policy);
    let source = session.source(policy);
    block_on(
        trialogue::core::driver::BatchDriver::new(&source, &session.clock, &session.runs)
            .with_pricer(pricer())
            .start(spec, &same_problem_twice(), BatchControl::new()),
    )
    .expect("the batch starts")
}

#[test]
fn a_batch_item_reuses_what_an_earlier_item_paid_for_and_names_that_run() {
    let session = Session::new();
    let record = batch_of_the_same_problem_twice(&session, ReusePolicy::IdenticalAtTemperatureZero);
    let (first, second) = (
        record.items[0].run_id.clone().unwrap(),
        record.items[1].run_id.clone().unwrap(),
    );
    assert_eq!(
        session.sent(),
        5,
        "the second item's requests were paid once"
    );
    let paid = session.runs.steps_of(&first);
    let reused = session.runs.steps_of(&second);
    assert_eq!(reused.len(), paid.len());
    assert!(paid.iter().all(|s| s.metadata.reused_from.is_none()));
    for step in &reused {
        assert_eq!(step.metadata.reused_from.as_deref(), Some(first.as_str()));
        assert_eq!(step.cost_usd(), Some(0.0));
    }
    // The store says who paid, not whoever reused it last.
    assert!(session.store.replies().iter().all(|r| r.paid_by == first));
    assert_eq!(record.items[1].cost_usd, Some(0.0));
}

#[test]
fn a_batch_made_with_policy_never_pays_every_item_and_resumes_with_never() {
    use trialogue::core::replies::resume;
    let session = Session::new();
    let record = batch_of_the_same_problem_twice(&session, ReusePolicy::Never);
    assert_eq!(session.sent(), 10);
    let batch_id = &record.spec.batch_id;
    assert_eq!(
        block_on(resume::batch_policy(&session.runs, batch_id)).unwrap(),
        ReusePolicy::Never
    );
    let run_id = record.items[1].run_id.clone().unwrap();
    assert_eq!(
        block_on(resume::run_policy(&session.runs, &run_id)).unwrap(),
        ReusePolicy::Never
    );
    assert_eq!(
        block_on(resume::batch_policy(&session.runs, "batch_unknown")).unwrap(),
        ReusePolicy::default()
    );
}

#[test]
fn a_run_with_no_step_yet_goes_on_with_its_batchs_policy() {
    use trialogue::core::batch::{BatchModes, BatchRecord, BatchSpec};
    use trialogue::core::replies::resume;
    use trialogue::core::run_store::{BatchStore, RunStore};
    let runs = MemoryRunStore::new();
    let spec = BatchSpec::new(
        "b",
        "ds_000000000000",
        "fixture",
        vec!["P1".into()],
        BatchModes::Debate,
        1,
        config(0.7),
        START_MS,
        |_| false,
    )
    .unwrap()
    .with_reuse_policy(ReusePolicy::IdenticalWithSampleIndex);
    block_on(runs.put_batch(&BatchRecord::new(spec.clone()))).unwrap();
    let mut record = RunRecord::start("", &config(0.7), "h", "p", None, START_MS);
    record.batch_id = Some(spec.batch_id.clone());
    block_on(runs.create_run_under_free_id(&mut record)).unwrap();
    assert_eq!(
        block_on(resume::run_policy(&runs, &record.run_id)).unwrap(),
        ReusePolicy::IdenticalWithSampleIndex
    );
    let mut alone = RunRecord::start("", &config(0.7), "h", "q", None, START_MS);
    block_on(runs.create_run_under_free_id(&mut alone)).unwrap();
    assert_eq!(
        block_on(resume::run_policy(&runs, &alone.run_id)).unwrap(),
        ReusePolicy::default()
    );
}

#[test]
fn a_streamed_paid_reply_streams_through_the_cache_and_a_reused_one_comes_whole() {
    let session = Session::new();
    let transport = ScriptedTransport::new();
    let chunks: Vec<Vec<u8>> = vec![b"data: {\"a\":".to_vec(), b"1}\n\n".to_vec()];
    transport.push_stream(chunks.clone());
    let scope = |id: &str| RunScope::live(id, ReusePolicy::IdenticalAtTemperatureZero, 0);
    let request = HttpRequest {
        method: "POST".into(),
        url: "https://api.example/v1/chat".into(),
        headers: vec![],
        body: r#"{"stream":true,"temperature":0}"#.into(),
    };
    let token = CancelToken::new();

    let paid = ReplyCache::new(transport.clone(), session.hub.clone(), scope("a"));
    let mut pieces = Vec::new();
    let response = block_on(
        paid.send_streaming(&request, 1000, &token, &mut |c: &[u8], _| {
            pieces.push(c.to_vec())
        }),
    )
    .unwrap();
    assert_eq!(pieces, chunks, "each piece as it came");
    assert_eq!(
        response.body, "",
        "a streamed body goes to the listener only"
    );
    let note = paid.notes().borrow()[0].clone();
    let stored = note.paid.expect("paid");
    assert_eq!(stored.body, "data: {\"a\":1}\n\n", "the whole body is kept");

    // What the LLM wrapper does after the call: store it.
    block_on(
        session
            .store
            .put_reply(&trialogue::core::replies::StoredReply {
                request_hash: note.request_hash.clone(),
                request: note.request.clone(),
                response: stored,
                usage: None,
                paid_by: "a".into(),
                stored_ms: START_MS,
            }),
    )
    .unwrap();
    let reused = ReplyCache::new(transport.clone(), session.hub.clone(), scope("b"));
    let mut pieces = Vec::new();
    let response = block_on(
        reused.send_streaming(&request, 1000, &token, &mut |c: &[u8], _| {
            pieces.push(c.to_vec())
        }),
    )
    .unwrap();
    assert_eq!(pieces, vec![b"data: {\"a\":1}\n\n".to_vec()]);
    assert_eq!(response.body, "");
    assert_eq!(transport.sent().len(), 1, "the reuse sent nothing");
    assert_eq!(reused.notes().borrow()[0].reused_from.as_deref(), Some("a"));
}

// ---------------------------------------------------------------------------------------------
// Replay into a new run (the Replay button)
// ---------------------------------------------------------------------------------------------

fn replay_into_new_run(
    session: &Session,
    original: &RunRecord,
    steps: &[TrajectoryEntry],
    hub: Rc<ReplyHub<MemoryReplyStore>>,
) -> Result<trialogue::core::driver::Finished, ReplayError> {
    use trialogue::core::driver::NoLocks;
    use trialogue::core::replies::replay::{replay_as_new_run, ReplayInputs};
    block_on(replay_as_new_run(
        original,
        steps,
        ReplayInputs {
            registry: registry(),
            clock: &session.clock,
            hub,
            store: &session.runs,
            locks: &NoLocks,
            pricer: Some(pricer()),
            listener: None,
        },
    ))
}

/// What a replay into a new run must reproduce: each line with what differs by design
/// blanked (when it ran, its id, and that it paid nothing).
fn reproduced(steps: &[TrajectoryEntry]) -> Vec<String> {
    let steps: Vec<TrajectoryEntry> = steps
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.run_id.clear();
            s.metadata.cost_usd = None;
            s.metadata.reused_from = None;
            s
        })
        .collect();
    lines_without_timestamps(&steps).unwrap()
}

#[test]
fn a_replay_into_a_new_run_reproduces_every_step_at_no_cost_and_sends_nothing() {
    for (policy, temperature) in [
        (ReusePolicy::IdenticalAtTemperatureZero, 0.0),
        // Requests that may not be reused are addressed by the run that made them.
        (ReusePolicy::Never, 0.7),
    ] {
        let session = Session::new();
        let (original, steps) = session.run(policy, temperature);
        let sent = session.sent();
        let finished = replay_into_new_run(&session, &original, &steps, session.hub.clone())
            .expect("every reply is stored");
        assert_eq!(session.sent(), sent, "the replay sent no request");
        let replay_id = finished.record.run_id.clone();
        assert_ne!(replay_id, original.run_id, "a new run");
        let replayed = session.runs.steps_of(&replay_id);
        assert_eq!(reproduced(&replayed), reproduced(&steps));
        for step in &replayed {
            assert_eq!(step.run_id, replay_id);
            assert_eq!(
                step.metadata.reused_from.as_deref(),
                Some(original.run_id.as_str())
            );
            assert_eq!(step.cost_usd(), Some(0.0));
        }
        assert_eq!(finished.record.status, original.status);
        assert_eq!(finished.record.cost_usd, Some(0.0));
        // The original is untouched.
        assert_eq!(session.runs.steps_of(&original.run_id), steps);
    }
}

#[test]
fn a_replay_into_a_new_run_with_a_missing_reply_fails_that_run_naming_the_request() {
    let session = Session::new();
    let (original, steps) = session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.0);
    let partial = MemoryReplyStore::new();
    for step in &steps[..2] {
        let hash = step.metadata.request_hash.as_deref().unwrap();
        let reply = block_on(session.store.get_reply(hash)).unwrap().unwrap();
        block_on(partial.put_reply(&reply)).unwrap();
    }
    let sent = session.sent();
    let error =
        replay_into_new_run(&session, &original, &steps, ReplyHub::new(partial)).unwrap_err();
    assert_eq!(session.sent(), sent);
    let expected = steps[2].metadata.request_hash.clone().unwrap();
    let ReplayError::MissingReply {
        step,
        request_hash,
        endpoint,
    } = &error
    else {
        panic!("not a missing reply: {error}");
    };
    assert_eq!((*step, request_hash), (3, &expected));
    assert!(endpoint.starts_with("POST "), "{endpoint}");
    let replay = session
        .runs
        .records()
        .into_iter()
        .find(|r| r.run_id != original.run_id)
        .expect("the replay's run is stored");
    assert_eq!(
        replay.status,
        trialogue::core::trajectory::RunStatus::Failed
    );
    assert!(replay.message.unwrap().contains(&expected));
    assert_eq!(session.runs.steps_of(&replay.run_id).len(), 2);
}

/// A model whose solver always answers the same, so the verifier is asked the very same
/// request again; it rejects the first time it is asked and passes the second.
fn stubborn_model() -> ScriptedTransport {
    let verdicts = Rc::new(std::cell::Cell::new(0));
    ScriptedTransport::with_responder(move |request: &HttpRequest| {
        let body = &request.body;
        let content = if body.contains("verifier_output") {
            verdicts.set(verdicts.get() + 1);
            json!({"passed": verdicts.get() > 1, "critique": "look again", "confidence": 0.8})
        } else if body.contains("judge_output") {
            json!({"score": 0.9, "reasoning": "right", "strengths": [], "weaknesses": []})
        } else {
            json!({"solution": "\\boxed{4}", "reasoning": "2+2", "confidence": 0.9})
        };
        Ok(completion(content))
    })
}

#[test]
fn a_request_a_run_repeats_is_sent_again_and_a_rerun_reuses_each_repeat_in_turn() {
    let mut session = Session::new();
    session.transport = stubborn_model();
    // The solver's prompt carries no feedback here, so its second request equals its first.
    let mut config = config(0.0);
    config.solver.prompt_template = "Solve: {problem}".into();
    let source = session.source(ReusePolicy::IdenticalAtTemperatureZero);
    let (first, steps) = session.run_with(&source, &config);
    let verdicts: Vec<_> = steps
        .iter()
        .filter(|s| s.agent == "verifier")
        .map(|s| s.output["passed"].clone())
        .collect();
    assert_eq!(
        verdicts,
        [json!(false), json!(true)],
        "asked again, answered anew"
    );
    assert!(steps.iter().all(|s| s.metadata.reused_from.is_none()));
    let paid = session.sent();
    assert_eq!(paid, steps.len(), "every request of the run was sent");

    let (_, again) = session.run_with(&source, &config);
    assert_eq!(session.sent(), paid, "the re-run sent nothing");
    assert_eq!(
        again.iter().map(|s| &s.output).collect::<Vec<_>>(),
        steps.iter().map(|s| &s.output).collect::<Vec<_>>(),
        "each repeat reused in turn"
    );
    assert!(again
        .iter()
        .all(|s| s.metadata.reused_from.as_deref() == Some(first.run_id.as_str())));
}

// ---------------------------------------------------------------------------------------------
// Fork and re-judge through the reply store (the run page's Fork and Re-judge)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_fork_through_the_store_sends_only_what_its_edited_config_changes() {
    use trialogue::core::driver::Fork;
    let session = Session::new();
    let (source, steps) = session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.0);
    assert_eq!(steps.len(), 5);
    let sent = session.sent();
    let mut edited = source.config.clone().unwrap();
    edited.verifier.model = "openai/gpt-4o".into();
    let llm = session.source(ReusePolicy::IdenticalAtTemperatureZero);
    let fork = Fork {
        source: &source,
        steps: &steps,
        at_step: 3,
        config: &edited,
    };
    let finished = block_on(
        RunDriver::new(&llm, &session.clock, &session.runs)
            .with_pricer(pricer())
            .fork(fork),
    )
    .unwrap();
    let forked = session.runs.steps_of(&finished.record.run_id);
    assert_eq!(forked.len(), 5);
    // Steps 1–2 carried (never asked for), step 3 and the judge's identical requests reused,
    // only the new verifier model's request sent.
    let new_requests: Vec<HttpRequest> = session.transport.requests()[sent..].to_vec();
    assert_eq!(new_requests.len(), 1);
    assert!(new_requests[0].body.contains("\"gpt-4o\""));
    assert!(forked[..2]
        .iter()
        .all(|s| s.metadata.reused_from.is_none() && s.metadata.forked_from.is_some()));
    assert_eq!(
        forked[2].metadata.reused_from.as_deref(),
        Some(source.run_id.as_str())
    );
    assert_eq!(forked[3].metadata.reused_from, None);
    assert_eq!(forked[3].metadata.model.as_deref(), Some("openai/gpt-4o"));
    assert_eq!(
        forked[4].metadata.reused_from.as_deref(),
        Some(source.run_id.as_str())
    );
    assert_eq!(session.runs.steps_of(&source.run_id), steps);
}

#[test]
fn a_rejudge_through_the_store_sends_exactly_the_judges_request() {
    let session = Session::new();
    let (source, steps) = session.run(ReusePolicy::IdenticalAtTemperatureZero, 0.0);
    let sent = session.sent();
    let mut judge = source.config.clone().unwrap().judge;
    judge.scoring_rubric = "brevity".into();
    let llm = session.source(ReusePolicy::IdenticalAtTemperatureZero);
    let finished = block_on(
        RunDriver::new(&llm, &session.clock, &session.runs)
            .with_pricer(pricer())
            .rejudge(&source, &steps, judge),
    )
    .unwrap();
    let new_requests: Vec<HttpRequest> = session.transport.requests()[sent..].to_vec();
    assert_eq!(new_requests.len(), 1);
    assert!(new_requests[0].body.contains("brevity"));
    assert!(new_requests[0].body.contains("judge_output"));
    let rejudged = session.runs.steps_of(&finished.record.run_id);
    assert!(rejudged[4].cost_usd().unwrap() > 0.0);
    assert!(
        rejudged[4].metadata.request_hash.is_some(),
        "made through the store"
    );
    assert_eq!(session.runs.steps_of(&source.run_id), steps);
}

// ---- the hub: writes off the call's path, in order; the index of stored hashes ----

/// A store that counts its reads and logs its writes, and can be made to refuse writes.
#[derive(Clone, Default)]
struct WatchedStore {
    inner: MemoryReplyStore,
    reads: Rc<std::cell::Cell<usize>>,
    hash_lists: Rc<std::cell::Cell<usize>>,
    written: Rc<std::cell::RefCell<Vec<String>>>,
    refuse_writes: Rc<std::cell::Cell<bool>>,
}

impl ReplyStore for WatchedStore {
    async fn get_reply(
        &self,
        request_hash: &str,
    ) -> Result<Option<trialogue::core::replies::StoredReply>, ReplyStoreError> {
        self.reads.set(self.reads.get() + 1);
        self.inner.get_reply(request_hash).await
    }

    async fn put_reply(
        &self,
        reply: &trialogue::core::replies::StoredReply,
    ) -> Result<bool, ReplyStoreError> {
        if self.refuse_writes.get() {
            return Err(ReplyStoreError(
                "QuotaExceededError: the disk is full".into(),
            ));
        }
        self.written.borrow_mut().push(reply.request_hash.clone());
        self.inner.put_reply(reply).await
    }

    async fn stored_hashes(&self) -> Result<Vec<String>, ReplyStoreError> {
        self.hash_lists.set(self.hash_lists.get() + 1);
        self.inner.stored_hashes().await
    }
}

type Spawned = Rc<std::cell::RefCell<Vec<std::pin::Pin<Box<dyn Future<Output = ()>>>>>>;

/// A hub whose background writes wait in `spawned` until the test runs them.
fn background_hub(store: &WatchedStore) -> (Rc<ReplyHub<WatchedStore>>, Spawned) {
    let spawned: Spawned = Rc::default();
    let queue = spawned.clone();
    let hub = ReplyHub::in_background(
        store.clone(),
        StoredHashes::new(),
        Rc::new(move |task| queue.borrow_mut().push(task)),
    );
    (hub, spawned)
}

fn run_spawned(spawned: &Spawned) {
    let tasks: Vec<_> = spawned.borrow_mut().drain(..).collect();
    for task in tasks {
        block_on(task);
    }
}

fn run_on_hub(
    hub: &Rc<ReplyHub<WatchedStore>>,
    transport: &ScriptedTransport,
    runs: &MemoryRunStore,
) -> (RunRecord, Vec<TrajectoryEntry>) {
    let clock = ManualClock::starting_at(START_MS);
    let source = ReplySource::new(
        registry(),
        transport.clone(),
        clock.clone(),
        hub.clone(),
        ReusePolicy::IdenticalAtTemperatureZero,
    );
    let finished = block_on(
        RunDriver::new(&source, &clock, runs)
            .with_pricer(pricer())
            .start(NewRun {
                config: &config(0.0),
                problem: "What is 2+2?",
                ground_truth: Some("4"),
                batch_id: None,
            }),
    )
    .expect("run starts");
    let id = finished.record.run_id.clone();
    (finished.record, runs.steps_of(&id))
}

#[test]
fn a_paid_call_goes_on_before_its_reply_is_written_and_the_writes_keep_the_pay_order() {
    let store = WatchedStore::default();
    let (hub, spawned) = background_hub(&store);
    let transport = model();
    let runs = MemoryRunStore::new();

    let (first, first_steps) = run_on_hub(&hub, &transport, &runs);
    assert_eq!(first_steps.len(), 5);
    assert_eq!(transport.sent().len(), 5);
    assert!(
        store.inner.is_empty(),
        "the run finished with every write still queued: no call waited on one"
    );
    assert_eq!(spawned.borrow().len(), 1, "one writer drains the queue");

    // An identical run in the same session finds the queued replies: nothing is paid again.
    let (_, second_steps) = run_on_hub(&hub, &transport, &runs);
    assert_eq!(transport.sent().len(), 5, "the re-run sent nothing");
    for step in &second_steps {
        assert_eq!(
            step.metadata.reused_from.as_deref(),
            Some(first.run_id.as_str())
        );
    }

    let mut flushed = pin!(hub.flushed());
    assert!(
        poll_once(flushed.as_mut()).is_pending(),
        "not flushed while writes are queued"
    );
    run_spawned(&spawned);
    assert!(poll_once(flushed.as_mut()).is_ready());
    let paid_order: Vec<_> = first_steps
        .iter()
        .map(|s| s.metadata.request_hash.clone().unwrap())
        .collect();
    assert_eq!(
        *store.written.borrow(),
        paid_order,
        "written in the order paid"
    );
    assert_eq!(store.inner.len(), 5);
    assert!(hub.take_failures().is_empty());
}

#[test]
fn a_paid_call_reads_nothing_from_the_store_and_the_index_is_read_once() {
    let store = WatchedStore::default();
    let (hub, spawned) = background_hub(&store);
    let transport = model();
    let runs = MemoryRunStore::new();
    run_on_hub(&hub, &transport, &runs);
    assert_eq!(
        store.reads.get(),
        0,
        "no reply read for a request not stored"
    );
    assert_eq!(store.hash_lists.get(), 1, "the stored hashes are read once");
    run_spawned(&spawned);

    // A new session over the same store (a new page, or another tab) lists them and reuses
    // them, reading each reply it uses.
    let (hub, _spawned) = background_hub(&store);
    run_on_hub(&hub, &transport, &runs);
    assert_eq!(transport.sent().len(), 5, "nothing paid twice");
    assert_eq!(
        store.reads.get(),
        5,
        "each listed reply read once, to be used"
    );
}

#[test]
fn a_listed_reply_gone_from_the_store_is_paid_again_not_trusted() {
    let store = WatchedStore::default();
    let (hub, spawned) = background_hub(&store);
    let transport = model();
    let runs = MemoryRunStore::new();
    run_on_hub(&hub, &transport, &runs);
    run_spawned(&spawned);
    // Another tab clears the store; this session's index still lists every hash.
    store.inner.remove_older_than(f64::INFINITY);
    let (_, steps) = run_on_hub(&hub, &transport, &runs);
    assert_eq!(transport.sent().len(), 10, "every call paid again");
    assert!(steps.iter().all(|s| s.metadata.reused_from.is_none()));
}

#[test]
fn a_reply_stored_by_another_tab_after_the_index_was_read_is_found_once_announced() {
    let store = WatchedStore::default();
    let known = StoredHashes::new();
    let other_tab = MemoryReplyStore::new();
    let hub = ReplyHub::in_background(store.clone(), known.clone(), Rc::new(|_| {}));
    let transport = model();
    let runs = MemoryRunStore::new();
    // The index is read (empty) by a first lookup.
    assert!(block_on(hub.lookup("nothing")).is_none());
    // The other tab pays the five replies into the shared database and announces them.
    let other_hub = ReplyHub::new(other_tab.clone());
    let clock = ManualClock::starting_at(START_MS);
    let source = ReplySource::new(
        registry(),
        transport.clone(),
        clock.clone(),
        other_hub,
        ReusePolicy::IdenticalAtTemperatureZero,
    );
    block_on(RunDriver::new(&source, &clock, &runs).start(NewRun {
        config: &config(0.0),
        problem: "What is 2+2?",
        ground_truth: Some("4"),
        batch_id: None,
    }))
    .unwrap();
    for reply in other_tab.replies() {
        block_on(store.inner.put_reply(&reply)).unwrap();
        known.insert(&reply.request_hash);
    }
    run_on_hub(&hub, &transport, &runs);
    assert_eq!(
        transport.sent().len(),
        5,
        "this tab reused the other's replies"
    );
}

#[test]
fn a_write_the_store_refuses_is_reported_and_its_hash_is_not_listed() {
    let store = WatchedStore::default();
    store.refuse_writes.set(true);
    let (hub, spawned) = background_hub(&store);
    let transport = model();
    let runs = MemoryRunStore::new();
    let (first, steps) = run_on_hub(&hub, &transport, &runs);
    run_spawned(&spawned);
    let failures = hub.take_failures();
    assert_eq!(
        failures.len(),
        steps.len(),
        "every refused write is reported"
    );
    assert!(failures.iter().all(|f| f.paid_by == first.run_id));
    assert!(failures[0].to_string().contains("QuotaExceededError"));
    assert!(hub.take_failures().is_empty(), "each reported once");
    // Nothing is stored, and the index does not pretend otherwise: the next run pays.
    store.refuse_writes.set(false);
    run_on_hub(&hub, &transport, &runs);
    assert_eq!(transport.sent().len(), 10);
}

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn an_experiments_configs_go_abreast_and_the_turns_they_share_are_paid_once() {
    use std::cell::RefCell;
    use std::collections::HashSet;
    use trialogue::app::experiment::vary;
    use trialogue::core::batch::scheduler::{BatchControl, BatchEvent};
    use trialogue::core::batch::BatchEngine;
    use trialogue::core::driver::BatchProgress;
    use trialogue::core::experiment::driver::{create, ArmProgress, ExperimentDriver};
    use trialogue::core::experiment::{ExperimentPlan, ExperimentStatus};

    let session = Session::new();
    session
        .runs
        .insert_dataset("ds_fixture", crate::batch::problems());
    // Only the verifier differs: the solver's turns and the judge's are the same requests.
    let plan = ExperimentPlan {
        name: "verifier model".into(),
        dataset_id: "ds_fixture".into(),
        dataset_name: "fixture".into(),
        problem_ids: vec!["P1".into(), "P2".into(), "P3".into()],
        concurrency: 2,
        varied_field: Some("verifier.model".into()),
        arms: vary(
            &config(0.0),
            "verifier.model",
            "openai/gpt-4o-mini\nopenai/gpt-4o\n",
        )
        .unwrap(),
        engine: BatchEngine::Live,
    };
    let experiment =
        block_on(create(&session.runs, &plan, &[], &HashSet::new(), START_MS)).unwrap();
    let source = slow_source(&session, ReusePolicy::IdenticalAtTemperatureZero, 0);
    let started: RefCell<Vec<(usize, usize)>> = RefCell::default();
    let listener = |p: &ArmProgress<'_>| {
        if let BatchProgress::Batch {
            event: BatchEvent::RunStarted { index },
            ..
        } = p.progress
        {
            started.borrow_mut().push((p.arm, *index));
        }
    };
    let done = block_on(
        ExperimentDriver::new(&source, &session.clock, &session.runs)
            .with_pricer(pricer())
            .with_listener(&listener)
            .resume(&experiment, None, &BatchControl::new()),
    )
    .unwrap();
    assert_eq!(done.status(), ExperimentStatus::Completed);
    assert_eq!(
        started.borrow()[..2],
        [(0, 0), (1, 0)],
        "both configs take on the first problem together, under the one limit of 2"
    );
    // Per problem: solver, two verifiers, revised solver, two verifiers, judge.
    let distinct = 7 * 3;
    assert_eq!(
        session.sent(),
        distinct,
        "paid calls are the distinct requests"
    );
    assert_eq!(session.store.len(), distinct);
    let steps: Vec<TrajectoryEntry> = session
        .runs
        .records()
        .iter()
        .flat_map(|r| session.runs.steps_of(&r.run_id))
        .collect();
    assert_eq!(steps.len(), 2 * 3 * 5);
    let reused = steps
        .iter()
        .filter(|s| s.metadata.reused_from.is_some())
        .count();
    assert_eq!(
        reused,
        steps.len() - distinct,
        "every shared turn is reused once"
    );
    assert!(steps
        .iter()
        .filter(|s| s.metadata.reused_from.is_some())
        .all(|s| s.cost_usd() == Some(0.0)));
}

//! Provider batch mode through Anthropic's Message Batches and Gemini's batch mode: each
//! family's request building against its live adapter, its readers over results shaped as its
//! reference documents them, and a debate batch driven end to end through a fake of each API.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use serde_json::{json, Value};

use trialogue::core::batch::scheduler::BatchControl;
use trialogue::core::batch::{BatchModes, BatchRecord, BatchStatus, ItemStatus, MAX_CONCURRENCY};
use trialogue::core::clock::{Clock, ManualClock};
use trialogue::core::config::PipelineConfig;
use trialogue::core::cost::reprice;
use trialogue::core::dataset::Problem;
use trialogue::core::driver::startup::mark_abandoned;
use trialogue::core::driver::{BatchDriver, ClientSource, MemoryLocks};
use trialogue::core::llm::chat::{HttpRequest, HttpResponse};
use trialogue::core::llm::transport::{ScriptedTransport, TransportError};
use trialogue::core::llm::SentVia;
use trialogue::core::pricing::{PriceOverrides, Pricer, PricingTable};
use trialogue::core::provider_batch::{
    anthropic, gemini, BatchFamily, BatchJournal, BatchState, CustomId, ItemOutcome, MemoryJournal,
    ProviderBatchEngine, ProviderBatchOptions, RoundRecord, RoundStatus,
};
use trialogue::core::providers::ProviderRegistry;
use trialogue::core::replies::hub::ReplyHub;
use trialogue::core::replies::MemoryReplyStore;
use trialogue::core::run_store::{BatchStore, MemoryRunStore, RunStore};

use crate::batch::{problem, problems, spec_with, START_MS};
use crate::util::{block_on, Driver, YieldNow};

const TURNAROUND_MS: f64 = 90_000.0;
const POLL_MS: u64 = 30_000;
const ANTHROPIC_ROOT: &str = "https://api.anthropic.com/v1";
const GEMINI_ROOT: &str = "https://generativelanguage.googleapis.com/v1beta";
const CLAUDE: &str = "claude-3-5-haiku-20241022";
const GEMINI: &str = "gemini-2.0-flash";

#[derive(Clone)]
struct YieldingClock(ManualClock);

impl Clock for YieldingClock {
    fn now_ms(&self) -> f64 {
        self.0.now_ms()
    }
    async fn sleep(&self, ms: u64) {
        self.0.sleep(ms).await;
        YieldNow(1).await;
    }
}

/// One batch as the fake holds it: its entries in submission order, when it was made.
struct FakeBatch {
    entries: Vec<(String, Value)>,
    created_ms: f64,
}

#[derive(Default)]
struct FakeState {
    batches: BTreeMap<String, FakeBatch>,
    /// Custom ids in the order they were submitted.
    submitted: Vec<String>,
    /// Every entry's request body as submitted, by custom id.
    bodies: BTreeMap<String, Value>,
    live_calls: usize,
    /// Custom ids that expire (once each).
    expire: HashSet<String>,
    /// Custom ids that the provider fails (once each).
    fail: HashSet<String>,
    cancels: usize,
}

/// A fake of one family's batch API (and its live endpoint), over a scripted transport.
#[derive(Clone)]
struct Fake {
    state: Rc<RefCell<FakeState>>,
    transport: ScriptedTransport,
}

fn respond(status: u16, body: Value) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string(),
    })
}

/// The structured answer a model gives to a request body of `family`: right answers, a passing
/// verifier.
fn answer(family: BatchFamily, body: &Value) -> Value {
    let (schema, prompt) = match family {
        BatchFamily::Anthropic => (
            &body["tools"][0]["input_schema"],
            body["messages"]
                .as_array()
                .and_then(|m| m.last())
                .map(|m| &m["content"]),
        ),
        _ => (
            &body["generationConfig"]["responseJsonSchema"],
            body["contents"]
                .as_array()
                .and_then(|m| m.last())
                .map(|m| &m["parts"][0]["text"]),
        ),
    };
    let prompt = prompt.and_then(Value::as_str).unwrap_or("");
    let truth = ["2+2", "3*3", "10-7"]
        .iter()
        .zip(["4", "9", "3"])
        .find(|(q, _)| prompt.contains(*q))
        .map_or("0", |(_, a)| a);
    let properties = &schema["properties"];
    let output = if properties.get("solution").is_some() {
        json!({"solution": format!("so \\boxed{{{truth}}}"), "reasoning": "worked",
            "confidence": 0.9})
    } else if properties.get("passed").is_some() {
        json!({"passed": true, "critique": "correct", "confidence": 0.8, "scores": []})
    } else {
        json!({"score": 0.9, "reasoning": "fine", "strengths": [], "weaknesses": []})
    };
    match family {
        BatchFamily::Anthropic => json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": CLAUDE,
            "content": [{"type": "tool_use", "id": "toolu_1",
                "name": body["tool_choice"]["name"], "input": output}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 100, "output_tokens": 50}
        }),
        _ => json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": output.to_string()}]},
                "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 50,
                "totalTokenCount": 150}
        }),
    }
}

impl Fake {
    fn new(family: BatchFamily, clock: ManualClock) -> Fake {
        let state: Rc<RefCell<FakeState>> = Rc::default();
        let served = Rc::clone(&state);
        let transport = ScriptedTransport::with_responder(move |request| {
            let mut state = served.borrow_mut();
            match family {
                BatchFamily::Anthropic => serve_anthropic(&mut state, &clock, request),
                _ => serve_gemini(&mut state, &clock, request),
            }
        });
        Fake { state, transport }
    }
}

fn authorized(request: &HttpRequest, header: &str, key: &str) -> bool {
    request
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(header) && v == key)
}

/// What became of each entry of an ended batch, by custom id.
fn outcomes(state: &mut FakeState, family: BatchFamily, id: &str) -> Vec<(String, Value)> {
    let entries = state.batches[id].entries.clone();
    entries
        .into_iter()
        .map(|(custom_id, body)| {
            let result = if state.expire.remove(&custom_id) {
                json!("expired")
            } else if state.fail.remove(&custom_id) {
                json!("errored")
            } else {
                answer(family, &body)
            };
            (custom_id, result)
        })
        .collect()
}

fn serve_anthropic(
    state: &mut FakeState,
    clock: &ManualClock,
    request: &HttpRequest,
) -> Result<HttpResponse, TransportError> {
    if !authorized(request, "x-api-key", "sk-ant-test")
        || !authorized(request, "anthropic-version", "2023-06-01")
    {
        return respond(
            401,
            json!({"type": "error", "error": {"type": "authentication_error",
            "message": "no key"}}),
        );
    }
    let path = request
        .url
        .strip_prefix(ANTHROPIC_ROOT)
        .unwrap_or(&request.url);
    let batch_object = |id: &str, state: &FakeState, ended: bool| {
        let n = state.batches[id].entries.len();
        json!({"id": id, "type": "message_batch",
            "processing_status": if ended { "ended" } else { "in_progress" },
            "request_counts": {"processing": if ended { 0 } else { n },
                "succeeded": if ended { n } else { 0 }, "errored": 0, "canceled": 0, "expired": 0},
            "results_url": if ended {
                json!(format!("{ANTHROPIC_ROOT}/messages/batches/{id}/results"))
            } else { Value::Null }})
    };
    match (request.method.as_str(), path) {
        ("POST", "/messages") => {
            state.live_calls += 1;
            let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
            respond(200, answer(BatchFamily::Anthropic, &body))
        }
        ("POST", "/messages/batches") => {
            let body: Value = serde_json::from_str(&request.body).expect("a JSON body");
            let mut entries = Vec::new();
            for r in body["requests"].as_array().expect("requests") {
                let custom_id = r["custom_id"].as_str().expect("custom_id").to_string();
                assert!(r["params"].get("stream").is_none(), "a batch never streams");
                state.submitted.push(custom_id.clone());
                state.bodies.insert(custom_id.clone(), r["params"].clone());
                entries.push((custom_id, r["params"].clone()));
            }
            let id = format!("msgbatch_{}", state.batches.len() + 1);
            state.batches.insert(
                id.clone(),
                FakeBatch {
                    entries,
                    created_ms: clock.now_ms(),
                },
            );
            respond(200, batch_object(&id, state, false))
        }
        ("POST", p) if p.ends_with("/cancel") => {
            state.cancels += 1;
            let id = p
                .trim_start_matches("/messages/batches/")
                .trim_end_matches("/cancel");
            respond(200, batch_object(id, state, false))
        }
        ("GET", p) if p.ends_with("/results") => {
            let id = p
                .trim_start_matches("/messages/batches/")
                .trim_end_matches("/results");
            let lines: Vec<String> = outcomes(state, BatchFamily::Anthropic, id)
                .into_iter()
                .map(|(custom_id, result)| {
                    let result = match result.as_str() {
                        Some("expired") => json!({"type": "expired"}),
                        Some(_) => json!({"type": "errored", "error": {"type": "error",
                            "error": {"type": "api_error", "message": "overloaded"}}}),
                        None => json!({"type": "succeeded", "message": result}),
                    };
                    json!({"custom_id": custom_id, "result": result}).to_string()
                })
                .collect();
            Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: lines.join("\n"),
            })
        }
        ("GET", p) if p.starts_with("/messages/batches/") => {
            let id = p.trim_start_matches("/messages/batches/");
            let ended = clock.now_ms() >= state.batches[id].created_ms + TURNAROUND_MS;
            respond(200, batch_object(id, state, ended))
        }
        _ => respond(404, json!({"type": "error", "error": {"message": path}})),
    }
}

fn serve_gemini(
    state: &mut FakeState,
    clock: &ManualClock,
    request: &HttpRequest,
) -> Result<HttpResponse, TransportError> {
    if !authorized(request, "x-goog-api-key", "gm-test") {
        return respond(
            400,
            json!({"error": {"code": 400, "message": "API key not valid",
            "status": "INVALID_ARGUMENT"}}),
        );
    }
    let path = request
        .url
        .strip_prefix(GEMINI_ROOT)
        .unwrap_or(&request.url);
    match (request.method.as_str(), path) {
        ("POST", p) if p.ends_with(":generateContent") => {
            state.live_calls += 1;
            let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
            respond(200, answer(BatchFamily::Gemini, &body))
        }
        ("POST", p) if p.ends_with(":batchGenerateContent") => {
            assert_eq!(p, format!("/models/{GEMINI}:batchGenerateContent"));
            let body: Value = serde_json::from_str(&request.body).expect("a JSON body");
            let mut entries = Vec::new();
            for r in body["batch"]["inputConfig"]["requests"]["requests"]
                .as_array()
                .expect("inline requests")
            {
                let key = r["metadata"]["key"].as_str().expect("a key").to_string();
                state.submitted.push(key.clone());
                state.bodies.insert(key.clone(), r["request"].clone());
                entries.push((key, r["request"].clone()));
            }
            let id = format!("batches/b{}", state.batches.len() + 1);
            state.batches.insert(
                id.clone(),
                FakeBatch {
                    entries,
                    created_ms: clock.now_ms(),
                },
            );
            respond(
                200,
                json!({"name": id, "metadata": {"name": id,
                "state": "BATCH_STATE_PENDING"}}),
            )
        }
        ("POST", p) if p.ends_with(":cancel") => {
            state.cancels += 1;
            respond(200, json!({}))
        }
        ("GET", p) if p.starts_with("/batches/") => {
            let id = p.trim_start_matches('/');
            let n = state.batches[id].entries.len();
            if clock.now_ms() < state.batches[id].created_ms + TURNAROUND_MS {
                return respond(
                    200,
                    json!({"name": id, "done": false, "metadata": {
                    "state": "BATCH_STATE_RUNNING",
                    "batchStats": {"requestCount": n.to_string(),
                        "pendingRequestCount": n.to_string()}}}),
                );
            }
            let mut expired_any = false;
            let responses: Vec<Value> = outcomes(state, BatchFamily::Gemini, id)
                .into_iter()
                .filter_map(|(key, result)| match result.as_str() {
                    // Requests that did not run before expiry have no response.
                    Some("expired") => {
                        expired_any = true;
                        None
                    }
                    Some(_) => Some(json!({"metadata": {"key": key},
                        "error": {"code": 13, "message": "internal error"}})),
                    None => Some(json!({"metadata": {"key": key}, "response": result})),
                })
                .collect();
            let state_name = if expired_any {
                "BATCH_STATE_EXPIRED"
            } else {
                "BATCH_STATE_SUCCEEDED"
            };
            respond(
                200,
                json!({"name": id, "done": true,
                "metadata": {"state": state_name, "batchStats": {"requestCount": n.to_string(),
                    "successfulRequestCount": responses.len().to_string()}},
                "response": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput",
                    "inlinedResponses": {"inlinedResponses": responses}}}),
            )
        }
        _ => respond(404, json!({"error": {"message": path}})),
    }
}

fn model(family: BatchFamily) -> String {
    match family {
        BatchFamily::Anthropic => format!("anthropic/{CLAUDE}"),
        _ => format!("gemini/{GEMINI}"),
    }
}

fn config(family: BatchFamily) -> PipelineConfig {
    let model = model(family);
    serde_json::from_value(json!({
        "solver": {"role": "solver", "model": model,
            "prompt_template": "Solve: {problem}\nFeedback: {feedback}"},
        "verifier": {"role": "verifier", "model": model,
            "prompt_template": "Check {solution} for {problem}"},
        "judge": {"model": model,
            "prompt_template": "Score {solution} for {problem} by {rubric}",
            "scoring_rubric": "correctness"},
        "mode": "debate", "max_iterations": 3, "config_version": "1.0"
    }))
    .expect("test config")
}

fn registry() -> ProviderRegistry {
    let mut registry = ProviderRegistry::builtin();
    for (id, key) in [("anthropic", "sk-ant-test"), ("gemini", "gm-test")] {
        let mut provider = registry.get(id).cloned().expect("built-in");
        provider.api_key = key.into();
        registry.upsert(provider);
    }
    registry
}

/// $1 and $2 per million tokens live, half that through the batch APIs.
fn pricer() -> Pricer {
    let rates = |provider: &str| {
        json!({"litellm_provider": provider, "mode": "chat",
            "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
            "input_cost_per_token_batches": 5e-7, "output_cost_per_token_batches": 1e-6})
    };
    let table = PricingTable::from_litellm_json(
        &json!({CLAUDE: rates("anthropic"), format!("gemini/{GEMINI}"): rates("gemini")})
            .to_string(),
    )
    .expect("a price table");
    Pricer::new(Some(Rc::new(table)), PriceOverrides::new())
}

/// Three steps of 100 prompt and 50 output tokens.
const LIVE_COST: f64 = 3.0 * (100.0 * 1e-6 + 50.0 * 2e-6);

struct Bench {
    family: BatchFamily,
    clock: ManualClock,
    yielding: YieldingClock,
    store: MemoryRunStore,
    journal: MemoryJournal,
    locks: MemoryLocks,
    replies: MemoryReplyStore,
    fake: Fake,
}

impl Bench {
    fn new(family: BatchFamily) -> Bench {
        let clock = ManualClock::starting_at(START_MS);
        Bench {
            family,
            fake: Fake::new(family, clock.clone()),
            yielding: YieldingClock(clock.clone()),
            clock,
            store: MemoryRunStore::new(),
            journal: MemoryJournal::new(),
            locks: MemoryLocks::new(),
            replies: MemoryReplyStore::new(),
        }
    }

    fn engine(
        &self,
        stragglers_live: bool,
    ) -> ProviderBatchEngine<
        '_,
        ScriptedTransport,
        YieldingClock,
        MemoryRunStore,
        MemoryJournal,
        MemoryLocks,
    > {
        ProviderBatchEngine::new(
            registry(),
            &self.fake.transport,
            &self.yielding,
            &self.store,
            &self.journal,
            &self.locks,
            ProviderBatchOptions::all_batchable(&registry(), stragglers_live),
        )
        .with_pricer(Rc::new(pricer()))
        .with_poll_interval(POLL_MS)
        .with_replies(ReplyHub::new(self.replies.clone()))
    }

    /// Starts a debate batch of `n` problems; `mark` may set outcomes once the runs exist.
    fn run(
        &self,
        n: usize,
        stragglers_live: bool,
        mark: impl Fn(&Bench, &[String]),
    ) -> BatchRecord {
        self.run_over(problems(), n, stragglers_live, mark)
    }

    /// [`Bench::run`] over the first `n` of `problems`.
    fn run_over(
        &self,
        problems: Vec<Problem>,
        n: usize,
        stragglers_live: bool,
        mark: impl Fn(&Bench, &[String]),
    ) -> BatchRecord {
        let engine = self.engine(stragglers_live);
        let spec = spec_with(n, BatchModes::Debate, 1, config(self.family));
        let mut driver = Driver::new(engine.start(spec, &problems, BatchControl::new()));
        let mut marked = false;
        loop {
            if let Some(result) = driver.poll_once() {
                return result.expect("started");
            }
            if !marked {
                let runs = self.run_ids();
                if runs.len() == n {
                    mark(self, &runs);
                    marked = true;
                }
            }
        }
    }

    /// The batch's run ids, in problem order.
    fn run_ids(&self) -> Vec<String> {
        let Some(batch_id) = block_on(self.store.batch_ids()).unwrap().into_iter().next() else {
            return Vec::new();
        };
        let mut runs = block_on(self.store.batch_runs(&batch_id)).unwrap();
        runs.sort_by(|a, b| a.problem.cmp(&b.problem));
        runs.into_iter().map(|r| r.run_id).collect()
    }

    fn rounds(&self, batch_id: &str) -> Vec<RoundRecord> {
        block_on(self.journal.rounds(batch_id)).unwrap()
    }
}

fn assert_completed_once_each(bench: &Bench, record: &BatchRecord) {
    assert_eq!(
        record.status,
        BatchStatus::Completed,
        "{:?}",
        record.message
    );
    assert!(record.items.iter().all(|i| i.status == ItemStatus::Done));
    for item in &record.items {
        let run_id = item.run_id.as_deref().unwrap();
        let ids: Vec<u64> = block_on(bench.store.steps(run_id))
            .unwrap()
            .iter()
            .map(|s| s.step_id)
            .collect();
        assert_eq!(ids, vec![1, 2, 3], "run {run_id}: each step committed once");
    }
    let fake = bench.fake.state.borrow();
    let unique: HashSet<&String> = fake.submitted.iter().collect();
    assert_eq!(
        unique.len(),
        fake.submitted.len(),
        "no request submitted twice"
    );
}

const FAMILIES: [BatchFamily; 2] = [BatchFamily::Anthropic, BatchFamily::Gemini];

#[test]
fn a_debate_batch_runs_in_rounds_through_each_familys_batch_api_at_half_the_live_price() {
    for family in FAMILIES {
        let bench = Bench::new(family);
        let record = bench.run(3, false, |_, _| {});
        assert_completed_once_each(&bench, &record);
        assert_eq!(
            bench.fake.state.borrow().live_calls,
            0,
            "{family:?}: none live"
        );
        let rounds = bench.rounds(&record.spec.batch_id);
        assert_eq!(rounds.len(), 3, "{family:?}: solver, verifier, judge");
        assert!(rounds.iter().all(|r| r.status == RoundStatus::Ended
            && r.family == family
            && r.requests.len() == 3));
        for item in &record.items {
            let cost = item.cost_usd.expect("priced");
            assert!((cost - LIVE_COST / 2.0).abs() < 1e-12, "{family:?}: {cost}");
        }
    }
}

#[test]
fn each_entry_carries_the_body_the_live_adapter_builds() {
    for family in FAMILIES {
        // The same debate, live: the fake records the live bodies in call order per run.
        let batched = Bench::new(family);
        let record = batched.run(1, false, |_, _| {});
        let run_id = record.items[0].run_id.clone().unwrap();

        let live = Bench::new(family);
        let mut registry = registry();
        for p in &mut registry.providers {
            p.streaming = Some(false);
        }
        let source = ClientSource::new(registry, live.fake.transport.clone(), live.clock.clone());
        let driver =
            BatchDriver::new(&source, &live.clock, &live.store).with_pricer(Rc::new(pricer()));
        let spec = spec_with(1, BatchModes::Debate, 1, config(family));
        let live_record =
            block_on(driver.start(spec, &problems(), BatchControl::new())).expect("live batch");
        assert_eq!(
            live_record.status,
            BatchStatus::Completed,
            "{:?}",
            live_record.message
        );
        let live_bodies: Vec<Value> = live
            .fake
            .transport
            .requests()
            .iter()
            .map(|r| serde_json::from_str(&r.body).unwrap_or(Value::Null))
            .collect();
        assert_eq!(live_bodies.len(), 3);
        let fake = batched.fake.state.borrow();
        for (step, live_body) in (1..=3).zip(live_bodies.iter()) {
            let id = CustomId {
                run_id: run_id.clone(),
                step,
                attempt: 1,
            }
            .encode();
            assert_eq!(&fake.bodies[&id], live_body, "{family:?} step {step}");
        }
        // And the batch costs exactly half the live batch.
        let live_cost = live_record.items[0].cost_usd.expect("priced live");
        let batch_cost = record.items[0].cost_usd.expect("priced batch");
        assert!(
            (batch_cost * 2.0 - live_cost).abs() < 1e-12,
            "{batch_cost} vs {live_cost}"
        );
    }
}

/// The first verifier request of the first run expires and the second run's errors.
fn mark_stragglers(bench: &Bench, runs: &[String]) {
    let id = |run: &String| {
        CustomId {
            run_id: run.clone(),
            step: 2,
            attempt: 1,
        }
        .encode()
    };
    let mut state = bench.fake.state.borrow_mut();
    state.expire.insert(id(&runs[0]));
    state.fail.insert(id(&runs[1]));
}

#[test]
fn expired_and_errored_requests_go_into_the_next_round() {
    for family in FAMILIES {
        let bench = Bench::new(family);
        let record = bench.run(2, false, mark_stragglers);
        assert_completed_once_each(&bench, &record);
        assert_eq!(bench.fake.state.borrow().live_calls, 0);
        let rounds = bench.rounds(&record.spec.batch_id);
        let shape: Vec<Vec<(u64, u32)>> = rounds
            .iter()
            .map(|r| {
                r.requests
                    .values()
                    .map(|id| (id.step, id.attempt))
                    .collect()
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                vec![(1, 1); 2],
                vec![(2, 1); 2],
                vec![(2, 2); 2],
                vec![(3, 1); 2]
            ],
            "{family:?}"
        );
        let outcomes: Vec<&ItemOutcome> = rounds[1].results.values().collect();
        assert!(
            outcomes.iter().any(|o| matches!(o, ItemOutcome::Expired)),
            "{family:?}"
        );
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, ItemOutcome::Errored { .. })),
            "{family:?}"
        );
    }
}

#[test]
fn with_stragglers_live_the_expired_and_errored_requests_are_sent_live_at_once() {
    for family in FAMILIES {
        let bench = Bench::new(family);
        let record = bench.run(2, true, mark_stragglers);
        assert_completed_once_each(&bench, &record);
        assert_eq!(bench.fake.state.borrow().live_calls, 2, "{family:?}");
        let rounds = bench.rounds(&record.spec.batch_id);
        assert_eq!(rounds.len(), 3, "{family:?}: no round for the stragglers");
    }
}

#[test]
fn every_item_is_in_each_round_however_many_there_are() {
    // More problems than a live batch may run at once: a round waits anyway, so each holds
    // every item's next call and the batch takes three rounds, not three per wave of items.
    let n = MAX_CONCURRENCY as usize + 6;
    let many: Vec<Problem> = (1..=n)
        .map(|i| problem(&format!("P{i}"), "What is 2+2?", Some("4")))
        .collect();
    let bench = Bench::new(BatchFamily::Anthropic);
    let record = bench.run_over(many, n, false, |_, _| {});
    assert_eq!(
        record.status,
        BatchStatus::Completed,
        "{:?}",
        record.message
    );
    let rounds = bench.rounds(&record.spec.batch_id);
    let sizes: Vec<usize> = rounds.iter().map(|r| r.requests.len()).collect();
    assert_eq!(sizes, vec![n; 3]);
}

/// One step of 100 prompt and 50 output tokens at the live rates.
const LIVE_STEP_COST: f64 = LIVE_COST / 3.0;

#[test]
fn a_straggler_finished_live_is_priced_at_the_live_rate_and_the_rest_at_the_batch_rate() {
    for family in FAMILIES {
        let bench = Bench::new(family);
        let record = bench.run(2, true, mark_stragglers);
        assert_completed_once_each(&bench, &record);
        for item in &record.items {
            // Solver and judge through the batch, the verifier's straggler live.
            let expected = 2.0 * LIVE_STEP_COST / 2.0 + LIVE_STEP_COST;
            let cost = item.cost_usd.expect("priced");
            assert!(
                (cost - expected).abs() < 1e-12,
                "{family:?}: {cost}, expected {expected}"
            );
            let run_id = item.run_id.as_deref().unwrap();
            let steps = block_on(bench.store.steps(run_id)).unwrap();
            let step_costs: Vec<f64> = steps.iter().filter_map(|s| s.cost_usd()).collect();
            let expected_steps = [LIVE_STEP_COST / 2.0, LIVE_STEP_COST, LIVE_STEP_COST / 2.0];
            assert_eq!(step_costs.len(), 3, "{family:?}");
            for (cost, expected) in step_costs.iter().zip(expected_steps) {
                assert!(
                    (cost - expected).abs() < 1e-15,
                    "{family:?}: {step_costs:?}"
                );
            }
            // Each request says how it was sent; a live one the way every old step reads.
            let routes: Vec<Vec<SentVia>> = steps
                .iter()
                .map(|s| {
                    let attempts = s.metadata.attempts.as_deref().unwrap_or_default();
                    attempts.iter().map(|a| a.sent_via).collect()
                })
                .collect();
            let (batch, live) = (SentVia::ProviderBatch, SentVia::Live);
            assert_eq!(
                routes,
                vec![vec![batch], vec![live], vec![batch]],
                "{family:?}"
            );
            let verifier = serde_json::to_value(&steps[1]).unwrap();
            assert!(
                verifier["metadata"]["attempts"][0]
                    .get("sent_via")
                    .is_none(),
                "{verifier}"
            );
            let judge = serde_json::to_value(&steps[2]).unwrap();
            assert_eq!(
                judge["metadata"]["attempts"][0]["sent_via"],
                "provider_batch"
            );
            // Priced again from the stored steps, each request at its route's rate again.
            let repriced = reprice(&steps, &pricer());
            for step in &repriced.steps {
                assert_eq!(step.new_usd, step.old_usd, "{family:?}: {step:?}");
            }
        }
    }
}

#[test]
fn a_live_forecast_counts_a_provider_batch_run_at_what_it_would_have_cost_live() {
    use std::collections::HashMap;
    use trialogue::app::batch::forecast::{at_live_rates, forecast, ForecastOutcome};
    for family in FAMILIES {
        let bench = Bench::new(family);
        let record = bench.run(2, true, mark_stragglers);
        assert_completed_once_each(&bench, &record);
        let runs = bench.store.records();
        let steps: HashMap<String, Vec<_>> = runs
            .iter()
            .map(|r| (r.run_id.clone(), bench.store.steps_of(&r.run_id)))
            .collect();
        // Paid: solver and judge at the batch rate, the straggler live.
        for run in &runs {
            let paid = run.cost_usd.expect("priced");
            assert!((paid - 2.0 * LIVE_STEP_COST).abs() < 1e-12, "{paid}");
        }
        // Live, every request of each step costs its live price: the straggler is not
        // doubled, the batched steps are.
        let live = at_live_rates(&runs, &steps, &pricer());
        for run in &live {
            let cost = run.cost_usd.expect("priced live");
            assert!(
                (cost - LIVE_COST).abs() < 1e-12,
                "{family:?}: {cost}, expected {LIVE_COST}"
            );
            assert!(run.cost_complete);
        }
        let hash = runs[0].config_hash.clone();
        let ForecastOutcome::Ready(f) = forecast(&live, std::slice::from_ref(&hash), 10) else {
            panic!("{family:?}: no forecast");
        };
        assert!((f.total_median - 10.0 * LIVE_COST).abs() < 1e-12, "{f:?}");
    }
}

#[test]
fn a_batch_reopened_mid_round_polls_its_provider_batch_and_applies_each_result_once() {
    for family in FAMILIES {
        let bench = Bench::new(family);
        let spec = spec_with(3, BatchModes::Debate, 1, config(family));
        {
            let engine = bench.engine(false);
            let problems = problems();
            let mut driver = Driver::new(engine.start(spec, &problems, BatchControl::new()));
            loop {
                assert!(driver.poll_once().is_none(), "closed before the end");
                let submitted = bench
                    .journal
                    .writes()
                    .iter()
                    .any(|w| w.round == 2 && w.status == RoundStatus::Submitted);
                if submitted {
                    break;
                }
            }
        }
        let batch_id = block_on(bench.store.batch_ids())
            .unwrap()
            .into_iter()
            .next()
            .expect("a batch");
        block_on(mark_abandoned(
            &bench.store,
            &bench.locks,
            bench.clock.now_ms(),
        ))
        .unwrap();
        bench.store.insert_dataset("ds_000000000000", problems());
        let submitted_before = bench.fake.state.borrow().submitted.len();

        let engine = bench.engine(false);
        let record = block_on(engine.resume(&batch_id, BatchControl::new())).expect("resumed");

        assert_completed_once_each(&bench, &record);
        assert_eq!(bench.rounds(&batch_id).len(), 3, "{family:?}");
        assert_eq!(
            bench.fake.state.borrow().submitted.len(),
            submitted_before + 3,
            "{family:?}: round 2 was not submitted again"
        );
    }
}

#[test]
fn anthropic_result_lines_become_replies_expiries_and_errors() {
    // Shapes from https://docs.anthropic.com/en/api/retrieving-message-batch-results.
    let jsonl = [
        r#"{"custom_id":"a","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":2}}}}"#,
        r#"{"custom_id":"b","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}}}"#,
        r#"{"custom_id":"c","result":{"type":"canceled"}}"#,
        r#"{"custom_id":"d","result":{"type":"expired"}}"#,
    ]
    .join("\n");
    let results = anthropic::parse_results(&jsonl).expect("results");
    assert_eq!(results.len(), 4);
    assert!(
        matches!(&results[0].outcome, ItemOutcome::Reply(r) if r.status == 200 && r.body.contains("\"hi\""))
    );
    assert_eq!(
        results[1].outcome,
        ItemOutcome::Errored {
            message: "invalid_request_error: max_tokens: Field required".into()
        }
    );
    assert!(
        matches!(&results[2].outcome, ItemOutcome::Errored { message } if message.contains("canceled"))
    );
    assert_eq!(results[3].outcome, ItemOutcome::Expired);
    assert!(anthropic::parse_results("{\"custom_id\":1}").is_err());

    // The batch object as the reference shows it, running and ended.
    let object = |status: &str, url: Value| HttpResponse {
        status: 200,
        headers: vec![],
        body: json!({"id": "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message_batch",
            "processing_status": status, "request_counts": {"processing": 100, "succeeded": 50,
            "errored": 30, "canceled": 10, "expired": 10}, "results_url": url,
            "created_at": "2024-08-20T18:37:24.100435Z"})
        .to_string(),
    };
    let running = anthropic::parse_batch(&object("in_progress", Value::Null)).expect("batch");
    assert_eq!(running.state, BatchState::Running);
    assert_eq!(
        (
            running.counts.total,
            running.counts.succeeded,
            running.counts.errored
        ),
        (200, 50, 50)
    );
    assert!(running.result_sources.is_empty());
    let canceling = anthropic::parse_batch(&object("canceling", Value::Null)).expect("batch");
    assert_eq!(canceling.state, BatchState::Running);
    let url =
        "https://api.anthropic.com/v1/messages/batches/msgbatch_013Zva2CMHLNnXjNJJKqJ2EF/results";
    let ended = anthropic::parse_batch(&object("ended", json!(url))).expect("batch");
    assert_eq!(ended.state, BatchState::Ended);
    assert_eq!(ended.result_sources, vec![url.to_string()]);
    assert!(anthropic::parse_batch(&object("paused", Value::Null)).is_err());
}

#[test]
fn gemini_operations_map_states_counts_and_inline_responses() {
    // Shapes from https://ai.google.dev/api/batch-mode and
    // https://ai.google.dev/gemini-api/docs/batch-mode.
    let op = |body: Value| HttpResponse {
        status: 200,
        headers: vec![],
        body: body.to_string(),
    };
    let running = gemini::parse_batch(
        &op(json!({"name": "batches/123", "metadata": {"@type":
            "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
            "state": "BATCH_STATE_RUNNING", "batchStats": {"requestCount": "3",
            "pendingRequestCount": "3"}}})),
        &["a", "b", "c"],
    )
    .expect("operation");
    assert_eq!(running.id, "batches/123");
    assert_eq!(running.state, BatchState::Running);
    assert_eq!(running.counts.total, 3);

    let reply = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]},
        "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 4,
        "candidatesTokenCount": 1, "totalTokenCount": 5}});
    // One response keyed, one by position only, one error.
    let done = gemini::parse_batch(
        &op(json!({"name": "batches/123", "done": true,
        "metadata": {"state": "BATCH_STATE_SUCCEEDED", "batchStats": {"requestCount": "3",
            "successfulRequestCount": "2", "failedRequestCount": "1"}},
        "response": {"@type":
            "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput",
            "inlinedResponses": {"inlinedResponses": [
                {"response": reply, "metadata": {"key": "a"}},
                {"response": reply},
                {"error": {"code": 3, "message": "bad schema"}, "metadata": {"key": "c"}}
            ]}}})),
        &["a", "b", "c"],
    )
    .expect("operation");
    assert_eq!(done.state, BatchState::Ended);
    assert_eq!((done.counts.succeeded, done.counts.errored), (2, 1));
    let by_id: BTreeMap<&str, &ItemOutcome> = done
        .inline_results
        .iter()
        .map(|r| (r.custom_id.as_str(), &r.outcome))
        .collect();
    assert!(matches!(by_id["a"], ItemOutcome::Reply(r) if r.body.contains("\"hi\"")));
    assert!(matches!(by_id["b"], ItemOutcome::Reply(_)));
    assert_eq!(
        by_id["c"],
        &ItemOutcome::Errored {
            message: "INVALID_ARGUMENT: bad schema".into()
        }
    );

    // An expired batch: what did not run expired; a failed one ran nothing.
    let expired = gemini::parse_batch(
        &op(json!({"name": "batches/9", "done": true,
            "metadata": {"state": "BATCH_STATE_EXPIRED"},
            "response": {"inlinedResponses": {"inlinedResponses": [
                {"response": reply, "metadata": {"key": "a"}}]}}})),
        &["a", "b"],
    )
    .expect("operation");
    assert_eq!(expired.state, BatchState::Ended);
    assert_eq!(expired.inline_results[1].custom_id, "b");
    assert_eq!(expired.inline_results[1].outcome, ItemOutcome::Expired);
    let failed = gemini::parse_batch(
        &op(json!({"name": "batches/9", "done": true,
            "metadata": {"state": "BATCH_STATE_FAILED"}})),
        &["a"],
    )
    .expect("operation");
    assert_eq!(failed.state, BatchState::Failed);
}

#[test]
fn a_gemini_round_above_the_inline_limit_goes_as_an_uploaded_file() {
    // Shapes from https://ai.google.dev/gemini-api/docs/batch-api (input file lines, the
    // resumable upload, `inputConfig.fileName`, `responsesFile` and its download) and
    // https://ai.google.dev/api/files.
    let api = BatchFamily::Gemini.api();
    let group = format!("{GEMINI_ROOT}/models/{GEMINI}");
    let chat = |prompt: &str| HttpRequest {
        method: "POST".into(),
        url: format!("{group}:generateContent"),
        headers: vec![
            ("x-goog-api-key".into(), "gm-key".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}]}).to_string(),
    };
    let header = |request: &HttpRequest, name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    // Below the limit: inline, as before.
    let small = vec![api.entry("k1", &chat("two plus two")).unwrap()];
    assert!(!gemini::goes_as_file(&small));
    let inline = api.submit(&group, &chat(""), &small).unwrap();
    assert_eq!(inline.url, format!("{group}:batchGenerateContent"));
    let body: Value = serde_json::from_str(&inline.body).unwrap();
    assert_eq!(
        body["batch"]["inputConfig"]["requests"]["requests"][0]["metadata"]["key"],
        "k1"
    );

    // Above it: 21 requests of a million bytes of prompt each.
    let big = "x".repeat(1_000_000);
    let entries: Vec<String> = (0..21)
        .map(|i| api.entry(&format!("k{i}"), &chat(&big)).unwrap())
        .collect();
    assert!(gemini::goes_as_file(&entries));
    let file = gemini::input_file(&entries).unwrap();
    let lines: Vec<Value> = file
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 21);
    assert_eq!(lines[3]["key"], "k3");
    assert_eq!(
        lines[3]["request"],
        serde_json::from_str::<Value>(&chat(&big).body).unwrap(),
        "the live body, unchanged"
    );
    assert_eq!(
        lines[3].as_object().unwrap().len(),
        2,
        "key and request only"
    );

    let start = api.submit(&group, &chat(""), &entries).unwrap();
    assert_eq!(
        start.url,
        "https://generativelanguage.googleapis.com/upload/v1beta/files"
    );
    assert_eq!(header(&start, "x-goog-api-key").as_deref(), Some("gm-key"));
    assert_eq!(
        header(&start, "X-Goog-Upload-Protocol").as_deref(),
        Some("resumable")
    );
    assert_eq!(
        header(&start, "X-Goog-Upload-Command").as_deref(),
        Some("start")
    );
    assert_eq!(
        header(&start, "X-Goog-Upload-Header-Content-Length"),
        Some(file.len().to_string())
    );
    assert!(start.body.len() < 200, "the start carries metadata only");

    let reply = |status: u16, headers: Vec<(String, String)>, body: Value| HttpResponse {
        status,
        headers,
        body: body.to_string(),
    };
    let upload_url = "https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=u1&upload_protocol=resumable";
    let started = reply(
        200,
        vec![("X-Goog-Upload-URL".into(), upload_url.into())],
        json!({}),
    );
    let trialogue::core::provider_batch::Submission::Next(upload) = api
        .submitted(0, &group, &chat(""), &entries, &started)
        .unwrap()
    else {
        panic!("expected the upload");
    };
    assert_eq!(upload.url, upload_url);
    assert_eq!(upload.body, file);
    assert_eq!(
        header(&upload, "X-Goog-Upload-Command").as_deref(),
        Some("upload, finalize")
    );
    assert_eq!(
        header(&upload, "X-Goog-Upload-Offset").as_deref(),
        Some("0")
    );
    // Without the header (a server that does not expose it to pages), a sentence says so.
    let hidden = api
        .submitted(
            0,
            &group,
            &chat(""),
            &entries,
            &reply(200, vec![], json!({})),
        )
        .unwrap_err();
    assert!(hidden.to_string().contains("x-goog-upload-url"), "{hidden}");

    let uploaded = reply(
        200,
        vec![],
        json!({"file": {"name": "files/abc-123", "mimeType": "application/jsonl",
            "sizeBytes": file.len().to_string(), "state": "ACTIVE"}}),
    );
    let trialogue::core::provider_batch::Submission::Next(create) = api
        .submitted(1, &group, &chat(""), &entries, &uploaded)
        .unwrap()
    else {
        panic!("expected the create");
    };
    assert_eq!(create.url, format!("{group}:batchGenerateContent"));
    let body: Value = serde_json::from_str(&create.body).unwrap();
    assert_eq!(
        body["batch"]["inputConfig"],
        json!({"fileName": "files/abc-123"})
    );

    let operation = reply(
        200,
        vec![],
        json!({"name": "batches/f1", "metadata": {"state": "BATCH_STATE_PENDING"}}),
    );
    let trialogue::core::provider_batch::Submission::Created(batch) = api
        .submitted(2, &group, &chat(""), &entries, &operation)
        .unwrap()
    else {
        panic!("expected the batch");
    };
    assert_eq!(batch.id, "batches/f1");

    // Once done, the results are in the responses file the output names.
    let done = gemini::parse_batch(
        &reply(
            200,
            vec![],
            json!({"name": "batches/f1", "done": true,
                "metadata": {"state": "BATCH_STATE_SUCCEEDED"},
                "response": {"responsesFile": "files/batch-f1-out"}}),
        ),
        &["k0", "k1"],
    )
    .unwrap();
    assert_eq!(done.state, BatchState::Ended);
    assert_eq!(done.result_sources, vec!["files/batch-f1-out".to_string()]);
    let get = api.fetch_results(&group, &chat(""), "files/batch-f1-out");
    assert_eq!(get.method, "GET");
    assert_eq!(
        get.url,
        "https://generativelanguage.googleapis.com/download/v1beta/files/batch-f1-out:download?alt=media"
    );
    let answer = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "4"}]}}]});
    let results = api
        .parse_results(&format!(
            "{}\n{}\n",
            json!({"key": "k0", "response": answer}),
            json!({"key": "k1", "error": {"code": 3, "message": "bad schema"}})
        ))
        .unwrap();
    assert_eq!(results[0].custom_id, "k0");
    assert!(matches!(&results[0].outcome, ItemOutcome::Reply(r) if r.body.contains("\"4\"")));
    assert_eq!(
        results[1].outcome,
        ItemOutcome::Errored {
            message: "INVALID_ARGUMENT: bad schema".into()
        }
    );
    assert!(
        api.parse_results("{\"response\": {}}").is_err(),
        "a line without its key"
    );
}

#[test]
fn only_openai_compatible_providers_that_say_so_take_the_openai_batch_endpoints() {
    let registry = ProviderRegistry::builtin();
    let family = |id: &str| BatchFamily::of(registry.get(id).expect("built-in"));
    assert_eq!(family("openai"), Some(BatchFamily::OpenAi));
    assert_eq!(family("anthropic"), Some(BatchFamily::Anthropic));
    assert_eq!(family("gemini"), Some(BatchFamily::Gemini));
    assert_eq!(family("cohere"), None);
    assert_eq!(family("local"), None);
    assert_eq!(family("openrouter"), None);
    let mut vllm = registry.get("local").cloned().expect("local");
    vllm.batch_endpoints = Some(true);
    assert_eq!(BatchFamily::of(&vllm), Some(BatchFamily::OpenAi));
    // Stored settings without the flag read as before; the flag round-trips.
    let text = serde_json::to_string(&vllm).expect("settings");
    assert!(text.contains(r#""batch_endpoints":true"#), "{text}");
    let plain = serde_json::to_string(registry.get("local").expect("local")).expect("settings");
    assert!(!plain.contains("batch_endpoints"), "{plain}");
    let options = ProviderBatchOptions::all_batchable(&registry, false);
    assert_eq!(
        options.batched_providers,
        vec!["openai", "anthropic", "gemini"]
    );
}

#[test]
fn each_reply_a_familys_batch_api_answered_is_stored_as_a_live_call_stores_it_and_each_run_replays_from_it(
) {
    for family in FAMILIES {
        let bench = Bench::new(family);
        let record = bench.run(3, false, |_, _| {});
        assert_completed_once_each(&bench, &record);
        assert_eq!(
            bench.replies.len(),
            bench.fake.state.borrow().submitted.len(),
            "{family:?}: one reply per request that went up"
        );
        // The reply is what the live endpoint would have answered: Anthropic's
        // `result.message` (a `message` object), Gemini's inline `response` (a
        // `GenerateContentResponse`), never the result line around it.
        for reply in bench.replies.replies() {
            let body: Value = serde_json::from_str(&reply.response.body).expect("JSON");
            match family {
                BatchFamily::Anthropic => assert_eq!(body["type"], "message", "{body}"),
                _ => assert!(body["candidates"].is_array(), "{body}"),
            }
            assert!(body.get("custom_id").is_none() && body.get("key").is_none());
        }
        crate::batch_replies::assert_each_run_replays_from_the_store(
            &bench.store,
            &bench.replies,
            &record,
            &registry(),
        );
    }
}

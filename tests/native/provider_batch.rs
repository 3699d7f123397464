//! Provider batch mode natively: a debate batch driven by the batch driver in rounds through
//! a fake OpenAI Batch API (files, batches, output and error files, as its reference
//! describes them), over the in-memory store and journal.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use serde_json::{json, Value};

use trialogue::core::batch::scheduler::BatchControl;
use trialogue::core::batch::{BatchEngine, BatchModes, BatchRecord, BatchStatus, ItemStatus};
use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::{Clock, ManualClock};
use trialogue::core::driver::startup::mark_abandoned;
use trialogue::core::driver::{client_options, MemoryLocks};
use trialogue::core::llm::chat::{HttpRequest, HttpResponse};
use trialogue::core::llm::client::LlmClient;
use trialogue::core::llm::transport::{ScriptedTransport, TransportError};
use trialogue::core::llm::{AgentLlm, AttemptKind};
use trialogue::core::pipeline::{agent_call, StepVars};
use trialogue::core::pricing::{PriceOverrides, Pricer, PricingTable};
use trialogue::core::provider_batch::{
    BatchJournal, CustomId, MemoryJournal, ProviderBatchEngine, ProviderBatchOptions, RoundStatus,
};
use trialogue::core::providers::ProviderRegistry;
use trialogue::core::replies::hub::ReplyHub;
use trialogue::core::replies::MemoryReplyStore;
use trialogue::core::role::AgentRole;
use trialogue::core::run_store::{BatchStore, MemoryRunStore, RunStore};
use trialogue::core::trajectory::RunStatus;

use crate::batch::{pipeline_config, problems, spec_with, START_MS};
use crate::util::{block_on, Driver, YieldNow};

/// How long the fake provider takes to run a batch, ms.
const TURNAROUND_MS: f64 = 90_000.0;
/// How often the hub polls in these tests, ms.
pub(crate) const POLL_MS: u64 = 30_000;
const API_ROOT: &str = "https://api.openai.com/v1";

/// A clock whose sleeps also yield once, so a test can stop a batch between polls (a tab
/// closed while its provider batch runs).
#[derive(Clone)]
pub(crate) struct YieldingClock(pub(crate) ManualClock);

impl Clock for YieldingClock {
    fn now_ms(&self) -> f64 {
        self.0.now_ms()
    }
    async fn sleep(&self, ms: u64) {
        self.0.sleep(ms).await;
        YieldNow(1).await;
    }
}

#[derive(Default)]
struct FakeBatch {
    input_file_id: String,
    created_ms: f64,
    output: Option<(String, String)>,
}

/// What the fake provider was asked and how it answers.
#[derive(Default)]
pub(crate) struct FakeState {
    next_id: u32,
    files: HashMap<String, String>,
    batches: BTreeMap<String, FakeBatch>,
    /// Custom ids in the order their lines were uploaded (each once, if nothing is sent twice).
    pub(crate) uploaded: Vec<String>,
    /// The chat body of each uploaded line, in the same order.
    pub(crate) uploaded_bodies: Vec<String>,
    /// Live chat requests (none should come in batch mode).
    pub(crate) live_calls: usize,
    /// Custom ids answered with `batch_expired` (once each).
    expire: HashSet<String>,
    /// Requests (by role and problem text) answered with invalid JSON the first time.
    invalid_once: HashSet<(String, String)>,
    /// The journal's state when each batch was created: the round's custom ids must be there.
    journaled_at_create: Vec<bool>,
    /// Whether the journal held the batch's id when it was first polled.
    journaled_at_poll: Vec<bool>,
}

/// The fake OpenAI Batch API over a scripted transport.
#[derive(Clone)]
pub(crate) struct FakeOpenAi {
    pub(crate) state: Rc<RefCell<FakeState>>,
    pub(crate) transport: ScriptedTransport,
}

fn respond(status: u16, body: Value) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string(),
    })
}

/// The answer a model would give to one chat body: right answers, a passing verifier.
fn answer(state: &mut FakeState, body: &Value) -> Value {
    let role = body["response_format"]["json_schema"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    let truth = ["2+2", "3*3", "10-7"]
        .iter()
        .zip(["4", "9", "3"])
        .find(|(q, _)| prompt.contains(*q))
        .map_or("0", |(_, a)| a);
    let content = if state.invalid_once.remove(&(role.clone(), prompt.clone())) {
        "not json at all".to_string()
    } else {
        match role.as_str() {
            "solver_output" => json!({"solution": format!("so \\boxed{{{truth}}}"),
                "reasoning": "worked", "confidence": 0.9}),
            "verifier_output" => json!({"passed": true, "critique": "correct",
                "confidence": 0.8, "scores": []}),
            _ => json!({"score": 0.9, "reasoning": "fine", "strengths": [], "weaknesses": []}),
        }
        .to_string()
    };
    json!({
        "id": "chatcmpl-batch", "object": "chat.completion", "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    })
}

/// The JSONL lines of a multipart upload's file part.
fn uploaded_lines(body: &str) -> Vec<String> {
    let start = body.find("\r\n\r\n{").map(|i| i + 4).unwrap_or(0);
    let part = &body[start..];
    let end = part.find("\r\n--").unwrap_or(part.len());
    part[..end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

impl FakeOpenAi {
    pub(crate) fn new(clock: ManualClock, journal: MemoryJournal) -> FakeOpenAi {
        let state: Rc<RefCell<FakeState>> = Rc::default();
        let served = Rc::clone(&state);
        let transport = ScriptedTransport::with_responder(move |request| {
            Self::serve(&mut served.borrow_mut(), &clock, &journal, request)
        });
        FakeOpenAi { state, transport }
    }

    fn serve(
        state: &mut FakeState,
        clock: &ManualClock,
        journal: &MemoryJournal,
        request: &HttpRequest,
    ) -> Result<HttpResponse, TransportError> {
        let path = request.url.strip_prefix(API_ROOT).unwrap_or(&request.url);
        let authorized = request
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == "Bearer sk-test");
        if !authorized {
            return respond(401, json!({"error": {"message": "no key"}}));
        }
        state.next_id += 1;
        let fresh = state.next_id;
        match (request.method.as_str(), path) {
            ("POST", "/chat/completions") => {
                state.live_calls += 1;
                let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
                respond(200, answer(state, &body))
            }
            ("POST", "/files") => {
                assert!(request.body.contains("name=\"purpose\"\r\n\r\nbatch"));
                let lines = uploaded_lines(&request.body);
                for line in &lines {
                    let parsed: Value = serde_json::from_str(line).expect("a JSONL line");
                    assert_eq!(parsed["method"], "POST");
                    assert_eq!(parsed["url"], "/v1/chat/completions");
                    state
                        .uploaded
                        .push(parsed["custom_id"].as_str().unwrap_or("").to_string());
                    state.uploaded_bodies.push(parsed["body"].to_string());
                }
                let id = format!("file-in-{fresh}");
                state.files.insert(id.clone(), lines.join("\n"));
                respond(200, json!({"id": id, "object": "file", "purpose": "batch"}))
            }
            ("POST", "/batches") => {
                let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
                assert_eq!(body["endpoint"], "/v1/chat/completions");
                assert_eq!(body["completion_window"], "24h");
                let input = body["input_file_id"].as_str().unwrap_or("").to_string();
                let ids: Vec<String> = state.files[&input]
                    .lines()
                    .map(|l| {
                        serde_json::from_str::<Value>(l).unwrap()["custom_id"]
                            .as_str()
                            .unwrap()
                            .to_string()
                    })
                    .collect();
                let writes = journal.writes();
                let durable = writes.last().is_some_and(|w| {
                    w.status == RoundStatus::Submitting
                        && ids.iter().all(|id| w.requests.contains_key(id))
                });
                state.journaled_at_create.push(durable);
                let id = format!("batch_{fresh}");
                state.batches.insert(
                    id.clone(),
                    FakeBatch {
                        input_file_id: input.clone(),
                        created_ms: clock.now_ms(),
                        output: None,
                    },
                );
                respond(
                    200,
                    json!({"id": id, "object": "batch", "status": "validating",
                        "input_file_id": input, "request_counts":
                        {"total": ids.len(), "completed": 0, "failed": 0}}),
                )
            }
            ("GET", p) if p.starts_with("/batches/") => {
                let id = p.trim_start_matches("/batches/").to_string();
                let first_poll = state.batches[&id].output.is_none();
                if first_poll {
                    let writes = journal.writes();
                    state.journaled_at_poll.push(writes.iter().any(|w| {
                        w.status == RoundStatus::Submitted
                            && w.provider_batch_id.as_deref() == Some(id.as_str())
                    }));
                }
                let batch = &state.batches[&id];
                if clock.now_ms() < batch.created_ms + TURNAROUND_MS {
                    return respond(200, json!({"id": id, "status": "in_progress"}));
                }
                if batch.output.is_none() {
                    let input = state.files[&batch.input_file_id].clone();
                    let (mut out, mut err) = (Vec::new(), Vec::new());
                    for line in input.lines() {
                        let line: Value = serde_json::from_str(line).unwrap();
                        let custom_id = line["custom_id"].as_str().unwrap().to_string();
                        if state.expire.remove(&custom_id) {
                            err.push(json!({"id": "req", "custom_id": custom_id,
                                "response": null, "error": {"code": "batch_expired",
                                "message": "This request could not be executed before the \
                                completion window expired."}}));
                        } else {
                            let reply = answer(state, &line["body"]);
                            out.push(json!({"id": "req", "custom_id": custom_id,
                                "response": {"status_code": 200, "request_id": "r",
                                "body": reply}, "error": null}));
                        }
                    }
                    let join = |v: &[Value]| {
                        v.iter()
                            .map(Value::to_string)
                            .collect::<Vec<_>>()
                            .join("\n")
                    };
                    let (out_id, err_id) =
                        (format!("file-out-{fresh}"), format!("file-err-{fresh}"));
                    state.files.insert(out_id.clone(), join(&out));
                    state.files.insert(err_id.clone(), join(&err));
                    state.batches.get_mut(&id).unwrap().output = Some((out_id, err_id));
                }
                let (out_id, err_id) = state.batches[&id].output.clone().unwrap();
                respond(
                    200,
                    json!({"id": id, "status": "completed", "output_file_id": out_id,
                        "error_file_id": err_id}),
                )
            }
            ("GET", p) if p.starts_with("/files/") && p.ends_with("/content") => {
                let id = p.trim_start_matches("/files/").trim_end_matches("/content");
                Ok(HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: state.files[id].clone(),
                })
            }
            _ => respond(
                404,
                json!({"error": {"message": format!("no route {path}")}}),
            ),
        }
    }
}

pub(crate) fn registry() -> ProviderRegistry {
    let mut registry = ProviderRegistry::builtin();
    let mut openai = registry.get("openai").cloned().expect("built-in openai");
    openai.api_key = "sk-test".into();
    registry.upsert(openai);
    registry
}

/// $1 and $2 per million tokens live, half that through the batch API.
pub(crate) fn pricer() -> Pricer {
    let table = PricingTable::from_litellm_json(
        &json!({"gpt-4o-mini": {
            "litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
            "input_cost_per_token_batches": 5e-7, "output_cost_per_token_batches": 1e-6
        }, "gpt-4o": {
            "litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6
        }})
        .to_string(),
    )
    .expect("a price table");
    Pricer::new(Some(Rc::new(table)), PriceOverrides::new())
}

struct Bench {
    clock: ManualClock,
    yielding: YieldingClock,
    store: MemoryRunStore,
    journal: MemoryJournal,
    locks: MemoryLocks,
    replies: MemoryReplyStore,
    fake: FakeOpenAi,
}

impl Bench {
    fn new() -> Bench {
        let clock = ManualClock::starting_at(START_MS);
        let journal = MemoryJournal::new();
        Bench {
            fake: FakeOpenAi::new(clock.clone(), journal.clone()),
            yielding: YieldingClock(clock.clone()),
            clock,
            store: MemoryRunStore::new(),
            journal,
            locks: MemoryLocks::new(),
            replies: MemoryReplyStore::new(),
        }
    }

    fn engine(
        &self,
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
            ProviderBatchOptions {
                batched_providers: vec!["openai".into()],
                ..ProviderBatchOptions::default()
            },
        )
        .with_pricer(Rc::new(pricer()))
        .with_poll_interval(POLL_MS)
        .with_replies(ReplyHub::new(self.replies.clone()))
    }

    fn start(&self, n: usize) -> BatchRecord {
        let engine = self.engine();
        let spec = spec_with(n, BatchModes::Debate, 1, pipeline_config());
        block_on(engine.start(spec, &problems(), BatchControl::new())).expect("started")
    }

    fn rounds(&self, batch_id: &str) -> Vec<trialogue::core::provider_batch::RoundRecord> {
        block_on(self.journal.rounds(batch_id)).unwrap()
    }
}

fn assert_completed_once_each(bench: &Bench, record: &BatchRecord, steps_per_run: usize) {
    assert_eq!(
        record.status,
        BatchStatus::Completed,
        "{:?}",
        record.message
    );
    assert!(record.items.iter().all(|i| i.status == ItemStatus::Done));
    for item in &record.items {
        let run_id = item.run_id.as_deref().unwrap();
        let steps = block_on(bench.store.steps(run_id)).unwrap();
        let ids: Vec<u64> = steps.iter().map(|s| s.step_id).collect();
        let expected: Vec<u64> = (1..=steps_per_run as u64).collect();
        assert_eq!(ids, expected, "run {run_id}: each step committed once");
        assert_eq!(
            bench.store.record(run_id).unwrap().status,
            RunStatus::Completed
        );
    }
    let fake = bench.fake.state.borrow();
    let unique: HashSet<&String> = fake.uploaded.iter().collect();
    assert_eq!(unique.len(), fake.uploaded.len(), "no request sent twice");
    assert_eq!(fake.live_calls, 0, "no call went live");
    assert!(fake.journaled_at_create.iter().all(|d| *d));
    assert!(fake.journaled_at_poll.iter().all(|d| *d));
}

#[test]
fn a_debate_batch_runs_in_rounds_through_the_openai_batch_api_at_half_price() {
    let bench = Bench::new();
    let record = bench.start(3);

    // Solver, verifier (passes), judge: three rounds of three requests each.
    assert_completed_once_each(&bench, &record, 3);
    assert_eq!(record.spec.engine, BatchEngine::ProviderBatch);
    // Polled soon after each submit, then less and less often, never more than the interval.
    let polls: Vec<u64> = bench.clock.sleeps().into_iter().take(4).collect();
    assert_eq!(polls, vec![1_000, 2_000, 4_000, 8_000]);
    assert!(bench.clock.sleeps().iter().all(|ms| *ms <= POLL_MS));
    let rounds = bench.rounds(&record.spec.batch_id);
    let sizes: Vec<usize> = rounds.iter().map(|r| r.requests.len()).collect();
    assert_eq!(sizes, vec![3, 3, 3]);
    assert!(rounds.iter().all(|r| r.status == RoundStatus::Ended));
    let steps: Vec<Vec<u64>> = rounds
        .iter()
        .map(|r| r.requests.values().map(|id| id.step).collect())
        .collect();
    assert_eq!(steps, vec![vec![1; 3], vec![2; 3], vec![3; 3]]);
    // Each step: 100 prompt tokens at $0.50/M and 50 output tokens at $1/M (the live rates
    // are $1/M and $2/M).
    for item in &record.items {
        let cost = item.cost_usd.expect("priced");
        assert!((cost - 3.0 * 1e-4).abs() < 1e-12, "{cost}");
    }
}

#[test]
fn a_batch_line_carries_the_body_the_live_adapter_builds() {
    let bench = Bench::new();
    let record = bench.start(1);
    let run_id = record.items[0].run_id.clone().unwrap();
    let first = bench.fake.state.borrow().files["file-in-1"].clone();
    let line: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(
        line["custom_id"],
        CustomId {
            run_id,
            step: 1,
            attempt: 1
        }
        .encode()
    );

    // The same first call, made live.
    let config = pipeline_config();
    let vars = StepVars {
        problem: "What is 2+2?",
        feedback: "",
        solution: "",
    };
    let call = agent_call(&config, AgentRole::Solver, &vars).unwrap();
    let live = ScriptedTransport::new();
    live.push_json(200, "{}");
    let mut live_registry = registry();
    for p in &mut live_registry.providers {
        p.streaming = Some(false);
    }
    let client = LlmClient::with_options(
        live_registry,
        live.clone(),
        bench.clock.clone(),
        client_options(&config),
    );
    let _ = block_on(client.complete(&call, &CancelToken::new()));
    let live_body: Value = serde_json::from_str(&live.requests()[0].body).unwrap();
    assert_eq!(line["body"], live_body);
}

#[test]
fn a_reask_and_an_expired_request_go_into_the_next_round() {
    let bench = Bench::new();
    // P1's first solver reply is not JSON: the client re-asks, in round 2. P2's first
    // verifier request expires: the client retries it, in round 3.
    bench.fake.state.borrow_mut().invalid_once.insert((
        "solver_output".into(),
        "Solve: What is 2+2?\nFeedback: ".into(),
    ));
    let engine = bench.engine();
    let spec = spec_with(2, BatchModes::Debate, 1, pipeline_config());
    let record = {
        // Once the runs exist (their ids are in the custom ids), P2's first verifier request
        // (step 2, attempt 1) is set to expire.
        let problems = problems();
        let mut driver = Driver::new(engine.start(spec, &problems, BatchControl::new()));
        let mut result = None;
        let mut marked = false;
        while result.is_none() {
            result = driver.poll_once();
            if !marked {
                let runs = block_on(bench.store.batch_runs(&driver_batch_id(&bench))).unwrap();
                if let Some(p2) = runs.iter().find(|r| r.problem.contains("3*3")) {
                    let id = CustomId {
                        run_id: p2.run_id.clone(),
                        step: 2,
                        attempt: 1,
                    };
                    bench.fake.state.borrow_mut().expire.insert(id.encode());
                    marked = true;
                }
            }
        }
        result.unwrap().expect("started")
    };

    assert_completed_once_each(&bench, &record, 3);
    let rounds = bench.rounds(&record.spec.batch_id);
    assert_eq!(
        rounds.len(),
        4,
        "{:#?}",
        rounds.iter().map(|r| &r.requests).collect::<Vec<_>>()
    );
    let p1 = runs_by_problem(&bench, &record, "2+2");
    let solver = &block_on(bench.store.steps(&p1)).unwrap()[0];
    let kinds: Vec<AttemptKind> = solver
        .metadata
        .attempts
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(kinds, vec![AttemptKind::Initial, AttemptKind::Reask]);
    let p2 = runs_by_problem(&bench, &record, "3*3");
    let verifier = &block_on(bench.store.steps(&p2)).unwrap()[1];
    let kinds: Vec<AttemptKind> = verifier
        .metadata
        .attempts
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(kinds, vec![AttemptKind::Initial, AttemptKind::Retry]);
    // The re-ask rode in round 2 beside P2's verifier; P2's retry in round 3 beside P1's
    // verifier; both judges came last.
    let in_round = |n: usize| -> Vec<(u64, u32)> {
        rounds[n]
            .requests
            .values()
            .map(|id| (id.step, id.attempt))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    assert_eq!(in_round(0), vec![(1, 1)]);
    assert_eq!(in_round(1), vec![(1, 2), (2, 1)]);
    assert_eq!(in_round(2), vec![(2, 1), (2, 2)]);
    assert_eq!(in_round(3), vec![(3, 1)]);
}

fn driver_batch_id(bench: &Bench) -> String {
    block_on(bench.store.batch_ids())
        .unwrap()
        .into_iter()
        .next()
        .unwrap_or_default()
}

fn runs_by_problem(bench: &Bench, record: &BatchRecord, text: &str) -> String {
    record
        .items
        .iter()
        .filter_map(|i| i.run_id.clone())
        .find(|id| bench.store.record(id).unwrap().problem.contains(text))
        .unwrap()
}

#[test]
fn a_batch_reopened_while_its_round_runs_polls_it_and_applies_each_result_once() {
    let bench = Bench::new();
    let spec = spec_with(3, BatchModes::Debate, 1, pipeline_config());
    {
        let engine = bench.engine();
        let problems = problems();
        let mut driver = Driver::new(engine.start(spec, &problems, BatchControl::new()));
        // The tab closes while round 2 runs at the provider.
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
    let batch_id = driver_batch_id(&bench);
    // What the app does when it loads again.
    block_on(mark_abandoned(
        &bench.store,
        &bench.locks,
        bench.clock.now_ms(),
    ))
    .unwrap();
    assert_eq!(
        bench.store.batch(&batch_id).unwrap().status,
        BatchStatus::Interrupted
    );
    bench.store.insert_dataset("ds_000000000000", problems());
    let uploaded_before = bench.fake.state.borrow().uploaded.len();

    let engine = bench.engine();
    let record = block_on(engine.resume(&batch_id, BatchControl::new())).expect("resumed");

    assert_completed_once_each(&bench, &record, 3);
    let rounds = bench.rounds(&batch_id);
    assert_eq!(rounds.len(), 3);
    // Round 2 was not submitted again: only round 3's requests went up after reopening.
    assert_eq!(
        bench.fake.state.borrow().uploaded.len(),
        uploaded_before + 3
    );
}

#[test]
fn only_requests_a_provider_batch_answered_are_billed_at_batch_rates_and_a_missing_batch_rate_stays_unknown(
) {
    use trialogue::core::llm::{SentVia, Usage};
    use trialogue::core::pipeline::StepPricer;
    let usage = Usage {
        input_tokens: 100,
        output_tokens: 50,
        total_tokens: 150,
        ..Usage::default()
    };
    let pricer = pricer();
    let price = |model, via| pricer.price_sent("openai", model, &usage, None, via);
    // 100 x $0.50/M + 50 x $1/M, against 100 x $1/M + 50 x $2/M live.
    let cost = price("gpt-4o-mini", SentVia::ProviderBatch).unwrap();
    assert!((cost - 1e-4).abs() < 1e-15, "{cost}");
    let cost = price("gpt-4o-mini", SentVia::Live).unwrap();
    assert!((cost - 2e-4).abs() < 1e-15, "{cost}");
    assert_eq!(pricer.price("openai", "gpt-4o-mini", &usage), Some(cost));
    assert_eq!(price("gpt-4o", SentVia::ProviderBatch), None);
    assert!(price("gpt-4o", SentVia::Live).is_some());
}

#[test]
fn each_reply_the_openai_batch_api_answered_is_stored_as_a_live_call_stores_it_and_each_run_replays_from_it(
) {
    let bench = Bench::new();
    let record = bench.start(3);
    assert_completed_once_each(&bench, &record, 3);
    // One reply per request that went up, none twice.
    assert_eq!(
        bench.replies.len(),
        bench.fake.state.borrow().uploaded.len()
    );
    // The reply is the output line's `response.body`: the chat completion itself, as a live
    // call receives it, not the line around it.
    for reply in bench.replies.replies() {
        let body: Value = serde_json::from_str(&reply.response.body).expect("JSON");
        assert_eq!(body["object"], "chat.completion", "{body}");
        assert!(body.get("custom_id").is_none());
        assert_eq!(reply.response.status, 200);
    }
    crate::batch_replies::assert_each_run_replays_from_the_store(
        &bench.store,
        &bench.replies,
        &record,
        &registry(),
    );
}

#[test]
fn a_batch_reopened_after_a_round_ended_stores_each_reply_once_and_its_runs_replay() {
    let bench = Bench::new();
    let spec = spec_with(3, BatchModes::Debate, 1, pipeline_config());
    {
        let engine = bench.engine();
        let problems = problems();
        let mut driver = Driver::new(engine.start(spec, &problems, BatchControl::new()));
        // The tab closes as soon as round 2's results are read, before or while its runs
        // commit the steps.
        loop {
            assert!(driver.poll_once().is_none(), "closed before the end");
            let ended = bench
                .journal
                .writes()
                .iter()
                .any(|w| w.round == 2 && w.status == RoundStatus::Ended);
            if ended {
                break;
            }
        }
    }
    let stored_before: HashMap<String, f64> = bench
        .replies
        .replies()
        .into_iter()
        .map(|r| (r.request_hash, r.stored_ms))
        .collect();
    let batch_id = driver_batch_id(&bench);
    block_on(mark_abandoned(
        &bench.store,
        &bench.locks,
        bench.clock.now_ms(),
    ))
    .unwrap();
    bench.store.insert_dataset("ds_000000000000", problems());
    bench.clock.advance(60_000.0);

    let record = block_on(bench.engine().resume(&batch_id, BatchControl::new())).expect("resumed");

    assert_completed_once_each(&bench, &record, 3);
    assert_eq!(
        bench.replies.len(),
        bench.fake.state.borrow().uploaded.len(),
        "each reply stored once"
    );
    for reply in bench.replies.replies() {
        if let Some(first) = stored_before.get(&reply.request_hash) {
            assert_eq!(
                reply.stored_ms, *first,
                "a reply stored before is kept as it was"
            );
        }
    }
    crate::batch_replies::assert_each_run_replays_from_the_store(
        &bench.store,
        &bench.replies,
        &record,
        &registry(),
    );
}

#[test]
fn a_later_live_batch_reuses_the_replies_a_provider_batch_paid_for_and_names_its_runs() {
    use trialogue::core::batch::BatchSpec;
    use trialogue::core::driver::BatchDriver;
    use trialogue::core::replies::llm::ReplySource;
    use trialogue::core::replies::ReusePolicy;

    let mut config = serde_json::to_value(pipeline_config()).unwrap();
    for role in ["solver", "verifier", "judge"] {
        config[role]["temperature"] = json!(0.0);
    }
    let config: trialogue::core::config::PipelineConfig = serde_json::from_value(config).unwrap();
    let bench = Bench::new();
    let spec = spec_with(3, BatchModes::Debate, 1, config.clone());
    let in_rounds = block_on(bench.engine().start(spec, &problems(), BatchControl::new()))
        .expect("the provider batch runs");
    assert_completed_once_each(&bench, &in_rounds, 3);
    let uploaded = bench.fake.state.borrow().uploaded.len();

    // The same batch live, by the default policy, its provider streaming as it does live.
    let first_id = in_rounds.spec.batch_id.clone();
    let spec = BatchSpec::new(
        "live again",
        "ds_000000000000",
        "fixture",
        vec!["P1".into(), "P2".into(), "P3".into()],
        BatchModes::Debate,
        1,
        config,
        START_MS + 1.0,
        |id| id == first_id,
    )
    .unwrap();
    assert_eq!(spec.reuse_policy, ReusePolicy::IdenticalAtTemperatureZero);
    assert!(registry().get("openai").unwrap().streams());
    let source = ReplySource::new(
        registry(),
        bench.fake.transport.clone(),
        bench.clock.clone(),
        ReplyHub::new(bench.replies.clone()),
        spec.reuse_policy,
    );
    let live = block_on(
        BatchDriver::new(&source, &bench.clock, &bench.store)
            .with_pricer(Rc::new(pricer()))
            .start(spec, &problems(), BatchControl::new()),
    )
    .expect("the live batch runs");

    assert_eq!(live.status, BatchStatus::Completed, "{:?}", live.message);
    assert_eq!(
        bench.fake.state.borrow().live_calls,
        0,
        "nothing paid again"
    );
    assert_eq!(bench.fake.state.borrow().uploaded.len(), uploaded);
    assert_eq!(bench.replies.len(), uploaded, "nothing new stored");
    let paid_by_problem: HashMap<String, String> = in_rounds
        .items
        .iter()
        .map(|i| (i.problem_id.clone(), i.run_id.clone().unwrap()))
        .collect();
    for item in &live.items {
        assert_eq!(item.cost_usd, Some(0.0));
        let payer = &paid_by_problem[&item.problem_id];
        let reused = block_on(bench.store.steps(item.run_id.as_deref().unwrap())).unwrap();
        let paid = block_on(bench.store.steps(payer)).unwrap();
        assert_eq!(reused.len(), paid.len());
        for (step, original) in reused.iter().zip(&paid) {
            assert_eq!(step.metadata.reused_from.as_deref(), Some(payer.as_str()));
            assert_eq!(step.metadata.request_hash, original.metadata.request_hash);
            assert_eq!(step.cost_usd(), Some(0.0));
            assert_eq!(step.output, original.output);
        }
    }
}

#[test]
fn items_whose_call_waits_on_a_round_are_counted_as_parked_and_none_once_it_ends() {
    use trialogue::core::batch::Progress;
    let bench = Bench::new();
    let heard: Rc<RefCell<Vec<usize>>> = Rc::default();
    let into = Rc::clone(&heard);
    let engine = bench
        .engine()
        .with_parked_listener(Rc::new(move |n| into.borrow_mut().push(n)));
    let spec = spec_with(3, BatchModes::Debate, 1, pipeline_config());
    let record = block_on(engine.start(spec, &problems(), BatchControl::new())).expect("started");
    assert_completed_once_each(&bench, &record, 3);
    let heard = heard.borrow();
    // Each of the three rounds holds all three items' calls, then hands every result out.
    assert_eq!(heard.iter().filter(|n| **n == 3).count(), 3, "{heard:?}");
    assert_eq!(heard.last(), Some(&0), "{heard:?}");
    assert!(heard.iter().all(|n| *n <= 3));

    // Shown: the parked items move from running to waiting, never below zero.
    let mut running = record.progress(3);
    running.running = 3;
    running.waiting = 0;
    let shown: Progress = running.with_parked(3);
    assert_eq!((shown.running, shown.waiting), (0, 3));
    let shown = running.with_parked(5);
    assert_eq!((shown.running, shown.waiting), (0, 3));
}

//! Spend that no reply settled: a request that timed out or whose connection dropped may still
//! be billed, so its worst case is counted as *possibly billed* on its step, its run and every
//! budget it ran under; a call in flight when a tab is killed is recovered from its durable
//! in-flight record as possibly billed, once.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Waker};

use serde_json::json;

use trialogue::core::budget::{Budget, BudgetGate, CallEstimate};
use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::ManualClock;
use trialogue::core::config::PipelineConfig;
use trialogue::core::driver::startup::{mark_abandoned, StartupStore};
use trialogue::core::driver::{Finished, LlmSource, MemoryLocks, RunDriver, Work};
use trialogue::core::in_flight::{recover_in_flight, InFlightCall};
use trialogue::core::llm::client::{ClientOptions, LlmClient};
use trialogue::core::llm::transport::{ScriptedTransport, TransportError};
use trialogue::core::llm::{AgentCall, AgentCallError, AgentCompletion, AgentLlm, Usage};
use trialogue::core::pipeline::{CallGate, SinkError};
use trialogue::core::pricing::Pricer;
use trialogue::core::role::AgentRole;
use trialogue::core::run_store::{MemoryRunStore, RunStore};
use trialogue::core::scripted::ScriptedLlm;
use trialogue::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};

use crate::batch::{new_run, pipeline_config, START_MS};
use crate::util::{block_on, priced_at, registry_with_openai_key};

/// gpt-4o-mini's list price: $0.15 per million input tokens, $0.60 per million output.
fn pricer() -> Rc<Pricer> {
    priced_at("openai/gpt-4o-mini", 0.15, 0.6)
}

/// An OpenAI chat-completions reply whose message is `content` (a JSON object).
fn reply(content: serde_json::Value, prompt: u64, completion: u64) -> String {
    json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion}
    })
    .to_string()
}

fn solver_reply() -> String {
    reply(
        json!({"solution": "\\boxed{4}", "reasoning": "2+2", "confidence": 0.9}),
        40,
        20,
    )
}

fn verifier_reply() -> String {
    reply(
        json!({"passed": true, "critique": "right", "confidence": 0.9, "scores": []}),
        50,
        10,
    )
}

fn judge_reply() -> String {
    reply(
        json!({"score": 1.0, "reasoning": "right", "strengths": [], "weaknesses": []}),
        60,
        10,
    )
}

/// Pushes the replies of an answered run: the solver's, the verifier's and the judge's.
fn push_answers(transport: &ScriptedTransport) {
    transport
        .push_json(200, solver_reply())
        .push_json(200, verifier_reply())
        .push_json(200, judge_reply());
}

/// [`new_run`] of the fixture config driven to its end against `transport`'s replies; returns
/// its store, config and end.
fn run_against(transport: &ScriptedTransport) -> (MemoryRunStore, PipelineConfig, Finished) {
    let clock = ManualClock::starting_at(START_MS);
    let llm = client(transport, &clock);
    let store = MemoryRunStore::new();
    let config = pipeline_config();
    let finished = run_to_end(&llm, &clock, &store, &config);
    (store, config, finished)
}

fn client(
    transport: &ScriptedTransport,
    clock: &ManualClock,
) -> LlmClient<ScriptedTransport, ManualClock> {
    let options = ClientOptions {
        jitter_seed: Some(7),
        ..ClientOptions::default()
    };
    LlmClient::with_options(
        registry_with_openai_key(),
        transport.clone(),
        clock.clone(),
        options,
    )
}

/// [`new_run`] of `config` driven to its end by `llm` into `store`, priced by [`pricer`].
fn run_to_end<L: LlmSource, S: RunStore>(
    llm: &L,
    clock: &ManualClock,
    store: &S,
    config: &PipelineConfig,
) -> Finished {
    block_on(
        RunDriver::new(llm, clock, store)
            .with_pricer(pricer())
            .start(new_run(config)),
    )
    .unwrap()
}

/// [`new_run`] of `config` into `store`, its tab killed while the verifier's call is in flight
/// (the solver's step committed); returns the run's record as the kill left it.
fn run_killed_at_the_verifier(
    clock: &ManualClock,
    store: &MemoryRunStore,
    config: &PipelineConfig,
) -> RunRecord {
    let llm = HangsAfterSolver(ScriptedLlm::builder().solve("\\boxed{4}").build());
    let driver = RunDriver::new(&llm, clock, store).with_pricer(pricer());
    kill_when_waiting(driver.start(new_run(config)));
    store.records().pop().unwrap()
}

/// The worst case of the first request of the call the solver makes in [`new_run`].
fn first_request_worst_case(call: &AgentCall) -> f64 {
    let pricer = pricer();
    let estimate = CallEstimate {
        max_reasks: 0,
        ..CallEstimate::default()
    };
    let Some(rates) = rates(&pricer) else {
        panic!("gpt-4o-mini is priced")
    };
    estimate.worst_case_usd(call, &rates)
}

fn rates(pricer: &Pricer) -> Option<trialogue::core::pricing::ModelRates> {
    match pricer.price_of("", "openai/gpt-4o-mini") {
        trialogue::core::pricing::Price::Known(quote) => Some(quote.rates),
        trialogue::core::pricing::Price::Unknown => None,
    }
}

#[test]
fn a_timed_out_request_counts_its_worst_case_as_possibly_billed_and_a_settled_one_does_not() {
    let transport = ScriptedTransport::new();
    // The solver's first request times out, its retry is answered; the rest are answered.
    transport.push_error(TransportError::Timeout);
    push_answers(&transport);
    let (store, config, finished) = run_against(&transport);
    assert_eq!(finished.record.status, RunStatus::Completed);
    let steps = store.steps_of(&finished.record.run_id);
    assert_eq!(steps.len(), 3);

    let solver_call = solver_call(&config);
    let worst = first_request_worst_case(&solver_call);
    assert!(worst > 0.0);
    // The timed-out request is possibly billed at its request's worst case, on its step and
    // on the run; the settled requests add nothing, and the cost holds only what was billed.
    let attempts = steps[0].metadata.attempts.as_ref().unwrap();
    assert!(attempts[0].unsettled && !attempts[1].unsettled);
    assert_close(steps[0].possibly_billed_usd(), worst);
    assert_eq!(steps[1].possibly_billed_usd(), 0.0);
    assert_eq!(steps[2].possibly_billed_usd(), 0.0);
    assert_eq!(
        steps[1].metadata.possibly_billed_usd, None,
        "written only when non-zero"
    );
    assert_close(finished.record.possibly_billed_usd, worst);
    let expected_cost = ((40.0 + 50.0 + 60.0) * 0.15 + (20.0 + 10.0 + 10.0) * 0.6) / 1e6;
    assert_close(finished.record.cost_usd.unwrap(), expected_cost);
    // Every call settled: nothing is left in flight.
    assert!(block_on(store.in_flight_calls(&finished.record.run_id))
        .unwrap()
        .is_empty());
}

#[test]
fn a_run_whose_requests_all_get_replies_has_nothing_possibly_billed() {
    let transport = ScriptedTransport::new();
    push_answers(&transport);
    let (store, _, finished) = run_against(&transport);
    assert_eq!(finished.record.possibly_billed_usd, 0.0);
    // The record as stored does not even carry the key (old records stay as they were).
    let stored = serde_json::to_value(store.record(&finished.record.run_id).unwrap()).unwrap();
    assert!(stored.get("possibly_billed_usd").is_none(), "{stored}");
}

#[test]
fn the_client_marks_requests_without_a_reply_and_only_those() {
    let clock = ManualClock::starting_at(START_MS);
    let transport = ScriptedTransport::new();
    transport
        .push_error(TransportError::Network("connection reset".into()))
        .push_json(
            500,
            r#"{"error": {"message": "boom", "type": "server_error"}}"#,
        )
        .push_json(200, solver_reply());
    let llm = client(&transport, &clock);
    let call = solver_call(&pipeline_config());
    let done = block_on(llm.complete(&call, &CancelToken::new())).unwrap();
    let unsettled: Vec<bool> = done.attempts.iter().map(|a| a.unsettled).collect();
    // A dropped connection may be billed; an HTTP error status is a reply and is not.
    assert_eq!(unsettled, [true, false, false]);
}

/// The solver's first call for [`new_run`] under `config`.
fn solver_call(config: &PipelineConfig) -> AgentCall {
    let vars = trialogue::core::pipeline::StepVars {
        problem: "What is 2+2?",
        feedback: "",
        solution: "",
    };
    trialogue::core::pipeline::agent_call(config, AgentRole::Solver, &vars).unwrap()
}

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 + expected.abs() * 1e-9,
        "{actual} != {expected}"
    );
}

#[test]
fn a_budget_counts_possibly_billed_spend_beside_spent_and_held() {
    let mut budget = Budget::new("run", 1.0).unwrap();
    let held = budget.reserve(0.3).unwrap();
    budget.settle(held, 0.1);
    budget.record_possibly_billed(0.5);
    assert_close(budget.possibly_billed_usd(), 0.5);
    assert_close(budget.available_usd(), 0.4);
    // 0.1 spent + 0.5 possibly billed + 0.4 more is the limit; a cent more is refused.
    let refused = budget.reserve(0.41).unwrap_err();
    assert_close(refused.spent_usd, 0.6);
    let fits = budget.reserve(0.4).unwrap();
    assert_close(
        budget.spent_usd() + budget.possibly_billed_usd() + budget.reserved_usd(),
        1.0,
    );
    budget.release(fits);
    // Nonsense adds nothing.
    budget.record_possibly_billed(f64::NAN);
    budget.record_possibly_billed(-1.0);
    assert_close(budget.possibly_billed_usd(), 0.5);
}

#[test]
fn a_gate_counts_a_timed_out_request_against_the_budget_before_the_next_call() {
    let call = solver_call(&pipeline_config());
    let gate = BudgetGate::capped(pricer(), "run", Some(1.0), 0.0, 2).unwrap();
    let worst = gate.worst_case_usd(&call).unwrap();
    gate.before_call(&call).unwrap();
    gate.possibly_billed(&call, 0.9);
    gate.after_call(&call, &Usage::default(), Some(0.0));
    let budget = gate.budgets()[0].borrow().clone();
    assert_close(budget.possibly_billed_usd(), 0.9);
    assert_eq!(budget.reserved_usd(), 0.0);
    drop(budget);
    // $0.10 is left: the same call fits only if its worst case does.
    assert_eq!(gate.before_call(&call).is_ok(), worst <= 0.1);
}

/// An LLM that answers the solver and never answers anything else: the verifier's call stays
/// in flight until its future is dropped, as in a tab that was killed.
struct HangsAfterSolver(ScriptedLlm);

impl AgentLlm for HangsAfterSolver {
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError> {
        if call.role == AgentRole::Solver {
            self.0.complete(call, cancel).await
        } else {
            std::future::pending().await
        }
    }
}

/// Polls `future` until it waits, then drops it: a tab killed mid-call.
fn kill_when_waiting<F: Future>(future: F) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if future.as_mut().poll(&mut cx).is_ready() {
            panic!("the run was meant to be killed while its call was in flight");
        }
    }
}

#[test]
fn a_killed_tabs_call_in_flight_is_recovered_as_possibly_billed_once() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let config = pipeline_config();
    let record = run_killed_at_the_verifier(&clock, &store, &config);

    // What the killed tab left: the record still `running`, the solver's step, and the
    // verifier's call in flight with its worst case.
    let run_id = record.run_id.clone();
    assert_eq!(record.status, RunStatus::Running);
    assert_eq!(store.steps_of(&run_id).len(), 1);
    let left: Vec<InFlightCall> = block_on(store.in_flight_calls(&run_id)).unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].step_id, 2);
    let worst = left[0].worst_case_usd.unwrap();
    assert!(worst > 0.0);
    assert_eq!(record.possibly_billed_usd, 0.0);

    // The app's start-up marks the run interrupted and counts the call, once.
    let marked = block_on(mark_abandoned(
        &store,
        &MemoryLocks::default(),
        START_MS + 1.0,
    ))
    .unwrap();
    assert_eq!(marked.runs, std::slice::from_ref(&run_id));
    let recovered = store.record(&run_id).unwrap();
    assert_eq!(recovered.status, RunStatus::Interrupted);
    assert_close(recovered.possibly_billed_usd, worst);
    assert!(block_on(store.in_flight_calls(&run_id)).unwrap().is_empty());
    // Recovering again (a second tab, a resume) finds nothing and changes nothing.
    let again = block_on(recover_in_flight(&store, &run_id))
        .unwrap()
        .unwrap();
    assert_eq!(again, recovered);

    // Resumed, the run finishes; the recovered amount is carried, not counted twice.
    let answering = crate::batch::answering_llm();
    let finished = block_on(
        RunDriver::new(&answering, &clock, &store)
            .with_pricer(pricer())
            .resume(&run_id, None),
    )
    .unwrap();
    assert_eq!(finished.record.status, RunStatus::Completed);
    assert_close(finished.record.possibly_billed_usd, worst);
    assert_close(store.record(&run_id).unwrap().possibly_billed_usd, worst);
}

/// A store left by a tab killed while its run's verifier call was in flight, and the run's id.
fn store_killed_at_the_verifier() -> (MemoryRunStore, String) {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let run_id = run_killed_at_the_verifier(&clock, &store, &pipeline_config()).run_id;
    (store, run_id)
}

#[test]
fn a_call_a_cut_short_start_up_check_left_uncounted_is_counted_by_the_next_one() {
    let (store, run_id) = store_killed_at_the_verifier();
    let worst = block_on(store.in_flight_calls(&run_id)).unwrap()[0]
        .worst_case_usd
        .unwrap();
    // The first check after the kill stored its mark, and the page was closed before it
    // counted the run's call: the run is no longer `running`, its call still in flight.
    let marked =
        block_on(store.mark_runs_interrupted(std::slice::from_ref(&run_id), START_MS)).unwrap();
    assert_eq!(marked, std::slice::from_ref(&run_id));
    assert_eq!(store.record(&run_id).unwrap().possibly_billed_usd, 0.0);

    // The next load's check has nothing to mark, and counts the call all the same.
    let abandoned = block_on(mark_abandoned(
        &store,
        &MemoryLocks::default(),
        START_MS + 1.0,
    ))
    .unwrap();
    assert!(abandoned.runs.is_empty(), "{abandoned:?}");
    assert_close(store.record(&run_id).unwrap().possibly_billed_usd, worst);
    assert!(block_on(store.in_flight_calls(&run_id)).unwrap().is_empty());
}

#[test]
fn a_call_in_flight_of_a_run_another_tab_drives_is_left_to_that_tab() {
    let (store, run_id) = store_killed_at_the_verifier();
    let locks = MemoryLocks::new();
    let _other_tab = locks.hold(&Work::Run(run_id.clone())).unwrap();

    block_on(mark_abandoned(&store, &locks, START_MS + 1.0)).unwrap();

    let record = store.record(&run_id).unwrap();
    assert_eq!(record.status, RunStatus::Running);
    assert_eq!(record.possibly_billed_usd, 0.0);
    assert_eq!(block_on(store.in_flight_calls(&run_id)).unwrap().len(), 1);
}

#[test]
fn a_call_left_in_flight_whose_step_was_committed_is_not_counted() {
    let (store, run_id) = store_killed_at_the_verifier();
    // A record of the committed step 1 left behind (as a store that removed it apart from the
    // step's commit could leave it): its step holds the real cost, so it adds nothing.
    block_on(store.begin_call(&InFlightCall {
        run_id: run_id.clone(),
        step_id: 1,
        model: "openai/gpt-4o-mini".into(),
        worst_case_usd: Some(5.0),
        started_ms: START_MS,
    }))
    .unwrap();
    let recovered = block_on(recover_in_flight(&store, &run_id))
        .unwrap()
        .unwrap();
    let uncommitted = recovered.possibly_billed_usd;
    assert!(uncommitted > 0.0 && uncommitted < 5.0, "{uncommitted}");
    assert!(block_on(store.in_flight_calls(&run_id)).unwrap().is_empty());
}

#[test]
fn a_reask_is_reserved_when_it_is_about_to_be_sent_and_refused_when_it_does_not_fit() {
    let clock = ManualClock::starting_at(START_MS);
    let transport = ScriptedTransport::new();
    // The solver answers in prose: a re-ask would be needed.
    transport.push_json(200, reply(json!("no json here"), 40, 20));
    let llm = client(&transport, &clock);
    let call = solver_call(&pipeline_config());
    let probe = BudgetGate::new(pricer());
    let first = probe.first_request_usd(&call).unwrap();
    let whole = probe.worst_case_usd(&call).unwrap();
    assert!(whole > 2.0 * first);
    // Room for the first request only: the call starts, and its re-ask is refused.
    let gate = BudgetGate::capped(pricer(), "run", Some(first * 1.5), 0.0, 2).unwrap();
    assert!(
        gate.before_call(&call).is_err(),
        "the whole call would not fit"
    );
    gate.before_first_request(&call).unwrap();
    let err = block_on(llm.complete_gated(&call, &CancelToken::new(), &gate)).unwrap_err();
    assert_eq!(transport.requests().len(), 1, "no re-ask was sent");
    assert!(
        err.error.to_string().contains("not re-asked"),
        "{}",
        err.error
    );
    assert!(
        err.error.to_string().contains("run budget"),
        "{}",
        err.error
    );
    gate.after_call(&call, &err.usage, Some(0.0));
    assert_eq!(gate.budgets()[0].borrow().reserved_usd(), 0.0);
}

#[test]
fn the_reservation_shown_beside_the_budget_is_the_next_calls_first_request() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let config = pipeline_config();
    let record = run_killed_at_the_verifier(&clock, &store, &config);
    let steps = store.steps_of(&record.run_id);
    // After the solver's step the verifier is next, checking the stored solution.
    let vars = trialogue::core::pipeline::StepVars {
        problem: "What is 2+2?",
        feedback: "",
        solution: "\\boxed{4}",
    };
    let verifier =
        trialogue::core::pipeline::agent_call(&config, AgentRole::Verifier, &vars).unwrap();
    let expected = BudgetGate::new(pricer())
        .first_request_usd(&verifier)
        .unwrap();
    let shown = trialogue::core::cost_views::next_call_reservation(&record, &steps, pricer());
    assert_eq!(shown, Some(expected));
    // Before any step it is the solver's first request.
    let first = trialogue::core::cost_views::next_call_reservation(&record, &[], pricer());
    let solver = solver_call(&config);
    assert_eq!(first, BudgetGate::new(pricer()).first_request_usd(&solver));
    assert_ne!(first, shown);
}

/// A store whose disk is full for calls in flight: steps and records are stored, the record of
/// a call about to be sent is refused.
#[derive(Default)]
struct NoRoomForCalls(MemoryRunStore);

impl RunStore for NoRoomForCalls {
    async fn append_step(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
    ) -> Result<RunRecord, SinkError> {
        self.0.append_step(record, entry).await
    }
    async fn create_run_under_free_id(&self, record: &mut RunRecord) -> Result<(), SinkError> {
        self.0.create_run_under_free_id(record).await
    }
    async fn put_run(&self, record: &RunRecord) -> Result<(), SinkError> {
        self.0.put_run(record).await
    }
    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, SinkError> {
        self.0.get_run(run_id).await
    }
    async fn steps(&self, run_id: &str) -> Result<Vec<TrajectoryEntry>, SinkError> {
        self.0.steps(run_id).await
    }
    async fn begin_call(&self, _call: &InFlightCall) -> Result<(), SinkError> {
        Err(SinkError::new(
            "QuotaExceededError: the browser's storage is full",
        ))
    }
    async fn in_flight_calls(&self, run_id: &str) -> Result<Vec<InFlightCall>, SinkError> {
        self.0.in_flight_calls(run_id).await
    }
    async fn put_run_settling_calls(&self, record: &RunRecord) -> Result<(), SinkError> {
        self.0.put_run_settling_calls(record).await
    }
}

#[test]
fn a_call_that_cannot_be_recorded_in_flight_is_not_sent() {
    let clock = ManualClock::starting_at(START_MS);
    let store = NoRoomForCalls::default();
    let config = pipeline_config();
    let llm = crate::batch::answering_llm();
    let finished = run_to_end(&llm, &clock, &store, &config);
    // Nothing was called: a call that could not be recorded could not be recovered either.
    assert!(llm.calls().is_empty());
    assert_eq!(finished.record.status, RunStatus::Failed);
    let message = finished.record.message.unwrap();
    assert!(
        message.contains("could not be recorded before it was sent"),
        "{message}"
    );
    assert!(message.contains("storage is full"), "{message}");
    assert_eq!(finished.record.possibly_billed_usd, 0.0);
}

#[test]
fn a_timed_out_request_is_sent_again_under_a_run_budget() {
    let clock = ManualClock::starting_at(START_MS);
    let transport = ScriptedTransport::new();
    transport
        .push_json(200, solver_reply())
        .push_error(TransportError::Timeout)
        .push_json(200, verifier_reply())
        .push_json(200, judge_reply());
    let store = MemoryRunStore::new();
    let mut config = pipeline_config();
    config.run_budget_usd = Some(1.0);
    config.max_attempts = 2;
    let source = trialogue::core::driver::ClientSource::new(
        registry_with_openai_key(),
        transport.clone(),
        clock.clone(),
    );
    let finished = run_to_end(&source, &clock, &store, &config);
    assert_eq!(
        finished.record.status,
        RunStatus::Completed,
        "{:?}",
        finished.record.message
    );
    assert!(finished.record.possibly_billed_usd > 0.0);
}

/// A store that logs each write of steps and calls in flight, as `write(step ids)`.
#[derive(Default)]
struct WriteLog {
    store: MemoryRunStore,
    writes: std::cell::RefCell<Vec<String>>,
}

impl WriteLog {
    fn log(&self, write: String) {
        self.writes.borrow_mut().push(write);
    }
}

impl RunStore for WriteLog {
    async fn append_step(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
    ) -> Result<RunRecord, SinkError> {
        self.log(format!("step({})", entry.step_id));
        self.store.append_step(record, entry).await
    }
    async fn append_step_before_call(
        &self,
        record: &RunRecord,
        entry: &TrajectoryEntry,
        next_call: &InFlightCall,
    ) -> Result<(RunRecord, bool), SinkError> {
        self.log(format!(
            "step({}) + call({})",
            entry.step_id, next_call.step_id
        ));
        let updated = self.store.append_step(record, entry).await?;
        self.store.begin_call(next_call).await?;
        Ok((updated, true))
    }
    async fn create_run_under_free_id(&self, record: &mut RunRecord) -> Result<(), SinkError> {
        self.log("run".into());
        self.store.create_run_under_free_id(record).await
    }
    async fn create_run_before_call(
        &self,
        record: &mut RunRecord,
        first_call: &mut InFlightCall,
    ) -> Result<bool, SinkError> {
        self.log(format!("run + call({})", first_call.step_id));
        self.store.create_run_under_free_id(record).await?;
        first_call.run_id.clone_from(&record.run_id);
        self.store.begin_call(first_call).await?;
        Ok(true)
    }
    async fn put_run(&self, record: &RunRecord) -> Result<(), SinkError> {
        self.store.put_run(record).await
    }
    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, SinkError> {
        self.store.get_run(run_id).await
    }
    async fn steps(&self, run_id: &str) -> Result<Vec<TrajectoryEntry>, SinkError> {
        self.store.steps(run_id).await
    }
    async fn begin_call(&self, call: &InFlightCall) -> Result<(), SinkError> {
        self.log(format!("call({})", call.step_id));
        self.store.begin_call(call).await
    }
    async fn in_flight_calls(&self, run_id: &str) -> Result<Vec<InFlightCall>, SinkError> {
        self.store.in_flight_calls(run_id).await
    }
    async fn put_run_settling_calls(&self, record: &RunRecord) -> Result<(), SinkError> {
        self.log("settle".into());
        self.store.put_run_settling_calls(record).await
    }
}

#[test]
fn each_call_is_stored_in_flight_by_the_write_before_it_the_runs_or_its_last_steps() {
    let clock = ManualClock::starting_at(START_MS);
    let store = WriteLog::default();
    let config = pipeline_config();
    let llm = crate::batch::answering_llm();
    let finished = block_on(
        RunDriver::new(&llm, &clock, &store)
            .with_pricer(pricer())
            .start(new_run(&config)),
    )
    .unwrap();
    assert_eq!(finished.record.status, RunStatus::Completed);
    // One write per step: the first call is stored with the run, each later one with the
    // step before it; the judge's step, the last, leads to no call (and writes the final
    // record, so nothing is left to settle).
    assert_eq!(
        *store.writes.borrow(),
        [
            "run + call(1)",
            "step(1) + call(2)",
            "step(2) + call(3)",
            "step(3)"
        ]
    );
    let run_id = &finished.record.run_id;
    assert!(block_on(store.in_flight_calls(run_id)).unwrap().is_empty());
}

#[test]
fn a_call_stored_in_flight_with_a_step_but_never_sent_is_settled_by_the_runs_end() {
    let clock = ManualClock::starting_at(START_MS);
    let store = WriteLog::default();
    let config = pipeline_config();
    let llm = crate::batch::answering_llm();
    let cancel = CancelToken::new();
    let cancel_after_first = {
        let cancel = cancel.clone();
        move |event: &trialogue::core::driver::RunEvent<'_>| {
            if matches!(event, trialogue::core::driver::RunEvent::Stored(_)) {
                cancel.cancel();
            }
        }
    };
    let finished = block_on(
        RunDriver::new(&llm, &clock, &store)
            .with_pricer(pricer())
            .with_listener(&cancel_after_first)
            .with_cancel(cancel)
            .start(new_run(&config)),
    )
    .unwrap();
    assert_eq!(finished.record.status, RunStatus::Cancelled);
    // The verifier's call was stored with the solver's step, then the cancel kept it from
    // going out: the run's end removes it, and nothing counts as possibly billed.
    assert_eq!(llm.calls().len(), 1);
    assert_eq!(
        *store.writes.borrow(),
        ["run + call(1)", "step(1) + call(2)", "settle"]
    );
    let run_id = &finished.record.run_id;
    assert!(block_on(store.in_flight_calls(run_id)).unwrap().is_empty());
    assert_eq!(finished.record.possibly_billed_usd, 0.0);
    assert_eq!(store.store.record(run_id).unwrap().possibly_billed_usd, 0.0);
}

//! The trajectory JSONL is self-contained: a run exported, imported and exported again gives
//! the same bytes, and the imported record says what the run's own record said (status, stop
//! reason, start time, ground truth, extracted answer, config), for every state a run can be
//! in; a file without Trialogue's run facts (the original's) comes back byte for byte too.

use std::cell::Cell;
use std::rc::Rc;

use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::ManualClock;
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::driver::{NewRun, RunDriver};
use trialogue::core::jsonl::{read_jsonl, write_entry};
use trialogue::core::llm::{AgentCall, LlmError};
use trialogue::core::pipeline::{CallGate, GateRefusal, StopReason};
use trialogue::core::pricing::{PriceOverrides, Pricer, RateOverride};
use trialogue::core::role::AgentRole;
use trialogue::core::run_facts::stamp_runs;
use trialogue::core::run_store::{MemoryRunStore, RunStore};
use trialogue::core::scripted::ScriptedLlm;
use trialogue::core::trajectory::{RunRecord, RunStatus};

use crate::batch::{pipeline_config, START_MS};
use crate::util::{block_on, fixture_text};

/// The export of every run in `store`, as the browser's export writes it: each run's steps in
/// order, its last line stamped with its record's facts.
fn export(store: &MemoryRunStore) -> String {
    let records = store.records();
    let mut text = String::new();
    for record in &records {
        let mut steps = store.steps_of(&record.run_id);
        stamp_runs(&mut steps, |id| records.iter().find(|r| r.run_id == id));
        for step in &steps {
            write_entry(&mut text, step).unwrap();
        }
    }
    text
}

/// `text` imported into a fresh store, as the browser's import stores it.
fn import(text: &str) -> MemoryRunStore {
    let report = read_jsonl(text);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let store = MemoryRunStore::new();
    for (id, entries) in report.runs() {
        // The import time, which the file's own start time must replace.
        let record = RunRecord::from_entries(&id, &entries, START_MS + 9e6);
        store.insert(record, entries);
    }
    store
}

/// What an exported record must say again once imported.
fn facts(r: &RunRecord) -> impl PartialEq + std::fmt::Debug {
    (
        (r.run_id.clone(), r.status, r.stop_reason, r.created_ms),
        (r.ground_truth.clone(), r.extracted_answer.clone()),
        (r.config.clone(), r.config_hash.clone(), r.mode),
        (r.judge_score, r.correct, r.passed, r.iterations),
        (r.step_count, r.errors, r.problem.clone()),
    )
}

/// Exports `store`'s one run, imports it, exports it again: same bytes, same facts.
fn assert_round_trip(store: &MemoryRunStore, status: RunStatus) -> RunRecord {
    let [original] = store.records().try_into().expect("one run");
    assert_eq!(original.status, status);
    let first = export(store);
    let imported = import(&first);
    let [back] = imported.records().try_into().expect("one run");
    assert_eq!(facts(&back), facts(&original), "{first}");
    assert!(back.imported);
    assert_eq!(export(&imported), first, "export → import → export");
    original
}

/// $1 per million tokens for the solver's model, so the config's run budget is enforced.
fn pricer() -> Rc<Pricer> {
    let mut overrides = PriceOverrides::new();
    overrides
        .insert("openai/gpt-4o-mini", RateOverride::new(1.0, 1.0))
        .unwrap();
    Rc::new(Pricer::new(None, overrides))
}

fn start(
    llm: &ScriptedLlm,
    config: &PipelineConfig,
    ground_truth: Option<&str>,
    gate: &dyn CallGate,
    cancel: CancelToken,
) -> MemoryRunStore {
    let clock = ManualClock::starting_at(START_MS + 0.5);
    let store = MemoryRunStore::new();
    block_on(
        RunDriver::new(llm, &clock, &store)
            .with_pricer(pricer())
            .with_gate(gate)
            .with_cancel(cancel)
            .start(NewRun {
                config,
                problem: "What is 20 + 22?",
                ground_truth,
                batch_id: None,
            }),
    )
    .unwrap();
    store
}

/// Lets `calls` calls through, then refuses (a budget running out).
struct Allow {
    calls: Cell<u32>,
}

impl CallGate for Allow {
    fn before_call(&self, _call: &AgentCall) -> Result<(), GateRefusal> {
        match self.calls.get() {
            0 => Err(GateRefusal::new("the batch budget of $0.01 is spent")),
            n => {
                self.calls.set(n - 1);
                Ok(())
            }
        }
    }
}

fn allow(calls: u32) -> Allow {
    Allow {
        calls: Cell::new(calls),
    }
}

fn debate() -> PipelineConfig {
    PipelineConfig {
        // An execution setting that is not the default, to show it travels too.
        max_reasks: 1,
        run_budget_usd: Some(0.25),
        ..pipeline_config()
    }
}

#[test]
fn a_completed_run_round_trips_with_its_facts() {
    let llm = ScriptedLlm::builder()
        .solve(r"so \boxed{42}")
        .verify(true, "right")
        .judge(0.9)
        .build();
    let store = start(&llm, &debate(), Some("42"), &allow(9), CancelToken::new());
    let run = assert_round_trip(&store, RunStatus::Completed);
    assert_eq!(run.stop_reason, Some(StopReason::Passed));
    assert_eq!(run.extracted_answer.as_deref(), Some("42"));
    assert_eq!(run.ground_truth.as_deref(), Some("42"));
    assert!(run.config.is_some());
}

#[test]
fn a_failed_run_round_trips() {
    let invalid = || LlmError::invalid_output("local", "`solution`: missing field");
    let llm = ScriptedLlm::builder()
        .fail(AgentRole::Solver, invalid(), Default::default())
        .fail(AgentRole::Solver, invalid(), Default::default())
        .fail(
            AgentRole::Judge,
            LlmError::truncated("local", 64),
            Default::default(),
        )
        .build();
    let store = start(&llm, &debate(), Some("42"), &allow(9), CancelToken::new());
    let run = assert_round_trip(&store, RunStatus::Failed);
    assert_eq!(run.stop_reason, Some(StopReason::Error));
    assert_eq!((run.errors, run.judge_score), (3, None));
}

#[test]
fn a_cancelled_run_round_trips_as_cancelled_not_interrupted() {
    let cancel = CancelToken::new();
    let stop = cancel.clone();
    let llm = ScriptedLlm::with_responder(move |_call| {
        stop.cancel();
        trialogue::core::scripted::ScriptedTurn::Fail {
            error: LlmError::cancelled(),
            usage: Default::default(),
        }
    });
    llm.solve("so 42");
    let store = start(&llm, &debate(), Some("42"), &allow(9), cancel);
    let run = assert_round_trip(&store, RunStatus::Cancelled);
    assert_eq!(run.stop_reason, Some(StopReason::Cancelled));
    assert_eq!(run.step_count, 1);
}

#[test]
fn an_interrupted_run_round_trips() {
    let llm = ScriptedLlm::builder().solve("so 42").build();
    let store = start(&llm, &debate(), None, &allow(1), CancelToken::new());
    // The page went away while it ran: start-up marks it interrupted.
    let mut record = store.records().remove(0);
    record.status = RunStatus::Interrupted;
    record.stop_reason = None;
    block_on(store.put_run(&record)).unwrap();
    let run = assert_round_trip(&store, RunStatus::Interrupted);
    assert_eq!(run.ground_truth, None);
}

#[test]
fn a_budget_stopped_run_round_trips() {
    let llm = ScriptedLlm::builder()
        .solve("so 42")
        .verify(false, "check")
        .build();
    let store = start(&llm, &debate(), Some("42"), &allow(2), CancelToken::new());
    let run = assert_round_trip(&store, RunStatus::BudgetExceeded);
    assert_eq!(run.stop_reason, Some(StopReason::Budget));
}

#[test]
fn a_baseline_run_round_trips() {
    let llm = ScriptedLlm::builder()
        .solve(r"\boxed{41}")
        .judge(0.2)
        .build();
    let config = PipelineConfig {
        mode: Mode::Baseline,
        ..pipeline_config()
    };
    let store = start(&llm, &config, Some("42"), &allow(9), CancelToken::new());
    let run = assert_round_trip(&store, RunStatus::Completed);
    assert_eq!(run.stop_reason, Some(StopReason::Baseline));
    assert_eq!(run.correct, Some(false));
}

#[test]
fn an_imported_original_file_round_trips_byte_for_byte() {
    let text = fixture_text("trajectories/original_format.jsonl");
    let report = read_jsonl(&text);
    let store = MemoryRunStore::new();
    for (id, entries) in report.runs() {
        store.insert(RunRecord::from_entries(&id, &entries, START_MS), entries);
    }
    let mut accepted = String::new();
    for entry in &report.entries {
        write_entry(&mut accepted, entry).unwrap();
    }
    // The store exports runs in id order; the file's accepted lines, grouped the same way.
    let mut by_run = report.runs();
    by_run.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = String::new();
    for (_, entries) in &by_run {
        for entry in entries {
            write_entry(&mut expected, entry).unwrap();
        }
    }
    assert_eq!(export(&store), expected);
    // Nothing was added: the original's runs carry none of the run facts.
    assert!(!export(&store).contains("\"started_at\""));
    assert!(!accepted.is_empty());
}

#[test]
fn a_stamp_on_a_run_made_here_carries_every_fact_key() {
    let llm = ScriptedLlm::builder()
        .solve(r"so \boxed{42}")
        .verify(true, "right")
        .judge(0.9)
        .build();
    let store = start(&llm, &debate(), Some("42"), &allow(9), CancelToken::new());
    let text = export(&store);
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let metadata = &last["metadata"];
    for key in [
        "status",
        "stop_reason",
        "started_at",
        "ground_truth",
        "extracted_answer",
        "config",
    ] {
        assert!(metadata.get(key).is_some(), "{key} missing: {metadata}");
    }
    assert_eq!(metadata["started_at"], "2026-03-01T12:00:00.000500+00:00");
    assert_eq!(metadata["config"]["max_reasks"], 1);
    // The original's fields are what they were.
    assert_eq!(last["reward"], 1.0);
    assert_eq!(last["terminal"], true);
    // Only the run's last line carries them.
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(first["metadata"].get("started_at").is_none());
}

/// The keys this stop added to a step — how each request was sent, whether it went unsettled,
/// and the step's possibly-billed spend — survive export → import → export: they decide what
/// a re-price and the Costs page count, so an imported run must not lose them.
#[test]
fn a_batch_answered_and_an_unsettled_attempt_round_trip() {
    use trialogue::core::llm::SentVia;
    let llm = ScriptedLlm::builder()
        .solve(r"so \boxed{42}")
        .verify(true, "right")
        .judge(0.9)
        .build();
    let ran = start(&llm, &debate(), Some("42"), &allow(9), CancelToken::new());
    let [record] = ran.records().try_into().expect("one run");
    let mut steps = ran.steps_of(&record.run_id);
    let attempts = steps[0].metadata.attempts.get_or_insert_with(Vec::new);
    assert!(
        !attempts.is_empty(),
        "the solver's step records its attempts"
    );
    attempts[0].sent_via = SentVia::ProviderBatch;
    attempts[0].unsettled = true;
    steps[0].metadata.possibly_billed_usd = Some(0.25);
    let marked = MemoryRunStore::new();
    marked.insert(record, steps);

    let first = export(&marked);
    let imported = import(&first);
    let [back] = imported.records().try_into().expect("one run");
    let step = &imported.steps_of(&back.run_id)[0];
    let attempt = &step.metadata.attempts.as_ref().expect("attempts kept")[0];
    assert_eq!(attempt.sent_via, SentVia::ProviderBatch, "{first}");
    assert!(attempt.unsettled, "{first}");
    assert_eq!(step.metadata.possibly_billed_usd, Some(0.25));
    assert_eq!(export(&imported), first, "export → import → export");
}

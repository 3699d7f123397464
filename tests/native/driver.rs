//! The run driver natively: one lifecycle for a run (create or reopen its record, drive the
//! loop, save the summary once) and for a batch (store or reconcile its record, its items
//! through the same run lifecycle), over the in-memory store and the scripted LLM.

use std::cell::RefCell;
use std::rc::Rc;

use trialogue::core::batch::scheduler::BatchControl;
use trialogue::core::batch::{BatchModes, BatchRecord, BatchSpec, BatchStatus, ItemStatus};
use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::ManualClock;
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::driver::{
    client_options, hold_for_delete, BatchDriver, BatchProgress, DrivenElsewhere, MemoryLocks,
    NewRun, RunDriver, RunEvent, StartError, Work,
};
use trialogue::core::llm::retry::RetryPolicy;
use trialogue::core::llm::{LlmError, Usage};
use trialogue::core::pipeline::PipelineEvent;
use trialogue::core::pricing::Pricer;
use trialogue::core::role::AgentRole;
use trialogue::core::run_store::{BatchStore, MemoryRunStore, RunStore};
use trialogue::core::scripted::ScriptedLlm;
use trialogue::core::trajectory::{RunRecord, RunStatus, StepTotals, TrajectoryEntry};

use crate::batch::{
    answering_llm, count, new_run, pipeline_config, problem, problems, spec_with, START_MS,
};
use crate::util::{block_on, priced_at, ready_now, LoggingStore};

/// What a driver reported, as words, in order.
fn event_name(event: &RunEvent<'_>) -> String {
    match event {
        RunEvent::Started { committed, .. } => format!("started after {}", committed.len()),
        RunEvent::Loop(PipelineEvent::StepStarted { step_id, .. }) => format!("call {step_id}"),
        RunEvent::Loop(PipelineEvent::StepFinished { entry, .. }) => {
            format!("step {}", entry.step_id)
        }
        RunEvent::Loop(PipelineEvent::RunFinished { .. }) => "loop ended".into(),
        RunEvent::Stored(record) => format!("stored {}", record.step_count),
        RunEvent::CallsDone => "calls done".into(),
    }
}

/// $1 per million input and output tokens for the fixture config's model.
fn pricer() -> Rc<Pricer> {
    priced_at("openai/gpt-4o-mini", 1.0, 1.0)
}

/// What the usage of a cut-off call counts: billed, but in no step.
const CUT_OFF: Usage = Usage {
    input_tokens: 300,
    output_tokens: 0,
    total_tokens: 300,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    reasoning_tokens_unknown: false,
};

/// A debate run stopped by a cancel while its first verifier call was in flight (its solver
/// step stored, the cut-off call's usage counted in the record), then marked `interrupted` as
/// the app's start-up does.
fn interrupted_run(
    store: &impl RunStore,
    clock: &ManualClock,
    config: &PipelineConfig,
) -> RunRecord {
    let llm = ScriptedLlm::builder()
        .solve("so \\boxed{4}")
        .fail(AgentRole::Verifier, LlmError::cancelled(), CUT_OFF)
        .build();
    let finished = block_on(
        RunDriver::new(&llm, clock, store)
            .with_pricer(pricer())
            .start(new_run(config)),
    )
    .unwrap();
    assert_eq!(finished.record.status, RunStatus::Cancelled);
    let mut record = finished.record;
    record.status = RunStatus::Interrupted;
    block_on(store.put_run(&record)).unwrap();
    record
}

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_run_is_stored_before_its_first_call_and_its_last_step_writes_its_summary() {
    let clock = ManualClock::starting_at(START_MS);
    let store = LoggingStore::default();
    let llm = answering_llm();
    let config = pipeline_config();
    let seen = RefCell::new(Vec::new());
    let listener = |event: &RunEvent<'_>| {
        if let RunEvent::Started { record, .. } = event {
            // Stored, as running, before anything is called.
            assert_eq!(store.inner.record(&record.run_id).as_ref(), Some(*record));
            assert_eq!(record.status, RunStatus::Running);
            assert!(llm.calls().is_empty());
        }
        if let RunEvent::Stored(record) = event {
            assert_eq!(store.inner.record(&record.run_id).as_ref(), Some(*record));
        }
        store.note(&event_name(event), "");
        seen.borrow_mut().push(event_name(event));
    };
    let finished = block_on(
        RunDriver::new(&llm, &clock, &store)
            .with_listener(&listener)
            .start(new_run(&config)),
    )
    .unwrap();

    let run_id = finished.record.run_id.clone();
    assert!(run_id.starts_with(&format!("run_20260301_120000_{}", config.config_hash())));
    assert_eq!(finished.record.status, RunStatus::Completed);
    assert_eq!(finished.record.correct, Some(true));
    assert_eq!(finished.record.step_count, 3);
    assert_eq!(store.inner.record(&run_id), Some(finished.record.clone()));
    assert_eq!(store.inner.steps_of(&run_id), finished.outcome.entries);
    assert_eq!(finished.save_error, None);
    assert_eq!(
        *seen.borrow(),
        [
            "started after 0",
            "call 1",
            "stored 1",
            "step 1",
            "call 2",
            "stored 2",
            "step 2",
            "call 3",
            "calls done",
            "stored 3",
            "step 3",
            "loop ended",
        ]
    );
    // One create, three commits; the judge's commit wrote the summary, so no write of its own.
    assert_eq!(store.calls("create_run_if_free"), [run_id.as_str()]);
    assert_eq!(store.calls("append").len(), 3);
    assert!(store.calls("put_run").is_empty());
    // The next item of a batch may start while the judge's step is committed.
    let log = store.log.borrow();
    let done = log.iter().position(|l| l == "calls done ").unwrap();
    let judge_committed = log.iter().rposition(|l| *l == format!("appended {run_id}"));
    assert!(Some(done) < judge_committed, "{log:?}");
}

#[test]
fn a_run_stopped_early_saves_its_summary_once() {
    let clock = ManualClock::starting_at(START_MS);
    let store = LoggingStore::default();
    let llm = answering_llm();
    let config = pipeline_config();
    let cancel = CancelToken::new();
    let stop = cancel.clone();
    let listener = move |event: &RunEvent<'_>| {
        if matches!(event, RunEvent::Stored(record) if record.step_count == 1) {
            stop.cancel();
        }
    };
    let finished = block_on(
        RunDriver::new(&llm, &clock, &store)
            .with_listener(&listener)
            .with_cancel(cancel)
            .start(new_run(&config)),
    )
    .unwrap();
    assert_eq!(finished.record.status, RunStatus::Cancelled);
    assert_eq!(finished.record.step_count, 1);
    assert_eq!(store.calls("put_run"), [finished.record.run_id.as_str()]);
    assert_eq!(
        store.inner.record(&finished.record.run_id),
        Some(finished.record)
    );
}

#[test]
fn an_interrupted_run_goes_on_from_its_steps_and_keeps_the_spend_of_its_cut_off_call() {
    let clock = ManualClock::starting_at(START_MS);
    let store = LoggingStore::default();
    let config = pipeline_config();
    let before = interrupted_run(&store, &clock, &config);
    let committed = store.inner.steps_of(&before.run_id);
    assert_eq!(committed.len(), 1);
    // The record counts the cut-off call on top of its step.
    let step_usage = committed[0].usage().unwrap();
    assert_eq!(
        before.usage.input_tokens,
        step_usage.input_tokens + CUT_OFF.input_tokens
    );
    let cut_off_cost = before.cost_usd.unwrap() - committed[0].cost_usd().unwrap();
    assert!(cut_off_cost > 0.0);

    let llm = answering_llm();
    let started = RefCell::new(None);
    let listener = |event: &RunEvent<'_>| {
        if let RunEvent::Started { record, committed } = event {
            started.replace(Some((record.status, committed.to_vec())));
        }
    };
    let finished = block_on(
        RunDriver::new(&llm, &clock, &store)
            .with_pricer(pricer())
            .with_listener(&listener)
            .resume(&before.run_id, None),
    )
    .unwrap();

    // Marked running, with its committed steps shown, before the first call.
    assert_eq!(
        started.take(),
        Some((RunStatus::Running, committed.clone()))
    );
    // The solver step was not made again: the verifier, then the judge.
    let roles: Vec<AgentRole> = llm.calls().iter().map(|c| c.role).collect();
    assert_eq!(roles, [AgentRole::Verifier, AgentRole::Judge]);
    let steps = store.inner.steps_of(&before.run_id);
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0], committed[0]);
    assert_eq!(finished.record.status, RunStatus::Completed);
    assert_eq!(finished.record.run_id, before.run_id);
    assert_eq!(
        store.inner.record(&before.run_id),
        Some(finished.record.clone())
    );

    // The record counts every step and the cut-off call of the first session.
    let totals = StepTotals::of(&steps);
    assert_eq!(
        finished.record.usage.input_tokens,
        totals.usage.input_tokens + CUT_OFF.input_tokens
    );
    assert_eq!(
        finished.record.usage.total_tokens,
        totals.usage.total_tokens + CUT_OFF.total_tokens
    );
    let expected = totals.cost_usd.unwrap() + cut_off_cost;
    assert!(
        (finished.record.cost_usd.unwrap() - expected).abs() < 1e-12,
        "{:?} != {expected}",
        finished.record.cost_usd
    );
}

#[test]
fn a_run_driven_elsewhere_is_refused_before_anything_is_read_or_called() {
    let clock = ManualClock::starting_at(START_MS);
    let store = LoggingStore::default();
    let config = pipeline_config();
    let before = interrupted_run(&store, &clock, &config);
    store.log.borrow_mut().clear();
    let locks = MemoryLocks::new();
    let llm = answering_llm();
    let driver = RunDriver::new(&llm, &clock, &store).with_locks(&locks);

    // Another tab drives the run.
    let other_tab = locks.hold(&Work::Run(before.run_id.clone())).unwrap();
    let refused = block_on(driver.resume(&before.run_id, None)).unwrap_err();
    assert_eq!(
        refused,
        StartError::OtherTab {
            work: Work::Run(before.run_id.clone())
        }
    );
    assert!(store.log.borrow().is_empty(), "{:?}", store.log.borrow());
    drop(other_tab);

    // The run belongs to a batch that is going.
    let mut in_batch = before.clone();
    in_batch.batch_id = Some("batch_b".into());
    block_on(store.put_run(&in_batch)).unwrap();
    store.log.borrow_mut().clear();
    let batch_going = locks.hold(&Work::Batch("batch_b".into())).unwrap();
    let refused = block_on(driver.resume(&before.run_id, None)).unwrap_err();
    assert_eq!(
        refused,
        StartError::BatchGoing {
            run_id: before.run_id.clone(),
            batch_id: "batch_b".into()
        }
    );
    assert!(store.calls("put_run").is_empty());
    assert_eq!(store.inner.record(&before.run_id), Some(in_batch));
    assert!(llm.calls().is_empty());
    // The run's own lock was handed back with the refusal.
    assert!(!locks.is_held(&Work::Run(before.run_id.clone())));
    drop(batch_going);

    // Once both are free it resumes, holding both locks while it goes and none after.
    let held = RefCell::new(Vec::new());
    let listener = |event: &RunEvent<'_>| {
        if let RunEvent::Started { record, .. } = event {
            held.borrow_mut().extend([
                locks.is_held(&Work::Run(record.run_id.clone())),
                locks.is_held(&Work::Batch("batch_b".into())),
            ]);
        }
    };
    let finished = block_on(
        RunDriver::new(&llm, &clock, &store)
            .with_locks(&locks)
            .with_listener(&listener)
            .resume(&before.run_id, None),
    )
    .unwrap();
    assert_eq!(finished.record.status, RunStatus::Completed);
    assert_eq!(*held.borrow(), [true, true]);
    assert!(!locks.is_held(&Work::Run(before.run_id.clone())));
    assert!(!locks.is_held(&Work::Batch("batch_b".into())));
}

#[test]
fn steps_the_config_does_not_make_are_refused_and_the_run_stays_as_it_was() {
    let clock = ManualClock::starting_at(START_MS);
    let store = LoggingStore::default();
    let config = pipeline_config();
    let before = interrupted_run(&store, &clock, &config);
    // The run's config is the baseline one now: its loop never makes a verifier step, and the
    // next stored step would be the judge's, not the one stored.
    let mut baseline = before.clone();
    baseline.config.as_mut().unwrap().mode = Mode::Baseline;
    let mut steps = store.inner.steps_of(&before.run_id);
    let mut verifier = steps[0].clone();
    verifier.step_id = 2;
    verifier.agent = "verifier".into();
    steps.push(verifier);
    let store = LoggingStore::default();
    store.inner.insert(baseline.clone(), steps);

    let llm = answering_llm();
    let refused =
        block_on(RunDriver::new(&llm, &clock, &store).resume(&before.run_id, None)).unwrap_err();
    assert!(
        matches!(&refused, StartError::Resume { run_id, .. } if *run_id == before.run_id),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("cannot be resumed"),
        "{refused}"
    );
    assert!(store.calls("put_run").is_empty());
    assert_eq!(store.inner.record(&before.run_id), Some(baseline));
    assert!(llm.calls().is_empty());
}

#[test]
fn a_run_imported_without_its_config_resumes_only_with_a_config_of_its_hash() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let config = pipeline_config();
    let mut imported = interrupted_run(&store, &clock, &config);
    imported.config = None;
    store.insert(imported.clone(), Vec::new());
    let llm = answering_llm();
    let driver = RunDriver::new(&llm, &clock, &store);

    let other = PipelineConfig {
        max_iterations: 5,
        ..config.clone()
    };
    assert_eq!(
        block_on(driver.resume(&imported.run_id, Some(&other))).unwrap_err(),
        StartError::NoConfig {
            run_id: imported.run_id.clone(),
            config_hash: config.config_hash(),
            current_hash: other.config_hash(),
        }
    );
    assert!(matches!(
        block_on(driver.resume(&imported.run_id, None)),
        Err(StartError::NoConfig { .. })
    ));
    let finished = block_on(driver.resume(&imported.run_id, Some(&config))).unwrap();
    assert_eq!(finished.record.status, RunStatus::Completed);
    assert!(matches!(
        block_on(driver.resume(&imported.run_id, Some(&config))),
        Err(StartError::AlreadyCompleted { .. })
    ));
    assert!(matches!(
        block_on(driver.resume("run_gone", None)),
        Err(StartError::NotFound { work: Work::Run(id) }) if id == "run_gone"
    ));
}

#[test]
fn the_run_budget_counts_what_earlier_sessions_spent() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let config = PipelineConfig {
        run_budget_usd: Some(1.0),
        ..pipeline_config()
    };
    let before = interrupted_run(&store, &clock, &config);
    let llm = answering_llm();
    let driver = RunDriver::new(&llm, &clock, &store).with_pricer(pricer());

    // Spent so far (a step and a cut-off call): far below the budget, so the run goes on.
    let finished = block_on(driver.resume(&before.run_id, None)).unwrap();
    assert_eq!(finished.record.status, RunStatus::Completed);
    assert!(!finished.stopped_by_run_budget);

    // The same run, had it spent almost all of its budget before.
    let mut spent = before.clone();
    spent.cost_usd = Some(0.999_999);
    let store = MemoryRunStore::new();
    store.insert(spent.clone(), Vec::new());
    let llm = answering_llm();
    let finished = block_on(
        RunDriver::new(&llm, &clock, &store)
            .with_pricer(pricer())
            .resume(&spent.run_id, None),
    )
    .unwrap();
    assert!(llm.calls().is_empty());
    assert_eq!(finished.record.status, RunStatus::BudgetExceeded);
    assert!(finished.stopped_by_run_budget);
    let message = finished.record.message.unwrap_or_default();
    assert!(message.contains("run budget"), "{message}");

    // A budget that is no amount is refused before anything is stored.
    let bad = PipelineConfig {
        run_budget_usd: Some(-1.0),
        ..pipeline_config()
    };
    let store = MemoryRunStore::new();
    let refused = block_on(
        RunDriver::new(&llm, &clock, &store)
            .with_pricer(pricer())
            .start(new_run(&bad)),
    )
    .unwrap_err();
    assert!(matches!(refused, StartError::Budget(_)), "{refused:?}");
    assert!(store.records().is_empty());
}

#[test]
fn client_options_follow_the_config() {
    let config = PipelineConfig {
        max_reasks: 4,
        max_attempts: 0,
        request_timeout_secs: 90,
        ..PipelineConfig::default()
    };
    let options = client_options(&config);
    assert_eq!(options.max_reasks, 4);
    assert_eq!(options.retry.max_attempts, 1, "at least the first attempt");
    assert_eq!(options.request_timeout_ms, 90_000);
    assert_eq!(
        options.retry.min_backoff_ms,
        RetryPolicy::default().min_backoff_ms
    );
}

// ---------------------------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_batch_is_stored_under_a_free_id_before_its_items_and_saved_at_the_end() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let locks = MemoryLocks::new();
    let spec = spec_with(3, BatchModes::Both, 2, pipeline_config());
    // A batch made in the same second with the same config holds the plain id.
    block_on(store.put_batch(&BatchRecord::new(spec.clone()))).unwrap();
    let llm = answering_llm();
    let started = RefCell::new(None);
    let listener = |progress: &BatchProgress<'_>| {
        if let BatchProgress::Started { record, .. } = progress {
            let id = record.spec.batch_id.clone();
            assert_eq!(store.batch(&id).as_ref(), Some(*record), "stored first");
            assert!(store.records().is_empty(), "before any run");
            started.replace(Some((id.clone(), locks.is_held(&Work::Batch(id)))));
        }
    };
    let record = block_on(
        BatchDriver::new(&llm, &clock, &store)
            .with_locks(&locks)
            .with_listener(&listener)
            .start(spec.clone(), &problems(), BatchControl::new()),
    )
    .unwrap();

    let batch_id = format!("{}_2", spec.batch_id);
    assert_eq!(started.take(), Some((batch_id.clone(), true)));
    assert!(!locks.is_held(&Work::Batch(batch_id.clone())));
    assert_eq!(record.spec.batch_id, batch_id);
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 6);
    assert_eq!(store.batch(&batch_id), Some(record.clone()));
    // Each item made its run through the run driver, tagged with the batch.
    let runs = block_on(store.batch_runs(&batch_id)).unwrap();
    assert_eq!(runs.len(), 6);
    for item in &record.items {
        let run = store.record(item.run_id.as_deref().unwrap()).unwrap();
        assert_eq!(run.status, RunStatus::Completed);
        assert_eq!(run.mode, item.mode);
        assert_eq!(item.cost_usd, run.cost_usd);
    }
}

#[test]
fn a_batch_is_refused_while_it_goes_elsewhere_or_its_dataset_is_gone() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let locks = MemoryLocks::new();
    let spec = spec_with(2, BatchModes::Debate, 2, pipeline_config());
    let batch_id = spec.batch_id.clone();
    let mut record = BatchRecord::new(spec.clone());
    record.status = BatchStatus::Interrupted;
    block_on(store.put_batch(&record)).unwrap();
    let llm = answering_llm();
    let driver = BatchDriver::new(&llm, &clock, &store).with_locks(&locks);
    let resume = || block_on(driver.resume(&batch_id, false, None, BatchControl::new()));

    let other_tab = locks.hold(&Work::Batch(batch_id.clone())).unwrap();
    assert_eq!(
        resume().unwrap_err(),
        StartError::OtherTab {
            work: Work::Batch(batch_id.clone())
        }
    );
    drop(other_tab);
    assert_eq!(
        resume().unwrap_err(),
        StartError::NoDataset {
            batch_id: batch_id.clone(),
            dataset_id: spec.dataset_id.clone(),
            dataset_name: spec.dataset_name.clone(),
        }
    );
    // Marked running by a tab that is not this one (its lock is free: an older Trialogue).
    record.status = BatchStatus::Running;
    block_on(store.put_batch(&record)).unwrap();
    store.insert_dataset(&spec.dataset_id, problems());
    assert_eq!(
        resume().unwrap_err(),
        StartError::RunningElsewhere {
            batch_id: batch_id.clone()
        }
    );
    assert!(matches!(
        block_on(driver.resume("batch_gone", false, None, BatchControl::new())),
        Err(StartError::NotFound { work: Work::Batch(id) }) if id == "batch_gone"
    ));
    assert!(llm.calls().is_empty());
    assert!(store.records().is_empty());
    assert_eq!(store.batch(&batch_id), Some(record));
}

#[test]
fn a_resumed_batch_goes_on_from_its_runs_and_its_items_keep_their_cut_off_spend() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let spec = spec_with(2, BatchModes::Debate, 1, pipeline_config());
    store.insert_dataset(
        &spec.dataset_id,
        vec![
            problem("P1", "What is 2+2?", Some("4")),
            problem("P2", "What is 3*3?", Some("9")),
        ],
    );
    // P1's run was cut off in its verifier call by a closed page, before the batch record
    // noted it.
    let config = spec.config_for(Mode::Debate);
    let mut p1 = interrupted_run(&store, &clock, &config);
    p1.batch_id = Some(spec.batch_id.clone());
    block_on(store.put_run(&p1)).unwrap();
    let mut record = BatchRecord::new(spec.clone());
    record.status = BatchStatus::Running;
    record.items[0].status = ItemStatus::Running;
    record.mark_interrupted(START_MS);
    block_on(store.put_batch(&record)).unwrap();

    let llm = answering_llm();
    let record = block_on(
        BatchDriver::new(&llm, &clock, &store)
            .with_pricer(pricer())
            .resume(&spec.batch_id, false, None, BatchControl::new()),
    )
    .unwrap();
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 2);
    assert_eq!(record.items[0].run_id.as_deref(), Some(p1.run_id.as_str()));
    // P1 went on from its solver step.
    assert!(llm
        .calls()
        .iter()
        .all(|c| !(c.role == AgentRole::Solver && c.user_prompt.contains("2+2"))));
    // Its item's cost is its run's, the cut-off call's spend included.
    let run = store.record(&p1.run_id).unwrap();
    let steps = store.steps_of(&p1.run_id);
    let step_cost = StepTotals::of(&steps).cost_usd.unwrap();
    assert!(run.cost_usd.unwrap() > step_cost + 1e-9);
    assert_eq!(record.items[0].cost_usd, run.cost_usd);
    assert_eq!(store.batch(&spec.batch_id), Some(record));
}

/// A batch of problem `P1` in debate mode, its dataset stored (nothing else is).
fn one_problem_batch() -> (ManualClock, MemoryRunStore, BatchSpec) {
    let store = MemoryRunStore::new();
    let spec = spec_with(1, BatchModes::Debate, 1, pipeline_config());
    store.insert_dataset(&spec.dataset_id, problems());
    (ManualClock::starting_at(START_MS), store, spec)
}

fn resume_batch(
    llm: &ScriptedLlm,
    clock: &ManualClock,
    store: &MemoryRunStore,
    batch_id: &str,
) -> Result<BatchRecord, StartError> {
    block_on(BatchDriver::new(llm, clock, store).resume(batch_id, false, None, BatchControl::new()))
}

#[test]
fn a_resumed_batch_with_every_item_finished_is_completed_without_a_call() {
    let (clock, store, spec) = one_problem_batch();
    let llm = answering_llm();
    let config = spec.config_for(Mode::Debate);
    let finished = block_on(RunDriver::new(&llm, &clock, &store).start(NewRun {
        batch_id: Some(&spec.batch_id),
        ..new_run(&config)
    }))
    .unwrap();
    let mut record = BatchRecord::new(spec.clone());
    record.status = BatchStatus::Cancelled;
    block_on(store.put_batch(&record)).unwrap();
    let calls = llm.calls().len();

    let record = resume_batch(&llm, &clock, &store, &spec.batch_id).unwrap();
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(
        record.items[0].run_id.as_deref(),
        Some(finished.record.run_id.as_str())
    );
    assert_eq!(llm.calls().len(), calls);
    assert_eq!(store.batch(&spec.batch_id), Some(record));
}

#[test]
fn a_run_that_failed_after_its_judge_step_is_over_and_cannot_be_resumed() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let config = PipelineConfig {
        mode: Mode::Baseline,
        ..pipeline_config()
    };
    // The solver's model refuses (a model's failure, which the loop writes as a step; a
    // provider outage would stop the run before the judge), the judge still scores the empty
    // solution: no answer, so the run is `failed`, but its loop ran to its end.
    let llm = ScriptedLlm::builder()
        .fail(
            AgentRole::Solver,
            LlmError::refusal("openai", "I can't help with that"),
            Usage::default(),
        )
        .judge(0.0)
        .build();
    let finished = block_on(RunDriver::new(&llm, &clock, &store).start(new_run(&config))).unwrap();
    let run_id = finished.record.run_id.clone();
    assert_eq!(finished.record.status, RunStatus::Failed);
    assert!(finished.record.judged);
    assert!(!finished.record.resumable());
    let stored = store.record(&run_id).unwrap();
    assert!(stored.judged && !stored.resumable(), "{stored:?}");

    let calls = llm.calls().len();
    assert_eq!(
        block_on(RunDriver::new(&llm, &clock, &store).resume(&run_id, None)).unwrap_err(),
        StartError::AlreadyJudged {
            run_id: run_id.clone(),
            status: RunStatus::Failed,
        }
    );
    // A record stored before records said so is refused by its steps.
    let mut old = stored.clone();
    old.judged = false;
    block_on(store.put_run(&old)).unwrap();
    assert!(matches!(
        block_on(RunDriver::new(&llm, &clock, &store).resume(&run_id, None)),
        Err(StartError::AlreadyJudged { .. })
    ));
    assert_eq!(llm.calls().len(), calls);
    assert_eq!(store.record(&run_id).unwrap(), old);
}

#[test]
fn a_run_stopped_before_its_judge_step_stays_resumable() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let record = interrupted_run(&store, &clock, &pipeline_config());
    assert!(!record.judged);
    assert!(record.resumable());
    let failed = RunRecord {
        status: RunStatus::Failed,
        ..record.clone()
    };
    assert!(failed.resumable());
    let running = RunRecord {
        status: RunStatus::Running,
        ..record
    };
    assert!(!running.resumable());
}

#[test]
fn a_batch_item_whose_steps_cannot_go_on_fails_and_its_run_says_why() {
    let (clock, store, spec) = one_problem_batch();
    let config = spec.config_for(Mode::Debate);
    let mut run = interrupted_run(&store, &clock, &config);
    run.batch_id = Some(spec.batch_id.clone());
    // A second solver step where the loop makes the verifier's.
    let mut steps: Vec<TrajectoryEntry> = store.steps_of(&run.run_id);
    let mut again = steps[0].clone();
    again.step_id = 2;
    steps.push(again);
    let store = MemoryRunStore::new();
    store.insert_dataset(&spec.dataset_id, problems());
    store.insert(run.clone(), steps);
    let mut record = BatchRecord::new(spec.clone());
    record.status = BatchStatus::Interrupted;
    block_on(store.put_batch(&record)).unwrap();

    let llm = answering_llm();
    let record = resume_batch(&llm, &clock, &store, &spec.batch_id).unwrap();
    assert!(llm.calls().is_empty());
    assert_eq!(record.items[0].status, ItemStatus::Failed);
    let stored = store.record(&run.run_id).unwrap();
    assert_eq!(stored.status, RunStatus::Failed);
    assert_eq!(stored.message, record.items[0].message);
    assert!(
        stored
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("cannot be resumed"),
        "{stored:?}"
    );
}

#[test]
fn a_run_driven_by_a_tab_or_its_batch_may_not_be_deleted_until_it_stops() {
    let locks = MemoryLocks::new();
    let run = Work::Run("run_a".into());
    let batch = Work::Batch("batch_b".into());
    let driving = locks.hold(&run).unwrap();
    let refused = ready_now(hold_for_delete(&locks, "run_a", None)).unwrap_err();
    assert_eq!(
        refused,
        DrivenElsewhere::Run {
            run_id: "run_a".into()
        }
    );
    assert!(refused.to_string().contains("going in an open tab"));
    drop(driving);

    let driving = locks.hold(&batch).unwrap();
    let refused = ready_now(hold_for_delete(&locks, "run_a", Some("batch_b"))).unwrap_err();
    assert!(refused.to_string().contains("belongs to batch batch_b"));
    // A run outside that batch is free.
    assert!(ready_now(hold_for_delete(&locks, "run_c", None)).is_ok());
    drop(driving);

    // Free: the delete holds both locks while it lasts, so nothing resumes the run under it.
    let hold = ready_now(hold_for_delete(&locks, "run_a", Some("batch_b"))).unwrap();
    assert!(locks.is_held(&run) && locks.is_held(&batch));
    drop(hold);
    assert!(!locks.is_held(&run) && !locks.is_held(&batch));
}

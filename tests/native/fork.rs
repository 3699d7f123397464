//! Fork at step N, re-judge and re-grade, through the run driver over the in-memory store and
//! the scripted LLM: a new run is made beside the source, which is never changed.

use trialogue::core::clock::ManualClock;
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::cost_views::StepCost;
use trialogue::core::driver::{Fork, RunDriver, StartError};
use trialogue::core::jsonl;
use trialogue::core::pipeline::ResumeError;
use trialogue::core::regrade::{regrade_run, verdict_word, BatchRegrade};
use trialogue::core::role::AgentRole;
use trialogue::core::run_store::{MemoryRunStore, RunStore};
use trialogue::core::scripted::ScriptedLlm;
use trialogue::core::trajectory::{
    DerivationKind, RunOrigin, RunRecord, RunStatus, StepOrigin, StepTotals, TrajectoryEntry,
};

use crate::batch::{pipeline_config, START_MS};
use crate::util::block_on;

/// A debate run of five steps: a wrong solution the verifier rejects, a right one it passes,
/// and the judge's score.
fn source_run(store: &MemoryRunStore, clock: &ManualClock) -> (RunRecord, Vec<TrajectoryEntry>) {
    let llm = ScriptedLlm::builder()
        .solve("so \\boxed{5}")
        .verify(false, "2+2 is not 5")
        .solve("so \\boxed{4}")
        .verify(true, "correct")
        .judge(0.9)
        .build();
    let config = pipeline_config();
    let run = trialogue::core::driver::NewRun {
        config: &config,
        problem: "What is 2+2?",
        ground_truth: Some("4"),
        batch_id: None,
    };
    let finished = block_on(RunDriver::new(&llm, clock, store).start(run)).unwrap();
    assert_eq!(finished.record.step_count, 5);
    let steps = store.steps_of(&finished.record.run_id);
    (finished.record, steps)
}

fn lines(steps: &[TrajectoryEntry]) -> Vec<String> {
    steps.iter().map(|s| jsonl::to_line(s).unwrap()).collect()
}

/// A carried step as it would be without what a fork changes: its run id and its provenance.
fn without_fork_marks(step: &TrajectoryEntry) -> String {
    let mut step = step.clone();
    step.run_id.clear();
    step.metadata.forked_from = None;
    jsonl::to_line(&step).unwrap()
}

#[test]
fn a_fork_at_step_3_carries_steps_1_and_2_and_calls_the_rest_with_the_edited_config() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let (source, steps) = source_run(&store, &clock);
    let source_lines = lines(&steps);
    clock.advance(5_000.0);

    let mut config = source.config.clone().unwrap();
    config.verifier.model = "openai/gpt-4o".into();
    let llm = ScriptedLlm::builder()
        .solve("so \\boxed{4}")
        .verify(true, "fine")
        .judge(0.7)
        .build();
    let fork = Fork {
        source: &source,
        steps: &steps,
        at_step: 3,
        config: &config,
    };
    let finished = block_on(RunDriver::new(&llm, &clock, &store).fork(fork)).unwrap();

    let id = finished.record.run_id.clone();
    assert_ne!(id, source.run_id);
    assert_eq!(finished.record.status, RunStatus::Completed);
    assert_eq!(
        finished.record.derived_from,
        Some(RunOrigin {
            kind: DerivationKind::Fork,
            run_id: source.run_id.clone(),
            step_id: 3,
        })
    );
    assert_eq!(finished.record.config.as_ref(), Some(&config));
    let forked = store.steps_of(&id);
    assert_eq!(forked.len(), 5);
    // Steps 1–2: the source's, byte for byte but for the run id and their provenance.
    for (carried, original) in forked[..2].iter().zip(&steps[..2]) {
        assert_eq!(without_fork_marks(carried), without_fork_marks(original));
        assert_eq!(carried.run_id, id);
        assert_eq!(
            carried.metadata.forked_from,
            Some(StepOrigin {
                run_id: source.run_id.clone(),
                step_id: original.step_id,
            })
        );
        assert!(jsonl::to_line(carried).unwrap().contains("\"forked_from\""));
    }
    // Steps 3–5 were called: nothing for steps 1–2, the solver's second round first (with the
    // carried verifier's feedback), the new verifier model after it.
    let calls = llm.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].role, AgentRole::Solver);
    assert!(calls[0].user_prompt.contains("2+2 is not 5"));
    assert_eq!(calls[1].role, AgentRole::Verifier);
    assert_eq!(calls[1].model, "openai/gpt-4o");
    for live in &forked[2..] {
        assert_eq!(live.metadata.forked_from, None);
    }
    assert_eq!(forked[3].metadata.model.as_deref(), Some("openai/gpt-4o"));
    assert_eq!(forked[4].output.get("score"), Some(&serde_json::json!(0.7)));
    // The source is as it was.
    assert_eq!(lines(&store.steps_of(&source.run_id)), source_lines);
    assert_eq!(store.record(&source.run_id), Some(source));
}

#[test]
fn a_fork_at_step_1_carries_nothing_and_runs_the_whole_loop_live() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let (source, steps) = source_run(&store, &clock);
    let config = source.config.clone().unwrap();
    let llm = ScriptedLlm::builder()
        .solve("so \\boxed{4}")
        .verify(true, "fine")
        .judge(0.8)
        .build();
    let fork = Fork {
        source: &source,
        steps: &steps,
        at_step: 1,
        config: &config,
    };
    let finished = block_on(RunDriver::new(&llm, &clock, &store).fork(fork)).unwrap();
    let forked = store.steps_of(&finished.record.run_id);
    assert_eq!(forked.len(), 3);
    assert!(forked.iter().all(|s| s.metadata.forked_from.is_none()));
    assert_eq!(llm.calls().len(), 3);
}

#[test]
fn a_fork_that_cannot_go_on_refuses_and_stores_nothing() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let (source, steps) = source_run(&store, &clock);
    let before = store.records().len();
    let llm = ScriptedLlm::new();
    let driver = RunDriver::new(&llm, &clock, &store);
    let config = source.config.clone().unwrap();

    let at_9 = Fork {
        source: &source,
        steps: &steps,
        at_step: 9,
        config: &config,
    };
    let refused = block_on(driver.fork(at_9)).unwrap_err();
    assert!(matches!(
        refused,
        StartError::NoSuchStep {
            step_id: 9,
            steps: 5,
            ..
        }
    ));
    assert_eq!(
        refused.to_string(),
        format!(
            "run {} has no step 9 to fork from (it has 5 steps)",
            source.run_id
        )
    );

    // A baseline config has no verifier: the carried verifier step does not fit its loop.
    let baseline = PipelineConfig {
        mode: Mode::Baseline,
        ..config.clone()
    };
    let mismatched = Fork {
        source: &source,
        steps: &steps,
        at_step: 3,
        config: &baseline,
    };
    let refused = block_on(driver.fork(mismatched)).unwrap_err();
    assert!(matches!(
        refused,
        StartError::Resume {
            error: ResumeError::UnexpectedStep { step_id: 2, .. },
            ..
        }
    ));
    assert_eq!(store.records().len(), before, "nothing stored");
    assert!(llm.calls().is_empty(), "nothing called");
}

#[test]
fn a_rejudge_makes_only_the_judges_call_and_leaves_the_source_byte_identical() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let (source, steps) = source_run(&store, &clock);
    let source_lines = lines(&steps);
    clock.advance(5_000.0);

    let mut judge = source.config.clone().unwrap().judge;
    judge.model = "anthropic/claude-3-5-haiku-20241022".into();
    judge.scoring_rubric = "brevity".into();
    let llm = ScriptedLlm::builder().judge(0.4).build();
    let finished =
        block_on(RunDriver::new(&llm, &clock, &store).rejudge(&source, &steps, judge.clone()))
            .unwrap();

    let calls = llm.calls();
    assert_eq!(calls.len(), 1, "only the judge is called");
    assert_eq!(calls[0].role, AgentRole::Judge);
    assert_eq!(calls[0].model, judge.model);
    assert!(calls[0].user_prompt.contains("brevity"));
    let record = &finished.record;
    assert_eq!(
        record.derived_from,
        Some(RunOrigin {
            kind: DerivationKind::Rejudge,
            run_id: source.run_id.clone(),
            step_id: 5,
        })
    );
    assert_eq!(record.judge_score, Some(0.4));
    assert_eq!(
        serde_json::to_value(DerivationKind::Rejudge).unwrap(),
        DerivationKind::Rejudge.as_str()
    );
    assert_eq!(source.judge_score, Some(0.9));
    assert_eq!(
        record.correct,
        Some(true),
        "the same answer, graded the same"
    );
    assert_eq!(record.config.as_ref().map(|c| &c.judge), Some(&judge));
    let rejudged = store.steps_of(&record.run_id);
    assert_eq!(rejudged.len(), 5);
    for (carried, original) in rejudged[..4].iter().zip(&steps[..4]) {
        assert_eq!(without_fork_marks(carried), without_fork_marks(original));
    }
    assert!(rejudged[4].terminal);
    assert_eq!(rejudged[4].metadata.forked_from, None);
    // The source's export is what it was.
    assert_eq!(lines(&store.steps_of(&source.run_id)), source_lines);
    assert_eq!(store.record(&source.run_id), Some(source));
}

#[test]
fn a_run_stopped_before_its_judge_cannot_be_rejudged() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let (source, steps) = source_run(&store, &clock);
    let unjudged: Vec<TrajectoryEntry> = steps[..3].to_vec();
    let mut record = source.clone();
    record.status = RunStatus::Interrupted;
    let llm = ScriptedLlm::new();
    let judge = source.config.clone().unwrap().judge;
    let refused = block_on(RunDriver::new(&llm, &clock, &store).rejudge(&record, &unjudged, judge))
        .unwrap_err();
    assert!(matches!(refused, StartError::NotJudged { .. }));
    assert!(refused.to_string().contains("has no judge step"));
    assert!(llm.calls().is_empty());
}

#[test]
fn a_regrade_reports_the_current_checkers_verdict_beside_the_stored_one() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let (source, steps) = source_run(&store, &clock);
    // As an older checker that read `4` wrong would have stored it.
    let mut old = source.clone();
    old.correct = Some(false);
    let mut old_steps = steps.clone();
    old_steps[4].success = Some(false);
    block_on(store.put_run(&old)).unwrap();
    let stored_before = lines(&store.steps_of(&source.run_id));

    let regrade = regrade_run(&old, &old_steps);
    assert_eq!(regrade.was, Some(false));
    assert_eq!(regrade.now, Some(true));
    assert!(regrade.changed());
    assert_eq!(regrade.extracted_now.as_deref(), Some("4"));
    assert_eq!(
        format!(
            "graded now: {} (was: {})",
            verdict_word(regrade.now),
            verdict_word(regrade.was)
        ),
        "graded now: correct (was: wrong)"
    );
    assert_eq!(lines(&store.steps_of(&source.run_id)), stored_before);

    // The same run as stored by today's checker does not change.
    let same = regrade_run(&source, &steps);
    assert_eq!((same.was, same.now), (Some(true), Some(true)));
    assert!(!same.changed());

    // A run without a ground truth, and one with no judge step, are not graded.
    let mut no_truth = source.clone();
    no_truth.ground_truth = None;
    no_truth.correct = None;
    let mut ungraded_steps = steps.clone();
    ungraded_steps[4].success = None;
    ungraded_steps[4].reward = None;
    assert_eq!(regrade_run(&no_truth, &ungraded_steps).now, None);
    assert_eq!(regrade_run(&source, &steps[..3]).now, None);

    let batch = BatchRegrade::of([
        (&old, old_steps.as_slice()),
        (&source, steps.as_slice()),
        (&no_truth, ungraded_steps.as_slice()),
    ]);
    assert_eq!((batch.before.correct, batch.before.graded), (1, 2));
    assert_eq!((batch.after.correct, batch.after.graded), (2, 2));
    assert_eq!(batch.before.fraction(), Some(0.5));
    assert_eq!(batch.after.fraction(), Some(1.0));
    let changed: Vec<&str> = batch.changed().map(|r| r.run_id.as_str()).collect();
    assert_eq!(changed, vec![source.run_id.as_str()]);
}

#[test]
fn a_batchs_rejudge_judges_each_judged_run_once_and_reports_the_rest() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let (first, first_steps) = source_run(&store, &clock);
    clock.advance(1_000.0);
    let (second, second_steps) = source_run(&store, &clock);
    let mut stopped = second.clone();
    stopped.run_id = "run_stopped".into();
    stopped.judged = false;
    let stopped_steps = second_steps[..2].to_vec();
    let mut judge = first.config.clone().unwrap().judge;
    judge.model = "openai/gpt-4o".into();
    let llm = ScriptedLlm::builder().judge(0.1).judge(0.2).build();
    let results = block_on(RunDriver::new(&llm, &clock, &store).rejudge_all(
        [
            (&first, first_steps.as_slice()),
            (&stopped, stopped_steps.as_slice()),
            (&second, second_steps.as_slice()),
        ],
        &judge,
    ));
    assert_eq!(llm.calls_for(AgentRole::Judge).len(), 2);
    assert_eq!(llm.calls().len(), 2, "only judges");
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].score_was, Some(0.9));
    assert_eq!(results[0].result.as_ref().unwrap().judge_score, Some(0.1));
    assert!(matches!(
        results[1].result,
        Err(StartError::NotJudged { .. })
    ));
    assert_eq!(results[2].result.as_ref().unwrap().judge_score, Some(0.2));
    assert_eq!(store.steps_of(&first.run_id), first_steps);
    assert_eq!(store.steps_of(&second.run_id), second_steps);
}

#[test]
fn forked_from_reads_and_writes_back_byte_for_byte() {
    let line = r#"{"timestamp":"2026-03-01T12:00:00.000000+00:00","run_id":"run_b","step_id":1,"agent":"solver","action":"generate","input":{"problem":"p"},"output":{"solution":"4"},"metadata":{"forked_from":{"run_id":"run_a","step_id":1},"iteration":1,"model":"m","tokens":{"completion_tokens":1,"prompt_tokens":1,"total_tokens":2}},"reward":null,"terminal":false,"success":null}"#;
    let entry: TrajectoryEntry = serde_json::from_str(line).unwrap();
    assert_eq!(
        entry.metadata.forked_from,
        Some(StepOrigin {
            run_id: "run_a".into(),
            step_id: 1
        })
    );
    assert_eq!(jsonl::to_line(&entry).unwrap().trim_end(), line);
}

#[test]
fn a_forks_carried_steps_cost_it_nothing_because_their_source_paid_for_them() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let (source, mut steps) = source_run(&store, &clock);
    for (step, cost) in steps.iter_mut().zip([0.01, 0.02, 0.04, 0.08, 0.16]) {
        step.metadata.cost_usd = Some(Some(cost));
        step.metadata.possibly_billed_usd = Some(0.5);
    }
    let mut fork: Vec<TrajectoryEntry> = steps.clone();
    for step in &mut fork[..2] {
        step.metadata.forked_from = Some(StepOrigin {
            run_id: source.run_id.clone(),
            step_id: step.step_id,
        });
    }
    // The source's totals count every step; the fork's count only the steps it called, so the
    // two runs together count each paid call once.
    let paid_by_source = StepTotals::of(&steps);
    let paid_by_fork = StepTotals::of(&fork);
    assert!((paid_by_source.cost_usd.unwrap() - 0.31).abs() < 1e-12);
    assert!((paid_by_fork.cost_usd.unwrap() - 0.28).abs() < 1e-12);
    assert!((paid_by_fork.possibly_billed_usd - 1.5).abs() < 1e-12);
    assert!(paid_by_fork.cost_complete);
    // The Costs page's facts agree: a carried step is another run's reply, at $0 here.
    let carried = StepCost::of(&fork[0]);
    assert_eq!(carried.cost_usd, Some(0.0));
    assert!(carried.reused);
    let called = StepCost::of(&fork[2]);
    assert_eq!(called.cost_usd, Some(0.04));
    assert!(!called.reused);
    // The carried line itself still says what the call cost when it was paid.
    assert_eq!(fork[0].cost_usd(), Some(0.01));
}

//! Datasets, batch records and the store as a batch's run store, in a real browser. Each test
//! opens its own database (deleting any leftover of an earlier failed run first) and deletes it
//! at the end.

use serde_json::{json, Map, Value};
use wasm_bindgen_test::wasm_bindgen_test;

use trialogue::core::batch::runner::PipelineRunner;
use trialogue::core::batch::scheduler::{BatchControl, Scheduler};
use trialogue::core::batch::{BatchModes, BatchRecord, BatchSpec, BatchStatus, ItemStatus};
use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::ManualClock;
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::dataset::{DatasetFormat, FieldMapping, Problem};
use trialogue::core::pipeline::{Pipeline, PipelineEvent, RunInput};
use trialogue::core::role::AgentRole;
use trialogue::core::run_store::{RunSink, RunStore};
use trialogue::core::scripted::{
    judge_output, solver_output, verifier_output, ScriptedLlm, ScriptedTurn,
};
use trialogue::core::stored_dataset::{DatasetSummary, StoredDataset};
use trialogue::core::trajectory::{RunRecord, RunStatus};
use trialogue::web::idb::TrajectoryStore;

// 2026-03-01T12:00:00Z
const START_MS: f64 = 1_772_366_400_000.0;

async fn fresh(name: &str) -> TrajectoryStore {
    TrajectoryStore::delete_database(name).await.unwrap();
    TrajectoryStore::open_named(name).await.unwrap()
}

async fn finish(store: TrajectoryStore) {
    let name = store.name();
    store.close();
    TrajectoryStore::delete_database(&name).await.unwrap();
}

fn problem(id: &str, text: &str, truth: Option<&str>, metadata: Value) -> Problem {
    let metadata: Map<String, Value> = match metadata {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Problem {
        id: id.into(),
        problem: text.into(),
        ground_truth: truth.map(str::to_string),
        domain: None,
        metadata,
    }
}

fn dataset(id: &str, name: &str, created_ms: f64, problems: Vec<Problem>) -> StoredDataset {
    StoredDataset {
        summary: DatasetSummary {
            dataset_id: id.into(),
            name: name.into(),
            file_name: format!("{name}.jsonl"),
            format: DatasetFormat::Jsonl,
            problem_count: problems.len(),
            skipped_rows: 1,
            created_ms,
        },
        mapping: FieldMapping {
            problem: "problem".into(),
            id: Some("unique_id".into()),
            ground_truth: Some("answer".into()),
            domain: None,
            metadata_object: None,
            metadata: vec!["level".into(), "subject".into()],
        },
        problems,
    }
}

fn pipeline_config() -> PipelineConfig {
    serde_json::from_value(json!({
        "solver": {
            "role": "solver", "model": "openai/gpt-4o-mini",
            "prompt_template": "Solve: {problem}\nFeedback: {feedback}"
        },
        "verifier": {
            "role": "verifier", "model": "openai/gpt-4o-mini",
            "prompt_template": "Check {solution} for {problem}"
        },
        "judge": {
            "model": "openai/gpt-4o-mini",
            "prompt_template": "Score {solution} for {problem} by {rubric}",
            "scoring_rubric": "correctness"
        },
        "mode": "debate",
        "max_iterations": 2,
        "config_version": "1.0"
    }))
    .unwrap()
}

fn spec(ids: &[&str], created_ms: f64) -> BatchSpec {
    BatchSpec::new(
        "web test",
        "ds_0123456789ab",
        "fixture",
        ids.iter().map(|s| s.to_string()).collect(),
        BatchModes::Debate,
        2,
        pipeline_config(),
        created_ms,
        |_| false,
    )
    .unwrap()
}

/// Answers 4 to "2+2" and 9 to anything else; the verifier passes, the judge gives 0.9.
fn answering_llm() -> ScriptedLlm {
    ScriptedLlm::with_responder(|call| {
        let answer = if call.user_prompt.contains("2+2") {
            "4"
        } else {
            "9"
        };
        let output = match call.role {
            AgentRole::Solver => solver_output(&format!("so \\boxed{{{answer}}}")),
            AgentRole::Verifier => verifier_output(true, "correct"),
            AgentRole::Judge => judge_output(0.9),
        };
        ScriptedTurn::Reply {
            output,
            usage: ScriptedLlm::DEFAULT_USAGE,
        }
    })
}

#[wasm_bindgen_test]
async fn datasets_round_trip_exactly_and_list_newest_first() {
    let store = fresh("trialogue-test-datasets").await;
    let older = dataset(
        "ds_aaaaaaaaaaaa",
        "math-500",
        START_MS,
        vec![
            // An integer level, a float that looks whole, and non-ASCII text must come back
            // exactly as they went in.
            problem(
                "test/algebra/1.json",
                "Solve x² = 4 for x > 0.",
                Some("2"),
                json!({"level": 5, "weight": 1.0, "subject": "Algebra"}),
            ),
            problem(
                "p_2",
                "What is 3*3?",
                None,
                json!({"level": 1, "tags": ["easy"]}),
            ),
        ],
    );
    let newer = dataset(
        "ds_bbbbbbbbbbbb",
        "tiny",
        START_MS + 1000.0,
        vec![problem("a", "What is 2+2?", Some("4"), json!({}))],
    );
    store.put_dataset(&older).await.unwrap();
    store.put_dataset(&newer).await.unwrap();

    let read = store.get_dataset("ds_aaaaaaaaaaaa").await.unwrap().unwrap();
    assert_eq!(read, older);
    assert_eq!(read.problems[0].metadata["level"], json!(5));
    assert!(read.problems[0].metadata["level"].is_u64());
    assert!(read.problems[0].metadata["weight"].is_f64());
    assert_eq!(store.get_dataset("ds_missing").await.unwrap(), None);

    let list = store.list_datasets().await.unwrap();
    assert_eq!(list, vec![newer.summary.clone(), older.summary.clone()]);

    // Saving the same id again replaces it (a rename).
    let mut renamed = newer.clone();
    renamed.summary.name = "tiny, renamed".into();
    store.put_dataset(&renamed).await.unwrap();
    let list = store.list_datasets().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].name, "tiny, renamed");

    assert!(store.delete_dataset("ds_bbbbbbbbbbbb").await.unwrap());
    assert!(!store.delete_dataset("ds_bbbbbbbbbbbb").await.unwrap());
    let list = store.list_datasets().await.unwrap();
    assert_eq!(list, vec![older.summary.clone()]);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn a_batch_record_is_saved_updated_listed_and_deleted() {
    let store = fresh("trialogue-test-batch-records").await;
    let first = BatchRecord::new(spec(&["P1", "P2"], START_MS));
    let second = BatchRecord::new(spec(&["P1"], START_MS + 5_000.0));
    assert_ne!(first.spec.batch_id, second.spec.batch_id);
    store.put_batch(&first).await.unwrap();
    store.put_batch(&second).await.unwrap();
    assert_eq!(
        store.get_batch(&first.spec.batch_id).await.unwrap(),
        Some(first.clone())
    );

    // The record as it changes while running: status, an item's run and cost.
    let mut updated = first.clone();
    updated.status = BatchStatus::Running;
    updated.items[0].status = ItemStatus::Done;
    updated.items[0].run_id = Some("run_x".into());
    updated.items[0].cost_usd = Some(0.000_123_4);
    updated.items[1].status = ItemStatus::Running;
    updated.updated_ms = START_MS + 60_000.0;
    store.put_batch(&updated).await.unwrap();
    let read = store
        .get_batch(&first.spec.batch_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, updated);
    assert_eq!(read.items[0].cost_usd, Some(0.000_123_4));

    let ids: Vec<String> = store
        .list_batches()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.spec.batch_id)
        .collect();
    assert_eq!(
        ids,
        vec![second.spec.batch_id.clone(), first.spec.batch_id.clone()]
    );
    let taken = store.batch_ids().await.unwrap();
    assert!(taken.contains(&first.spec.batch_id) && taken.contains(&second.spec.batch_id));
    assert_eq!(taken.len(), 2);

    assert!(store.delete_batch(&second.spec.batch_id).await.unwrap());
    assert!(!store.delete_batch(&second.spec.batch_id).await.unwrap());
    assert_eq!(store.get_batch(&second.spec.batch_id).await.unwrap(), None);
    assert_eq!(store.list_batches().await.unwrap().len(), 1);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn running_batches_become_interrupted_on_load_and_others_stay() {
    let store = fresh("trialogue-test-batch-interrupt").await;
    let mut running = BatchRecord::new(spec(&["P1", "P2"], START_MS));
    running.status = BatchStatus::Running;
    running.items[0].status = ItemStatus::Done;
    running.items[1].status = ItemStatus::Running;
    let mut completed = BatchRecord::new(spec(&["P1"], START_MS + 1_000.0));
    completed.status = BatchStatus::Completed;
    completed.items[0].status = ItemStatus::Done;
    store.put_batch(&running).await.unwrap();
    store.put_batch(&completed).await.unwrap();

    let ids = mark_unfinished(&store, START_MS + 9_000.0).await;
    assert_eq!(ids, vec![running.spec.batch_id.clone()]);
    let read = store
        .get_batch(&running.spec.batch_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.status, BatchStatus::Interrupted);
    assert_eq!(
        read.items.iter().map(|i| i.status).collect::<Vec<_>>(),
        vec![ItemStatus::Done, ItemStatus::Pending]
    );
    assert_eq!(read.updated_ms, START_MS + 9_000.0);
    assert!(read.message.unwrap().contains("resume"));
    assert_eq!(
        store.get_batch(&completed.spec.batch_id).await.unwrap(),
        Some(completed)
    );
    // A second load finds nothing left to mark.
    assert!(mark_unfinished(&store, START_MS + 10_000.0)
        .await
        .is_empty());
    finish(store).await;
}

#[wasm_bindgen_test]
async fn the_run_store_creates_reads_and_refuses_to_overwrite_runs() {
    let store = fresh("trialogue-test-batch-runstore").await;
    let config = pipeline_config();
    let mut record = RunRecord::start("run_a", &config, "ab12cd34", "What is 2+2?", None, START_MS);
    record.batch_id = Some("batch_x".into());
    assert_eq!(RunStore::get_run(&store, "run_a").await.unwrap(), None);
    assert!(store.create_run_if_free(&record).await.unwrap());
    assert_eq!(
        RunStore::get_run(&store, "run_a").await.unwrap(),
        Some(record.clone())
    );
    // A taken id: nothing written, the stored record kept.
    let mut other = record.clone();
    other.problem = "another problem".into();
    assert!(!store.create_run_if_free(&other).await.unwrap());
    assert_eq!(
        RunStore::get_run(&store, "run_a").await.unwrap(),
        Some(record.clone())
    );

    record.status = RunStatus::Cancelled;
    RunStore::put_run(&store, &record).await.unwrap();
    assert_eq!(
        RunStore::get_run(&store, "run_a").await.unwrap(),
        Some(record.clone())
    );
    assert!(RunStore::steps(&store, "run_a").await.unwrap().is_empty());
    assert_eq!(store.batch_runs("batch_x").await.unwrap(), vec![record]);
    assert!(store.batch_runs("batch_y").await.unwrap().is_empty());
    finish(store).await;
}

#[wasm_bindgen_test]
async fn a_batch_over_the_store_resumes_a_half_run_and_tags_fresh_runs() {
    let store = fresh("trialogue-test-batch-resume").await;
    let clock = ManualClock::starting_at(START_MS);
    let problems = vec![
        problem("P1", "What is 2+2?", Some("4"), json!({})),
        problem("P2", "What is 3*3?", Some("9"), json!({})),
    ];
    let spec = spec(&["P1", "P2"], START_MS);
    let config = spec.config_for(Mode::Debate);

    // Before the reload: P1's run saved its solver step, then the page went away.
    let mut p1 = RunRecord::start(
        "run_p1",
        &config,
        spec.config_hash.clone(),
        "What is 2+2?",
        Some("4".into()),
        START_MS,
    );
    p1.batch_id = Some(spec.batch_id.clone());
    assert!(store.create_run_if_free(&p1).await.unwrap());
    let cancel = CancelToken::new();
    let stop = cancel.clone();
    let listener = move |event: &PipelineEvent| {
        if matches!(event, PipelineEvent::StepFinished { entry, .. } if entry.step_id == 1) {
            stop.cancel();
        }
    };
    let first_llm = answering_llm();
    let sink = RunSink::new(&store);
    sink.hold(p1.clone());
    Pipeline::new(&config, &first_llm, &clock, &sink)
        .with_listener(&listener)
        .with_cancel(cancel)
        .run(&RunInput {
            run_id: "run_p1".into(),
            problem: "What is 2+2?".into(),
            ground_truth: Some("4".into()),
        })
        .await;
    let before = store.steps("run_p1").await.unwrap();
    assert_eq!(before.len(), 1);
    store
        .set_run_status("run_p1", RunStatus::Interrupted, None)
        .await
        .unwrap();

    // The batch record was saved before P1's run was noted in it.
    let mut record = BatchRecord::new(spec.clone());
    record.status = BatchStatus::Running;
    record.items[0].status = ItemStatus::Running;
    store.put_batch(&record).await.unwrap();
    let ids = mark_unfinished(&store, START_MS).await;
    assert_eq!(ids, vec![spec.batch_id.clone()]);
    let mut record = store.get_batch(&spec.batch_id).await.unwrap().unwrap();
    record.reconcile(&problems, &store.batch_runs(&spec.batch_id).await.unwrap());
    assert_eq!(record.items[0].run_id.as_deref(), Some("run_p1"));
    assert_eq!(record.items[0].status, ItemStatus::Pending);

    let llm = answering_llm();
    let runner = PipelineRunner::new(&spec, &problems, &llm, &clock, &store);
    let record = Scheduler::new(&runner, &clock, BatchControl::new())
        .run(record)
        .await;
    assert_eq!(record.status, BatchStatus::Completed);
    assert!(record.items.iter().all(|i| i.status == ItemStatus::Done));
    store.put_batch(&record).await.unwrap();

    // P1 went on from its saved solver step under its old id: no second solver call for it.
    let p1_solver_calls = llm
        .calls_for(AgentRole::Solver)
        .iter()
        .filter(|c| c.user_prompt.contains("2+2"))
        .count();
    assert_eq!(p1_solver_calls, 0);
    let after = store.steps("run_p1").await.unwrap();
    assert_eq!(after.len(), 3);
    assert_eq!(after[0], before[0]);
    assert_eq!(
        after.iter().map(|e| e.agent.as_str()).collect::<Vec<_>>(),
        ["solver", "verifier", "judge"]
    );

    // P2 got a fresh run tagged with the batch; both runs are listed by the batch index, and
    // their stored step counts match their steps.
    let runs = store.batch_runs(&spec.batch_id).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status == RunStatus::Completed));
    assert!(runs.iter().all(|r| r.correct == Some(true)));
    let p2_id = record.items[1].run_id.clone().unwrap();
    assert!(p2_id.starts_with("run_20260301_120000_"), "{p2_id}");
    let run_ids: Vec<String> = runs.iter().map(|r| r.run_id.clone()).collect();
    let steps = store.steps_of_runs(&run_ids).await.unwrap();
    for (run, steps) in runs.iter().zip(&steps) {
        assert_eq!(run.step_count, steps.len() as u64, "{}", run.run_id);
        assert!(steps.iter().all(|e| e.run_id == run.run_id));
    }
    assert_eq!(steps.iter().map(Vec::len).sum::<usize>(), 6);
    finish(store).await;
}

/// What a lone tab's start-up does: every batch left running or paused is marked interrupted.
async fn mark_unfinished(store: &TrajectoryStore, now_ms: f64) -> Vec<String> {
    let ids = store.unfinished_batch_ids().await.unwrap();
    store.mark_batches_interrupted(&ids, now_ms).await.unwrap()
}

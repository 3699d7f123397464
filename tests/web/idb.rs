//! The IndexedDB run store in a real browser. Each test opens its own database (deleting any
//! leftover of an earlier failed run first) and deletes it at the end.

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyPath;
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use trialogue::core::clock::ManualClock;
use trialogue::core::config::PipelineConfig;
use trialogue::core::cost_rollup::{CostRollup, RollupStep};
use trialogue::core::cost_views::StepCost;
use trialogue::core::in_flight::InFlightCall;
use trialogue::core::jsonl::{read_jsonl, to_line};
use trialogue::core::llm::Usage;
use trialogue::core::pipeline::{Pipeline, RunInput, TrajectorySink};
use trialogue::core::run_counts::RunCounts;
use trialogue::core::run_facts;
use trialogue::core::run_store::RunSink;
use trialogue::core::scripted::ScriptedLlm;
use trialogue::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};
use trialogue::web::idb::{
    ExportFilter, ExportSummary, OnConflict, RunPosition, StoreError, StreamedImport,
    TrajectoryStore, DB_VERSION, INTERRUPTED_MESSAGE, LIST_CHUNK,
};

// ---- helpers ----

async fn fresh(name: &str) -> TrajectoryStore {
    TrajectoryStore::delete_database(name).await.unwrap();
    TrajectoryStore::open_named(name).await.unwrap()
}

async fn finish(store: TrajectoryStore) {
    let name = store.name();
    store.close();
    TrajectoryStore::delete_database(&name).await.unwrap();
}

fn run(id: &str, created_ms: f64) -> RunRecord {
    RunRecord::start(
        id,
        &PipelineConfig::default(),
        "ab12cd34",
        "What is 2+2?",
        Some("4".to_string()),
        created_ms,
    )
}

fn step(
    run_id: &str,
    step_id: u64,
    agent: &str,
    output: Value,
    metadata: Value,
) -> TrajectoryEntry {
    let action = match agent {
        "solver" => "generate",
        "verifier" => "validate",
        _ => "score",
    };
    serde_json::from_value(json!({
        "timestamp": "2026-01-01T00:00:00.000000+00:00",
        "run_id": run_id,
        "step_id": step_id,
        "agent": agent,
        "action": action,
        "input": {"problem": "What is 2+2?"},
        "output": output,
        "metadata": metadata,
    }))
    .unwrap()
}

fn solver(run_id: &str, step_id: u64, solution: &str) -> TrajectoryEntry {
    step(
        run_id,
        step_id,
        "solver",
        json!({"solution": solution}),
        json!({"iteration": step_id}),
    )
}

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// A JavaScript object from JSON text, built without any of the store's code.
fn js(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap()
}

/// Creates database `name` at version 1 exactly as the first Trialogue release laid it out,
/// written here independently of the store's schema code, and returns the open connection.
async fn create_v1(name: &str) -> Database {
    Database::delete_by_name(name).unwrap().await.unwrap();
    Database::open(name)
        .with_version(1u32)
        .with_on_upgrade_needed(|_, db| {
            let runs = db
                .create_object_store("runs")
                .with_key_path(KeyPath::from("run_id"))
                .build()?;
            for (index, path) in [
                ("created_at", "created_ms"),
                ("status", "status"),
                ("config_hash", "config_hash"),
                ("batch_id", "batch_id"),
            ] {
                runs.create_index(index, KeyPath::from(path)).build()?;
            }
            let steps = db
                .create_object_store("steps")
                .with_key_path(KeyPath::from(["run_id", "step_id"]))
                .build()?;
            steps
                .create_index("run_id", KeyPath::from("run_id"))
                .build()?;
            db.create_object_store("configs")
                .with_key_path(KeyPath::from("name"))
                .build()?;
            Ok(())
        })
        .await
        .unwrap()
}

/// Writes raw records into `store_name` of a connection made by [`create_v1`].
async fn put_raw(db: &Database, store_name: &str, records: &[Value]) {
    let tx = db
        .transaction(store_name)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    let store = tx.object_store(store_name).unwrap();
    for record in records {
        store.put(js(record)).primitive().unwrap().await.unwrap();
    }
    drop(store);
    tx.commit().await.unwrap();
}

/// The on-disk form of a run and of a step (see src/web/idb/records.rs).
fn run_row(record: &RunRecord) -> Value {
    json!({
        "run_id": record.run_id,
        "created_ms": record.created_ms,
        "updated_ms": record.updated_ms,
        "status": record.status.as_str(),
        "config_hash": record.config_hash,
        "json": serde_json::to_string(record).unwrap(),
    })
}

fn step_row(entry: &TrajectoryEntry) -> Value {
    json!({
        "run_id": entry.run_id,
        "step_id": entry.step_id,
        "line": to_line(entry).unwrap().trim_end(),
    })
}

// ---- steps ----

#[wasm_bindgen_test]
async fn steps_come_back_in_numeric_step_order_and_unchanged() {
    let store = fresh("t-idb-order").await;
    let mut record = run("run_a", 1.0);
    store.create_run(&record).await.unwrap();
    // 10 after 2: keys compare as numbers, not text.
    for id in [1, 2, 10] {
        record = store
            .append_step(&record, &solver("run_a", id, &format!("s{id}")))
            .await
            .unwrap();
    }
    let judge = step(
        "run_a",
        11,
        "judge",
        json!({"score": 1.0, "reasoning": "right"}),
        json!({"cost_usd": 0.0}),
    );
    store.append_step(&record, &judge).await.unwrap();

    let steps = store.steps("run_a").await.unwrap();
    let ids: Vec<u64> = steps.iter().map(|s| s.step_id).collect();
    assert_eq!(ids, vec![1, 2, 10, 11]);
    assert_eq!(steps[2], solver("run_a", 10, "s10"));
    assert_eq!(steps[3], judge);
    // A float that happens to be whole stays a float (`1.0`, not `1`), as Python wrote it.
    let line = to_line(&steps[3]).unwrap();
    assert!(line.contains(r#""score":1.0"#), "{line}");
    assert!(line.contains(r#""cost_usd":0.0"#), "{line}");
    assert_eq!(store.count_steps().await.unwrap(), 4);
    assert!(store.steps("run_other").await.unwrap().is_empty());
    finish(store).await;
}

#[wasm_bindgen_test]
async fn a_duplicate_step_is_refused_and_the_stored_one_kept() {
    let store = fresh("t-idb-duplicate").await;
    let record = run("run_d", 1.0);
    store.create_run(&record).await.unwrap();
    let record = store
        .append_step(&record, &solver("run_d", 1, "first"))
        .await
        .unwrap();

    let err = store
        .append_step(&record, &solver("run_d", 1, "second"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::DuplicateStep {
            run_id: "run_d".into(),
            step_id: 1
        }
    );
    assert!(err.to_string().contains("the stored step was kept"));
    let steps = store.steps("run_d").await.unwrap();
    assert_eq!(steps, vec![solver("run_d", 1, "first")]);
    // The refused step's transaction rolled back whole: the totals did not count it.
    assert_eq!(store.get_run("run_d").await.unwrap().unwrap().step_count, 1);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn a_step_for_an_unknown_run_is_refused() {
    let store = fresh("t-idb-no-run").await;
    // The record the driver holds is not stored (deleted, say, by another tab).
    let err = store
        .append_step(&run("run_x", 1.0), &solver("run_x", 1, "s"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::NotFound {
            kind: "run",
            key: "run_x".into()
        }
    );
    assert_eq!(store.count_steps().await.unwrap(), 0);
    // Nor is the record brought back.
    assert_eq!(store.get_run("run_x").await.unwrap(), None);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn a_runs_totals_follow_its_steps() {
    let store = fresh("t-idb-totals").await;
    let record = run("run_t", 1000.0);
    store.create_run(&record).await.unwrap();
    let s1 = step(
        "run_t",
        1,
        "solver",
        json!({"solution": "4"}),
        json!({"iteration": 1, "cost_usd": 0.25,
               "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}}),
    );
    let after_one = store.append_step(&record, &s1).await.unwrap();
    assert_eq!(after_one.step_count, 1);
    assert_eq!(after_one.cost_usd, Some(0.25));
    assert!(after_one.updated_ms >= 1000.0);

    let s2 = step(
        "run_t",
        2,
        "verifier",
        json!({"passed": true, "critique": "fine"}),
        json!({"iteration": 1, "cost_usd": 0.5,
               "usage": {"input_tokens": 20, "output_tokens": 4, "total_tokens": 24,
                         "cache_read_tokens": 8}}),
    );
    let mut s3 = step(
        "run_t",
        3,
        "judge",
        json!({"score": 0.75, "reasoning": "ok"}),
        json!({"cost_usd": 0.125,
               "tokens": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}),
    );
    s3.terminal = true;
    s3.success = Some(true);
    s3.reward = Some(1.0);
    let after_two = store.append_step(&after_one, &s2).await.unwrap();
    let after_three = store.append_step(&after_two, &s3).await.unwrap();

    let stored = store.get_run("run_t").await.unwrap().unwrap();
    assert_eq!(stored, after_three);
    assert_eq!(stored.step_count, 3);
    assert_eq!(stored.iterations, 1);
    assert!(stored.passed);
    assert_eq!(stored.judge_score, Some(0.75));
    assert_eq!(stored.correct, Some(true));
    // 10 + 20 + 7, 5 + 4 + 3, 15 + 24 + 10; 0.25 + 0.5 + 0.125 is exact in binary.
    assert_eq!(
        stored.usage,
        Usage {
            input_tokens: 37,
            output_tokens: 12,
            total_tokens: 49,
            cache_read_tokens: 8,
            ..Usage::default()
        }
    );
    assert_eq!(stored.cost_usd, Some(0.875));
    assert!(stored.cost_complete);
    // Steps leave the status alone, but the terminal one completes the run in the same write.
    assert_eq!(after_two.status, RunStatus::Running);
    assert_eq!(stored.status, RunStatus::Completed);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn the_store_is_a_trajectory_sink_for_the_real_loop() {
    let store = fresh("t-idb-sink").await;
    let config = PipelineConfig::default();
    let hash = config.config_hash();
    let record = RunRecord::start(
        "run_p",
        &config,
        &hash,
        "What is 2+2?",
        Some("4".into()),
        5.0,
    );
    store.create_run(&record).await.unwrap();
    let llm = ScriptedLlm::builder()
        .solve("The answer is 4")
        .verify(true, "correct")
        .judge(0.9)
        .build();
    let clock = ManualClock::starting_at(1_700_000_000_000.0);
    let input = RunInput {
        run_id: "run_p".into(),
        problem: "What is 2+2?".into(),
        ground_truth: Some("4".into()),
    };
    let sink = RunSink::new(&store);
    sink.hold(record);
    let outcome = Pipeline::new(&config, &llm, &clock, &sink)
        .run(&input)
        .await;

    assert!(!outcome.entries.is_empty());
    assert_eq!(store.steps("run_p").await.unwrap(), outcome.entries);
    let stored = store.get_run("run_p").await.unwrap().unwrap();
    assert_eq!(stored.step_count, outcome.entries.len() as u64);
    assert_eq!(stored.judge_score, Some(0.9));

    // The sink refuses a step that is stored already, so the loop stops rather than lose it.
    let again = TrajectorySink::append(&sink, &outcome.entries[0]).await;
    assert!(again.unwrap_err().message.contains("already stored"));
    finish(store).await;
}

// ---- runs ----

#[wasm_bindgen_test]
async fn runs_are_listed_newest_first() {
    let store = fresh("t-idb-list").await;
    for (id, created) in [
        ("run_old", 1000.0),
        ("run_new", 3000.0),
        ("run_mid", 2000.0),
    ] {
        store.create_run(&run(id, created)).await.unwrap();
    }
    let ids: Vec<String> = store
        .list_runs()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    assert_eq!(ids, vec!["run_new", "run_mid", "run_old"]);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn the_newest_page_and_the_sliced_list_agree_past_a_slice_boundary() {
    let store = fresh("t-idb-slices").await;
    let n = LIST_CHUNK as usize + 5;
    // Runs i and i + 700 share a creation time: ties go by id, descending.
    for i in 0..n {
        let created = (i % 700) as f64 * 10.0;
        store
            .create_run(&run(&format!("run_{i:05}"), created))
            .await
            .unwrap();
    }
    let all = store.list_runs().await.unwrap();
    assert_eq!(
        all.len(),
        n,
        "no run is skipped or read twice at a slice edge"
    );
    let distinct: std::collections::HashSet<&str> = all.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(distinct.len(), n);
    for pair in all.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            a.created_ms > b.created_ms || (a.created_ms == b.created_ms && a.run_id > b.run_id),
            "{} before {}",
            a.run_id,
            b.run_id
        );
    }
    assert_eq!(all[0].run_id, "run_00699");
    assert_eq!(all[1].run_id, "run_00698");
    // The oldest two share a time: the higher id first.
    assert_eq!(all[n - 2].run_id, "run_00700");
    assert_eq!(all[n - 1].run_id, "run_00000");
    // The records come back whole (the config too).
    assert_eq!(all[0], run("run_00699", 6990.0));

    let newest = store.newest_runs(100).await.unwrap();
    assert_eq!(newest, all[..100].to_vec());
    assert_eq!(store.newest_runs(5_000).await.unwrap(), all);
    assert!(store.newest_runs(0).await.unwrap().is_empty());
    assert_eq!(store.count_runs().await.unwrap(), n as u64);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn an_empty_store_lists_and_counts_nothing() {
    let store = fresh("t-idb-empty").await;
    assert!(store.list_runs().await.unwrap().is_empty());
    assert!(store.newest_runs(100).await.unwrap().is_empty());
    assert_eq!(store.count_runs().await.unwrap(), 0);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn creating_a_taken_run_id_fails_and_new_ids_get_a_suffix() {
    let store = fresh("t-idb-ids").await;
    // 2026-11-24T21:10:09Z
    let ms = 1_795_554_609_000.0;
    let mut first = run("", ms);
    store.create_run_under_free_id(&mut first).await.unwrap();
    assert_eq!(first.run_id, "run_20261124_211009_ab12cd34");
    assert!(store.run_id_taken(&first.run_id).await.unwrap());
    assert!(!store.run_id_taken("run_nope").await.unwrap());

    let mut other = first.clone();
    other.problem = "a different problem".into();
    assert_eq!(
        store.create_run(&other).await.unwrap_err(),
        StoreError::RunExists {
            run_id: first.run_id.clone()
        }
    );
    assert_eq!(
        store.get_run(&first.run_id).await.unwrap().unwrap().problem,
        "What is 2+2?"
    );
    // The same second and config: the next free suffix, and both stored.
    for expected in ["_2", "_3"] {
        let mut next = other.clone();
        store.create_run_under_free_id(&mut next).await.unwrap();
        assert_eq!(next.run_id, format!("{}{expected}", first.run_id));
        assert_eq!(
            store.get_run(&next.run_id).await.unwrap().unwrap().problem,
            "a different problem"
        );
    }
    // Another tab took the next one: refused, and the one after it is used.
    let mut elsewhere = other.clone();
    elsewhere.run_id = format!("{}_4", first.run_id);
    store.create_run(&elsewhere).await.unwrap();
    let mut after = other.clone();
    store.create_run_under_free_id(&mut after).await.unwrap();
    assert_eq!(after.run_id, format!("{}_5", first.run_id));
    assert_eq!(store.count_runs().await.unwrap(), 5);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn deleting_a_run_removes_its_steps_and_nothing_else() {
    let store = fresh("t-idb-delete").await;
    // `run_a_b` shares a prefix with `run_a`: its steps must survive.
    for id in ["run_a", "run_a_b"] {
        let mut record = run(id, 1.0);
        store.create_run(&record).await.unwrap();
        for n in 1..=3 {
            record = store
                .append_step(&record, &solver(id, n, "s"))
                .await
                .unwrap();
        }
    }
    assert!(store.delete_run("run_a").await.unwrap());
    assert_eq!(store.get_run("run_a").await.unwrap(), None);
    assert!(store.steps("run_a").await.unwrap().is_empty());
    assert_eq!(store.count_steps().await.unwrap(), 3);
    assert_eq!(store.steps("run_a_b").await.unwrap().len(), 3);
    assert!(!store.delete_run("run_a").await.unwrap());
    finish(store).await;
}

#[wasm_bindgen_test]
async fn runs_left_running_are_marked_interrupted_on_load() {
    let store = fresh("t-idb-interrupted").await;
    let mut done = run("run_done", 1.0);
    done.status = RunStatus::Completed;
    store.create_run(&done).await.unwrap();
    store.create_run(&run("run_r1", 2.0)).await.unwrap();
    store.create_run(&run("run_r2", 3.0)).await.unwrap();

    let mut ids = mark_running(&store).await;
    ids.sort();
    assert_eq!(ids, vec!["run_r1", "run_r2"]);
    let r1 = store.get_run("run_r1").await.unwrap().unwrap();
    assert_eq!(r1.status, RunStatus::Interrupted);
    assert_eq!(r1.message.as_deref(), Some(INTERRUPTED_MESSAGE));
    assert_eq!(
        store.get_run("run_done").await.unwrap().unwrap().status,
        RunStatus::Completed
    );
    assert!(mark_running(&store).await.is_empty());

    let cancelled = store
        .set_run_status("run_r1", RunStatus::Cancelled, Some("stopped".into()))
        .await
        .unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert_eq!(
        store
            .get_run("run_r1")
            .await
            .unwrap()
            .unwrap()
            .message
            .as_deref(),
        Some("stopped")
    );
    assert!(matches!(
        store
            .set_run_status("run_zz", RunStatus::Failed, None)
            .await,
        Err(StoreError::NotFound { kind: "run", .. })
    ));
    finish(store).await;
}

#[wasm_bindgen_test]
async fn the_runs_with_calls_in_flight_are_listed_once_each_until_their_calls_settle() {
    let store = fresh("t-idb-calls-in-flight").await;
    assert_eq!(
        store.runs_with_calls_in_flight().await.unwrap(),
        Vec::<String>::new()
    );
    let call = |run_id: &str, step_id: u64| InFlightCall {
        run_id: run_id.into(),
        step_id,
        model: "openai/gpt-4.1-mini".into(),
        worst_case_usd: Some(0.01),
        started_ms: 1.0,
    };
    for (run_id, created) in [("run_b", 1.0), ("run_a", 2.0)] {
        store.create_run(&run(run_id, created)).await.unwrap();
    }
    // A run whose last call was recorded twice (a store written by a killed tab may hold more
    // than one of a run's calls) is listed once.
    for c in [call("run_b", 2), call("run_a", 1), call("run_b", 3)] {
        store.begin_call(&c).await.unwrap();
    }
    assert_eq!(
        store.runs_with_calls_in_flight().await.unwrap(),
        vec!["run_a", "run_b"]
    );
    let settled = store.get_run("run_b").await.unwrap().unwrap();
    store.put_run_settling_calls(&settled).await.unwrap();
    assert_eq!(
        store.runs_with_calls_in_flight().await.unwrap(),
        vec!["run_a"]
    );
    finish(store).await;
}

// ---- schema versions ----

#[wasm_bindgen_test]
async fn a_seeded_version_1_database_upgrades_and_keeps_its_data() {
    let name = "t-idb-upgrade";
    let v1 = create_v1(name).await;
    let mut old_run = run("run_v1", 42.0);
    let steps = vec![
        solver("run_v1", 1, "old one"),
        solver("run_v1", 2, "old two"),
    ];
    old_run.apply_totals(&trialogue::core::trajectory::StepTotals::of(&steps), 43.0);
    put_raw(&v1, "runs", &[run_row(&old_run)]).await;
    put_raw(
        &v1,
        "steps",
        &steps.iter().map(step_row).collect::<Vec<_>>(),
    )
    .await;
    v1.close();

    let store = TrajectoryStore::open_named(name).await.unwrap();
    assert_eq!(store.version(), DB_VERSION);
    assert_eq!(DB_VERSION, 9);
    assert_eq!(
        store.store_names(),
        vec![
            "batches",
            "configs",
            "cost_rollups",
            "datasets",
            "in_flight",
            "provider_rounds",
            "replies",
            "run_counts",
            "runs",
            "steps"
        ]
    );
    // Version 8 counted the old run by status in the upgrade itself.
    assert_eq!(
        store.stored_run_counts().await.unwrap(),
        Some(RunCounts::of([(old_run.status, 1)]))
    );
    assert_eq!(
        store.get_run("run_v1").await.unwrap().as_ref(),
        Some(&old_run)
    );
    assert_eq!(store.steps("run_v1").await.unwrap(), steps);
    // The upgraded database takes new steps after the old ones.
    store
        .append_step(&old_run, &solver("run_v1", 3, "new"))
        .await
        .unwrap();
    assert_eq!(
        store.get_run("run_v1").await.unwrap().unwrap().step_count,
        3
    );
    store.close();

    // Version 2's index on an existing store was filled from the data already there.
    let raw = Database::open(name).await.unwrap();
    let tx = raw.transaction("runs").build().unwrap();
    let runs = tx.object_store("runs").unwrap();
    assert!(runs.index_names().any(|n| n == "updated_at"));
    let indexed = runs
        .index("updated_at")
        .unwrap()
        .count()
        .primitive()
        .unwrap()
        .await
        .unwrap();
    assert_eq!(indexed, 1);
    // So was version 7's: the old run is found by its status, in date order.
    let by_status = runs
        .index("status_created")
        .unwrap()
        .count()
        .primitive()
        .unwrap()
        .await
        .unwrap();
    assert_eq!(by_status, 1);
    drop(runs);
    drop(tx);
    raw.close();
    let store = TrajectoryStore::open_named(name).await.unwrap();
    let page = store
        .runs_page(Some(old_run.status), true, None, 10)
        .await
        .unwrap();
    assert_eq!(
        page.runs,
        vec![store.get_run("run_v1").await.unwrap().unwrap()]
    );
    assert!(!page.more);
    store.close();
    TrajectoryStore::delete_database(name).await.unwrap();
}

/// The on-disk form of a batch whose `json` is not a batch: found or missed only by the
/// fields beside it.
fn unparsable_batch_row(batch_id: &str, status: &str) -> Value {
    json!({
        "batch_id": batch_id,
        "created_ms": 1.0,
        "dataset_id": "ds_000000000000",
        "status": status,
        "json": "{ not a batch record",
    })
}

#[wasm_bindgen_test]
async fn batches_left_going_are_found_from_the_status_index_without_reading_a_batch() {
    // Every page load asks this before its first page draws, and a batch record holds every
    // item (a 10,000-problem batch's is megabytes): no record may be read, let alone parsed.
    // These records' JSON does not parse, so a read of any of them fails the call.
    let store = fresh("t-idb-unfinished-batches").await;
    let raw = Database::open("t-idb-unfinished-batches").await.unwrap();
    put_raw(
        &raw,
        "batches",
        &[
            unparsable_batch_row("batch_c", "running"),
            unparsable_batch_row("batch_a", "paused"),
            unparsable_batch_row("batch_b", "completed"),
            unparsable_batch_row("batch_d", "interrupted"),
            unparsable_batch_row("batch_e", "running"),
        ],
    )
    .await;
    raw.close();
    assert_eq!(
        store.unfinished_batch_ids().await.unwrap(),
        vec!["batch_a", "batch_c", "batch_e"]
    );
    finish(store).await;
}

#[wasm_bindgen_test]
async fn batches_stored_before_version_9_are_found_by_status_after_the_upgrade() {
    let name = "t-idb-upgrade-batches";
    create_v1(name).await.close();
    // Version 2 as it shipped made the batches store; a batch left running is stored there.
    let v2 = Database::open(name)
        .with_version(2u32)
        .with_on_upgrade_needed(|_, db| {
            let batches = db
                .create_object_store("batches")
                .with_key_path(KeyPath::from("batch_id"))
                .build()?;
            for (index, path) in [("created_at", "created_ms"), ("dataset_id", "dataset_id")] {
                batches.create_index(index, KeyPath::from(path)).build()?;
            }
            db.create_object_store("datasets")
                .with_key_path(KeyPath::from("dataset_id"))
                .build()?;
            Ok(())
        })
        .await
        .unwrap();
    put_raw(
        &v2,
        "batches",
        &[
            unparsable_batch_row("batch_old_running", "running"),
            unparsable_batch_row("batch_old_done", "completed"),
        ],
    )
    .await;
    v2.close();

    let store = TrajectoryStore::open_named(name).await.unwrap();
    assert_eq!(store.version(), DB_VERSION);
    assert_eq!(
        store.unfinished_batch_ids().await.unwrap(),
        vec!["batch_old_running"]
    );
    finish(store).await;
}

#[wasm_bindgen_test]
async fn an_upgrade_blocked_by_an_old_tab_says_so_and_finishes_once_it_closes() {
    let name = "t-idb-blocked";
    // An "old tab": a version-1 connection that does not close when asked.
    let old_tab = create_v1(name).await;
    put_raw(&old_tab, "runs", &[run_row(&run("run_kept", 7.0))]).await;

    let err = TrajectoryStore::open_named(name).await.unwrap_err();
    assert_eq!(err, StoreError::Blocked { name: name.into() });
    assert!(err.to_string().contains("close other Trialogue tabs"));
    // While the upgrade waits, opening again reports the same instead of hanging.
    assert_eq!(
        TrajectoryStore::open_named(name).await.unwrap_err(),
        StoreError::Blocked { name: name.into() }
    );

    old_tab.close();
    let mut opened = None;
    for _ in 0..50 {
        match TrajectoryStore::open_named(name).await {
            Ok(store) => {
                opened = Some(store);
                break;
            }
            Err(StoreError::Blocked { .. }) => sleep_ms(50).await,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    let store = opened.expect("the upgrade finished after the old tab closed");
    assert_eq!(store.version(), DB_VERSION);
    assert!(store.store_names().contains(&"batches".to_string()));
    assert!(store.run_id_taken("run_kept").await.unwrap());
    finish(store).await;
}

#[wasm_bindgen_test]
async fn a_record_that_does_not_parse_is_reported_with_its_key() {
    let name = "t-idb-corrupt";
    let store = fresh(name).await;
    store.close();
    let raw = Database::open(name).await.unwrap();
    put_raw(
        &raw,
        "steps",
        &[json!({"run_id": "run_c", "step_id": 4, "line": "{not json"})],
    )
    .await;
    raw.close();

    let store = TrajectoryStore::open_named(name).await.unwrap();
    match store.steps("run_c").await.unwrap_err() {
        StoreError::Corrupt { store, key, reason } => {
            assert_eq!(store, "steps");
            assert_eq!(key, "[run_c, 4]");
            assert!(reason.contains("not valid JSON"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    finish(store).await;
}

// ---- export and import ----

/// A JSONL text of `n` steps of run `id`, the way a file from the original looks.
fn jsonl_run(id: &str, n: u64, problem: &str) -> String {
    (1..=n)
        .map(|i| {
            format!(
                "{{\"timestamp\":\"2025-01-01T00:00:00.000000+00:00\",\"run_id\":\"{id}\",\"step_id\":{i},\"agent\":\"solver\",\"action\":\"generate\",\"input\":{{\"problem\":\"{problem}\"}},\"output\":{{\"solution\":\"s{i}\"}},\"metadata\":{{\"iteration\":{i},\"model\":\"gpt-4o\"}},\"reward\":null,\"terminal\":false,\"success\":null}}\n"
            )
        })
        .collect()
}

/// Every chunk of an export, each copied out before the next is asked for.
async fn export_all(
    store: &TrajectoryStore,
    filter: &ExportFilter,
    chunk_bytes: usize,
) -> (Vec<String>, ExportSummary) {
    let mut export = store.export_jsonl(filter, chunk_bytes);
    let mut chunks = Vec::new();
    while let Some(chunk) = export.next_chunk().await.unwrap() {
        chunks.push(String::from_utf8(chunk.to_vec()).unwrap());
    }
    assert!(
        export.next_chunk().await.unwrap().is_none(),
        "an export stays ended"
    );
    (chunks, export.summary())
}

#[wasm_bindgen_test]
async fn export_writes_one_valid_line_per_step_across_chunks() {
    let store = fresh("t-idb-export").await;
    // 300 steps: more than one read batch (256), so batches must join up exactly.
    let text = format!(
        "{}{}",
        jsonl_run("run_20250101_000000_aaaaaaaa", 300, "big"),
        jsonl_run("run_20250102_000000_bbbbbbbb", 3, "small")
    );
    let report = read_jsonl(&text);
    assert_eq!(report.entries.len(), 303);
    let summary = store.import_runs(report.clone(), OnConflict::Skip).await;
    assert_eq!(summary.imported.len(), 2);

    let chunk_bytes = 4096;
    let (chunks, exported) = export_all(&store, &ExportFilter::All, chunk_bytes).await;
    assert_eq!(exported.steps, 303);
    assert_eq!(exported.runs, 2);
    // Only each run's last line is parsed and written again: the others go out as stored,
    // without a copy into wasm.
    assert_eq!(exported.rewritten, 2);
    assert_eq!(exported.chunks as usize, chunks.len());
    assert!(chunks.len() > 5, "{} chunks", chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        assert!(chunk.ends_with('\n'));
        if i + 1 < chunks.len() {
            assert!(chunk.len() >= chunk_bytes);
        }
    }
    let whole: String = chunks.concat();
    assert_eq!(exported.bytes as usize, whole.len());
    // Our lines are the original's lines: same fields, same order, nulls written out.
    assert_eq!(whole, text);
    let back = read_jsonl(&whole);
    assert!(back.rejected.is_empty());
    assert_eq!(back.entries, report.entries);

    let (small_chunks, one) = export_all(
        &store,
        &ExportFilter::Runs(vec![
            "run_20250102_000000_bbbbbbbb".into(),
            "run_missing".into(),
        ]),
        10,
    )
    .await;
    let only_small = small_chunks.concat();
    assert_eq!(one.steps, 3);
    assert_eq!(one.runs, 1);
    assert_eq!(
        only_small,
        jsonl_run("run_20250102_000000_bbbbbbbb", 3, "small")
    );
    finish(store).await;
}

#[wasm_bindgen_test]
async fn export_is_each_step_parsed_and_written_again_with_its_runs_facts_on_the_last() {
    let store = fresh("t-idb-export-stamped").await;
    // Runs made here (their last line carries the run's facts), a run with no steps among
    // them, and an imported run (exported as read). 280 steps: the first read (256) ends
    // inside the last run made here.
    let mut expected_entries = Vec::new();
    let mut records = Vec::new();
    for (i, id) in ["run_a", "run_b", "run_c", "run_d"].iter().enumerate() {
        let mut record = run(id, 1000.0 + i as f64);
        store.create_run(&record).await.unwrap();
        for n in 1..=70 {
            let entry = solver(id, n, &format!("the answer is {n} \"quoted\" é"));
            record = store.append_step(&record, &entry).await.unwrap();
        }
        if *id == "run_b" {
            store.create_run(&run("run_b_empty", 1.0)).await.unwrap();
        }
    }
    let imported = "run_e_imported";
    let summary = store
        .import_runs(
            read_jsonl(&jsonl_run(imported, 5, "imported")),
            OnConflict::Skip,
        )
        .await;
    assert_eq!(summary.imported.len(), 1);
    for id in ["run_a", "run_b", "run_c", "run_d", imported] {
        expected_entries.extend(store.steps(id).await.unwrap());
        records.push(store.get_run(id).await.unwrap().unwrap());
    }
    run_facts::stamp_runs(&mut expected_entries, |id| {
        records.iter().find(|r| r.run_id == id)
    });
    let expected: String = expected_entries
        .iter()
        .map(|e| to_line(e).unwrap())
        .collect();
    assert!(
        expected.contains("\"status\""),
        "the last lines carry the runs' facts"
    );

    let (chunks, summary) = export_all(&store, &ExportFilter::All, 1 << 20).await;
    assert_eq!(summary.steps, 285);
    assert_eq!(summary.runs, 5);
    assert_eq!(summary.rewritten, 5, "each run's last line, and no other");
    assert_eq!(chunks.concat(), expected);

    let some = ExportFilter::Runs(vec!["run_d".into(), "run_a".into()]);
    let (chunks, summary) = export_all(&store, &some, 1000).await;
    assert_eq!(summary.runs, 2);
    let in_order: String = ["run_d", "run_a"]
        .iter()
        .flat_map(|id| expected_entries.iter().filter(move |e| e.run_id == *id))
        .map(|e| to_line(e).unwrap())
        .collect();
    assert_eq!(chunks.concat(), in_order);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn lines_longer_than_a_chunk_in_any_script_go_out_byte_for_byte() {
    let store = fresh("t-idb-export-long").await;
    // Each solution is about 140 KB of UTF-8 from 70,000 UTF-16 code units (characters of two,
    // three and four bytes; one of four bytes is two units): more than a chunk's buffer holds
    // at first, so it grows, once with a line in it already; and with more chunks than the
    // export keeps buffers, each is written into again.
    let mut record = run("run_long", 1.0);
    store.create_run(&record).await.unwrap();
    for n in 1..=8 {
        let text = format!("{n}: {}", "é数𝔸😀 ".repeat(10_000));
        record = store
            .append_step(&record, &solver("run_long", n, &text))
            .await
            .unwrap();
    }
    let mut entries = store.steps("run_long").await.unwrap();
    let stored = store.get_run("run_long").await.unwrap().unwrap();
    run_facts::stamp_runs(&mut entries, |_| Some(&stored));
    let expected: String = entries.iter().map(|e| to_line(e).unwrap()).collect();
    assert!(expected.len() > 8 * 140_000, "{}", expected.len());

    let (chunks, summary) = export_all(&store, &ExportFilter::All, 100_000).await;
    assert_eq!(summary.steps, 8);
    assert_eq!(chunks.len(), 4, "two lines per chunk");
    assert_eq!(summary.bytes as usize, expected.len());
    assert_eq!(chunks.concat(), expected);
    finish(store).await;
}

#[wasm_bindgen_test]
async fn a_stored_line_that_is_not_its_step_stops_the_export_with_its_key() {
    let name = "t-idb-export-corrupt";
    let line_of = |step_id, solution| {
        to_line(&solver("run_c", step_id, solution))
            .unwrap()
            .trim_end()
            .to_string()
    };
    let whole = line_of(0, "a long enough solution to cut");
    // (the stored line, its step id, why the export stops). Step 4 comes after the run's
    // step 1, so it is the run's last and parsed; step 0 is not, so it would go out as stored
    // from its head alone: a line cut short must still be caught.
    for (line, step_id, reason) in [
        ("{not json".to_string(), 4, "not valid JSON"),
        (line_of(5, "s"), 4, "holds step 5 of run run_c"),
        (whole[..whole.len() - 12].to_string(), 0, "not valid JSON"),
    ] {
        let store = fresh(name).await;
        let record = run("run_c", 1.0);
        store.create_run(&record).await.unwrap();
        store
            .append_step(&record, &solver("run_c", 1, "s"))
            .await
            .unwrap();
        store.close();
        let raw = Database::open(name).await.unwrap();
        put_raw(
            &raw,
            "steps",
            &[json!({"run_id": "run_c", "step_id": step_id, "line": line})],
        )
        .await;
        raw.close();
        let store = TrajectoryStore::open_named(name).await.unwrap();
        let mut export = store.export_jsonl(&ExportFilter::All, 1 << 20);
        match export.next_chunk().await {
            Err(StoreError::Corrupt {
                store,
                key,
                reason: why,
            }) => {
                assert_eq!(store, "steps");
                assert_eq!(key, format!("[run_c, {step_id}]"));
                assert!(why.contains(reason), "{why}");
            }
            other => panic!(
                "expected Corrupt, got {:?}",
                other.map(|c| c.map(|c| c.length()))
            ),
        }
        drop(export);
        finish(store).await;
    }
}

/// A priced step of run `run_id`.
fn priced(run_id: &str, step_id: u64, agent: &str, cost: f64) -> TrajectoryEntry {
    step(
        run_id,
        step_id,
        agent,
        json!({"solution": "s"}),
        json!({"iteration": 1, "model": "gpt-4o", "provider": "openai", "cost_usd": cost,
               "usage": {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110}}),
    )
}

/// The roll-up of `steps`, as core builds it.
fn rollup_of(steps: &[TrajectoryEntry]) -> CostRollup {
    CostRollup::of(
        &steps
            .iter()
            .flat_map(|e| RollupStep::split(&StepCost::of(e), e.possibly_billed_usd()))
            .collect::<Vec<_>>(),
    )
}

#[wasm_bindgen_test]
async fn cost_rollups_are_built_then_kept_by_commits_deletes_and_imports() {
    let store = fresh("t-idb-rollups").await;
    let mut all = Vec::new();
    for id in ["run_a", "run_b"] {
        let mut record = run(id, 1.0);
        store.create_run(&record).await.unwrap();
        for (n, agent) in [(1, "solver"), (2, "verifier")] {
            let entry = priced(id, n, agent, 0.1 * n as f64);
            record = store.append_step(&record, &entry).await.unwrap();
            all.push(entry);
        }
    }
    // Never built: not read as if the store had no steps.
    assert_eq!(store.cost_rollups().await.unwrap(), None);
    let seen = std::cell::RefCell::new(Vec::new());
    let built = store
        .build_cost_rollups(|p| seen.borrow_mut().push(p.done), || false)
        .await
        .unwrap();
    assert!(built);
    assert_eq!(seen.borrow().last(), Some(&2));
    assert_eq!(store.cost_rollups().await.unwrap(), Some(rollup_of(&all)));

    // A commit counts its step in the same transaction.
    let record = store.get_run("run_a").await.unwrap().unwrap();
    let judge = priced("run_a", 3, "judge", 0.05);
    store.append_step(&record, &judge).await.unwrap();
    all.push(judge);
    assert_eq!(store.cost_rollups().await.unwrap(), Some(rollup_of(&all)));

    // A delete takes its run's steps out exactly.
    assert!(store.delete_run("run_a").await.unwrap());
    all.retain(|e| e.run_id != "run_a");
    assert_eq!(store.cost_rollups().await.unwrap(), Some(rollup_of(&all)));

    // An import counts the steps it adds.
    let id = "run_20250101_120000_deadbeef";
    let imported = store
        .import_runs(read_jsonl(&jsonl_run(id, 2, "imported")), OnConflict::Skip)
        .await;
    assert_eq!(imported.imported.len(), 1);
    all.extend(store.steps(id).await.unwrap());
    assert_eq!(store.cost_rollups().await.unwrap(), Some(rollup_of(&all)));

    // Cleared, it is rebuilt from the steps to the same cells.
    store.clear_cost_rollups().await.unwrap();
    assert_eq!(store.cost_rollups().await.unwrap(), None);
    assert!(store.build_cost_rollups(|_| {}, || false).await.unwrap());
    assert_eq!(store.cost_rollups().await.unwrap(), Some(rollup_of(&all)));
    finish(store).await;
}

#[wasm_bindgen_test]
async fn a_stopped_cost_rollup_build_resumes_without_counting_twice() {
    let store = fresh("t-idb-rollups-resume").await;
    let mut all = Vec::new();
    // More runs than one build chunk holds, so a stop falls between chunks.
    for i in 0..501 {
        let id = format!("run_{i:04}");
        let record = run(&id, 1.0);
        store.create_run(&record).await.unwrap();
        let entry = priced(&id, 1, "solver", 0.01);
        store.append_step(&record, &entry).await.unwrap();
        all.push(entry);
    }
    let chunks = std::cell::Cell::new(0);
    let finished = store
        .build_cost_rollups(|_| chunks.set(chunks.get() + 1), || chunks.get() >= 1)
        .await
        .unwrap();
    assert!(!finished, "stopped after its first chunk");
    assert_eq!(store.cost_rollups().await.unwrap(), None);
    // A step committed meanwhile to a run the build has counted is counted by the commit; one
    // of a run it has not reached yet, by the build.
    for id in ["run_0000", "run_0500"] {
        let record = store.get_run(id).await.unwrap().unwrap();
        let entry = priced(id, 2, "verifier", 0.02);
        store.append_step(&record, &entry).await.unwrap();
        all.push(entry);
    }
    assert!(store.build_cost_rollups(|_| {}, || false).await.unwrap());
    assert_eq!(store.cost_rollups().await.unwrap(), Some(rollup_of(&all)));
    finish(store).await;
}

#[wasm_bindgen_test]
async fn a_step_whose_cost_rollup_cell_is_unreadable_is_committed_and_the_cells_rebuilt() {
    let name = "t-idb-rollups-damaged";
    let store = fresh(name).await;
    let record = run("run_a", 1.0);
    store.create_run(&record).await.unwrap();
    let first = priced("run_a", 1, "solver", 0.1);
    let record = store.append_step(&record, &first).await.unwrap();
    assert!(store.build_cost_rollups(|_| {}, || false).await.unwrap());
    // The cell the next step adds to is damaged.
    let counted = rollup_of(std::slice::from_ref(&first));
    let (key, _) = counted.cells().next().unwrap();
    let raw = Database::open(name).await.unwrap();
    put_raw(
        &raw,
        "cost_rollups",
        &[json!({"key": serde_json::to_string(key).unwrap(), "json": "not a cell"})],
    )
    .await;
    raw.close();

    let second = priced("run_a", 2, "solver", 0.2);
    store.append_step(&record, &second).await.unwrap();
    assert_eq!(
        store.steps("run_a").await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    // The failed update dropped the progress record: no wrong sum is read, and the next build
    // counts every step again in place of the damaged cell.
    assert_eq!(store.cost_rollups().await.unwrap(), None);
    assert!(store.build_cost_rollups(|_| {}, || false).await.unwrap());
    assert_eq!(
        store.cost_rollups().await.unwrap(),
        Some(rollup_of(&[first, second]))
    );
    finish(store).await;
}

#[wasm_bindgen_test]
async fn cost_rollup_cells_of_an_earlier_format_are_built_again() {
    let name = "t-idb-rollups-format";
    let store = fresh(name).await;
    let record = run("run_a", 1.0);
    store.create_run(&record).await.unwrap();
    let first = priced("run_a", 1, "solver", 0.1);
    store.append_step(&record, &first).await.unwrap();
    assert!(store.build_cost_rollups(|_| {}, || false).await.unwrap());
    // What a build of before cells knew their route wrote: a record without `format`, and a
    // cell under a key without `sent_via` that no build of today writes.
    let raw = Database::open(name).await.unwrap();
    put_raw(
        &raw,
        "cost_rollups",
        &[
            json!({"key": "", "json": r#"{"complete":true,"through":null}"#}),
            json!({"key": r#"{"day":"2025-01-01","agent":"solver","provider":"","model":"m","reused":false}"#,
                "json": serde_json::to_string(&rollup_of(std::slice::from_ref(&first)).cells().next().unwrap().1).unwrap()}),
        ],
    )
    .await;
    raw.close();
    // Not read as built; the next build clears the old cells and counts every step once.
    assert_eq!(store.cost_rollups().await.unwrap(), None);
    assert!(store.build_cost_rollups(|_| {}, || false).await.unwrap());
    assert_eq!(
        store.cost_rollups().await.unwrap(),
        Some(rollup_of(std::slice::from_ref(&first)))
    );
    finish(store).await;
}

#[wasm_bindgen_test]
async fn an_import_never_overwrites_a_stored_run() {
    let store = fresh("t-idb-import-conflict").await;
    let id = "run_20250101_120000_deadbeef";
    let first = store
        .import_runs(read_jsonl(&jsonl_run(id, 2, "original")), OnConflict::Skip)
        .await;
    assert_eq!(first.imported.len(), 1);
    assert_eq!(first.imported[0].run_id, id);
    let stored = store.get_run(id).await.unwrap().unwrap();
    assert_eq!(stored.problem, "original");
    assert_eq!(stored.config_hash, "deadbeef");
    assert_eq!(stored.status, RunStatus::Interrupted);

    let text = format!("{}not json\n", jsonl_run(id, 3, "intruder"));
    let second = store.import_runs(read_jsonl(&text), OnConflict::Skip).await;
    assert!(second.imported.is_empty());
    assert_eq!(second.conflicts, vec![id.to_string()]);
    assert_eq!(second.rejected.len(), 1);
    assert_eq!(second.rejected[0].line, 4);
    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps.len(), 2);
    assert!(steps
        .iter()
        .all(|s| s.input["problem"] == json!("original")));
    assert_eq!(
        store.get_run(id).await.unwrap().unwrap().problem,
        "original"
    );
    finish(store).await;
}

#[wasm_bindgen_test]
async fn keep_both_imports_under_a_suffixed_id() {
    let store = fresh("t-idb-import-both").await;
    let id = "run_20250101_120000_deadbeef";
    store
        .import_runs(read_jsonl(&jsonl_run(id, 2, "original")), OnConflict::Skip)
        .await;

    let summary = store
        .import_runs(
            read_jsonl(&jsonl_run(id, 3, "second")),
            OnConflict::KeepBoth,
        )
        .await;
    assert!(summary.conflicts.is_empty());
    assert!(summary.failed.is_empty());
    assert_eq!(summary.imported.len(), 1);
    let new_id = format!("{id}_2");
    assert_eq!(summary.imported[0].run_id, new_id);
    assert_eq!(summary.imported[0].original_id, id);
    assert_eq!(summary.imported[0].steps, 3);

    let copied = store.steps(&new_id).await.unwrap();
    assert_eq!(copied.len(), 3);
    assert!(copied.iter().all(|s| s.run_id == new_id));
    assert!(copied.iter().all(|s| s.input["problem"] == json!("second")));
    let record = store.get_run(&new_id).await.unwrap().unwrap();
    assert_eq!(record.step_count, 3);
    assert_eq!(record.config_hash, "deadbeef");
    // The original is untouched.
    assert_eq!(store.steps(id).await.unwrap().len(), 2);

    // A third copy takes the next free suffix.
    let third = store
        .import_runs(read_jsonl(&jsonl_run(id, 1, "third")), OnConflict::KeepBoth)
        .await;
    assert_eq!(third.imported[0].run_id, format!("{id}_3"));
    finish(store).await;
}

// ---- saved configs ----

#[wasm_bindgen_test]
async fn saved_configs_round_trip() {
    let store = fresh("t-idb-configs").await;
    let alpha = PipelineConfig::default();
    let mut beta = PipelineConfig {
        max_iterations: 3,
        run_budget_usd: Some(1.5),
        ..PipelineConfig::default()
    };
    beta.solver.temperature = 0.7;
    store.save_config("beta", &beta).await.unwrap();
    store.save_config("alpha", &alpha).await.unwrap();

    let listed = store.list_configs().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["alpha", "beta"]);
    assert_eq!(listed[0].config, alpha);
    assert_eq!(listed[1].config, beta);
    assert!(listed[1].saved_ms > 0.0);

    // Saving under a taken name replaces that config.
    store.save_config("alpha", &beta).await.unwrap();
    assert_eq!(
        store.get_config("alpha").await.unwrap().unwrap().config,
        beta
    );
    assert!(store.delete_config("beta").await.unwrap());
    assert!(!store.delete_config("beta").await.unwrap());
    assert_eq!(store.get_config("beta").await.unwrap(), None);
    assert_eq!(store.list_configs().await.unwrap().len(), 1);
    finish(store).await;
}

// ---- storage health and errors ----

#[wasm_bindgen_test]
async fn storage_estimate_and_persistence_answer() {
    let usage = TrajectoryStore::estimate().await.unwrap();
    assert!(usage.quota.unwrap_or(0) > 0, "{usage:?}");
    assert!(usage.usage.is_some());
    let persisted = TrajectoryStore::request_persistence().await.unwrap();
    assert_eq!(TrajectoryStore::is_persisted().await.unwrap(), persisted);
}

#[wasm_bindgen_test]
fn dom_exception_names_map_to_actionable_errors() {
    let quota = StoreError::from_dom("saving step 3 of run r", "QuotaExceededError", "full");
    assert_eq!(
        quota,
        StoreError::QuotaExceeded {
            operation: "saving step 3 of run r".into(),
            reason: "QuotaExceededError: full".into()
        }
    );
    let text = quota.to_string();
    assert!(text.contains("Nothing already stored was lost"));
    assert!(text.contains("deleting them"));
    assert!(matches!(
        StoreError::from_dom("opening", "VersionError", "older"),
        StoreError::NewerVersion { .. }
    ));
    assert!(matches!(
        StoreError::from_dom("listing runs", "InvalidStateError", "closing"),
        StoreError::Closed { .. }
    ));
    assert!(matches!(
        StoreError::from_dom("opening", "SecurityError", "denied"),
        StoreError::Unavailable { .. }
    ));
    assert_eq!(
        StoreError::from_dom("listing runs", "UnknownError", "disk").to_string(),
        "listing runs failed in the browser database: UnknownError: disk"
    );
}

/// What a lone tab's start-up does: every run left running is marked interrupted.
async fn mark_running(store: &TrajectoryStore) -> Vec<String> {
    let running = store.running_runs().await.unwrap();
    let ids: Vec<String> = running.into_iter().map(|(id, _)| id).collect();
    store
        .mark_runs_interrupted(&ids, js_sys::Date::now())
        .await
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_connection_a_newer_version_closed_knows_it_and_a_new_one_opens() {
    let name = "t-idb-closed-under-us";
    let store = fresh(name).await;
    assert!(!store.is_closed());
    // A newer Trialogue in another tab: its open at the next version asks this connection to
    // close, which it does rather than block the upgrade.
    let newer = Database::open(name)
        .with_version(store.version() + 1)
        .await
        .expect("the upgrade is not blocked by the open connection");
    assert!(store.is_closed());
    assert!(store.clone().is_closed(), "every clone shares the state");
    let refused = store.list_runs().await.unwrap_err();
    assert!(matches!(refused, StoreError::Closed { .. }), "{refused:?}");
    newer.close();
    TrajectoryStore::delete_database(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn provider_rounds_are_kept_per_batch_in_round_order_and_replaced_by_round() {
    use std::collections::BTreeMap;
    use trialogue::core::provider_batch::{
        BatchCounts, BatchFamily, BatchJournal, CustomId, ItemOutcome, RoundRecord, RoundStatus,
    };
    let store = fresh("provider-rounds").await;
    let round = |batch: &str, n: u32, status: RoundStatus| RoundRecord {
        batch_id: batch.into(),
        round: n,
        family: BatchFamily::OpenAi,
        api_root: "https://api.openai.com/v1".into(),
        provider_batch_id: Some(format!("batch_{n}")),
        status,
        submitted_ms: 1.0,
        ended_ms: None,
        requests: BTreeMap::from([(
            format!("r{n}"),
            CustomId {
                run_id: "run_1".into(),
                step: u64::from(n),
                attempt: 1,
            },
        )]),
        hashes: BTreeMap::new(),
        counts: BatchCounts::default(),
        results: BTreeMap::new(),
        message: None,
    };
    store
        .put_round(&round("b1", 2, RoundStatus::Submitted))
        .await
        .unwrap();
    store
        .put_round(&round("b1", 1, RoundStatus::Submitted))
        .await
        .unwrap();
    store
        .put_round(&round("b2", 1, RoundStatus::Submitting))
        .await
        .unwrap();
    let mut ended = round("b1", 1, RoundStatus::Ended);
    ended.results.insert("r1".into(), ItemOutcome::Expired);
    store.put_round(&ended).await.unwrap();

    let rounds = store.rounds("b1").await.unwrap();
    assert_eq!(
        rounds.iter().map(|r| r.round).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(rounds[0], ended);
    assert_eq!(store.rounds("b2").await.unwrap().len(), 1);
    assert!(store.rounds("b3").await.unwrap().is_empty());
    finish(store).await;
}

/// Counts how the transactions of the page end from now on (`window.__idbEnds`): each one
/// made by `IDBDatabase.transaction` gets `complete` and `abort` listeners. Returns a function
/// that puts the original method back.
fn count_transaction_ends() -> js_sys::Function {
    let install = js_sys::Function::new_no_args(
        "const original = IDBDatabase.prototype.transaction;
         const ends = { made: 0, complete: 0, abort: 0 };
         window.__idbEnds = ends;
         IDBDatabase.prototype.transaction = function (...args) {
           const tx = original.apply(this, args);
           ends.made += 1;
           tx.addEventListener('complete', () => { ends.complete += 1; });
           tx.addEventListener('abort', () => { ends.abort += 1; });
           return tx;
         };
         return () => { IDBDatabase.prototype.transaction = original; };",
    );
    install
        .call0(&JsValue::NULL)
        .unwrap()
        .unchecked_into::<js_sys::Function>()
}

fn transaction_ends() -> (u32, u32, u32) {
    let ends = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__idbEnds")).unwrap();
    let field = |name: &str| {
        js_sys::Reflect::get(&ends, &JsValue::from_str(name))
            .unwrap()
            .as_f64()
            .unwrap() as u32
    };
    (field("made"), field("complete"), field("abort"))
}

#[wasm_bindgen_test]
async fn reads_end_their_transactions_by_committing_never_by_aborting() {
    let store = fresh("trialogue-test-reads-commit").await;
    let record = run("run_r", 1.0);
    store.create_run(&record).await.unwrap();
    store
        .append_step(&record, &solver("run_r", 1, "4"))
        .await
        .unwrap();

    let restore = count_transaction_ends();
    assert!(store.get_run("run_r").await.unwrap().is_some());
    assert_eq!(store.steps("run_r").await.unwrap().len(), 1);
    assert_eq!(store.list_runs().await.unwrap().len(), 1);
    assert_eq!(store.count_runs().await.unwrap(), 1);
    // Each transaction ends in an event of its own, after the read that used it returned.
    let mut waited = 0;
    while {
        let (made, complete, abort) = transaction_ends();
        complete + abort < made
    } {
        assert!(waited < 200, "the reads' transactions never ended");
        sleep_ms(5).await;
        waited += 1;
    }
    restore.call0(&JsValue::NULL).unwrap();

    let (made, complete, abort) = transaction_ends();
    assert!(made >= 4, "each read made its own transaction ({made})");
    assert_eq!(abort, 0, "a read's transaction was aborted");
    assert_eq!(complete, made);
    finish(store).await;
}

// ---- the runs table's pages, from indexes ----

#[wasm_bindgen_test]
async fn pages_of_runs_come_in_date_order_from_the_last_row_on_in_either_direction_and_by_status() {
    let store = fresh("t-idb-run-pages").await;
    // Seven runs, two pairs created in the same millisecond; every third one failed.
    let times = [10.0, 20.0, 20.0, 30.0, 40.0, 40.0, 50.0];
    let mut runs = Vec::new();
    for (i, t) in times.iter().enumerate() {
        let mut r = run(&format!("run_p{i}"), *t);
        r.status = if i % 3 == 0 {
            RunStatus::Failed
        } else {
            RunStatus::Completed
        };
        store.create_run(&r).await.unwrap();
        runs.push(r);
    }
    let ids = |rs: &[RunRecord]| rs.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>();
    // Every page in turn, each from the last row of the one before.
    let walk = |status: Option<RunStatus>, newest_first: bool| {
        let store = store.clone();
        async move {
            let mut seen = Vec::new();
            let mut after: Option<RunPosition> = None;
            loop {
                let page = store
                    .runs_page(status, newest_first, after.as_ref(), 2)
                    .await
                    .unwrap();
                assert!(page.runs.len() <= 2);
                after = page.runs.last().map(RunPosition::of);
                seen.extend(ids(&page.runs));
                if !page.more {
                    return seen;
                }
            }
        }
    };
    let newest_first = vec![
        "run_p6", "run_p5", "run_p4", "run_p3", "run_p2", "run_p1", "run_p0",
    ];
    assert_eq!(walk(None, true).await, newest_first);
    let oldest_first: Vec<&str> = newest_first.iter().rev().copied().collect();
    assert_eq!(walk(None, false).await, oldest_first);
    assert_eq!(
        walk(Some(RunStatus::Failed), true).await,
        vec!["run_p6", "run_p3", "run_p0"]
    );
    assert_eq!(
        walk(Some(RunStatus::Completed), false).await,
        vec!["run_p1", "run_p2", "run_p4", "run_p5"]
    );
    // A first page of any size (read apart from the later ones: one advance from the end, then
    // forwards) ends anywhere in the order, inside a pair of ties too.
    let failed_newest = ["run_p6", "run_p3", "run_p0"];
    for size in 1..=8usize {
        for (status, newest, expected) in [
            (None, true, &newest_first[..]),
            (None, false, &oldest_first[..]),
            (Some(RunStatus::Failed), true, &failed_newest[..]),
        ] {
            let page = store
                .runs_page(status, newest, None, size as u32)
                .await
                .unwrap();
            let shown = expected.len().min(size);
            assert_eq!(
                ids(&page.runs),
                expected[..shown],
                "{status:?} {newest} {size}"
            );
            assert_eq!(
                page.more,
                size < expected.len(),
                "{status:?} {newest} {size}"
            );
        }
    }
    assert_eq!(
        walk(Some(RunStatus::Cancelled), true).await,
        Vec::<String>::new()
    );
    // The first page is what newest_runs reads, record for record.
    let first = store.runs_page(None, true, None, 3).await.unwrap();
    assert!(first.more);
    assert_eq!(first.runs, store.newest_runs(3).await.unwrap());
    // Counts and ids come from the indexes.
    assert_eq!(store.count_runs_in(None).await.unwrap(), 7);
    assert_eq!(
        store.count_runs_in(Some(RunStatus::Failed)).await.unwrap(),
        3
    );
    let mut failed = store.run_ids_in(Some(RunStatus::Failed)).await.unwrap();
    failed.sort();
    assert_eq!(failed, vec!["run_p0", "run_p3", "run_p6"]);
    assert_eq!(store.run_ids_in(None).await.unwrap().len(), 7);
    // Runs outside a batch have none; each batch is named once.
    assert_eq!(
        store.batch_ids_of_runs().await.unwrap(),
        Vec::<String>::new()
    );
    for (id, batch) in [
        ("run_b1", "batch_2"),
        ("run_b2", "batch_1"),
        ("run_b3", "batch_2"),
    ] {
        let mut r = run(id, 5.0);
        r.batch_id = Some(batch.to_string());
        store.create_run(&r).await.unwrap();
    }
    assert_eq!(
        store.batch_ids_of_runs().await.unwrap(),
        vec!["batch_1", "batch_2"]
    );
    for id in ["run_b1", "run_b2", "run_b3"] {
        store.delete_run(id).await.unwrap();
    }
    // A status change moves the run between the status's pages.
    store
        .set_run_status("run_p1", RunStatus::Failed, None)
        .await
        .unwrap();
    assert_eq!(
        walk(Some(RunStatus::Failed), true).await,
        vec!["run_p6", "run_p3", "run_p1", "run_p0"]
    );
    finish(store).await;
}

// ---- run counts ----

/// The counts every stored run gives, read the long way.
async fn counted_by_reading(store: &TrajectoryStore) -> RunCounts {
    let runs = store.list_runs().await.unwrap();
    RunCounts::of(runs.iter().map(|r| (r.status, 1)))
}

/// The stored counts record equals the runs as they are.
async fn assert_counts_kept(store: &TrajectoryStore, after: &str) {
    let stored = store.stored_run_counts().await.unwrap();
    assert_eq!(
        stored,
        Some(counted_by_reading(store).await),
        "the run counts after {after}"
    );
}

#[wasm_bindgen_test]
async fn run_counts_are_kept_by_every_change_that_stores_restatuses_or_deletes_a_run() {
    let store = fresh("t-idb-run-counts").await;
    // A new database has its record from the start.
    assert_eq!(
        store.stored_run_counts().await.unwrap(),
        Some(RunCounts::default())
    );

    let a = run("run_a", 1.0);
    store.create_run(&a).await.unwrap();
    assert_counts_kept(&store, "a create").await;
    let mut taken = run("run_a", 2.0);
    assert!(store.create_run(&a).await.is_err());
    assert_counts_kept(&store, "a create refused").await;
    store.create_run_under_free_id(&mut taken).await.unwrap();
    assert_counts_kept(&store, "a create under a free id").await;

    // Steps leave the count alone; the terminal one moves the run to completed.
    let a = store
        .append_step(&a, &solver("run_a", 1, "s"))
        .await
        .unwrap();
    assert_counts_kept(&store, "a step").await;
    let mut last = solver("run_a", 2, "s");
    last.terminal = true;
    let a = store.append_step(&a, &last).await.unwrap();
    assert_eq!(a.status, RunStatus::Completed);
    assert_counts_kept(&store, "a terminal step").await;

    store
        .set_run_status(&taken.run_id, RunStatus::Cancelled, None)
        .await
        .unwrap();
    assert_counts_kept(&store, "a status change").await;

    let mut failed = a.clone();
    failed.status = RunStatus::Failed;
    store.put_run(&failed).await.unwrap();
    assert_counts_kept(&store, "a record saved in a new status").await;
    let mut new_record = run("run_put", 3.0);
    new_record.status = RunStatus::BudgetExceeded;
    store.put_run(&new_record).await.unwrap();
    assert_counts_kept(&store, "a record saved for the first time").await;
    new_record.status = RunStatus::Completed;
    store.put_run_settling_calls(&new_record).await.unwrap();
    assert_counts_kept(&store, "a final record").await;

    store.create_run(&run("run_r1", 4.0)).await.unwrap();
    store.create_run(&run("run_r2", 5.0)).await.unwrap();
    assert_eq!(mark_running(&store).await.len(), 2);
    assert_counts_kept(&store, "runs marked interrupted").await;

    assert!(store.delete_run("run_r1").await.unwrap());
    assert!(!store.delete_run("run_r1").await.unwrap());
    assert_counts_kept(&store, "deletes").await;

    // Imports: a new run, a conflict skipped, a copy kept, and a run continued by a later
    // chunk of a streamed file.
    let id = "run_20250101_120000_deadbeef";
    let imported = store
        .import_runs(read_jsonl(&jsonl_run(id, 2, "imported")), OnConflict::Skip)
        .await;
    assert_eq!(imported.imported.len(), 1);
    assert_counts_kept(&store, "an import").await;
    let again = store
        .import_runs(read_jsonl(&jsonl_run(id, 2, "imported")), OnConflict::Skip)
        .await;
    assert_eq!(again.conflicts.len(), 1);
    assert_counts_kept(&store, "an import conflict").await;
    store
        .import_runs(
            read_jsonl(&jsonl_run(id, 2, "imported")),
            OnConflict::KeepBoth,
        )
        .await;
    assert_counts_kept(&store, "an import as a copy").await;
    let streamed = "run_20250101_120000_cafef00d";
    let mut import = StreamedImport::new();
    store
        .import_chunk(&mut import, read_jsonl(&jsonl_run(streamed, 1, "chunked")))
        .await;
    // The later chunk holds steps 2 and 3, the last one terminal: the run's status changes.
    let whole = jsonl_run(streamed, 3, "chunked");
    let lines: Vec<&str> = whole.lines().collect();
    let rest = format!(
        "{}\n{}\n",
        lines[1],
        lines[2].replace("\"terminal\":false", "\"terminal\":true")
    );
    let before = store.get_run(streamed).await.unwrap().unwrap().status;
    store.import_chunk(&mut import, read_jsonl(&rest)).await;
    assert_ne!(
        store.get_run(streamed).await.unwrap().unwrap().status,
        before
    );
    assert_eq!(store.steps(streamed).await.unwrap().len(), 3);
    assert_counts_kept(&store, "a streamed import's later chunk").await;

    assert_eq!(
        store.run_counts().await.unwrap(),
        counted_by_reading(&store).await
    );
    finish(store).await;
}

#[wasm_bindgen_test]
async fn run_counts_missing_unreadable_or_drifted_are_counted_again_from_the_status_index() {
    let name = "t-idb-run-counts-rebuilt";
    let store = fresh(name).await;
    store.create_run(&run("run_a", 1.0)).await.unwrap();
    let mut done = run("run_b", 2.0);
    done.status = RunStatus::Completed;
    store.create_run(&done).await.unwrap();
    let expected = RunCounts::of([(RunStatus::Running, 1), (RunStatus::Completed, 1)]);

    // Missing: changes leave it missing, and the next read counts every run.
    let raw = Database::open(name).await.unwrap();
    let tx = raw
        .transaction("run_counts")
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    let counts = tx.object_store("run_counts").unwrap();
    counts
        .delete(JsValue::from_str("by_status"))
        .primitive()
        .unwrap()
        .await
        .unwrap();
    drop(counts);
    tx.commit().await.unwrap();
    store.create_run(&run("run_c", 3.0)).await.unwrap();
    assert_eq!(store.stored_run_counts().await.unwrap(), None);
    let with_c = RunCounts::of([(RunStatus::Running, 2), (RunStatus::Completed, 1)]);
    assert_eq!(store.run_counts().await.unwrap(), with_c);
    assert_eq!(store.stored_run_counts().await.unwrap(), Some(with_c));
    assert!(store.delete_run("run_c").await.unwrap());

    // Unreadable: a change drops it (and still happens); the next read counts again.
    put_raw(
        &raw,
        "run_counts",
        &[json!({"key": "by_status", "json": "not counts"})],
    )
    .await;
    assert_eq!(store.stored_run_counts().await.unwrap(), None);
    store
        .set_run_status("run_a", RunStatus::Failed, None)
        .await
        .unwrap();
    assert_eq!(
        store.get_run("run_a").await.unwrap().unwrap().status,
        RunStatus::Failed
    );
    let expected_now = RunCounts::of([(RunStatus::Failed, 1), (RunStatus::Completed, 1)]);
    assert_eq!(store.run_counts().await.unwrap(), expected_now);

    // Drifted: counts that say no run is failed cannot take a failed run's delete; the
    // record is dropped rather than kept wrong, and counted again.
    put_raw(
        &raw,
        "run_counts",
        &[json!({"key": "by_status", "json": serde_json::to_string(&expected).unwrap()})],
    )
    .await;
    raw.close();
    assert!(store.delete_run("run_a").await.unwrap());
    assert_eq!(store.stored_run_counts().await.unwrap(), None);
    assert_eq!(
        store.run_counts().await.unwrap(),
        RunCounts::of([(RunStatus::Completed, 1)])
    );
    finish(store).await;
}

/// Starts recording the errors the page reports as uncaught from now on
/// (`window.__pageErrors`); returns a function that stops it.
fn record_page_errors() -> js_sys::Function {
    let install = js_sys::Function::new_no_args(
        "const seen = [];
         window.__pageErrors = seen;
         const listener = (event) => { seen.push(String(event.message)); };
         window.addEventListener('error', listener);
         return () => window.removeEventListener('error', listener);",
    );
    install
        .call0(&JsValue::NULL)
        .unwrap()
        .unchecked_into::<js_sys::Function>()
}

fn page_errors() -> Vec<String> {
    let seen = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__pageErrors")).unwrap();
    js_sys::Array::from(&seen)
        .iter()
        .filter_map(|m| m.as_string())
        .collect()
}

#[wasm_bindgen_test]
async fn a_run_id_found_taken_is_refused_without_an_uncaught_error() {
    let store = fresh("t-idb-taken-quiet").await;
    let first = run("run_taken", 1.0);
    store.create_run(&first).await.unwrap();
    let stop = record_page_errors();
    // Refused by the store's `add`: the transaction aborts, and the request made beside it
    // (the run counts' read, the first call's in-flight record) fails with it. Each failure
    // reaches the transaction's own error handler, which must not throw on the second.
    let call = InFlightCall {
        run_id: "run_taken".into(),
        step_id: 1,
        model: "openai/gpt-4.1-mini".into(),
        worst_case_usd: Some(0.01),
        started_ms: 2.0,
    };
    for first_call in [None, Some(&call)] {
        assert_eq!(
            store
                .create_run_before_call(&first, first_call)
                .await
                .unwrap_err(),
            StoreError::RunExists {
                run_id: "run_taken".into()
            }
        );
    }
    sleep_ms(50).await;
    let _ = stop.call0(&JsValue::NULL);
    assert_eq!(page_errors(), Vec::<String>::new());
    assert_eq!(store.count_runs().await.unwrap(), 1);
    finish(store).await;
}

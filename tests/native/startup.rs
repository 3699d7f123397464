//! The start-up check natively: what a closed tab left going becomes `interrupted` in one pass
//! over runs and batches, work another tab holds keeps its status, and the check finishes
//! waiting on nothing but the store and the locks.

use trialogue::core::batch::{BatchModes, BatchRecord, BatchStatus, ItemStatus};
use trialogue::core::config::PipelineConfig;
use trialogue::core::driver::startup::{mark_abandoned, Abandoned, INTERRUPTED_MESSAGE};
use trialogue::core::driver::{MemoryLocks, NoLocks, Work};
use trialogue::core::run_store::{BatchStore, MemoryRunStore, RunStore};
use trialogue::core::trajectory::{RunRecord, RunStatus};

use crate::batch::{spec_with, START_MS};
use crate::util::block_on;

const NOW_MS: f64 = START_MS + 60_000.0;

fn running_run(store: &MemoryRunStore, run_id: &str, batch_id: Option<&str>) {
    let config = PipelineConfig::default();
    let mut record = RunRecord::start(run_id, &config, "h", "What is 2+2?", None, START_MS);
    record.batch_id = batch_id.map(str::to_string);
    store.insert(record, Vec::new());
}

/// A stored batch in `status` with its first item in flight; returns its id.
fn batch(store: &MemoryRunStore, name_seed: usize, status: BatchStatus) -> String {
    let mut spec = spec_with(2, BatchModes::Debate, 2, PipelineConfig::default());
    spec.batch_id = format!("{}_{name_seed}", spec.batch_id);
    let mut record = BatchRecord::new(spec);
    record.status = status;
    record.items[0].status = ItemStatus::Running;
    block_on(store.put_batch(&record)).unwrap();
    record.spec.batch_id
}

fn run_status(store: &MemoryRunStore, run_id: &str) -> RunStatus {
    block_on(store.get_run(run_id)).unwrap().unwrap().status
}

fn batch_status(store: &MemoryRunStore, batch_id: &str) -> BatchStatus {
    store.batch(batch_id).unwrap().status
}

#[test]
fn a_batch_and_its_runs_left_going_are_both_marked_though_they_share_one_lock() {
    let store = MemoryRunStore::new();
    let locks = MemoryLocks::new();
    let batch_id = batch(&store, 1, BatchStatus::Running);
    running_run(&store, "run_in_batch", Some(&batch_id));
    running_run(&store, "lone_run", None);

    // `block_on` fails the test if the check waits for something nothing wakes (a timer).
    let abandoned = block_on(mark_abandoned(&store, &locks, NOW_MS)).unwrap();

    assert_eq!(
        abandoned,
        Abandoned {
            runs: vec!["lone_run".into(), "run_in_batch".into()],
            batches: vec![batch_id.clone()],
        }
    );
    assert_eq!(run_status(&store, "run_in_batch"), RunStatus::Interrupted);
    let lone = block_on(store.get_run("lone_run")).unwrap().unwrap();
    assert_eq!(lone.status, RunStatus::Interrupted);
    assert_eq!(lone.message.as_deref(), Some(INTERRUPTED_MESSAGE));
    assert_eq!(lone.updated_ms, NOW_MS);
    let marked = store.batch(&batch_id).unwrap();
    assert_eq!(marked.status, BatchStatus::Interrupted);
    assert_eq!(marked.items[0].status, ItemStatus::Pending);
    // Every claim is handed back once the marks are stored.
    assert!(!locks.is_held(&Work::Batch(batch_id)));
    assert!(!locks.is_held(&Work::Run("lone_run".into())));
}

#[test]
fn work_another_tab_holds_keeps_its_status() {
    let store = MemoryRunStore::new();
    let locks = MemoryLocks::new();
    let live_batch = batch(&store, 1, BatchStatus::Paused);
    let left_batch = batch(&store, 2, BatchStatus::Running);
    running_run(&store, "live_batch_run", Some(&live_batch));
    running_run(&store, "left_batch_run", Some(&left_batch));
    running_run(&store, "live_run", None);
    let _other_tab = (
        locks.hold(&Work::Batch(live_batch.clone())).unwrap(),
        locks.hold(&Work::Run("live_run".into())).unwrap(),
    );

    let abandoned = block_on(mark_abandoned(&store, &locks, NOW_MS)).unwrap();

    assert_eq!(abandoned.runs, ["left_batch_run"]);
    assert_eq!(abandoned.batches, [left_batch.as_str()]);
    assert_eq!(run_status(&store, "live_batch_run"), RunStatus::Running);
    assert_eq!(run_status(&store, "live_run"), RunStatus::Running);
    assert_eq!(batch_status(&store, &live_batch), BatchStatus::Paused);
    assert_eq!(batch_status(&store, &left_batch), BatchStatus::Interrupted);
}

#[test]
fn without_locks_everything_left_going_counts_as_abandoned_and_finished_work_is_left_alone() {
    let store = MemoryRunStore::new();
    let going = batch(&store, 1, BatchStatus::Running);
    let finished = batch(&store, 2, BatchStatus::Completed);
    running_run(&store, "going", Some(&going));
    let config = PipelineConfig::default();
    let mut done = RunRecord::start("done", &config, "h", "p", None, START_MS);
    done.status = RunStatus::Completed;
    store.insert(done, Vec::new());

    let abandoned = block_on(mark_abandoned(&store, &NoLocks, NOW_MS)).unwrap();

    assert_eq!(abandoned.runs, ["going"]);
    assert_eq!(abandoned.batches, [going.as_str()]);
    assert_eq!(run_status(&store, "done"), RunStatus::Completed);
    assert_eq!(batch_status(&store, &finished), BatchStatus::Completed);
    // Nothing left: a second check marks nothing.
    let again = block_on(mark_abandoned(&store, &NoLocks, NOW_MS)).unwrap();
    assert_eq!(again, Abandoned::default());
}

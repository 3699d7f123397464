//! A batch's results natively: items meet their runs, the statistics count them, the runs are
//! read once each as the batch goes ([`RunCache`]), runs in flight show their steps as
//! reported, and the batch has one spend.

use std::collections::BTreeMap;

use trialogue::app::batch::results::{build_results, ReadTurns, RunCache};
use trialogue::core::batch::{BatchModes, BatchRecord, BatchSpec, ItemStatus};
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::trajectory::{RunRecord, RunStatus};

fn record() -> BatchRecord {
    let spec = BatchSpec::new(
        "b",
        "ds",
        "ds",
        vec!["P1".into(), "P2".into()],
        BatchModes::Both,
        2,
        PipelineConfig::default(),
        0.0,
        |_| false,
    )
    .unwrap();
    BatchRecord::new(spec)
}

fn run(id: &str, mode: Mode, correct: bool, steps: u64, cost: f64) -> RunRecord {
    let config = PipelineConfig {
        mode,
        ..PipelineConfig::default()
    };
    let mut r = RunRecord::start(id, &config, "h", "p", Some("4".into()), 0.0);
    r.status = RunStatus::Completed;
    r.correct = Some(correct);
    r.step_count = steps;
    r.cost_usd = Some(cost);
    r.cost_complete = true;
    r.judge_score = Some(if correct { 0.9 } else { 0.2 });
    r
}

#[test]
fn items_meet_their_runs_and_the_statistics_count_them() {
    let mut record = record();
    // Items: P1 debate, P1 baseline, P2 debate, P2 baseline.
    let ids = ["r1", "r2", "r3"];
    for (item, id) in record.items.iter_mut().zip(ids) {
        item.run_id = Some(id.to_string());
        item.status = ItemStatus::Done;
    }
    let runs = vec![
        run("r1", Mode::Debate, true, 5, 0.5),
        run("r2", Mode::Baseline, false, 2, 0.125),
        run("r3", Mode::Debate, true, 3, 0.25),
    ];
    let results = build_results(&record, &runs, &[vec![], vec![], vec![]]);
    assert_eq!(results.rows.len(), 4);
    assert_eq!(results.results.len(), 3);
    assert_eq!(results.run_ids(), ["r1", "r2", "r3"]);
    assert_eq!(results.total_steps(), 10);
    assert_eq!(results.rows[3].run_id, None);
    assert_eq!(results.rows[3].status, ItemStatus::Pending);
    let debate = results.stats.debate.as_ref().unwrap();
    assert_eq!(debate.accuracy.unwrap().rate, 1.0);
    assert_eq!(debate.total_cost_usd, Some(0.75));
    let baseline = results.stats.baseline.as_ref().unwrap();
    assert_eq!(baseline.accuracy.unwrap().rate, 0.0);
    // Only P1 has both modes: debate right, baseline wrong.
    let paired = results.stats.paired.unwrap();
    assert_eq!((paired.pairs, paired.debate_only), (1, 1));
}

#[test]
fn an_item_whose_run_is_gone_keeps_its_own_facts() {
    let mut record = record();
    record.items[0].run_id = Some("deleted".into());
    record.items[0].status = ItemStatus::Failed;
    record.items[0].message = Some("storage failed".into());
    record.items[0].cost_usd = Some(0.01);
    let results = build_results(&record, &[], &[]);
    assert!(results.results.is_empty());
    // Its row still names the run; the export writes only runs that are stored.
    assert_eq!(results.rows[0].run_id.as_deref(), Some("deleted"));
    assert!(results.run_ids().is_empty());
    assert_eq!(results.total_steps(), 0);
    assert_eq!(results.rows[0].cost_usd, Some(0.01));
    assert_eq!(results.rows[0].message.as_deref(), Some("storage failed"));
    assert_eq!(results.stats.debate, None);
}

#[test]
fn a_running_batch_reads_each_finished_run_once_and_counts_steps_in_flight_as_reported() {
    let mut record = record();
    let mut cache = RunCache::new();
    // Nothing started: nothing to read, every row pending with no steps.
    assert!(cache.to_read(&record).is_empty());

    // P1 debate runs (3 steps reported), P1 baseline is done.
    record.items[0].status = ItemStatus::Running;
    record.items[0].run_id = Some("r1".into());
    record.items[1].status = ItemStatus::Done;
    record.items[1].run_id = Some("r2".into());
    assert_eq!(cache.to_read(&record), ["r2"]);
    cache.insert(
        &record,
        vec![run("r2", Mode::Baseline, true, 2, 0.125)],
        vec![vec![]],
    );
    let live = BTreeMap::from([(0, 3)]);
    let results = cache.results(&record, &live);
    assert_eq!(results.rows[0].steps, 3);
    assert_eq!(results.rows[0].run_id.as_deref(), Some("r1"));
    assert_eq!(results.rows[1].steps, 2);
    assert_eq!(results.rows[1].correct, Some(true));
    // A run in flight is not in the statistics yet.
    assert_eq!(results.results.len(), 1);
    assert!(results.stats.debate.is_none());
    assert_eq!(
        results.stats.baseline.unwrap().accuracy.unwrap().successes,
        1
    );
    // Read again while nothing finished: nothing to read.
    assert!(cache.to_read(&record).is_empty());

    // P1 debate finishes: only it is read.
    record.items[0].status = ItemStatus::Done;
    assert_eq!(cache.to_read(&record), ["r1"]);
    cache.insert(
        &record,
        vec![run("r1", Mode::Debate, false, 5, 0.5)],
        vec![vec![]],
    );
    let results = cache.results(&record, &live);
    assert_eq!(results.rows[0].steps, 5);
    assert_eq!(results.stats.debate.unwrap().runs, 1);
    assert!(cache.to_read(&record).is_empty());
}

#[test]
fn a_run_read_while_stopped_is_read_again_once_its_item_finishes() {
    let mut record = record();
    let mut cache = RunCache::new();
    record.items[0].run_id = Some("r1".into());
    let mut cut_off = run("r1", Mode::Debate, false, 2, 0.1);
    cut_off.status = RunStatus::Interrupted;
    cut_off.correct = None;
    assert_eq!(cache.to_read(&record), ["r1"]);
    cache.insert(&record, vec![cut_off], vec![vec![]]);
    assert!(cache.to_read(&record).is_empty());
    // Resumed: in flight, then done.
    record.items[0].status = ItemStatus::Running;
    assert!(cache.to_read(&record).is_empty());
    record.items[0].status = ItemStatus::Done;
    assert_eq!(cache.to_read(&record), ["r1"]);
}

#[test]
fn another_batch_starts_an_empty_cache() {
    let mut first = record();
    let mut cache = RunCache::new();
    first.items[0].status = ItemStatus::Done;
    first.items[0].run_id = Some("r1".into());
    cache.to_read(&first);
    cache.insert(
        &first,
        vec![run("r1", Mode::Debate, true, 5, 0.5)],
        vec![vec![]],
    );
    let mut second = first.clone();
    second.spec.batch_id = "batch_other".into();
    assert_eq!(cache.to_read(&second), ["r1"]);
    assert!(cache.results(&second, &BTreeMap::new()).results.is_empty());
}

#[test]
fn the_batch_spend_is_the_sum_of_what_each_mode_spent_and_counts_runs_cut_off_after_the_last_save()
{
    let mut record = record();
    for (item, id) in record.items.iter_mut().zip(["r1", "r2", "r3"]) {
        item.run_id = Some(id.to_string());
        item.status = ItemStatus::Done;
    }
    // The batch's record was saved before r3's last steps: its item knows no cost yet.
    record.items[2].status = ItemStatus::Pending;
    record.items[2].cost_usd = None;
    let mut r3 = run("r3", Mode::Debate, false, 3, 0.25);
    r3.status = RunStatus::Interrupted;
    let runs = vec![
        run("r1", Mode::Debate, true, 5, 0.5),
        run("r2", Mode::Baseline, false, 2, 0.125),
        r3,
    ];
    let results = build_results(&record, &runs, &[]);
    let spend = results.spend();
    assert!(spend.complete);
    let by_mode = [&results.stats.debate, &results.stats.baseline]
        .into_iter()
        .flatten()
        .filter_map(|m| m.total_cost_usd)
        .sum::<f64>();
    assert_eq!(spend.usd, Some(by_mode));
    assert_eq!(spend.usd, Some(0.875));
    // The record alone says less, and so "at least": the runs are what the page shows.
    let from_record = record.progress(2);
    assert!(!from_record.spent_complete);

    // A step without a price makes the total a lower bound.
    let mut unpriced = runs.clone();
    unpriced[1].cost_complete = false;
    assert!(!build_results(&record, &unpriced, &[]).spend().complete);
}

#[test]
fn a_row_keeps_its_key_until_what_it_shows_changes() {
    let mut record = record();
    let mut cache = RunCache::new();
    record.items[0].status = ItemStatus::Running;
    record.items[0].run_id = Some("r1".into());
    let keys = |results: &trialogue::app::batch::results::BatchResults| {
        results.rows.iter().map(|r| r.key()).collect::<Vec<_>>()
    };
    let before = keys(&cache.results(&record, &BTreeMap::from([(0, 1)])));
    // Read again with nothing new: every row keeps its key, so none is drawn again.
    assert_eq!(
        keys(&cache.results(&record, &BTreeMap::from([(0, 1)]))),
        before
    );
    // A step reported for the run in flight: that row only.
    let stepped = keys(&cache.results(&record, &BTreeMap::from([(0, 2)])));
    assert_ne!(stepped[0], before[0]);
    assert_eq!(stepped[1..], before[1..]);
    // The second item starts: its row changes, the first keeps its key.
    record.items[1].status = ItemStatus::Running;
    record.items[1].run_id = Some("r2".into());
    let started = keys(&cache.results(&record, &BTreeMap::from([(0, 2)])));
    assert_eq!(started[0], stepped[0]);
    assert_ne!(started[1], stepped[1]);
    assert_eq!(started[2..], stepped[2..]);
    // The first finishes and its run is read: its correctness, judge and cost show.
    record.items[0].status = ItemStatus::Done;
    cache.to_read(&record);
    cache.insert(
        &record,
        vec![run("r1", Mode::Debate, true, 2, 0.5)],
        vec![vec![]],
    );
    let finished = keys(&cache.results(&record, &BTreeMap::new()));
    assert_ne!(finished[0], started[0]);
    assert_eq!(finished[1..], started[1..]);
}

#[test]
fn a_read_asked_for_while_one_goes_is_made_once_after_it() {
    let turns = ReadTurns::default();
    assert!(turns.ask(), "nothing going: the read starts");
    assert!(!turns.ask(), "one going: no second read beside it");
    assert!(!turns.ask());
    assert!(
        turns.ended(),
        "asked meanwhile: the read going reads once more"
    );
    assert!(!turns.ended(), "however many times it was asked");
    assert!(turns.ask(), "done: the next read starts");
    assert!(!turns.ended(), "nothing asked meanwhile: done at once");
    assert!(turns.ask());
}

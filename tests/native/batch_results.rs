//! A batch's results natively: items meet their runs, the statistics count them, the runs are
//! read once each as the batch goes ([`RunCache`]), runs in flight show their steps as
//! reported, and the batch has one spend.

use std::collections::BTreeMap;

use trialogue::app::batch::live::{LiveResults, RunRead};
use trialogue::app::batch::results::{build_results, ReadTurns, RunCache};
use trialogue::core::batch::{BatchModes, BatchRecord, BatchSpec, ItemStatus};
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::dataset::Problem;
use trialogue::core::stats::{facet_breakdowns, summarize, Round, RunResult};
use trialogue::core::stream_speed::{speed_by_model, StepSpeed};
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
    assert!(cache.to_read(&record, false).is_empty());

    // P1 debate runs (3 steps reported), P1 baseline is done.
    record.items[0].status = ItemStatus::Running;
    record.items[0].run_id = Some("r1".into());
    record.items[1].status = ItemStatus::Done;
    record.items[1].run_id = Some("r2".into());
    assert_eq!(cache.to_read(&record, false), ["r2"]);
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
    assert!(cache.to_read(&record, false).is_empty());

    // P1 debate finishes: only it is read.
    record.items[0].status = ItemStatus::Done;
    assert_eq!(cache.to_read(&record, false), ["r1"]);
    cache.insert(
        &record,
        vec![run("r1", Mode::Debate, false, 5, 0.5)],
        vec![vec![]],
    );
    let results = cache.results(&record, &live);
    assert_eq!(results.rows[0].steps, 5);
    assert_eq!(results.stats.debate.unwrap().runs, 1);
    assert!(cache.to_read(&record, false).is_empty());
}

#[test]
fn a_run_read_while_stopped_is_read_again_once_its_item_finishes() {
    let mut record = record();
    let mut cache = RunCache::new();
    record.items[0].run_id = Some("r1".into());
    let mut cut_off = run("r1", Mode::Debate, false, 2, 0.1);
    cut_off.status = RunStatus::Interrupted;
    cut_off.correct = None;
    assert_eq!(cache.to_read(&record, false), ["r1"]);
    cache.insert(&record, vec![cut_off], vec![vec![]]);
    assert!(cache.to_read(&record, false).is_empty());
    // Resumed: in flight, then done.
    record.items[0].status = ItemStatus::Running;
    assert!(cache.to_read(&record, false).is_empty());
    record.items[0].status = ItemStatus::Done;
    assert_eq!(cache.to_read(&record, false), ["r1"]);
}

#[test]
fn another_batch_starts_an_empty_cache() {
    let mut first = record();
    let mut cache = RunCache::new();
    first.items[0].status = ItemStatus::Done;
    first.items[0].run_id = Some("r1".into());
    cache.to_read(&first, false);
    cache.insert(
        &first,
        vec![run("r1", Mode::Debate, true, 5, 0.5)],
        vec![vec![]],
    );
    let mut second = first.clone();
    second.spec.batch_id = "batch_other".into();
    assert_eq!(cache.to_read(&second, false), ["r1"]);
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
    cache.to_read(&record, false);
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

/// A small deterministic generator (a linear congruential one), so the cases are the same on
/// every run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % sides
    }

    /// `value` of the dice three times in four, else `None`.
    fn maybe<T>(&mut self, value: impl FnOnce(&mut Self) -> T) -> Option<T> {
        (self.roll(4) != 0).then(|| value(self))
    }
}

/// A run result of every shape the statistics tell apart, for problem `problem` in `mode`.
fn random_result(dice: &mut Dice, problem: usize, mode: Mode, run: usize) -> RunResult {
    let status = [
        RunStatus::Completed,
        RunStatus::Completed,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ][dice.roll(5) as usize];
    let rounds = if mode == Mode::Debate {
        (1..=dice.roll(5) as u32)
            .map(|iteration| Round {
                iteration,
                answer: None,
                correct: [None, Some(true), Some(false)][dice.roll(3) as usize],
                verdict: [None, Some(true), Some(false)][dice.roll(3) as usize],
            })
            .collect()
    } else {
        Vec::new()
    };
    let correct = dice.roll(2) == 0;
    RunResult {
        problem_id: format!("P{problem}"),
        run_id: format!("run_{run}"),
        mode,
        status,
        ground_truth: Some("4".into()),
        final_answer: Some("4".into()),
        correct: dice.maybe(|_| correct),
        judge_score: dice.maybe(|d| d.roll(11) as f64 / 10.0),
        verifier_passed: if mode == Mode::Debate {
            dice.maybe(|d| d.roll(2) == 0)
        } else {
            None
        },
        iterations: rounds.len() as u32,
        cost_usd: dice.maybe(|d| d.roll(1000) as f64 / 7e4),
        cost_complete: dice.roll(8) != 0,
        rounds,
        circular: mode == Mode::Debate && dice.roll(6) == 0,
    }
}

fn random_speeds(dice: &mut Dice, steps: u64) -> Vec<(u64, StepSpeed)> {
    let mut speeds = Vec::new();
    for step in 1..=steps {
        if dice.roll(3) == 0 {
            continue;
        }
        let model = ["openai/a", "openai/b"][dice.roll(2) as usize].to_string();
        let speed = StepSpeed {
            model,
            ttft_ms: dice.maybe(|d| d.roll(900) as f64),
            output_tokens_per_s: dice.maybe(|d| 1.0 + d.roll(300) as f64),
        };
        speeds.push((step, speed));
    }
    speeds
}

/// Whether `a` and `b` are equal, numbers within a relative 1e-9 (running sums add in another
/// order than a full count).
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn running_totals_equal_the_full_count_whatever_the_order_and_however_often_an_item_is_read() {
    let problems: Vec<Problem> = (0..60)
        .map(|i| Problem {
            id: format!("P{i}"),
            problem: format!("problem {i}"),
            ground_truth: Some("4".into()),
            domain: None,
            metadata: serde_json::json!({
                "level": format!("Level {}", 1 + i % 12),
                "subject": (["Algebra", "Geometry", "Prealgebra"][i % 3]),
                "solution": format!("unique text {i}"),
            })
            .as_object()
            .unwrap()
            .clone(),
        })
        .collect();
    for seed in 1..=20 {
        let mut dice = Dice(seed);
        // Items: each problem in debate, then baseline (BatchModes::Both).
        let items: Vec<(usize, Mode)> = (0..problems.len())
            .flat_map(|p| [(p, Mode::Debate), (p, Mode::Baseline)])
            .filter(|_| dice.roll(10) != 0)
            .collect();
        let mut order: Vec<usize> = (0..items.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, dice.roll(i as u64 + 1) as usize);
        }
        let mut live = LiveResults::new(&problems);
        let mut last: BTreeMap<usize, (RunResult, Vec<(u64, StepSpeed)>)> = BTreeMap::new();
        let mut run = 0;
        let mut replaced_runs = 0;
        for &index in &order {
            let (problem, mode) = items[index];
            // Some items are read more than once: a run stopped, then resumed and read again
            // with more steps, or another run for the item.
            for _ in 0..=dice.roll(3) / 2 {
                run += usize::from(dice.roll(2) == 0);
                let result = random_result(&mut dice, problem, mode, run);
                let steps = match last.get(&index) {
                    Some((before, speeds)) if before.run_id == result.run_id => {
                        // The same run resumed: its earlier steps as they were, and more.
                        let mut speeds = speeds.clone();
                        let from = speeds.last().map_or(0, |(id, _)| *id);
                        speeds.extend(
                            random_speeds(&mut dice, 3)
                                .into_iter()
                                .map(|(id, s)| (from + id, s)),
                        );
                        speeds
                    }
                    Some(_) => {
                        replaced_runs += 1;
                        random_speeds(&mut dice, 4)
                    }
                    None => random_speeds(&mut dice, 4),
                };
                let count = steps.last().map_or(0, |(id, _)| *id);
                live.add(
                    index,
                    problem,
                    RunRead {
                        result: &result,
                        steps: count,
                        message: None,
                        speeds: &steps,
                    },
                    ItemStatus::Done,
                );
                last.insert(index, (result, steps));
            }
        }
        let results: Vec<RunResult> = last.values().map(|(r, _)| r.clone()).collect();
        let json = |v: &dyn erased::Json| v.json();
        assert!(
            same(&json(&live.stats()), &json(&summarize(&results))),
            "seed {seed}: {:#?}\n{:#?}",
            live.stats(),
            summarize(&results)
        );
        assert_eq!(
            live.facets(),
            facet_breakdowns(&results, &problems),
            "seed {seed}"
        );
        // Speeds: the steps of a run read again are counted once; those of a run replaced by
        // another for the item are not taken back (the full read once the batch stops
        // counts only the item's last run).
        let all_speeds: Vec<StepSpeed> = last
            .values()
            .flat_map(|(_, s)| s.iter().map(|(_, s)| s.clone()))
            .collect();
        let shown = live.speed();
        let full = speed_by_model(&all_speeds);
        for model in &full {
            let mine = shown.iter().find(|m| m.model == model.model).unwrap();
            assert!(mine.steps >= model.steps, "seed {seed}");
        }
        if replaced_runs == 0 {
            assert_eq!(shown, full, "seed {seed}");
        }
        assert_eq!(live.len(), items.len());
    }
}

mod erased {
    /// Anything serializable, as JSON.
    pub trait Json {
        fn json(&self) -> serde_json::Value;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

#[test]
fn speeds_of_a_run_read_again_count_once() {
    let mut live = LiveResults::new(&[]);
    let mut dice = Dice(7);
    let result = random_result(&mut dice, 0, Mode::Debate, 1);
    let speed = |ttft: f64| StepSpeed {
        model: "m".into(),
        ttft_ms: Some(ttft),
        output_tokens_per_s: None,
    };
    let first = vec![(1, speed(10.0)), (2, speed(30.0))];
    fn read<'r>(result: &'r RunResult, steps: &'r [(u64, StepSpeed)]) -> RunRead<'r> {
        RunRead {
            result,
            steps: steps.len() as u64,
            message: None,
            speeds: steps,
        }
    }
    live.add(0, 0, read(&result, &first), ItemStatus::Done);
    let mut more = first.clone();
    more.push((3, speed(20.0)));
    live.add(0, 0, read(&result, &more), ItemStatus::Done);
    let shown = live.speed();
    assert_eq!(shown, speed_by_model(more.iter().map(|(_, s)| s)));
}

#[test]
fn a_running_batch_is_counted_as_it_goes_and_read_in_full_once_it_stops() {
    let mut record = record();
    let mut cache = RunCache::new();
    record.items[0].status = ItemStatus::Done;
    record.items[0].run_id = Some("r1".into());
    record.items[1].status = ItemStatus::Running;
    record.items[1].run_id = Some("r2".into());
    assert_eq!(cache.to_read(&record, true), ["r1"]);
    cache.insert(
        &record,
        vec![run("r1", Mode::Debate, true, 5, 0.5)],
        vec![vec![]],
    );
    let live = cache.results(&record, &BTreeMap::from([(1, 2)]));
    assert!(live.partial);
    assert!(live.results.is_empty(), "no per-run results while it runs");
    assert_eq!(live.run_ids(), ["r1"]);
    assert_eq!(live.total_steps(), 5);
    assert_eq!(live.rows[0].correct, Some(true));
    assert_eq!(live.rows[1].steps, 2);
    assert_eq!(live.stats.debate.as_ref().unwrap().runs, 1);
    assert!(cache.to_read(&record, true).is_empty());

    // It stops: every run is read again, in full.
    record.items[1].status = ItemStatus::Done;
    assert_eq!(cache.to_read(&record, false), ["r1", "r2"]);
    cache.insert(
        &record,
        vec![
            run("r1", Mode::Debate, true, 5, 0.5),
            run("r2", Mode::Baseline, false, 2, 0.25),
        ],
        vec![vec![], vec![]],
    );
    let full = cache.results(&record, &BTreeMap::new());
    assert!(!full.partial);
    assert_eq!(full.results.len(), 2);
    assert_eq!(full.run_ids(), ["r1", "r2"]);
    assert_eq!(full.stats.paired.unwrap().debate_only, 1);
}

// The counting allocator is a native-only dev-dependency; the wasm32 clippy pass builds this crate too.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn a_running_batch_keeps_a_few_hundred_bytes_per_finished_run_a_stopped_one_its_results() {
    /// Bytes a cache keeps per run for runs 500..1,500 of a 2,000-item batch that is
    /// `running` or not, each run read with three streamed steps.
    fn kept_per_run(running: bool) -> (u64, RunCache, BatchRecord) {
        const PROBLEMS: usize = 2_000;
        let ids: Vec<String> = (0..PROBLEMS).map(|i| format!("P{i:05}")).collect();
        let spec = BatchSpec::new(
            "b",
            "ds",
            "ds",
            ids,
            BatchModes::Debate,
            64,
            PipelineConfig::default(),
            0.0,
            |_| false,
        )
        .unwrap();
        let mut record = BatchRecord::new(spec);
        let mut cache = RunCache::new();
        cache.to_read(&record, running);
        let finish = |cache: &mut RunCache, record: &mut BatchRecord, from: usize, to: usize| {
            let mut runs = Vec::new();
            let mut steps = Vec::new();
            for i in from..to {
                let id = format!("run_20261207_140000_{i:06}");
                record.items[i].status = ItemStatus::Done;
                record.items[i].run_id = Some(id.clone());
                runs.push(run(&id, Mode::Debate, i % 3 == 0, 3, 0.001));
                steps.push(streamed_steps(&id));
            }
            cache.insert(record, runs, steps);
        };
        // The first runs grow the maps to their size; what the next thousand keep is measured.
        finish(&mut cache, &mut record, 0, 500);
        let ((), used) = heap_counter::measure(|| finish(&mut cache, &mut record, 500, 1_500));
        // The record's run ids are the batch's own, not the results'.
        let run_ids: u64 = (500..1_500)
            .map(|i| record.items[i].run_id.as_ref().unwrap().capacity() as u64)
            .sum();
        ((used.bytes_kept - run_ids) / 1_000, cache, record)
    }
    let (live, cache, record) = kept_per_run(true);
    let (full, _, _) = kept_per_run(false);
    // A digest, the totals' share, the speed samples, and the maps' and lists' room to grow.
    assert!(
        live <= 320,
        "{live} bytes kept per finished run while the batch runs"
    );
    assert!(
        live * 2 <= full,
        "{live} bytes per run while running, {full} once stopped"
    );
    let results = cache.results(&record, &BTreeMap::new());
    assert_eq!(results.stats.debate.unwrap().runs, 1_500);
    assert_eq!(results.speed[0].steps, 4_500);
    eprintln!("bytes kept per finished run: {live} running, {full} stopped");
}

/// Three streamed steps of run `run_id`, with text as a model writes it.
#[cfg(not(target_arch = "wasm32"))]
fn streamed_steps(run_id: &str) -> Vec<trialogue::core::trajectory::TrajectoryEntry> {
    (1..=3)
        .map(|step| {
            let mut entry: trialogue::core::trajectory::TrajectoryEntry =
                serde_json::from_value(serde_json::json!({
                    "timestamp": "2026-12-07T14:00:00Z",
                    "run_id": run_id,
                    "step_id": step,
                    "agent": (["solver", "verifier", "judge"][step as usize - 1]),
                    "action": "respond",
                    "input": {"prompt": "x".repeat(400)},
                    "output": {"solution": "y".repeat(800)},
                    "metadata": {},
                }))
                .unwrap();
            entry.metadata.model = Some("openai/gpt-4.1-mini".into());
            entry.metadata.ttft_ms = Some(100.0 + step as f64);
            entry.metadata.output_tokens_per_s = Some(50.0);
            entry
        })
        .collect()
}

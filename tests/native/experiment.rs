//! Experiments, natively: plans and their batches, the driver over the in-memory store and a
//! scripted LLM (stopped part-way and resumed), the matrix, paired comparisons with McNemar's
//! exact test, the Pareto front and the exports.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use trialogue::app::experiment::{values, vary, VARIABLE_FIELDS};
use trialogue::core::batch::scheduler::{BatchControl, BatchEvent};
use trialogue::core::batch::{BatchEngine, BatchModes, BatchRecord, BatchStatus, ItemStatus};
use trialogue::core::clock::ManualClock;
use trialogue::core::config::Mode;
use trialogue::core::driver::BatchProgress;
use trialogue::core::experiment::compare::{compare_sides, CompareSide};
use trialogue::core::experiment::driver::{create, ExperimentDriver, ExperimentStartError};
use trialogue::core::experiment::export::{MatrixExport, MATRIX_COLUMNS};
use trialogue::core::experiment::load::{arm_runs, mode_runs};
use trialogue::core::experiment::matrix::{nearest_rank, ArmRuns, ConfigRow};
use trialogue::core::experiment::outcome::RunOutcome;
use trialogue::core::experiment::pairs::{mcnemar_exact_p, PairComparison};
use trialogue::core::experiment::pareto::pareto_front;
use trialogue::core::experiment::{Experiment, ExperimentError, ExperimentPlan, ExperimentStatus};
use trialogue::core::pricing::{PriceOverrides, Pricer, RateOverride};
use trialogue::core::role::AgentRole;
use trialogue::core::run_store::{BatchStore, MemoryRunStore, RunStore};
use trialogue::core::scripted::{
    judge_output, solver_output, verifier_output, ScriptedLlm, ScriptedTurn,
};
use trialogue::core::stats::{PairedComparison, Proportion, RunResult};
use trialogue::core::trajectory::RunStatus;

use crate::batch::{pipeline_config, problems, START_MS};
use crate::util::block_on;

const MINI: &str = "openai/gpt-4o-mini";
const BIG: &str = "openai/gpt-4o";

/// The experiment of the driver tests: the three fixture problems, with the solver's model
/// varied over [`MINI`] and [`BIG`].
fn plan(concurrency: u32) -> ExperimentPlan {
    ExperimentPlan {
        name: "solver model".into(),
        dataset_id: "ds_fixture".into(),
        dataset_name: "fixture".into(),
        problem_ids: vec!["P1".into(), "P2".into(), "P3".into()],
        concurrency,
        varied_field: Some("solver.model".into()),
        arms: vary(
            &pipeline_config(),
            "solver.model",
            &format!("{MINI}\n{BIG}\n"),
        )
        .unwrap(),
        engine: BatchEngine::Live,
    }
}

/// Answers as each model would: MINI misses P3 (10-7), BIG misses P2 (3*3) and P3.
fn two_model_llm() -> ScriptedLlm {
    ScriptedLlm::with_responder(|call| {
        let output = match call.role {
            AgentRole::Solver => {
                let p = &call.user_prompt;
                let answer = if p.contains("2+2") {
                    "4"
                } else if p.contains("3*3") {
                    if call.model == BIG {
                        "8"
                    } else {
                        "9"
                    }
                } else {
                    "4"
                };
                solver_output(&format!("so \\boxed{{{answer}}}"))
            }
            AgentRole::Verifier => verifier_output(true, "fine"),
            AgentRole::Judge => judge_output(0.75),
        };
        ScriptedTurn::Reply {
            output,
            usage: ScriptedLlm::DEFAULT_USAGE,
        }
    })
}

fn store_with_dataset() -> MemoryRunStore {
    let store = MemoryRunStore::new();
    store.insert_dataset("ds_fixture", problems());
    store
}

fn made(store: &MemoryRunStore, plan: &ExperimentPlan) -> Experiment {
    block_on(create(store, plan, &[], &HashSet::new(), START_MS)).unwrap()
}

fn arms_of(store: &MemoryRunStore, experiment: &Experiment) -> Vec<ArmRuns> {
    let labels = experiment.labels();
    experiment
        .batches
        .iter()
        .zip(&labels)
        .map(|(batch, label)| {
            let stored = store.batch(&batch.spec.batch_id).unwrap();
            block_on(arm_runs(store, &stored, label)).unwrap()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

#[test]
fn varied_values_make_one_config_each_and_bad_values_are_refused() {
    assert_eq!(values("  a \n\n b\n"), ["a", "b"]);
    assert_eq!(values("line one\\nline two"), ["line one\nline two"]);

    let base = pipeline_config();
    let arms = vary(&base, "solver.temperature", "0\n0.7").unwrap();
    assert_eq!(arms.len(), 2);
    assert_eq!(arms[0].config.solver.temperature, 0.0);
    assert_eq!(arms[1].config.solver.temperature, 0.7);
    assert_eq!(arms[1].label, "0.7");
    assert_eq!(
        arms[1].config.judge, base.judge,
        "only the varied field changes"
    );

    let iterations = vary(&base, "max_iterations", "1\n3\n5").unwrap();
    let got: Vec<u32> = iterations.iter().map(|a| a.config.max_iterations).collect();
    assert_eq!(got, [1, 3, 5]);

    let rubrics = vary(
        &base,
        "judge.scoring_rubric",
        "strict\\nno partial credit\nlenient",
    )
    .unwrap();
    assert_eq!(
        rubrics[0].config.judge.scoring_rubric,
        "strict\nno partial credit"
    );
    assert_eq!(rubrics[0].label, "strict\\nno partial credit");

    match vary(&base, "solver.temperature", "0\nhot") {
        Err(ExperimentError::BadValue { field, value, .. }) => {
            assert_eq!(
                (field.as_str(), value.as_str()),
                ("solver.temperature", "hot")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        vary(&base, "trajectory_output_dir", "a\nb"),
        Err(ExperimentError::UnknownField { .. })
    ));
    for path in VARIABLE_FIELDS {
        assert!(
            trialogue::app::config_draft::field(path).is_some(),
            "{path} is a form field"
        );
    }
}

#[test]
fn a_plan_needs_two_distinct_valid_configs() {
    let mut p = plan(1);
    assert_eq!(p.check(&[]), Ok(()));

    p.arms.truncate(1);
    assert_eq!(p.check(&[]), Err(ExperimentError::TooFewArms { count: 1 }));

    let mut same = plan(1);
    same.arms = vary(&pipeline_config(), "solver.temperature", "0.5\n0.50").unwrap();
    let refused = same.check(&[]).unwrap_err();
    assert!(
        matches!(refused, ExperimentError::SameConfig { .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("remove one of them"));

    let mut invalid = plan(1);
    invalid.arms = vary(&pipeline_config(), "max_iterations", "2\n0").unwrap();
    let refused = invalid.check(&[]).unwrap_err();
    match &refused {
        ExperimentError::InvalidConfig { label, first, .. } => {
            assert_eq!(label, "0");
            assert!(first.starts_with("max_iterations"), "{first}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn each_config_gets_its_own_tagged_batch_and_ids_avoid_taken_ones() {
    let p = plan(2);
    let taken_experiments: HashSet<String> = ["exp_20260301_120000".to_string()].into();
    let specs = p
        .specs(START_MS, &taken_experiments, &HashSet::new())
        .unwrap();
    assert_eq!(specs.len(), 2);
    let tags: Vec<_> = specs
        .iter()
        .map(|s| s.experiment.clone().unwrap())
        .collect();
    assert_eq!(tags[0].experiment_id, "exp_20260301_120000_2");
    assert_eq!(tags[1].experiment_id, tags[0].experiment_id);
    assert_eq!((tags[0].arm, tags[1].arm, tags[1].arms), (0, 1, 2));
    assert_eq!(tags[1].label, BIG);
    assert_eq!(tags[1].varied_field.as_deref(), Some("solver.model"));
    assert_ne!(specs[0].batch_id, specs[1].batch_id);
    assert_eq!(specs[0].modes, BatchModes::Debate);
    assert_eq!(specs[1].config.solver.model, BIG);
    assert_eq!(specs[1].config_hash, specs[1].config.config_hash());
    assert_eq!(specs[0].concurrency, 2);

    // A batch of the Batch page stores no experiment key: its stored form is unchanged.
    let mut plain = specs[0].clone();
    plain.experiment = None;
    let json = serde_json::to_value(BatchRecord::new(plain)).unwrap();
    assert!(json.get("experiment").is_none());
    let tagged = serde_json::to_value(BatchRecord::new(specs[0].clone())).unwrap();
    let back: BatchRecord = serde_json::from_value(tagged).unwrap();
    assert_eq!(back.spec.experiment, specs[0].experiment);
}

#[test]
fn stored_batches_group_into_experiments_whose_status_follows_them() {
    let store = store_with_dataset();
    let experiment = made(&store, &plan(1));
    let mut plain = BatchRecord::new(
        plan(1)
            .specs(START_MS, &HashSet::new(), &HashSet::new())
            .unwrap()[0]
            .clone(),
    );
    plain.spec.experiment = None;
    plain.spec.batch_id = "batch_plain".into();

    let mut records = experiment.batches.clone();
    records.reverse();
    records.push(plain);
    let grouped = Experiment::group(records.clone());
    assert_eq!(grouped.len(), 1, "a batch of no experiment is left out");
    let e = &grouped[0];
    assert_eq!(e.labels(), [MINI, BIG], "in config order");
    assert_eq!(e.status(), ExperimentStatus::Pending);

    let with = |statuses: [BatchStatus; 2]| {
        let mut e = e.clone();
        for (b, s) in e.batches.iter_mut().zip(statuses) {
            b.status = s;
        }
        e.status()
    };
    use BatchStatus as B;
    assert_eq!(with([B::Completed, B::Running]), ExperimentStatus::Running);
    assert_eq!(
        with([B::Completed, B::Completed]),
        ExperimentStatus::Completed
    );
    assert_eq!(
        with([B::Completed, B::Pending]),
        ExperimentStatus::Interrupted
    );
    assert_eq!(
        with([B::Interrupted, B::Pending]),
        ExperimentStatus::Interrupted
    );
    assert_eq!(
        with([B::Completed, B::Cancelled]),
        ExperimentStatus::Cancelled
    );
    let mut short = e.clone();
    short.batches.truncate(1);
    short.batches[0].status = B::Completed;
    assert_eq!(
        short.status(),
        ExperimentStatus::Interrupted,
        "a config's batch is missing"
    );
    assert_eq!(ExperimentStatus::BudgetExceeded.as_str(), "budget_exceeded");
}

// ---------------------------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------------------------

#[test]
fn an_experiment_stopped_part_way_resumes_without_running_anything_twice() {
    let clock = ManualClock::starting_at(START_MS);
    let store = store_with_dataset();
    let llm = two_model_llm();
    let experiment = made(&store, &plan(1));
    assert_eq!(store.records().len(), 0, "no run before it is driven");
    assert_eq!(
        Experiment::group(
            experiment
                .batch_ids()
                .iter()
                .map(|id| store.batch(id).unwrap())
        )[0]
        .status(),
        ExperimentStatus::Pending
    );

    // Stop it as the second config's first run finishes (a reload does the same: the
    // batches going are left unfinished). The configs go through the problems abreast under
    // the one limit (1 here), so the first config's first run finished just before.
    let control = BatchControl::new();
    let finished: RefCell<Vec<(usize, usize)>> = RefCell::default();
    let listener = |p: &trialogue::core::experiment::driver::ArmProgress<'_>| {
        if let BatchProgress::Batch {
            event: BatchEvent::ItemFinished { index },
            record,
        } = p.progress
        {
            if record.items[*index].status == ItemStatus::Done {
                finished.borrow_mut().push((p.arm, *index));
            }
            if p.arm == 1 {
                control.cancel();
            }
        }
    };
    let stopped = block_on(
        ExperimentDriver::new(&llm, &clock, &store)
            .with_listener(&listener)
            .resume(&experiment, None, &control),
    )
    .unwrap();
    assert_eq!(*finished.borrow(), [(0, 0), (1, 0)]);
    assert_eq!(stopped.batches[0].status, BatchStatus::Cancelled);
    assert_eq!(stopped.batches[1].status, BatchStatus::Cancelled);
    assert_eq!(stopped.status(), ExperimentStatus::Cancelled);
    let calls_before = llm.calls().len();
    assert_eq!(calls_before, 2 * 3, "one run of each config");

    // Resumed from what is stored, as after a reload.
    let stored = Experiment::group(
        experiment
            .batch_ids()
            .iter()
            .map(|id| store.batch(id).unwrap()),
    )
    .remove(0);
    let done = block_on(ExperimentDriver::new(&llm, &clock, &store).resume(
        &stored,
        None,
        &BatchControl::new(),
    ))
    .unwrap();
    assert_eq!(done.status(), ExperimentStatus::Completed);
    assert_eq!(
        llm.calls().len(),
        6 * 3,
        "the two runs left, and nothing again"
    );
    assert_eq!(store.records().len(), 6, "one run per config and problem");
    for batch in &done.batches {
        assert!(batch.items.iter().all(|i| i.status == ItemStatus::Done));
    }

    // The matrix, from the stored runs.
    let arms = arms_of(&store, &done);
    let rows: Vec<ConfigRow> = arms.iter().map(ConfigRow::of).collect();
    assert_eq!(rows[0].label, MINI);
    assert_eq!(rows[0].config_hash, plan(1).arms[0].config.config_hash());
    assert_eq!(rows[0].runs, 3);
    assert_eq!(rows[0].accuracy, Proportion::new(2, 3));
    assert_eq!(rows[1].accuracy, Proportion::new(1, 3));
    assert_eq!(rows[0].mean_judge_score, Some(0.75));
    assert_eq!(rows[0].verifier_pass_rate, Proportion::new(3, 3));
    assert_eq!(rows[0].mean_iterations, Some(1.0));
    assert_eq!(rows[0].total_tokens, 3 * 3 * 120);
    assert_eq!(rows[0].paid_calls, 9);
    assert_eq!(rows[0].reused_calls, 0);
    let latency = 3.0 * ScriptedLlm::DEFAULT_LATENCY_MS;
    assert_eq!(rows[0].latency_p50_ms, Some(latency));
    assert_eq!(rows[0].latency_p90_ms, Some(latency));

    let pairs = PairComparison::all(&arms);
    assert_eq!(pairs.len(), 1);
    let pair = &pairs[0];
    assert_eq!((pair.a, pair.b), (0, 1));
    assert_eq!(pair.a_hash, rows[0].config_hash);
    assert_eq!(pair.b_hash, rows[1].config_hash);
    assert_eq!(
        (
            pair.shared,
            pair.both,
            pair.a_only,
            pair.b_only,
            pair.neither
        ),
        (3, 1, 1, 0, 1)
    );
    assert_eq!(pair.p_value, 1.0, "one discordant pair proves nothing");
    assert_eq!(pair.differing.len(), 1);
    let differing = &pair.differing[0];
    assert_eq!(differing.problem_id, "P2");
    assert!(differing.a_correct);
    let run_of = |arm: &ArmRuns, problem: &str| {
        arm.runs
            .iter()
            .find(|r| r.result.problem_id == problem)
            .unwrap()
            .result
            .run_id
            .clone()
    };
    assert_eq!(differing.a_run_id, run_of(&arms[0], "P2"));
    assert_eq!(differing.b_run_id, run_of(&arms[1], "P2"));
    let difference = pair.difference.unwrap();
    assert!((difference.estimate - 1.0 / 3.0).abs() < 1e-12);
    assert!(difference.low < 0.0 && difference.high > difference.estimate);
}

#[test]
fn a_budget_stops_the_experiment_and_a_larger_one_resumes_it() {
    let clock = ManualClock::starting_at(START_MS);
    let store = store_with_dataset();
    let llm = two_model_llm();
    let mut p = plan(1);
    for arm in &mut p.arms {
        // Less than one call's worst case: the first run is refused before it calls.
        arm.config.batch_budget_usd = Some(0.000_001);
    }
    let experiment = made(&store, &p);
    let mut overrides = PriceOverrides::new();
    overrides.insert(MINI, RateOverride::new(1.0, 1.0)).unwrap();
    overrides.insert(BIG, RateOverride::new(1.0, 1.0)).unwrap();
    let pricer = Rc::new(Pricer::new(None, overrides));

    let stopped = block_on(
        ExperimentDriver::new(&llm, &clock, &store)
            .with_pricer(Rc::clone(&pricer))
            .resume(&experiment, None, &BatchControl::new()),
    )
    .unwrap();
    assert_eq!(stopped.status(), ExperimentStatus::BudgetExceeded);
    for batch in &stopped.batches {
        assert_eq!(
            batch.status,
            BatchStatus::Cancelled,
            "each stopped by its budget"
        );
        assert!(batch.items.iter().all(|i| i.status == ItemStatus::Pending));
    }
    assert!(llm.calls().is_empty());

    let done = block_on(
        ExperimentDriver::new(&llm, &clock, &store)
            .with_pricer(pricer)
            .resume(&stopped, Some(100.0), &BatchControl::new()),
    )
    .unwrap();
    assert_eq!(done.status(), ExperimentStatus::Completed);
}

#[test]
fn an_item_cancelled_while_waiting_for_a_shared_slot_keeps_its_budget_exceeded() {
    let clock = ManualClock::starting_at(START_MS);
    let store = store_with_dataset();
    let llm = two_model_llm();
    let mut p = plan(1);
    for arm in &mut p.arms {
        arm.config.batch_budget_usd = Some(0.000_001);
    }
    let experiment = made(&store, &p);
    let mut overrides = PriceOverrides::new();
    overrides.insert(MINI, RateOverride::new(1.0, 1.0)).unwrap();
    overrides.insert(BIG, RateOverride::new(1.0, 1.0)).unwrap();
    let pricer = Rc::new(Pricer::new(None, overrides));
    let stopped = block_on(
        ExperimentDriver::new(&llm, &clock, &store)
            .with_pricer(Rc::clone(&pricer))
            .resume(&experiment, None, &BatchControl::new()),
    )
    .unwrap();
    assert_eq!(stopped.status(), ExperimentStatus::BudgetExceeded);

    // Resumed, and cancelled while its first items wait for the shared slot (no slot goes on
    // an item's first poll): their runs were not touched, so they still show their budget.
    let control = BatchControl::new();
    let driver = ExperimentDriver::new(&llm, &clock, &store).with_pricer(pricer);
    let mut resumed = crate::util::Driver::new(driver.resume(&stopped, None, &control));
    assert!(resumed.poll_once().is_none());
    control.cancel();
    let ended = resumed.run_until_stalled().expect("ended").unwrap();
    assert!(llm.calls().is_empty());
    let first_items: Vec<Option<RunStatus>> = ended
        .batches
        .iter()
        .map(|b| b.items[0].run_status)
        .collect();
    assert_eq!(first_items, vec![Some(RunStatus::BudgetExceeded); 2]);
    assert_eq!(ended.status(), ExperimentStatus::BudgetExceeded);
}

#[test]
fn a_plan_that_does_not_hold_stores_nothing() {
    let store = store_with_dataset();
    let mut p = plan(1);
    p.arms.pop();
    let refused = block_on(create(&store, &p, &[], &HashSet::new(), START_MS)).unwrap_err();
    assert!(matches!(
        refused,
        ExperimentStartError::Plan(ExperimentError::TooFewArms { count: 1 })
    ));
    assert!(block_on(store.batch_ids()).unwrap().is_empty());
}

#[test]
fn reused_replies_are_counted_apart_from_paid_ones() {
    let clock = ManualClock::starting_at(START_MS);
    let store = store_with_dataset();
    let llm = two_model_llm();
    let experiment = made(&store, &plan(1));
    block_on(ExperimentDriver::new(&llm, &clock, &store).resume(
        &experiment,
        None,
        &BatchControl::new(),
    ))
    .unwrap();
    let run = store.records().remove(0);
    let mut steps = block_on(store.steps(&run.run_id)).unwrap();
    assert_eq!(steps.len(), 3);
    steps[0].metadata.reused_from = Some("run_other".into());
    let outcome = RunOutcome::new("P1", &run, &steps);
    assert_eq!((outcome.paid_calls, outcome.reused_calls), (2, 1));
}

#[test]
fn two_stored_batches_compare_as_the_experiment_compares_its_pair() {
    let clock = ManualClock::starting_at(START_MS);
    let store = store_with_dataset();
    let llm = two_model_llm();
    let experiment = made(&store, &plan(1));
    let done = block_on(ExperimentDriver::new(&llm, &clock, &store).resume(
        &experiment,
        None,
        &BatchControl::new(),
    ))
    .unwrap();
    let batches: Vec<BatchRecord> = done
        .batch_ids()
        .iter()
        .map(|id| store.batch(id).unwrap())
        .collect();

    // Each single-mode batch is one side, named by its experiment and config.
    let sides = CompareSide::all(&batches);
    assert_eq!(sides.len(), 2);
    let labels: Vec<&str> = sides.iter().map(|s| s.label.as_str()).collect();
    assert!(
        labels.contains(&format!("solver model · {MINI}").as_str()),
        "{labels:?}"
    );
    let key = sides[0].key();
    assert_eq!(CompareSide::find(&sides, &key), Some(&sides[0]));
    assert!(key.ends_with("|debate"), "{key}");

    let side = |batch: &BatchRecord| {
        block_on(mode_runs(&store, batch, &batch.spec.name, Mode::Debate)).unwrap()
    };
    let (a, b) = (side(&batches[0]), side(&batches[1]));
    let compared = compare_sides(&a, &b);
    let in_experiment = PairComparison::all(&arms_of(&store, &done)).remove(0);
    assert_eq!(compared, in_experiment);
    // MINI misses P3, BIG misses P2 and P3.
    assert_eq!(
        (
            compared.shared,
            compared.both,
            compared.a_only,
            compared.b_only,
            compared.neither
        ),
        (3, 1, 1, 0, 1)
    );
    // A mode the batch did not run gives no runs: nothing shared.
    let baseline = block_on(mode_runs(&store, &batches[1], "b", Mode::Baseline)).unwrap();
    assert!(baseline.runs.is_empty());
    assert_ne!(baseline.config_hash, b.config_hash);
    assert_eq!(compare_sides(&a, &baseline).shared, 0);
}

#[test]
fn a_batch_of_both_modes_offers_each_mode_as_a_side() {
    let store = store_with_dataset();
    let mut batch = made(&store, &plan(1)).batches.remove(0);
    batch.spec.modes = BatchModes::Both;
    batch.spec.experiment = None;
    batch.spec.name = "nightly".into();
    let sides = CompareSide::all(&[batch]);
    let labels: Vec<&str> = sides.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["nightly (debate)", "nightly (baseline)"]);
    assert_eq!(sides[1].mode, Mode::Baseline);
    assert_eq!(sides[1].problems, 3);
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// McNemar's exact p for b = 2500, c = 2600, computed as in the table below.
const LARGE_P: f64 = 0.16565587842846058;

#[test]
fn mcnemar_exact_p_values_match_exact_binomial_sums() {
    // Expected: min(1, 2·Σ_{i≤min(b,c)} C(b+c, i) / 2^(b+c)) computed exactly with Python's
    // `fractions.Fraction` and `math.comb` (the same as `scipy.stats.binomtest(min(b, c),
    // b + c, 0.5).pvalue`), then rounded once to f64.
    let cases: [(u64, u64, f64); 8] = [
        (1, 9, 0.021484375),
        (9, 1, 0.021484375),
        (0, 5, 0.0625),
        (3, 12, 0.03515625),
        (4, 6, 0.75390625),
        (20, 40, 0.01348929373119186),
        (900, 1100, 8.457089535503927e-06),
        (0, 1, 1.0),
    ];
    for (b, c, expected) in cases {
        let p = mcnemar_exact_p(b, c);
        assert!(
            (p - expected).abs() <= expected * 1e-9,
            "b={b} c={c}: {p} against {expected}"
        );
    }
    assert_eq!(mcnemar_exact_p(0, 0), 1.0);
    assert_eq!(mcnemar_exact_p(5, 5), 1.0);
    // 5,100 discordant pairs: each term's 2^-5100 alone is below the smallest f64.
    let large = mcnemar_exact_p(2500, 2600);
    assert!((large - LARGE_P).abs() <= LARGE_P * 1e-9, "{large}");
}

fn result(problem: &str, run: &str, correct: Option<bool>, status: RunStatus) -> RunOutcome {
    RunOutcome {
        result: RunResult {
            problem_id: problem.into(),
            run_id: run.into(),
            mode: Mode::Debate,
            status,
            ground_truth: Some("1".into()),
            final_answer: None,
            correct,
            judge_score: None,
            verifier_passed: None,
            iterations: 1,
            cost_usd: Some(0.5),
            cost_complete: true,
            rounds: vec![],
            circular: false,
        },
        total_tokens: 10,
        latency_ms: None,
        paid_calls: 3,
        reused_calls: 0,
    }
}

fn arm(label: &str, runs: Vec<RunOutcome>) -> ArmRuns {
    ArmRuns {
        label: label.into(),
        config_hash: format!("h{label}"),
        batch_id: format!("batch_{label}"),
        mode: Mode::Debate,
        runs,
    }
}

#[test]
fn pairs_count_only_problems_both_configs_answered() {
    let c = RunStatus::Completed;
    let a = arm(
        "a",
        vec![
            result("P1", "a1", Some(true), c),
            result("P2", "a2", Some(true), c),
            result("P3", "a3", Some(false), c),
            result("P4", "a4", Some(true), c),
            result("P5", "a5", Some(true), RunStatus::Failed),
        ],
    );
    let b = arm(
        "b",
        vec![
            result("P1", "b1", Some(true), c),
            result("P2", "b2", Some(false), c),
            result("P3", "b3", Some(true), c),
            result("P5", "b5", Some(true), c),
            result("P6", "b6", Some(true), c),
        ],
    );
    let pair = PairComparison::of(0, &a, 1, &b);
    assert_eq!(pair.shared, 3, "P4 and P6 are one config's; P5 failed in a");
    assert_eq!(
        (pair.both, pair.a_only, pair.b_only, pair.neither),
        (1, 1, 1, 0)
    );
    let ids: Vec<&str> = pair
        .differing
        .iter()
        .map(|d| d.problem_id.as_str())
        .collect();
    assert_eq!(ids, ["P2", "P3"]);
    assert_eq!(
        (
            pair.differing[1].a_run_id.as_str(),
            pair.differing[1].b_run_id.as_str()
        ),
        ("a3", "b3")
    );
    let newcombe = PairedComparison::from_counts(1, 1, 1, 0).unwrap();
    let difference = pair.difference.unwrap();
    assert_eq!(
        (difference.low, difference.high),
        (newcombe.low, newcombe.high)
    );
    assert_eq!(difference.estimate, 0.0);

    let none = PairComparison::of(0, &a, 1, &arm("c", vec![]));
    assert_eq!(none.shared, 0);
    assert_eq!(none.difference, None);
    assert_eq!(none.p_value, 1.0);

    assert_eq!(PairComparison::all(&[a.clone(), b.clone(), a]).len(), 3);
}

#[test]
fn latency_percentiles_are_nearest_rank() {
    let sorted = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0];
    assert_eq!(nearest_rank(&sorted, 0.5), Some(50.0));
    assert_eq!(nearest_rank(&sorted, 0.9), Some(90.0));
    assert_eq!(nearest_rank(&[7.0], 0.9), Some(7.0));
    assert_eq!(nearest_rank(&[1.0, 2.0, 3.0], 0.5), Some(2.0));
    assert_eq!(nearest_rank(&[], 0.5), None);
}

fn row(label: &str, correct: usize, cost: Option<f64>) -> ConfigRow {
    let mut r = ConfigRow::of(&arm(label, vec![]));
    r.accuracy = Proportion::new(correct, 10);
    r.cost_usd = cost;
    r
}

#[test]
fn the_pareto_front_keeps_configs_nothing_beats_on_both() {
    let rows = [
        row("cheap", 5, Some(1.0)),
        row("dear", 8, Some(4.0)),
        row("worse", 5, Some(2.0)),
        row("same_as_cheap", 5, Some(1.0)),
        row("unpriced", 9, None),
        row("best", 8, Some(3.0)),
    ];
    let front = pareto_front(&rows);
    let on: Vec<usize> = front.iter().filter(|p| p.on_front).map(|p| p.arm).collect();
    assert_eq!(
        on,
        [0, 3, 5],
        "ties stay on the front; dear is beaten by best"
    );
    assert!(
        front.iter().all(|p| p.arm != 4),
        "a config without a cost is not placed"
    );
}

#[test]
fn the_matrix_exports_as_csv_and_json() {
    let mut first = row("=1+1", 5, Some(2.0));
    first.correct_per_usd = Some(2.5);
    let rows = vec![first, row("b, quoted \"x\"", 8, None)];
    let export = MatrixExport {
        experiment_id: "exp_1".into(),
        varied_field: Some("judge.scoring_rubric".into()),
        pareto: pareto_front(&rows),
        pairs: vec![],
        rows,
    };
    let csv = export.to_csv();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], MATRIX_COLUMNS.join(","));
    assert_eq!(lines.len(), 4, "header, two rows, and the last line's end");
    let first: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(first.len(), MATRIX_COLUMNS.len());
    assert_eq!(first[0], "'=1+1", "a formula is neutralized");
    assert_eq!(first[5..8], ["5", "10", "0.5"]);
    assert_eq!(first[14], "2");
    assert_eq!(first[16], "2.5");
    assert_eq!(first[21], "true");
    assert!(lines[2].starts_with("\"b, quoted \"\"x\"\"\",\"hb, quoted \"\"x\"\"\","));
    assert!(
        lines[2].ends_with(",0,0,"),
        "no cost, so not placed on the front"
    );

    let back: MatrixExport = serde_json::from_str(&export.to_json()).unwrap();
    assert_eq!(back, export);
}

#[test]
fn a_row_prices_correct_answers_per_dollar() {
    let a = arm(
        "x",
        vec![result("P1", "r", Some(true), RunStatus::Completed)],
    );
    let r = ConfigRow::of(&a);
    assert_eq!(r.correct_per_usd, Some(2.0), "1 correct for $0.50");
    assert_eq!(r.cost_usd, Some(0.5));
    assert_eq!(r.paid_calls, 3);
}

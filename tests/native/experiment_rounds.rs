//! Experiments in provider batch mode, natively: two configs that share the solver and the
//! verifier, driven through one round hub against the fake OpenAI Batch API; each distinct
//! request goes up once (the shared turns are paid once, by one config's run, and reused at
//! $0 by the other's), also across closing the tab mid-round.

use std::collections::HashSet;

use trialogue::app::experiment::vary;
use trialogue::core::batch::scheduler::BatchControl;
use trialogue::core::batch::{BatchEngine, BatchStatus, ItemStatus};
use trialogue::core::clock::{Clock, ManualClock};
use trialogue::core::driver::startup::mark_abandoned;
use trialogue::core::driver::MemoryLocks;
use trialogue::core::experiment::driver::create;
use trialogue::core::experiment::rounds::ExperimentRounds;
use trialogue::core::experiment::{Experiment, ExperimentPlan};
use trialogue::core::provider_batch::{MemoryJournal, ProviderBatchOptions, RoundStatus};
use trialogue::core::run_store::{MemoryRunStore, RunStore};
use trialogue::core::trajectory::RunStatus;

use crate::batch::{pipeline_config, problems, START_MS};
use crate::provider_batch::{pricer, registry, FakeOpenAi, YieldingClock, POLL_MS};
use crate::util::{block_on, Driver};

struct Bench {
    clock: ManualClock,
    yielding: YieldingClock,
    store: MemoryRunStore,
    journal: MemoryJournal,
    locks: MemoryLocks,
    fake: FakeOpenAi,
}

impl Bench {
    fn new() -> Bench {
        let clock = ManualClock::starting_at(START_MS);
        let journal = MemoryJournal::new();
        let store = MemoryRunStore::new();
        store.insert_dataset("ds_fixture", problems());
        Bench {
            fake: FakeOpenAi::new(clock.clone(), journal.clone()),
            yielding: YieldingClock(clock.clone()),
            clock,
            store,
            journal,
            locks: MemoryLocks::new(),
        }
    }

    fn rounds(
        &self,
    ) -> ExperimentRounds<
        '_,
        trialogue::core::llm::transport::ScriptedTransport,
        YieldingClock,
        MemoryRunStore,
        MemoryJournal,
        MemoryLocks,
    > {
        ExperimentRounds::new(
            registry(),
            &self.fake.transport,
            &self.yielding,
            &self.store,
            &self.journal,
            &self.locks,
            ProviderBatchOptions {
                batched_providers: vec!["openai".into()],
                ..ProviderBatchOptions::default()
            },
        )
        .with_pricer(std::rc::Rc::new(pricer()))
        .with_poll_interval(POLL_MS)
    }

    /// The experiment of two configs that differ only in the judge's rubric, in rounds.
    fn made(&self) -> Experiment {
        let plan = ExperimentPlan {
            name: "rubric".into(),
            dataset_id: "ds_fixture".into(),
            dataset_name: "fixture".into(),
            problem_ids: vec!["P1".into(), "P2".into(), "P3".into()],
            concurrency: 2,
            varied_field: Some("judge.scoring_rubric".into()),
            arms: vary(
                &pipeline_config(),
                "judge.scoring_rubric",
                "correctness\nbrevity\n",
            )
            .unwrap(),
            engine: BatchEngine::ProviderBatch,
        };
        block_on(create(&self.store, &plan, &[], &HashSet::new(), START_MS)).unwrap()
    }
}

/// Every run of both configs completed with steps 1, 2, 3 committed once each; returns the
/// steps of all runs: (run id, reused_from, cost) per step.
fn completed_once_each(
    bench: &Bench,
    experiment: &Experiment,
) -> Vec<(String, Option<String>, Option<f64>)> {
    let mut steps = Vec::new();
    for batch in &experiment.batches {
        assert_eq!(batch.status, BatchStatus::Completed, "{:?}", batch.message);
        assert_eq!(batch.spec.engine, BatchEngine::ProviderBatch);
        assert!(batch.items.iter().all(|i| i.status == ItemStatus::Done));
        for item in &batch.items {
            let run_id = item.run_id.clone().unwrap();
            let stored = block_on(bench.store.steps(&run_id)).unwrap();
            let ids: Vec<u64> = stored.iter().map(|s| s.step_id).collect();
            assert_eq!(ids, vec![1, 2, 3], "run {run_id}: each step committed once");
            assert_eq!(
                bench.store.record(&run_id).unwrap().status,
                RunStatus::Completed
            );
            for step in stored {
                steps.push((
                    run_id.clone(),
                    step.metadata.reused_from.clone(),
                    step.metadata.cost_usd.flatten(),
                ));
            }
        }
    }
    steps
}

/// What went up to the fake: (custom ids, distinct chat bodies).
fn uploads(bench: &Bench) -> (usize, usize) {
    let fake = bench.fake.state.borrow();
    let ids: HashSet<&String> = fake.uploaded.iter().collect();
    assert_eq!(ids.len(), fake.uploaded.len(), "no custom id sent twice");
    let bodies: HashSet<&String> = fake.uploaded_bodies.iter().collect();
    assert_eq!(fake.live_calls, 0, "no call went live");
    (fake.uploaded.len(), bodies.len())
}

/// Each step: 100 prompt tokens at $0.50/M and 50 output tokens at $1/M (batch rates).
const BATCH_STEP_USD: f64 = 1e-4;

#[test]
fn a_round_of_an_experiment_of_two_configs_sharing_the_solver_uploads_each_distinct_request_once() {
    let bench = Bench::new();
    let experiment = bench.made();
    assert!(experiment
        .batches
        .iter()
        .all(|b| b.spec.engine == BatchEngine::ProviderBatch));

    let ended = block_on(
        bench
            .rounds()
            .resume(&experiment, None, &BatchControl::new()),
    )
    .expect("ended");

    let steps = completed_once_each(&bench, &ended);
    // 2 configs × 3 problems × 3 steps asked; the solver's and the verifier's turns are the
    // same requests for both configs, the judges' differ by the rubric: 3 + 3 + 6 distinct.
    assert_eq!(steps.len(), 18);
    assert_eq!(uploads(&bench), (12, 12));
    // One round per turn, every item of both configs in it; shared turns once each.
    let rounds = block_on(trialogue::core::provider_batch::BatchJournal::rounds(
        &bench.journal,
        &experiment.experiment_id,
    ))
    .unwrap();
    let sizes: Vec<usize> = rounds.iter().map(|r| r.requests.len()).collect();
    assert_eq!(sizes, vec![3, 3, 6]);
    assert!(rounds.iter().all(|r| r.status == RoundStatus::Ended));
    // The 6 shared steps of the config that waited are reused from the other's runs, at $0;
    // the 12 paid ones at the batch rate.
    let reused: Vec<_> = steps.iter().filter(|(_, from, _)| from.is_some()).collect();
    assert_eq!(reused.len(), 6);
    assert!(reused
        .iter()
        .all(|(run, from, cost)| { from.as_ref() != Some(run) && *cost == Some(0.0) }));
    let paid: f64 = steps.iter().filter_map(|(_, _, c)| *c).sum();
    assert!((paid - 12.0 * BATCH_STEP_USD).abs() < 1e-12, "{paid}");
}

#[test]
fn an_experiment_in_rounds_reopened_mid_round_polls_it_and_pays_each_distinct_request_once() {
    let bench = Bench::new();
    let experiment = bench.made();
    {
        let rounds = bench.rounds();
        let control = BatchControl::new();
        let mut driver = Driver::new(rounds.resume(&experiment, None, &control));
        // The tab closes while round 2 (the verifiers, shared) is at the provider.
        loop {
            assert!(driver.poll_once().is_none(), "closed before the end");
            let submitted = bench
                .journal
                .writes()
                .iter()
                .any(|w| w.round == 2 && w.status == RoundStatus::Submitted);
            if submitted {
                break;
            }
        }
    }
    block_on(mark_abandoned(
        &bench.store,
        &bench.locks,
        bench.clock.now_ms(),
    ))
    .unwrap();
    let reopened = Experiment::group(
        experiment
            .batches
            .iter()
            .map(|b| bench.store.batch(&b.spec.batch_id).unwrap()),
    )
    .remove(0);
    assert!(reopened
        .batches
        .iter()
        .all(|b| b.status == BatchStatus::Interrupted));
    let uploaded_before = bench.fake.state.borrow().uploaded.len();
    assert_eq!(
        uploaded_before, 6,
        "rounds 1 and 2 went up before the close"
    );

    let ended =
        block_on(bench.rounds().resume(&reopened, None, &BatchControl::new())).expect("ended");

    let steps = completed_once_each(&bench, &ended);
    assert_eq!(steps.len(), 18);
    // Round 2 was polled, not submitted again; only the 6 judges went up after reopening.
    assert_eq!(uploads(&bench), (12, 12));
    let reused = steps.iter().filter(|(_, from, _)| from.is_some()).count();
    assert_eq!(reused, 6);
    let paid: f64 = steps.iter().filter_map(|(_, _, c)| *c).sum();
    assert!((paid - 12.0 * BATCH_STEP_USD).abs() < 1e-12, "{paid}");
}

#[test]
fn a_config_of_an_experiment_in_rounds_is_not_resumed_alone_as_a_batch() {
    use trialogue::core::driver::StartError;
    use trialogue::core::provider_batch::ProviderBatchEngine;
    let bench = Bench::new();
    let experiment = bench.made();
    let engine = ProviderBatchEngine::new(
        registry(),
        &bench.fake.transport,
        &bench.yielding,
        &bench.store,
        &bench.journal,
        &bench.locks,
        ProviderBatchOptions::default(),
    );
    let arm = experiment.batches[1].spec.batch_id.clone();
    let refused = block_on(engine.resume(&arm, BatchControl::new())).unwrap_err();
    assert!(
        matches!(&refused, StartError::ExperimentInRounds { batch_id, .. } if *batch_id == arm),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("Experiments page"),
        "{refused}"
    );
    // Nothing was sent, nothing was run.
    assert!(bench.fake.state.borrow().uploaded.is_empty());
    assert!(bench.store.records().is_empty());
}

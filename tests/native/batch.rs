//! The batch scheduler and runner, natively: a hand-written executor, a manual clock, items
//! that yield, and the real agent loop over a scripted LLM and an in-memory run store.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use serde_json::json;
use trialogue::core::batch::http1::{http1_bottlenecks, Http1Server, HTTP1_CONNECTIONS_PER_HOST};
use trialogue::core::batch::mirror::RecordMirror;
use trialogue::core::batch::runner::PipelineRunner;
use trialogue::core::batch::scheduler::{
    BatchControl, BatchEvent, ItemContext, ItemOutcome, Scheduler, SchedulerOptions,
};
use trialogue::core::batch::{
    BatchError, BatchModes, BatchRecord, BatchSpec, BatchStatus, ItemKey, ItemStatus, Progress,
};
use trialogue::core::cancel::CancelToken;
use trialogue::core::clock::{Clock, ManualClock};
use trialogue::core::config::{Mode, PipelineConfig};
use trialogue::core::dataset::Problem;
use trialogue::core::driver::NewRun;
use trialogue::core::llm::retry::{MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS};
use trialogue::core::llm::{ErrorKind, LlmError, Usage};
use trialogue::core::pipeline::{Pipeline, PipelineEvent, RunInput, SinkError, TrajectorySink};
use trialogue::core::providers::{ProviderKind, ProviderRegistry, ProviderSettings};
use trialogue::core::role::AgentRole;
use trialogue::core::run_store::{create_under_free_id, MemoryRunStore, RunSink, RunStore};
use trialogue::core::scripted::{
    judge_output, solver_output, verifier_output, ScriptedLlm, ScriptedTurn,
};
use trialogue::core::stats::{summarize, RunResult};
use trialogue::core::trajectory::{run_id, RunRecord, RunStatus, TrajectoryEntry};

use crate::util::{block_on, priced_at, Driver, LoggingStore, YieldNow};

// 2026-03-01T12:00:00Z
pub(crate) const START_MS: f64 = 1_772_366_400_000.0;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

fn ids(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("P{i}")).collect()
}

fn spec(n: usize, modes: BatchModes, concurrency: u32) -> BatchSpec {
    spec_with(n, modes, concurrency, PipelineConfig::default())
}

/// A batch of problems `P1`…`Pn` run with `config`.
pub(crate) fn spec_with(
    n: usize,
    modes: BatchModes,
    concurrency: u32,
    config: PipelineConfig,
) -> BatchSpec {
    BatchSpec::new(
        "test batch",
        "ds_000000000000",
        "fixture",
        ids(n),
        modes,
        concurrency,
        config,
        START_MS,
        |_| false,
    )
    .unwrap()
}

fn done(status: RunStatus) -> ItemOutcome {
    ItemOutcome {
        run_id: None,
        status,
        message: None,
        cost_usd: Some(0.01),
        cost_complete: true,
        possibly_billed_usd: 0.0,
        stop_reason: None,
    }
}

/// Wraps `inner` so that every event also moves a [`RecordMirror`] on and checks it against the
/// scheduler's record: the page reads the mirror instead of cloning the record per event, and
/// its progress from the mirror's running totals instead of counting the items, so neither
/// may drift, in any scenario.
fn mirrored<'a>(
    inner: impl Fn(&BatchEvent, &BatchRecord) + 'a,
) -> impl Fn(&BatchEvent, &BatchRecord) + 'a {
    let mirror = RefCell::new(RecordMirror::new());
    move |event, record| {
        mirror.borrow_mut().follow(event, record);
        assert_eq!(
            mirror.borrow().record(),
            Some(record),
            "the mirror drifted after {event:?}"
        );
        let (kept, counted) = (mirror.borrow().progress(3), Some(record.progress(3)));
        let spend = |p: Option<Progress>| p.map(|p| (p.spent_usd, p.possibly_billed_usd));
        let counts = |p: Option<Progress>| {
            p.map(|p| Progress {
                spent_usd: None,
                possibly_billed_usd: 0.0,
                ..p
            })
        };
        assert_eq!(
            counts(kept),
            counts(counted),
            "the progress drifted after {event:?}"
        );
        match (spend(kept), spend(counted)) {
            (Some((a, a_billed)), Some((b, b_billed))) => {
                let close = (a.unwrap_or(0.0) - b.unwrap_or(0.0)).abs() < 1e-9
                    && a.is_some() == b.is_some()
                    && (a_billed - b_billed).abs() < 1e-9;
                assert!(close, "the spend drifted after {event:?}: {a:?} vs {b:?}");
            }
            (kept, counted) => assert_eq!(kept, counted),
        }
        inner(event, record);
    }
}

pub(crate) fn count(record: &BatchRecord, status: ItemStatus) -> usize {
    record.items.iter().filter(|i| i.status == status).count()
}

// ---------------------------------------------------------------------------------------------
// Specs and records
// ---------------------------------------------------------------------------------------------

#[test]
fn specs_are_checked_and_items_come_in_order() {
    let s = spec(2, BatchModes::Both, 4);
    assert!(s.batch_id.starts_with("batch_20260301_120000_"));
    assert_eq!(s.config_hash.len(), 8);
    assert_eq!(
        s.items(),
        [
            ItemKey {
                problem_id: "P1".into(),
                mode: Mode::Debate
            },
            ItemKey {
                problem_id: "P1".into(),
                mode: Mode::Baseline
            },
            ItemKey {
                problem_id: "P2".into(),
                mode: Mode::Debate
            },
            ItemKey {
                problem_id: "P2".into(),
                mode: Mode::Baseline
            },
        ]
    );
    assert_eq!(s.config_for(Mode::Baseline).mode, Mode::Baseline);

    let make = |ids: Vec<String>, concurrency| {
        BatchSpec::new(
            "b",
            "d",
            "d",
            ids,
            BatchModes::Debate,
            concurrency,
            PipelineConfig::default(),
            START_MS,
            |_| false,
        )
    };
    assert_eq!(
        make(ids(1), 0).unwrap_err(),
        BatchError::Concurrency { value: 0 }
    );
    assert_eq!(
        make(ids(1), 257).unwrap_err().to_string(),
        "concurrency must be between 1 and 256, not 257; lower it (a local model usually wants 1 or 2)"
    );
    assert!(make(ids(1), 64).is_ok());
    assert!(make(ids(1), 256).is_ok());
    assert_eq!(make(vec![], 1).unwrap_err(), BatchError::NoProblems);
    assert_eq!(
        make(vec!["a".into(), "a".into()], 1).unwrap_err(),
        BatchError::DuplicateProblem { id: "a".into() }
    );
    let known = vec![problem("P1", "x", None)];
    assert_eq!(
        spec(2, BatchModes::Debate, 1)
            .check_problems(&known)
            .unwrap_err(),
        BatchError::UnknownProblem { id: "P2".into() }
    );
}

#[test]
fn a_record_round_trips_with_the_spec_keys_at_the_top() {
    let record = BatchRecord::new(spec(2, BatchModes::Debate, 2));
    let value = serde_json::to_value(&record).unwrap();
    // The browser store indexes these key paths.
    assert_eq!(value["batch_id"], json!(record.spec.batch_id));
    assert_eq!(value["dataset_id"], json!("ds_000000000000"));
    assert_eq!(value["created_ms"], json!(START_MS));
    assert_eq!(value["status"], json!("pending"));
    assert_eq!(value["items"][1]["status"], json!("pending"));
    let back: BatchRecord = serde_json::from_value(value).unwrap();
    assert_eq!(back, record);
}

#[test]
fn progress_counts_spend_and_eta() {
    let mut record = BatchRecord::new(spec(6, BatchModes::Debate, 2));
    let durations = [1000.0, 3000.0, 2000.0];
    for (item, ms) in record.items.iter_mut().zip(durations) {
        item.status = ItemStatus::Done;
        item.duration_ms = Some(ms);
        item.run_id = Some("r".into());
        item.cost_usd = Some(0.25);
    }
    record.items[3].status = ItemStatus::Failed;
    record.items[3].duration_ms = Some(9000.0);
    record.items[4].status = ItemStatus::Running;
    let p = record.progress(2);
    assert_eq!(
        (p.total, p.done, p.running, p.failed, p.remaining),
        (6, 3, 1, 1, 2)
    );
    assert_eq!(p.spent_usd, Some(0.75));
    assert!(p.spent_complete);
    // Median of 1000, 2000, 3000, 9000 is 2500; × 2 remaining ÷ 2 at a time.
    assert_eq!(p.eta_ms, Some(2500.0));
    assert_eq!(record.progress(1).eta_ms, Some(5000.0));
    let fresh = BatchRecord::new(spec(3, BatchModes::Debate, 2)).progress(2);
    assert_eq!((fresh.eta_ms, fresh.spent_usd), (None, None));
}

#[test]
fn progress_counts_each_item_once() {
    // 12 items: 10 done, 2 running, none waiting (the card once said "2 remaining" too).
    let mut record = BatchRecord::new(spec(12, BatchModes::Debate, 2));
    for item in &mut record.items[..10] {
        item.status = ItemStatus::Done;
    }
    for item in &mut record.items[10..] {
        item.status = ItemStatus::Running;
    }
    let p = record.progress(2);
    assert_eq!((p.done, p.failed, p.running, p.waiting), (10, 0, 2, 0));
    assert_eq!(p.remaining, 2);
    let text = p.counts_text();
    assert_eq!(text, "10 of 12 done · 0 failed · 2 running · 0 waiting");
    // The parts of the text after "of N" add up to N.
    let numbers: Vec<usize> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(numbers[0] + numbers[2..].iter().sum::<usize>(), numbers[1]);
}

// ---------------------------------------------------------------------------------------------
// The scheduler with test items
// ---------------------------------------------------------------------------------------------

#[test]
fn the_concurrency_limit_is_never_exceeded() {
    let clock = ManualClock::starting_at(START_MS);
    let in_flight = Rc::new(Cell::new(0usize));
    let most = Rc::new(Cell::new(0usize));
    let runner = |item: ItemContext| {
        let (in_flight, most) = (Rc::clone(&in_flight), Rc::clone(&most));
        async move {
            in_flight.set(in_flight.get() + 1);
            most.set(most.get().max(in_flight.get()));
            // Items take different numbers of polls, so they finish out of order.
            YieldNow(1 + (item.index as u32 * 7) % 5).await;
            in_flight.set(in_flight.get() - 1);
            done(RunStatus::Completed)
        }
    };
    let record = BatchRecord::new(spec(20, BatchModes::Debate, 3));
    let control = BatchControl::new();
    let check = mirrored(|_: &BatchEvent, _: &BatchRecord| {});
    let scheduler = Scheduler::new(&runner, &clock, control.clone()).with_listener(&check);
    let record = block_on(scheduler.run(record));
    assert_eq!(most.get(), 3, "three at a time, never more");
    assert_eq!(in_flight.get(), 0);
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 20);
    assert_eq!(control.effective_concurrency(), 3);
}

#[test]
fn an_item_storing_its_last_results_makes_room_for_the_next_one() {
    let clock = ManualClock::starting_at(START_MS);
    let calling = Rc::new(Cell::new(0usize));
    let most_calling = Rc::new(Cell::new(0usize));
    let alive = Rc::new(Cell::new(0usize));
    let most_alive = Rc::new(Cell::new(0usize));
    let finished = Rc::new(RefCell::new(Vec::<usize>::new()));
    let runner = |item: ItemContext| {
        let (calling, most_calling) = (Rc::clone(&calling), Rc::clone(&most_calling));
        let (alive, most_alive) = (Rc::clone(&alive), Rc::clone(&most_alive));
        let finished = Rc::clone(&finished);
        async move {
            alive.set(alive.get() + 1);
            most_alive.set(most_alive.get().max(alive.get()));
            calling.set(calling.get() + 1);
            most_calling.set(most_calling.get().max(calling.get()));
            YieldNow(2).await;
            calling.set(calling.get() - 1);
            item.reporter.calls_done();
            // Storing takes longer than calling: the next item's calls overlap it.
            YieldNow(6).await;
            alive.set(alive.get() - 1);
            finished.borrow_mut().push(item.index);
            done(RunStatus::Completed)
        }
    };
    let events = RefCell::new(Vec::<usize>::new());
    let listener = |event: &BatchEvent, _: &BatchRecord| {
        if let BatchEvent::ItemFinished { index } = event {
            events.borrow_mut().push(*index);
        }
    };
    let listener = mirrored(listener);
    let scheduler = Scheduler::new(&runner, &clock, BatchControl::new()).with_listener(&listener);
    let record = block_on(scheduler.run(BatchRecord::new(spec(12, BatchModes::Debate, 2))));
    assert_eq!(count(&record, ItemStatus::Done), 12);
    assert_eq!(most_calling.get(), 2, "never more than two items calling");
    assert!(
        most_alive.get() > 2,
        "items storing overlapped new ones: at most {} alive",
        most_alive.get()
    );
    // Each item is reported finished only once it has stored its results.
    assert_eq!(*events.borrow(), *finished.borrow());
    assert_eq!(alive.get(), 0);
}

/// A future that is ready after `left` wakes of its own, counting every poll it gets.
struct CountedYields {
    left: u32,
    polls: Rc<Cell<usize>>,
}

impl Future for CountedYields {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.polls.set(self.polls.get() + 1);
        if self.left == 0 {
            return std::task::Poll::Ready(());
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Pending, its waker kept, until `open` is set; counts every poll it gets.
struct Gate {
    open: Rc<Cell<bool>>,
    wakers: Rc<RefCell<Vec<std::task::Waker>>>,
    polls: Rc<Cell<usize>>,
}

impl Future for Gate {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.polls.set(self.polls.get() + 1);
        if self.open.get() {
            return std::task::Poll::Ready(());
        }
        self.wakers.borrow_mut().push(cx.waker().clone());
        std::task::Poll::Pending
    }
}

#[test]
fn a_wake_polls_only_the_item_it_is_for() {
    // Every piece of a streamed reply wakes the batch; were every item in flight polled on
    // each, the work per piece would grow with the concurrency. Item 0 wakes itself many
    // times while the others wait on a gate it opens at the end: each of them is polled once
    // to start and once when the gate opens.
    let clock = ManualClock::starting_at(START_MS);
    let open = Rc::new(Cell::new(false));
    let wakers: Rc<RefCell<Vec<std::task::Waker>>> = Rc::default();
    let gate_polls = Rc::new(Cell::new(0usize));
    let runner = |item: ItemContext| {
        let (open, wakers) = (Rc::clone(&open), Rc::clone(&wakers));
        let gate_polls = Rc::clone(&gate_polls);
        async move {
            if item.index == 0 {
                CountedYields {
                    left: 100,
                    polls: Rc::new(Cell::new(0)),
                }
                .await;
                open.set(true);
                for waker in wakers.borrow_mut().drain(..) {
                    waker.wake();
                }
            } else {
                Gate {
                    open,
                    wakers,
                    polls: gate_polls,
                }
                .await;
            }
            done(RunStatus::Completed)
        }
    };
    let items = 16;
    let scheduler = Scheduler::new(&runner, &clock, BatchControl::new());
    let record = block_on(scheduler.run(BatchRecord::new(spec(items, BatchModes::Debate, 16))));
    assert_eq!(count(&record, ItemStatus::Done), items);
    assert_eq!(gate_polls.get(), (items - 1) * 2);
}

#[test]
fn a_failed_item_is_recorded_and_the_others_go_on() {
    let clock = ManualClock::starting_at(START_MS);
    let runner = |item: ItemContext| async move {
        YieldNow(2).await;
        match item.index % 4 {
            1 => ItemOutcome::failed(format!("{} broke", item.key.problem_id)),
            2 => ItemOutcome {
                run_id: Some(format!("run_{}", item.index)),
                ..done(RunStatus::Failed)
            },
            _ => done(RunStatus::Completed),
        }
    };
    let record = BatchRecord::new(spec(8, BatchModes::Debate, 3));
    let check = mirrored(|_: &BatchEvent, _: &BatchRecord| {});
    let record = block_on(
        Scheduler::new(&runner, &clock, BatchControl::new())
            .with_listener(&check)
            .run(record),
    );
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 4);
    assert_eq!(count(&record, ItemStatus::Failed), 4);
    assert_eq!(record.items[1].message.as_deref(), Some("P2 broke"));
    assert_eq!(record.items[2].run_id.as_deref(), Some("run_2"));
    assert_eq!(record.items[2].run_status, Some(RunStatus::Failed));
    assert_eq!(record.progress(3).failed, 4);

    // Retrying makes only the failed ones pending again.
    let mut record = record;
    assert_eq!(record.retry_failed(), 4);
    assert_eq!(count(&record, ItemStatus::Pending), 4);
    assert_eq!(count(&record, ItemStatus::Done), 4);
}

#[test]
fn a_429_halves_concurrency_once_per_generation_waits_and_recovers() {
    let clock = ManualClock::starting_at(START_MS);
    let starts = RefCell::new(Vec::<(usize, f64)>::new());
    let runner = |item: ItemContext| {
        let starts = &starts;
        let clock = &clock;
        async move {
            starts.borrow_mut().push((item.index, clock.now_ms()));
            YieldNow(2).await;
            // Three of the first eight hit the rate limit together.
            if item.index < 3 {
                item.reporter.rate_limited(Some(5_000));
            }
            YieldNow(1 + item.index as u32 % 3).await;
            done(RunStatus::Completed)
        }
    };
    let events = RefCell::new(Vec::<BatchEvent>::new());
    let listener = |event: &BatchEvent, _: &BatchRecord| events.borrow_mut().push(event.clone());
    let control = BatchControl::new();
    let listener = mirrored(listener);
    let scheduler = Scheduler::new(&runner, &clock, control.clone())
        .with_listener(&listener)
        .with_options(SchedulerOptions { recover_after: 2 });
    let record = block_on(scheduler.run(BatchRecord::new(spec(24, BatchModes::Debate, 8))));
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 24);

    let concurrency: Vec<u32> = events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            BatchEvent::Concurrency { effective } => Some(*effective),
            _ => None,
        })
        .collect();
    // One halving (8 → 4) for three simultaneous 429s, then +1 per two clean items up to 8.
    assert_eq!(concurrency, [4, 5, 6, 7, 8]);
    assert_eq!(control.effective_concurrency(), 8);
    assert!(events.borrow().contains(&BatchEvent::Waiting {
        until_ms: START_MS + 5_000.0
    }));
    // The wait went through the clock, and nothing started during it.
    assert!(clock.sleeps().contains(&5_000), "{:?}", clock.sleeps());
    let starts = starts.borrow();
    let first_eight: Vec<usize> = starts.iter().take(8).map(|(i, _)| *i).collect();
    assert_eq!(first_eight, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert!(starts[..8].iter().all(|(_, t)| *t == START_MS));
    assert!(
        starts[8..].iter().all(|(_, t)| *t >= START_MS + 5_000.0),
        "{starts:?}"
    );
}

#[test]
fn a_batch_waits_for_a_retry_after_as_the_client_does_capped_and_floored() {
    // A day-long Retry-After from one item and a `0` from another: the batch holds new items
    // back no longer than a call's own retry would wait, and not less than the floor.
    for (asked, expected) in [(86_400_000, MAX_RETRY_AFTER_MS), (0, MIN_RETRY_AFTER_MS)] {
        let clock = ManualClock::starting_at(START_MS);
        let runner = |item: ItemContext| async move {
            YieldNow(1).await;
            if item.index == 0 {
                item.reporter.rate_limited(Some(asked));
            }
            done(RunStatus::Completed)
        };
        let events = RefCell::new(Vec::<BatchEvent>::new());
        let listener =
            mirrored(|event: &BatchEvent, _: &BatchRecord| events.borrow_mut().push(event.clone()));
        let scheduler =
            Scheduler::new(&runner, &clock, BatchControl::new()).with_listener(&listener);
        let record = block_on(scheduler.run(BatchRecord::new(spec(4, BatchModes::Debate, 1))));
        assert_eq!(count(&record, ItemStatus::Done), 4);
        let waits: Vec<f64> = events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                BatchEvent::Waiting { until_ms } => Some(until_ms - START_MS),
                _ => None,
            })
            .collect();
        assert_eq!(waits, [expected as f64], "asked {asked} ms");
        assert_eq!(
            clock.sleeps().iter().sum::<u64>(),
            expected,
            "asked {asked} ms"
        );
    }
}

#[test]
fn a_429_from_an_item_started_after_the_halving_halves_again() {
    let clock = ManualClock::starting_at(START_MS);
    let in_flight = Rc::new(Cell::new(0usize));
    let most_after = Rc::new(Cell::new(0usize));
    let runner = |item: ItemContext| {
        let (in_flight, most_after) = (Rc::clone(&in_flight), Rc::clone(&most_after));
        async move {
            in_flight.set(in_flight.get() + 1);
            if item.index >= 8 {
                most_after.set(most_after.get().max(in_flight.get()));
            }
            YieldNow(2).await;
            // Item 0 (first generation) and item 8 (started after the halving) hit 429s.
            if item.index == 0 || item.index == 8 {
                item.reporter.rate_limited(None);
            }
            YieldNow(3).await;
            in_flight.set(in_flight.get() - 1);
            done(RunStatus::Completed)
        }
    };
    let control = BatchControl::new();
    let check = mirrored(|_: &BatchEvent, _: &BatchRecord| {});
    let scheduler = Scheduler::new(&runner, &clock, control.clone())
        .with_listener(&check)
        .with_options(SchedulerOptions { recover_after: 100 });
    let record = block_on(scheduler.run(BatchRecord::new(spec(12, BatchModes::Debate, 8))));
    assert_eq!(count(&record, ItemStatus::Done), 12);
    assert_eq!(control.effective_concurrency(), 2, "8 → 4 → 2");
    assert!(most_after.get() <= 4);
    // No retry-after: no waiting.
    assert!(clock.sleeps().is_empty());
    assert_eq!(control.waiting_until_ms(), None);
}

/// An item that yields `polls` times, checking the cancel token, and reports its run at once.
fn cancellable_runner<'a>(
    log: &'a RefCell<Vec<(usize, Option<String>)>>,
    polls: u32,
) -> impl Fn(ItemContext) -> Pin<Box<dyn Future<Output = ItemOutcome> + 'a>> + 'a {
    move |item: ItemContext| {
        Box::pin(async move {
            log.borrow_mut()
                .push((item.index, item.resume_run_id.clone()));
            let run_id = item
                .resume_run_id
                .clone()
                .unwrap_or_else(|| format!("run_{}", item.index));
            item.reporter.run_started(&run_id);
            for _ in 0..polls {
                if item.cancel.is_cancelled() {
                    return ItemOutcome {
                        run_id: Some(run_id),
                        ..done(RunStatus::Cancelled)
                    };
                }
                YieldNow(1).await;
            }
            ItemOutcome {
                run_id: Some(run_id),
                ..done(RunStatus::Completed)
            }
        })
    }
}

#[test]
fn pause_lets_in_flight_items_finish_and_starts_nothing_until_resumed() {
    let clock = ManualClock::starting_at(START_MS);
    let log = RefCell::new(Vec::new());
    let runner = cancellable_runner(&log, 3);
    let statuses = RefCell::new(Vec::<BatchStatus>::new());
    let listener = |event: &BatchEvent, _: &BatchRecord| {
        if let BatchEvent::Status(s) = event {
            statuses.borrow_mut().push(*s);
        }
    };
    let control = BatchControl::new();
    let listener = mirrored(listener);
    let scheduler = Scheduler::new(&runner, &clock, control.clone()).with_listener(&listener);
    let mut driver = Driver::new(scheduler.run(BatchRecord::new(spec(6, BatchModes::Debate, 2))));
    assert!(driver.poll_once().is_none());
    assert_eq!(log.borrow().len(), 2, "two started");

    control.pause();
    assert!(control.is_paused());
    assert!(driver.run_until_stalled().is_none(), "paused, it waits");
    assert_eq!(log.borrow().len(), 2, "nothing new started while paused");
    assert_eq!(
        *statuses.borrow(),
        [BatchStatus::Running, BatchStatus::Paused]
    );

    control.resume();
    let record = driver.run_until_stalled().expect("finishes after resume");
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 6);
    let started: Vec<usize> = log.borrow().iter().map(|(i, _)| *i).collect();
    assert_eq!(started, [0, 1, 2, 3, 4, 5]);
    assert_eq!(
        *statuses.borrow(),
        [
            BatchStatus::Running,
            BatchStatus::Paused,
            BatchStatus::Running,
            BatchStatus::Completed
        ]
    );
}

#[test]
fn cancel_stops_in_flight_items_and_a_later_run_resumes_them() {
    let clock = ManualClock::starting_at(START_MS);
    let log = RefCell::new(Vec::new());
    let runner = cancellable_runner(&log, 4);
    let control = BatchControl::new();
    let check = mirrored(|_: &BatchEvent, _: &BatchRecord| {});
    let scheduler = Scheduler::new(&runner, &clock, control.clone()).with_listener(&check);
    let mut driver = Driver::new(scheduler.run(BatchRecord::new(spec(5, BatchModes::Debate, 2))));
    assert!(driver.poll_once().is_none());
    assert!(driver.poll_once().is_none());
    control.cancel();
    let record = driver
        .run_until_stalled()
        .expect("a cancelled batch returns");
    assert_eq!(record.status, BatchStatus::Cancelled);
    assert!(record.message.as_deref().unwrap().starts_with("cancelled"));
    assert_eq!(log.borrow().len(), 2, "nothing started after the cancel");
    // The two in flight are pending again, with their runs noted for resuming.
    assert_eq!(count(&record, ItemStatus::Pending), 5);
    assert_eq!(record.items[0].run_id.as_deref(), Some("run_0"));
    assert_eq!(record.items[0].run_status, Some(RunStatus::Cancelled));
    assert_eq!(record.items[2].run_id, None);

    // Resuming the batch: the stopped items continue their runs; the rest start fresh.
    log.borrow_mut().clear();
    let check = mirrored(|_: &BatchEvent, _: &BatchRecord| {});
    let record = block_on(
        Scheduler::new(&runner, &clock, BatchControl::new())
            .with_listener(&check)
            .run(record),
    );
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 5);
    assert_eq!(
        *log.borrow(),
        [
            (0, Some("run_0".to_string())),
            (1, Some("run_1".to_string())),
            (2, None),
            (3, None),
            (4, None)
        ]
    );
}

#[test]
fn a_budget_stop_pauses_the_batch_until_resumed() {
    let clock = ManualClock::starting_at(START_MS);
    let budget_left = Cell::new(true);
    let calls = Cell::new(0);
    let runner = |item: ItemContext| {
        let (budget_left, calls) = (&budget_left, &calls);
        async move {
            calls.set(calls.get() + 1);
            YieldNow(1).await;
            if item.index == 1 && budget_left.replace(false) {
                return ItemOutcome {
                    run_id: Some("run_1".into()),
                    message: Some("the batch budget of $1.00 is spent".into()),
                    ..done(RunStatus::BudgetExceeded)
                };
            }
            done(RunStatus::Completed)
        }
    };
    let control = BatchControl::new();
    let check = mirrored(|_: &BatchEvent, _: &BatchRecord| {});
    let scheduler = Scheduler::new(&runner, &clock, control.clone()).with_listener(&check);
    let mut driver = Driver::new(scheduler.run(BatchRecord::new(spec(4, BatchModes::Debate, 1))));
    assert!(driver.run_until_stalled().is_none(), "paused by the budget");
    assert!(control.is_paused());
    assert_eq!(calls.get(), 2);
    control.resume();
    let record = driver.run_until_stalled().unwrap();
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 4);
    assert_eq!(calls.get(), 5, "item 1 ran again, then items 2 and 3");
}

#[test]
fn a_budget_raised_while_paused_is_stored_with_the_batch_as_it_goes_on() {
    let clock = ManualClock::starting_at(START_MS);
    let budget_left = Cell::new(true);
    let runner = |item: ItemContext| {
        let budget_left = &budget_left;
        async move {
            YieldNow(1).await;
            if item.index == 1 && budget_left.replace(false) {
                return ItemOutcome {
                    message: Some("the batch budget of $1.00 is spent".into()),
                    ..done(RunStatus::BudgetExceeded)
                };
            }
            done(RunStatus::Completed)
        }
    };
    let saved: RefCell<Vec<(BatchStatus, Option<f64>)>> = RefCell::default();
    let listener = |_: &BatchEvent, record: &BatchRecord| {
        saved
            .borrow_mut()
            .push((record.status, record.raised_budget_usd));
    };
    let mut spec = spec(3, BatchModes::Debate, 1);
    spec.config.batch_budget_usd = Some(1.0);
    let control = BatchControl::new();
    let listener = mirrored(listener);
    let scheduler = Scheduler::new(&runner, &clock, control.clone()).with_listener(&listener);
    let mut driver = Driver::new(scheduler.run(BatchRecord::new(spec)));
    assert!(driver.run_until_stalled().is_none(), "paused by the budget");
    assert!(saved.borrow().iter().all(|(_, raised)| raised.is_none()));

    control.resume_with_budget(2.5);
    let record = driver.run_until_stalled().unwrap();
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 3);
    assert_eq!(record.raised_budget_usd, Some(2.5));
    assert_eq!(record.budget_usd(), Some(2.5));
    // The config keeps the budget it was made with; the record says what it runs under.
    assert_eq!(record.spec.config.batch_budget_usd, Some(1.0));
    // The status change back to running carried it, so a save had it from then on.
    let saved = saved.borrow();
    let running_again = saved
        .iter()
        .rposition(|(status, _)| *status == BatchStatus::Paused)
        .map(|paused| &saved[paused + 1])
        .unwrap();
    assert_eq!(*running_again, (BatchStatus::Running, Some(2.5)));
    // A stored record reads back with it; one from before the field reads as not raised.
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["raised_budget_usd"], json!(2.5));
    let back: BatchRecord = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back.budget_usd(), Some(2.5));
    let mut older = json;
    older.as_object_mut().unwrap().remove("raised_budget_usd");
    let older: BatchRecord = serde_json::from_value(older).unwrap();
    assert_eq!(
        (older.raised_budget_usd, older.budget_usd()),
        (None, Some(1.0))
    );
}

// ---------------------------------------------------------------------------------------------
// The real loop: resume after an interruption, rate limits from the LLM
// ---------------------------------------------------------------------------------------------

pub(crate) fn pipeline_config() -> PipelineConfig {
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
        "max_iterations": 3,
        "config_version": "1.0"
    }))
    .expect("test config")
}

pub(crate) fn problem(id: &str, text: &str, truth: Option<&str>) -> Problem {
    Problem {
        id: id.into(),
        problem: text.into(),
        ground_truth: truth.map(str::to_string),
        domain: None,
        metadata: Default::default(),
    }
}

pub(crate) fn problems() -> Vec<Problem> {
    vec![
        problem("P1", "What is 2+2?", Some("4")),
        problem("P2", "What is 3*3?", Some("9")),
        problem("P3", "What is 10-7?", Some("3")),
    ]
}

/// A run of "What is 2+2?" (answer 4) under `config`, on its own.
pub(crate) fn new_run(config: &PipelineConfig) -> NewRun<'_> {
    NewRun {
        config,
        problem: "What is 2+2?",
        ground_truth: Some("4"),
        batch_id: None,
    }
}

/// Answers every call correctly for the problem in its prompt.
pub(crate) fn answering_llm() -> ScriptedLlm {
    ScriptedLlm::with_responder(|call| {
        let answer = if call.user_prompt.contains("2+2") {
            "4"
        } else if call.user_prompt.contains("3*3") {
            "9"
        } else {
            "3"
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

#[test]
fn after_an_interruption_only_unfinished_items_run_and_a_half_run_resumes_from_its_steps() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let problems = problems();
    let spec = spec_with(3, BatchModes::Debate, 2, pipeline_config());
    let config = spec.config_for(Mode::Debate);

    // Before the reload: P1 finished.
    let p1_llm = answering_llm();
    let mut p1 = RunRecord::start(
        "run_p1",
        &config,
        spec.config_hash.clone(),
        "What is 2+2?",
        Some("4".into()),
        START_MS,
    );
    p1.batch_id = Some(spec.batch_id.clone());
    store.insert(p1.clone(), vec![]);
    let input = |run_id: &str, p: &Problem| RunInput {
        run_id: run_id.into(),
        problem: p.problem.clone(),
        ground_truth: p.ground_truth.clone(),
    };
    let p1_sink = RunSink::new(&store);
    p1_sink.hold(p1.clone());
    let outcome = block_on(
        Pipeline::new(&config, &p1_llm, &clock, &p1_sink).run(&input("run_p1", &problems[0])),
    );
    outcome.summary.apply_to(&mut p1, clock.now_ms());
    store.insert(p1, vec![]);

    // P2 was half-way (solver, then a failed verdict) when the page went away.
    let p2_llm = ScriptedLlm::builder()
        .solve("so \\boxed{6}")
        .verify(false, "recheck the product")
        .build();
    let cancel = CancelToken::new();
    let stop = cancel.clone();
    let listener = move |event: &PipelineEvent| {
        if matches!(event, PipelineEvent::StepFinished { entry, .. } if entry.step_id == 2) {
            stop.cancel();
        }
    };
    let mut p2 = RunRecord::start(
        "run_p2",
        &config,
        spec.config_hash.clone(),
        "What is 3*3?",
        Some("9".into()),
        START_MS,
    );
    p2.batch_id = Some(spec.batch_id.clone());
    store.insert(p2.clone(), vec![]);
    let p2_sink = RunSink::new(&store);
    p2_sink.hold(p2.clone());
    block_on(
        Pipeline::new(&config, &p2_llm, &clock, &p2_sink)
            .with_listener(&listener)
            .with_cancel(cancel)
            .run(&input("run_p2", &problems[1])),
    );
    let before = store.steps_of("run_p2");
    assert_eq!(before.len(), 2);
    // As the app does on load for runs it finds running.
    p2.status = RunStatus::Interrupted;
    store.insert(p2, vec![]);

    // The batch record was last saved before either run was noted.
    let mut record = BatchRecord::new(spec.clone());
    record.status = BatchStatus::Running;
    record.items[1].status = ItemStatus::Running;
    record.mark_interrupted(clock.now_ms());
    assert_eq!(record.status, BatchStatus::Interrupted);
    // A run of another batch with the same problem is ignored.
    let mut stranger = RunRecord::start(
        "run_other",
        &config,
        "ffffffff",
        "What is 10-7?",
        None,
        START_MS,
    );
    stranger.batch_id = Some("batch_other".into());
    stranger.status = RunStatus::Completed;
    store.insert(stranger, vec![]);
    record.reconcile(&problems, &store.records());
    let states: Vec<(ItemStatus, Option<&str>)> = record
        .items
        .iter()
        .map(|i| (i.status, i.run_id.as_deref()))
        .collect();
    assert_eq!(
        states,
        [
            (ItemStatus::Done, Some("run_p1")),
            (ItemStatus::Pending, Some("run_p2")),
            (ItemStatus::Pending, None)
        ]
    );

    let llm = answering_llm();
    let runner = PipelineRunner::new(&spec, &problems, &llm, &clock, &store);
    let check = mirrored(|_: &BatchEvent, _: &BatchRecord| {});
    let record = block_on(
        Scheduler::new(&runner, &clock, BatchControl::new())
            .with_listener(&check)
            .run(record),
    );
    assert_eq!(record.status, BatchStatus::Completed);
    assert_eq!(count(&record, ItemStatus::Done), 3);

    // P1 was not run again.
    assert!(llm.calls().iter().all(|c| !c.user_prompt.contains("2+2")));
    // P2 went on at round 2, told the critique, under its old run id.
    let p2_solver: Vec<String> = llm
        .calls_for(AgentRole::Solver)
        .into_iter()
        .map(|c| c.user_prompt)
        .filter(|p| p.contains("3*3"))
        .collect();
    assert_eq!(
        p2_solver,
        ["Solve: What is 3*3?\nFeedback: recheck the product"]
    );
    let after = store.steps_of("run_p2");
    assert_eq!(&after[..2], &before[..]);
    let agents: Vec<(u64, &str, Option<u32>)> = after
        .iter()
        .map(|e| (e.step_id, e.agent.as_str(), e.iteration()))
        .collect();
    assert_eq!(
        agents,
        [
            (1, "solver", Some(1)),
            (2, "verifier", Some(1)),
            (3, "solver", Some(2)),
            (4, "verifier", Some(2)),
            (5, "judge", None)
        ]
    );
    let p2 = store.record("run_p2").unwrap();
    assert_eq!(p2.status, RunStatus::Completed);
    assert_eq!(p2.correct, Some(true));
    assert_eq!(record.items[1].run_id.as_deref(), Some("run_p2"));

    // P3 got a fresh run tagged with the batch.
    let p3_id = record.items[2].run_id.clone().unwrap();
    let p3 = store.record(&p3_id).unwrap();
    assert_eq!(p3.batch_id.as_deref(), Some(spec.batch_id.as_str()));
    assert_eq!(p3.status, RunStatus::Completed);
    assert!(p3_id.starts_with("run_20260301_120000_"));

    // The statistics over the batch's runs.
    let results: Vec<RunResult> = record
        .items
        .iter()
        .map(|item| {
            let run_id = item.run_id.as_deref().unwrap();
            RunResult::new(
                &item.problem_id,
                &store.record(run_id).unwrap(),
                &store.steps_of(run_id),
            )
        })
        .collect();
    let stats = summarize(&results);
    let debate = stats.debate.unwrap();
    assert_eq!(debate.accuracy.unwrap().successes, 3);
    assert_eq!(stats.dynamics.wrong_to_right, 1, "P2: 6 then 9");
    assert_eq!(stats.dynamics.pass_rate_by_iteration[0].passed, 2);
}

#[test]
fn concurrent_fresh_runs_in_one_second_get_distinct_ids() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let spec = spec_with(3, BatchModes::Both, 6, pipeline_config());
    let llm = answering_llm();
    let steps = RefCell::new(Vec::<(ItemKey, u64)>::new());
    let listener = |_: usize, key: &ItemKey, event: &PipelineEvent| {
        if let PipelineEvent::StepFinished { entry, .. } = event {
            steps.borrow_mut().push((key.clone(), entry.step_id));
        }
    };
    let runner =
        PipelineRunner::new(&spec, &problems(), &llm, &clock, &store).with_listener(&listener);
    let record = block_on(
        Scheduler::new(&runner, &clock, BatchControl::new()).run(BatchRecord::new(spec.clone())),
    );
    assert_eq!(count(&record, ItemStatus::Done), 6);
    // Debate items made solver, verifier (pass), judge; baseline items solver, judge.
    let steps = steps.borrow();
    assert_eq!(steps.len(), 3 * 3 + 3 * 2);
    let p2_baseline: Vec<u64> = steps
        .iter()
        .filter(|(k, _)| k.problem_id == "P2" && k.mode == Mode::Baseline)
        .map(|(_, step)| *step)
        .collect();
    assert_eq!(p2_baseline, [1, 2]);
    let mut run_ids: Vec<String> = record
        .items
        .iter()
        .filter_map(|i| i.run_id.clone())
        .collect();
    run_ids.sort();
    run_ids.dedup();
    assert_eq!(run_ids.len(), 6);
    let baseline = store
        .records()
        .into_iter()
        .filter(|r| r.mode == Mode::Baseline)
        .count();
    assert_eq!(baseline, 3);
    // Baseline runs carry the baseline config's hash, debate runs the batch's.
    let debate_hash = spec.config_for(Mode::Debate).config_hash();
    assert_eq!(debate_hash, spec.config_hash);
    assert!(store
        .records()
        .iter()
        .all(|r| r.run_id.contains(&r.config_hash)));
}

#[test]
fn a_fresh_item_costs_one_create_and_a_stored_run_keeps_its_id() {
    let clock = ManualClock::starting_at(START_MS);
    let store = LoggingStore::default();
    let spec = spec_with(2, BatchModes::Debate, 2, pipeline_config());
    let config = spec.config_for(Mode::Debate);
    // A run from an earlier session holds the id both items would start with.
    let base = run_id(START_MS, &spec.config_hash, |_| false);
    let earlier = RunRecord::start(
        &base,
        &config,
        spec.config_hash.clone(),
        "an earlier problem",
        None,
        START_MS - 500.0,
    );
    store.inner.insert(earlier.clone(), Vec::new());

    let llm = answering_llm();
    let runner = PipelineRunner::new(&spec, &problems(), &llm, &clock, &store);
    let record = block_on(
        Scheduler::new(&runner, &clock, BatchControl::new()).run(BatchRecord::new(spec.clone())),
    );
    assert_eq!(count(&record, ItemStatus::Done), 2);
    let got: Vec<String> = record
        .items
        .iter()
        .filter_map(|i| i.run_id.clone())
        .collect();
    assert_eq!(got, [format!("{base}_2"), format!("{base}_3")]);
    // The taken id was tried once, by the first item, and refused; the second item skipped
    // it and the first item's id without asking. A fresh item reads nothing.
    assert_eq!(
        store.calls("create_run_if_free"),
        [base.clone(), format!("{base}_2"), format!("{base}_3")]
    );
    assert!(store.calls("get_run").is_empty());
    assert!(store.calls("steps").is_empty());
    // Per item: the create and three steps; the last step wrote the final summary, so there
    // is no write of its own.
    assert_eq!(store.calls("append").len(), 2 * 3);
    assert!(store.calls("put_run").is_empty());
    for run_id in &got {
        let stored = store.inner.record(run_id).unwrap();
        assert_eq!(stored.status, RunStatus::Completed);
        assert_eq!(stored.step_count, 3);
    }
    assert_eq!(store.inner.record(&base), Some(earlier));
}

#[test]
fn the_next_item_starts_while_the_judge_step_of_the_last_one_is_committed() {
    let clock = ManualClock::starting_at(START_MS);
    let store = LoggingStore::with_slow_last_commit();
    // One item at a time: the second can only start once the first has made its last call.
    let spec = spec_with(2, BatchModes::Debate, 1, pipeline_config());
    let llm = answering_llm();
    let runner = PipelineRunner::new(&spec, &problems(), &llm, &clock, &store);
    let record = block_on(
        Scheduler::new(&runner, &clock, BatchControl::new()).run(BatchRecord::new(spec.clone())),
    );
    assert_eq!(count(&record, ItemStatus::Done), 2);
    let runs: Vec<String> = record
        .items
        .iter()
        .filter_map(|i| i.run_id.clone())
        .collect();
    let log = store.log.borrow();
    let last = |line: String| {
        log.iter()
            .rposition(|l| *l == line)
            .unwrap_or_else(|| panic!("{line} is not in {log:?}"))
    };
    // The first run's last commit is its judge step's.
    let judge_commit = last(format!("append {}", runs[0]));
    let judge_committed = last(format!("appended {}", runs[0]));
    let second_created = last(format!("create_run_if_free {}", runs[1]));
    assert!(
        judge_commit < second_created && second_created < judge_committed,
        "the second run is created while the first one's judge step is committed: {log:?}"
    );
    // Both runs are whole.
    for run_id in &runs {
        assert_eq!(store.inner.record(run_id).unwrap().step_count, 3);
    }
}

#[test]
fn a_rate_limited_llm_call_lowers_the_batch_concurrency() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let spec = spec_with(3, BatchModes::Baseline, 4, pipeline_config());
    let llm = answering_llm();
    // The first solver call is refused with a 429 asking to wait 2 s.
    llm.fail(
        AgentRole::Solver,
        LlmError::from_http(
            "openai",
            429,
            ErrorKind::RateLimited,
            "Rate limit reached",
            Some(2_000),
        ),
        Usage::default(),
    );
    let runner = PipelineRunner::new(&spec, &problems(), &llm, &clock, &store);
    let events = RefCell::new(Vec::new());
    let listener = |event: &BatchEvent, _: &BatchRecord| events.borrow_mut().push(event.clone());
    let control = BatchControl::new();
    let record = block_on(
        Scheduler::new(&runner, &clock, control.clone())
            .with_listener(&listener)
            .with_options(SchedulerOptions { recover_after: 10 })
            .run(BatchRecord::new(spec.clone())),
    );
    assert_eq!(control.effective_concurrency(), 2);
    assert!(events
        .borrow()
        .contains(&BatchEvent::Concurrency { effective: 2 }));
    // A 429 that outlasted the retries is the provider's failure, not the model's answer: the
    // item's run stopped with nothing written for it, and the item failed with the reason
    // while the other two are done.
    assert_eq!(count(&record, ItemStatus::Done), 2);
    assert_eq!(count(&record, ItemStatus::Failed), 1);
    let failed = &record.items[0];
    assert_eq!(failed.status, ItemStatus::Failed);
    let message = failed.message.as_deref().unwrap();
    assert!(
        message.contains("OpenAI rate-limited the call (429)"),
        "{message}"
    );
    assert!(store.steps_of(failed.run_id.as_deref().unwrap()).is_empty());
}

#[test]
fn an_item_stopped_by_a_provider_outage_runs_again_when_failed_items_are_retried() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let spec = spec_with(2, BatchModes::Baseline, 1, pipeline_config());
    let llm = answering_llm();
    llm.fail(
        AgentRole::Solver,
        LlmError::from_http("openai", 503, ErrorKind::Server, "upstream down", None),
        Usage::default(),
    );
    let runner = PipelineRunner::new(&spec, &problems(), &llm, &clock, &store);
    let mut record = block_on(
        Scheduler::new(&runner, &clock, BatchControl::new()).run(BatchRecord::new(spec.clone())),
    );
    assert_eq!(count(&record, ItemStatus::Failed), 1);
    // Listed as a provider error, apart from the model's answers (issue 14, item 8).
    assert!(record.items[0].failed_by_provider());
    assert!(!record.items[1].failed_by_provider());
    assert_eq!(record.progress(1).provider_errors, 1);
    let run_id = record.items[0].run_id.clone().unwrap();
    assert_eq!(store.record(&run_id).unwrap().status, RunStatus::Failed);
    // A record read back (a reopened page) counts it the same way.
    let mut reread = BatchRecord::new(spec.clone());
    reread.reconcile(&problems()[..2], &[store.record(&run_id).unwrap()]);
    assert_eq!(reread.progress(1).provider_errors, 1);
    assert_eq!(record.retry_failed(), 1);
    let record = block_on(Scheduler::new(&runner, &clock, BatchControl::new()).run(record));
    assert_eq!(count(&record, ItemStatus::Done), 2);
    // The same run went on: its one solver and one judge step, no error step between.
    assert_eq!(record.items[0].run_id.as_deref(), Some(run_id.as_str()));
    let steps = store.steps_of(&run_id);
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|s| !s.is_error()));
    assert_eq!(record.progress(1).provider_errors, 0);
}

// ---------------------------------------------------------------------------------------------
// Servers the browser reaches over HTTP/1.1
// ---------------------------------------------------------------------------------------------

fn registry_with_custom(id: &str, base_url: &str) -> ProviderRegistry {
    let mut registry = ProviderRegistry::builtin();
    registry.upsert(ProviderSettings {
        id: id.into(),
        label: id.into(),
        kind: ProviderKind::OpenAiCompatible,
        base_url: base_url.into(),
        api_key: String::new(),
        structured_mode: None,
        builtin: false,
        streaming: None,
        batch_endpoints: None,
    });
    registry
}

#[test]
fn plain_http_providers_are_named_once_when_concurrency_is_above_six() {
    let mut config = pipeline_config();
    config.solver.model = "local/smollm2-135m".into();
    config.verifier.model = "my-vllm/qwen".into();
    config.judge.model = "local/smollm2-135m".into();
    let registry = registry_with_custom("my-vllm", "HTTP://10.0.0.5:8000/v1");

    let found = http1_bottlenecks(&config, &registry, 7);
    assert_eq!(
        found,
        [
            Http1Server {
                provider: "local".into(),
                base_url: "http://127.0.0.1:8091/v1".into()
            },
            Http1Server {
                provider: "my-vllm".into(),
                base_url: "HTTP://10.0.0.5:8000/v1".into()
            },
        ]
    );
    // Six at a time fit in the browser's six connections per server.
    assert_eq!(HTTP1_CONNECTIONS_PER_HOST, 6);
    assert!(http1_bottlenecks(&config, &registry, 6).is_empty());
}

#[test]
fn https_providers_and_unknown_models_need_no_hint() {
    // Every agent on openai (https): HTTP/2, no per-server cap worth a word.
    let config = pipeline_config();
    assert!(http1_bottlenecks(&config, &ProviderRegistry::builtin(), 64).is_empty());
    // The same provider id pointed at a plain-http server (a mock, a proxy) counts.
    let mut registry = ProviderRegistry::builtin();
    let mut openai = registry.get("openai").unwrap().clone();
    openai.base_url = "http://127.0.0.1:8099/openai/v1".into();
    registry.upsert(openai);
    assert_eq!(http1_bottlenecks(&config, &registry, 16).len(), 1);
    // A model naming no provider is the config check's business, not this hint's.
    let mut unknown = pipeline_config();
    for model in [&mut unknown.solver.model, &mut unknown.verifier.model] {
        *model = "nowhere/x".into();
    }
    unknown.judge.model = "nowhere/x".into();
    assert!(http1_bottlenecks(&unknown, &registry, 16).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Run budgets inside a batch
// ---------------------------------------------------------------------------------------------

#[test]
fn a_run_that_reaches_its_own_budget_fails_its_item_and_the_batch_goes_on() {
    let clock = ManualClock::starting_at(START_MS);
    let store = MemoryRunStore::new();
    let mut config = pipeline_config();
    // Far below any call's worst case at $1 per million tokens: no call fits.
    config.run_budget_usd = Some(0.000_001);
    let spec = spec_with(3, BatchModes::Debate, 2, config);
    let pricer = priced_at("openai/gpt-4o-mini", 1.0, 1.0);
    let llm = answering_llm();
    let runner = PipelineRunner::new(&spec, &problems(), &llm, &clock, &store)
        .with_pricer(Rc::clone(&pricer));
    let control = BatchControl::new();
    let record = block_on(
        Scheduler::new(&runner, &clock, control.clone()).run(BatchRecord::new(spec.clone())),
    );
    assert!(llm.calls().is_empty(), "no call fits the run budget");
    // Every item failed on its own budget; the batch was not paused, it ran to the end.
    assert!(!control.is_paused());
    assert_eq!(count(&record, ItemStatus::Failed), 3);
    for item in &record.items {
        let message = item.message.as_deref().unwrap_or_default();
        assert!(message.contains("run budget"), "{message}");
        // The item shows how it ended, not the start a late signal would report.
        assert_eq!(item.run_status, Some(RunStatus::Failed), "{item:?}");
        // The run itself keeps the status a single run would have.
        let run_id = item.run_id.as_deref().unwrap();
        let run = block_on(store.get_run(run_id)).unwrap().unwrap();
        assert_eq!(run.status, RunStatus::BudgetExceeded, "{item:?}");
    }

    // Without run budgets asked for, the same batch completes.
    let store = MemoryRunStore::new();
    let llm = answering_llm();
    let runner = PipelineRunner::new(&spec, &problems(), &llm, &clock, &store);
    let record = block_on(
        Scheduler::new(&runner, &clock, BatchControl::new()).run(BatchRecord::new(spec.clone())),
    );
    assert_eq!(count(&record, ItemStatus::Done), 3);
}

fn step_entry(run_id: &str, step_id: u64, tokens: u64) -> TrajectoryEntry {
    serde_json::from_value(json!({
        "timestamp": "t", "run_id": run_id, "step_id": step_id, "agent": "solver",
        "action": "generate", "input": {"problem": "p"}, "output": {"solution": "4"},
        "metadata": {"iteration": 1, "usage": {"input_tokens": tokens, "output_tokens": 1, "total_tokens": tokens + 1}}
    }))
    .unwrap()
}

#[test]
fn a_run_sink_commits_each_step_with_the_record_it_holds_and_keeps_it_on_a_refusal() {
    let store = MemoryRunStore::new();
    let sink = RunSink::new(&store);
    // No record held: the step is refused, not stored against a run it cannot count it in.
    let refused = block_on(sink.append(&step_entry("run_s", 1, 10))).unwrap_err();
    assert!(
        refused.to_string().contains("no stored run record"),
        "{refused}"
    );
    assert!(store.steps_of("run_s").is_empty());

    let record = RunRecord::start("run_s", &pipeline_config(), "hash", "p", None, START_MS);
    assert!(store.create_run_if_free(&record));
    sink.hold(record);
    block_on(sink.append(&step_entry("run_s", 1, 10))).unwrap();
    block_on(sink.append(&step_entry("run_s", 2, 20))).unwrap();
    let held = sink.record().unwrap();
    assert_eq!(held.step_count, 2);
    assert_eq!(held.usage.input_tokens, 30);
    assert_eq!(store.record("run_s"), Some(held.clone()));

    // A step id stored already is refused, and the sink keeps the record as stored.
    let duplicate = block_on(sink.append(&step_entry("run_s", 2, 99))).unwrap_err();
    assert!(
        duplicate.to_string().contains("already stored"),
        "{duplicate}"
    );
    assert_eq!(sink.record(), Some(held));
    assert_eq!(store.steps_of("run_s").len(), 2);
}

#[test]
fn runs_made_in_one_second_take_the_next_free_ids_and_a_taken_id_is_tried_once() {
    let store = MemoryRunStore::new();
    let fresh = RunRecord::start(
        "",
        &PipelineConfig::default(),
        "ab12cd34",
        "p",
        None,
        START_MS,
    );
    // Another tab holds the plain id.
    let plain = run_id(START_MS, "ab12cd34", |_| false);
    let mut elsewhere = fresh.clone();
    elsewhere.run_id = plain.clone();
    store.insert(elsewhere, vec![]);

    let tried = RefCell::new(HashSet::new());
    let tries = Cell::new(0);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut record = fresh.clone();
        block_on(create_under_free_id(
            &mut record,
            &tried,
            async |r: &RunRecord| {
                tries.set(tries.get() + 1);
                Ok::<_, SinkError>(store.create_run_if_free(r))
            },
        ))
        .unwrap();
        ids.push(record.run_id);
    }
    assert_eq!(ids, [format!("{plain}_2"), format!("{plain}_3")]);
    assert_eq!(
        tries.get(),
        3,
        "the plain id is refused once, not again for the second run"
    );
    assert_eq!(store.records().len(), 3);
}

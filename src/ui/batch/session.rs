//! The batch going in this tab: core's scheduler and pipeline runner wired to the browser
//! (fetch, the clock, IndexedDB, prices, the batch budget), feeding the page's signals.
//!
//! One batch goes at a time in a tab. The session is app-wide (a context value provided by
//! [`super::startup::provide_batch_state`]) so a batch keeps going, and keeps being shown, while
//! the user looks at other pages.
//!
//! The page is told at once of a status change, and otherwise at most every 100 ms (other pages
//! that list runs at most every second): see [`super::throttle`].
//!
//! Durability: the batch record is stored before the first item starts, at once on every
//! status change, and otherwise at most every 500 ms while items progress (coalesced: only
//! the newest record waits). Each run is stored by the runner as it goes, step by step. A closed tab
//! leaves the batch `running`, which the next load turns into `interrupted`; resuming it
//! reconciles the record with the stored runs, so the items that finished count even if the
//! last save of the record did not make it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::core::batch::mirror::RecordMirror;
use crate::core::batch::runner::PipelineRunner;
use crate::core::batch::scheduler::{BatchControl, BatchEvent, Scheduler};
use crate::core::batch::{
    batch_id, BatchError, BatchModes, BatchRecord, BatchSpec, BatchStatus, ItemKey,
};
use crate::core::budget::{BudgetGate, NotARaise};
use crate::core::clock::Clock;
use crate::core::config::PipelineConfig;
use crate::core::dataset::Problem;
use crate::core::llm::client::LlmClient;
use crate::core::pipeline::PipelineEvent;
use crate::core::providers::ProviderRegistry;
use crate::ui::costs::prices::load_pricer;
use crate::ui::run::session::{client_options, RunSession, Startup};
use crate::ui::run::store::run_store;
use crate::web::clock::BrowserClock;
use crate::web::http::BrowserTransport;
use crate::web::idb::{StoreError, TrajectoryStore};
use crate::web::locks::{batch_lock_name, claim, Claim};

use super::budget::{batch_gate, raised_budget};
use super::throttle::{delay_left, Throttle};

/// Why a batch could not be started or resumed. Nothing was called and nothing changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchStartError {
    /// Another batch is going in this tab.
    #[error(
        "batch {batch_id} is still going in this tab; wait for it to finish or cancel it first"
    )]
    Busy {
        /// The batch in progress.
        batch_id: String,
    },
    /// Another open tab of the app is driving the batch.
    #[error("batch {batch_id} is going in another tab of this app; pause or cancel it there (it can be resumed here once that tab has stopped it or is closed)")]
    OtherTab {
        /// The batch asked for.
        batch_id: String,
    },
    /// The app is still checking the store for runs and batches a closed tab left behind.
    #[error("the run store is still being opened; try again in a moment")]
    NotReady,
    /// The Configure page's config has problems.
    #[error("the configuration has {count} problem{}; fix {} on the Configure page first", if *count == 1 { "" } else { "s" }, if *count == 1 { "it" } else { "them" })]
    InvalidConfig {
        /// How many problems.
        count: usize,
    },
    /// The spec does not hold (concurrency, no problems, duplicates).
    #[error("{0}")]
    Batch(#[from] BatchError),
    /// The batch budget in the config is not a usable amount.
    #[error("the batch budget cannot be used: {0}")]
    Budget(String),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The batch is not stored (deleted in another tab?).
    #[error("batch {batch_id} is not stored (it may have been deleted in another tab)")]
    NotFound {
        /// The batch asked for.
        batch_id: String,
    },
    /// The dataset the batch runs was deleted.
    #[error("the dataset {dataset_name} ({dataset_id}) of batch {batch_id} is no longer stored; import the same file again (same problems, same id) to resume the batch")]
    NoDataset {
        /// The batch.
        batch_id: String,
        /// The dataset's id.
        dataset_id: String,
        /// The dataset's name.
        dataset_name: String,
    },
    /// The stored batch is marked running, and not by this tab.
    #[error("batch {batch_id} is running in another tab of this browser; continue it there, or close that tab and reload this one")]
    RunningElsewhere {
        /// The batch.
        batch_id: String,
    },
}

/// Where the startup check for batches a closed tab left running stands.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchStartup {
    /// Still opening the store.
    Pending,
    /// Done; these batches were found running and are now `interrupted`.
    Done(Vec<String>),
    /// The store could not be opened or updated.
    Failed(String),
}

/// A batch to start.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    /// A name for people.
    pub name: String,
    /// The dataset's id.
    pub dataset_id: String,
    /// The dataset's name.
    pub dataset_name: String,
    /// The selected problems, in run order.
    pub problems: Vec<Problem>,
    /// Debate, baseline or both.
    pub modes: BatchModes,
    /// Items at once.
    pub concurrency: u32,
    /// The config, as checked on the Configure page.
    pub config: PipelineConfig,
    /// Providers and keys from Settings.
    pub registry: ProviderRegistry,
}

/// The batch of this tab (a context value: `expect_context::<BatchSession>()`).
#[derive(Debug, Clone, Copy)]
pub struct BatchSession {
    /// The batch being shown: the one going, or the one last opened.
    pub record: RwSignal<Option<BatchRecord>>,
    /// Whether a batch is going in this tab.
    pub busy: RwSignal<bool>,
    /// Items the scheduler lets run at once now (lower than asked after rate limits).
    pub effective: RwSignal<u32>,
    /// Until when (epoch ms) no new item starts because a provider asked to wait.
    pub waiting_until: RwSignal<Option<f64>>,
    /// What the runs in flight have spent so far, by item index (their items' costs are only
    /// known once they finish).
    pub live_cost: RwSignal<BTreeMap<usize, f64>>,
    /// A problem to show (the batch could not start, or its record could not be saved).
    pub error: RwSignal<Option<String>>,
    /// The startup check.
    pub startup: RwSignal<BatchStartup>,
    /// Bumped whenever stored batches change, so lists reload.
    pub batches_changed: RwSignal<u64>,
    /// Bumped whenever stored datasets change.
    pub datasets_changed: RwSignal<u64>,
    /// The dataset picked on the page, kept while the user visits other pages.
    pub picked_dataset: RwSignal<Option<String>>,
    /// The batch budget in force for the batch going, USD.
    pub budget_usd: RwSignal<Option<f64>>,
    runs: RunSession,
    control: StoredValue<Option<BatchControl>, LocalStorage>,
    /// The batch budget's gate while the batch goes, to raise it when paused.
    gate: StoredValue<Option<Rc<BudgetGate>>, LocalStorage>,
}

impl BatchSession {
    /// An empty session; `runs` is the run session, told when batch runs change.
    pub fn new(runs: RunSession) -> Self {
        BatchSession {
            record: RwSignal::new(None),
            busy: RwSignal::new(false),
            effective: RwSignal::new(0),
            waiting_until: RwSignal::new(None),
            live_cost: RwSignal::new(BTreeMap::new()),
            error: RwSignal::new(None),
            startup: RwSignal::new(BatchStartup::Pending),
            batches_changed: RwSignal::new(0),
            datasets_changed: RwSignal::new(0),
            picked_dataset: RwSignal::new(None),
            budget_usd: RwSignal::new(None),
            runs,
            control: StoredValue::new_local(None),
            gate: StoredValue::new_local(None),
        }
    }

    /// Whether both startup checks (runs and batches) are done, so batches may start.
    pub fn ready(&self) -> bool {
        self.startup.with(|s| *s != BatchStartup::Pending)
            && self.runs.startup.with(|s| *s != Startup::Pending)
    }

    /// The id of the batch being shown.
    pub fn batch_id(&self) -> Option<String> {
        self.record
            .with(|r| r.as_ref().map(|r| r.spec.batch_id.clone()))
    }

    /// Tells lists of stored batches to reload.
    pub fn touch_batches(&self) {
        self.batches_changed.update(|n| *n += 1);
    }

    /// Shows a stored batch (not while one is going).
    pub fn show(&self, record: BatchRecord) {
        if !self.busy.get_untracked() {
            self.error.set(None);
            self.record.set(Some(record));
        }
    }

    fn check_free(&self) -> Result<(), BatchStartError> {
        if self.busy.get_untracked() {
            return Err(BatchStartError::Busy {
                batch_id: self.record.with_untracked(|r| {
                    r.as_ref()
                        .map(|r| r.spec.batch_id.clone())
                        .unwrap_or_default()
                }),
            });
        }
        let pending = self.startup.with_untracked(|s| *s == BatchStartup::Pending)
            || self.runs.startup.with_untracked(|s| *s == Startup::Pending);
        if pending {
            return Err(BatchStartError::NotReady);
        }
        Ok(())
    }

    /// Starts a new batch; returns at once (the batch goes on in the background), or says why
    /// it cannot start.
    pub fn start(&self, request: BatchRequest) -> Result<(), BatchStartError> {
        self.check_free()?;
        let custom = request.registry.custom_ids();
        let problems = request.config.validate_with(&custom);
        if !problems.is_empty() {
            return Err(BatchStartError::InvalidConfig {
                count: problems.len(),
            });
        }
        let created = BrowserClock::new().now_ms();
        let ids: Vec<String> = request.problems.iter().map(|p| p.id.clone()).collect();
        // Checked now so a mistake is reported at once; the id is chosen again below, once
        // the stored ids are known.
        let mut spec = BatchSpec::new(
            request.name,
            request.dataset_id,
            request.dataset_name,
            ids,
            request.modes,
            request.concurrency,
            request.config,
            created,
            |_| false,
        )?;
        self.begin();
        let session = *self;
        spawn_local(async move {
            let prepared = async {
                let store = run_store().await?;
                let taken = store.batch_ids().await?;
                spec.batch_id = batch_id(created, &spec.config_hash, |id| taken.contains(id));
                // Held while this task drives the batch, so another tab's start-up leaves it
                // running. A fresh id's lock is free; without Web Locks the batch goes unlocked.
                let lock = claim(&batch_lock_name(&spec.batch_id)).await;
                let record = BatchRecord::new(spec);
                store.put_batch(&record).await?;
                Ok::<_, StoreError>((store, record, lock))
            }
            .await;
            match prepared {
                Ok((store, record, _lock)) => {
                    session.touch_batches();
                    let budget = record.spec.config.batch_budget_usd;
                    drive(
                        session,
                        store,
                        record,
                        request.problems,
                        request.registry,
                        budget,
                    )
                    .await;
                }
                Err(e) => {
                    session.fail_to_start(BatchStartError::Store(e).to_string());
                }
            }
        });
        Ok(())
    }

    /// Continues stored batch `batch_id`: its items are reconciled with its stored runs, and
    /// the unfinished ones run (a stopped run goes on from its last committed step). With
    /// `retry_failed`, failed items run again too. `current_budget_usd` is the Configure
    /// page's batch budget, used when it is larger than the batch's own (see
    /// [`raised_budget`]).
    pub fn resume(
        &self,
        batch_id: String,
        registry: ProviderRegistry,
        retry_failed: bool,
        current_budget_usd: Option<f64>,
    ) -> Result<(), BatchStartError> {
        self.check_free()?;
        self.begin();
        let session = *self;
        spawn_local(async move {
            let _lock = match claim(&batch_lock_name(&batch_id)).await {
                Claim::Taken => {
                    session.fail_to_start(BatchStartError::OtherTab { batch_id }.to_string());
                    return;
                }
                held => held,
            };
            match prepare_resume(&batch_id, retry_failed).await {
                Ok((store, record, problems)) => {
                    if record.items.iter().all(|i| i.is_finished()) {
                        let mut record = record;
                        record.status = BatchStatus::Completed;
                        record.message = None;
                        record.updated_ms = BrowserClock::new().now_ms();
                        let saved = store.put_batch(&record).await;
                        session.record.set(Some(record));
                        session.end();
                        if let Err(e) = saved {
                            session.error.set(Some(e.to_string()));
                        }
                        return;
                    }
                    session.record.set(Some(record.clone()));
                    let budget = raised_budget(record.budget_usd(), current_budget_usd);
                    drive(session, store, record, problems, registry, budget).await;
                }
                Err(e) => {
                    session.fail_to_start(e.to_string());
                }
            }
        });
        Ok(())
    }

    /// Starts no new items; those in flight finish.
    pub fn pause(&self) {
        self.control.with_value(|c| {
            if let Some(c) = c {
                c.pause();
            }
        });
    }

    /// Starts items again after a pause. `budget_usd`, when given and above the batch budget
    /// in force, raises it first (a batch its budget paused goes on only with more); the
    /// batch's record keeps the raise. A smaller amount is refused, and the batch stays paused.
    pub fn unpause(&self, budget_usd: Option<f64>) -> Result<(), NotARaise> {
        let raise =
            budget_usd.filter(|b| self.budget_usd.get_untracked().is_some_and(|now| *b != now));
        if let Some(budget) = raise {
            self.gate.with_value(|g| match g {
                Some(gate) => gate.raise_limit(budget),
                None => Ok(()),
            })?;
            self.budget_usd.set(Some(budget));
        }
        self.control.with_value(|c| {
            if let Some(c) = c {
                match raise {
                    Some(budget) => c.resume_with_budget(budget),
                    None => c.resume(),
                }
            }
        });
        Ok(())
    }

    /// Whether the batch going is paused.
    pub fn is_paused(&self) -> bool {
        self.record
            .with(|r| r.as_ref().is_some_and(|r| r.status == BatchStatus::Paused))
    }

    /// Cancels the batch going: the requests in flight are aborted, and the batch ends
    /// `cancelled` with everything committed kept; it can be resumed.
    pub fn cancel(&self) {
        self.control.with_value(|c| {
            if let Some(c) = c {
                c.cancel();
            }
        });
    }

    fn begin(&self) {
        self.busy.set(true);
        self.error.set(None);
        self.live_cost.set(BTreeMap::new());
        self.waiting_until.set(None);
    }

    fn end(&self) {
        self.control.set_value(None);
        self.gate.set_value(None);
        self.live_cost.set(BTreeMap::new());
        self.waiting_until.set(None);
        self.busy.set(false);
        self.touch_batches();
        self.runs.touch_runs();
    }

    fn fail_to_start(&self, message: String) {
        self.end();
        self.error.set(Some(message));
    }
}

/// Reads what resuming `batch_id` needs: the store, the record brought up to date with its
/// runs, and the dataset's problems.
async fn prepare_resume(
    batch_id: &str,
    retry_failed: bool,
) -> Result<(TrajectoryStore, BatchRecord, Vec<Problem>), BatchStartError> {
    let store = run_store().await?;
    let mut record = store
        .get_batch(batch_id)
        .await?
        .ok_or_else(|| BatchStartError::NotFound {
            batch_id: batch_id.to_string(),
        })?;
    if matches!(record.status, BatchStatus::Running | BatchStatus::Paused) {
        return Err(BatchStartError::RunningElsewhere {
            batch_id: batch_id.to_string(),
        });
    }
    let dataset = store
        .get_dataset(&record.spec.dataset_id)
        .await?
        .ok_or_else(|| BatchStartError::NoDataset {
            batch_id: batch_id.to_string(),
            dataset_id: record.spec.dataset_id.clone(),
            dataset_name: record.spec.dataset_name.clone(),
        })?;
    record.spec.check_problems(&dataset.problems)?;
    let runs = store.batch_runs(batch_id).await?;
    record.reconcile(&dataset.problems, &runs);
    if retry_failed {
        record.retry_failed();
    }
    Ok((store, record, dataset.problems))
}

/// The least time between two saves of a running batch's record, ms. A record of a large
/// batch is tens of kilobytes; written after every item it would keep the main thread busy.
const SAVE_INTERVAL_MS: f64 = 500.0;

/// How often a save held back by [`SAVE_INTERVAL_MS`] looks for an urgent record, ms.
const SAVE_POLL_MS: f64 = 20.0;

/// The least time between two updates of the batch card from a running batch, ms: a few a
/// second is as often as anyone reads progress (see [`super::throttle`]).
const SHOW_INTERVAL_MS: f64 = 100.0;

/// The least time between two "runs changed" notices from a running batch, ms. A page listing
/// runs (Runs, Costs) reads every stored run again on each, which takes a good part of a
/// second at 10,000 runs.
const RUNS_NOTICE_INTERVAL_MS: f64 = 1_000.0;

/// Saves batch records in the order they come, writing only the newest of those that queue up,
/// at most once per [`SAVE_INTERVAL_MS`] unless a record is urgent (a status change).
///
/// Losing the last ~500 ms of item updates to a closed tab loses nothing committed: each run is
/// stored by the runner step by step with its batch id, and resuming reconciles the record with
/// them.
#[derive(Clone)]
struct Saver {
    store: TrajectoryStore,
    session: BatchSession,
    /// The running batch's record, read when a write is due (not copied per event).
    mirror: Rc<RefCell<RecordMirror>>,
    state: Rc<RefCell<SaverState>>,
}

#[derive(Default)]
struct SaverState {
    /// A record to write as it is (the batch's last), ahead of the mirror.
    latest: Option<Rc<BatchRecord>>,
    /// The mirror changed since the last write.
    changed: bool,
    urgent: bool,
    writing: bool,
    last_write_ms: Option<f64>,
}

impl Saver {
    fn new(
        store: TrajectoryStore,
        session: BatchSession,
        mirror: Rc<RefCell<RecordMirror>>,
    ) -> Self {
        Saver {
            store,
            session,
            mirror,
            state: Rc::default(),
        }
    }

    /// Notes that the mirror changed: it is written as it is then, once the interval is out
    /// (at once when `urgent`).
    fn changed(&self, urgent: bool) {
        self.mark(|state| state.changed = true, urgent);
    }

    /// Hands over the batch's last record, written at once and as it is.
    fn save_last(&self, record: Rc<BatchRecord>) {
        self.mark(
            |state| {
                state.latest = Some(record);
                state.changed = false;
            },
            true,
        );
    }

    fn mark(&self, change: impl FnOnce(&mut SaverState), urgent: bool) {
        let start = {
            let mut state = self.state.borrow_mut();
            change(&mut state);
            state.urgent |= urgent;
            !std::mem::replace(&mut state.writing, true)
        };
        if start {
            let saver = self.clone();
            spawn_local(async move { saver.drain().await });
        }
    }

    async fn drain(self) {
        let clock = BrowserClock::new();
        loop {
            let delay = {
                let state = self.state.borrow();
                delay_left(
                    state.last_write_ms,
                    clock.now_ms(),
                    SAVE_INTERVAL_MS,
                    state.urgent,
                )
            };
            if delay > 0.0 {
                clock.sleep(delay.min(SAVE_POLL_MS).ceil() as u64).await;
                continue;
            }
            let next = {
                let mut state = self.state.borrow_mut();
                state.urgent = false;
                let from_mirror = std::mem::take(&mut state.changed)
                    .then(|| self.mirror.borrow().record().cloned().map(Rc::new))
                    .flatten();
                match state.latest.take().or(from_mirror) {
                    Some(record) => record,
                    None => {
                        state.writing = false;
                        return;
                    }
                }
            };
            if let Err(e) = self.store.put_batch(&next).await {
                self.session.error.set(Some(format!(
                    "the batch's progress could not be saved ({e}); its runs are saved step by step, and resuming the batch after a reload picks them up"
                )));
            }
            self.state.borrow_mut().last_write_ms = Some(clock.now_ms());
        }
    }

    /// Waits until every record handed over is written.
    async fn flushed(&self, clock: &BrowserClock) {
        while self.state.borrow().writing {
            clock.sleep(10).await;
        }
    }
}

/// Runs `record`'s pending items to the end (or a cancel), showing and saving it as it goes,
/// under a batch budget of `budget_usd`.
async fn drive(
    session: BatchSession,
    store: TrajectoryStore,
    record: BatchRecord,
    problems: Vec<Problem>,
    registry: ProviderRegistry,
    budget_usd: Option<f64>,
) {
    let control = BatchControl::new();
    session.control.set_value(Some(control.clone()));
    session.effective.set(record.spec.concurrency);
    session.record.set(Some(record.clone()));

    let spec = record.spec.clone();
    let clock = BrowserClock::new();
    let llm = LlmClient::with_options(
        registry,
        BrowserTransport::new(),
        BrowserClock::new(),
        client_options(&spec.config),
    );
    let pricer = Rc::new(load_pricer().await);
    let spent = record.progress(spec.concurrency).spent_usd.unwrap_or(0.0);
    // Only the gate sees a raised budget: the runs keep the config (and hash) the batch was
    // made with.
    let mut gate_config = spec.config.clone();
    gate_config.batch_budget_usd = budget_usd;
    session.budget_usd.set(budget_usd);
    let gate = match batch_gate(Rc::clone(&pricer), &gate_config, spent) {
        Ok(gate) => Rc::new(gate),
        Err(e) => {
            session.fail_to_start(BatchStartError::Budget(e.to_string()).to_string());
            return;
        }
    };
    let index_of: HashMap<(String, &'static str), usize> = spec
        .items()
        .into_iter()
        .enumerate()
        .map(|(i, key)| ((key.problem_id, key.mode.as_str()), i))
        .collect();
    // What the runs in flight have spent; shown through `show` with the record it belongs to,
    // so the spend never counts an item twice or not at all.
    let live_cost: Rc<RefCell<BTreeMap<usize, f64>>> = Rc::default();
    // The scheduler's record as of its last event, copied from it item by item; the page and
    // the store each take a copy only when they show or write it.
    let mirror: Rc<RefCell<RecordMirror>> = Rc::default();
    let show = {
        let live_cost = Rc::clone(&live_cost);
        let mirror = Rc::clone(&mirror);
        Throttle::new(SHOW_INTERVAL_MS, clock, move |update: ShowUpdate| {
            if update.live_cost {
                session.live_cost.set(live_cost.borrow().clone());
            }
            let record = match update.record {
                Some(record) => Some(Rc::try_unwrap(record).unwrap_or_else(|rc| (*rc).clone())),
                None if update.changed => mirror.borrow().record().cloned(),
                None => None,
            };
            if let Some(record) = record {
                session.record.set(Some(record));
            }
        })
    };
    let runs_notice = Throttle::new(RUNS_NOTICE_INTERVAL_MS, clock, move |()| {
        session.runs.touch_runs()
    });
    let on_step = |key: &ItemKey, event: &PipelineEvent| {
        if let PipelineEvent::StepFinished {
            cost_usd: Some(cost),
            ..
        } = event
        {
            if let Some(index) = index_of.get(&(key.problem_id.clone(), key.mode.as_str())) {
                *live_cost.borrow_mut().entry(*index).or_default() += cost;
                show.update(|u| u.live_cost = true, false);
            }
        }
    };
    let runner = PipelineRunner::new(&spec, &problems, &llm, &clock, &store)
        .with_pricer(pricer.as_ref())
        .with_gate(gate.as_ref())
        .with_run_budgets(Rc::clone(&pricer))
        .with_listener(&on_step);
    let saver = Saver::new(store.clone(), session, Rc::clone(&mirror));
    let on_event = |event: &BatchEvent, record: &BatchRecord| {
        match event {
            BatchEvent::Concurrency { effective } => session.effective.set(*effective),
            BatchEvent::Waiting { until_ms } => session.waiting_until.set(Some(*until_ms)),
            BatchEvent::RunStarted { .. } => runs_notice.update(|()| {}, false),
            BatchEvent::ItemFinished { index } => {
                live_cost.borrow_mut().remove(index);
                runs_notice.update(|()| {}, false);
            }
            BatchEvent::Status(_) | BatchEvent::ItemStarted { .. } => {}
        }
        mirror.borrow_mut().follow(event, record);
        let urgent = matches!(event, BatchEvent::Status(_));
        show.update(
            |u| {
                u.changed = true;
                u.live_cost = true;
            },
            urgent,
        );
        saver.changed(urgent);
    };
    session.gate.set_value(Some(Rc::clone(&gate)));
    let scheduler = Scheduler::new(&runner, &clock, control).with_listener(&on_event);
    let finished = Rc::new(scheduler.run(record).await);
    // Whatever waits is shown now, before the end clears the live figures; the timers left
    // find nothing to deliver.
    show.update(|u| u.record = Some(Rc::clone(&finished)), true);
    saver.save_last(finished);
    saver.flushed(&clock).await;
    session.end();
}

/// What waits to be shown of a running batch.
#[derive(Default)]
struct ShowUpdate {
    /// The batch's last record, shown as it is.
    record: Option<Rc<BatchRecord>>,
    /// The mirror changed: show it as it is when the update is delivered.
    changed: bool,
    /// Whether the live spend of the items in flight changed.
    live_cost: bool,
}

//! The batch going in this tab: core's batch driver ([`BatchDriver`]) wired to the browser
//! (fetch, the clock, IndexedDB, prices, tab locks), its events turned into the page's signals.
//!
//! One batch goes at a time in a tab. The session is app-wide (a context value provided by
//! [`super::startup::provide_batch_state`]) so a batch keeps going, and keeps being shown, while
//! the user looks at other pages.
//!
//! The page is told at once of a status change, and otherwise at most every
//! [`SHOW_INTERVAL_MS`] (pages that list runs at most every [`RUNS_NOTICE_INTERVAL_MS`]): see
//! [`super::throttle`]. What it is told that often is the batch's [`Progress`], a few counts
//! kept as items change; the record, with every item, is copied to the page only when its
//! status changes and with the runs notices, so a 10,000-item batch is not copied and compared
//! ten times a second. How the batch and its runs are stored as it goes, and reconciled when
//! it is resumed, is the driver's (see [`crate::core::driver::batch`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use leptos::prelude::*;

use crate::core::batch::scheduler::{BatchControl, BatchEvent};
use crate::core::batch::{BatchEngine, BatchModes, BatchRecord, BatchSpec, BatchStatus, Progress};
use crate::core::budget::{BudgetGate, NotARaise};
use crate::core::clock::Clock;
use crate::core::config::PipelineConfig;
use crate::core::dataset::Problem;
use crate::core::driver::{BatchDriver, BatchProgress, StartError, Work};
use crate::core::pipeline::PipelineEvent;
use crate::core::provider_batch::{ProviderBatchEngine, ProviderBatchOptions, RoundView};
use crate::core::providers::ProviderRegistry;
use crate::core::replies::{resume, ReusePolicy};
use crate::ui::run::session::{unkept_replies, BrowserInputs, RunSession, Startup};
use crate::ui::store::SharedStore;
use crate::ui::task::Tasks;
use crate::web::clock::BrowserClock;
use crate::web::http::BrowserTransport;
use crate::web::locks::WebLocks;

use super::throttle::Throttle;

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
    /// When its runs may answer a request from the reply store instead of paying for it.
    pub reuse_policy: ReusePolicy,
    /// Live, or through the providers' batch APIs.
    pub engine: BatchEngine,
    /// In provider batch mode, send what a provider batch did not answer live at once.
    pub stragglers_live: bool,
}

/// The batch of this tab (a context value: `expect_context::<BatchSession>()`).
#[derive(Clone, Copy)]
pub struct BatchSession {
    /// The batch being shown: the one going, or the one last opened. While one goes it is
    /// brought up to date when its status changes and at most every
    /// [`RUNS_NOTICE_INTERVAL_MS`]; its counts move in [`progress`](Self::progress).
    pub record: RwSignal<Option<BatchRecord>>,
    /// The progress of the batch going, at most every [`SHOW_INTERVAL_MS`] (with the ETA for
    /// the concurrency in force); `None` when none goes or it is not known yet.
    pub progress: RwSignal<Option<Progress>>,
    /// Whether a batch is going in this tab (from the click to its last record saved).
    pub busy: Signal<bool>,
    /// Items the scheduler lets run at once now (lower than asked after rate limits).
    pub effective: RwSignal<u32>,
    /// Until when (epoch ms) no new item starts because a provider asked to wait.
    pub waiting_until: RwSignal<Option<f64>>,
    /// What the runs in flight have spent so far, by item index (their items' costs are only
    /// known once they finish).
    pub live_cost: RwSignal<BTreeMap<usize, f64>>,
    /// Steps the runs of the batch going have committed, by item index, as reported (a
    /// finished run's count is read from the store with its results).
    pub live_steps: RwSignal<BTreeMap<usize, u64>>,
    /// Bumped at most every [`RUNS_NOTICE_INTERVAL_MS`] while items start and finish, so the
    /// results follow the batch going.
    pub items_changed: RwSignal<u64>,
    /// A problem to show (the batch could not start, or its record could not be saved).
    pub error: RwSignal<Option<String>>,
    /// The start-up check: the batches it found cut off by a closed tab, less those resumed
    /// since.
    pub startup: RwSignal<Startup>,
    /// Bumped whenever stored batches change, so lists reload.
    pub batches_changed: RwSignal<u64>,
    /// Bumped whenever stored datasets change.
    pub datasets_changed: RwSignal<u64>,
    /// The dataset picked on the page, kept while the user visits other pages.
    pub picked_dataset: RwSignal<Option<String>>,
    /// The batch budget in force for the batch going, USD.
    pub budget_usd: RwSignal<Option<f64>>,
    /// The provider batches of the batch going in provider batch mode, by round.
    pub rounds: RwSignal<Vec<RoundView>>,
    /// How many items of the batch going wait on a provider batch's round: shown as waiting,
    /// not running.
    // `u32` as `effective` is: a signal of a type of its own would add its code to the first load.
    pub parked: RwSignal<u32>,
    runs: RunSession,
    tasks: Tasks,
    control: StoredValue<Option<BatchControl>, LocalStorage>,
    /// The batch budget's gate while the batch goes, to raise it when paused.
    gate: StoredValue<Option<Rc<dyn PausedGate>>, LocalStorage>,
}

/// What the session asks of a going batch's budget gate. The shell makes the session, so a
/// concrete `Rc<BudgetGate>` here would put the gate's drop (which settles calls in flight)
/// into the first load; behind this trait that code stays with the batch that starts one.
trait PausedGate {
    fn raise_limit(&self, limit_usd: f64) -> Result<(), NotARaise>;
    fn last_reserved_usd(&self) -> Option<f64>;
}

impl PausedGate for BudgetGate {
    fn raise_limit(&self, limit_usd: f64) -> Result<(), NotARaise> {
        BudgetGate::raise_limit(self, limit_usd)
    }

    fn last_reserved_usd(&self) -> Option<f64> {
        BudgetGate::last_reserved_usd(self)
    }
}

/// What the session drives.
#[derive(Clone)]
enum Job {
    Start {
        spec: Box<BatchSpec>,
        problems: Vec<Problem>,
    },
    Resume {
        batch_id: String,
        retry_failed: bool,
        /// The Configure page's batch budget, used when it raises the batch's own.
        offered_budget_usd: Option<f64>,
    },
}

/// One job of the session, as it runs.
struct Task {
    session: BatchSession,
    job: Job,
    registry: ProviderRegistry,
    control: BatchControl,
}

impl BatchSession {
    /// An empty session; `runs` is the run session, told when batch runs change.
    /// The app's store, which its batches open.
    pub(crate) fn store(&self) -> SharedStore {
        self.runs.store()
    }

    pub fn new(runs: RunSession) -> Self {
        let tasks = Tasks::new();
        BatchSession {
            record: RwSignal::new(None),
            progress: RwSignal::new(None),
            busy: tasks.going(),
            effective: RwSignal::new(0),
            waiting_until: RwSignal::new(None),
            live_cost: RwSignal::new(BTreeMap::new()),
            live_steps: RwSignal::new(BTreeMap::new()),
            items_changed: RwSignal::new(0),
            error: RwSignal::new(None),
            startup: RwSignal::new(Startup::Pending),
            batches_changed: RwSignal::new(0),
            datasets_changed: RwSignal::new(0),
            picked_dataset: RwSignal::new(None),
            budget_usd: RwSignal::new(None),
            rounds: RwSignal::new(Vec::new()),
            parked: RwSignal::new(0),
            runs,
            tasks,
            control: StoredValue::new_local(None),
            gate: StoredValue::new_local(None),
        }
    }

    /// Whether both startup checks (runs and batches) are done, so batches may start.
    pub fn ready(&self) -> bool {
        self.startup.with(|s| *s != Startup::Pending)
            && self.runs.startup.with(|s| *s != Startup::Pending)
    }

    /// The id of the batch being shown.
    pub fn batch_id(&self) -> Option<String> {
        self.record
            .with(|r| r.as_ref().map(|r| r.spec.batch_id.clone()))
    }

    /// [`batch_id`](Self::batch_id), outside any reactive tracking.
    pub fn batch_id_untracked(&self) -> Option<String> {
        self.record
            .with_untracked(|r| r.as_ref().map(|r| r.spec.batch_id.clone()))
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

    fn check_free(&self) -> Result<(), StartError> {
        if self.busy.get_untracked() {
            let batch_id = self.record.with_untracked(|r| {
                r.as_ref()
                    .map(|r| r.spec.batch_id.clone())
                    .unwrap_or_default()
            });
            return Err(StartError::Busy {
                work: Work::Batch(batch_id),
            });
        }
        let pending = self.startup.with_untracked(|s| *s == Startup::Pending)
            || self.runs.startup.with_untracked(|s| *s == Startup::Pending);
        if pending {
            return Err(StartError::NotReady);
        }
        Ok(())
    }

    /// Starts a new batch; returns at once (the batch goes on in the background), or says why
    /// it cannot start.
    pub fn start(&self, request: BatchRequest) -> Result<(), StartError> {
        self.check_free()?;
        let custom = request.registry.custom_ids();
        let problems = request.config.validate_with(&custom);
        if !problems.is_empty() {
            return Err(StartError::InvalidConfig {
                count: problems.len(),
            });
        }
        let ids: Vec<String> = request.problems.iter().map(|p| p.id.clone()).collect();
        // Checked now so a mistake is reported at once; the driver chooses the id among the
        // stored ones.
        let mut spec = BatchSpec::new(
            request.name,
            request.dataset_id,
            request.dataset_name,
            ids,
            request.modes,
            request.concurrency,
            request.config,
            BrowserClock::new().now_ms(),
            |_| false,
        )?
        .with_reuse_policy(request.reuse_policy);
        spec.engine = request.engine;
        spec.stragglers_live = request.stragglers_live;
        let job = Job::Start {
            spec: Box::new(spec),
            problems: request.problems,
        };
        self.dispatch(job, request.registry);
        Ok(())
    }

    /// Continues stored batch `batch_id`: its items are reconciled with its stored runs, and
    /// the unfinished ones run (a stopped run goes on from its last committed step). With
    /// `retry_failed`, failed items run again too. `current_budget_usd` is the Configure
    /// page's batch budget, used when it is larger than the batch's own (see
    /// [`crate::core::driver::batch::raised_budget`]).
    pub fn resume(
        &self,
        batch_id: String,
        registry: ProviderRegistry,
        retry_failed: bool,
        current_budget_usd: Option<f64>,
    ) -> Result<(), StartError> {
        self.check_free()?;
        let job = Job::Resume {
            batch_id,
            retry_failed,
            offered_budget_usd: current_budget_usd,
        };
        self.dispatch(job, registry);
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

    fn dispatch(&self, job: Job, registry: ProviderRegistry) {
        let control = BatchControl::new();
        self.control.set_value(Some(control.clone()));
        self.error.set(None);
        self.live_cost.set(BTreeMap::new());
        self.live_steps.set(BTreeMap::new());
        self.progress.set(None);
        self.waiting_until.set(None);
        self.rounds.set(Vec::new());
        self.tasks.start(
            Task {
                session: *self,
                job,
                registry,
                control,
            }
            .run(),
        );
    }

    /// Shows that the batch's record is stored and its items start.
    fn started(
        &self,
        record: &BatchRecord,
        budget_usd: Option<f64>,
        gate: Option<&Rc<BudgetGate>>,
    ) {
        self.effective.set(record.spec.concurrency);
        // A batch cut off by a closed tab is not any more once it goes again: the page's
        // "cut off … resume it" notice stops naming it.
        let id = &record.spec.batch_id;
        if self
            .startup
            .with_untracked(|s| matches!(s, Startup::Done(ids) if ids.contains(id)))
        {
            self.startup.update(|s| {
                if let Startup::Done(ids) = s {
                    ids.retain(|cut_off| cut_off != id);
                }
            });
        }
        self.record.set(Some(record.clone()));
        self.budget_usd.set(budget_usd);
        self.gate
            .set_value(gate.map(|gate| Rc::clone(gate) as Rc<dyn PausedGate>));
        self.touch_batches();
    }

    /// What the batch budget's latest call reserved before it was sent (`None` while no
    /// budget is set or no call went out); read again whenever a step finishes.
    pub fn last_reservation_usd(&self) -> Option<f64> {
        self.live_cost.track();
        self.gate
            .with_value(|g| g.as_ref().and_then(|g| g.last_reserved_usd()))
    }

    /// Clears what only a going batch shows.
    fn end(&self) {
        self.control.set_value(None);
        self.gate.set_value(None);
        self.live_cost.set(BTreeMap::new());
        self.progress.set(None);
        self.waiting_until.set(None);
        self.touch_batches();
        self.runs.touch_runs();
    }
}

/// The least time between two updates of the batch card from a running batch, ms: a few a
/// second is as often as anyone reads progress (see [`super::throttle`]).
pub const SHOW_INTERVAL_MS: f64 = 100.0;

/// The least time between two "runs changed" notices from a running batch, ms. A page listing
/// runs (Runs, Costs) reads every stored run again on each, which takes long with many runs.
pub const RUNS_NOTICE_INTERVAL_MS: f64 = 1_000.0;

impl Task {
    async fn run(self) {
        let session = self.session;
        let result = self.drive().await;
        // The one place a batch's refusal is shown; its progress was shown as it went.
        if let Err(refused) = result {
            session.error.set(Some(refused.to_string()));
        }
        session.end();
    }

    async fn drive(&self) -> Result<(), StartError> {
        let session = self.session;
        let inputs = BrowserInputs::open(self.session.runs.store(), &self.registry).await?;
        let clock = inputs.clock;
        let policy = match &self.job {
            Job::Start { spec, .. } => spec.reuse_policy,
            Job::Resume { batch_id, .. } => resume::batch_policy(&inputs.store, batch_id).await?,
        };
        let llm = inputs.replies(policy);
        let driver = BatchDriver::new(&llm, &inputs.clock, &inputs.store);
        // What the runs in flight have spent; shown through `show` with the record it belongs
        // to, so the spend never counts an item twice or not at all.
        let live_cost: Rc<RefCell<BTreeMap<usize, f64>>> = Rc::default();
        let live_steps: Rc<RefCell<BTreeMap<usize, u64>>> = Rc::default();
        let show = {
            let live_cost = Rc::clone(&live_cost);
            let live_steps = Rc::clone(&live_steps);
            let mirror = driver.mirror();
            Throttle::new(SHOW_INTERVAL_MS, clock, move |update: ShowUpdate| {
                if update.live_cost {
                    session.live_cost.set(live_cost.borrow().clone());
                }
                if update.live_steps {
                    session.live_steps.set(live_steps.borrow().clone());
                }
                if update.changed {
                    let effective = session.effective.get_untracked();
                    let progress = mirror.borrow().progress(effective);
                    if progress.is_some() {
                        session.progress.set(progress);
                    }
                }
                let record = match update.record {
                    Some(record) => Some(record),
                    None if update.status => mirror.borrow().record().cloned(),
                    None => None,
                };
                if let Some(record) = record {
                    session.record.set(Some(record));
                }
            })
        };
        // Pages listing runs, a run's page (its live transcript), and the batch's record and
        // results.
        let runs_notice = {
            let mirror = driver.mirror();
            Throttle::new(RUNS_NOTICE_INTERVAL_MS, clock, move |()| {
                if let Some(record) = mirror.borrow().record() {
                    session.record.set(Some(record.clone()));
                }
                session.runs.touch_runs();
                session.items_changed.update(|n| *n += 1);
            })
        };
        let listener = |progress: &BatchProgress<'_>| {
            match progress {
            BatchProgress::Started {
                record,
                budget_usd,
                gate,
            } => session.started(record, *budget_usd, *gate),
            BatchProgress::Batch { event, .. } => {
                match event {
                    BatchEvent::Concurrency { effective } => session.effective.set(*effective),
                    BatchEvent::Waiting { until_ms } => session.waiting_until.set(Some(*until_ms)),
                    BatchEvent::RunStarted { .. } => runs_notice.update(|()| {}, false),
                    BatchEvent::ItemFinished { index } => {
                        // The figures of items in flight only: the finished item's are in the
                        // record, and keeping them would grow with every item done.
                        live_cost.borrow_mut().remove(index);
                        live_steps.borrow_mut().remove(index);
                        runs_notice.update(|()| {}, false);
                    }
                    BatchEvent::Status(_) | BatchEvent::ItemStarted { .. } => {}
                }
                let status = matches!(event, BatchEvent::Status(_));
                show.update(
                    |u| {
                        u.changed = true;
                        u.status |= status;
                        u.live_cost = true;
                        u.live_steps |= matches!(event, BatchEvent::ItemFinished { .. });
                    },
                    status,
                );
            }
            BatchProgress::Item {
                index,
                event: PipelineEvent::StepFinished { entry, cost_usd, .. },
                ..
            } => {
                if let Some(cost) = cost_usd {
                    *live_cost.borrow_mut().entry(*index).or_default() += cost;
                }
                let mut steps = live_steps.borrow_mut();
                let count = steps.entry(*index).or_default();
                *count = (*count).max(entry.step_id);
                drop(steps);
                show.update(
                    |u| {
                        u.live_cost |= cost_usd.is_some();
                        u.live_steps = true;
                    },
                    false,
                );
                runs_notice.update(|()| {}, false);
            }
            BatchProgress::Item { .. } => {}
            BatchProgress::SaveFailed(e) => session.error.set(Some(format!(
                "the batch's progress could not be saved ({e}); its runs are saved step by step, and resuming the batch after a reload picks them up"
            ))),
        }
        };
        let (engine, stragglers_live) = match &self.job {
            Job::Start { spec, .. } => (spec.engine, spec.stragglers_live),
            Job::Resume { batch_id, .. } => inputs
                .store
                .get_batch(batch_id)
                .await
                .map_err(crate::core::pipeline::SinkError::from)?
                .map_or((BatchEngine::Live, false), |r| {
                    (r.spec.engine, r.spec.stragglers_live)
                }),
        };
        if engine == BatchEngine::ProviderBatch {
            let finished = self
                .drive_rounds(&inputs, &listener, stragglers_live)
                .await?;
            runs_notice.flush();
            show.update(|u| u.record = Some(finished), true);
            return Ok(());
        }
        let driver = driver
            .with_locks(&WebLocks)
            .with_pricer(inputs.pricer)
            .with_listener(&listener);
        let control = self.control.clone();
        let finished = match &self.job {
            Job::Start { spec, problems } => {
                driver.start(spec.as_ref().clone(), problems, control).await
            }
            Job::Resume {
                batch_id,
                retry_failed,
                offered_budget_usd,
            } => {
                driver
                    .resume(batch_id, *retry_failed, *offered_budget_usd, control)
                    .await
            }
        };
        // The batch ends once its runs' paid replies are written, as a run does.
        if let Some(unkept) = unkept_replies(&inputs.hub).await {
            session.error.set(Some(unkept));
        }
        let finished = finished?;
        // Whatever waits is shown now, before the end clears the live figures; the timers
        // left find nothing to deliver (and so cannot put an older copy over the last record).
        runs_notice.flush();
        show.update(|u| u.record = Some(finished), true);
        Ok(())
    }
}

impl Task {
    /// Drives the batch in provider batch mode: the calls to every provider with a batch API
    /// (OpenAI, Anthropic, Gemini, and OpenAI-compatible servers whose settings declare the
    /// batch endpoints) go to it in rounds, the others live; the rounds shown as they change.
    async fn drive_rounds(
        &self,
        inputs: &BrowserInputs,
        listener: &dyn Fn(&BatchProgress<'_>),
        stragglers_live: bool,
    ) -> Result<BatchRecord, StartError> {
        let session = self.session;
        let transport = BrowserTransport::new();
        let options = ProviderBatchOptions::all_batchable(&self.registry, stragglers_live);
        let engine = ProviderBatchEngine::new(
            self.registry.clone(),
            &transport,
            &inputs.clock,
            &inputs.store,
            &inputs.store,
            &WebLocks,
            options,
        )
        .with_pricer(Rc::clone(&inputs.pricer))
        .with_listener(listener)
        // Its replies go to the reply store: the runs can be replayed, and later runs reuse them.
        .with_replies(inputs.hub.clone())
        .with_round_listener(Rc::new(move |rounds: &[RoundView]| {
            session.rounds.set(rounds.to_vec())
        }))
        .with_parked_listener(Rc::new(move |parked| {
            session
                .parked
                .set(u32::try_from(parked).unwrap_or(u32::MAX));
        }));
        session.parked.set(0);
        let control = self.control.clone();
        match &self.job {
            Job::Start { spec, problems } => {
                engine.start(spec.as_ref().clone(), problems, control).await
            }
            Job::Resume { batch_id, .. } => engine.resume(batch_id, control).await,
        }
    }
}

/// What waits to be shown of a running batch.
#[derive(Default)]
struct ShowUpdate {
    /// The batch's last record, shown as it is.
    record: Option<BatchRecord>,
    /// The mirror changed: show its progress as it is when the update is delivered.
    changed: bool,
    /// The batch's status changed: show the mirror's record too.
    status: bool,
    /// Whether the live spend of the items in flight changed.
    live_cost: bool,
    /// Whether the live step counts changed.
    live_steps: bool,
}

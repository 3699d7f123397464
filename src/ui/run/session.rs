//! The live run: core's run driver ([`RunDriver`]) wired to the browser (fetch, the clock,
//! IndexedDB, prices, tab locks), its events turned into the page's signals.
//!
//! One run goes at a time in a tab. The session is app-wide (a context value provided by
//! [`super::startup::provide_run_state`]) so a run keeps going, and keeps being shown, while the
//! user looks at other pages.
//!
//! How a run is stored as it goes, resumed and finished is the driver's (see
//! [`crate::core::driver::run`]). A closed tab leaves the record `running`, which the next load
//! turns into `interrupted`; while a tab drives a run it holds the run's tab lock
//! ([`crate::web::locks`]), which tells a second open tab that the run is live, not interrupted.

use std::rc::Rc;

use leptos::prelude::*;

use crate::app::run::step::StepView;
use crate::core::cancel::CancelToken;
use crate::core::config::{JudgeConfig, Mode, PipelineConfig};
use crate::core::driver::{Finished, Fork, NewRun, RunDriver, RunEvent, StartError, Work};
use crate::core::llm::reasoning;
use crate::core::pipeline::SinkError;
use crate::core::pricing::Pricer;
use crate::core::providers::ProviderRegistry;
use crate::core::replies::hub::ReplyHub;
use crate::core::replies::llm::ReplySource;
use crate::core::replies::replay::{replay_as_new_run, ReplayError, ReplayInputs};
use crate::core::replies::{resume, ReusePolicy};
use crate::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};
use crate::ui::prices::load_pricer;
use crate::ui::store::SharedStore;
use crate::ui::task::Tasks;
use crate::web::clock::BrowserClock;
use crate::web::http::BrowserTransport;
use crate::web::idb::{tab_reply_index, TrajectoryStore};
use crate::web::locks::WebLocks;

use super::live;
use super::summary::SummaryView;
use super::transcript::{apply_event_to, slots_of, stop_running_in, StepSlot};
use crate::app::run::live::LiveReply;

/// Where a start-up check (for runs, or for batches, that a closed tab left running) stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Startup {
    /// Still opening the store.
    Pending,
    /// Done; these were found running and are now `interrupted`.
    Done(Vec<String>),
    /// The store could not be opened or updated; work can still be tried (each reports its
    /// own failure).
    Failed(String),
}

/// What a new run is about.
#[derive(Debug, Clone, PartialEq)]
pub struct StartRequest {
    /// The config, as checked on the Configure page.
    pub config: PipelineConfig,
    /// Run it in this mode instead of the config's.
    pub mode: Mode,
    /// Providers and keys from Settings.
    pub registry: ProviderRegistry,
    /// The problem text.
    pub problem: String,
    /// The expected answer, if known (empty text means none).
    pub ground_truth: String,
    /// When the run may answer a request from the reply store instead of paying for it.
    pub reuse_policy: ReusePolicy,
}

/// The live run of this tab (a context value: `expect_context::<RunSession>()`).
#[derive(Clone, Copy)]
pub struct RunSession {
    /// The run being shown: the one going, or the last one of this tab.
    pub record: RwSignal<Option<RunRecord>>,
    /// Its transcript, one slot per card.
    pub steps: RwSignal<Vec<StepSlot>>,
    /// Its summary, once it stopped.
    pub summary: RwSignal<Option<SummaryView>>,
    /// The reply streaming now, if any.
    pub live: RwSignal<Option<LiveReply>>,
    /// A problem to show (the run could not start, or the final status could not be saved).
    pub error: RwSignal<Option<String>>,
    /// Whether a run is going (from the click to its summary saved).
    pub busy: Signal<bool>,
    /// The startup check.
    pub startup: RwSignal<Startup>,
    /// Bumped whenever stored runs change, so lists reload.
    pub runs_changed: RwSignal<u64>,
    /// The Run page's problem box, kept while the user visits other pages.
    pub draft_problem: RwSignal<String>,
    /// The Run page's ground-truth box.
    pub draft_truth: RwSignal<String>,
    /// The Run page's mode choice; `None` follows the config's mode.
    pub draft_mode: RwSignal<Option<Mode>>,
    /// The Run page's reuse policy choice.
    pub draft_reuse: RwSignal<ReusePolicy>,
    store: SharedStore,
    tasks: Tasks,
    cancel: StoredValue<Option<CancelToken>, LocalStorage>,
}

/// What the session drives.
#[derive(Clone)]
enum Job {
    Start {
        config: PipelineConfig,
        problem: String,
        ground_truth: Option<String>,
        reuse_policy: ReusePolicy,
    },
    Resume {
        run_id: String,
        /// The Configure page's config, for a run imported without one.
        offered: Option<PipelineConfig>,
    },
    /// Stored run `run_id` again, into a new run, from stored replies only.
    Replay { run_id: String },
    /// A new run: stored run `run_id`'s steps before `at_step` carried, the rest live with
    /// `config`.
    Fork {
        run_id: String,
        at_step: u64,
        config: PipelineConfig,
    },
    /// A new run: stored run `run_id` judged again by `judge`.
    Rejudge { run_id: String, judge: JudgeConfig },
}

/// Why a job of the session stopped before its run finished.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum Stopped {
    #[error(transparent)]
    Refused(#[from] StartError),
    #[error(transparent)]
    Replay(ReplayError),
}

/// One job of the session, as it runs.
struct Task {
    session: RunSession,
    job: Job,
    registry: ProviderRegistry,
    cancel: CancelToken,
}

impl RunSession {
    /// An empty session.
    pub fn new(store: SharedStore) -> Self {
        let tasks = Tasks::new();
        RunSession {
            store,
            record: RwSignal::new(None),
            steps: RwSignal::new(Vec::new()),
            live: RwSignal::new(None),
            summary: RwSignal::new(None),
            error: RwSignal::new(None),
            busy: tasks.going(),
            startup: RwSignal::new(Startup::Pending),
            runs_changed: RwSignal::new(0),
            draft_problem: RwSignal::new(String::new()),
            draft_truth: RwSignal::new(String::new()),
            draft_mode: RwSignal::new(None),
            draft_reuse: RwSignal::new(ReusePolicy::default()),
            tasks,
            cancel: StoredValue::new_local(None),
        }
    }

    /// The app's store, which its runs (and the batch and experiment sessions) open.
    pub(crate) fn store(&self) -> SharedStore {
        self.store
    }

    /// The id of the run being shown, if any.
    pub fn run_id(&self) -> Option<String> {
        self.record.with(|r| r.as_ref().map(|r| r.run_id.clone()))
    }

    /// The status of the run being shown.
    pub fn status(&self) -> Option<RunStatus> {
        self.record.with(|r| r.as_ref().map(|r| r.status))
    }

    /// Whether run `id` is the one going right now.
    pub fn is_running(&self, id: &str) -> bool {
        self.busy.get() && self.run_id().as_deref() == Some(id)
    }

    /// Tells lists of stored runs to reload.
    pub fn touch_runs(&self) {
        self.runs_changed.update(|n| *n += 1);
    }

    fn check_free(&self) -> Result<(), StartError> {
        if self.busy.get_untracked() {
            let run_id = self
                .record
                .with_untracked(|r| r.as_ref().map(|r| r.run_id.clone()))
                .unwrap_or_default();
            return Err(StartError::Busy {
                work: Work::Run(run_id),
            });
        }
        if self.startup.with_untracked(|s| *s == Startup::Pending) {
            return Err(StartError::NotReady);
        }
        Ok(())
    }

    /// Starts a new run; returns at once (the run goes on in the background), or says why it
    /// cannot start.
    pub fn start(&self, request: StartRequest) -> Result<(), StartError> {
        self.check_free()?;
        if request.problem.trim().is_empty() {
            return Err(StartError::EmptyProblem);
        }
        let custom = request.registry.custom_ids();
        let mut config = request.config;
        config.mode = request.mode;
        let mut problems = config.validate_with(&custom);
        problems.extend(reasoning::config_problems(&config, &request.registry));
        if !problems.is_empty() {
            return Err(StartError::InvalidConfig {
                count: problems.len(),
            });
        }
        let ground_truth = Some(request.ground_truth.trim().to_string()).filter(|t| !t.is_empty());
        let job = Job::Start {
            config,
            problem: request.problem,
            ground_truth,
            reuse_policy: request.reuse_policy,
        };
        self.dispatch(job, request.registry);
        Ok(())
    }

    /// Continues stored run `run_id` from its last committed step. `current` is the Configure
    /// page's config, used for runs imported without one when its hash matches theirs.
    pub fn resume(
        &self,
        run_id: String,
        current: Option<PipelineConfig>,
        registry: ProviderRegistry,
    ) -> Result<(), StartError> {
        self.check_free()?;
        // The resumed run's record and steps replace the last run's once they are read.
        self.clear_view();
        let job = Job::Resume {
            run_id,
            offered: current,
        };
        self.dispatch(job, registry);
        Ok(())
    }

    /// Replays stored run `run_id` into a new run: the same loop, every reply from the reply
    /// store, no request sent, $0. A reply missing from the store stops it, naming the
    /// request.
    pub fn replay(&self, run_id: String, registry: ProviderRegistry) -> Result<(), StartError> {
        self.check_free()?;
        self.clear_view();
        self.dispatch(Job::Replay { run_id }, registry);
        Ok(())
    }

    /// Forks stored run `run_id` at step `at_step` into a new run that goes on live with
    /// `config` (the run's own, edited); the source is never changed.
    pub fn fork(
        &self,
        run_id: String,
        at_step: u64,
        config: PipelineConfig,
        registry: ProviderRegistry,
    ) -> Result<(), StartError> {
        self.check_free()?;
        self.clear_view();
        let job = Job::Fork {
            run_id,
            at_step,
            config,
        };
        self.dispatch(job, registry);
        Ok(())
    }

    /// Judges stored run `run_id` again with `judge`, into a new run: only the judge is
    /// called; the source is never changed.
    pub fn rejudge(
        &self,
        run_id: String,
        judge: JudgeConfig,
        registry: ProviderRegistry,
    ) -> Result<(), StartError> {
        self.check_free()?;
        self.clear_view();
        self.dispatch(Job::Rejudge { run_id, judge }, registry);
        Ok(())
    }

    /// Cancels the run going: the request in flight is aborted at once, and the run ends
    /// `cancelled` with its committed steps kept.
    pub fn cancel(&self) {
        self.cancel.with_value(|token| {
            if let Some(token) = token {
                token.cancel();
            }
        });
    }

    fn dispatch(&self, job: Job, registry: ProviderRegistry) {
        let cancel = CancelToken::new();
        self.cancel.set_value(Some(cancel.clone()));
        self.error.set(None);
        self.tasks.start(
            Task {
                session: *self,
                job,
                registry,
                cancel,
            }
            .run(),
        );
    }

    /// Shows what the driver reports.
    fn follow(&self, event: &RunEvent<'_>) {
        match event {
            RunEvent::Started { record, committed } => {
                // The last run's view stays until now: taken down in the same turn as the
                // first call goes out, it is redrawn after that call is on its way.
                self.clear_view();
                self.steps
                    .set(slots_of(committed.iter().cloned().map(StepView::committed)));
                self.record.set(Some((*record).clone()));
                self.touch_runs();
            }
            // The step is stored: the page shows the record as stored with it.
            RunEvent::Stored(record) => {
                self.record.set(Some((*record).clone()));
                self.touch_runs();
            }
            RunEvent::Loop(event) => {
                // A step that ends (or a new one) ends the reply that was streaming.
                self.live.set(None);
                apply_event_to(self.steps, event);
            }
            RunEvent::CallsDone => {}
        }
    }

    /// Shows the run's end.
    fn finished(&self, finished: Finished) {
        stop_running_in(self.steps);
        let mut summary = SummaryView::of_record(&finished.record);
        summary
            .extracted_answer
            .clone_from(&finished.outcome.summary.extracted_answer);
        self.summary.set(Some(summary));
        self.record.set(Some(finished.record));
        if let Some(e) = finished.save_error {
            self.error.set(Some(format!(
                "the run ended, but its final status could not be saved ({e}); its steps are saved, and after a reload it shows as interrupted and can be resumed"
            )));
        }
    }

    /// Shows why a replay stopped: what it replayed stays shown, its run is stored `failed`.
    fn replay_stopped(&self, error: ReplayError) {
        let message = error.to_string();
        stop_running_in(self.steps);
        self.record.update(|record| {
            if let Some(record) = record {
                record.status = RunStatus::Failed;
                record.message = Some(message.clone());
            }
        });
        self.error.set(Some(message));
    }

    /// Shows why the run could not start or resume.
    fn refused(&self, error: StartError) {
        self.clear_view();
        self.error.set(Some(error.to_string()));
    }

    /// Takes down what the last run showed.
    fn clear_view(&self) {
        self.record.set(None);
        self.summary.set(None);
        self.steps.set(Vec::new());
    }
}

impl Default for RunSession {
    fn default() -> Self {
        Self::new(SharedStore::new())
    }
}

/// What a driver meets in the browser: the store, the prices in use, the clock, and the
/// reply store over the providers, from which each run's client is made ([`Self::replies`]).
pub(crate) struct BrowserInputs {
    pub(crate) store: TrajectoryStore,
    pub(crate) pricer: Rc<Pricer>,
    pub(crate) clock: BrowserClock,
    registry: ProviderRegistry,
    pub(crate) hub: Rc<ReplyHub<TrajectoryStore>>,
}

/// Waits until `hub`'s paid replies are written; says which could not be kept, if any.
pub(crate) async fn unkept_replies(hub: &ReplyHub<TrajectoryStore>) -> Option<String> {
    hub.flushed().await;
    let failures = hub.take_failures();
    let first = failures.first()?;
    Some(format!(
        "{} could not be kept in the reply store ({first}); the steps are saved, but cannot be replayed or answered from the store",
        crate::app::format::count_of(failures.len(), "paid reply", "paid replies"),
    ))
}

/// The LLM source of the app's runs: the providers behind the IndexedDB reply store.
pub(crate) type BrowserReplies = ReplySource<BrowserTransport, BrowserClock, TrajectoryStore>;

impl BrowserInputs {
    /// Opens `store` and loads the prices; `registry` holds the providers and their keys.
    pub(crate) async fn open(
        store: SharedStore,
        registry: &ProviderRegistry,
    ) -> Result<Self, StartError> {
        let store = store.open().await.map_err(SinkError::from)?;
        let pricer = Rc::new(load_pricer().await);
        // Paid replies are written by a task of their own, in order, so no call waits on one.
        let hub = ReplyHub::in_background(
            store.clone(),
            tab_reply_index(),
            Rc::new(|write| leptos::task::spawn_local(write)),
        );
        Ok(BrowserInputs {
            hub,
            store,
            pricer,
            clock: BrowserClock::new(),
            registry: registry.clone(),
        })
    }

    /// The providers' clients, each run's answering from the reply store by `policy`.
    pub(crate) fn replies(&self, policy: ReusePolicy) -> BrowserReplies {
        ReplySource::new(
            self.registry.clone(),
            BrowserTransport::new(),
            self.clock,
            self.hub.clone(),
            policy,
        )
    }
}

/// Stored run `run_id` with its steps in order: what a replay, fork or re-judge starts from.
async fn source_run(
    inputs: &BrowserInputs,
    run_id: &str,
) -> Result<(RunRecord, Vec<TrajectoryEntry>), StartError> {
    let not_found = || StartError::NotFound {
        work: Work::Run(run_id.to_string()),
    };
    let original = inputs
        .store
        .get_run(run_id)
        .await
        .map_err(|e| StartError::from(SinkError::from(e)))?
        .ok_or_else(not_found)?;
    let mut steps = inputs
        .store
        .steps(run_id)
        .await
        .map_err(|e| StartError::from(SinkError::from(e)))?;
    crate::core::sorting::sort_by_key(&mut steps, |e| e.step_id);
    Ok((original, steps))
}

impl Task {
    async fn run(self) {
        let session = self.session;
        let (result, inputs) = match BrowserInputs::open(self.session.store, &self.registry).await {
            Ok(inputs) => (self.drive(&inputs).await, Some(inputs)),
            Err(refused) => (Err(refused.into()), None),
        };
        session.cancel.set_value(None);
        // The one place a run's end, or its refusal, is shown.
        match result {
            Ok(finished) => session.finished(finished),
            Err(Stopped::Refused(refused)) => session.refused(refused),
            Err(Stopped::Replay(error)) => session.replay_stopped(error),
        }
        // Shown before its last replies are written; the session stays busy until they are,
        // so a replay or rerun started next reads them from the store.
        if let Some(inputs) = inputs {
            if let Some(unkept) = unkept_replies(&inputs.hub).await {
                session.error.set(Some(unkept));
            }
        }
        session.touch_runs();
    }

    async fn drive(&self, inputs: &BrowserInputs) -> Result<Finished, Stopped> {
        let session = self.session;
        let policy = match &self.job {
            Job::Start { reuse_policy, .. } => *reuse_policy,
            // A derived run reuses replies as its source did.
            Job::Resume { run_id, .. } | Job::Fork { run_id, .. } | Job::Rejudge { run_id, .. } => {
                resume::run_policy(&inputs.store, run_id)
                    .await
                    .map_err(StartError::from)?
            }
            Job::Replay { run_id } => return self.replay(inputs, run_id).await,
        };
        // A replay went its own way above: it reads its policy from the steps it replays.
        let llm = inputs
            .replies(policy)
            .with_stream_listener(live::listener(session.live));
        let listener = |event: &RunEvent<'_>| session.follow(event);
        let driver = RunDriver::new(&llm, &inputs.clock, &inputs.store)
            .with_locks(&WebLocks)
            .with_pricer(inputs.pricer.clone())
            .with_listener(&listener)
            .with_cancel(self.cancel.clone());
        match &self.job {
            Job::Start {
                config,
                problem,
                ground_truth,
                ..
            } => {
                let run = NewRun {
                    config,
                    problem,
                    ground_truth: ground_truth.as_deref(),
                    batch_id: None,
                };
                Ok(driver.start(run).await?)
            }
            Job::Resume { run_id, offered } => Ok(driver.resume(run_id, offered.as_ref()).await?),
            Job::Replay { run_id } => self.replay(inputs, run_id).await,
            Job::Fork {
                run_id,
                at_step,
                config,
            } => {
                let (source, steps) = source_run(inputs, run_id).await?;
                let fork = Fork {
                    source: &source,
                    steps: &steps,
                    at_step: *at_step,
                    config,
                };
                Ok(driver.fork(fork).await?)
            }
            Job::Rejudge { run_id, judge } => {
                let (source, steps) = source_run(inputs, run_id).await?;
                Ok(driver.rejudge(&source, &steps, judge.clone()).await?)
            }
        }
    }

    async fn replay(&self, inputs: &BrowserInputs, run_id: &str) -> Result<Finished, Stopped> {
        let session = self.session;
        let (original, steps) = source_run(inputs, run_id).await?;
        let listener = |event: &RunEvent<'_>| session.follow(event);
        let replay_inputs = ReplayInputs {
            registry: self.registry.clone(),
            clock: &inputs.clock,
            hub: inputs.hub.clone(),
            store: &inputs.store,
            locks: &WebLocks,
            pricer: Some(inputs.pricer.clone()),
            listener: Some(&listener),
        };
        replay_as_new_run(&original, &steps, replay_inputs)
            .await
            .map_err(|e| match e {
                ReplayError::Start(refused) => Stopped::Refused(refused),
                other => Stopped::Replay(other),
            })
    }
}

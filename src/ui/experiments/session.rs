//! The experiment going in this tab: core's [`ExperimentDriver`] wired to the browser (fetch,
//! the clock, IndexedDB, prices, tab locks), its progress turned into signals.
//!
//! The session lives under its own reactive root, made the first time the page is opened, so
//! an experiment goes on, and is shown again, while the user visits other pages; its code
//! stays in the page's chunk rather than in the first load.

use std::cell::{Cell, OnceCell};
use std::collections::HashSet;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::reactive::owner::Owner;

use crate::core::batch::scheduler::{BatchControl, BatchEvent};
use crate::core::batch::BatchEngine;
use crate::core::clock::Clock;
use crate::core::driver::{BatchProgress, StartError};
use crate::core::experiment::driver::{create, ArmProgress, ExperimentDriver};
use crate::core::experiment::rounds::ExperimentRounds;
use crate::core::experiment::{Experiment, ExperimentPlan};
use crate::core::pipeline::SinkError;
use crate::core::provider_batch::{ProviderBatchOptions, RoundView};
use crate::core::providers::ProviderRegistry;
use crate::ui::batch::session::BatchSession;
use crate::ui::run::session::{unkept_replies, BrowserInputs};
use crate::ui::store::SharedStore;
use crate::ui::task::Tasks;
use crate::web::clock::BrowserClock;
use crate::web::http::BrowserTransport;
use crate::web::locks::WebLocks;

/// The least time between two "results changed" notices while an experiment runs, ms: each
/// reads the experiment's runs again.
pub const RESULTS_NOTICE_INTERVAL_MS: f64 = 1_000.0;

/// The experiment of this tab.
#[derive(Clone, Copy)]
pub struct ExperimentSession {
    /// The experiment shown: the one going, or the one last opened.
    pub shown: RwSignal<Option<String>>,
    /// Whether an experiment is going in this tab.
    pub busy: Signal<bool>,
    /// Why the last start or resume failed, as a sentence.
    pub error: RwSignal<Option<String>>,
    /// Bumped when the stored experiments or their runs change, so views read them again.
    pub changed: RwSignal<u64>,
    /// In provider batch mode: the experiment's rounds as they change.
    pub rounds: RwSignal<Vec<RoundView>>,
    tasks: Tasks,
    control: StoredValue<Option<BatchControl>, LocalStorage>,
    /// The tab's batch session, read from the app's context where the session is made: the
    /// session's own root has no contexts, and a click handler runs under no owner.
    batches: Option<BatchSession>,
}

thread_local! {
    static SESSION: OnceCell<ExperimentSession> = const { OnceCell::new() };
}

/// The tab's session, made (under a root of its own that is never disposed) on first use.
pub fn experiment_session() -> ExperimentSession {
    SESSION.with(|cell| {
        *cell.get_or_init(|| {
            // `Owner::new_root` makes itself the current owner: the page's owner (and the
            // app's contexts under it) must be current again afterwards.
            let outer = Owner::current();
            let batches = use_context::<BatchSession>();
            let owner = Owner::new_root(None);
            let session = owner.with(|| ExperimentSession::new(batches));
            // The session is the tab's for its whole life: its root must never be dropped.
            std::mem::forget(owner);
            if let Some(outer) = outer {
                outer.set();
            }
            session
        })
    })
}

impl ExperimentSession {
    fn new(batches: Option<BatchSession>) -> Self {
        let tasks = Tasks::new();
        ExperimentSession {
            shown: RwSignal::new(None),
            busy: tasks.going(),
            error: RwSignal::new(None),
            changed: RwSignal::new(0),
            rounds: RwSignal::new(Vec::new()),
            tasks,
            control: StoredValue::new_local(None),
            batches,
        }
    }

    /// Tells views to read the experiments again.
    pub fn touch(&self) {
        self.changed.update(|n| *n += 1);
    }

    fn check_free(&self) -> Result<(), String> {
        if self.busy.get_untracked() {
            return Err(
                "an experiment is going in this tab; wait for it to end or cancel it first"
                    .to_string(),
            );
        }
        let Some(batches) = self.batches else {
            return Err(StartError::NotReady.to_string());
        };
        if !batches.ready() {
            return Err(StartError::NotReady.to_string());
        }
        if batches.busy.get_untracked() {
            return Err("a batch is going in this tab (Batch page); wait for it to end or cancel it, then start the experiment".to_string());
        }
        Ok(())
    }

    /// Stores the experiment of `plan` and starts it; returns at once. `taken` are the ids
    /// of the experiments stored already.
    pub fn start(
        &self,
        plan: ExperimentPlan,
        registry: ProviderRegistry,
        taken: HashSet<String>,
    ) -> Result<(), String> {
        self.check_free()?;
        self.go(registry, None, Job::Start { plan, taken });
        Ok(())
    }

    /// Continues `experiment`'s unfinished batches; `offered_budget_usd` (the Configure page's
    /// batch budget) applies where it raises a batch's own.
    pub fn resume(
        &self,
        experiment: Experiment,
        registry: ProviderRegistry,
        offered_budget_usd: Option<f64>,
    ) -> Result<(), String> {
        self.check_free()?;
        self.shown.set(Some(experiment.experiment_id.clone()));
        self.go(registry, offered_budget_usd, Job::Resume(experiment));
        Ok(())
    }

    /// Cancels the experiment going: runs in flight stop, everything committed is kept, and
    /// it can be resumed.
    pub fn cancel(&self) {
        self.control.with_value(|c| {
            if let Some(c) = c {
                c.cancel();
            }
        });
    }

    fn go(&self, registry: ProviderRegistry, offered_budget_usd: Option<f64>, job: Job) {
        let control = BatchControl::new();
        self.control.set_value(Some(control.clone()));
        self.error.set(None);
        let session = *self;
        self.tasks.start(async move {
            if let Err(message) = session
                .drive(&registry, offered_budget_usd, job, &control)
                .await
            {
                session.error.set(Some(message));
            }
            session.control.set_value(None);
            session.touch();
        });
    }

    async fn drive(
        &self,
        registry: &ProviderRegistry,
        offered_budget_usd: Option<f64>,
        job: Job,
        control: &BatchControl,
    ) -> Result<(), String> {
        let session = *self;
        // Without the tab's batch session (a test that mounts no app) the store opens alone.
        let store = self.batches.map_or_else(SharedStore::new, |b| b.store());
        let inputs = BrowserInputs::open(store, registry)
            .await
            .map_err(|e| e.to_string())?;
        let experiment = match job {
            Job::Resume(experiment) => experiment,
            Job::Start { plan, taken } => {
                let custom = registry.custom_ids();
                let made = create(
                    &inputs.store,
                    &plan,
                    &custom,
                    &taken,
                    BrowserClock::new().now_ms(),
                )
                .await
                .map_err(|e| e.to_string())?;
                session.shown.set(Some(made.experiment_id.clone()));
                session.touch();
                made
            }
        };
        let last_notice = Cell::new(f64::NEG_INFINITY);
        let clock = inputs.clock;
        let listener = |p: &ArmProgress<'_>| {
            let urgent = matches!(
                p.progress,
                BatchProgress::Started { .. }
                    | BatchProgress::Batch {
                        event: BatchEvent::Status(_),
                        ..
                    }
            );
            let finished = matches!(
                p.progress,
                BatchProgress::Batch {
                    event: BatchEvent::ItemFinished { .. },
                    ..
                }
            );
            let now = clock.now_ms();
            if urgent || (finished && now - last_notice.get() >= RESULTS_NOTICE_INTERVAL_MS) {
                last_notice.set(now);
                session.touch();
            }
            if let BatchProgress::SaveFailed(e) = p.progress {
                session.error.set(Some(save_failed(e)));
            }
        };
        // Every config's batch was made with the same policy (the default, see
        // ExperimentPlan::specs): one cached source serves them all, so a turn the configs
        // share is sent once and awaited by all of them, or answered from the store.
        let policy = experiment
            .batches
            .first()
            .map(|b| b.spec.reuse_policy)
            .unwrap_or_default();
        let in_rounds = experiment
            .batches
            .iter()
            .any(|b| b.spec.engine == BatchEngine::ProviderBatch);
        let ended = if in_rounds {
            self.rounds.set(Vec::new());
            // Every provider with a batch API goes through it; the shared turns go up once
            // for all configs (one round hub), and every reply is kept in the reply store.
            let transport = BrowserTransport::new();
            let options = ProviderBatchOptions::all_batchable(registry, false);
            ExperimentRounds::new(
                registry.clone(),
                &transport,
                &inputs.clock,
                &inputs.store,
                &inputs.store,
                &WebLocks,
                options,
            )
            .with_pricer(Rc::clone(&inputs.pricer))
            .with_listener(&listener)
            .with_replies(inputs.hub.clone())
            .with_round_listener(Rc::new(move |rounds: &[RoundView]| {
                session.rounds.set(rounds.to_vec())
            }))
            .resume(&experiment, offered_budget_usd, control)
            .await
        } else {
            let llm = inputs.replies(policy);
            ExperimentDriver::new(&llm, &inputs.clock, &inputs.store)
                .with_locks(&WebLocks)
                .with_pricer(Rc::clone(&inputs.pricer))
                .with_listener(&listener)
                .resume(&experiment, offered_budget_usd, control)
                .await
        };
        // It ends once its paid replies are written, as a run or a batch does.
        if let Some(unkept) = unkept_replies(&inputs.hub).await {
            session.error.set(Some(unkept));
        }
        ended.map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// What a session drives.
enum Job {
    /// A new experiment: stored first, then driven.
    Start {
        plan: ExperimentPlan,
        taken: HashSet<String>,
    },
    /// A stored one, continued.
    Resume(Experiment),
}

fn save_failed(e: &SinkError) -> String {
    format!("the experiment's progress could not be saved ({e}); its runs are saved step by step, and resuming it after a reload picks them up")
}

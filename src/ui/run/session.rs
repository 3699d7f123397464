//! The live run: the controller that wires core's loop to the browser (fetch, clock, IndexedDB,
//! prices) and feeds the page's signals as the loop reports progress.
//!
//! One run goes at a time in a tab. The session is app-wide (a context value provided by
//! [`super::startup::provide_run_state`]) so a run keeps going, and keeps being shown, while the
//! user looks at other pages.
//!
//! Durability: the record is created (`running`) before the first call; every step is committed
//! in its own transaction before the next call starts (the store adds it to the record's totals
//! in that same transaction); the final status is written when the loop returns. A closed tab
//! leaves the record `running`, which the next load turns into `interrupted`. While a tab drives
//! a run it holds the run's tab lock ([`crate::web::locks`]), which tells a second open tab that
//! the run is live, not interrupted.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::core::budget::InvalidLimit;
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::config::{Mode, PipelineConfig};
use crate::core::llm::client::{ClientOptions, LlmClient};
use crate::core::llm::retry::RetryPolicy;
use crate::core::llm::Usage;
use crate::core::pipeline::{Pipeline, PipelineEvent, ResumeError, RunInput, RunOutcome};
use crate::core::providers::ProviderRegistry;
use crate::core::run_store::RunSink;
use crate::core::trajectory::{RunRecord, RunStatus, StepTotals, TrajectoryEntry};
use crate::web::clock::BrowserClock;
use crate::web::http::BrowserTransport;
use crate::web::idb::{StoreError, TrajectoryStore};
use crate::web::locks::{batch_lock_name, claim, run_lock_name, Claim};

use super::pricing::{run_pricing, RunPricing};
use super::step::{apply_event, stop_running, StepView};
use super::store::run_store;
use super::summary::SummaryView;

/// Why a run could not be started or resumed. Nothing was called and nothing changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunStartError {
    /// Another run is going in this tab.
    #[error("run {run_id} is still going; wait for it to finish or cancel it first")]
    Busy {
        /// The run in progress.
        run_id: String,
    },
    /// The app is still checking the store for runs a closed tab left behind.
    #[error("the run store is still being opened; try again in a moment")]
    NotReady,
    /// The problem box is empty.
    #[error("enter a problem to solve first")]
    EmptyProblem,
    /// The Configure page's config has problems.
    #[error("the configuration has {count} problem{}; fix {} on the Configure page first", if *count == 1 { "" } else { "s" }, if *count == 1 { "it" } else { "them" })]
    InvalidConfig {
        /// How many problems.
        count: usize,
    },
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The config's run budget cannot be used.
    #[error("{0}; fix the run budget on the Configure page")]
    Budget(#[from] InvalidLimit),
    /// The run is not stored (deleted in another tab?).
    #[error("run {run_id} is not stored (it may have been deleted in another tab)")]
    NotFound {
        /// The run asked for.
        run_id: String,
    },
    /// A completed run has nothing left to do.
    #[error("run {run_id} is already completed; there is nothing to resume")]
    AlreadyCompleted {
        /// The run asked for.
        run_id: String,
    },
    /// The run was imported without its config, and the current config is a different one.
    #[error("run {run_id} was imported from a file without its configuration (config hash {config_hash}); load a config with that hash on the Configure page to resume it (the current one has hash {current_hash})")]
    NoConfig {
        /// The run asked for.
        run_id: String,
        /// The hash the run's steps carry.
        config_hash: String,
        /// The hash of the Configure page's config.
        current_hash: String,
    },
    /// The run belongs to a batch that is going (in this tab or another), which drives it.
    #[error("run {run_id} belongs to batch {batch_id}, which is going now and finishes the run itself; pause or cancel the batch first to resume the run on its own")]
    BatchGoing {
        /// The run asked for.
        run_id: String,
        /// Its batch.
        batch_id: String,
    },
    /// Another open tab of the app is driving the run.
    #[error("run {run_id} is going in another tab of this app; follow or cancel it there (it can be resumed here once that tab has stopped it or is closed)")]
    OtherTab {
        /// The run asked for.
        run_id: String,
    },
    /// The stored steps do not fit the loop.
    #[error("run {run_id} cannot be resumed: {error}")]
    Resume {
        /// The run asked for.
        run_id: String,
        /// What does not fit.
        error: ResumeError,
    },
}

/// Where the startup check for interrupted runs stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Startup {
    /// Still opening the store.
    Pending,
    /// Done; these runs were found `running` and are now `interrupted`.
    Done(Vec<String>),
    /// The store could not be opened or updated; runs can still be tried (each reports its
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
}

/// The live run of this tab (a context value: `expect_context::<RunSession>()`).
#[derive(Debug, Clone, Copy)]
pub struct RunSession {
    /// The run being shown: the one going, or the last one of this tab.
    pub record: RwSignal<Option<RunRecord>>,
    /// Its transcript.
    pub steps: RwSignal<Vec<StepView>>,
    /// Its summary, once it stopped.
    pub summary: RwSignal<Option<SummaryView>>,
    /// A problem to show (the run could not start, or the final status could not be saved).
    pub error: RwSignal<Option<String>>,
    /// Whether a run is going.
    pub busy: RwSignal<bool>,
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
    cancel: StoredValue<Option<CancelToken>, LocalStorage>,
}

impl RunSession {
    /// An empty session.
    pub fn new() -> Self {
        RunSession {
            record: RwSignal::new(None),
            steps: RwSignal::new(Vec::new()),
            summary: RwSignal::new(None),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            startup: RwSignal::new(Startup::Pending),
            runs_changed: RwSignal::new(0),
            draft_problem: RwSignal::new(String::new()),
            draft_truth: RwSignal::new(String::new()),
            draft_mode: RwSignal::new(None),
            cancel: StoredValue::new_local(None),
        }
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

    fn check_free(&self) -> Result<(), RunStartError> {
        if self.busy.get_untracked() {
            let run_id = self
                .record
                .with_untracked(|r| r.as_ref().map(|r| r.run_id.clone()))
                .unwrap_or_default();
            return Err(RunStartError::Busy { run_id });
        }
        if self.startup.with_untracked(|s| *s == Startup::Pending) {
            return Err(RunStartError::NotReady);
        }
        Ok(())
    }

    /// Starts a new run; returns at once (the run goes on in the background), or says why it
    /// cannot start.
    pub fn start(&self, request: StartRequest) -> Result<(), RunStartError> {
        self.check_free()?;
        if request.problem.trim().is_empty() {
            return Err(RunStartError::EmptyProblem);
        }
        let custom = request.registry.custom_ids();
        let mut config = request.config;
        config.mode = request.mode;
        let problems = config.validate_with(&custom);
        if !problems.is_empty() {
            return Err(RunStartError::InvalidConfig {
                count: problems.len(),
            });
        }
        let ground_truth = Some(request.ground_truth.trim().to_string()).filter(|t| !t.is_empty());
        let session = *self;
        self.begin(move |token| async move {
            let pricing = match run_pricing(&config, 0.0).await {
                Ok(pricing) => pricing,
                Err(e) => {
                    session.clear_view();
                    session.fail_to_start(RunStartError::Budget(e).to_string());
                    return;
                }
            };
            let clock = BrowserClock::new();
            let hash = config.config_hash();
            let created = async {
                let store = run_store().await?;
                // The id is chosen as the record is stored.
                let mut record = RunRecord::start(
                    "",
                    &config,
                    hash.clone(),
                    request.problem,
                    ground_truth,
                    clock.now_ms(),
                );
                store.create_run_under_free_id(&mut record).await?;
                // Held until this task ends. The id is this tab's from its creation on, so
                // its lock is free.
                let lock = claim(&run_lock_name(&record.run_id)).await;
                Ok::<_, StoreError>((store, record, lock))
            }
            .await;
            let (store, record, _lock) = match created {
                Ok(created) => created,
                Err(e) => {
                    session.clear_view();
                    session.fail_to_start(RunStartError::Store(e).to_string());
                    return;
                }
            };
            // The last run's view stays until now: taken down in the same turn as the first
            // call goes out, it is redrawn after that call is on its way instead of before.
            session.clear_view();
            session.record.set(Some(record.clone()));
            session.touch_runs();
            let input = RunInput {
                run_id: record.run_id.clone(),
                problem: record.problem.clone(),
                ground_truth: record.ground_truth.clone(),
            };
            let outcome = drive(
                session,
                &store,
                &pricing,
                &config,
                &request.registry,
                token,
                record.clone(),
                &input,
                None,
            )
            .await;
            match outcome {
                Ok(outcome) => {
                    session
                        .finish(&store, record, outcome, Uncommitted::default())
                        .await
                }
                // A fresh run has no committed steps to disagree with.
                Err(error) => session.fail_to_start(error.to_string()),
            }
        });
        Ok(())
    }

    /// Continues stored run `run_id` from its last committed step. `current` is the Configure
    /// page's config, used for runs imported without one when its hash matches theirs.
    pub fn resume(
        &self,
        run_id: String,
        current: Option<PipelineConfig>,
        registry: ProviderRegistry,
    ) -> Result<(), RunStartError> {
        self.check_free()?;
        let session = *self;
        self.clear_view();
        self.begin(move |token| async move {
            let _lock = match hold_run_lock(&run_id).await {
                Ok(lock) => lock,
                Err(e) => {
                    session.fail_to_start(e.to_string());
                    return;
                }
            };
            let prepared = prepare_resume(&run_id, current).await;
            let (store, mut record, config, entries) = match prepared {
                Ok(prepared) => prepared,
                Err(e) => {
                    session.fail_to_start(e.to_string());
                    return;
                }
            };
            // A batch's run is driven under the batch's lock: holding it too keeps the batch
            // from resuming the same run meanwhile, here or in another tab.
            let _batch_lock = match &record.batch_id {
                Some(batch_id) => match claim(&batch_lock_name(batch_id)).await {
                    Claim::Taken => {
                        session.fail_to_start(
                            RunStartError::BatchGoing {
                                run_id,
                                batch_id: batch_id.clone(),
                            }
                            .to_string(),
                        );
                        return;
                    }
                    held => Some(held),
                },
                None => None,
            };
            let previous = (record.status, record.message.clone());
            let carried = uncommitted_spend(&record, &entries);
            let spent = record.cost_usd.unwrap_or(0.0);
            let pricing = match run_pricing(&config, spent).await {
                Ok(pricing) => pricing,
                Err(e) => {
                    session.fail_to_start(RunStartError::Budget(e).to_string());
                    return;
                }
            };
            session
                .steps
                .set(entries.iter().cloned().map(StepView::committed).collect());
            record.status = RunStatus::Running;
            record.message = None;
            if let Err(e) = store
                .set_run_status(&run_id, RunStatus::Running, None)
                .await
            {
                session.record.set(Some(RunRecord {
                    status: previous.0,
                    message: previous.1,
                    ..record
                }));
                session.fail_to_start(RunStartError::Store(e).to_string());
                return;
            }
            session.record.set(Some(record.clone()));
            session.touch_runs();
            let input = RunInput {
                run_id: record.run_id.clone(),
                problem: record.problem.clone(),
                ground_truth: record.ground_truth.clone(),
            };
            let outcome = drive(
                session,
                &store,
                &pricing,
                &config,
                &registry,
                token,
                record.clone(),
                &input,
                Some(entries),
            )
            .await;
            match outcome {
                Ok(outcome) => session.finish(&store, record, outcome, carried).await,
                Err(error) => {
                    // Nothing was called: put the run back as it was.
                    let restored = store
                        .set_run_status(&run_id, previous.0, previous.1.clone())
                        .await;
                    record.status = previous.0;
                    record.message = previous.1;
                    session.record.set(Some(record));
                    let mut message = RunStartError::Resume { run_id, error }.to_string();
                    if let Err(e) = restored {
                        message.push_str(&format!(
                            "; its status could not be put back either ({e}), so it shows as interrupted after a reload"
                        ));
                    }
                    session.fail_to_start(message);
                }
            }
        });
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

    /// Marks the session busy with a fresh cancel token and starts `task` with it. The task
    /// is queued before the page redraws, so its first database request goes out first.
    fn begin<F, Fut>(&self, task: F)
    where
        F: FnOnce(CancelToken) -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        let token = CancelToken::new();
        self.cancel.set_value(Some(token.clone()));
        spawn_local(task(token));
        self.busy.set(true);
        self.error.set(None);
    }

    /// Takes down what the last run showed.
    fn clear_view(&self) {
        self.record.set(None);
        self.summary.set(None);
        self.steps.set(Vec::new());
    }

    fn fail_to_start(&self, message: String) {
        self.cancel.set_value(None);
        self.busy.set(false);
        self.error.set(Some(message));
    }

    /// Writes the final status and shows the summary. `carried` is spend the record counted
    /// before this session beyond its committed steps (see [`uncommitted_spend`]).
    async fn finish(
        &self,
        store: &TrajectoryStore,
        mut record: RunRecord,
        outcome: RunOutcome,
        carried: Uncommitted,
    ) {
        let now = BrowserClock::new().now_ms();
        outcome.summary.apply_to(&mut record, now);
        carried.add_to(&mut record);
        // The page's record is the run's as last stored: a completed run's last step wrote
        // its summary already, and needs no write of its own.
        let stored = self.record.get_untracked();
        let saved = if stored.is_some_and(|stored| record.matches_stored(&stored)) {
            Ok(())
        } else {
            store.put_run(&record).await
        };
        self.steps.update(|steps| stop_running(steps));
        let mut summary = SummaryView::of_record(&record);
        summary.extracted_answer = outcome.summary.extracted_answer.clone();
        self.summary.set(Some(summary));
        self.record.set(Some(record));
        if let Err(e) = saved {
            self.error.set(Some(format!(
                "the run ended, but its final status could not be saved ({e}); its steps are saved, and after a reload it shows as interrupted and can be resumed"
            )));
        }
        self.cancel.set_value(None);
        self.busy.set(false);
        self.touch_runs();
    }
}

impl Default for RunSession {
    fn default() -> Self {
        Self::new()
    }
}

/// Spend a stored record counts beyond its committed steps: calls cut off by a cancel in an
/// earlier session (their usage was billed, but no step holds it). A resumed run keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Uncommitted {
    /// Tokens of those calls.
    pub usage: Usage,
    /// Their cost, when priced.
    pub cost_usd: Option<f64>,
}

impl Uncommitted {
    /// Adds this spend to `record`'s totals.
    pub fn add_to(&self, record: &mut RunRecord) {
        record.usage.add(&self.usage);
        if let Some(cost) = self.cost_usd {
            *record.cost_usd.get_or_insert(0.0) += cost;
        }
    }
}

/// What `record` counts beyond the sum of `committed` (never negative).
pub fn uncommitted_spend(record: &RunRecord, committed: &[TrajectoryEntry]) -> Uncommitted {
    let steps = StepTotals::of(committed);
    let (r, s) = (record.usage, steps.usage);
    let input_tokens = r.input_tokens.saturating_sub(s.input_tokens);
    let output_tokens = r.output_tokens.saturating_sub(s.output_tokens);
    let usage = Usage {
        input_tokens,
        output_tokens,
        total_tokens: input_tokens + output_tokens,
        cache_read_tokens: r.cache_read_tokens.saturating_sub(s.cache_read_tokens),
        cache_write_tokens: r.cache_write_tokens.saturating_sub(s.cache_write_tokens),
        reasoning_tokens: r.reasoning_tokens.saturating_sub(s.reasoning_tokens),
    };
    // Sums of the same prices in another order can differ in the last bits.
    let cost_usd = record
        .cost_usd
        .map(|total| total - steps.cost_usd.unwrap_or(0.0))
        .filter(|extra| *extra > 1e-12);
    Uncommitted { usage, cost_usd }
}

/// Reads what resuming `run_id` needs: the store, the record, the config to run it with, and
/// its committed steps.
async fn prepare_resume(
    run_id: &str,
    current: Option<PipelineConfig>,
) -> Result<
    (
        TrajectoryStore,
        RunRecord,
        PipelineConfig,
        Vec<TrajectoryEntry>,
    ),
    RunStartError,
> {
    let store = run_store().await?;
    let record = store
        .get_run(run_id)
        .await?
        .ok_or_else(|| RunStartError::NotFound {
            run_id: run_id.to_string(),
        })?;
    if record.status == RunStatus::Completed {
        return Err(RunStartError::AlreadyCompleted {
            run_id: run_id.to_string(),
        });
    }
    let config = match (&record.config, current) {
        (Some(config), _) => config.clone(),
        (None, Some(current)) if current.config_hash() == record.config_hash => {
            let mut config = current;
            // An imported run's mode is read from its steps.
            config.mode = record.mode;
            config
        }
        (None, current) => {
            return Err(RunStartError::NoConfig {
                run_id: run_id.to_string(),
                config_hash: record.config_hash.clone(),
                current_hash: current.map(|c| c.config_hash()).unwrap_or_default(),
            })
        }
    };
    let entries = store.steps(run_id).await?;
    Ok((store, record, config, entries))
}

/// The client options a config asks for.
/// Takes run `run_id`'s tab lock for as long as the returned value lives; refused while
/// another tab drives the run.
async fn hold_run_lock(run_id: &str) -> Result<Claim, RunStartError> {
    match claim(&run_lock_name(run_id)).await {
        Claim::Taken => Err(RunStartError::OtherTab {
            run_id: run_id.to_string(),
        }),
        held => Ok(held),
    }
}

pub(crate) fn client_options(config: &PipelineConfig) -> ClientOptions {
    ClientOptions {
        max_reasks: config.max_reasks,
        retry: RetryPolicy {
            max_attempts: config.max_attempts.max(1),
            ..RetryPolicy::default()
        },
        request_timeout_ms: u64::from(config.request_timeout_secs) * 1000,
        jitter_seed: None,
    }
}

/// Runs (or resumes, given committed `entries`) the loop, feeding the session's transcript.
#[allow(clippy::too_many_arguments)]
async fn drive(
    session: RunSession,
    store: &TrajectoryStore,
    pricing: &RunPricing,
    config: &PipelineConfig,
    registry: &ProviderRegistry,
    token: CancelToken,
    record: RunRecord,
    input: &RunInput,
    entries: Option<Vec<TrajectoryEntry>>,
) -> Result<RunOutcome, ResumeError> {
    let clock = BrowserClock::new();
    let llm = LlmClient::with_options(
        registry.clone(),
        BrowserTransport::new(),
        BrowserClock::new(),
        client_options(config),
    );
    // This tab drives the run, so each step is committed with the record counting it, without
    // reading it back first (`RunSink`).
    let sink = RunSink::new(store);
    sink.hold(record);
    let listener = |event: &PipelineEvent| {
        if matches!(event, PipelineEvent::StepFinished { .. }) {
            // The step is stored: the page shows the record as stored with it.
            session.record.set(sink.record());
            session.touch_runs();
        }
        session.steps.update(|steps| apply_event(steps, event));
    };
    let pipeline = Pipeline::new(config, &llm, &clock, &sink)
        .with_pricer(pricing.pricer.as_ref())
        .with_gate(&pricing.gate)
        .with_listener(&listener)
        .with_cancel(token);
    match entries {
        None => Ok(pipeline.run(input).await),
        Some(entries) => pipeline.resume(input, entries).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn record(usage: Usage, cost_usd: Option<f64>) -> RunRecord {
        let mut r = RunRecord::start(
            "run_x",
            &PipelineConfig::default(),
            "0badf00d",
            "p",
            None,
            0.0,
        );
        r.usage = usage;
        r.cost_usd = cost_usd;
        r
    }

    fn step(input: u64, output: u64, cost: f64) -> TrajectoryEntry {
        serde_json::from_value(serde_json::json!({
            "timestamp": "t", "run_id": "run_x", "step_id": 1, "agent": "solver",
            "action": "generate", "input": {}, "output": {"solution": "4"},
            "metadata": {"cost_usd": cost, "usage": {
                "input_tokens": input, "output_tokens": output, "total_tokens": input + output}}
        }))
        .unwrap()
    }

    #[wasm_bindgen_test]
    fn spend_beyond_the_steps_is_carried_into_a_resumed_run() {
        // The record counts a cancelled call (40 in, 10 out, $0.25) on top of its one step.
        let usage = Usage {
            input_tokens: 140,
            output_tokens: 30,
            total_tokens: 170,
            ..Usage::default()
        };
        let r = record(usage, Some(1.25));
        let carried = uncommitted_spend(&r, &[step(100, 20, 1.0)]);
        assert_eq!(carried.usage.input_tokens, 40);
        assert_eq!(carried.usage.output_tokens, 10);
        assert_eq!(carried.usage.total_tokens, 50);
        assert_eq!(carried.cost_usd, Some(0.25));

        let mut finished = record(
            Usage {
                input_tokens: 300,
                output_tokens: 60,
                total_tokens: 360,
                ..Usage::default()
            },
            Some(2.0),
        );
        carried.add_to(&mut finished);
        assert_eq!(finished.usage.total_tokens, 410);
        assert_eq!(finished.cost_usd, Some(2.25));
    }

    #[wasm_bindgen_test]
    fn a_record_that_matches_its_steps_carries_nothing() {
        let usage = Usage {
            input_tokens: 100,
            output_tokens: 20,
            total_tokens: 120,
            ..Usage::default()
        };
        let carried = uncommitted_spend(&record(usage, Some(1.0)), &[step(100, 20, 1.0)]);
        assert_eq!(carried, Uncommitted::default());
        // An interrupted run's record never counts less than its steps; if it did, nothing
        // negative is carried.
        let carried = uncommitted_spend(&record(Usage::default(), None), &[step(100, 20, 1.0)]);
        assert_eq!(carried, Uncommitted::default());
    }

    #[wasm_bindgen_test]
    fn client_options_follow_the_config() {
        let config = PipelineConfig {
            max_reasks: 4,
            max_attempts: 0,
            request_timeout_secs: 90,
            ..PipelineConfig::default()
        };
        let options = client_options(&config);
        assert_eq!(options.max_reasks, 4);
        assert_eq!(options.retry.max_attempts, 1, "at least the first attempt");
        assert_eq!(options.request_timeout_ms, 90_000);
        assert_eq!(
            options.retry.min_backoff_ms,
            RetryPolicy::default().min_backoff_ms
        );
    }
}

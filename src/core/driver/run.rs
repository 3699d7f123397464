//! [`RunDriver`]: one run's lifecycle, the same for the Run page and for every batch item.
//!
//! - **Start** ([`RunDriver::start`]): the record is stored (`running`) under a free id before
//!   the first call, and the run's lock taken.
//! - **Resume** ([`RunDriver::resume`]): the run's lock (and its batch's, for a batch's run) is
//!   taken, the record and the committed steps are read and checked against the config's loop,
//!   and only then is the record marked `running` again; spend the record counts beyond its
//!   steps is carried into the run ([`Uncommitted`]).
//! - **Drive**: the loop ([`Pipeline`]) commits each step with the record counting it
//!   ([`RunSink`]), priced, under the run's budget and the caller's gate.
//! - **Finish**: the summary is stored, once, and only when the last step did not store it
//!   already (a completed run's judge step writes the final record).
//!
//! A refusal ([`StartError`]) leaves the store as it was and makes no call.

use std::cell::Cell;
use std::rc::Rc;

use crate::core::budget::{BudgetGate, GatePair};
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::config::PipelineConfig;
use crate::core::llm::client::{ClientOptions, LlmClient, StreamListener};
use crate::core::llm::retry::RetryPolicy;
use crate::core::llm::transport::Transport;
use crate::core::llm::{AgentCall, AgentCallError, AgentCompletion, AgentLlm};
use crate::core::pipeline::{
    first_call_in_flight, AllowAll, CallGate, LoopState, NoPricing, Pipeline, PipelineEvent,
    RunInput, RunOutcome, SinkError, StepPricer,
};
use crate::core::pricing::Pricer;
use crate::core::providers::ProviderRegistry;
use crate::core::run_store::{RunSink, RunStore};
use crate::core::sorting;
use crate::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};

use super::error::{StartError, Work};
use super::locks::{Claim, NoLocks, TabLocks};
use super::spend::Uncommitted;
use crate::core::in_flight::recover_in_flight;

/// Where a run's LLM comes from. The run's config says how its calls are made (re-asks,
/// retries, timeouts), so the LLM is made for that config once the driver knows it (a resumed
/// run's config is read with its record). Any [`AgentLlm`] is a source of itself, whatever the
/// config.
pub trait LlmSource {
    /// The LLM made.
    type Llm<'s>: AgentLlm
    where
        Self: 's;
    /// The LLM a run with `config` calls.
    fn llm_for(&self, config: &PipelineConfig) -> Self::Llm<'_>;
    /// The LLM run `run_id` with `config` calls (a reply store needs to know who pays).
    fn llm_for_run(&self, config: &PipelineConfig, _run_id: &str) -> Self::Llm<'_> {
        self.llm_for(config)
    }
}

impl<L: AgentLlm> LlmSource for L {
    type Llm<'s>
        = &'s L
    where
        L: 's;

    fn llm_for(&self, _config: &PipelineConfig) -> &L {
        self
    }
}

/// A borrowed LLM calls as the LLM does.
impl<L: AgentLlm + ?Sized> AgentLlm for &L {
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError> {
        (**self).complete(call, cancel).await
    }

    fn gates_each_request(&self) -> bool {
        (**self).gates_each_request()
    }

    async fn complete_gated(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
        gate: &dyn CallGate,
    ) -> Result<AgentCompletion, AgentCallError> {
        (**self).complete_gated(call, cancel, gate).await
    }
}

/// The providers' client, made for each run with the options its config asks for
/// ([`client_options`]).
#[derive(Clone)]
pub struct ClientSource<T, C> {
    registry: ProviderRegistry,
    transport: T,
    clock: C,
    listener: Option<StreamListener>,
}

impl<T, C> std::fmt::Debug for ClientSource<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSource")
            .field("providers", &self.registry.providers.len())
            .field("listens", &self.listener.is_some())
            .finish()
    }
}

impl<T: Transport + Clone, C: Clock + Clone> ClientSource<T, C> {
    /// Clients of `registry`'s providers over `transport`, timed by `clock`.
    pub fn new(registry: ProviderRegistry, transport: T, clock: C) -> Self {
        ClientSource {
            registry,
            transport,
            clock,
            listener: None,
        }
    }

    /// Clients that report every piece of a streamed reply to `listener`.
    pub fn with_stream_listener(mut self, listener: StreamListener) -> Self {
        self.listener = Some(listener);
        self
    }
}

impl<T: Transport + Clone, C: Clock + Clone> LlmSource for ClientSource<T, C> {
    type Llm<'s>
        = LlmClient<T, C>
    where
        Self: 's;

    fn llm_for(&self, config: &PipelineConfig) -> LlmClient<T, C> {
        let mut client = LlmClient::with_options(
            self.registry.clone(),
            self.transport.clone(),
            self.clock.clone(),
            client_options(config),
        );
        client.set_stream_listener(self.listener.clone());
        client
    }
}

/// The client options a config asks for.
pub fn client_options(config: &PipelineConfig) -> ClientOptions {
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

/// A run to start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewRun<'r> {
    /// The config it runs with (its mode included).
    pub config: &'r PipelineConfig,
    /// The problem text.
    pub problem: &'r str,
    /// The expected final answer, if known.
    pub ground_truth: Option<&'r str>,
    /// The batch it is an item of, if any.
    pub batch_id: Option<&'r str>,
}

/// What the driver reports while it drives a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunEvent<'e> {
    /// The run's record is stored as `running` and its first call goes out next. `committed`
    /// are the steps an earlier session stored (none for a new run).
    Started {
        /// The record as stored.
        record: &'e RunRecord,
        /// The steps the run goes on from.
        committed: &'e [TrajectoryEntry],
    },
    /// The loop reported progress.
    Loop(&'e PipelineEvent),
    /// A step was committed; this is the run's record as stored with it. Reported just before
    /// the loop's [`PipelineEvent::StepFinished`].
    Stored(&'e RunRecord),
    /// The run makes no more calls: what is left is storing its last step or its summary.
    /// Reported once, as early as that is known.
    CallsDone,
}

/// A run the driver drove to its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// The run's record with its summary: as stored, unless `save_error` says otherwise.
    pub record: RunRecord,
    /// What the loop returned: the summary and every committed step.
    pub outcome: RunOutcome,
    /// Whether the run's own budget stopped it (rather than the caller's gate).
    pub stopped_by_run_budget: bool,
    /// Why the summary could not be stored, if it could not: the steps are stored, and the
    /// stored record stays `running` until the run is marked interrupted and resumed.
    pub save_error: Option<SinkError>,
}

/// Drives runs: creates or reopens their records, runs the loop over them and saves their
/// summaries. Every input is borrowed (the LLM, the clock, the store, the locks, the gate, the
/// listener); the prices are shared.
pub struct RunDriver<'a, L, C, S, K = NoLocks> {
    llm: &'a L,
    pub(super) clock: &'a C,
    pub(super) store: &'a S,
    pub(super) locks: &'a K,
    pricer: Option<Rc<Pricer>>,
    gate: &'a dyn CallGate,
    listener: Option<&'a dyn Fn(&RunEvent<'_>)>,
    cancel: CancelToken,
}

impl<'a, L: LlmSource, C: Clock, S: RunStore> RunDriver<'a, L, C, S, NoLocks> {
    /// A driver calling the LLM `llm` makes for each run, timed by `clock`, storing into
    /// `store`; without locks, prices, gate or listener until given, and with a token nobody
    /// cancels.
    pub fn new(llm: &'a L, clock: &'a C, store: &'a S) -> Self {
        RunDriver {
            llm,
            clock,
            store,
            locks: &NoLocks,
            pricer: None,
            gate: &AllowAll,
            listener: None,
            cancel: CancelToken::new(),
        }
    }
}

impl<'a, L: LlmSource, C: Clock, S: RunStore, K: TabLocks> RunDriver<'a, L, C, S, K> {
    /// Takes each run's lock from `locks` while driving it (and a batch's lock for a run of a
    /// batch resumed on its own).
    pub fn with_locks<K2: TabLocks>(self, locks: &'a K2) -> RunDriver<'a, L, C, S, K2> {
        RunDriver {
            llm: self.llm,
            clock: self.clock,
            store: self.store,
            locks,
            pricer: self.pricer,
            gate: self.gate,
            listener: self.listener,
            cancel: self.cancel,
        }
    }

    /// Prices every step with `pricer`, and holds each run to its config's run budget.
    /// Without prices no spend can be measured, so no run budget is enforced.
    pub fn with_pricer(mut self, pricer: Rc<Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Asks `gate` too before every call (a batch's budget), after the run's own budget.
    pub fn with_gate(mut self, gate: &'a dyn CallGate) -> Self {
        self.gate = gate;
        self
    }

    /// Reports progress to `listener`.
    pub fn with_listener(mut self, listener: &'a dyn Fn(&RunEvent<'_>)) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Stops the run when `cancel` fires.
    pub fn with_cancel(mut self, cancel: CancelToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// Stores a new run and drives it to its end.
    pub async fn start(&self, run: NewRun<'_>) -> Result<Finished, StartError> {
        let run_gate = self.run_gate(run.config, 0.0)?;
        let mut record = RunRecord::start(
            "",
            run.config,
            run.config.config_hash(),
            run.problem,
            run.ground_truth.map(str::to_string),
            self.clock.now_ms(),
        );
        record.batch_id = run.batch_id.map(str::to_string);
        // The first call is stored in flight by the write that stores the run.
        let pricer: &dyn StepPricer = self.pricer.as_deref().map_or(&NoPricing, |p| p);
        let input = RunInput {
            run_id: String::new(),
            problem: record.problem.clone(),
            ground_truth: None,
        };
        let first_call_stored =
            match first_call_in_flight(run.config, pricer, self.clock.now_ms(), &input) {
                Some(mut call) => {
                    self.store
                        .create_run_before_call(&mut record, &mut call)
                        .await?
                }
                None => {
                    self.store.create_run_under_free_id(&mut record).await?;
                    false
                }
            };
        // The id is this driver's from its creation on, so its lock is free; held until the
        // run ends.
        let _lock = self.locks.claim(&Work::Run(record.run_id.clone())).await;
        self.emit(&RunEvent::Started {
            record: &record,
            committed: &[],
        });
        let drive = Drive {
            config: run.config,
            record,
            committed: None,
            carried: Uncommitted::default(),
            run_gate,
            first_call_stored,
        };
        self.drive(drive).await
    }

    /// Continues stored run `run_id` from its last committed step and drives it to its end.
    /// A run stored without its config (imported from a file) runs with `offered` when that
    /// config has the run's hash.
    pub async fn resume(
        &self,
        run_id: &str,
        offered: Option<&PipelineConfig>,
    ) -> Result<Finished, StartError> {
        let work = Work::Run(run_id.to_string());
        let _lock = match self.locks.claim(&work).await {
            Claim::Taken => return Err(StartError::OtherTab { work }),
            held => held,
        };
        let Some(mut record) = self.store.get_run(run_id).await? else {
            return Err(StartError::NotFound { work });
        };
        if record.status == RunStatus::Completed {
            return Err(StartError::AlreadyCompleted {
                run_id: run_id.to_string(),
            });
        }
        let config = config_to_resume(&record, offered)?;
        let mut committed = self.store.steps(run_id).await?;
        // The steps, not only the record, say it: a record stored before it kept `judged`
        // reads as not judged.
        if record.judged || committed.iter().any(|e| e.terminal) {
            return Err(StartError::AlreadyJudged {
                run_id: run_id.to_string(),
                status: record.status,
            });
        }
        // A batch's run is driven under the batch's lock: holding it too keeps the batch from
        // resuming the same run meanwhile, here or in another tab.
        let _batch_lock = match &record.batch_id {
            Some(batch_id) => match self.locks.claim(&Work::Batch(batch_id.clone())).await {
                Claim::Taken => {
                    return Err(StartError::BatchGoing {
                        run_id: run_id.to_string(),
                        batch_id: batch_id.clone(),
                    })
                }
                held => Some(held),
            },
            None => None,
        };
        sorting::sort_by_key(&mut committed, |e| e.step_id);
        // Checked before anything is written, so a run whose steps do not fit stays as it was.
        LoopState::replay(config.mode, config.max_iterations, run_id, &committed).map_err(
            |error| StartError::Resume {
                run_id: run_id.to_string(),
                error,
            },
        )?;
        // Calls a closed tab left in flight count as possibly billed from here on, once.
        if let Some(recovered) = recover_in_flight(self.store, run_id).await? {
            record = recovered;
        }
        let carried = Uncommitted::of(&record, &committed);
        let run_gate = self.run_gate(
            &config,
            record.cost_usd.unwrap_or(0.0) + record.possibly_billed_usd,
        )?;
        let before = record.clone();
        record.status = RunStatus::Running;
        record.message = None;
        record.updated_ms = self.clock.now_ms();
        self.store.put_run(&record).await?;
        self.emit(&RunEvent::Started {
            record: &record,
            committed: &committed,
        });
        let drive = Drive {
            config: &config,
            record,
            committed: Some(committed),
            carried,
            run_gate,
            first_call_stored: false,
        };
        match self.drive(drive).await {
            Err(refused) => {
                // The loop checks the steps as the driver did above, so this is not reached;
                // should it be, the run is put back as it was.
                let _ = self.store.put_run(&before).await;
                Err(refused)
            }
            finished => finished,
        }
    }

    /// Ends stored run `run_id` as `failed` with `message`, without driving it, and returns
    /// its record as stored (a batch gives up on an item whose run cannot go on, so that the
    /// run says why). The caller holds the lock that covers the run.
    pub async fn fail_stored(&self, run_id: &str, message: &str) -> Result<RunRecord, StartError> {
        let Some(mut record) = self.store.get_run(run_id).await? else {
            return Err(StartError::NotFound {
                work: Work::Run(run_id.to_string()),
            });
        };
        record.status = RunStatus::Failed;
        record.message = Some(message.to_string());
        record.updated_ms = self.clock.now_ms();
        self.store.put_run(&record).await?;
        Ok(record)
    }

    /// The gate of `config`'s run budget with `spent_usd` spent already; `None` when the
    /// config sets none or nothing is priced.
    pub(super) fn run_gate(
        &self,
        config: &PipelineConfig,
        spent_usd: f64,
    ) -> Result<Option<BudgetGate>, StartError> {
        let (Some(pricer), Some(_)) = (&self.pricer, config.run_budget_usd) else {
            return Ok(None);
        };
        let gate = BudgetGate::capped(
            Rc::clone(pricer),
            "run",
            config.run_budget_usd,
            spent_usd,
            config.max_reasks,
        )?;
        Ok(Some(gate))
    }

    /// Runs the loop over a stored record and saves its summary.
    pub(super) async fn drive(&self, drive: Drive<'_>) -> Result<Finished, StartError> {
        let Drive {
            config,
            mut record,
            committed,
            carried,
            run_gate,
            first_call_stored,
        } = drive;
        let gate = GatePair::new(
            run_gate.as_ref().map_or(&AllowAll as &dyn CallGate, |g| g),
            self.gate,
        );
        let calls_done = Cell::new(false);
        let last_call = || self.calls_done(&calls_done);
        let sink = RunSink::new(self.store).on_last_call(&last_call);
        sink.hold(record.clone());
        let forward = |event: &PipelineEvent| {
            if matches!(event, PipelineEvent::StepFinished { .. }) {
                sink.with_record(|stored| {
                    if let Some(stored) = stored {
                        self.emit(&RunEvent::Stored(stored));
                    }
                });
            }
            self.emit(&RunEvent::Loop(event));
        };
        let pricer: &dyn StepPricer = match &self.pricer {
            Some(pricer) => pricer.as_ref(),
            None => &NoPricing,
        };
        let llm = self.llm.llm_for_run(config, &record.run_id);
        let pipeline = Pipeline::new(config, &llm, self.clock, &sink)
            .with_pricer(pricer)
            .with_gate(&gate)
            .with_listener(&forward)
            .with_cancel(self.cancel.clone())
            .with_first_call_stored(first_call_stored);
        let input = RunInput {
            run_id: record.run_id.clone(),
            problem: record.problem.clone(),
            ground_truth: record.ground_truth.clone(),
        };
        let outcome =
            match committed {
                None => pipeline.run(&input).await,
                Some(committed) => pipeline.resume(&input, committed).await.map_err(|error| {
                    StartError::Resume {
                        run_id: input.run_id.clone(),
                        error,
                    }
                })?,
            };
        self.calls_done(&calls_done);
        let summary = &outcome.summary;
        summary.apply_to(&mut record, self.clock.now_ms());
        carried.add_to(&mut record);
        // A completed run's last step stored the final record already.
        let stored = sink.with_record(|stored| stored.is_some_and(|s| record.matches_stored(s)));
        // Written with the summary: the calls it counts are no longer in flight.
        let save_error = if stored {
            None
        } else {
            self.store.put_run_settling_calls(&record).await.err()
        };
        Ok(Finished {
            stopped_by_run_budget: summary.status == RunStatus::BudgetExceeded
                && gate.first_refused(),
            record,
            outcome,
            save_error,
        })
    }

    fn calls_done(&self, reported: &Cell<bool>) {
        if !reported.replace(true) {
            self.emit(&RunEvent::CallsDone);
        }
    }

    pub(super) fn emit(&self, event: &RunEvent<'_>) {
        if let Some(listener) = self.listener {
            listener(event);
        }
    }
}

/// A stored run about to be driven.
pub(super) struct Drive<'c> {
    pub(super) config: &'c PipelineConfig,
    pub(super) record: RunRecord,
    /// The steps an earlier session committed; `None` for a new run.
    pub(super) committed: Option<Vec<TrajectoryEntry>>,
    pub(super) carried: Uncommitted,
    pub(super) run_gate: Option<BudgetGate>,
    /// Whether the record's creation stored the run's first call in flight.
    pub(super) first_call_stored: bool,
}

/// The config a stored run resumes with: its own, or for a run imported without one,
/// `offered` when it has the run's hash (run in the run's mode, which its steps show).
pub fn config_to_resume(
    record: &RunRecord,
    offered: Option<&PipelineConfig>,
) -> Result<PipelineConfig, StartError> {
    match (&record.config, offered) {
        (Some(config), _) => Ok(config.clone()),
        (None, Some(offered)) if offered.config_hash() == record.config_hash => {
            let mut config = offered.clone();
            config.mode = record.mode;
            Ok(config)
        }
        (None, offered) => Err(StartError::NoConfig {
            run_id: record.run_id.clone(),
            config_hash: record.config_hash.clone(),
            current_hash: offered.map(|c| c.config_hash()).unwrap_or_default(),
        }),
    }
}

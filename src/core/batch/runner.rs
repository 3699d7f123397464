//! Running one batch item: a new run of the item's problem, or the continuation of the run it
//! has, through the same [`RunDriver`] as a single run, under the batch's lock and budget.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::config::{Mode, PipelineConfig};
use crate::core::dataset::Problem;
use crate::core::driver::{Finished, LlmSource, NewRun, RunDriver, RunEvent, StartError};
use crate::core::llm::{AgentCall, AgentCallError, AgentCompletion, AgentLlm, ErrorKind};
use crate::core::pipeline::{AllowAll, CallGate, PipelineEvent};
use crate::core::pricing::Pricer;
use crate::core::run_store::RunStore;
use crate::core::trajectory::{RunRecord, RunStatus};

use super::scheduler::{ItemContext, ItemOutcome, ItemReporter, ItemRunner};
use super::{BatchSpec, ItemKey};

/// Hears every item's loop events (the live transcript of the runs in flight), with the item's
/// position in the batch.
pub type ItemEventListener<'a> = &'a dyn Fn(usize, &ItemKey, &PipelineEvent);

/// The LLMs of a batch's runs, each of which tells the batch scheduler about rate limits (a
/// final [`ErrorKind::RateLimited`] error, after the client's own retries), so it can slow down.
pub struct RateLimitWatch<'a, L> {
    inner: &'a L,
    reporter: &'a ItemReporter,
}

impl<'a, L: LlmSource> RateLimitWatch<'a, L> {
    /// Watches the calls of the LLMs `inner` makes, for one item.
    pub fn new(inner: &'a L, reporter: &'a ItemReporter) -> Self {
        RateLimitWatch { inner, reporter }
    }
}

impl<L: LlmSource> LlmSource for RateLimitWatch<'_, L> {
    type Llm<'s>
        = Watched<'s, L::Llm<'s>>
    where
        Self: 's;

    fn llm_for(&self, config: &PipelineConfig) -> Self::Llm<'_> {
        Watched {
            inner: self.inner.llm_for(config),
            reporter: self.reporter,
        }
    }

    // Each run gets its own LLM, so that a reply store knows which run pays for a reply.
    fn llm_for_run(&self, config: &PipelineConfig, run_id: &str) -> Self::Llm<'_> {
        Watched {
            inner: self.inner.llm_for_run(config, run_id),
            reporter: self.reporter,
        }
    }
}

/// One run's LLM under a [`RateLimitWatch`].
pub struct Watched<'a, M> {
    inner: M,
    reporter: &'a ItemReporter,
}

impl<M: AgentLlm> AgentLlm for Watched<'_, M> {
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError> {
        let result = self.inner.complete(call, cancel).await;
        self.watch(&result);
        result
    }

    fn gates_each_request(&self) -> bool {
        self.inner.gates_each_request()
    }

    async fn complete_gated(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
        gate: &dyn CallGate,
    ) -> Result<AgentCompletion, AgentCallError> {
        let result = self.inner.complete_gated(call, cancel, gate).await;
        self.watch(&result);
        result
    }
}

impl<M> Watched<'_, M> {
    fn watch(&self, result: &Result<AgentCompletion, AgentCallError>) {
        if let Err(e) = result {
            if e.error.kind() == ErrorKind::RateLimited {
                self.reporter.rate_limited(e.error.retry_after_ms());
            }
        }
    }
}

/// Runs batch items through the run driver: the spec's config with the item's mode, the item's
/// problem from the dataset, every step into the store, the batch id on every run.
pub struct PipelineRunner<'a, L, C, S> {
    spec: &'a BatchSpec,
    problems: HashMap<String, Problem>,
    configs: [PipelineConfig; 2],
    llm: &'a L,
    clock: &'a C,
    store: &'a S,
    pricer: Option<Rc<Pricer>>,
    gate: &'a dyn CallGate,
    listener: Option<ItemEventListener<'a>>,
}

impl<'a, L: LlmSource, C: Clock, S: RunStore> PipelineRunner<'a, L, C, S> {
    /// A runner for `spec`'s items over `problems` (the dataset, or at least the spec's
    /// problems), with no pricing and no budget until set.
    pub fn new(
        spec: &'a BatchSpec,
        problems: &[Problem],
        llm: &'a L,
        clock: &'a C,
        store: &'a S,
    ) -> Self {
        let wanted: HashSet<&str> = spec.problem_ids.iter().map(String::as_str).collect();
        let problems = problems
            .iter()
            .filter(|p| wanted.contains(p.id.as_str()))
            .map(|p| (p.id.clone(), p.clone()))
            .collect();
        PipelineRunner {
            spec,
            problems,
            configs: [
                spec.config_for(Mode::Debate),
                spec.config_for(Mode::Baseline),
            ],
            llm,
            clock,
            store,
            pricer: None,
            gate: &AllowAll,
            listener: None,
        }
    }

    /// Prices every step, and holds each item's run to the config's `run_budget_usd` as a
    /// single run is held: a run that reaches it stops `budget_exceeded`, and its item fails
    /// (the batch goes on; only the batch's own budget pauses it).
    pub fn with_pricer(mut self, pricer: Rc<Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Asks `gate` before every call (the batch's shared budget).
    pub fn with_gate(mut self, gate: &'a dyn CallGate) -> Self {
        self.gate = gate;
        self
    }

    /// Passes every loop event of every item to `listener`, with the item it belongs to.
    pub fn with_listener(mut self, listener: ItemEventListener<'a>) -> Self {
        self.listener = Some(listener);
        self
    }

    fn config(&self, mode: Mode) -> &PipelineConfig {
        match mode {
            Mode::Debate => &self.configs[0],
            Mode::Baseline => &self.configs[1],
        }
    }

    /// The item's outcome when the driver refused to start or resume its run.
    async fn refused(
        &self,
        driver: &RunDriver<'_, RateLimitWatch<'_, L>, C, S>,
        run_id: Option<&str>,
        error: StartError,
    ) -> ItemOutcome {
        let Some(run_id) = run_id else {
            return match error {
                StartError::Storage(e) => ItemOutcome::failed(format!(
                    "no run could be created (storage: {e}); resume the batch once storage works"
                )),
                other => ItemOutcome::failed(other.to_string()),
            };
        };
        let mut outcome = match error {
            // Not a failure of the run: the item stays pending and is resumed next time.
            StartError::Storage(e) => ItemOutcome {
                status: RunStatus::Interrupted,
                ..ItemOutcome::failed(format!(
                    "run {run_id} could not be read ({e}); resume the batch once storage works"
                ))
            },
            StartError::NotFound { .. } => ItemOutcome::failed(format!(
                "run {run_id} of this item is no longer stored (deleted?); retry the item to \
                 start it afresh"
            )),
            // Finished meanwhile: the item is done, as its run says.
            StartError::AlreadyCompleted { .. } => match self.store.get_run(run_id).await {
                Ok(Some(record)) => item_outcome(&record, RunStatus::Completed, None),
                _ => ItemOutcome::failed(error.to_string()),
            },
            // Over meanwhile (its judge step is stored): the item ends as its run did.
            StartError::AlreadyJudged { .. } => match self.store.get_run(run_id).await {
                Ok(Some(record)) => item_outcome(&record, record.status, record.message.clone()),
                _ => ItemOutcome::failed(error.to_string()),
            },
            // The steps cannot be continued by this config: the run says so too, so that the
            // item stays failed after a reload.
            StartError::Resume { .. } => {
                let message = error.to_string();
                match driver.fail_stored(run_id, &message).await {
                    Ok(record) => item_outcome(&record, RunStatus::Failed, Some(message)),
                    Err(_) => ItemOutcome::failed(message),
                }
            }
            other => ItemOutcome::failed(other.to_string()),
        };
        outcome.run_id = Some(run_id.to_string());
        outcome
    }
}

/// An item's outcome from its run's record.
fn item_outcome(record: &RunRecord, status: RunStatus, message: Option<String>) -> ItemOutcome {
    ItemOutcome {
        run_id: Some(record.run_id.clone()),
        status,
        message,
        cost_usd: record.cost_usd,
        cost_complete: record.cost_complete,
        possibly_billed_usd: record.possibly_billed_usd,
        stop_reason: record.stop_reason,
    }
}

/// An item's outcome from its finished run.
fn finished_outcome(finished: Finished) -> ItemOutcome {
    let summary = &finished.outcome.summary;
    // The run keeps `budget_exceeded`; its item fails rather than pausing the batch, whose
    // budget is not what ran out.
    let status = if summary.status == RunStatus::BudgetExceeded && finished.stopped_by_run_budget {
        RunStatus::Failed
    } else {
        summary.status
    };
    let mut message = summary.message.clone();
    if let Some(e) = &finished.save_error {
        // The steps are stored; only the summary is stale, and resuming repairs it.
        let note = format!("the run's summary could not be saved ({e})");
        message = Some(match message {
            Some(m) => format!("{m}; {note}"),
            None => note,
        });
    }
    item_outcome(&finished.record, status, message)
}

impl<L: LlmSource, C: Clock, S: RunStore> ItemRunner for PipelineRunner<'_, L, C, S> {
    async fn run_item(&self, item: ItemContext) -> ItemOutcome {
        let Some(problem) = self.problems.get(&item.key.problem_id) else {
            return ItemOutcome::failed(format!(
                "problem `{}` is not in the dataset given to the batch",
                item.key.problem_id
            ));
        };
        let fresh = item.resume_run_id.is_none();
        let listener = |event: &RunEvent<'_>| match event {
            RunEvent::Started { record, .. } if fresh => item.reporter.run_started(&record.run_id),
            RunEvent::Loop(event) => {
                if let Some(listener) = self.listener {
                    listener(item.index, &item.key, event);
                }
            }
            // The next item may start its calls while this one's last step or summary is
            // stored.
            RunEvent::CallsDone => item.reporter.calls_done(),
            RunEvent::Started { .. } | RunEvent::Stored(_) => {}
        };
        let llm = RateLimitWatch::new(self.llm, &item.reporter);
        let mut driver = RunDriver::new(&llm, self.clock, self.store)
            .with_gate(self.gate)
            .with_listener(&listener)
            .with_cancel(item.cancel.clone());
        if let Some(pricer) = &self.pricer {
            driver = driver.with_pricer(Rc::clone(pricer));
        }
        let result = match &item.resume_run_id {
            None => {
                let run = NewRun {
                    config: self.config(item.key.mode),
                    problem: &problem.problem,
                    ground_truth: problem.ground_truth.as_deref(),
                    batch_id: Some(&self.spec.batch_id),
                };
                driver.start(run).await
            }
            Some(run_id) => driver.resume(run_id, None).await,
        };
        match result {
            Ok(finished) => finished_outcome(finished),
            Err(error) => {
                self.refused(&driver, item.resume_run_id.as_deref(), error)
                    .await
            }
        }
    }
}

//! Running one batch item through the agent loop: a fresh run, or the continuation of a run
//! from its committed steps.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::core::budget::{BudgetGate, GatePair};
use crate::core::cancel::CancelToken;
use crate::core::clock::Clock;
use crate::core::config::{Mode, PipelineConfig};
use crate::core::dataset::Problem;
use crate::core::llm::{AgentCall, AgentCallError, AgentCompletion, AgentLlm, ErrorKind};
use crate::core::pipeline::{
    AllowAll, CallGate, NoPricing, Pipeline, PipelineEvent, RunInput, RunOutcome, SinkError,
    StepPricer,
};
use crate::core::pricing::Pricer;
use crate::core::run_store::{create_under_free_id, RunSink, RunStore};
use crate::core::trajectory::{RunRecord, RunStatus};

use super::scheduler::{ItemContext, ItemOutcome, ItemReporter, ItemRunner};
use super::{BatchSpec, ItemKey};

/// Hears every item's loop events (the live transcript of the runs in flight).
pub type ItemEventListener<'a> = &'a dyn Fn(&ItemKey, &PipelineEvent);

/// An [`AgentLlm`] that passes calls through and tells the batch scheduler about rate limits
/// (a final [`ErrorKind::RateLimited`] error, after the client's own retries), so it can slow down.
pub struct RateLimitWatch<'a, L> {
    inner: &'a L,
    reporter: &'a ItemReporter,
}

impl<'a, L: AgentLlm> RateLimitWatch<'a, L> {
    /// Watches `inner`'s calls for one item.
    pub fn new(inner: &'a L, reporter: &'a ItemReporter) -> Self {
        RateLimitWatch { inner, reporter }
    }
}

impl<L: AgentLlm> AgentLlm for RateLimitWatch<'_, L> {
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError> {
        let result = self.inner.complete(call, cancel).await;
        if let Err(e) = &result {
            if e.error.kind() == ErrorKind::RateLimited {
                self.reporter.rate_limited(e.error.retry_after_ms());
            }
        }
        result
    }
}

/// Runs batch items through the agent loop: the spec's config with the item's mode, the
/// item's problem from the dataset, every step into the store, the batch id on every run.
pub struct PipelineRunner<'a, L, C, S> {
    spec: &'a BatchSpec,
    problems: HashMap<String, Problem>,
    configs: [(PipelineConfig, String); 2],
    llm: &'a L,
    clock: &'a C,
    store: &'a S,
    pricer: &'a dyn StepPricer,
    gate: &'a dyn CallGate,
    run_budget_pricer: Option<Rc<Pricer>>,
    listener: Option<ItemEventListener<'a>>,
    claimed: RefCell<HashSet<String>>,
}

impl<'a, L: AgentLlm, C: Clock, S: RunStore> PipelineRunner<'a, L, C, S> {
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
        let config = |mode| {
            let config = spec.config_for(mode);
            let hash = config.config_hash();
            (config, hash)
        };
        PipelineRunner {
            spec,
            problems,
            configs: [config(Mode::Debate), config(Mode::Baseline)],
            llm,
            clock,
            store,
            pricer: &NoPricing,
            gate: &AllowAll,
            run_budget_pricer: None,
            listener: None,
            claimed: RefCell::default(),
        }
    }

    /// Prices every step.
    pub fn with_pricer(mut self, pricer: &'a dyn StepPricer) -> Self {
        self.pricer = pricer;
        self
    }

    /// Asks `gate` before every call (the batch's shared budget).
    pub fn with_gate(mut self, gate: &'a dyn CallGate) -> Self {
        self.gate = gate;
        self
    }

    /// Holds each item's run to the config's `run_budget_usd` too, priced by `pricer`, as a
    /// single run is held: a run that reaches it stops `budget_exceeded`, and its item fails
    /// (the batch goes on; only the batch's own budget pauses it).
    pub fn with_run_budgets(mut self, pricer: Rc<Pricer>) -> Self {
        self.run_budget_pricer = Some(pricer);
        self
    }

    /// Passes every loop event of every item to `listener`, with the item it belongs to.
    pub fn with_listener(mut self, listener: ItemEventListener<'a>) -> Self {
        self.listener = Some(listener);
        self
    }

    fn config(&self, mode: Mode) -> &(PipelineConfig, String) {
        match mode {
            Mode::Debate => &self.configs[0],
            Mode::Baseline => &self.configs[1],
        }
    }

    /// The gate of an item's own run budget, counting what a resumed run spent before; `None`
    /// when runs have no budget here.
    async fn run_gate(
        &self,
        config: &PipelineConfig,
        resume_run_id: Option<&str>,
    ) -> Result<Option<BudgetGate>, ItemOutcome> {
        let (Some(pricer), Some(_)) = (&self.run_budget_pricer, config.run_budget_usd) else {
            return Ok(None);
        };
        let spent = match resume_run_id {
            Some(run_id) => match self.store.get_run(run_id).await {
                Ok(record) => record.and_then(|r| r.cost_usd).unwrap_or(0.0),
                Err(e) => return Err(unreadable_run(run_id, &e)),
            },
            None => 0.0,
        };
        BudgetGate::capped(
            Rc::clone(pricer),
            "run",
            config.run_budget_usd,
            spent,
            config.max_reasks,
        )
        .map(Some)
        .map_err(|e| ItemOutcome::failed(format!("{e}; fix the run budget of the batch's config")))
    }

    async fn fresh(
        &self,
        item: &ItemContext,
        problem: &Problem,
        pipeline: &Pipeline<'_, RateLimitWatch<'_, L>, C, RunSink<'_, S>>,
        sink: &RunSink<'_, S>,
    ) -> Result<(RunRecord, RunOutcome), ItemOutcome> {
        let (config, hash) = self.config(item.key.mode);
        let now = self.clock.now_ms();
        // The id is chosen as the record is stored; ids tried by this runner are never tried
        // again, so items starting together do not race for the same one.
        let mut record = RunRecord::start(
            "",
            config,
            hash.clone(),
            problem.problem.clone(),
            problem.ground_truth.clone(),
            now,
        );
        record.batch_id = Some(self.spec.batch_id.clone());
        create_under_free_id(&mut record, &self.claimed, async |r: &RunRecord| {
            self.store.create_run_if_free(r).await
        })
        .await
        .map_err(|e| {
            ItemOutcome::failed(format!(
                "no run could be created (storage: {e}); resume the batch once storage works"
            ))
        })?;
        let run_id = record.run_id.clone();
        sink.hold(record.clone());
        item.reporter.run_started(&run_id);
        let outcome = pipeline.run(&self.input(&run_id, problem)).await;
        Ok((record, outcome))
    }

    async fn resumed(
        &self,
        run_id: &str,
        problem: &Problem,
        pipeline: &Pipeline<'_, RateLimitWatch<'_, L>, C, RunSink<'_, S>>,
        sink: &RunSink<'_, S>,
    ) -> Result<(RunRecord, RunOutcome), ItemOutcome> {
        let storage = |e: SinkError| unreadable_run(run_id, &e);
        let mut record = match self.store.get_run(run_id).await.map_err(storage)? {
            Some(record) => record,
            None => {
                return Err(ItemOutcome::failed(format!(
                    "run {run_id} of this item is no longer stored (deleted?); retry the item to \
                     start it afresh"
                )))
            }
        };
        let steps = self.store.steps(run_id).await.map_err(storage)?;
        record.status = RunStatus::Running;
        record.message = None;
        record.updated_ms = self.clock.now_ms();
        self.store.put_run(&record).await.map_err(storage)?;
        sink.hold(record.clone());
        match pipeline.resume(&self.input(run_id, problem), steps).await {
            Ok(outcome) => Ok((record, outcome)),
            Err(e) => {
                let message = format!("run {run_id} cannot be resumed: {e}");
                record.status = RunStatus::Failed;
                record.message = Some(message.clone());
                record.updated_ms = self.clock.now_ms();
                // The failure is reported either way; a failed save only loses the message.
                let _ = self.store.put_run(&record).await;
                Err(ItemOutcome {
                    run_id: Some(run_id.to_string()),
                    status: RunStatus::Failed,
                    message: Some(message),
                    cost_usd: record.cost_usd,
                    cost_complete: record.cost_complete,
                })
            }
        }
    }

    fn input(&self, run_id: &str, problem: &Problem) -> RunInput {
        RunInput {
            run_id: run_id.to_string(),
            problem: problem.problem.clone(),
            ground_truth: problem.ground_truth.clone(),
        }
    }
}

/// The outcome of an item whose stored run could not be read: not a failure of the run, so it
/// stays pending and is resumed next time.
fn unreadable_run(run_id: &str, error: &SinkError) -> ItemOutcome {
    let mut outcome = ItemOutcome::failed(format!(
        "run {run_id} could not be read ({error}); resume the batch once storage works"
    ));
    outcome.status = RunStatus::Interrupted;
    outcome.run_id = Some(run_id.to_string());
    outcome
}

impl<L: AgentLlm, C: Clock, S: RunStore> ItemRunner for PipelineRunner<'_, L, C, S> {
    async fn run_item(&self, item: ItemContext) -> ItemOutcome {
        let Some(problem) = self.problems.get(&item.key.problem_id) else {
            return ItemOutcome::failed(format!(
                "problem `{}` is not in the dataset given to the batch",
                item.key.problem_id
            ));
        };
        let (config, _) = self.config(item.key.mode);
        let run_gate = match self.run_gate(config, item.resume_run_id.as_deref()).await {
            Ok(gate) => gate,
            Err(outcome) => return outcome,
        };
        let gate = GatePair::new(
            run_gate.as_ref().map_or(&AllowAll as &dyn CallGate, |g| g),
            self.gate,
        );
        let llm = RateLimitWatch::new(self.llm, &item.reporter);
        let forward = |event: &PipelineEvent| {
            if let Some(listener) = self.listener {
                listener(&item.key, event);
            }
        };
        // The next item may start its calls while this one's last step is committed.
        let last_call = || item.reporter.calls_done();
        let sink = RunSink::new(self.store).on_last_call(&last_call);
        let pipeline = Pipeline::new(config, &llm, self.clock, &sink)
            .with_pricer(self.pricer)
            .with_gate(&gate)
            .with_listener(&forward)
            .with_cancel(item.cancel.clone());
        let started = match &item.resume_run_id {
            Some(run_id) => self.resumed(run_id, problem, &pipeline, &sink).await,
            None => self.fresh(&item, problem, &pipeline, &sink).await,
        };
        let (mut record, outcome) = match started {
            Ok(started) => started,
            Err(outcome) => return outcome,
        };
        // The run has made its last call (said already when its last step was the judge's): the
        // next item may start its calls while this one's summary is stored.
        item.reporter.calls_done();
        let summary = &outcome.summary;
        summary.apply_to(&mut record, self.clock.now_ms());
        let mut message = summary.message.clone();
        // The run keeps `budget_exceeded`; its item fails rather than pausing the batch, whose
        // budget is not what ran out.
        let status = if summary.status == RunStatus::BudgetExceeded && gate.first_refused() {
            RunStatus::Failed
        } else {
            summary.status
        };
        // A completed run's last step wrote its summary already.
        let written = sink
            .record()
            .is_some_and(|stored| record.matches_stored(&stored));
        let saved = if written {
            Ok(())
        } else {
            self.store.put_run(&record).await
        };
        if let Err(e) = saved {
            // The steps are stored; only the summary is stale, and resuming repairs it.
            let note = format!("the run's summary could not be saved ({e})");
            message = Some(match message {
                Some(m) => format!("{m}; {note}"),
                None => note,
            });
        }
        ItemOutcome {
            run_id: Some(record.run_id),
            status,
            message,
            cost_usd: summary.cost_usd,
            cost_complete: summary.cost_complete,
        }
    }
}

//! The agent loop: solver → verifier → … → judge, with the original's semantics, every step
//! committed to a [`TrajectorySink`] before the next call, and resumable from what was committed.
//!
//! Debate mode: for iteration 1..=`max_iterations` the solver generates (feedback: empty the
//! first time, then the last critique); if it produced a non-empty solution the verifier
//! validates it. The loop stops when the verifier passes, when the iterations run out, or when
//! the critiques go circular ([`state::is_circular`]); otherwise the critique becomes the next
//! feedback. A failed solver step leaves the solution empty and skips the verifier; a failed
//! verifier step counts as not passed. The judge always scores the final solution; a failed
//! judge step scores 0.0. Baseline mode: one solver step, then the judge.
//!
//! Failed calls are logged as steps (`output: {error_type, error_message}`) and the run goes on,
//! as in the original. What stops a run early: cancellation (`cancelled`), a [`CallGate`]
//! refusal (`budget_exceeded`), a storage failure, a prompt that cannot be rendered, or a call
//! the provider failed after every retry ([`is_provider_failure`](crate::core::llm::LlmError::is_provider_failure): an outage is no
//! answer of the model's, so it is not logged as one) (`failed`). Stopped runs can be continued with [`Pipeline::resume`].
//!
//! ## Reward and success
//! The judge's step is always the terminal one (`terminal: true`). With a ground truth, the
//! final solution's answer is checked ([`crate::core::answer::check_solution`]) and the terminal
//! step carries `reward` 1.0 / 0.0 and `success` true / false. Without a ground truth both stay
//! `null`: the judge's score is a different signal (a rubric grade, not correctness), already
//! logged in the judge's output, and training code that filters on `success` or `reward` must not
//! mistake it for a checked answer.

pub mod events;
pub mod hooks;
pub mod prompt;
pub mod sent;
pub mod state;

pub use events::{PipelineEvent, RunOutcome, RunSummary, StopReason};
pub use hooks::{
    AllowAll, CallGate, GateRefusal, MemorySink, NoListener, NoPricing, PipelineListener,
    SinkError, StepPricer, TrajectorySink,
};
pub use prompt::{agent_call, StepVars};
pub use sent::{messages_of_step, SentError, SentMessages};
pub use state::{LoopState, NextStep, ResumeError};

use serde_json::{json, Map, Value};

use crate::core::answer::{check_solution, extract_answer};
use crate::core::budget::{priced_worst_case, CallEstimate};
use crate::core::cancel::CancelToken;
use crate::core::clock::{iso8601_utc, Clock};
use crate::core::config::{Mode, PipelineConfig};
use crate::core::cost::call_cost;
use crate::core::in_flight::InFlightCall;
use crate::core::llm::stream::StreamStats;
use crate::core::llm::{
    AgentCall, AgentCallError, AgentCompletion, AgentLlm, AttemptKind, AttemptRecord, ErrorKind,
    Thinking, Usage,
};
use crate::core::replies::llm::ReplyProvenance;
use crate::core::role::AgentRole;
use crate::core::sorting;
use crate::core::template::{self, placeholders, TemplateError};
use crate::core::trajectory::{
    error_output, RunStatus, StepMetadata, StepTotals, TokenUsage, TrajectoryEntry,
};

/// What a run is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInput {
    /// The run id (see [`crate::core::trajectory::run_id`]).
    pub run_id: String,
    /// The problem text, given to every agent as `{problem}`.
    pub problem: String,
    /// The expected final answer, if known; enables reward and success.
    pub ground_truth: Option<String>,
}

/// One configured pipeline, ready to run problems.
///
/// Borrowed pieces: the config, the LLM, the clock, the sink; optional hooks default to no
/// pricing, no gate, no listener and a token nobody cancels.
pub struct Pipeline<'a, L, C, S> {
    config: &'a PipelineConfig,
    config_hash: String,
    llm: &'a L,
    clock: &'a C,
    sink: &'a S,
    pricer: &'a dyn StepPricer,
    gate: &'a dyn CallGate,
    listener: &'a dyn PipelineListener,
    cancel: CancelToken,
    first_call_stored: bool,
}

/// How one call ended, before it becomes an entry.
struct Settled {
    output: Map<String, Value>,
    usage: Usage,
    usage_complete: bool,
    attempts: Vec<AttemptRecord>,
    provider: Option<String>,
    finish_reason: Option<String>,
    latency_ms: f64,
    cost_usd: Option<f64>,
    provenance: Option<ReplyProvenance>,
    thinking: Option<Thinking>,
    stream: Option<StreamStats>,
    /// The worst case of the call's requests that got no reply (0 when none).
    possibly_billed_usd: f64,
}

/// The next call, prepared before the step that leads to it is committed.
struct Prepared {
    step_id: u64,
    call: AgentCall,
    step_input: Map<String, Value>,
    /// Its record in flight, when it may cost anything.
    in_flight: Option<InFlightCall>,
    /// Whether the step's commit stored `in_flight`.
    in_flight_stored: bool,
}

/// Running sums for the summary: committed steps plus calls that never became one.
struct Ledger {
    totals: StepTotals,
    extra_usage: Usage,
    extra_cost: Option<f64>,
    extra_complete: bool,
    extra_possibly_billed: f64,
}

impl Ledger {
    fn spent_uncommitted(&mut self, usage: &Usage, cost: Option<f64>, possibly_billed_usd: f64) {
        self.extra_possibly_billed += possibly_billed_usd;
        self.extra_usage.add(usage);
        match cost {
            Some(c) => *self.extra_cost.get_or_insert(0.0) += c,
            None if usage.total_tokens > 0 => self.extra_complete = false,
            None => {}
        }
    }
}

impl<'a, L: AgentLlm, C: Clock, S: TrajectorySink> Pipeline<'a, L, C, S> {
    /// A pipeline for `config`. Its hash ([`PipelineConfig::config_hash`]) is computed once here
    /// and stamped on every step.
    pub fn new(config: &'a PipelineConfig, llm: &'a L, clock: &'a C, sink: &'a S) -> Self {
        Pipeline {
            config,
            config_hash: config.config_hash(),
            llm,
            clock,
            sink,
            pricer: &NoPricing,
            gate: &AllowAll,
            listener: &NoListener,
            cancel: CancelToken::new(),
            first_call_stored: false,
        }
    }

    /// Says that a new run's first call is stored in flight already ([`first_call_in_flight`],
    /// stored with the run's record), so the loop sends it without recording it again.
    pub fn with_first_call_stored(mut self, stored: bool) -> Self {
        self.first_call_stored = stored;
        self
    }

    /// Prices each step (`metadata.cost_usd` and the summary's cost).
    pub fn with_pricer(mut self, pricer: &'a dyn StepPricer) -> Self {
        self.pricer = pricer;
        self
    }

    /// Asks `gate` before every call (budgets).
    pub fn with_gate(mut self, gate: &'a dyn CallGate) -> Self {
        self.gate = gate;
        self
    }

    /// Reports progress to `listener`.
    pub fn with_listener(mut self, listener: &'a dyn PipelineListener) -> Self {
        self.listener = listener;
        self
    }

    /// Stops the run when `cancel` fires.
    pub fn with_cancel(mut self, cancel: CancelToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// Runs a problem from the first step.
    pub async fn run(&self, input: &RunInput) -> RunOutcome {
        let state = LoopState::new(self.config.mode, self.config.max_iterations);
        self.drive(input, state, Vec::new()).await
    }

    /// Continues a run from its committed entries (any order; they are sorted by step id),
    /// making only the steps that are missing. A run whose judge has scored is returned as it
    /// is, without any call.
    pub async fn resume(
        &self,
        input: &RunInput,
        mut committed: Vec<TrajectoryEntry>,
    ) -> Result<RunOutcome, ResumeError> {
        sorting::sort_by_key(&mut committed, |e| e.step_id);
        let state = LoopState::replay(
            self.config.mode,
            self.config.max_iterations,
            &input.run_id,
            &committed,
        )?;
        Ok(self.drive(input, state, committed).await)
    }

    async fn drive(
        &self,
        input: &RunInput,
        mut state: LoopState,
        mut entries: Vec<TrajectoryEntry>,
    ) -> RunOutcome {
        let mut ledger = Ledger {
            totals: StepTotals::of(&entries),
            extra_usage: Usage::default(),
            extra_cost: None,
            extra_complete: true,
            extra_possibly_billed: 0.0,
        };
        let (status, message, stop_reason) = 'run: {
            if let Err(message) = self.check_templates() {
                break 'run (RunStatus::Failed, Some(message), Some(StopReason::Error));
            }
            // The next call, prepared before the step that leads to it was committed, and
            // whether that commit stored it as in flight (one write instead of two).
            let mut prepared: Option<Prepared> = None;
            loop {
                let next = state.next;
                let Some(role) = next.role() else {
                    break 'run (
                        final_status(&state),
                        final_message(&state),
                        state.stop_reason,
                    );
                };
                if self.cancel.is_cancelled() {
                    break 'run (
                        RunStatus::Cancelled,
                        Some(cancelled_message(entries.len())),
                        Some(StopReason::Cancelled),
                    );
                }
                let step_id = entries.len() as u64 + 1;
                let ready = prepared.take().filter(|p| p.step_id == step_id);
                let in_flight_stored = ready.as_ref().is_some_and(|p| p.in_flight_stored)
                    || (step_id == 1 && self.first_call_stored);
                let ready = ready.map(|p| (p.call, p.step_input));
                let (call, step_input) =
                    match ready.map_or_else(|| self.prepare(role, &state, &input.problem), Ok) {
                        Ok(prepared) => prepared,
                        Err(e) => {
                            let message = format!("the {role} prompt could not be rendered: {e}");
                            break 'run (RunStatus::Failed, Some(message), Some(StopReason::Error));
                        }
                    };
                // An LLM that asks before each later request needs only its first to fit now.
                let admitted = if self.llm.gates_each_request() {
                    self.gate.before_first_request(&call)
                } else {
                    self.gate.before_call(&call)
                };
                if let Err(refusal) = admitted {
                    let message = format!("stopped before {next}: {refusal}");
                    break 'run (
                        RunStatus::BudgetExceeded,
                        Some(message),
                        Some(StopReason::Budget),
                    );
                }
                let recorded = if in_flight_stored {
                    Ok(())
                } else {
                    self.record_in_flight(input, step_id, &call).await
                };
                if let Err(e) = recorded {
                    // Nothing was sent: the reservation is handed back whole.
                    self.gate.after_call(&call, &Usage::default(), Some(0.0));
                    let message = format!(
                        "storage failed: the {role}'s call could not be recorded before it was \
                         sent ({e}); the {} earlier steps are saved, and the run can be resumed \
                         once storage works",
                        entries.len()
                    );
                    break 'run (RunStatus::Failed, Some(message), Some(StopReason::Error));
                }
                self.listener.on_event(&PipelineEvent::StepStarted {
                    step_id,
                    agent: role,
                    iteration: next.iteration(),
                });
                let started = self.clock.now_ms();
                let result = self
                    .llm
                    .complete_gated(&call, &self.cancel, self.gate)
                    .await;
                let settled = match result {
                    Err(e)
                        if e.error.kind() == ErrorKind::Cancelled || self.cancel.is_cancelled() =>
                    {
                        let cost = self.price_failure(&call, &e);
                        let possibly = self.failure_possibly_billed(&call, &e);
                        self.gate.possibly_billed(&call, possibly);
                        self.gate.after_call(&call, &e.usage, cost);
                        ledger.spent_uncommitted(&e.usage, cost, possibly);
                        break 'run (
                            RunStatus::Cancelled,
                            Some(cancelled_message(entries.len())),
                            Some(StopReason::Cancelled),
                        );
                    }
                    // The provider, not the model, failed, and the retries did not get past
                    // it: no step is written (it would read as the model's answer), and the
                    // run stops where resume sends the same request again.
                    Err(e) if e.error.is_provider_failure() => {
                        let cost = self.price_failure(&call, &e);
                        let possibly = self.failure_possibly_billed(&call, &e);
                        self.gate.possibly_billed(&call, possibly);
                        self.gate.after_call(&call, &e.usage, cost);
                        ledger.spent_uncommitted(&e.usage, cost, possibly);
                        let message = provider_failure_message(role, &e, entries.len());
                        break 'run (RunStatus::Failed, Some(message), Some(StopReason::Provider));
                    }
                    Err(e) => self.settle_failure(&call, e, self.clock.now_ms() - started),
                    Ok(completion) => self.settle_success(role, &call, completion),
                };
                if let Some(tokens) = first_prompt_tokens(&settled.attempts) {
                    self.gate.prompt_tokens_reported(&call, tokens);
                }
                self.gate
                    .possibly_billed(&call, settled.possibly_billed_usd);
                self.gate
                    .after_call(&call, &settled.usage, settled.cost_usd);
                let mut entry = self.entry(
                    input,
                    step_id,
                    role,
                    next.iteration(),
                    step_input,
                    &call,
                    &settled,
                );
                if role == AgentRole::Judge {
                    entry.terminal = true;
                    entry.metadata.stop_reason = state.stop_reason;
                    entry.metadata.status = Some(final_status(&state));
                    entry.metadata.extracted_answer = Some(final_answer(input, &state));
                    // Only an answer can be checked: with no solution there is nothing to
                    // grade, and a 0 would read as a wrong answer rather than none.
                    if let (Some(truth), true) = (&input.ground_truth, has_answer(&state)) {
                        let check = check_solution(&state.solution, truth);
                        entry.reward = Some(if check.correct { 1.0 } else { 0.0 });
                        entry.success = Some(check.correct);
                    }
                }
                // The state moves on only once the step is stored, so a storage failure leaves
                // the summary describing what was committed.
                let mut after = state.clone();
                after.advance(&entry);
                // The next call is stored as in flight with this step, when it may cost
                // anything: its request goes out as soon as the commit is done. A call the
                // run then does not make (a budget, a cancel) is settled with the run's end.
                let mut next = self.prepare_next(input, &after, step_id + 1);
                let committed = match next.as_mut() {
                    Some(Prepared {
                        in_flight: Some(call),
                        in_flight_stored,
                        ..
                    }) => self
                        .sink
                        .append_before_call(&entry, call)
                        .await
                        .map(|stored| {
                            *in_flight_stored = stored;
                        }),
                    _ => self.sink.append(&entry).await,
                };
                prepared = next;
                if let Err(e) = committed {
                    ledger.spent_uncommitted(
                        &settled.usage,
                        settled.cost_usd,
                        settled.possibly_billed_usd,
                    );
                    let message = format!(
                        "storage failed: step {step_id} ({role}) could not be saved ({e}); the {} \
                         earlier steps are saved, and the run can be resumed once storage works",
                        entries.len()
                    );
                    break 'run (RunStatus::Failed, Some(message), Some(StopReason::Error));
                }
                state = after;
                ledger.totals.add(&entry);
                entries.push(entry.clone());
                self.listener.on_event(&PipelineEvent::StepFinished {
                    entry: Box::new(entry),
                    usage: settled.usage,
                    cost_usd: settled.cost_usd,
                    latency_ms: settled.latency_ms,
                });
            }
        };
        let summary = self.summary(input, &state, &ledger, (status, message, stop_reason));
        self.listener.on_event(&PipelineEvent::RunFinished {
            summary: summary.clone(),
        });
        RunOutcome { summary, entries }
    }

    fn check_templates(&self) -> Result<(), String> {
        let c = self.config;
        let mut prompts = vec![(
            AgentRole::Solver,
            &c.solver.prompt_template,
            placeholders::SOLVER,
        )];
        if c.mode == Mode::Debate {
            prompts.push((
                AgentRole::Verifier,
                &c.verifier.prompt_template,
                placeholders::VERIFIER,
            ));
        }
        prompts.push((
            AgentRole::Judge,
            &c.judge.prompt_template,
            placeholders::JUDGE,
        ));
        for (role, prompt, allowed) in prompts {
            template::check(prompt, allowed)
                .map_err(|e| format!("the {role} prompt cannot be used: {e}"))?;
        }
        Ok(())
    }

    /// The call for the next step, and the step's `input` object.
    fn prepare(
        &self,
        role: AgentRole,
        state: &LoopState,
        problem: &str,
    ) -> Result<(AgentCall, Map<String, Value>), TemplateError> {
        let vars = StepVars {
            problem,
            feedback: &state.feedback,
            solution: &state.solution,
        };
        let call = prompt::agent_call(self.config, role, &vars)?;
        Ok((call, vars.to_input(role)))
    }

    fn settle_success(&self, role: AgentRole, call: &AgentCall, c: AgentCompletion) -> Settled {
        let cost_usd = match c.provenance.as_ref().and_then(|p| p.reused_from.as_ref()) {
            // Another run paid for this reply.
            Some(_) => Some(0.0),
            None => self.price_call(&c.provider, &c.model, &c.attempts, &c.usage),
        };
        let possibly_billed_usd = self.possibly_billed(call, &c.provider, &c.model, &c.attempts);
        // An output of another role breaks the AgentLlm contract; it is logged as the failed
        // step it is rather than read as this role's.
        let output = if c.output.role() == role {
            c.output.to_object()
        } else {
            let message = format!(
                "the {role}'s call returned the {}'s output",
                c.output.role()
            );
            error_object(ErrorKind::InvalidOutput.as_str(), &message)
        };
        Settled {
            output,
            usage: c.usage,
            usage_complete: c.usage_complete,
            attempts: c.attempts,
            provider: Some(c.provider),
            finish_reason: c.finish_reason,
            latency_ms: c.latency_ms,
            cost_usd,
            provenance: c.provenance,
            thinking: c.thinking,
            stream: c.stream,
            possibly_billed_usd,
        }
    }

    fn price_failure(&self, call: &AgentCall, e: &AgentCallError) -> Option<f64> {
        let provider = e.error.provider().unwrap_or("");
        self.price_call(provider, &call.model, &e.attempts, &e.usage)
    }

    /// A call's cost, its requests priced one by one as providers bill them (see
    /// [`call_cost`]): the same figure re-pricing gives for the stored step.
    fn price_call(
        &self,
        provider: &str,
        model: &str,
        attempts: &[AttemptRecord],
        usage: &Usage,
    ) -> Option<f64> {
        let at = Some(self.clock.now_ms());
        call_cost(attempts, usage, |u, via| {
            self.pricer.price_sent(provider, model, u, at, via)
        })
    }

    fn settle_failure(&self, call: &AgentCall, e: AgentCallError, latency_ms: f64) -> Settled {
        let cost_usd = self.price_failure(call, &e);
        let possibly_billed_usd = self.failure_possibly_billed(call, &e);
        // A request that failed outright (HTTP error, timeout) was not billed, so its missing
        // usage leaves nothing unknown; one that got a reply without usage does.
        let usage_complete = e
            .attempts
            .iter()
            .all(|a| a.usage.is_some() || a.error.is_some());
        Settled {
            output: error_object(e.error.kind().as_str(), &e.error.to_string()),
            usage: e.usage,
            usage_complete,
            provider: e.error.provider().map(str::to_string),
            attempts: e.attempts,
            finish_reason: None,
            latency_ms,
            cost_usd,
            provenance: None,
            thinking: None,
            stream: None,
            possibly_billed_usd,
        }
    }

    /// Stores the call as in flight before it is sent, when it may cost anything.
    async fn record_in_flight(
        &self,
        input: &RunInput,
        step_id: u64,
        call: &AgentCall,
    ) -> Result<(), SinkError> {
        match self.in_flight_call(input, step_id, call) {
            Some(in_flight) => self.sink.call_started(&in_flight).await,
            None => Ok(()),
        }
    }

    /// The record of `call` in flight as step `step_id`; `None` for a free or unpriced call,
    /// which would leave nothing to count.
    fn in_flight_call(
        &self,
        input: &RunInput,
        step_id: u64,
        call: &AgentCall,
    ) -> Option<InFlightCall> {
        in_flight_call(
            self.config,
            self.pricer,
            self.clock.now_ms(),
            input,
            step_id,
            call,
        )
    }

    /// The call the loop makes next from `state`, as step `step_id`, prepared ahead (`None`
    /// when the loop makes none, or its prompt cannot be rendered: the loop finds that again
    /// and says so).
    fn prepare_next(&self, input: &RunInput, state: &LoopState, step_id: u64) -> Option<Prepared> {
        let role = state.next.role()?;
        let (call, step_input) = self.prepare(role, state, &input.problem).ok()?;
        let in_flight = self.in_flight_call(input, step_id, &call);
        Some(Prepared {
            step_id,
            call,
            step_input,
            in_flight,
            in_flight_stored: false,
        })
    }

    /// How the loop bounds a call's worst case: as a budget reserves it, with this config's
    /// re-asks.
    fn estimate(&self) -> CallEstimate {
        CallEstimate {
            max_reasks: self.config.max_reasks,
            ..CallEstimate::default()
        }
    }

    /// The worst case of the call's requests that got no reply saying what they cost, priced
    /// as its cost is (0 when there are none or the price is unknown).
    fn possibly_billed(
        &self,
        call: &AgentCall,
        provider: &str,
        model: &str,
        attempts: &[AttemptRecord],
    ) -> f64 {
        if !attempts.iter().any(|a| a.unsettled) {
            return 0.0;
        }
        let at = Some(self.clock.now_ms());
        self.estimate()
            .possibly_billed_usd(call, attempts, |u| {
                self.pricer.price_at(provider, model, u, at)
            })
            .unwrap_or(0.0)
    }

    fn failure_possibly_billed(&self, call: &AgentCall, e: &AgentCallError) -> f64 {
        let provider = e.error.provider().unwrap_or("");
        self.possibly_billed(call, provider, &call.model, &e.attempts)
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        input: &RunInput,
        step_id: u64,
        role: AgentRole,
        iteration: Option<u32>,
        step_input: Map<String, Value>,
        call: &AgentCall,
        s: &Settled,
    ) -> TrajectoryEntry {
        let reasks = s
            .attempts
            .iter()
            .filter(|a| a.kind == AttemptKind::Reask)
            .count();
        let mut metadata = StepMetadata::default();
        metadata.iteration = iteration;
        metadata.model = Some(call.model.clone());
        metadata.tokens = Some(TokenUsage::from(&s.usage));
        metadata.provider = Some(s.provider.clone());
        metadata.latency_ms = Some(s.latency_ms);
        metadata.attempts = Some(s.attempts.clone());
        metadata.reasks = Some(reasks as u64);
        metadata.usage = Some(s.usage);
        metadata.usage_complete = Some(s.usage_complete);
        metadata.cost_usd = Some(s.cost_usd);
        metadata.config_hash = Some(self.config_hash.clone());
        metadata.finish_reason = Some(s.finish_reason.clone());
        metadata.thinking = s.thinking.clone();
        if s.possibly_billed_usd > 0.0 {
            metadata.possibly_billed_usd = Some(s.possibly_billed_usd);
        }
        if let Some(stream) = s.stream {
            metadata.streamed = Some(true);
            metadata.ttft_ms = stream.ttft_ms;
            metadata.ttfat_ms = stream.ttfat_ms;
            metadata.output_tokens_per_s = stream.output_tokens_per_s;
        }
        if let Some(p) = &s.provenance {
            metadata.request_hash = Some(p.request_hash.clone());
            metadata.reused_from = p.reused_from.clone();
            metadata.reuse_policy = Some(p.policy);
        }
        TrajectoryEntry {
            timestamp: iso8601_utc(self.clock.now_ms()),
            run_id: input.run_id.clone(),
            step_id,
            agent: role.as_str().to_string(),
            action: role.action().to_string(),
            input: step_input,
            output: s.output.clone(),
            metadata,
            reward: None,
            terminal: false,
            success: None,
        }
    }

    fn summary(
        &self,
        input: &RunInput,
        state: &LoopState,
        ledger: &Ledger,
        (status, message, stop_reason): (RunStatus, Option<String>, Option<StopReason>),
    ) -> RunSummary {
        let totals = &ledger.totals;
        let cost_usd = match (totals.cost_usd, ledger.extra_cost) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        };
        RunSummary {
            run_id: input.run_id.clone(),
            status,
            message,
            stop_reason,
            iterations: state.iterations,
            passed: state.passed,
            final_solution: state.solution.clone(),
            judge_score: totals.judge_score,
            extracted_answer: final_answer(input, state),
            correct: totals.correct,
            usage: totals.usage + ledger.extra_usage,
            cost_usd,
            cost_complete: totals.cost_complete && ledger.extra_complete,
            steps: totals.steps,
            errors: totals.errors,
            judged: totals.judged,
            possibly_billed_usd: totals.possibly_billed_usd + ledger.extra_possibly_billed,
        }
    }
}

/// The prompt count a provider reported for the call's first request, when it did.
fn first_prompt_tokens(attempts: &[AttemptRecord]) -> Option<u64> {
    attempts
        .iter()
        .take_while(|a| a.kind != AttemptKind::Reask)
        .find_map(|a| a.usage)
        .map(|u| u.input_tokens)
        .filter(|tokens| *tokens > 0)
}

/// Whether the loop ended with an answer to score: a run without one failed, whatever the
/// judge says about the empty solution.
fn has_answer(state: &LoopState) -> bool {
    !state.solution.trim().is_empty()
}

/// The answer extracted from the final solution, for a run with a ground truth to check it
/// against.
fn final_answer(input: &RunInput, state: &LoopState) -> Option<String> {
    input
        .ground_truth
        .as_ref()
        .filter(|_| has_answer(state))
        .and_then(|_| extract_answer(&state.solution))
}

/// The status of a run whose loop ran to its end.
/// The record in flight of a new run's first call, when it may cost anything: made before the
/// run is stored, so that the write storing the run stores it too (the run's id is set then).
/// `None` for a free or unpriced call, or one whose prompt cannot be rendered (the loop finds
/// that again and says so).
pub fn first_call_in_flight(
    config: &PipelineConfig,
    pricer: &dyn StepPricer,
    now_ms: f64,
    input: &RunInput,
) -> Option<InFlightCall> {
    let state = LoopState::new(config.mode, config.max_iterations);
    let role = state.next.role()?;
    let vars = StepVars {
        problem: &input.problem,
        feedback: &state.feedback,
        solution: &state.solution,
    };
    let call = prompt::agent_call(config, role, &vars).ok()?;
    in_flight_call(config, pricer, now_ms, input, 1, &call)
}

/// The record of `call` in flight as step `step_id`; `None` for a free or unpriced call,
/// which would leave nothing to count.
fn in_flight_call(
    config: &PipelineConfig,
    pricer: &dyn StepPricer,
    now_ms: f64,
    input: &RunInput,
    step_id: u64,
    call: &AgentCall,
) -> Option<InFlightCall> {
    let worst_case_usd = worst_case_usd(config, pricer, now_ms, call);
    if !worst_case_usd.is_some_and(|usd| usd > 0.0) {
        return None;
    }
    Some(InFlightCall {
        run_id: input.run_id.clone(),
        step_id,
        model: call.model.clone(),
        worst_case_usd,
        started_ms: now_ms,
    })
}

/// The call's worst case, every re-ask `config` allows included, at the configured model's
/// price at `at_ms`; `None` when it is unknown.
fn worst_case_usd(
    config: &PipelineConfig,
    pricer: &dyn StepPricer,
    at_ms: f64,
    call: &AgentCall,
) -> Option<f64> {
    let estimate = CallEstimate {
        max_reasks: config.max_reasks,
        ..CallEstimate::default()
    };
    let at = Some(at_ms);
    let costs: Option<Vec<f64>> = estimate
        .worst_case_usage(call)
        .iter()
        .map(|u| priced_worst_case(u, |u| pricer.price_at("", &call.model, u, at)))
        .collect();
    costs.map(|c| c.into_iter().sum())
}

fn final_status(state: &LoopState) -> RunStatus {
    if has_answer(state) {
        RunStatus::Completed
    } else {
        RunStatus::Failed
    }
}

/// What a run whose loop ran to its end has to say: why it produced no answer, and a stop on
/// a repeated failure.
fn final_message(state: &LoopState) -> Option<String> {
    let repeated = state.repeated_failure.as_ref().map(|f| {
        format!(
            "the {}'s request failed the same way twice ({}: {}), so it was not sent again",
            f.agent, f.error_type, f.error_message
        )
    });
    match (has_answer(state), repeated) {
        (true, repeated) => repeated,
        (false, Some(repeated)) => Some(format!("no answer was produced: {repeated}")),
        (false, None) => Some(
            "no answer was produced: no solver call returned a solution; see the failed steps"
                .to_string(),
        ),
    }
}

fn provider_failure_message(role: AgentRole, e: &AgentCallError, saved: usize) -> String {
    let requests = match e.attempts.len() {
        0 | 1 => String::new(),
        n => format!(" after {n} requests"),
    };
    format!(
        "stopped: the {role}'s call failed on the provider's side{requests} ({}); the {saved} steps \
         made so far are saved, and the run can be resumed once the provider answers again",
        e.error
    )
}

fn cancelled_message(saved: usize) -> String {
    format!("cancelled; the {saved} steps made so far are saved and the run can be resumed")
}

fn error_object(error_type: &str, message: &str) -> Map<String, Value> {
    let mut output = Map::new();
    output.insert(error_output::ERROR_TYPE.into(), json!(error_type));
    output.insert(error_output::ERROR_MESSAGE.into(), json!(message));
    output
}

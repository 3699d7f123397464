//! A scripted fake LLM for tests, benchmarks and the demo: per-agent queues of replies, and a
//! record of every call it received, so tests assert on what was sent as well as on the result.
//!
//! ```
//! use trialogue::core::scripted::ScriptedLlm;
//! let llm = ScriptedLlm::builder()
//!     .solve("x = 2")
//!     .verify(false, "check the sign")
//!     .solve("x = -2")
//!     .verify(true, "correct")
//!     .judge(0.9)
//!     .build();
//! assert_eq!(llm.remaining(trialogue::core::role::AgentRole::Solver), 2);
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

use crate::core::cancel::CancelToken;
use crate::core::llm::{
    AgentCall, AgentCallError, AgentCompletion, AgentLlm, AttemptKind, AttemptRecord, LlmError,
    Usage,
};
use crate::core::outputs::{AgentOutput, JudgeOutput, SolverOutput, VerifierOutput};
use crate::core::role::AgentRole;

/// The provider id scripted completions report.
pub const SCRIPTED_PROVIDER: &str = "scripted";

/// One scripted answer to one call.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptedTurn {
    /// A validated output that used `usage`. It must be the called role's (see [`AgentLlm`]).
    Reply {
        /// The output.
        output: AgentOutput,
        /// Tokens reported for the call.
        usage: Usage,
    },
    /// A failed call that still spent `usage`.
    Fail {
        /// The error.
        error: LlmError,
        /// Tokens spent before it failed.
        usage: Usage,
    },
    /// A completion given in full (attempts, re-asks, provider, missing usage …).
    Full(Box<AgentCompletion>),
}

impl ScriptedTurn {
    /// A reply from `provider`'s `model` that took `attempts` (re-asks, some maybe without
    /// usage): as the client reports one, its usage is the attempts' summed, complete only when
    /// every attempt reported usage, and its latency theirs summed.
    pub fn attempted(
        output: AgentOutput,
        provider: &str,
        model: &str,
        attempts: Vec<AttemptRecord>,
    ) -> ScriptedTurn {
        ScriptedTurn::Full(Box::new(AgentCompletion {
            output,
            usage: attempts.iter().filter_map(|a| a.usage).sum(),
            usage_complete: attempts.iter().all(|a| a.usage.is_some()),
            latency_ms: attempts.iter().map(|a| a.latency_ms).sum(),
            attempts,
            provider: provider.to_string(),
            model: model.to_string(),
            finish_reason: None,
            provenance: None,
            thinking: None,
            stream: None,
        }))
    }
}

type Responder = Box<dyn Fn(&AgentCall) -> ScriptedTurn>;

/// A fake [`AgentLlm`] that answers from per-role queues.
///
/// A call whose queue is empty is answered by the responder, if one is set, else it fails with
/// an [`LlmError::InvalidResponse`] naming the role, so a test that scripted too few replies
/// fails with a clear step error rather than a hang. A call made after the token was cancelled
/// fails with [`LlmError::Cancelled`] and consumes nothing.
pub struct ScriptedLlm {
    queues: RefCell<BTreeMap<AgentRole, VecDeque<ScriptedTurn>>>,
    calls: RefCell<Vec<AgentCall>>,
    responder: Option<Responder>,
    default_usage: Usage,
    latency_ms: f64,
}

impl std::fmt::Debug for ScriptedLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pending: Vec<(AgentRole, usize)> = self
            .queues
            .borrow()
            .iter()
            .map(|(role, q)| (*role, q.len()))
            .collect();
        f.debug_struct("ScriptedLlm")
            .field("pending", &pending)
            .field("calls", &self.calls.borrow().len())
            .field("has_responder", &self.responder.is_some())
            .finish()
    }
}

impl Default for ScriptedLlm {
    fn default() -> Self {
        ScriptedLlm {
            queues: RefCell::default(),
            calls: RefCell::default(),
            responder: None,
            default_usage: ScriptedLlm::DEFAULT_USAGE,
            latency_ms: ScriptedLlm::DEFAULT_LATENCY_MS,
        }
    }
}

impl ScriptedLlm {
    /// Usage of the convenience replies ([`solve`](Self::solve) …): 100 in, 20 out.
    pub const DEFAULT_USAGE: Usage = Usage {
        input_tokens: 100,
        output_tokens: 20,
        total_tokens: 120,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        reasoning_tokens_unknown: false,
    };

    /// Latency every scripted completion reports, in milliseconds.
    pub const DEFAULT_LATENCY_MS: f64 = 250.0;

    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder for a script written in one expression.
    pub fn builder() -> ScriptedLlmBuilder {
        ScriptedLlmBuilder {
            llm: ScriptedLlm::new(),
        }
    }

    /// An LLM that answers every call with `responder` (after any queued turns).
    pub fn with_responder(responder: impl Fn(&AgentCall) -> ScriptedTurn + 'static) -> Self {
        ScriptedLlm {
            responder: Some(Box::new(responder)),
            ..ScriptedLlm::default()
        }
    }

    /// Queues a turn for `role`.
    pub fn push(&self, role: AgentRole, turn: ScriptedTurn) -> &Self {
        self.queues
            .borrow_mut()
            .entry(role)
            .or_default()
            .push_back(turn);
        self
    }

    /// Queues a successful reply with `output` and `usage`.
    pub fn reply(&self, role: AgentRole, output: AgentOutput, usage: Usage) -> &Self {
        self.push(role, ScriptedTurn::Reply { output, usage })
    }

    /// Queues a failure that spent `usage`.
    pub fn fail(&self, role: AgentRole, error: LlmError, usage: Usage) -> &Self {
        self.push(role, ScriptedTurn::Fail { error, usage })
    }

    /// Queues a solver reply with `solution` (reasoning "scripted", confidence 0.9).
    pub fn solve(&self, solution: &str) -> &Self {
        self.reply(
            AgentRole::Solver,
            solver_output(solution),
            self.default_usage,
        )
    }

    /// Queues a verifier reply.
    pub fn verify(&self, passed: bool, critique: &str) -> &Self {
        self.reply(
            AgentRole::Verifier,
            verifier_output(passed, critique),
            self.default_usage,
        )
    }

    /// Queues a judge reply with `score`.
    pub fn judge(&self, score: f64) -> &Self {
        self.reply(AgentRole::Judge, judge_output(score), self.default_usage)
    }

    /// Every call received so far, in order.
    pub fn calls(&self) -> Vec<AgentCall> {
        self.calls.borrow().clone()
    }

    /// The calls received for one role, in order.
    pub fn calls_for(&self, role: AgentRole) -> Vec<AgentCall> {
        self.calls
            .borrow()
            .iter()
            .filter(|c| c.role == role)
            .cloned()
            .collect()
    }

    /// Turns still queued for `role`.
    pub fn remaining(&self, role: AgentRole) -> usize {
        self.queues.borrow().get(&role).map_or(0, VecDeque::len)
    }

    fn next_turn(&self, call: &AgentCall) -> ScriptedTurn {
        let queued = self
            .queues
            .borrow_mut()
            .get_mut(&call.role)
            .and_then(VecDeque::pop_front);
        if let Some(turn) = queued {
            return turn;
        }
        match &self.responder {
            Some(responder) => responder(call),
            None => {
                let n = self.calls.borrow().len();
                ScriptedTurn::Fail {
                    error: LlmError::invalid_response(
                        SCRIPTED_PROVIDER,
                        format!("no reply was scripted for the {} (call {n})", call.role),
                        "",
                    ),
                    usage: Usage::default(),
                }
            }
        }
    }
}

impl AgentLlm for ScriptedLlm {
    async fn complete(
        &self,
        call: &AgentCall,
        cancel: &CancelToken,
    ) -> Result<AgentCompletion, AgentCallError> {
        if cancel.is_cancelled() {
            return Err(AgentCallError {
                error: LlmError::cancelled(),
                usage: Usage::default(),
                attempts: Vec::new(),
            });
        }
        self.calls.borrow_mut().push(call.clone());
        match self.next_turn(call) {
            ScriptedTurn::Reply { output, usage } => Ok(AgentCompletion {
                output,
                usage,
                usage_complete: true,
                attempts: vec![AttemptRecord {
                    attempt: 1,
                    kind: AttemptKind::Initial,
                    usage: Some(usage),
                    error: None,
                    latency_ms: self.latency_ms,
                    reply: None,
                    unsettled: false,
                    sent_via: Default::default(),
                }],
                provider: SCRIPTED_PROVIDER.to_string(),
                model: call.model.clone(),
                finish_reason: Some("stop".to_string()),
                thinking: None,
                stream: None,
                latency_ms: self.latency_ms,
                provenance: None,
            }),
            ScriptedTurn::Fail { error, usage } => Err(AgentCallError {
                attempts: vec![AttemptRecord {
                    attempt: 1,
                    kind: AttemptKind::Initial,
                    usage: (usage != Usage::default()).then_some(usage),
                    error: Some(error.to_string()),
                    latency_ms: self.latency_ms,
                    reply: None,
                    unsettled: false,
                    sent_via: Default::default(),
                }],
                error,
                usage,
            }),
            ScriptedTurn::Full(completion) => Ok(*completion),
        }
    }
}

/// Builds a [`ScriptedLlm`] in one expression.
#[derive(Debug)]
pub struct ScriptedLlmBuilder {
    llm: ScriptedLlm,
}

impl ScriptedLlmBuilder {
    /// Usage reported by the convenience replies queued after this.
    pub fn usage(mut self, usage: Usage) -> Self {
        self.llm.default_usage = usage;
        self
    }

    /// Latency every completion reports.
    pub fn latency_ms(mut self, ms: f64) -> Self {
        self.llm.latency_ms = ms;
        self
    }

    /// Queues a turn for `role`.
    pub fn push(self, role: AgentRole, turn: ScriptedTurn) -> Self {
        self.llm.push(role, turn);
        self
    }

    /// Queues a solver reply.
    pub fn solve(self, solution: &str) -> Self {
        self.llm.solve(solution);
        self
    }

    /// Queues a verifier reply.
    pub fn verify(self, passed: bool, critique: &str) -> Self {
        self.llm.verify(passed, critique);
        self
    }

    /// Queues a judge reply.
    pub fn judge(self, score: f64) -> Self {
        self.llm.judge(score);
        self
    }

    /// Queues a failure for `role` that spent `usage`.
    pub fn fail(self, role: AgentRole, error: LlmError, usage: Usage) -> Self {
        self.llm.fail(role, error, usage);
        self
    }

    /// Answers calls beyond the queued ones with `responder`.
    pub fn responder(mut self, responder: impl Fn(&AgentCall) -> ScriptedTurn + 'static) -> Self {
        self.llm.responder = Some(Box::new(responder));
        self
    }

    /// The finished script.
    pub fn build(self) -> ScriptedLlm {
        self.llm
    }
}

/// A solver output with `solution` (reasoning "scripted", confidence 0.9).
pub fn solver_output(solution: &str) -> AgentOutput {
    AgentOutput::Solver(SolverOutput {
        solution: solution.to_string(),
        reasoning: "scripted".to_string(),
        confidence: 0.9,
    })
}

/// A verifier output (confidence 0.8, no per-criterion scores).
pub fn verifier_output(passed: bool, critique: &str) -> AgentOutput {
    AgentOutput::Verifier(VerifierOutput {
        passed,
        critique: critique.to_string(),
        confidence: 0.8,
        scores: BTreeMap::new(),
    })
}

/// A judge output with `score` (reasoning "scripted", no strengths or weaknesses).
pub fn judge_output(score: f64) -> AgentOutput {
    AgentOutput::Judge(JudgeOutput {
        score,
        reasoning: "scripted".to_string(),
        strengths: Vec::new(),
        weaknesses: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    fn ready<F: Future>(fut: F) -> F::Output {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(fut).poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("scripted futures are ready at once"),
        }
    }

    fn call(role: AgentRole) -> AgentCall {
        AgentCall {
            role,
            model: "m".into(),
            system_prompt: String::new(),
            user_prompt: "p".into(),
            temperature: 0.0,
            max_tokens: 10,
            reasoning: Default::default(),
        }
    }

    #[test]
    fn answers_per_role_in_order_and_records_calls() {
        let llm = ScriptedLlm::builder()
            .solve("a")
            .solve("b")
            .judge(0.5)
            .build();
        let token = CancelToken::new();
        let judge = ready(llm.complete(&call(AgentRole::Judge), &token)).unwrap();
        assert_eq!(judge.output, judge_output(0.5));
        let first = ready(llm.complete(&call(AgentRole::Solver), &token)).unwrap();
        assert_eq!(first.output, solver_output("a"));
        assert_eq!(first.usage.total_tokens, 120);
        assert_eq!(llm.remaining(AgentRole::Solver), 1);
        assert_eq!(llm.calls().len(), 2);
        assert_eq!(llm.calls_for(AgentRole::Solver).len(), 1);
    }

    #[test]
    fn an_empty_queue_fails_with_a_named_role_and_cancel_consumes_nothing() {
        let llm = ScriptedLlm::builder().solve("a").build();
        let err = ready(llm.complete(&call(AgentRole::Verifier), &CancelToken::new())).unwrap_err();
        assert!(err.to_string().contains("verifier"), "{err}");
        let token = CancelToken::new();
        token.cancel();
        let err = ready(llm.complete(&call(AgentRole::Solver), &token)).unwrap_err();
        assert_eq!(err.error, LlmError::cancelled());
        assert_eq!(llm.remaining(AgentRole::Solver), 1);
    }

    #[test]
    fn responder_answers_beyond_the_queue() {
        let llm = ScriptedLlm::with_responder(|c| ScriptedTurn::Reply {
            output: solver_output(&c.user_prompt),
            usage: Usage::default(),
        });
        let done = ready(llm.complete(&call(AgentRole::Solver), &CancelToken::new())).unwrap();
        assert_eq!(done.output, solver_output("p"));
    }
}

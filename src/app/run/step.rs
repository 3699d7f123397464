//! One step of the transcript as the page shows it: a card that appears when the call starts
//! and is filled in when the step is committed, read from the stored [`TrajectoryEntry`].
//!
//! Everything here reads entries tolerantly: a step imported from the original's files (no
//! cost, no latency, other output keys) still gets a card, with the missing facts left out.

use serde_json::{Map, Value};

use crate::app::llm_error::advice;
use crate::core::llm::{AttemptKind, ErrorKind, Usage};
use crate::core::pipeline::PipelineEvent;
use crate::core::role::AgentRole;
use crate::core::trajectory::{error_output, TrajectoryEntry};

/// Where a step stands.
#[derive(Debug, Clone, PartialEq)]
pub enum StepState {
    /// The call is in flight.
    Running,
    /// The step is committed (it may record a failed call: see [`TrajectoryEntry::is_error`]).
    Done(Box<TrajectoryEntry>),
    /// The run stopped (cancelled, failed, page closed) before this step was committed; nothing
    /// of it is stored.
    Stopped,
}

/// A card of the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    /// 1, 2, 3 … within the run.
    pub step_id: u64,
    /// `solver`, `verifier` or `judge` (or whatever an imported file says).
    pub agent: String,
    /// The solver/verifier round; `None` for the judge.
    pub iteration: Option<u32>,
    /// Where it stands.
    pub state: StepState,
}

impl StepView {
    /// The card of a call that just started.
    pub fn running(step_id: u64, agent: AgentRole, iteration: Option<u32>) -> Self {
        StepView {
            step_id,
            agent: agent.as_str().to_string(),
            iteration,
            state: StepState::Running,
        }
    }

    /// The card of a committed step.
    pub fn committed(entry: TrajectoryEntry) -> Self {
        StepView {
            step_id: entry.step_id,
            agent: entry.agent.clone(),
            iteration: entry.iteration(),
            state: StepState::Done(Box::new(entry)),
        }
    }

    /// The `data-status` of the card: `running`, `ok`, `error` (a failed call, logged as a step)
    /// or `stopped` (never committed).
    pub fn status(&self) -> &'static str {
        match &self.state {
            StepState::Running => "running",
            StepState::Done(entry) if entry.is_error() => "error",
            StepState::Done(_) => "ok",
            StepState::Stopped => "stopped",
        }
    }

    /// The committed entry, if any.
    pub fn entry(&self) -> Option<&TrajectoryEntry> {
        match &self.state {
            StepState::Done(entry) => Some(entry),
            _ => None,
        }
    }
}

/// Applies a loop event to the transcript: a started call adds a running card, a committed step
/// fills its card in (or adds one), and the end of the run marks cards still running as
/// stopped.
pub fn apply_event(steps: &mut Vec<StepView>, event: &PipelineEvent) {
    match card_of(event) {
        Some(card) => upsert(steps, card),
        None => stop_running(steps),
    }
}

/// The card a loop event puts at its step: a running card for a started call, the committed
/// step for a finished one; `None` for the run's end (which stops the cards still running).
pub fn card_of(event: &PipelineEvent) -> Option<StepView> {
    match event {
        PipelineEvent::StepStarted {
            step_id,
            agent,
            iteration,
        } => Some(StepView::running(*step_id, *agent, *iteration)),
        PipelineEvent::StepFinished { entry, .. } => {
            Some(StepView::committed(TrajectoryEntry::clone(entry)))
        }
        PipelineEvent::RunFinished { .. } => None,
    }
}

/// Marks every card still running as stopped.
pub fn stop_running(steps: &mut [StepView]) {
    for step in steps.iter_mut() {
        if step.state == StepState::Running {
            step.state = StepState::Stopped;
        }
    }
}

fn upsert(steps: &mut Vec<StepView>, card: StepView) {
    match steps.iter_mut().find(|s| s.step_id == card.step_id) {
        Some(existing) => *existing = card,
        None => {
            let at = steps.partition_point(|s| s.step_id < card.step_id);
            steps.insert(at, card);
        }
    }
}

/// What a committed step's agent said, arranged for reading.
#[derive(Debug, Clone, PartialEq)]
pub enum StepBody {
    /// The solver's answer.
    Solver {
        /// The solution text.
        solution: String,
        /// How it got there.
        reasoning: String,
        /// Self-reported confidence.
        confidence: Option<f64>,
    },
    /// The verifier's verdict.
    Verifier {
        /// Whether it passed the solution.
        passed: Option<bool>,
        /// The critique.
        critique: String,
        /// Confidence in the verdict.
        confidence: Option<f64>,
        /// Per-criterion scores as (criterion, value) texts.
        scores: Vec<(String, String)>,
    },
    /// The judge's score.
    Judge {
        /// The score in `[0, 1]`.
        score: Option<f64>,
        /// Why.
        reasoning: String,
        /// What the answer does well.
        strengths: Vec<String>,
        /// What it does badly.
        weaknesses: Vec<String>,
    },
    /// A failed call.
    Error {
        /// The error's kind as stored (`Auth`, `Timeout`, … or another program's name).
        error_type: String,
        /// The error as a sentence.
        message: String,
        /// What the user can do about it, when the kind is one Trialogue knows.
        advice: Option<String>,
    },
    /// An output of another shape (a file from elsewhere): its fields as (key, value) texts.
    Other(Vec<(String, String)>),
}

impl StepBody {
    /// Reads `entry`'s output according to its agent.
    pub fn of(entry: &TrajectoryEntry) -> StepBody {
        let out = &entry.output;
        if entry.is_error() {
            let error_type = text(out, error_output::ERROR_TYPE);
            let advice = ErrorKind::from_name(&error_type).and_then(|kind| advice(kind, None));
            return StepBody::Error {
                error_type,
                message: text(out, error_output::ERROR_MESSAGE),
                advice,
            };
        }
        match entry.role() {
            Some(AgentRole::Solver) if out.contains_key("solution") => StepBody::Solver {
                solution: text(out, "solution"),
                reasoning: text(out, "reasoning"),
                confidence: out.get("confidence").and_then(Value::as_f64),
            },
            Some(AgentRole::Verifier) if out.contains_key("passed") => StepBody::Verifier {
                passed: out.get("passed").and_then(Value::as_bool),
                critique: text(out, "critique"),
                confidence: out.get("confidence").and_then(Value::as_f64),
                scores: out.get("scores").map(pairs_of).unwrap_or_default(),
            },
            Some(AgentRole::Judge) if out.contains_key("score") => StepBody::Judge {
                score: out.get("score").and_then(Value::as_f64),
                reasoning: text(out, "reasoning"),
                strengths: list(out, "strengths"),
                weaknesses: list(out, "weaknesses"),
            },
            _ => StepBody::Other(
                out.iter()
                    .map(|(k, v)| (k.clone(), value_text(v)))
                    .collect(),
            ),
        }
    }
}

/// The bookkeeping of a committed step: who served it, what it used and cost, how long it
/// took, and how many requests it needed.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFacts {
    /// The configured model string.
    pub model: Option<String>,
    /// The provider id that served it.
    pub provider: Option<String>,
    /// Tokens used, re-asks and retries included.
    pub usage: Option<Usage>,
    /// False when a reply lacked usage (the cost is then a lower bound).
    pub usage_complete: bool,
    /// Cost in USD; `None` when unknown.
    pub cost_usd: Option<f64>,
    /// Wall time of the call.
    pub latency_ms: Option<f64>,
    /// Re-asks after an invalid reply.
    pub reasks: usize,
    /// Transport retries.
    pub retries: usize,
    /// What went wrong in attempts that were retried or re-asked, one line each.
    pub attempt_notes: Vec<String>,
    /// The provider's finish reason, as reported.
    pub finish_reason: Option<String>,
    /// The run that paid for the reply, when this step reused it (and cost $0 here).
    pub reused_from: Option<String>,
}

impl StepFacts {
    /// Reads the facts from `entry`'s metadata.
    pub fn of(entry: &TrajectoryEntry) -> StepFacts {
        let m = &entry.metadata;
        let attempts = m.attempts.as_deref().unwrap_or_default();
        let count = |kind| attempts.iter().filter(|a| a.kind == kind).count();
        let reasks = m
            .reasks
            .map_or_else(|| count(AttemptKind::Reask), |n| n as usize);
        let attempt_notes = attempts
            .iter()
            .filter_map(|a| {
                a.error
                    .as_ref()
                    .map(|e| format!("request {} ({}): {e}", a.attempt, kind_name(a.kind)))
            })
            .collect();
        StepFacts {
            model: non_empty(m.model.as_deref()),
            provider: non_empty(m.provider()),
            usage: entry.usage(),
            usage_complete: entry.usage_complete(),
            cost_usd: entry.cost_usd(),
            latency_ms: m.latency_ms,
            reasks,
            retries: count(AttemptKind::Retry),
            attempt_notes,
            finish_reason: non_empty(m.finish_reason()),
            reused_from: non_empty(m.reused_from.as_deref()),
        }
    }
}

fn kind_name(kind: AttemptKind) -> &'static str {
    match kind {
        AttemptKind::Initial => "first try",
        AttemptKind::Retry => "retry",
        AttemptKind::Reask => "re-ask",
    }
}

fn text(map: &Map<String, Value>, key: &str) -> String {
    map.get(key).map(value_text).unwrap_or_default()
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.filter(|s| !s.is_empty()).map(str::to_string)
}

fn list(map: &Map<String, Value>, key: &str) -> Vec<String> {
    match map.get(key) {
        Some(Value::Array(items)) => items.iter().map(value_text).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![value_text(other)],
    }
}

/// Scores as (criterion, value) pairs: an object's entries, or a list of
/// `{criterion, score}`-like objects (their first string and first number).
fn pairs_of(value: &Value) -> Vec<(String, String)> {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), value_text(v)))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(fields) => {
                    let name = fields.values().find_map(Value::as_str);
                    let score = fields.values().find(|v| v.is_number());
                    match (name, score) {
                        (Some(name), Some(score)) => (name.to_string(), value_text(score)),
                        _ => (format!("#{}", i + 1), value_text(item)),
                    }
                }
                other => (format!("#{}", i + 1), value_text(other)),
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![(String::new(), value_text(other))],
    }
}

/// A JSON value as text: strings as they are, everything else as compact JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::pipeline::{RunSummary, StopReason};
    use crate::core::trajectory::RunStatus;

    fn entry(json: &str) -> TrajectoryEntry {
        serde_json::from_str(json).unwrap()
    }

    fn solver_entry(step_id: u64) -> TrajectoryEntry {
        entry(&format!(
            r#"{{"timestamp":"t","run_id":"r","step_id":{step_id},"agent":"solver","action":"generate","input":{{}},"output":{{"solution":"4","reasoning":"2+2","confidence":0.9}},"metadata":{{"iteration":1}}}}"#
        ))
    }

    fn summary() -> RunSummary {
        RunSummary {
            run_id: "r".into(),
            status: RunStatus::Cancelled,
            message: None,
            stop_reason: Some(StopReason::Passed),
            iterations: 1,
            passed: false,
            final_solution: String::new(),
            judge_score: None,
            extracted_answer: None,
            correct: None,
            usage: Usage::default(),
            cost_usd: None,
            cost_complete: true,
            steps: 1,
            errors: 0,
            judged: false,
            possibly_billed_usd: 0.0,
        }
    }

    #[test]
    fn events_add_fill_and_stop_cards_in_step_order() {
        let mut steps = Vec::new();
        apply_event(
            &mut steps,
            &PipelineEvent::StepStarted {
                step_id: 1,
                agent: AgentRole::Solver,
                iteration: Some(1),
            },
        );
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].status(), "running");
        apply_event(
            &mut steps,
            &PipelineEvent::StepFinished {
                entry: Box::new(solver_entry(1)),
                usage: Usage::default(),
                cost_usd: None,
                latency_ms: 3.0,
            },
        );
        assert_eq!(
            steps.len(),
            1,
            "the running card is filled in, not duplicated"
        );
        assert_eq!(steps[0].status(), "ok");
        apply_event(
            &mut steps,
            &PipelineEvent::StepStarted {
                step_id: 2,
                agent: AgentRole::Verifier,
                iteration: Some(1),
            },
        );
        apply_event(
            &mut steps,
            &PipelineEvent::RunFinished { summary: summary() },
        );
        let statuses: Vec<_> = steps.iter().map(|s| (s.step_id, s.status())).collect();
        assert_eq!(statuses, [(1, "ok"), (2, "stopped")]);
        assert_eq!(steps[1].agent, "verifier");
    }

    #[test]
    fn bodies_follow_the_agent_and_errors_win() {
        assert_eq!(
            StepBody::of(&solver_entry(1)),
            StepBody::Solver {
                solution: "4".into(),
                reasoning: "2+2".into(),
                confidence: Some(0.9)
            }
        );
        let verifier = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":2,"agent":"verifier","action":"validate","input":{},"output":{"passed":false,"critique":"Check step 2.","confidence":0.5,"scores":[{"criterion":"rigor","score":0.25}]},"metadata":{}}"#,
        );
        assert_eq!(
            StepBody::of(&verifier),
            StepBody::Verifier {
                passed: Some(false),
                critique: "Check step 2.".into(),
                confidence: Some(0.5),
                scores: vec![("rigor".into(), "0.25".into())],
            }
        );
        let judge = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":3,"agent":"judge","action":"score","input":{},"output":{"score":0.75,"reasoning":"ok","strengths":["clear"],"weaknesses":[]},"metadata":{}}"#,
        );
        let StepBody::Judge {
            score, strengths, ..
        } = StepBody::of(&judge)
        else {
            panic!("a judge body");
        };
        assert_eq!(score, Some(0.75));
        assert_eq!(strengths, ["clear"]);
        let failed = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":1,"agent":"solver","action":"generate","input":{},"output":{"error_type":"Http","error_message":"the server answered HTTP 409"},"metadata":{}}"#,
        );
        assert_eq!(StepView::committed(failed.clone()).status(), "error");
        assert_eq!(
            StepBody::of(&failed),
            StepBody::Error {
                error_type: "Http".into(),
                message: "the server answered HTTP 409".into(),
                advice: None,
            }
        );
        // A stored kind Trialogue knows gets its advice; another program's name does not.
        let refused = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":1,"agent":"solver","action":"generate","input":{},"output":{"error_type":"Auth","error_message":"OpenAI rejected the API key (401)"},"metadata":{}}"#,
        );
        assert!(matches!(
            StepBody::of(&refused),
            StepBody::Error { advice: Some(a), .. } if a == "check the key in Settings"
        ));
        let original = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":1,"agent":"solver","action":"generate","input":{},"output":{"error_type":"RateLimitError","error_message":"rate limit exceeded"},"metadata":{}}"#,
        );
        assert!(matches!(
            StepBody::of(&original),
            StepBody::Error { advice: None, .. }
        ));
    }

    #[test]
    fn facts_count_reasks_and_retries_and_keep_attempt_errors() {
        let e = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":1,"agent":"solver","action":"generate","input":{},"output":{"solution":"x"},
               "metadata":{"model":"openai/gpt-4.1-mini","provider":"openai","latency_ms":1500.0,"cost_usd":0.002,
               "attempts":[{"attempt":1,"kind":"initial","usage":null,"error":"HTTP 500","latency_ms":10.0},
                           {"attempt":2,"kind":"retry","usage":{"input_tokens":5,"output_tokens":2,"total_tokens":7},"error":"missing field `solution`","latency_ms":10.0},
                           {"attempt":3,"kind":"reask","usage":{"input_tokens":9,"output_tokens":3,"total_tokens":12},"error":null,"latency_ms":10.0}],
               "usage":{"input_tokens":14,"output_tokens":5,"total_tokens":19},"usage_complete":false,"finish_reason":null}}"#,
        );
        let f = StepFacts::of(&e);
        assert_eq!(f.model.as_deref(), Some("openai/gpt-4.1-mini"));
        assert_eq!(f.provider.as_deref(), Some("openai"));
        assert_eq!(f.retries, 1);
        assert_eq!(f.reasks, 1);
        assert_eq!(f.cost_usd, Some(0.002));
        assert_eq!(f.latency_ms, Some(1500.0));
        assert_eq!(f.usage.map(|u| u.total_tokens), Some(19));
        assert!(!f.usage_complete);
        assert_eq!(f.finish_reason, None);
        assert_eq!(
            f.attempt_notes,
            [
                "request 1 (first try): HTTP 500",
                "request 2 (retry): missing field `solution`"
            ]
        );
    }

    #[test]
    fn original_entries_without_extras_still_read() {
        let e = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":1,"agent":"solver","action":"generate","input":{},"output":{"answer":"4","steps":[1,2]},"metadata":{"iteration":1,"model":"gpt-4o","tokens":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}}"#,
        );
        assert_eq!(
            StepBody::of(&e),
            StepBody::Other(vec![
                ("answer".into(), "4".into()),
                ("steps".into(), "[1,2]".into())
            ])
        );
        let f = StepFacts::of(&e);
        assert_eq!(f.cost_usd, None);
        assert_eq!(f.reasks, 0);
        assert_eq!(f.usage.map(|u| u.input_tokens), Some(7));
    }
}

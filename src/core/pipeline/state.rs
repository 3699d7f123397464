//! The loop as a state machine: which step comes next, and what it is given.
//!
//! A fresh run and a resumed run go through the same transitions: [`LoopState::replay`] feeds
//! committed entries through them, so a resumed run continues exactly where the first session
//! stopped, and the steps it adds are the ones an uninterrupted run would have made.

use serde_json::{Map, Value};

use crate::core::config::Mode;
use crate::core::role::AgentRole;
use crate::core::trajectory::{error_output, TrajectoryEntry};

use super::events::StopReason;

/// The step the loop makes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// The solver's round `iteration` (from 1).
    Solver {
        /// The round.
        iteration: u32,
    },
    /// The verifier's check of round `iteration`'s solution.
    Verifier {
        /// The round.
        iteration: u32,
    },
    /// The judge's score of the final solution.
    Judge,
    /// Nothing: the judge has scored.
    Done,
}

impl NextStep {
    /// The agent that makes this step, if any.
    pub fn role(self) -> Option<AgentRole> {
        match self {
            NextStep::Solver { .. } => Some(AgentRole::Solver),
            NextStep::Verifier { .. } => Some(AgentRole::Verifier),
            NextStep::Judge => Some(AgentRole::Judge),
            NextStep::Done => None,
        }
    }

    /// The round, for solver and verifier steps.
    pub fn iteration(self) -> Option<u32> {
        match self {
            NextStep::Solver { iteration } | NextStep::Verifier { iteration } => Some(iteration),
            NextStep::Judge | NextStep::Done => None,
        }
    }
}

impl std::fmt::Display for NextStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NextStep::Solver { iteration } => {
                write!(f, "the solver's step of iteration {iteration}")
            }
            NextStep::Verifier { iteration } => {
                write!(f, "the verifier's step of iteration {iteration}")
            }
            NextStep::Judge => f.write_str("the judge's step"),
            NextStep::Done => f.write_str("no further step (the judge's step ends a run)"),
        }
    }
}

/// Why committed entries cannot be continued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    /// An entry belongs to another run.
    #[error(
        "step {step_id} belongs to run {found}, not to {expected}; pass only this run's steps"
    )]
    WrongRun {
        /// The run being resumed.
        expected: String,
        /// The entry's run.
        found: String,
        /// The entry's step id.
        step_id: u64,
    },
    /// Step ids are not 1, 2, 3 … without gaps or repeats.
    #[error("the saved steps are not numbered 1, 2, 3 …: expected step {expected}, found step {found}; a step is missing or repeated")]
    StepGap {
        /// The step id that should come next.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// An entry is not the step the loop would have made at that point.
    #[error("step {step_id} is a {found} step (iteration {found_iteration:?}), but the loop would have made {expected} there; the run's steps do not follow this config's loop")]
    UnexpectedStep {
        /// The entry's step id.
        step_id: u64,
        /// What the loop expected, as words.
        expected: String,
        /// The entry's agent.
        found: String,
        /// The entry's `metadata.iteration`.
        found_iteration: Option<u32>,
    },
}

/// Where the loop stands.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopState {
    mode: Mode,
    max_iterations: u32,
    /// The step to make next.
    pub next: NextStep,
    /// The latest solution (empty after a failed solver step).
    pub solution: String,
    /// What the next solver step is told: the last critique, empty at first.
    pub feedback: String,
    /// Every critique received, oldest first.
    pub critiques: Vec<String>,
    /// The highest round the solver has been asked for.
    pub iterations: u32,
    /// Whether the verifier passed a solution.
    pub passed: bool,
    /// Why the solver/verifier loop ended, once it has.
    pub stop_reason: Option<StopReason>,
    /// Every failed call so far: which agent was given what, and how it failed.
    failures: Vec<FailedRequest>,
    /// The failure that was seen twice, when that ended the loop.
    pub repeated_failure: Option<FailedRequest>,
}

/// A call that failed: the request (the agent and its step `input`, which with the run's config
/// make the whole request) and the error it ended with.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedRequest {
    /// The agent called.
    pub agent: String,
    /// What it was given (the step's `input`).
    pub input: Map<String, Value>,
    /// `output.error_type`.
    pub error_type: String,
    /// `output.error_message`.
    pub error_message: String,
}

impl FailedRequest {
    /// The failure an error step records; `None` for a step that did not fail.
    pub fn of(entry: &TrajectoryEntry) -> Option<FailedRequest> {
        let text = |key| {
            entry
                .output
                .get(key)
                .map(|v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        };
        Some(FailedRequest {
            agent: entry.agent.clone(),
            input: entry.input.clone(),
            error_type: text(error_output::ERROR_TYPE)?,
            error_message: text(error_output::ERROR_MESSAGE).unwrap_or_default(),
        })
    }
}

impl LoopState {
    /// The state before the first step. `max_iterations` below 1 counts as 1 (config
    /// validation keeps it in 1..=20 anyway).
    pub fn new(mode: Mode, max_iterations: u32) -> Self {
        LoopState {
            mode,
            max_iterations: max_iterations.max(1),
            next: NextStep::Solver { iteration: 1 },
            solution: String::new(),
            feedback: String::new(),
            critiques: Vec::new(),
            iterations: 0,
            passed: false,
            stop_reason: None,
            failures: Vec::new(),
            repeated_failure: None,
        }
    }

    fn stop(&mut self, reason: StopReason) {
        self.stop_reason = Some(reason);
        self.next = NextStep::Judge;
    }

    fn next_round_after(&mut self, iteration: u32) {
        if iteration < self.max_iterations {
            self.next = NextStep::Solver {
                iteration: iteration + 1,
            };
        } else {
            self.stop(StopReason::MaxIterations);
        }
    }

    /// The solver's step of `iteration` ended with `solution` (`None` when it failed).
    pub fn after_solver(&mut self, iteration: u32, solution: Option<&str>) {
        self.iterations = self.iterations.max(iteration);
        self.solution = solution.unwrap_or_default().to_string();
        if self.mode == Mode::Baseline {
            self.stop(StopReason::Baseline);
        } else if !self.solution.trim().is_empty() {
            self.next = NextStep::Verifier { iteration };
        } else {
            // No solution to check: the verifier is skipped and the solver tries again with
            // the same feedback.
            self.next_round_after(iteration);
        }
    }

    /// The verifier's step of `iteration` ended with `(passed, critique)` (`None` when it
    /// failed, which counts as not passed and leaves the feedback as it was).
    pub fn after_verifier(&mut self, iteration: u32, verdict: Option<(bool, &str)>) {
        match verdict {
            Some((true, _)) => {
                self.passed = true;
                self.stop(StopReason::Passed);
            }
            Some((false, critique)) => {
                self.critiques.push(critique.to_string());
                if is_circular(&self.critiques) {
                    self.stop(StopReason::Circular);
                } else {
                    self.feedback = critique.to_string();
                    self.next_round_after(iteration);
                }
            }
            None => self.next_round_after(iteration),
        }
    }

    /// The judge has scored (or failed to).
    pub fn after_judge(&mut self) {
        self.next = NextStep::Done;
    }

    /// Moves on past `entry`, the committed step the loop asked for (`self.next`): the one
    /// transition for a fresh step and for a replayed one.
    ///
    /// Beyond the original's loop: when a solver or verifier request that failed before (the
    /// same agent given the same input, so the same rendered request) fails the same way again,
    /// the loop stops with [`StopReason::Error`] instead of sending it on and on; at
    /// temperature 0 it would fail every time.
    pub fn advance(&mut self, entry: &TrajectoryEntry) {
        match self.next {
            NextStep::Solver { iteration } => {
                let solution =
                    (!entry.is_error()).then(|| entry.output_str("solution").unwrap_or(""));
                self.after_solver(iteration, solution);
            }
            NextStep::Verifier { iteration } => {
                let verdict = (!entry.is_error()).then(|| {
                    (
                        entry.output.get("passed").and_then(Value::as_bool) == Some(true),
                        entry.output_str("critique").unwrap_or(""),
                    )
                });
                self.after_verifier(iteration, verdict);
            }
            NextStep::Judge => self.after_judge(),
            NextStep::Done => return,
        }
        if let Some(failure) = FailedRequest::of(entry) {
            let repeated = self.failures.contains(&failure);
            if repeated && self.next != NextStep::Done {
                self.stop(StopReason::Error);
                self.repeated_failure = Some(failure.clone());
            }
            self.failures.push(failure);
        }
    }

    /// Rebuilds the state from a run's committed entries (sorted by step id, from 1), checking
    /// that each is the step the loop would have made.
    pub fn replay(
        mode: Mode,
        max_iterations: u32,
        run_id: &str,
        entries: &[TrajectoryEntry],
    ) -> Result<Self, ResumeError> {
        let mut state = LoopState::new(mode, max_iterations);
        for (index, entry) in entries.iter().enumerate() {
            let expected_id = index as u64 + 1;
            if entry.run_id != run_id {
                return Err(ResumeError::WrongRun {
                    expected: run_id.to_string(),
                    found: entry.run_id.clone(),
                    step_id: entry.step_id,
                });
            }
            if entry.step_id != expected_id {
                return Err(ResumeError::StepGap {
                    expected: expected_id,
                    found: entry.step_id,
                });
            }
            let expected = state.next;
            let matches = entry.role() == expected.role()
                && (expected.iteration().is_none()
                    || entry.iteration().is_none()
                    || entry.iteration() == expected.iteration());
            if !matches {
                return Err(ResumeError::UnexpectedStep {
                    step_id: entry.step_id,
                    expected: expected.to_string(),
                    found: entry.agent.clone(),
                    found_iteration: entry.iteration(),
                });
            }
            // `matches` is false for Done (no role equals None's), handled above.
            state.advance(entry);
        }
        Ok(state)
    }
}

/// The original's test for two critiques saying the same thing: after trimming and
/// lower-casing, one contains the other.
pub fn near_identical(a: &str, b: &str) -> bool {
    let a = a.trim().to_lowercase();
    let b = b.trim().to_lowercase();
    a.contains(&b) || b.contains(&a)
}

/// Whether the critiques have gone circular: at least 3 of them, the last two near-identical.
pub fn is_circular(critiques: &[String]) -> bool {
    match critiques {
        [.., _, before, last] => near_identical(before, last),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circular_needs_three_critiques_and_a_near_repeat() {
        let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(!is_circular(&c(&["Wrong sign", "wrong sign"])));
        assert!(is_circular(&c(&[
            "a",
            "Wrong sign.",
            "  the WRONG SIGN. Fix it "
        ])));
        assert!(!is_circular(&c(&["a", "wrong sign", "missing units"])));
    }

    #[test]
    fn a_failed_solver_step_skips_the_verifier_and_keeps_the_feedback() {
        let mut s = LoopState::new(Mode::Debate, 3);
        s.after_solver(1, Some("x = 1"));
        assert_eq!(s.next, NextStep::Verifier { iteration: 1 });
        s.after_verifier(1, Some((false, "check x")));
        assert_eq!(s.feedback, "check x");
        s.after_solver(2, None);
        assert_eq!(s.solution, "");
        assert_eq!(s.next, NextStep::Solver { iteration: 3 });
        s.after_solver(3, Some("x = 2"));
        s.after_verifier(3, None);
        assert_eq!(s.feedback, "check x");
        assert_eq!(s.next, NextStep::Judge);
        assert_eq!(s.stop_reason, Some(StopReason::MaxIterations));
        assert!(!s.passed);
    }

    #[test]
    fn baseline_goes_straight_to_the_judge() {
        let mut s = LoopState::new(Mode::Baseline, 5);
        s.after_solver(1, Some("4"));
        assert_eq!(s.next, NextStep::Judge);
        assert_eq!(s.stop_reason, Some(StopReason::Baseline));
        s.after_judge();
        assert_eq!(s.next, NextStep::Done);
        assert_eq!(NextStep::Done.role(), None);
    }
}

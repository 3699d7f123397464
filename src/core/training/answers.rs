//! A stored run read as training material: the solver's answers, the verifier's verdicts on
//! them, and the judge's score of the final one.

use serde_json::Value;

use crate::core::answer::{answers_match, check_solution, extract_answer, normalize_answer};
use crate::core::outputs::{JudgeOutput, SolverOutput, VerifierOutput};
use crate::core::role::AgentRole;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};

/// A stored run: its record and its steps (in step order).
#[derive(Debug, Clone, Copy)]
pub struct RunData<'a> {
    /// The run's record (config, problem, ground truth).
    pub record: &'a RunRecord,
    /// Its steps.
    pub steps: &'a [TrajectoryEntry],
}

/// The verifier's verdict on one answer.
#[derive(Debug, Clone)]
pub struct Verdict<'a> {
    /// The verifier's step.
    pub step: &'a TrajectoryEntry,
    /// Its output.
    pub output: VerifierOutput,
    /// Whether the verdict agrees with the ground truth (passed a correct answer or failed a
    /// wrong one); `None` without a ground truth.
    pub agreed: Option<bool>,
}

/// The judge's score of the final answer.
#[derive(Debug, Clone)]
pub struct Judgement<'a> {
    /// The judge's step.
    pub step: &'a TrajectoryEntry,
    /// Its output.
    pub output: JudgeOutput,
}

/// One answer of the solver.
#[derive(Debug, Clone)]
pub struct SolverAnswer<'a> {
    /// The solver's step.
    pub step: &'a TrajectoryEntry,
    /// Its output.
    pub output: SolverOutput,
    /// The round it answered in (1 for the first-turn prompt).
    pub iteration: u32,
    /// Whether it is correct against the run's ground truth (Trialogue's answer checker);
    /// `None` without a ground truth.
    pub correct: Option<bool>,
    /// The verifier's verdict on it, when one was made.
    pub verdict: Option<Verdict<'a>>,
    /// The judge's score, on the final answer only.
    pub judgement: Option<Judgement<'a>>,
    /// Whether this is the final answer, the one the judge scored.
    pub is_final: bool,
}

/// What a run holds for training: its answers, oldest first.
#[derive(Debug, Clone)]
pub struct RunAnswers<'a> {
    /// The run.
    pub run: RunData<'a>,
    /// Every successful solver step, in step order.
    pub answers: Vec<SolverAnswer<'a>>,
    /// Successful steps whose output is not the agent's shape (e.g. an imported file's), which
    /// were left out.
    pub unreadable: u64,
}

fn parse<T: serde::de::DeserializeOwned>(step: &TrajectoryEntry) -> Option<T> {
    serde_json::from_value(Value::Object(step.output.clone())).ok()
}

impl<'a> RunAnswers<'a> {
    /// Reads a run's steps. A verdict belongs to the answer it was about (same iteration, same
    /// solution text); the judgement to the last answer, when the judge scored that answer.
    pub fn read(run: RunData<'a>) -> Self {
        let truth = run.record.ground_truth.as_deref();
        let mut answers: Vec<SolverAnswer<'a>> = Vec::new();
        let mut unreadable = 0;
        for step in run.steps.iter().filter(|s| !s.is_error()) {
            match step.role() {
                Some(AgentRole::Solver) => match parse::<SolverOutput>(step) {
                    Some(output) if !output.solution.trim().is_empty() => {
                        answers.push(SolverAnswer {
                            step,
                            iteration: step.iteration().unwrap_or(1),
                            correct: truth.map(|t| check_solution(&output.solution, t).correct),
                            output,
                            verdict: None,
                            judgement: None,
                            is_final: false,
                        })
                    }
                    _ => unreadable += 1,
                },
                Some(AgentRole::Verifier) => {
                    let (Some(output), Some(last)) =
                        (parse::<VerifierOutput>(step), answers.last_mut())
                    else {
                        unreadable += 1;
                        continue;
                    };
                    let about_last = step.input.get("solution").and_then(Value::as_str)
                        == Some(last.output.solution.as_str())
                        && step.iteration().unwrap_or(1) == last.iteration;
                    if about_last && last.verdict.is_none() {
                        let agreed = last.correct.map(|c| c == output.passed);
                        last.verdict = Some(Verdict {
                            step,
                            output,
                            agreed,
                        });
                    }
                }
                Some(AgentRole::Judge) => {
                    let (Some(output), Some(last)) =
                        (parse::<JudgeOutput>(step), answers.last_mut())
                    else {
                        unreadable += 1;
                        continue;
                    };
                    if step.input.get("solution").and_then(Value::as_str)
                        == Some(last.output.solution.as_str())
                    {
                        last.is_final = true;
                        last.judgement = Some(Judgement { step, output });
                    }
                }
                None => unreadable += 1,
            }
        }
        RunAnswers {
            run,
            answers,
            unreadable,
        }
    }

    /// The final answer, if the judge scored one.
    pub fn final_answer(&self) -> Option<&SolverAnswer<'a>> {
        self.answers.iter().find(|a| a.is_final)
    }

    /// The answer to the first-turn prompt (iteration 1, no feedback).
    pub fn first_answer(&self) -> Option<&SolverAnswer<'a>> {
        self.answers.first().filter(|a| a.iteration == 1)
    }
}

/// Whether two solutions give the same answer: their extracted final answers match (numbers,
/// fractions and equivalent forms, by Trialogue's answer checker), or, when neither has one,
/// their normalised texts are equal.
pub fn same_answer(a: &str, b: &str) -> bool {
    match (extract_answer(a), extract_answer(b)) {
        (Some(x), Some(y)) => answers_match(&x, &y),
        (None, None) => normalize_answer(a) == normalize_answer(b),
        _ => false,
    }
}

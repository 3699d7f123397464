//! Re-grade: a stored run's final answer checked again with today's answer checker
//! ([`crate::core::answer`]), without any call and without writing anything.
//!
//! The verdict a run was stored with is what the checker of its day said; when the checker
//! improves, a re-grade shows what it says now beside it ("graded now: correct (was: wrong)").
//! It grades as the loop does: only a run whose judge step is stored, that has a ground truth
//! and a final solution, is graded; the final solution is the last solver step that did not
//! fail.

use crate::core::answer::check_solution;
use crate::core::role::AgentRole;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};

/// One run graded again.
#[derive(Debug, Clone, PartialEq)]
pub struct Regrade {
    /// The run.
    pub run_id: String,
    /// The verdict stored with the run (`None`: it was not graded).
    pub was: Option<bool>,
    /// The current checker's verdict (`None`: nothing to grade).
    pub now: Option<bool>,
    /// The answer the stored run extracted.
    pub extracted_was: Option<String>,
    /// The answer the current checker extracts.
    pub extracted_now: Option<String>,
    /// Why the current checker could not read an answer, if it could not.
    pub unreadable: Option<String>,
}

impl Regrade {
    /// Whether the verdict differs from the stored one.
    pub fn changed(&self) -> bool {
        self.was != self.now
    }
}

/// A verdict as a word: `correct`, `wrong`, or `ungraded`.
pub fn verdict_word(verdict: Option<bool>) -> &'static str {
    match verdict {
        Some(true) => "correct",
        Some(false) => "wrong",
        None => "ungraded",
    }
}

/// Grades `record` (whose steps are `steps`) again with the current checker.
pub fn regrade_run(record: &RunRecord, steps: &[TrajectoryEntry]) -> Regrade {
    let terminal = steps.iter().find(|e| e.terminal);
    let was = record.correct.or_else(|| terminal.and_then(|e| e.success));
    let mut regrade = Regrade {
        run_id: record.run_id.clone(),
        was,
        now: None,
        extracted_was: record.extracted_answer.clone(),
        extracted_now: None,
        unreadable: None,
    };
    let (Some(truth), Some(_)) = (&record.ground_truth, terminal) else {
        return regrade;
    };
    let Some(solution) = final_solution(steps).filter(|s| !s.trim().is_empty()) else {
        return regrade;
    };
    let check = check_solution(solution, truth);
    regrade.now = Some(check.correct);
    regrade.extracted_now = check.extracted;
    regrade.unreadable = check.unreadable.map(|e| e.to_string());
    regrade
}

/// The solution of the last solver step that did not fail.
fn final_solution(steps: &[TrajectoryEntry]) -> Option<&str> {
    steps
        .iter()
        .filter(|e| e.role() == Some(AgentRole::Solver) && !e.is_error())
        .max_by_key(|e| e.step_id)
        .and_then(|e| e.output_str("solution"))
}

/// Correct answers out of graded runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accuracy {
    /// Runs graded correct.
    pub correct: usize,
    /// Runs graded at all.
    pub graded: usize,
}

impl Accuracy {
    /// `correct / graded`, when any run was graded.
    pub fn fraction(&self) -> Option<f64> {
        (self.graded > 0).then(|| self.correct as f64 / self.graded as f64)
    }

    fn count(&mut self, verdict: Option<bool>) {
        if let Some(correct) = verdict {
            self.graded += 1;
            self.correct += usize::from(correct);
        }
    }
}

/// A batch (or any set of runs) graded again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchRegrade {
    /// Every run, in the order given.
    pub runs: Vec<Regrade>,
    /// Accuracy by the stored verdicts.
    pub before: Accuracy,
    /// Accuracy by the current checker.
    pub after: Accuracy,
}

impl BatchRegrade {
    /// Re-grades every run of `runs` (each record with its steps).
    pub fn of<'r>(
        runs: impl IntoIterator<Item = (&'r RunRecord, &'r [TrajectoryEntry])>,
    ) -> BatchRegrade {
        let mut out = BatchRegrade::default();
        for (record, steps) in runs {
            let regrade = regrade_run(record, steps);
            out.before.count(regrade.was);
            out.after.count(regrade.now);
            out.runs.push(regrade);
        }
        out
    }

    /// The runs whose verdict changed.
    pub fn changed(&self) -> impl Iterator<Item = &Regrade> {
        self.runs.iter().filter(|r| r.changed())
    }
}

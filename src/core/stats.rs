//! Statistics over a batch's runs: accuracy with Wilson intervals, judge and verifier summaries,
//! costs, a paired debate-vs-baseline comparison, debate dynamics (pass rate by iteration,
//! answer flips, circular stops), the cases where the checks disagree, and per-problem rows
//! exportable as CSV and JSON.
//!
//! Everything starts from [`RunResult`]s: one per run, built from its [`RunRecord`] and its
//! trajectory entries with [`RunResult::new`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::answer::{check_solution, extract_answer};
use crate::core::config::Mode;
use crate::core::dataset::Problem;
use crate::core::pipeline::state::is_circular;
use crate::core::role::AgentRole;
use crate::core::sorting;
use crate::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};

/// The standard normal quantile for a two-sided 95 % interval, Φ⁻¹(0.975) (python3:
/// `statistics.NormalDist().inv_cdf(0.975)`).
pub const Z_95: f64 = 1.959_963_984_540_053_6;

/// A judge score at or above this counts as "the judge says correct".
pub const JUDGE_CORRECT_THRESHOLD: f64 = 0.5;

/// A proportion with its 95 % Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Proportion {
    /// Successes counted.
    pub successes: usize,
    /// Trials counted (never 0 here).
    pub trials: usize,
    /// `successes / trials`.
    pub rate: f64,
    /// Lower end of the 95 % interval.
    pub low: f64,
    /// Upper end of the 95 % interval.
    pub high: f64,
}

impl Proportion {
    /// `successes / trials` with its 95 % Wilson interval; `None` when there are no trials.
    pub fn new(successes: usize, trials: usize) -> Option<Proportion> {
        let (low, high) = wilson_interval(successes, trials, Z_95)?;
        Some(Proportion {
            successes,
            trials,
            rate: successes as f64 / trials as f64,
            low,
            high,
        })
    }
}

/// The Wilson score interval for a binomial proportion (E. B. Wilson, "Probable inference, the
/// law of succession, and statistical inference", JASA 22 (1927) 209–212):
///
/// centre = (p̂ + z²/2n) / (1 + z²/n), half-width = z / (1 + z²/n) · √(p̂(1−p̂)/n + z²/4n²).
///
/// Unlike the normal-approximation interval it stays inside [0, 1] and is not empty at p̂ = 0
/// or 1, which matters for small batches. `None` when `trials` is 0.
pub fn wilson_interval(successes: usize, trials: usize, z: f64) -> Option<(f64, f64)> {
    if trials == 0 {
        return None;
    }
    let n = trials as f64;
    let p = (successes.min(trials)) as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At p̂ = 0 (or 1) the bound is exactly 0 (or 1); rounding would leave a stray 1e-17.
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if successes >= trials {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((low, high))
}

/// One solver/verifier round of a debate run, as far as the trajectory tells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// The round, from 1.
    pub iteration: u32,
    /// The answer extracted from the solver's solution (`None` if it failed or has none).
    pub answer: Option<String>,
    /// Whether that solution matches the ground truth (`None` without a ground truth or a
    /// solution).
    pub correct: Option<bool>,
    /// The verifier's verdict on it (`None` if no verifier step, or it failed).
    pub verdict: Option<bool>,
}

/// One run as the statistics see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The dataset problem the run was for.
    pub problem_id: String,
    /// The run.
    pub run_id: String,
    /// Debate or baseline.
    pub mode: Mode,
    /// Where the run stands.
    pub status: RunStatus,
    /// The expected answer, if known.
    pub ground_truth: Option<String>,
    /// The answer extracted from the final (judged) solution.
    pub final_answer: Option<String>,
    /// Whether the final answer matched the ground truth.
    pub correct: Option<bool>,
    /// The judge's score.
    pub judge_score: Option<f64>,
    /// The verifier's last verdict (`None` in baseline mode or without any verdict).
    pub verifier_passed: Option<bool>,
    /// Solver rounds made.
    pub iterations: u32,
    /// Cost in USD of the steps whose price is known.
    pub cost_usd: Option<f64>,
    /// True when every step was priced.
    pub cost_complete: bool,
    /// The debate rounds, oldest first (empty when the entries were not given).
    pub rounds: Vec<Round>,
    /// Whether the loop stopped because the critiques went circular.
    pub circular: bool,
}

impl RunResult {
    /// Builds the result of run `record` for dataset problem `problem_id` from its entries (any
    /// order). With no entries, what the record alone says is used: no rounds, and the
    /// verifier's verdict taken from `record.passed` for a completed debate run.
    pub fn new(
        problem_id: impl Into<String>,
        record: &RunRecord,
        entries: &[TrajectoryEntry],
    ) -> RunResult {
        let mut sorted: Vec<&TrajectoryEntry> = entries.iter().collect();
        sorting::sort_by_key(&mut sorted, |e| e.step_id);
        let truth = record.ground_truth.as_deref();

        let mut rounds: Vec<Round> = Vec::new();
        let mut critiques: Vec<String> = Vec::new();
        let mut last_solution: Option<String> = None;
        let mut judged_solution: Option<String> = None;
        let mut verifier_passed = None;
        for entry in &sorted {
            match entry.role() {
                Some(AgentRole::Solver) => {
                    let solution = (!entry.is_error())
                        .then(|| entry.output_str("solution"))
                        .flatten()
                        .filter(|s| !s.trim().is_empty());
                    if let Some(s) = solution {
                        last_solution = Some(s.to_string());
                    }
                    rounds.push(Round {
                        iteration: entry.iteration().unwrap_or(rounds.len() as u32 + 1),
                        answer: solution.and_then(extract_answer),
                        correct: solution
                            .zip(truth)
                            .map(|(s, t)| check_solution(s, t).correct),
                        verdict: None,
                    });
                }
                Some(AgentRole::Verifier) if !entry.is_error() => {
                    let passed = entry.output.get("passed").and_then(Value::as_bool) == Some(true);
                    if !passed {
                        critiques.push(entry.output_str("critique").unwrap_or("").to_string());
                    }
                    verifier_passed = Some(passed);
                    if let Some(round) = rounds.last_mut() {
                        round.verdict = Some(passed);
                    }
                }
                Some(AgentRole::Judge) => {
                    judged_solution = entry
                        .input
                        .get("solution")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                _ => {}
            }
        }
        if sorted.is_empty() && record.mode == Mode::Debate && record.status == RunStatus::Completed
        {
            verifier_passed = Some(record.passed);
        }
        let final_answer = judged_solution
            .or(last_solution)
            .as_deref()
            .and_then(extract_answer);
        RunResult {
            problem_id: problem_id.into(),
            run_id: record.run_id.clone(),
            mode: record.mode,
            status: record.status,
            ground_truth: record.ground_truth.clone(),
            final_answer,
            correct: record.correct,
            judge_score: record.judge_score,
            verifier_passed: if record.mode == Mode::Debate {
                verifier_passed
            } else {
                None
            },
            iterations: record.iterations,
            cost_usd: record.cost_usd,
            cost_complete: record.cost_complete,
            rounds,
            // The loop stops as soon as the critiques turn circular, so a run stopped for that
            // reason is exactly one whose full critique list is circular.
            circular: record.mode == Mode::Debate && is_circular(&critiques),
        }
    }

    /// Whether the judge says the solution is correct (score ≥ [`JUDGE_CORRECT_THRESHOLD`]).
    pub fn judge_says_correct(&self) -> Option<bool> {
        self.judge_score.map(|s| s >= JUDGE_CORRECT_THRESHOLD)
    }

    /// Answer flips between consecutive rounds that both have a checked answer:
    /// `(right → wrong, wrong → right)`.
    pub fn flips(&self) -> (usize, usize) {
        let checked: Vec<bool> = self.rounds.iter().filter_map(|r| r.correct).collect();
        let mut right_to_wrong = 0;
        let mut wrong_to_right = 0;
        for pair in checked.windows(2) {
            match (pair[0], pair[1]) {
                (true, false) => right_to_wrong += 1,
                (false, true) => wrong_to_right += 1,
                _ => {}
            }
        }
        (right_to_wrong, wrong_to_right)
    }
}

/// Summary of one mode's runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeStats {
    /// The mode.
    pub mode: Mode,
    /// Runs of this mode, whatever their status.
    pub runs: usize,
    /// Completed runs (the ones the rates below are over).
    pub completed: usize,
    /// Correct final answers among completed runs with a checked answer.
    pub accuracy: Option<Proportion>,
    /// Mean judge score over completed runs that have one.
    pub mean_judge_score: Option<f64>,
    /// Completed runs whose verifier's last verdict was a pass, among those with a verdict
    /// (debate only).
    pub verifier_pass_rate: Option<Proportion>,
    /// Mean solver rounds over completed runs.
    pub mean_iterations: Option<f64>,
    /// Cost of every run of this mode (failed and cancelled ones spent money too); `None` when
    /// no run has a known cost.
    pub total_cost_usd: Option<f64>,
    /// False when some step's price was unknown: the costs are then lower bounds.
    pub cost_complete: bool,
    /// `total_cost_usd / runs`.
    pub cost_per_problem: Option<f64>,
    /// `total_cost_usd / correct answers`; `None` when nothing is correct.
    pub cost_per_correct: Option<f64>,
}

impl ModeStats {
    /// Summarizes the results of `mode` among `results` (`None` when there are none).
    pub fn of(mode: Mode, results: &[RunResult]) -> Option<ModeStats> {
        let runs: Vec<&RunResult> = results.iter().filter(|r| r.mode == mode).collect();
        if runs.is_empty() {
            return None;
        }
        let completed: Vec<&RunResult> = runs
            .iter()
            .copied()
            .filter(|r| r.status == RunStatus::Completed)
            .collect();
        let checked: Vec<bool> = completed.iter().filter_map(|r| r.correct).collect();
        let correct = checked.iter().filter(|c| **c).count();
        let verdicts: Vec<bool> = completed.iter().filter_map(|r| r.verifier_passed).collect();
        let total_cost_usd = runs
            .iter()
            .filter_map(|r| r.cost_usd)
            .fold(None, |sum: Option<f64>, c| Some(sum.unwrap_or(0.0) + c));
        let cost_complete = runs.iter().all(|r| r.cost_complete && r.cost_usd.is_some());
        Some(ModeStats {
            mode,
            runs: runs.len(),
            completed: completed.len(),
            accuracy: Proportion::new(correct, checked.len()),
            mean_judge_score: mean(completed.iter().filter_map(|r| r.judge_score)),
            verifier_pass_rate: Proportion::new(
                verdicts.iter().filter(|v| **v).count(),
                verdicts.len(),
            ),
            mean_iterations: mean(completed.iter().map(|r| f64::from(r.iterations))),
            total_cost_usd,
            cost_complete,
            cost_per_problem: total_cost_usd.map(|c| c / runs.len() as f64),
            cost_per_correct: total_cost_usd
                .filter(|_| correct > 0)
                .map(|c| c / correct as f64),
        })
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (count > 0).then(|| sum / count as f64)
}

/// Debate against baseline on the problems both answered (completed, answer checked).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedComparison {
    /// Problems with both results.
    pub pairs: usize,
    /// Both correct.
    pub both_correct: usize,
    /// Debate correct, baseline wrong (discordant).
    pub debate_only: usize,
    /// Baseline correct, debate wrong (discordant).
    pub baseline_only: usize,
    /// Both wrong.
    pub neither: usize,
    /// Debate accuracy on the paired problems.
    pub debate_accuracy: f64,
    /// Baseline accuracy on the paired problems.
    pub baseline_accuracy: f64,
    /// `debate_accuracy − baseline_accuracy`.
    pub difference: f64,
    /// Lower end of the 95 % interval of the difference.
    pub low: f64,
    /// Upper end of the 95 % interval of the difference.
    pub high: f64,
}

impl PairedComparison {
    /// Pairs each problem's last completed, checked debate result with its last completed,
    /// checked baseline result; `None` when no problem has both.
    pub fn of(results: &[RunResult]) -> Option<PairedComparison> {
        let mut by_problem: BTreeMap<&str, (Option<bool>, Option<bool>)> = BTreeMap::new();
        for r in results {
            let Some(correct) = r.correct.filter(|_| r.status == RunStatus::Completed) else {
                continue;
            };
            let slot = by_problem.entry(r.problem_id.as_str()).or_default();
            match r.mode {
                Mode::Debate => slot.0 = Some(correct),
                Mode::Baseline => slot.1 = Some(correct),
            }
        }
        let (mut a, mut b, mut c, mut d) = (0, 0, 0, 0);
        for (debate, baseline) in by_problem.values() {
            match (debate, baseline) {
                (Some(true), Some(true)) => a += 1,
                (Some(true), Some(false)) => b += 1,
                (Some(false), Some(true)) => c += 1,
                (Some(false), Some(false)) => d += 1,
                _ => {}
            }
        }
        PairedComparison::from_counts(a, b, c, d)
    }

    /// The comparison from the paired 2×2 counts: `a` both correct, `b` debate only, `c`
    /// baseline only, `d` neither. `None` when there are no pairs.
    ///
    /// The interval is Newcombe's hybrid score interval for a difference of paired proportions
    /// (R. G. Newcombe, "Improved confidence intervals for the difference between binomial
    /// proportions based on paired data", Statistics in Medicine 17 (1998) 2635–2650, method
    /// 10): with p₁ = (a+b)/n, p₂ = (a+c)/n, their Wilson intervals (l₁, u₁), (l₂, u₂), and
    /// the correlation φ = C / √((a+b)(c+d)(a+c)(b+d)) where C = ad−bc−n/2 if ad−bc > n/2,
    /// C = ad−bc if ad−bc < 0, else 0 (φ = 0 when a margin is empty):
    ///
    /// low = D − √((p₁−l₁)² − 2φ(p₁−l₁)(u₂−p₂) + (u₂−p₂)²),
    /// high = D + √((p₂−l₂)² − 2φ(p₂−l₂)(u₁−p₁) + (u₁−p₁)²), D = p₁ − p₂.
    ///
    /// It stays within [−1, 1] and behaves at small n and at 0 or 100 % accuracy, where a
    /// normal approximation on the per-problem differences does not.
    pub fn from_counts(a: usize, b: usize, c: usize, d: usize) -> Option<PairedComparison> {
        let n = a + b + c + d;
        let (l1, u1) = wilson_interval(a + b, n, Z_95)?;
        let (l2, u2) = wilson_interval(a + c, n, Z_95)?;
        let nf = n as f64;
        let p1 = (a + b) as f64 / nf;
        let p2 = (a + c) as f64 / nf;
        let difference = p1 - p2;
        let margins = ((a + b) * (c + d)) as f64 * ((a + c) * (b + d)) as f64;
        let ad_bc = (a * d) as f64 - (b * c) as f64;
        let corrected = if ad_bc > nf / 2.0 {
            ad_bc - nf / 2.0
        } else if ad_bc < 0.0 {
            ad_bc
        } else {
            0.0
        };
        let phi = if margins > 0.0 {
            corrected / margins.sqrt()
        } else {
            0.0
        };
        let down = ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2))
            .max(0.0)
            .sqrt();
        let up = ((p2 - l2).powi(2) - 2.0 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1).powi(2))
            .max(0.0)
            .sqrt();
        Some(PairedComparison {
            pairs: n,
            both_correct: a,
            debate_only: b,
            baseline_only: c,
            neither: d,
            debate_accuracy: p1,
            baseline_accuracy: p2,
            difference,
            low: (difference - down).max(-1.0),
            high: (difference + up).min(1.0),
        })
    }
}

/// The verifier's verdicts at one round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IterationPassRate {
    /// The round, from 1.
    pub iteration: u32,
    /// Verdicts given at this round (failed verifier steps not counted).
    pub verdicts: usize,
    /// Of which passes.
    pub passed: usize,
    /// `passed / verdicts`.
    pub rate: f64,
}

/// A run in which the checked answer changed between rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlipRun {
    /// The problem.
    pub problem_id: String,
    /// The run.
    pub run_id: String,
    /// Right → wrong changes in the run.
    pub right_to_wrong: usize,
    /// Wrong → right changes in the run.
    pub wrong_to_right: usize,
}

/// How debates went, over completed debate runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dynamics {
    /// Completed debate runs looked at.
    pub runs: usize,
    /// Pass rate of the verifier at each round, rounds in order.
    pub pass_rate_by_iteration: Vec<IterationPassRate>,
    /// Right → wrong changes between consecutive checked rounds, over all runs.
    pub right_to_wrong: usize,
    /// Wrong → right changes between consecutive checked rounds, over all runs.
    pub wrong_to_right: usize,
    /// The runs with at least one change.
    pub flip_runs: Vec<FlipRun>,
    /// Runs whose loop stopped on circular critiques.
    pub circular_stops: usize,
}

impl Dynamics {
    /// The dynamics of the completed debate runs among `results`.
    pub fn of(results: &[RunResult]) -> Dynamics {
        let debates: Vec<&RunResult> = results
            .iter()
            .filter(|r| r.mode == Mode::Debate && r.status == RunStatus::Completed)
            .collect();
        let mut by_iteration: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
        let mut flip_runs = Vec::new();
        let (mut right_to_wrong, mut wrong_to_right) = (0, 0);
        for run in &debates {
            for round in &run.rounds {
                if let Some(passed) = round.verdict {
                    let slot = by_iteration.entry(round.iteration).or_default();
                    slot.0 += 1;
                    slot.1 += usize::from(passed);
                }
            }
            let (down, up) = run.flips();
            right_to_wrong += down;
            wrong_to_right += up;
            if down + up > 0 {
                flip_runs.push(FlipRun {
                    problem_id: run.problem_id.clone(),
                    run_id: run.run_id.clone(),
                    right_to_wrong: down,
                    wrong_to_right: up,
                });
            }
        }
        Dynamics {
            runs: debates.len(),
            pass_rate_by_iteration: by_iteration
                .into_iter()
                .map(|(iteration, (verdicts, passed))| IterationPassRate {
                    iteration,
                    verdicts,
                    passed,
                    rate: passed as f64 / verdicts as f64,
                })
                .collect(),
            right_to_wrong,
            wrong_to_right,
            flip_runs,
            circular_stops: debates.iter().filter(|r| r.circular).count(),
        }
    }
}

/// A completed run where the answer check, the judge and the verifier do not all agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disagreement {
    /// The problem.
    pub problem_id: String,
    /// The run.
    pub run_id: String,
    /// Debate or baseline.
    pub mode: Mode,
    /// The ground-truth check of the final answer.
    pub answer_correct: Option<bool>,
    /// The judge's score.
    pub judge_score: Option<f64>,
    /// Whether the judge says correct (score ≥ [`JUDGE_CORRECT_THRESHOLD`]).
    pub judge_says_correct: Option<bool>,
    /// The verifier's last verdict (debate only).
    pub verifier_passed: Option<bool>,
}

/// The completed runs where at least two of the three signals are present and they differ.
pub fn disagreements(results: &[RunResult]) -> Vec<Disagreement> {
    results
        .iter()
        .filter(|r| r.status == RunStatus::Completed)
        .filter_map(|r| {
            let signals: Vec<bool> = [r.correct, r.judge_says_correct(), r.verifier_passed]
                .into_iter()
                .flatten()
                .collect();
            let split = signals.len() >= 2 && signals.iter().any(|s| *s != signals[0]);
            split.then(|| Disagreement {
                problem_id: r.problem_id.clone(),
                run_id: r.run_id.clone(),
                mode: r.mode,
                answer_correct: r.correct,
                judge_score: r.judge_score,
                judge_says_correct: r.judge_says_correct(),
                verifier_passed: r.verifier_passed,
            })
        })
        .collect()
}

/// Everything the batch results page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchStats {
    /// Debate runs, if any.
    pub debate: Option<ModeStats>,
    /// Baseline runs, if any.
    pub baseline: Option<ModeStats>,
    /// Debate vs baseline on shared problems, if any.
    pub paired: Option<PairedComparison>,
    /// How debates went.
    pub dynamics: Dynamics,
    /// Where the checks disagree.
    pub disagreements: Vec<Disagreement>,
}

/// Computes every statistic over `results`.
pub fn summarize(results: &[RunResult]) -> BatchStats {
    BatchStats {
        debate: ModeStats::of(Mode::Debate, results),
        baseline: ModeStats::of(Mode::Baseline, results),
        paired: PairedComparison::of(results),
        dynamics: Dynamics::of(results),
        disagreements: disagreements(results),
    }
}

/// One row of the per-problem export: one problem in one mode (a tidy table: filter or pivot
/// on `mode` in the analysis tool).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemRow {
    /// The problem.
    pub problem_id: String,
    /// `debate` or `baseline`.
    pub mode: Mode,
    /// The run.
    pub run_id: String,
    /// The run's status.
    pub status: RunStatus,
    /// The expected answer.
    pub ground_truth: Option<String>,
    /// The answer extracted from the final solution.
    pub final_answer: Option<String>,
    /// The ground-truth check.
    pub correct: Option<bool>,
    /// The judge's score.
    pub judge_score: Option<f64>,
    /// The verifier's last verdict.
    pub verifier_passed: Option<bool>,
    /// Solver rounds.
    pub iterations: u32,
    /// Whether the loop stopped on circular critiques.
    pub circular: bool,
    /// Right → wrong answer changes.
    pub right_to_wrong: usize,
    /// Wrong → right answer changes.
    pub wrong_to_right: usize,
    /// Cost in USD (of the priced steps).
    pub cost_usd: Option<f64>,
    /// Whether every step was priced.
    pub cost_complete: bool,
}

/// The column names of [`ProblemRow`] in export order.
pub const PROBLEM_ROW_COLUMNS: [&str; 15] = [
    "problem_id",
    "mode",
    "run_id",
    "status",
    "ground_truth",
    "final_answer",
    "correct",
    "judge_score",
    "verifier_passed",
    "iterations",
    "circular",
    "right_to_wrong",
    "wrong_to_right",
    "cost_usd",
    "cost_complete",
];

impl From<&RunResult> for ProblemRow {
    fn from(r: &RunResult) -> Self {
        let (right_to_wrong, wrong_to_right) = r.flips();
        ProblemRow {
            problem_id: r.problem_id.clone(),
            mode: r.mode,
            run_id: r.run_id.clone(),
            status: r.status,
            ground_truth: r.ground_truth.clone(),
            final_answer: r.final_answer.clone(),
            correct: r.correct,
            judge_score: r.judge_score,
            verifier_passed: r.verifier_passed,
            iterations: r.iterations,
            circular: r.circular,
            right_to_wrong,
            wrong_to_right,
            cost_usd: r.cost_usd,
            cost_complete: r.cost_complete,
        }
    }
}

impl ProblemRow {
    /// The row's cells as text in [`PROBLEM_ROW_COLUMNS`] order; absent values are empty.
    pub fn cells(&self) -> [String; 15] {
        fn opt<T: ToString>(v: &Option<T>) -> String {
            v.as_ref().map(ToString::to_string).unwrap_or_default()
        }
        [
            self.problem_id.clone(),
            self.mode.as_str().to_string(),
            self.run_id.clone(),
            self.status.as_str().to_string(),
            opt(&self.ground_truth),
            opt(&self.final_answer),
            opt(&self.correct),
            opt(&self.judge_score),
            opt(&self.verifier_passed),
            self.iterations.to_string(),
            self.circular.to_string(),
            self.right_to_wrong.to_string(),
            self.wrong_to_right.to_string(),
            opt(&self.cost_usd),
            self.cost_complete.to_string(),
        ]
    }
}

/// The per-problem rows of `results`, sorted by problem id then mode (debate first).
pub fn problem_rows(results: &[RunResult]) -> Vec<ProblemRow> {
    let mut rows: Vec<ProblemRow> = results.iter().map(ProblemRow::from).collect();
    sorting::sort_by(&mut rows, |x, y| {
        x.problem_id
            .cmp(&y.problem_id)
            .then_with(|| (x.mode == Mode::Baseline).cmp(&(y.mode == Mode::Baseline)))
    });
    rows
}

/// Quotes one CSV field as RFC 4180 asks: a field holding a comma, a double quote, CR or LF
/// is wrapped in double quotes, with each inner quote doubled; others are written as they are.
pub fn csv_field(field: &str) -> std::borrow::Cow<'_, str> {
    if field.contains([',', '"', '\r', '\n']) {
        std::borrow::Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(field)
    }
}

/// What a spreadsheet takes for the start of a formula when it begins a cell: OWASP's list for
/// CSV injection (`=`, `+`, `-`, `@`, tab, carriage return).
/// <https://owasp.org/www-community/attacks/CSV_Injection>
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet will show as written instead of running it: text that starts like a
/// formula gets a leading `'`, as OWASP recommends. A cell that is a plain decimal number
/// (`-0.25`, `+3`, `-1.5e-7`) is left as it is: spreadsheets read it as that number, and a
/// negative number must stay one.
pub fn neutralize_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) && !is_plain_number(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// `[+-]digits[.digits][e[+-]digits]` (digits on at least one side of the point): a number
/// and nothing a spreadsheet could evaluate.
fn is_plain_number(text: &str) -> bool {
    fn digits(s: &str) -> (usize, &str) {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (n, &s[n..])
    }
    let rest = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, rest) = digits(rest);
    let (fraction, rest) = match rest.strip_prefix('.') {
        Some(after) => digits(after),
        None => (0, rest),
    };
    if whole + fraction == 0 {
        return false;
    }
    match rest.strip_prefix(['e', 'E']) {
        Some(exponent) => {
            let (n, rest) = digits(exponent.strip_prefix(['+', '-']).unwrap_or(exponent));
            n > 0 && rest.is_empty()
        }
        None => rest.is_empty(),
    }
}

/// The rows as RFC 4180 CSV: a header line, then one line per row, each ended by CRLF. Cells
/// that would run as a formula in a spreadsheet are neutralized (see [`neutralize_formula`]).
pub fn rows_to_csv(rows: &[ProblemRow]) -> String {
    let mut out = String::new();
    push_csv_line(&mut out, PROBLEM_ROW_COLUMNS.iter().copied());
    for row in rows {
        let cells = row.cells();
        push_csv_line(&mut out, cells.iter().map(String::as_str));
    }
    out
}

fn push_csv_line<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(&neutralize_formula(cell)));
    }
    out.push_str("\r\n");
}

/// [`rows_to_csv`] with the dataset's metadata: after the [`PROBLEM_ROW_COLUMNS`], one column
/// per metadata key of `problems` (MATH-500's `level`, `subject`, …) in key order, then
/// `domain` when a problem has one the metadata does not hold under that name. A key named
/// like a fixed column is written `metadata.<key>`. Each row's problem is found by id; a value
/// that is not text is written as JSON. Cells are neutralized as in [`rows_to_csv`].
pub fn rows_to_csv_with_metadata(rows: &[ProblemRow], problems: &[Problem]) -> String {
    let mut keys: BTreeSet<&str> = problems
        .iter()
        .flat_map(|p| p.metadata.keys().map(String::as_str))
        .collect();
    if problems.iter().any(|p| p.domain.is_some()) {
        keys.insert(DOMAIN_COLUMN);
    }
    let keys: Vec<&str> = keys.into_iter().collect();
    let by_id: HashMap<&str, &Problem> = problems.iter().map(|p| (p.id.as_str(), p)).collect();
    let header: Vec<String> = keys
        .iter()
        .map(|k| {
            if PROBLEM_ROW_COLUMNS.contains(k) {
                format!("metadata.{k}")
            } else {
                (*k).to_string()
            }
        })
        .collect();
    let mut out = String::new();
    push_csv_line(
        &mut out,
        PROBLEM_ROW_COLUMNS
            .iter()
            .copied()
            .chain(header.iter().map(String::as_str)),
    );
    for row in rows {
        let problem = by_id.get(row.problem_id.as_str());
        let metadata: Vec<String> = keys
            .iter()
            .map(|k| problem.and_then(|p| p.facet_value(k)).unwrap_or_default())
            .collect();
        let cells = row.cells();
        push_csv_line(
            &mut out,
            cells
                .iter()
                .map(String::as_str)
                .chain(metadata.iter().map(String::as_str)),
        );
    }
    out
}

/// The column a problem's domain is written in.
const DOMAIN_COLUMN: &str = "domain";

/// Accuracy of each mode among the problems with one value of a metadata key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacetRow {
    /// The value, as text (`4`, `Algebra`).
    pub value: String,
    /// Debate's accuracy on those problems (completed runs with a checked answer).
    pub debate: Option<Proportion>,
    /// Baseline's.
    pub baseline: Option<Proportion>,
}

/// Accuracy broken down by one metadata key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacetBreakdown {
    /// The key (`level`, `subject`).
    pub key: String,
    /// One row per value some result's problem has, in value order (numbers by size).
    pub rows: Vec<FacetRow>,
}

/// A key with more values than this among a batch's problems is no facet (ids, solutions).
pub const MAX_FACET_VALUES: usize = 30;

/// The metadata keys worth breaking `problems` down by: every value text, a number or a
/// boolean, with 2 to [`MAX_FACET_VALUES`] distinct values; in key order.
pub fn facet_keys(problems: &[Problem]) -> Vec<String> {
    let mut values: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut not_scalar = BTreeSet::new();
    for problem in problems {
        for (key, value) in &problem.metadata {
            if matches!(value, Value::Array(_) | Value::Object(_) | Value::Null) {
                not_scalar.insert(key.as_str());
            } else if let Some(text) = problem.facet_value(key) {
                values.entry(key).or_default().insert(text);
            }
        }
    }
    values
        .into_iter()
        .filter(|(key, values)| {
            !not_scalar.contains(key) && (2..=MAX_FACET_VALUES).contains(&values.len())
        })
        .map(|(key, _)| key.to_string())
        .collect()
}

/// Accuracy per value of each [`facet_keys`] key of `problems`, over `results` (each found
/// by its problem id), with the same 95 % intervals as the overall accuracy.
pub fn facet_breakdowns(results: &[RunResult], problems: &[Problem]) -> Vec<FacetBreakdown> {
    let by_id: HashMap<&str, &Problem> = problems.iter().map(|p| (p.id.as_str(), p)).collect();
    facet_keys(problems)
        .into_iter()
        .map(|key| {
            // value -> mode -> (correct, checked)
            let mut tally: BTreeMap<String, [(usize, usize); 2]> = BTreeMap::new();
            for result in results {
                let value = by_id
                    .get(result.problem_id.as_str())
                    .and_then(|p| p.facet_value(&key));
                let Some(value) = value else { continue };
                let counts = tally.entry(value).or_default();
                let checked = (result.status == RunStatus::Completed)
                    .then_some(result.correct)
                    .flatten();
                if let Some(correct) = checked {
                    let slot = &mut counts[usize::from(result.mode == Mode::Baseline)];
                    slot.0 += usize::from(correct);
                    slot.1 += 1;
                }
            }
            let mut rows: Vec<FacetRow> = tally
                .into_iter()
                .map(|(value, [debate, baseline])| FacetRow {
                    value,
                    debate: Proportion::new(debate.0, debate.1),
                    baseline: Proportion::new(baseline.0, baseline.1),
                })
                .collect();
            sorting::sort_by(&mut rows, |a, b| natural_order(&a.value, &b.value));
            FacetBreakdown { key, rows }
        })
        .collect()
}

/// Text in which runs of digits compare by their value: `Level 2` before `Level 10`.
pub fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(text: &str) -> Vec<Result<u128, &str>> {
        let mut out = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let len = if digits > 0 {
                digits
            } else {
                rest.find(|c: char| c.is_ascii_digit())
                    .unwrap_or(rest.len())
            };
            let (part, tail) = rest.split_at(len);
            out.push(if digits > 0 {
                part.parse::<u128>().map_err(|_| part)
            } else {
                Err(part)
            });
            rest = tail;
        }
        out
    }
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}

/// The rows as a JSON array of objects (keys as in [`PROBLEM_ROW_COLUMNS`], absent values
/// `null`).
pub fn rows_to_json(rows: &[ProblemRow]) -> String {
    serde_json::to_string_pretty(rows).unwrap_or_else(|_| "[]".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_is_none_without_trials_and_clamped_at_the_ends() {
        assert_eq!(wilson_interval(0, 0, Z_95), None);
        let (low, high) = wilson_interval(0, 10, Z_95).unwrap();
        assert_eq!(low, 0.0);
        // python3: z=NormalDist().inv_cdf(.975); n=10; (z*z/n)/(1+z*z/n) = 0.27753279986288915
        assert!((high - 0.277_532_799_862_889).abs() < 1e-9, "{high}");
        let (low, high) = wilson_interval(10, 10, Z_95).unwrap();
        assert!((low - 0.722_467_200_137_111).abs() < 1e-9, "{low}");
        assert_eq!(high, 1.0);
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn plain_numbers_are_told_from_formulas() {
        for number in ["-3", "+3", "-0.25", "-.5", "-5.", "1e9", "-1.5e-7", "+2E+3"] {
            assert!(is_plain_number(number), "{number}");
        }
        for text in [
            "-", "+", "-.", "-e5", "-1e", "-1e+", "-1+2", "-1 ", "--1", "-1,5", "-inf",
        ] {
            assert!(!is_plain_number(text), "{text}");
        }
    }
}

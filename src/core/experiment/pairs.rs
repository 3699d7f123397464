//! Two configs compared on the problems both answered: the paired difference in accuracy with
//! its interval, McNemar's exact test, and the problems where they differ.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::stats::PairedComparison;
use crate::core::trajectory::RunStatus;

use super::matrix::ArmRuns;

/// A problem the two configs answered differently (one right, one wrong).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DifferingProblem {
    /// The dataset problem.
    pub problem_id: String,
    /// The first config's run.
    pub a_run_id: String,
    /// The second config's run.
    pub b_run_id: String,
    /// Whether the first config got it right (the second got the opposite).
    pub a_correct: bool,
}

/// Configs `a` and `b` on their shared problems: those each answered with a completed run
/// whose answer was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairComparison {
    /// The first config's position.
    pub a: usize,
    /// The second config's position.
    pub b: usize,
    /// The first config's hash.
    pub a_hash: String,
    /// The second config's hash.
    pub b_hash: String,
    /// Shared problems.
    pub shared: usize,
    /// Both right.
    pub both: usize,
    /// Only `a` right.
    pub a_only: usize,
    /// Only `b` right.
    pub b_only: usize,
    /// Both wrong.
    pub neither: usize,
    /// `a`'s accuracy on the shared problems minus `b`'s, with Newcombe's paired interval
    /// (see [`PairedComparison::from_counts`]); `None` without shared problems.
    pub difference: Option<Difference>,
    /// McNemar's exact test of `a_only` against `b_only` ([`mcnemar_exact_p`]).
    pub p_value: f64,
    /// The problems where they differ, by problem id.
    pub differing: Vec<DifferingProblem>,
}

/// A paired difference of accuracies with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// `a`'s accuracy minus `b`'s on the shared problems.
    pub estimate: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
}

impl PairComparison {
    /// Compares `a` (at position `ia`) with `b` (at `ib`). A problem with several checked,
    /// completed runs in one config counts its last one in run order.
    pub fn of(ia: usize, a: &ArmRuns, ib: usize, b: &ArmRuns) -> PairComparison {
        let checked = |arm: &ArmRuns| -> BTreeMap<String, (String, bool)> {
            arm.runs
                .iter()
                .filter(|r| r.result.status == RunStatus::Completed)
                .filter_map(|r| {
                    r.result
                        .correct
                        .map(|c| (r.result.problem_id.clone(), (r.result.run_id.clone(), c)))
                })
                .collect()
        };
        let in_b = checked(b);
        let (mut both, mut a_only, mut b_only, mut neither) = (0, 0, 0, 0);
        let mut differing = Vec::new();
        for (problem_id, (a_run, a_right)) in checked(a) {
            let Some((b_run, b_right)) = in_b.get(&problem_id) else {
                continue;
            };
            match (a_right, *b_right) {
                (true, true) => both += 1,
                (false, false) => neither += 1,
                (true, false) => a_only += 1,
                (false, true) => b_only += 1,
            }
            if a_right != *b_right {
                differing.push(DifferingProblem {
                    problem_id,
                    a_run_id: a_run,
                    b_run_id: b_run.clone(),
                    a_correct: a_right,
                });
            }
        }
        let difference =
            PairedComparison::from_counts(both, a_only, b_only, neither).map(|p| Difference {
                estimate: p.difference,
                low: p.low,
                high: p.high,
            });
        PairComparison {
            a: ia,
            b: ib,
            a_hash: a.config_hash.clone(),
            b_hash: b.config_hash.clone(),
            shared: both + a_only + b_only + neither,
            both,
            a_only,
            b_only,
            neither,
            difference,
            p_value: mcnemar_exact_p(a_only as u64, b_only as u64),
            differing,
        }
    }

    /// Every pair of `arms`, in order: (0, 1), (0, 2) … (1, 2) …
    pub fn all(arms: &[ArmRuns]) -> Vec<PairComparison> {
        let mut pairs = Vec::new();
        for i in 0..arms.len() {
            for j in i + 1..arms.len() {
                pairs.push(PairComparison::of(i, &arms[i], j, &arms[j]));
            }
        }
        pairs
    }
}

/// The two-sided p-value of McNemar's exact test for `b` and `c` discordant pairs: under the
/// null each discordant pair falls either way with probability ½, so with n = b + c it is
/// min(1, 2 · P(X ≤ min(b, c))) for X ~ Binomial(n, ½) (A. Agresti, *Categorical Data
/// Analysis*, 3rd ed., §11.1.1). It is 1 when there are no discordant pairs.
///
/// The binomial terms are summed in logarithms, so thousands of discordant pairs neither
/// underflow 2⁻ⁿ nor overflow the binomial coefficients.
pub fn mcnemar_exact_p(b: u64, c: u64) -> f64 {
    let n = b + c;
    let k = b.min(c);
    if n == 0 || 2 * k == n {
        return 1.0;
    }
    // ln P(X = i) for i = 0 ..= k, from ln P(X = 0) = −n ln 2 by the ratio (n − i) / (i + 1).
    let mut log_term = -(n as f64) * std::f64::consts::LN_2;
    let mut logs = Vec::with_capacity(k as usize + 1);
    for i in 0..=k {
        logs.push(log_term);
        log_term += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let tail = top + logs.iter().map(|l| (l - top).exp()).sum::<f64>().ln();
    (2.0 * tail.exp()).min(1.0)
}

//! Two runs side by side: each round's solution of one run beside the same round's of the
//! other, with a line diff between them, and each round's verdict.

use std::collections::BTreeMap;

use crate::core::role::AgentRole;
use crate::core::sorting;
use crate::core::trajectory::TrajectoryEntry;

/// The most cells (lines of one solution × lines of the other) the diff's table may have:
/// beyond it the two solutions are shown as wholly removed and added, so a pathological
/// reply cannot stall the page.
pub const MAX_DIFF_CELLS: usize = 4_000_000;

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// In both solutions.
    Same(String),
    /// Only in the first run's.
    Removed(String),
    /// Only in the second run's.
    Added(String),
}

impl DiffLine {
    /// `same`, `removed` or `added` (the line's CSS class and `data-kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            DiffLine::Same(_) => "same",
            DiffLine::Removed(_) => "removed",
            DiffLine::Added(_) => "added",
        }
    }

    /// The line's text.
    pub fn text(&self) -> &str {
        match self {
            DiffLine::Same(t) | DiffLine::Removed(t) | DiffLine::Added(t) => t,
        }
    }
}

/// What one run did in one round.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoundSide {
    /// The solver's solution (empty when its step failed).
    pub solution: String,
    /// The verifier's verdict on it, if it was verified.
    pub passed: Option<bool>,
    /// The verifier's critique, if any.
    pub critique: Option<String>,
}

/// One round of both runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundPair {
    /// The round, from 1.
    pub iteration: u32,
    /// The first run's round (`None` when it stopped before it).
    pub a: Option<RoundSide>,
    /// The second run's round.
    pub b: Option<RoundSide>,
    /// The first run's solution against the second's, line by line.
    pub diff: Vec<DiffLine>,
}

impl RoundPair {
    /// Whether the two solutions are the same text.
    pub fn identical(&self) -> bool {
        self.diff.iter().all(|l| matches!(l, DiffLine::Same(_)))
    }
}

/// Each round of the two runs (`a_steps`, `b_steps`, any order), from 1 to the longer run's
/// last, with the diff of their solutions.
pub fn rounds_side_by_side(
    a_steps: &[TrajectoryEntry],
    b_steps: &[TrajectoryEntry],
) -> Vec<RoundPair> {
    let a = rounds(a_steps);
    let b = rounds(b_steps);
    let last = a.keys().chain(b.keys()).copied().max().unwrap_or(0);
    (1..=last)
        .filter(|i| a.contains_key(i) || b.contains_key(i))
        .map(|iteration| {
            let (sa, sb) = (a.get(&iteration).cloned(), b.get(&iteration).cloned());
            let text =
                |s: &Option<RoundSide>| s.as_ref().map(|s| s.solution.clone()).unwrap_or_default();
            RoundPair {
                iteration,
                diff: line_diff(&text(&sa), &text(&sb)),
                a: sa,
                b: sb,
            }
        })
        .collect()
}

fn rounds(steps: &[TrajectoryEntry]) -> BTreeMap<u32, RoundSide> {
    let mut sorted: Vec<&TrajectoryEntry> = steps.iter().collect();
    sorting::sort_by_key(&mut sorted, |e| e.step_id);
    let mut out: BTreeMap<u32, RoundSide> = BTreeMap::new();
    let mut current = 0;
    for entry in sorted {
        match entry.role() {
            Some(AgentRole::Solver) => {
                current = entry.iteration().unwrap_or(current + 1);
                let solution = if entry.is_error() {
                    String::new()
                } else {
                    entry.output_str("solution").unwrap_or("").to_string()
                };
                out.insert(
                    current,
                    RoundSide {
                        solution,
                        ..RoundSide::default()
                    },
                );
            }
            Some(AgentRole::Verifier) if !entry.is_error() => {
                if let Some(side) = out.get_mut(&current) {
                    side.passed = entry.output.get("passed").and_then(|v| v.as_bool());
                    side.critique = entry.output_str("critique").map(str::to_string);
                }
            }
            _ => {}
        }
    }
    out
}

/// `a` against `b`, line by line: the longest common subsequence of lines kept, the rest
/// marked removed (only in `a`) or added (only in `b`), removals before additions where they
/// meet.
pub fn line_diff(a: &str, b: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > MAX_DIFF_CELLS {
        return a
            .iter()
            .map(|l| DiffLine::Removed(l.to_string()))
            .chain(b.iter().map(|l| DiffLine::Added(l.to_string())))
            .collect();
    }
    // common[i][j]: the longest common subsequence of a[i..] and b[j..].
    let width = m + 1;
    let mut common = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i * width + j] = if a[i] == b[j] {
                common[(i + 1) * width + j + 1] + 1
            } else {
                common[(i + 1) * width + j].max(common[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n.max(m));
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if common[(i + 1) * width + j] >= common[i * width + j + 1] {
            out.push(DiffLine::Removed(a[i].to_string()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].to_string()));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| DiffLine::Removed(l.to_string())));
    out.extend(b[j..].iter().map(|l| DiffLine::Added(l.to_string())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(step_id: u64, agent: &str, iteration: Option<u32>, output: &str) -> TrajectoryEntry {
        let iteration = iteration.map_or(String::new(), |i| format!(r#""iteration":{i}"#));
        let line = format!(
            r#"{{"timestamp":"t","run_id":"r","step_id":{step_id},"agent":"{agent}","action":"a","input":{{}},"output":{output},"metadata":{{{iteration}}}}}"#
        );
        crate::core::jsonl::parse_line(&line).unwrap()
    }

    #[test]
    fn a_line_diff_keeps_common_lines_and_marks_the_rest() {
        let diff = line_diff("x = 2\ny = 3\nso 5", "x = 2\ny = 4\nso 6\nend");
        assert_eq!(
            diff,
            vec![
                DiffLine::Same("x = 2".into()),
                DiffLine::Removed("y = 3".into()),
                DiffLine::Removed("so 5".into()),
                DiffLine::Added("y = 4".into()),
                DiffLine::Added("so 6".into()),
                DiffLine::Added("end".into()),
            ]
        );
        assert!(line_diff("a\nb", "a\nb").iter().all(|l| l.kind() == "same"));
        assert_eq!(line_diff("", "a"), vec![DiffLine::Added("a".into())]);
    }

    #[test]
    fn rounds_pair_up_by_iteration_with_verdicts_and_a_longer_run_s_extra_rounds() {
        let a = vec![
            step(1, "solver", Some(1), r#"{"solution":"2+2\n= 5"}"#),
            step(
                2,
                "verifier",
                Some(1),
                r#"{"passed":false,"critique":"wrong sum"}"#,
            ),
            step(3, "solver", Some(2), r#"{"solution":"2+2\n= 4"}"#),
            step(4, "verifier", Some(2), r#"{"passed":true,"critique":"ok"}"#),
            step(5, "judge", None, r#"{"score":0.9}"#),
        ];
        let b = vec![
            step(
                2,
                "verifier",
                Some(1),
                r#"{"passed":true,"critique":"fine"}"#,
            ),
            step(1, "solver", Some(1), r#"{"solution":"2+2\n= 4"}"#),
        ];
        let rounds = rounds_side_by_side(&a, &b);
        assert_eq!(rounds.len(), 2);
        assert_eq!(rounds[0].iteration, 1);
        assert_eq!(rounds[0].a.as_ref().unwrap().passed, Some(false));
        assert_eq!(
            rounds[0].a.as_ref().unwrap().critique.as_deref(),
            Some("wrong sum")
        );
        assert_eq!(rounds[0].b.as_ref().unwrap().passed, Some(true));
        assert_eq!(
            rounds[0].diff,
            vec![
                DiffLine::Same("2+2".into()),
                DiffLine::Removed("= 5".into()),
                DiffLine::Added("= 4".into()),
            ]
        );
        assert!(!rounds[0].identical());
        assert!(rounds[1].b.is_none());
        assert_eq!(
            rounds[1]
                .diff
                .iter()
                .filter(|l| l.kind() == "removed")
                .count(),
            2
        );
    }
}

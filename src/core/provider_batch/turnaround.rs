//! How long a batch in provider batch mode will take, estimated before it starts: the rounds
//! an item needs (one per turn of its debate) times its providers' turnaround, learned from
//! the user's own past provider batches (submit → results read, per family) and shown as a
//! range.
//!
//! A round waits for every provider batch in it, so with several families the slowest
//! family's turnaround sets the pace. Without past batches of a family the providers' own
//! words stand in: each answers within its 24-hour window, usually in under an hour.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::journal::{RoundRecord, RoundStatus};
use super::BatchFamily;
use crate::core::batch::BatchModes;
use crate::core::config::{Mode, PipelineConfig};

/// The window every family promises a batch is done within, seconds (OpenAI's
/// `completion_window: "24h"`, Anthropic's and Gemini's 24-hour target).
pub const BATCH_WINDOW_S: f64 = 24.0 * 3600.0;

/// The turnaround assumed per round for a family without past batches, seconds: from a minute
/// (a small batch on a quiet day) to an hour ("most batches finish in less than 1 hour",
/// <https://docs.anthropic.com/en/docs/build-with-claude/batch-processing>).
pub const TYPICAL_TURNAROUND_S: (f64, f64) = (60.0, 3600.0);

/// What the estimate needs of one stored round (a [`RoundRecord`] read without its requests
/// and results, which a journal may hold in megabytes).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct RoundTiming {
    /// The round's API family.
    pub family: BatchFamily,
    /// Where it stands.
    pub status: RoundStatus,
    /// When it was submitted, epoch ms.
    pub submitted_ms: f64,
    /// When its results were read, epoch ms.
    pub ended_ms: Option<f64>,
}

impl From<&RoundRecord> for RoundTiming {
    fn from(r: &RoundRecord) -> Self {
        RoundTiming {
            family: r.family,
            status: r.status,
            submitted_ms: r.submitted_ms,
            ended_ms: r.ended_ms,
        }
    }
}

/// A family's turnaround as the user's past batches show it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TurnaroundRange {
    /// The 25th percentile, seconds.
    pub p25_s: f64,
    /// The 90th percentile, seconds.
    pub p90_s: f64,
    /// How many past provider batches it rests on.
    pub samples: usize,
}

/// Past turnarounds by family: how long each ended provider batch took from its submit to its
/// results being read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Turnarounds {
    by_family: BTreeMap<BatchFamily, Vec<f64>>,
}

impl Turnarounds {
    /// The turnarounds of `rounds` that ended (a failed round says nothing of how long an
    /// answered one takes).
    pub fn from_rounds(rounds: impl IntoIterator<Item = RoundTiming>) -> Self {
        let mut by_family: BTreeMap<BatchFamily, Vec<f64>> = BTreeMap::new();
        for round in rounds {
            let Some(ended_ms) = round.ended_ms else {
                continue;
            };
            let seconds = (ended_ms - round.submitted_ms) / 1000.0;
            if round.status == RoundStatus::Ended && seconds.is_finite() && seconds >= 0.0 {
                by_family.entry(round.family).or_default().push(seconds);
            }
        }
        for seconds in by_family.values_mut() {
            seconds.sort_by(f64::total_cmp);
        }
        Turnarounds { by_family }
    }

    /// `family`'s p25–p90 turnaround, when it has past batches.
    pub fn range(&self, family: BatchFamily) -> Option<TurnaroundRange> {
        let sorted = self.by_family.get(&family).filter(|s| !s.is_empty())?;
        Some(TurnaroundRange {
            p25_s: nearest_rank(sorted, 25),
            p90_s: nearest_rank(sorted, 90),
            samples: sorted.len(),
        })
    }
}

/// The value at rank ⌈p·n/100⌉ (1-based) of non-empty `sorted`: always a turnaround that was
/// seen.
fn nearest_rank(sorted: &[f64], percent: usize) -> f64 {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// The rounds one item takes: each of its calls is the next round's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundCount {
    /// When every answer is accepted at once (a debate's verifier passes the first solution).
    pub fewest: u32,
    /// When every turn is taken: a debate's solver and verifier in each of its iterations,
    /// then the judge. Re-asks and retried requests add a round each, beyond this.
    pub most: u32,
}

/// The rounds an item of `modes` under `config` takes. Items of both modes run side by side,
/// so the longer mode counts.
pub fn rounds_per_item(config: &PipelineConfig, modes: BatchModes) -> RoundCount {
    let of = |mode: Mode| match mode {
        // Solver then judge.
        Mode::Baseline => RoundCount { fewest: 2, most: 2 },
        // Solver and verifier per iteration, then the judge.
        Mode::Debate => RoundCount {
            fewest: 3,
            most: 2 * config.max_iterations.max(1) + 1,
        },
    };
    let counts: Vec<RoundCount> = modes.modes().iter().map(|m| of(*m)).collect();
    RoundCount {
        fewest: counts.iter().map(|c| c.fewest).max().unwrap_or(0),
        most: counts.iter().map(|c| c.most).max().unwrap_or(0),
    }
}

/// What a round's turnaround is taken from.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnaroundBasis {
    /// The user's past batches of every family the batch uses.
    Learned {
        /// The fewest past batches any family's figure rests on.
        samples: usize,
    },
    /// Some family (all, when `learned` is empty) has no past batch: the typical turnaround
    /// ([`TYPICAL_TURNAROUND_S`]) stands in for it.
    Typical {
        /// The families that had past batches.
        learned: Vec<BatchFamily>,
    },
}

/// How long a batch will take in provider batch mode.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeEstimate {
    /// The rounds an item takes.
    pub rounds: RoundCount,
    /// One round's turnaround, low and high, seconds (the slowest family's).
    pub per_round_s: (f64, f64),
    /// The whole batch, low: the fewest rounds at the low turnaround, seconds.
    pub min_s: f64,
    /// The whole batch, high: the most rounds at the high turnaround, seconds.
    pub max_s: f64,
    /// What the turnaround rests on.
    pub basis: TurnaroundBasis,
}

/// The time a batch whose calls go to `families`' batch APIs takes, `rounds` rounds per item,
/// from `past` turnarounds; `None` when no call goes into a provider batch.
pub fn estimate_time(
    families: &[BatchFamily],
    rounds: RoundCount,
    past: &Turnarounds,
) -> Option<TimeEstimate> {
    if families.is_empty() {
        return None;
    }
    let mut per_round_s: (f64, f64) = (0.0, 0.0);
    let mut learned = Vec::new();
    let mut samples = usize::MAX;
    for &family in families {
        let (low, high) = match past.range(family) {
            Some(range) => {
                learned.push(family);
                samples = samples.min(range.samples);
                (range.p25_s, range.p90_s)
            }
            None => TYPICAL_TURNAROUND_S,
        };
        per_round_s = (per_round_s.0.max(low), per_round_s.1.max(high));
    }
    let basis = if learned.len() == families.len() {
        TurnaroundBasis::Learned { samples }
    } else {
        TurnaroundBasis::Typical { learned }
    };
    Some(TimeEstimate {
        rounds,
        per_round_s,
        min_s: f64::from(rounds.fewest) * per_round_s.0,
        max_s: f64::from(rounds.most) * per_round_s.1,
        basis,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(family: BatchFamily, status: RoundStatus, seconds: Option<f64>) -> RoundTiming {
        RoundTiming {
            family,
            status,
            submitted_ms: 1_000_000.0,
            ended_ms: seconds.map(|s| 1_000_000.0 + s * 1000.0),
        }
    }

    #[test]
    fn a_familys_turnaround_is_the_p25_to_p90_of_its_ended_batches() {
        let mut rounds: Vec<RoundTiming> = (1..=10)
            .map(|n| {
                timing(
                    BatchFamily::Anthropic,
                    RoundStatus::Ended,
                    Some(60.0 * n as f64),
                )
            })
            .collect();
        // Not counted: still running, failed, another family's.
        rounds.push(timing(BatchFamily::Anthropic, RoundStatus::Submitted, None));
        rounds.push(timing(
            BatchFamily::Anthropic,
            RoundStatus::Failed,
            Some(9e6),
        ));
        rounds.push(timing(BatchFamily::Gemini, RoundStatus::Ended, Some(5.0)));
        let past = Turnarounds::from_rounds(rounds);
        // Ten values: p25 at rank ⌈2.5⌉ = 3, p90 at rank 9.
        assert_eq!(
            past.range(BatchFamily::Anthropic),
            Some(TurnaroundRange {
                p25_s: 180.0,
                p90_s: 540.0,
                samples: 10
            })
        );
        assert_eq!(past.range(BatchFamily::Gemini).map(|r| r.p90_s), Some(5.0));
        assert_eq!(past.range(BatchFamily::OpenAi), None);
    }

    #[test]
    fn a_debate_takes_a_round_per_turn_and_both_modes_take_the_longer() {
        let config = PipelineConfig {
            max_iterations: 3,
            ..PipelineConfig::default()
        };
        let debate = rounds_per_item(&config, BatchModes::Debate);
        assert_eq!(debate, RoundCount { fewest: 3, most: 7 });
        let baseline = rounds_per_item(&config, BatchModes::Baseline);
        assert_eq!(baseline, RoundCount { fewest: 2, most: 2 });
        assert_eq!(rounds_per_item(&config, BatchModes::Both), debate);
    }

    #[test]
    fn the_time_is_rounds_times_the_slowest_familys_turnaround() {
        let rounds: Vec<RoundTiming> = [100.0, 200.0, 300.0, 400.0]
            .iter()
            .map(|s| timing(BatchFamily::OpenAi, RoundStatus::Ended, Some(*s)))
            .chain([timing(
                BatchFamily::Gemini,
                RoundStatus::Ended,
                Some(1000.0),
            )])
            .collect();
        let past = Turnarounds::from_rounds(rounds);
        let count = RoundCount { fewest: 3, most: 5 };
        let openai = estimate_time(&[BatchFamily::OpenAi], count, &past).unwrap();
        // Four values: p25 at rank 1, p90 at rank ⌈3.6⌉ = 4.
        assert_eq!(openai.per_round_s, (100.0, 400.0));
        assert_eq!((openai.min_s, openai.max_s), (300.0, 2000.0));
        assert_eq!(openai.basis, TurnaroundBasis::Learned { samples: 4 });
        let both = estimate_time(&[BatchFamily::OpenAi, BatchFamily::Gemini], count, &past);
        let both = both.unwrap();
        assert_eq!(both.per_round_s, (1000.0, 1000.0));
        assert_eq!(both.basis, TurnaroundBasis::Learned { samples: 1 });
        assert_eq!(estimate_time(&[], count, &past), None);
    }

    #[test]
    fn without_past_batches_the_typical_turnaround_stands_in() {
        let past =
            Turnarounds::from_rounds([timing(BatchFamily::OpenAi, RoundStatus::Ended, Some(30.0))]);
        let count = RoundCount { fewest: 3, most: 7 };
        let none = estimate_time(&[BatchFamily::Anthropic], count, &Turnarounds::default());
        let none = none.unwrap();
        assert_eq!(none.per_round_s, TYPICAL_TURNAROUND_S);
        assert_eq!((none.min_s, none.max_s), (180.0, 7.0 * 3600.0));
        assert_eq!(none.basis, TurnaroundBasis::Typical { learned: vec![] });
        let some = estimate_time(&[BatchFamily::OpenAi, BatchFamily::Anthropic], count, &past);
        assert_eq!(
            some.map(|e| e.basis),
            Some(TurnaroundBasis::Typical {
                learned: vec![BatchFamily::OpenAi]
            })
        );
    }

    #[test]
    fn a_round_record_reads_as_its_timing_without_its_results() {
        let json = r#"{"batch_id":"b","round":2,"family":"gemini","api_root":"x",
            "provider_batch_id":"batches/1","status":"ended","submitted_ms":10.0,
            "ended_ms":2010.0,"requests":{},"counts":{"total":0,"succeeded":0,"errored":0},
            "results":{},"message":null}"#;
        let timing: RoundTiming = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            timing,
            RoundTiming {
                family: BatchFamily::Gemini,
                status: RoundStatus::Ended,
                submitted_ms: 10.0,
                ended_ms: Some(2010.0)
            }
        );
    }
}

//! The results of a batch that is running, kept as its runs are read: a few figures per run
//! ([`RunDigest`]) and running totals, so that a finished run costs the page the same however
//! many came before it, and the memory held grows by a few dozen bytes per run, not by its
//! answers, rounds and step speeds.
//!
//! The figures equal [`summarize`](crate::core::stats::summarize),
//! [`facet_breakdowns`](crate::core::stats::facet_breakdowns) and
//! [`speed_by_model`](crate::core::stream_speed::speed_by_model) over the same runs (sums up to
//! the order they are added in). The full results, with every run's answers for the exports,
//! are read once the batch stops.

use std::collections::{BTreeMap, HashMap};

use crate::core::batch::ItemStatus;
use crate::core::config::Mode;
use crate::core::dataset::Problem;
use crate::core::stats::{
    facet_keys, natural_order, BatchStats, Disagreement, Dynamics, FacetBreakdown, FacetRow,
    FlipRun, IterationPassRate, ModeStats, PairedComparison, Proportion, RunResult,
};
use crate::core::stream_speed::{ModelSpeed, Spread, StepSpeed};
use crate::core::trajectory::RunStatus;

/// Rounds whose verdicts fit the digest's bit sets: a batch's config allows 20. (A round
/// numbered outside 1..=32, which no config makes, is left out of the running pass rates; the
/// full read once the batch stops counts it.)
const ROUND_BITS: u32 = 32;

/// Tells runs apart without keeping their ids.
pub fn run_key(run_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    run_id.hash(&mut hasher);
    hasher.finish()
}

/// What the results keep of one run read while its batch runs: what its row shows and what
/// the statistics count, and nothing it would take a string to say but its message.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDigest {
    /// Which run it is ([`run_key`] of its id).
    pub run_key: u64,
    /// The item's status when the run was read (it is read again once the item moves on).
    pub item_status: ItemStatus,
    /// Debate or baseline.
    pub mode: Mode,
    /// The run's status.
    pub status: RunStatus,
    /// Committed steps.
    pub steps: u32,
    /// The ground-truth check of its final answer.
    pub correct: Option<bool>,
    /// The judge's score.
    pub judge_score: Option<f64>,
    /// The verifier's last verdict (debate).
    pub verifier_passed: Option<bool>,
    /// Solver rounds.
    pub iterations: u32,
    /// Its priced cost.
    pub cost_usd: Option<f64>,
    /// Whether every step was priced.
    pub cost_complete: bool,
    /// Stopped on circular critiques.
    pub circular: bool,
    /// Rounds 1..=32 with a verdict (bit `i` for round `i + 1`), and those that passed.
    verdicts: u32,
    passes: u32,
    /// Answer flips: right → wrong, wrong → right.
    flips: (u16, u16),
    /// Why it stopped, as stored.
    pub message: Option<Box<str>>,
}

impl RunDigest {
    /// The digest of `run`, read for an item that was `item_status` then.
    pub fn of(run: &RunRead<'_>, item_status: ItemStatus) -> Self {
        let (result, steps, message) = (run.result, run.steps, run.message);
        let (down, up) = result.flips();
        let narrow = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        let mut digest = RunDigest {
            run_key: run_key(&result.run_id),
            item_status,
            mode: result.mode,
            status: result.status,
            steps: u32::try_from(steps).unwrap_or(u32::MAX),
            correct: result.correct,
            judge_score: result.judge_score,
            verifier_passed: result.verifier_passed,
            iterations: result.iterations,
            cost_usd: result.cost_usd,
            cost_complete: result.cost_complete,
            circular: result.circular,
            verdicts: 0,
            passes: 0,
            flips: (narrow(down), narrow(up)),
            message: message.map(Box::from),
        };
        for round in &result.rounds {
            let Some(passed) = round.verdict else {
                continue;
            };
            if let Some(bit) = round.iteration.checked_sub(1).filter(|b| *b < ROUND_BITS) {
                digest.verdicts |= 1 << bit;
                digest.passes |= u32::from(passed) << bit;
            }
        }
        digest
    }

    fn completed(&self) -> bool {
        self.status == RunStatus::Completed
    }

    /// The checked answer of a completed run.
    fn checked(&self) -> Option<bool> {
        self.correct.filter(|_| self.completed())
    }

    /// The round verdicts, as `(round, passed)`.
    fn round_verdicts(&self) -> impl Iterator<Item = (u32, bool)> + '_ {
        (0..ROUND_BITS)
            .filter(|bit| self.verdicts & (1 << bit) != 0)
            .map(|bit| (bit + 1, self.passes & (1 << bit) != 0))
    }

    /// Whether at least two of the checks are present and differ (see
    /// [`crate::core::stats::disagreements`]).
    fn disagrees(&self) -> bool {
        let judge = self
            .judge_score
            .map(|s| s >= crate::core::stats::JUDGE_CORRECT_THRESHOLD);
        let signals: Vec<bool> = [self.correct, judge, self.verifier_passed]
            .into_iter()
            .flatten()
            .collect();
        self.completed() && signals.len() >= 2 && signals.iter().any(|s| *s != signals[0])
    }
}

/// One mode's running totals.
#[derive(Debug, Clone, Default)]
struct ModeSums {
    runs: usize,
    completed: usize,
    checked: usize,
    correct: usize,
    judged: usize,
    judge_sum: f64,
    verdicts: usize,
    passes: usize,
    iterations_sum: f64,
    priced: usize,
    cost_sum: f64,
    /// Runs with a step not priced (or no cost at all).
    unpriced: usize,
}

impl ModeSums {
    fn apply(&mut self, d: &RunDigest, add: bool) {
        let step = |n: &mut usize, on: bool| {
            if on {
                *n = if add { *n + 1 } else { n.saturating_sub(1) };
            }
        };
        let sign = if add { 1.0 } else { -1.0 };
        step(&mut self.runs, true);
        step(
            &mut self.unpriced,
            !(d.cost_complete && d.cost_usd.is_some()),
        );
        if let Some(cost) = d.cost_usd {
            step(&mut self.priced, true);
            self.cost_sum += sign * cost;
        }
        if !d.completed() {
            return;
        }
        step(&mut self.completed, true);
        self.iterations_sum += sign * f64::from(d.iterations);
        if let Some(correct) = d.correct {
            step(&mut self.checked, true);
            step(&mut self.correct, correct);
        }
        if let Some(score) = d.judge_score {
            step(&mut self.judged, true);
            self.judge_sum += sign * score;
        }
        if let Some(passed) = d.verifier_passed {
            step(&mut self.verdicts, true);
            step(&mut self.passes, passed);
        }
    }

    fn stats(&self, mode: Mode) -> Option<ModeStats> {
        if self.runs == 0 {
            return None;
        }
        let total_cost_usd = (self.priced > 0).then_some(self.cost_sum);
        let mean = |sum: f64, n: usize| (n > 0).then(|| sum / n as f64);
        Some(ModeStats {
            mode,
            runs: self.runs,
            completed: self.completed,
            accuracy: Proportion::new(self.correct, self.checked),
            mean_judge_score: mean(self.judge_sum, self.judged),
            verifier_pass_rate: Proportion::new(self.passes, self.verdicts),
            mean_iterations: mean(self.iterations_sum, self.completed),
            total_cost_usd,
            cost_complete: self.unpriced == 0,
            cost_per_problem: total_cost_usd.map(|c| c / self.runs as f64),
            cost_per_correct: total_cost_usd
                .filter(|_| self.correct > 0)
                .map(|c| c / self.correct as f64),
        })
    }
}

/// One facet key's values and counts.
#[derive(Debug, Clone, Default)]
struct FacetTally {
    key: String,
    values: Vec<String>,
    /// Each problem's value, by the problem's position among the batch's problems.
    value_of: Vec<Option<u16>>,
    /// Per value: runs whose problem has it, then (correct, checked) for debate and baseline.
    counts: Vec<(usize, [(usize, usize); 2])>,
}

/// One model's streamed-call figures, each list kept in order.
#[derive(Debug, Clone, Default)]
struct SpeedSamples {
    steps: usize,
    ttft_ms: Vec<f64>,
    output_tokens_per_s: Vec<f64>,
}

fn insert_sorted(values: &mut Vec<f64>, value: f64) {
    let at = values.partition_point(|v| v.total_cmp(&value).is_lt());
    values.insert(at, value);
}

/// One run as read, for [`LiveResults::add`].
#[derive(Debug, Clone, Copy)]
pub struct RunRead<'r> {
    /// What the statistics see of it.
    pub result: &'r RunResult,
    /// Its committed steps.
    pub steps: u64,
    /// Why it stopped, as stored.
    pub message: Option<&'r str>,
    /// Its streamed steps' speeds, with their step ids.
    pub speeds: &'r [(u64, StepSpeed)],
}

/// The running batch's results (see the module doc), kept per item of the batch.
#[derive(Debug, Clone, Default)]
pub struct LiveResults {
    digests: HashMap<usize, RunDigest>,
    modes: [ModeSums; 2],
    /// The batch's problems' positions among those given, by id (for the facets).
    positions: HashMap<String, usize>,
    /// Per problem of the batch: the checked answers of its completed debate and baseline
    /// runs.
    pairs: HashMap<usize, [Option<bool>; 2]>,
    pair_counts: [usize; 4],
    by_iteration: BTreeMap<u32, (usize, usize)>,
    flips: (usize, usize),
    circular: usize,
    debates: usize,
    flip_runs: BTreeMap<usize, FlipRun>,
    disagreements: BTreeMap<usize, Disagreement>,
    facets: Vec<FacetTally>,
    speed: BTreeMap<String, SpeedSamples>,
}

fn slot(mode: Mode) -> usize {
    usize::from(mode == Mode::Baseline)
}

/// Which cell of the paired 2×2 table a problem's pair falls in.
fn pair_cell(pair: [Option<bool>; 2]) -> Option<usize> {
    match pair {
        [Some(true), Some(true)] => Some(0),
        [Some(true), Some(false)] => Some(1),
        [Some(false), Some(true)] => Some(2),
        [Some(false), Some(false)] => Some(3),
        _ => None,
    }
}

impl LiveResults {
    /// Results over the batch's `problems` (their metadata gives the facets; empty when they
    /// are not known).
    pub fn new(problems: &[Problem]) -> Self {
        let positions: HashMap<String, usize> = problems
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let facets = facet_keys(problems)
            .into_iter()
            .map(|key| {
                let mut values: Vec<String> = Vec::new();
                let value_of = problems
                    .iter()
                    .map(|p| {
                        let value = p.facet_value(&key)?;
                        let at = values.iter().position(|v| *v == value).unwrap_or_else(|| {
                            values.push(value);
                            values.len() - 1
                        });
                        u16::try_from(at).ok()
                    })
                    .collect();
                let counts = vec![(0, [(0, 0); 2]); values.len()];
                FacetTally {
                    key,
                    values,
                    value_of,
                    counts,
                }
            })
            .collect();
        LiveResults {
            positions,
            facets,
            ..LiveResults::default()
        }
    }

    /// The digest kept for item `index`, if its run was read.
    pub fn digest(&self, index: usize) -> Option<&RunDigest> {
        self.digests.get(&index)
    }

    /// Runs read.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// Whether no run was read.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Counts item `index`'s run, read while the item was `item_status`, in place of what
    /// was counted for the item before; `pair` is the item's problem's position in the batch
    /// (its debate and baseline items are paired by it). A run read again (the same run,
    /// resumed) adds only the speeds of the steps it did not have then.
    pub fn add(&mut self, index: usize, pair: usize, run: RunRead<'_>, item_status: ItemStatus) {
        let result = run.result;
        let digest = RunDigest::of(&run, item_status);
        let known_steps = match self.digests.remove(&index) {
            Some(old) => {
                self.apply(index, pair, &old, result, false);
                if old.run_key == digest.run_key {
                    u64::from(old.steps)
                } else {
                    0
                }
            }
            None => 0,
        };
        for (_, speed) in run.speeds.iter().filter(|(id, _)| *id > known_steps) {
            let samples = self.speed.entry(speed.model.clone()).or_default();
            samples.steps += 1;
            if let Some(ttft) = speed.ttft_ms {
                insert_sorted(&mut samples.ttft_ms, ttft);
            }
            if let Some(rate) = speed.output_tokens_per_s {
                insert_sorted(&mut samples.output_tokens_per_s, rate);
            }
        }
        self.apply(index, pair, &digest, result, true);
        self.digests.insert(index, digest);
    }

    fn apply(&mut self, index: usize, pair: usize, d: &RunDigest, run: &RunResult, add: bool) {
        let (problem_id, run_id) = (run.problem_id.as_str(), run.run_id.as_str());
        self.modes[slot(d.mode)].apply(d, add);
        let both = self.pairs.entry(pair).or_default();
        if let Some(cell) = pair_cell(*both) {
            self.pair_counts[cell] -= 1;
        }
        both[slot(d.mode)] = if add { d.checked() } else { None };
        if let Some(cell) = pair_cell(*both) {
            self.pair_counts[cell] += 1;
        }
        if *both == [None, None] {
            self.pairs.remove(&pair);
        }
        if let Some(position) = self.positions.get(problem_id).copied() {
            for facet in &mut self.facets {
                let Some(value) = facet.value_of.get(position).copied().flatten() else {
                    continue;
                };
                let (present, modes) = &mut facet.counts[usize::from(value)];
                let step = |n: &mut usize| *n = if add { *n + 1 } else { n.saturating_sub(1) };
                step(present);
                if let Some(correct) = d.checked() {
                    let (right, checked) = &mut modes[slot(d.mode)];
                    step(checked);
                    if correct {
                        step(right);
                    }
                }
            }
        }
        if d.disagrees() {
            if add {
                self.disagreements.insert(
                    index,
                    Disagreement {
                        problem_id: problem_id.to_string(),
                        run_id: run_id.to_string(),
                        mode: d.mode,
                        answer_correct: d.correct,
                        judge_score: d.judge_score,
                        judge_says_correct: d
                            .judge_score
                            .map(|s| s >= crate::core::stats::JUDGE_CORRECT_THRESHOLD),
                        verifier_passed: d.verifier_passed,
                    },
                );
            } else {
                self.disagreements.remove(&index);
            }
        }
        if d.mode != Mode::Debate || !d.completed() {
            return;
        }
        let step = |n: &mut usize, by: usize| *n = if add { *n + by } else { n.saturating_sub(by) };
        step(&mut self.debates, 1);
        step(&mut self.circular, usize::from(d.circular));
        for (round, passed) in d.round_verdicts() {
            let counts = self.by_iteration.entry(round).or_default();
            step(&mut counts.0, 1);
            step(&mut counts.1, usize::from(passed));
            if counts.0 == 0 {
                self.by_iteration.remove(&round);
            }
        }
        let (down, up) = (usize::from(d.flips.0), usize::from(d.flips.1));
        step(&mut self.flips.0, down);
        step(&mut self.flips.1, up);
        if down + up > 0 {
            if add {
                self.flip_runs.insert(
                    index,
                    FlipRun {
                        problem_id: problem_id.to_string(),
                        run_id: run_id.to_string(),
                        right_to_wrong: down,
                        wrong_to_right: up,
                    },
                );
            } else {
                self.flip_runs.remove(&index);
            }
        }
    }

    /// The statistics over the runs counted.
    pub fn stats(&self) -> BatchStats {
        let [a, b, c, d] = self.pair_counts;
        BatchStats {
            debate: self.modes[0].stats(Mode::Debate),
            baseline: self.modes[1].stats(Mode::Baseline),
            paired: PairedComparison::from_counts(a, b, c, d),
            dynamics: Dynamics {
                runs: self.debates,
                pass_rate_by_iteration: self
                    .by_iteration
                    .iter()
                    .map(|(iteration, (verdicts, passed))| IterationPassRate {
                        iteration: *iteration,
                        verdicts: *verdicts,
                        passed: *passed,
                        rate: *passed as f64 / *verdicts as f64,
                    })
                    .collect(),
                right_to_wrong: self.flips.0,
                wrong_to_right: self.flips.1,
                flip_runs: self.flip_runs.values().cloned().collect(),
                circular_stops: self.circular,
            },
            disagreements: self.disagreements.values().cloned().collect(),
        }
    }

    /// Accuracy per facet value over the runs counted.
    pub fn facets(&self) -> Vec<FacetBreakdown> {
        self.facets
            .iter()
            .map(|facet| {
                let mut rows: Vec<FacetRow> = facet
                    .values
                    .iter()
                    .zip(&facet.counts)
                    .filter(|(_, (present, _))| *present > 0)
                    .map(|(value, (_, [debate, baseline]))| FacetRow {
                        value: value.clone(),
                        debate: Proportion::new(debate.0, debate.1),
                        baseline: Proportion::new(baseline.0, baseline.1),
                    })
                    .collect();
                // As the full count orders them: by text, then numbers by size (a stable sort).
                crate::core::sorting::sort_by(&mut rows, |a, b| a.value.cmp(&b.value));
                crate::core::sorting::sort_by(&mut rows, |a, b| natural_order(&a.value, &b.value));
                FacetBreakdown {
                    key: facet.key.clone(),
                    rows,
                }
            })
            .collect()
    }

    /// The streamed calls' speed by model.
    pub fn speed(&self) -> Vec<ModelSpeed> {
        self.speed
            .iter()
            .map(|(model, s)| ModelSpeed {
                model: model.clone(),
                steps: s.steps,
                ttft_ms: Spread::of_sorted(&s.ttft_ms),
                output_tokens_per_s: Spread::of_sorted(&s.output_tokens_per_s),
            })
            .collect()
    }
}

//! An experiment's cost before it starts: each config's forecast (from earlier runs of that
//! config, as a batch's), and what the reply store saves where a config sends requests an
//! earlier config of the experiment already paid for.
//!
//! The configs run side by side, sharing one reply store, so a request identical to another
//! config's is sent once (awaited by both while in flight, or answered from the store) when
//! the reuse policy allows it. Which requests are identical follows from what the two configs
//! share:
//! - the same solver (model, prompts, sampling, reasoning): every problem's first solver turn;
//! - the same mode, solver and verifier, only the rounds differing: every turn up to the smaller
//!   limit, and the judge's when the run stopped by itself within it;
//! - the same mode, solver, verifier and rounds, only the judge differing: every solver and
//!   verifier turn, so only the judge is paid again.
//!
//! A shared turn costs what it cost the config that paid for it; its figure is the median, over
//! earlier runs of either config, of those turns' cost (turns that were themselves answered
//! from the store are not prices, and such runs are passed over).

use std::collections::HashMap;

use crate::app::batch::forecast::{forecast, ForecastOutcome};
use crate::core::config::{Mode, PipelineConfig};
use crate::core::experiment::Arm;
use crate::core::replies::ReusePolicy;
use crate::core::role::AgentRole;
use crate::core::sorting;
use crate::core::trajectory::{RunRecord, RunStatus, StopReason, TrajectoryEntry};

/// The most earlier runs per config whose steps are read for the reuse figure.
pub const HISTORY_RUNS: usize = 12;

/// Which of a config's turns an earlier config of the experiment already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SharedTurns {
    /// None: every request is paid.
    Nothing,
    /// Each problem's first solver turn.
    FirstSolverTurn,
    /// Every turn of the rounds up to this one (the smaller `max_iterations`), and the judge's
    /// when the run stopped by itself within them.
    UpToRound(u32),
    /// Every turn but the judge's.
    AllButJudge,
}

impl SharedTurns {
    /// What it says on the page.
    pub fn describe(self) -> String {
        match self {
            SharedTurns::Nothing => "nothing shared".into(),
            SharedTurns::FirstSolverTurn => "the first solver turn".into(),
            SharedTurns::UpToRound(1) => "every turn of round 1".into(),
            SharedTurns::UpToRound(n) => format!("every turn of rounds 1–{n}"),
            SharedTurns::AllButJudge => "every turn but the judge's".into(),
        }
    }

    /// Whether `step` is one of these turns, in a run whose judge is shared or not.
    fn covers(self, step: &TrajectoryEntry, judge_shared: bool) -> bool {
        match self {
            SharedTurns::Nothing => false,
            SharedTurns::FirstSolverTurn => {
                step.role() == Some(AgentRole::Solver) && step.iteration().unwrap_or(1) == 1
            }
            SharedTurns::UpToRound(round) => match step.role() {
                Some(AgentRole::Solver | AgentRole::Verifier) => {
                    step.iteration().unwrap_or(1) <= round
                }
                Some(AgentRole::Judge) => judge_shared,
                None => false,
            },
            SharedTurns::AllButJudge => {
                matches!(step.role(), Some(AgentRole::Solver | AgentRole::Verifier))
            }
        }
    }
}

/// The turns `later` can take from `earlier`'s replies under `policy`.
pub fn shared_turns(
    earlier: &PipelineConfig,
    later: &PipelineConfig,
    policy: ReusePolicy,
) -> SharedTurns {
    let solver_reused =
        earlier.solver == later.solver && policy.may_reuse(Some(later.solver.temperature));
    if !solver_reused {
        return SharedTurns::Nothing;
    }
    let same_mode = earlier.mode == later.mode && earlier.max_reasks == later.max_reasks;
    // Baseline makes one solver turn whatever the limit.
    let same_rounds =
        later.mode == Mode::Baseline || earlier.max_iterations == later.max_iterations;
    let verifier_same = later.mode == Mode::Baseline
        || (earlier.verifier == later.verifier
            && policy.may_reuse(Some(later.verifier.temperature)));
    match (same_mode && verifier_same, same_rounds) {
        (true, true) => SharedTurns::AllButJudge,
        // The runs are the same turn for turn until the smaller limit ends one of them.
        (true, false) => {
            SharedTurns::UpToRound(earlier.max_iterations.min(later.max_iterations).max(1))
        }
        (false, _) => SharedTurns::FirstSolverTurn,
    }
}

/// One config's forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmForecast {
    /// The config's label.
    pub label: String,
    /// The config's hash.
    pub config_hash: String,
    /// What its earlier runs say it costs, before any reuse.
    pub cost: ForecastOutcome,
    /// The earlier config (by position) it takes the most turns from, and which.
    pub shares: Option<(usize, SharedTurns)>,
    /// What the shared turns save over the experiment's problems, USD (median); `None`
    /// when nothing is shared or no earlier run prices the shared turns.
    pub saving_usd: Option<f64>,
}

impl ArmForecast {
    /// The median forecast less the saving, USD; `None` without a forecast.
    pub fn net_usd(&self) -> Option<f64> {
        match &self.cost {
            ForecastOutcome::Ready(f) => {
                Some((f.total_median - self.saving_usd.unwrap_or(0.0)).max(0.0))
            }
            _ => None,
        }
    }
}

/// The experiment's forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentForecast {
    /// One per config, in order.
    pub arms: Vec<ArmForecast>,
    /// Problems each config runs.
    pub problems: usize,
}

impl ExperimentForecast {
    /// Every config's median forecast less the savings, USD; `None` unless every config has
    /// a forecast.
    pub fn total_net_usd(&self) -> Option<f64> {
        self.arms.iter().map(ArmForecast::net_usd).sum()
    }

    /// What reuse saves over the whole experiment, USD (the configs whose saving is known).
    pub fn total_saving_usd(&self) -> f64 {
        self.arms.iter().filter_map(|a| a.saving_usd).sum()
    }

    /// The experiment through the providers' batch APIs, USD: each config's forecast less
    /// its saving, at `shares[i]` of the live price (its config's
    /// [`batch_price_share`](crate::app::batch::engine::batch_price_share)); `None` unless
    /// every config has both.
    pub fn total_at_batch_usd(&self, shares: &[Option<f64>]) -> Option<f64> {
        if shares.len() != self.arms.len() {
            return None;
        }
        self.arms
            .iter()
            .zip(shares)
            .map(|(arm, share)| Some(arm.net_usd()? * (*share)?))
            .sum()
    }
}

/// The earlier config each of `arms` takes the most turns from (the first of equals), with
/// the turns; `None` for the first config and those sharing nothing.
pub fn sharing(arms: &[Arm], policy: ReusePolicy) -> Vec<Option<(usize, SharedTurns)>> {
    arms.iter()
        .enumerate()
        .map(|(j, later)| {
            (0..j)
                .map(|i| (i, shared_turns(&arms[i].config, &later.config, policy)))
                .filter(|(_, turns)| *turns != SharedTurns::Nothing)
                .fold(
                    None,
                    |best: Option<(usize, SharedTurns)>, (i, turns)| match best {
                        Some((_, t)) if t >= turns => best,
                        _ => Some((i, turns)),
                    },
                )
        })
        .collect()
}

/// The earlier runs whose steps [`forecast_experiment`] reads: for each config that shares
/// turns, up to [`HISTORY_RUNS`] newest completed runs of it or of the config it shares with.
pub fn runs_to_read(arms: &[Arm], policy: ReusePolicy, runs: &[RunRecord]) -> Vec<String> {
    let mut wanted: Vec<String> = Vec::new();
    for (j, share) in sharing(arms, policy).into_iter().enumerate() {
        let Some((i, _)) = share else { continue };
        for run in history(
            runs,
            &arms[i].config.config_hash(),
            &arms[j].config.config_hash(),
        ) {
            if !wanted.contains(&run.run_id) {
                wanted.push(run.run_id.clone());
            }
        }
    }
    wanted
}

fn history<'a>(runs: &'a [RunRecord], a_hash: &str, b_hash: &str) -> Vec<&'a RunRecord> {
    let mut found: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Completed)
        .filter(|r| r.config_hash == a_hash || r.config_hash == b_hash)
        .collect();
    sorting::sort_by(&mut found, |a, b| b.created_ms.total_cmp(&a.created_ms));
    found.truncate(HISTORY_RUNS);
    found
}

/// What `turns` cost in the steps of `run`: `None` when a shared turn was itself answered
/// from the store, or unpriced (it says nothing about the price).
fn turns_cost(run: &RunRecord, steps: &[TrajectoryEntry], turns: SharedTurns) -> Option<f64> {
    let judge_shared = match turns {
        // Both configs judge the same solution when the run stopped by itself within the
        // smaller limit; at the limit the one with more rounds goes on instead.
        SharedTurns::UpToRound(round) => {
            let last_round = steps
                .iter()
                .filter_map(|s| s.iteration())
                .max()
                .unwrap_or(1);
            last_round <= round
                && matches!(
                    run.stop_reason,
                    Some(StopReason::Passed | StopReason::Circular)
                )
        }
        _ => false,
    };
    let mut total = 0.0;
    let mut any = false;
    for step in steps.iter().filter(|s| turns.covers(s, judge_shared)) {
        if step.metadata.reused_from.is_some() {
            return None;
        }
        total += step.cost_usd()?;
        any = true;
    }
    any.then_some(total)
}

/// Forecasts `arms` over `problems` problems under `policy`, from the stored `runs` and the
/// steps read for [`runs_to_read`] (`steps` by run id).
pub fn forecast_experiment(
    arms: &[Arm],
    policy: ReusePolicy,
    runs: &[RunRecord],
    steps: &HashMap<String, Vec<TrajectoryEntry>>,
    problems: usize,
) -> ExperimentForecast {
    let hashes: Vec<String> = arms.iter().map(|a| a.config.config_hash()).collect();
    let forecasts = arms
        .iter()
        .zip(sharing(arms, policy))
        .zip(&hashes)
        .map(|((arm, shares), config_hash)| {
            let config_hash = config_hash.clone();
            let cost = forecast(runs, std::slice::from_ref(&config_hash), problems);
            let saving_usd = shares.and_then(|(i, turns)| {
                let mut costs: Vec<f64> = history(runs, &hashes[i], &config_hash)
                    .into_iter()
                    .filter_map(|r| Some((r, steps.get(&r.run_id)?)))
                    .filter_map(|(r, s)| turns_cost(r, s, turns))
                    .collect();
                if costs.is_empty() {
                    return None;
                }
                sorting::sort_by(&mut costs, f64::total_cmp);
                // The lower median: a figure some run actually paid.
                let per_problem = costs[(costs.len() - 1) / 2];
                let saving = per_problem * problems as f64;
                Some(match &cost {
                    ForecastOutcome::Ready(f) => saving.min(f.total_median),
                    _ => saving,
                })
            });
            ArmForecast {
                label: arm.label.clone(),
                config_hash,
                cost,
                shares,
                saving_usd,
            }
        })
        .collect();
    ExperimentForecast {
        arms: forecasts,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jsonl::parse_line;

    #[test]
    fn the_batch_price_is_each_configs_net_forecast_at_its_batch_share() {
        use crate::app::batch::forecast::Forecast;
        let ready = |total: f64| {
            ForecastOutcome::Ready(Forecast {
                problems: 10,
                per_problem_median: total / 10.0,
                per_problem_p90: total / 10.0,
                total_median: total,
                total_p90: total,
                samples: 3,
            })
        };
        let arm = |cost: ForecastOutcome, saving: Option<f64>| ArmForecast {
            label: "a".into(),
            config_hash: "00000000".into(),
            cost,
            shares: None,
            saving_usd: saving,
        };
        let forecast = ExperimentForecast {
            arms: vec![arm(ready(2.0), None), arm(ready(3.0), Some(1.0))],
            problems: 10,
        };
        // (2 × 0.5) + ((3 − 1) × 0.75): the shared turns are not paid in either engine.
        let batch = forecast.total_at_batch_usd(&[Some(0.5), Some(0.75)]);
        assert!((batch.unwrap_or(0.0) - 2.5).abs() < 1e-12, "{batch:?}");
        // A config without a known batch price, or without a forecast: no figure.
        assert_eq!(forecast.total_at_batch_usd(&[Some(0.5), None]), None);
        assert_eq!(forecast.total_at_batch_usd(&[Some(0.5)]), None);
        let unknown = ExperimentForecast {
            arms: vec![arm(
                ForecastOutcome::NoHistory {
                    config_hash: "00000000".into(),
                },
                None,
            )],
            problems: 10,
        };
        assert_eq!(unknown.total_at_batch_usd(&[Some(0.5)]), None);
    }

    fn base() -> PipelineConfig {
        let mut c = PipelineConfig {
            mode: Mode::Debate,
            ..PipelineConfig::default()
        };
        c.solver.temperature = 0.0;
        c.verifier.temperature = 0.0;
        c.judge.temperature = 0.0;
        c
    }

    fn arm(label: &str, config: PipelineConfig) -> Arm {
        Arm {
            label: label.into(),
            config,
        }
    }

    fn run(id: &str, config: &PipelineConfig, cost: f64, created_ms: f64) -> RunRecord {
        let mut r = RunRecord::start(id, config, config.config_hash(), "p", None, created_ms);
        r.status = RunStatus::Completed;
        r.cost_usd = Some(cost);
        r.cost_complete = true;
        r
    }

    fn step(
        id: u64,
        agent: &str,
        iteration: Option<u32>,
        cost: f64,
        reused: bool,
    ) -> TrajectoryEntry {
        let mut meta = format!(r#""cost_usd":{cost}"#);
        if let Some(i) = iteration {
            meta.push_str(&format!(r#","iteration":{i}"#));
        }
        if reused {
            meta.push_str(r#","reused_from":"run_earlier""#);
        }
        parse_line(&format!(
            r#"{{"timestamp":"t","run_id":"r","step_id":{id},"agent":"{agent}","action":"a","input":{{}},"output":{{}},"metadata":{{{meta}}}}}"#
        ))
        .unwrap()
    }

    /// Solver 0.03 and verifier 0.02 in round 1, solver 0.01 in round 2, judge 0.05.
    fn debate_steps(reused: bool) -> Vec<TrajectoryEntry> {
        vec![
            step(1, "solver", Some(1), 0.03, reused),
            step(2, "verifier", Some(1), 0.02, reused),
            step(3, "solver", Some(2), 0.01, reused),
            step(4, "judge", None, 0.05, false),
        ]
    }

    #[test]
    fn what_two_configs_share_follows_what_differs_and_the_policy() {
        let a = base();
        let default = ReusePolicy::IdenticalAtTemperatureZero;
        let mut judge_differs = base();
        judge_differs.judge.model = "openai/gpt-4o".into();
        assert_eq!(
            shared_turns(&a, &judge_differs, default),
            SharedTurns::AllButJudge
        );
        let mut verifier_differs = base();
        verifier_differs.verifier.model = "openai/gpt-4o".into();
        assert_eq!(
            shared_turns(&a, &verifier_differs, default),
            SharedTurns::FirstSolverTurn
        );
        let mut rounds_differ = base();
        rounds_differ.max_iterations = a.max_iterations + 2;
        assert_eq!(
            shared_turns(&a, &rounds_differ, default),
            SharedTurns::UpToRound(a.max_iterations)
        );
        let mut solver_differs = base();
        solver_differs.solver.model = "openai/gpt-4o".into();
        assert_eq!(
            shared_turns(&a, &solver_differs, default),
            SharedTurns::Nothing
        );
        // A sampled solver is shared only when the sample index is part of the address.
        let (mut hot_a, mut hot_b) = (base(), base());
        hot_a.solver.temperature = 0.7;
        hot_b.solver.temperature = 0.7;
        hot_b.judge.model = "openai/gpt-4o".into();
        assert_eq!(shared_turns(&hot_a, &hot_b, default), SharedTurns::Nothing);
        assert_eq!(
            shared_turns(&hot_a, &hot_b, ReusePolicy::IdenticalWithSampleIndex),
            SharedTurns::AllButJudge
        );
        assert_eq!(
            shared_turns(&a, &judge_differs, ReusePolicy::Never),
            SharedTurns::Nothing
        );
        // A baseline config after a debate one shares its single solver turn.
        let mut baseline = base();
        baseline.mode = Mode::Baseline;
        assert_eq!(
            shared_turns(&a, &baseline, default),
            SharedTurns::FirstSolverTurn
        );
    }

    #[test]
    fn the_later_config_takes_the_most_it_can_from_any_earlier_one() {
        let mut verifier_differs = base();
        verifier_differs.verifier.model = "openai/gpt-4o".into();
        let mut judge_differs = verifier_differs.clone();
        judge_differs.judge.model = "openai/gpt-4o".into();
        let arms = [
            arm("a", base()),
            arm("v", verifier_differs),
            arm("vj", judge_differs),
        ];
        assert_eq!(
            sharing(&arms, ReusePolicy::default()),
            vec![
                None,
                Some((0, SharedTurns::FirstSolverTurn)),
                Some((1, SharedTurns::AllButJudge))
            ]
        );
    }

    #[test]
    fn each_config_is_forecast_and_the_shared_turns_are_taken_off() {
        let a = base();
        let mut b = base();
        b.judge.model = "openai/gpt-4o".into();
        let arms = [arm("mini judge", a.clone()), arm("big judge", b.clone())];
        let runs = vec![
            run("a1", &a, 0.11, 1.0),
            run("a2", &a, 0.11, 2.0),
            run("a3", &a, 0.11, 3.0),
            run("b1", &b, 0.20, 4.0),
            // B's newest run reused A's turns: its figures are $0 there and say nothing.
            run("b2", &b, 0.05, 5.0),
        ];
        let policy = ReusePolicy::default();
        let mut to_read = runs_to_read(&arms, policy, &runs);
        to_read.sort();
        assert_eq!(to_read, ["a1", "a2", "a3", "b1", "b2"]);
        let mut steps: HashMap<String, Vec<TrajectoryEntry>> = HashMap::new();
        for id in ["a1", "a2", "a3", "b1"] {
            steps.insert(id.into(), debate_steps(false));
        }
        steps.insert("b2".into(), debate_steps(true));

        let f = forecast_experiment(&arms, policy, &runs, &steps, 10);
        assert_eq!(f.arms[0].shares, None);
        assert_eq!(f.arms[0].saving_usd, None);
        assert_eq!(f.arms[1].shares, Some((0, SharedTurns::AllButJudge)));
        // Solver and verifier turns: 0.03 + 0.02 + 0.01 per problem, × 10.
        let saving = f.arms[1].saving_usd.unwrap();
        assert!((saving - 0.6).abs() < 1e-9, "{saving}");
        // B's forecast: median of 0.20 and 0.05 = 0.125 × 10; less the saving.
        let net_b = f.arms[1].net_usd().unwrap();
        assert!((net_b - (1.25 - 0.6)).abs() < 1e-9, "{net_b}");
        let total = f.total_net_usd().unwrap();
        assert!((total - (1.1 + 0.65)).abs() < 1e-9, "{total}");
        assert!((f.total_saving_usd() - 0.6).abs() < 1e-9);
    }

    #[test]
    fn configs_differing_only_in_rounds_share_every_turn_up_to_the_smaller_limit() {
        let default = ReusePolicy::default();
        let mut one = base();
        one.max_iterations = 1;
        let mut three = base();
        three.max_iterations = 3;
        let mut five = base();
        five.max_iterations = 5;
        assert_eq!(
            shared_turns(&one, &three, default),
            SharedTurns::UpToRound(1)
        );
        assert_eq!(
            shared_turns(&five, &three, default),
            SharedTurns::UpToRound(3)
        );
        let arms = [
            arm("1", one.clone()),
            arm("3", three.clone()),
            arm("5", five),
        ];
        assert_eq!(
            sharing(&arms, default),
            vec![
                None,
                Some((0, SharedTurns::UpToRound(1))),
                Some((1, SharedTurns::UpToRound(3)))
            ]
        );
        // Baseline makes no rounds: the limit changes nothing.
        let (mut b1, mut b3) = (one.clone(), three.clone());
        b1.mode = Mode::Baseline;
        b3.mode = Mode::Baseline;
        b3.judge.model = "openai/gpt-4o".into();
        assert_eq!(shared_turns(&b1, &b3, default), SharedTurns::AllButJudge);

        // The saving counts the rounds up to the limit, and the judge of a run that
        // stopped by itself within them (both configs judge the same solution).
        let limited = |id: &str, config: &PipelineConfig, reason| {
            let mut r = run(id, config, 0.11, 1.0);
            r.stop_reason = Some(reason);
            r
        };
        let runs = vec![
            limited("three_passed", &three, StopReason::Passed),
            limited("three_limit", &three, StopReason::MaxIterations),
            limited("three_passed_late", &three, StopReason::Passed),
        ];
        let mut steps: HashMap<String, Vec<TrajectoryEntry>> = HashMap::new();
        // Passed in round 2: every turn, the judge's too, is shared with a limit of 2.
        steps.insert("three_passed".into(), debate_steps(false));
        let mut rounds_three = debate_steps(false);
        rounds_three.insert(3, step(5, "solver", Some(3), 0.04, false));
        steps.insert("three_limit".into(), rounds_three.clone());
        steps.insert("three_passed_late".into(), rounds_three);
        let mut two = base();
        two.max_iterations = 2;
        let arms = [arm("2", two), arm("3", three)];
        let f = forecast_experiment(&arms, default, &runs, &steps, 1);
        assert_eq!(f.arms[1].shares, Some((0, SharedTurns::UpToRound(2))));
        // Per run: 0.11 (all four turns), 0.06 (rounds 1-2), 0.06; the lower median.
        let saving = f.arms[1].saving_usd.unwrap();
        assert!((saving - 0.06).abs() < 1e-9, "{saving}");
        let whole = turns_cost(&runs[0], &steps["three_passed"], SharedTurns::UpToRound(2));
        assert!((whole.unwrap() - 0.11).abs() < 1e-9);
    }

    #[test]
    fn without_history_there_is_no_figure_but_the_sharing_is_still_named() {
        let a = base();
        let mut b = base();
        b.judge.model = "openai/gpt-4o".into();
        let arms = [arm("a", a), arm("b", b)];
        let f = forecast_experiment(&arms, ReusePolicy::default(), &[], &HashMap::new(), 5);
        assert!(matches!(f.arms[1].cost, ForecastOutcome::NoHistory { .. }));
        assert_eq!(f.arms[1].shares, Some((0, SharedTurns::AllButJudge)));
        assert_eq!(f.arms[1].saving_usd, None);
        assert_eq!(f.total_net_usd(), None);
    }
}

//! What a batch will cost, forecast from earlier runs of the same config before it starts.
//!
//! For each mode the batch runs, the costs of earlier completed, fully priced runs whose config
//! hash is that mode's give a median and a 90th percentile per run; a problem costs the sum
//! over its modes, and the batch that times its problem count. Summing the per-mode 90th
//! percentiles over-states the joint one a little (the two modes rarely peak on the same
//! problem), which errs on the side a budget wants.

use std::collections::{HashMap, HashSet};

use crate::core::batch::BatchModes;
use crate::core::config::PipelineConfig;
use crate::core::cost::{live_cost, UsdSum};
use crate::core::pricing::Pricer;
use crate::core::sorting;
use crate::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};

/// The forecast for a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Problems in the batch.
    pub problems: usize,
    /// Median cost of one problem (all its modes), USD.
    pub per_problem_median: f64,
    /// 90th percentile of one problem's cost, USD.
    pub per_problem_p90: f64,
    /// `per_problem_median × problems`.
    pub total_median: f64,
    /// `per_problem_p90 × problems`.
    pub total_p90: f64,
    /// The fewest earlier runs any mode's figure rests on.
    pub samples: usize,
}

/// What can be said before a batch starts.
#[derive(Debug, Clone, PartialEq)]
pub enum ForecastOutcome {
    /// Earlier runs give a forecast.
    Ready(Forecast),
    /// No earlier completed run has this config hash: run a pilot first.
    NoHistory {
        /// The config hash without runs.
        config_hash: String,
    },
    /// Earlier runs exist, but none has a known, complete cost (no price for the models).
    Unpriced {
        /// The config hash whose runs are unpriced.
        config_hash: String,
        /// How many completed runs it has.
        runs: usize,
    },
}

/// The median of sorted `values` (the mean of the two middle ones for an even count).
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The 90th percentile of sorted `values` by the nearest-rank method: the value at rank
/// ⌈0.9 n⌉ (1-based), so it is always a cost that was actually seen.
fn p90(sorted: &[f64]) -> f64 {
    let rank = (sorted.len() * 9).div_ceil(10).max(1);
    sorted[rank - 1]
}

/// The config hash each item of `modes` would run under.
pub fn mode_hashes(config: &PipelineConfig, modes: BatchModes) -> Vec<String> {
    modes
        .modes()
        .iter()
        .map(|mode| {
            let mut c = config.clone();
            c.mode = *mode;
            c.config_hash()
        })
        .collect()
}

/// Forecasts a batch of `problems` problems run under each of `config_hashes` (one per mode)
/// from the stored `runs`.
pub fn forecast(runs: &[RunRecord], config_hashes: &[String], problems: usize) -> ForecastOutcome {
    let mut per_problem_median = 0.0;
    let mut per_problem_p90 = 0.0;
    let mut samples = usize::MAX;
    for hash in config_hashes {
        let completed: Vec<&RunRecord> = runs
            .iter()
            .filter(|r| &r.config_hash == hash && r.status == RunStatus::Completed)
            .collect();
        if completed.is_empty() {
            return ForecastOutcome::NoHistory {
                config_hash: hash.clone(),
            };
        }
        let mut costs: Vec<f64> = completed
            .iter()
            .filter(|r| r.cost_complete)
            .filter_map(|r| r.cost_usd)
            .filter(|c| c.is_finite())
            .collect();
        if costs.is_empty() {
            return ForecastOutcome::Unpriced {
                config_hash: hash.clone(),
                runs: completed.len(),
            };
        }
        sorting::sort_by(&mut costs, f64::total_cmp);
        per_problem_median += median(&costs);
        per_problem_p90 += p90(&costs);
        samples = samples.min(costs.len());
    }
    if config_hashes.is_empty() {
        samples = 0;
    }
    ForecastOutcome::Ready(Forecast {
        problems,
        per_problem_median,
        per_problem_p90,
        total_median: per_problem_median * problems as f64,
        total_p90: per_problem_p90 * problems as f64,
        samples,
    })
}

/// The runs whose steps [`at_live_rates`] needs for a forecast over `config_hashes`: the
/// completed runs of those configs that belong to a batch run in provider batch mode (one of
/// `provider_batches`), whose requests may have paid the batch rates. Any other run paid live
/// rates for every request.
pub fn runs_to_price_live(
    runs: &[RunRecord],
    provider_batches: &HashSet<String>,
    config_hashes: &[String],
) -> Vec<String> {
    runs.iter()
        .filter(|r| r.status == RunStatus::Completed && config_hashes.contains(&r.config_hash))
        .filter(|r| {
            r.batch_id
                .as_ref()
                .is_some_and(|b| provider_batches.contains(b))
        })
        .map(|r| r.run_id.clone())
        .collect()
}

/// `runs` with every cost at live rates, for a forecast of a batch run live: each run whose
/// steps are in `steps` (by run id) costs what its steps would have cost with every request
/// sent live ([`live_cost`]: a request a provider batch answered, as its `sent_via` says, is
/// priced again at the live rates under `pricer`; a straggler finished live keeps its price).
/// A run with a step whose live price is unknown has no cost. Runs without steps in `steps`
/// are kept as they are.
pub fn at_live_rates(
    runs: &[RunRecord],
    steps: &HashMap<String, Vec<TrajectoryEntry>>,
    pricer: &Pricer,
) -> Vec<RunRecord> {
    runs.iter()
        .map(|run| {
            let mut run = run.clone();
            if let Some(entries) = steps.get(&run.run_id) {
                let costs: Option<Vec<f64>> =
                    entries.iter().map(|e| live_cost(e, pricer)).collect();
                run.cost_usd = costs.map(UsdSum::of).map(|sum| sum.value());
            }
            run
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Mode;

    fn run(hash: &str, status: RunStatus, cost: Option<f64>, complete: bool) -> RunRecord {
        let mut r = RunRecord::start("r", &PipelineConfig::default(), hash, "p", None, 0.0);
        r.status = status;
        r.cost_usd = cost;
        r.cost_complete = complete;
        r
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn median_and_nearest_rank_p90() {
        assert_eq!(median(&[1.0, 2.0, 10.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 3.0, 10.0]), 2.5);
        // Ten values: rank ⌈9⌉ = 9 → the 9th; eleven values: rank ⌈9.9⌉ = 10 → the 10th.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(p90(&ten), 9.0);
        let eleven: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(p90(&eleven), 10.0);
        assert_eq!(p90(&[7.0]), 7.0);
    }

    #[test]
    fn a_forecast_uses_completed_priced_runs_of_each_mode_hash() {
        let runs = vec![
            run("aaaa0001", RunStatus::Completed, Some(0.01), true),
            run("aaaa0001", RunStatus::Completed, Some(0.03), true),
            run("aaaa0001", RunStatus::Completed, Some(0.02), true),
            // Ignored: not completed, partly priced, another config.
            run("aaaa0001", RunStatus::Failed, Some(5.0), true),
            run("aaaa0001", RunStatus::Completed, Some(9.0), false),
            run("ffff0000", RunStatus::Completed, Some(1.0), true),
            run("bbbb0002", RunStatus::Completed, Some(0.004), true),
        ];
        let hashes = ["aaaa0001".to_string(), "bbbb0002".to_string()];
        let ForecastOutcome::Ready(f) = forecast(&runs, &hashes, 100) else {
            panic!("expected a forecast");
        };
        // Debate: sorted 0.01, 0.02, 0.03 → median 0.02, p90 rank ⌈2.7⌉ = 3 → 0.03.
        // Baseline: 0.004 alone. Per problem: 0.024 and 0.034; × 100.
        assert!(
            close(f.per_problem_median, 0.024),
            "{}",
            f.per_problem_median
        );
        assert!(close(f.per_problem_p90, 0.034), "{}", f.per_problem_p90);
        assert!(close(f.total_median, 2.4), "{}", f.total_median);
        assert!(close(f.total_p90, 3.4), "{}", f.total_p90);
        assert_eq!((f.problems, f.samples), (100, 1));
    }

    #[test]
    fn without_runs_or_prices_it_says_which() {
        let runs = vec![
            run("aaaa0001", RunStatus::Completed, None, true),
            run("aaaa0001", RunStatus::Completed, Some(0.1), false),
            run("aaaa0001", RunStatus::Cancelled, Some(0.1), true),
        ];
        assert_eq!(
            forecast(&runs, &["aaaa0001".to_string()], 5),
            ForecastOutcome::Unpriced {
                config_hash: "aaaa0001".into(),
                runs: 2
            }
        );
        assert_eq!(
            forecast(&runs, &["cccc0003".to_string()], 5),
            ForecastOutcome::NoHistory {
                config_hash: "cccc0003".into()
            }
        );
    }

    #[test]
    fn each_mode_has_its_own_config_hash() {
        let config = PipelineConfig::default();
        let both = mode_hashes(&config, BatchModes::Both);
        assert_eq!(both.len(), 2);
        assert_ne!(both[0], both[1]);
        let mut debate = config.clone();
        debate.mode = Mode::Debate;
        assert_eq!(
            mode_hashes(&config, BatchModes::Debate),
            [debate.config_hash()]
        );
        let mut baseline = config;
        baseline.mode = Mode::Baseline;
        assert_eq!(both[1], baseline.config_hash());
    }

    #[test]
    fn only_completed_runs_of_provider_batches_need_their_steps_priced_live() {
        let with = |id: &str, hash: &str, status: RunStatus, batch: Option<&str>| {
            let mut r = run(hash, status, Some(0.01), true);
            r.run_id = id.into();
            r.batch_id = batch.map(str::to_string);
            r
        };
        let runs = vec![
            with("a", "aaaa0001", RunStatus::Completed, Some("batch_pb")),
            with("b", "aaaa0001", RunStatus::Completed, Some("batch_live")),
            with("c", "aaaa0001", RunStatus::Completed, None),
            with("d", "aaaa0001", RunStatus::Failed, Some("batch_pb")),
            with("e", "ffff0000", RunStatus::Completed, Some("batch_pb")),
        ];
        let provider_batches = HashSet::from(["batch_pb".to_string()]);
        assert_eq!(
            runs_to_price_live(&runs, &provider_batches, &["aaaa0001".to_string()]),
            vec!["a".to_string()]
        );
    }
}

//! A batch's results: each item with its run, the statistics over the runs, and the per-problem
//! rows the exports write; and when the page reads them again.

use std::collections::HashMap;

use crate::core::batch::{BatchRecord, BatchStatus, ItemStatus};
use crate::core::config::Mode;
use crate::core::stats::{summarize, BatchStats, RunResult};
use crate::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};

/// One item of the batch with what its run says.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    /// The item's position in the batch.
    pub index: usize,
    /// The problem.
    pub problem_id: String,
    /// Debate or baseline.
    pub mode: Mode,
    /// Where the item stands.
    pub status: ItemStatus,
    /// Its run, if one was made and is stored.
    pub run_id: Option<String>,
    /// The run's status.
    pub run_status: Option<RunStatus>,
    /// Committed steps of the run (its lines in the JSONL export).
    pub steps: u64,
    /// Whether the final answer matched the ground truth.
    pub correct: Option<bool>,
    /// The judge's score.
    pub judge_score: Option<f64>,
    /// The run's cost, when priced.
    pub cost_usd: Option<f64>,
    /// Why it failed or stopped.
    pub message: Option<String>,
}

/// Everything the results section shows.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResults {
    /// One row per item, in batch order.
    pub rows: Vec<ItemRow>,
    /// One result per item with a stored run, in batch order.
    pub results: Vec<RunResult>,
    /// The statistics over `results`.
    pub stats: BatchStats,
}

impl BatchResults {
    /// The items' run ids, in batch order (the runs a JSONL export of the batch writes).
    pub fn run_ids(&self) -> Vec<String> {
        self.rows.iter().filter_map(|r| r.run_id.clone()).collect()
    }

    /// Steps over all the items' runs: the line count of the batch's JSONL export.
    pub fn total_steps(&self) -> u64 {
        self.rows.iter().map(|r| r.steps).sum()
    }
}

/// The results of `record` from its items' stored `runs` and each run's steps (`steps[i]`
/// belongs to `runs[i]`). Items whose run is not among `runs` have a row but no result.
pub fn build_results(
    record: &BatchRecord,
    runs: &[RunRecord],
    steps: &[Vec<TrajectoryEntry>],
) -> BatchResults {
    let by_id: HashMap<&str, (&RunRecord, &[TrajectoryEntry])> = runs
        .iter()
        .zip(
            steps
                .iter()
                .map(Vec::as_slice)
                .chain(std::iter::repeat(&[][..])),
        )
        .map(|(run, steps)| (run.run_id.as_str(), (run, steps)))
        .collect();
    let mut rows = Vec::with_capacity(record.items.len());
    let mut results = Vec::new();
    for (index, item) in record.items.iter().enumerate() {
        let stored = item.run_id.as_deref().and_then(|id| by_id.get(id).copied());
        if let Some((run, steps)) = stored {
            results.push(RunResult::new(&item.problem_id, run, steps));
        }
        rows.push(ItemRow {
            index,
            problem_id: item.problem_id.clone(),
            mode: item.mode,
            status: item.status,
            run_id: stored.map(|(run, _)| run.run_id.clone()),
            run_status: stored.map(|(run, _)| run.status).or(item.run_status),
            steps: stored.map_or(0, |(run, _)| run.step_count),
            correct: stored.and_then(|(run, _)| run.correct),
            judge_score: stored.and_then(|(run, _)| run.judge_score),
            cost_usd: stored.and_then(|(run, _)| run.cost_usd).or(item.cost_usd),
            message: item
                .message
                .clone()
                .or_else(|| stored.and_then(|(run, _)| run.message.clone())),
        });
    }
    let stats = summarize(&results);
    BatchResults {
        rows,
        results,
        stats,
    }
}

/// Whether the results should be read again when the shown batch goes from `before` to `now`
/// (each a batch id and status): on open (another batch, or the first) and whenever it is not
/// running, never on a mere progress update of a running batch.
pub fn should_reload(before: Option<&(String, BatchStatus)>, now: &(String, BatchStatus)) -> bool {
    match before {
        None => true,
        Some((id, status)) => *id != now.0 || (now.1 != BatchStatus::Running && *status != now.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::batch::{BatchModes, BatchSpec};
    use crate::core::config::PipelineConfig;

    fn record() -> BatchRecord {
        let spec = BatchSpec::new(
            "b",
            "ds",
            "ds",
            vec!["P1".into(), "P2".into()],
            BatchModes::Both,
            2,
            PipelineConfig::default(),
            0.0,
            |_| false,
        )
        .unwrap();
        BatchRecord::new(spec)
    }

    fn run(id: &str, mode: Mode, correct: bool, steps: u64, cost: f64) -> RunRecord {
        let config = PipelineConfig {
            mode,
            ..PipelineConfig::default()
        };
        let mut r = RunRecord::start(id, &config, "h", "p", Some("4".into()), 0.0);
        r.status = RunStatus::Completed;
        r.correct = Some(correct);
        r.step_count = steps;
        r.cost_usd = Some(cost);
        r.judge_score = Some(if correct { 0.9 } else { 0.2 });
        r
    }

    #[test]
    fn items_meet_their_runs_and_the_statistics_count_them() {
        let mut record = record();
        // Items: P1 debate, P1 baseline, P2 debate, P2 baseline.
        let ids = ["r1", "r2", "r3"];
        for (item, id) in record.items.iter_mut().zip(ids) {
            item.run_id = Some(id.to_string());
            item.status = ItemStatus::Done;
        }
        let runs = vec![
            run("r1", Mode::Debate, true, 5, 0.5),
            run("r2", Mode::Baseline, false, 2, 0.125),
            run("r3", Mode::Debate, true, 3, 0.25),
        ];
        let results = build_results(&record, &runs, &[vec![], vec![], vec![]]);
        assert_eq!(results.rows.len(), 4);
        assert_eq!(results.results.len(), 3);
        assert_eq!(results.run_ids(), ["r1", "r2", "r3"]);
        assert_eq!(results.total_steps(), 10);
        assert_eq!(results.rows[3].run_id, None);
        assert_eq!(results.rows[3].status, ItemStatus::Pending);
        let debate = results.stats.debate.as_ref().unwrap();
        assert_eq!(debate.accuracy.unwrap().rate, 1.0);
        assert_eq!(debate.total_cost_usd, Some(0.75));
        let baseline = results.stats.baseline.as_ref().unwrap();
        assert_eq!(baseline.accuracy.unwrap().rate, 0.0);
        // Only P1 has both modes: debate right, baseline wrong.
        let paired = results.stats.paired.unwrap();
        assert_eq!((paired.pairs, paired.debate_only), (1, 1));
    }

    #[test]
    fn an_item_whose_run_is_gone_keeps_its_own_facts() {
        let mut record = record();
        record.items[0].run_id = Some("deleted".into());
        record.items[0].status = ItemStatus::Failed;
        record.items[0].message = Some("storage failed".into());
        record.items[0].cost_usd = Some(0.01);
        let results = build_results(&record, &[], &[]);
        assert!(results.results.is_empty());
        assert_eq!(results.rows[0].run_id, None);
        assert_eq!(results.rows[0].cost_usd, Some(0.01));
        assert_eq!(results.rows[0].message.as_deref(), Some("storage failed"));
        assert_eq!(results.stats.debate, None);
    }

    fn key(id: &str, status: BatchStatus) -> (String, BatchStatus) {
        (id.to_string(), status)
    }

    #[test]
    fn a_batch_is_read_when_opened() {
        assert!(should_reload(None, &key("b1", BatchStatus::Running)));
        assert!(should_reload(
            Some(&key("b1", BatchStatus::Completed)),
            &key("b2", BatchStatus::Running)
        ));
    }

    #[test]
    fn a_running_batch_is_not_read_again_until_it_stops() {
        let running = key("b1", BatchStatus::Running);
        assert!(!should_reload(Some(&running), &running));
        assert!(!should_reload(
            Some(&key("b1", BatchStatus::Interrupted)),
            &running
        ));
        assert!(!should_reload(
            Some(&key("b1", BatchStatus::Paused)),
            &running
        ));
        for stopped in [
            BatchStatus::Paused,
            BatchStatus::Cancelled,
            BatchStatus::Completed,
            BatchStatus::Interrupted,
        ] {
            assert!(should_reload(Some(&running), &key("b1", stopped)));
        }
    }
}

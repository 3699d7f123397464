//! A batch's results: each item with its run, the statistics over the runs, and the spend,
//! built from the item states and the runs read so far.
//!
//! A running batch's results are kept up to date as its items finish: [`RunCache`] keeps the
//! runs already read, says which ones to read (each finished run once, not every run after
//! every item), and the results are built from it, with the step counts of the runs in flight
//! as their steps are reported.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use crate::app::batch::live::{run_key, LiveResults, RunDigest, RunRead};
use crate::core::batch::{BatchRecord, BatchStatus, ItemState, ItemStatus};
use crate::core::config::Mode;
use crate::core::dataset::Problem;
use crate::core::stats::{facet_breakdowns, summarize, BatchStats, FacetBreakdown, RunResult};
use crate::core::stream_speed::{speed_by_model, ModelSpeed, StepSpeed};
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
    /// Its run, once one was made (a run in flight is linked to its live transcript).
    pub run_id: Option<String>,
    /// The run's status.
    pub run_status: Option<RunStatus>,
    /// Committed steps of the run (its lines in the JSONL export); counted as they are
    /// reported while the run is in flight.
    pub steps: u64,
    /// Whether the final answer matched the ground truth.
    pub correct: Option<bool>,
    /// The judge's score.
    pub judge_score: Option<f64>,
    /// The run's cost, when priced.
    pub cost_usd: Option<f64>,
    /// Why it failed or stopped.
    pub message: Option<String>,
    /// Whether its run's stored figures were read (a run in flight's are not).
    pub read: bool,
}

impl ItemRow {
    /// The row as drawn: its position and everything it shows. A list keyed by it keeps the
    /// rows whose item did not change as they are, and draws the others again.
    pub fn key(&self) -> (usize, String) {
        (self.index, format!("{self:?}"))
    }
}

/// What a batch has spent: one figure for the whole batch, whichever part of the page shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spend {
    /// USD over the priced steps of every item's run; `None` when nothing is priced.
    pub usd: Option<f64>,
    /// False when some step had no price (the figure is then a lower bound).
    pub complete: bool,
}

/// Everything the results section shows.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResults {
    /// One row per item, in batch order.
    pub rows: Vec<ItemRow>,
    /// One result per item whose run was read, in batch order.
    pub results: Vec<RunResult>,
    /// The statistics over `results`.
    pub stats: BatchStats,
    /// Accuracy by each metadata facet of the batch's problems (empty until they are known).
    pub facets: Vec<FacetBreakdown>,
    /// The batch's problems, in batch order, when known: their metadata goes into the CSV.
    pub problems: Vec<Problem>,
    /// How fast the streamed calls of the finished runs were, by model.
    pub speed: Vec<ModelSpeed>,
    /// Results of a batch while it runs: the figures are running totals, and neither
    /// `results` nor `problems` is kept (the exports read them when asked).
    pub partial: bool,
}

impl BatchResults {
    /// The ids of the items' runs read from the store, in batch order (the runs a JSONL
    /// export of the batch writes; a run in flight is written once it stops).
    pub fn run_ids(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.read)
            .filter_map(|r| r.run_id.clone())
            .collect()
    }

    /// How many runs [`run_ids`](Self::run_ids) lists.
    pub fn runs_read(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.read && r.run_id.is_some())
            .count()
    }

    /// Steps over the runs of [`run_ids`](Self::run_ids): the line count of the batch's JSONL
    /// export.
    pub fn total_steps(&self) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.read && r.run_id.is_some())
            .map(|r| r.steps)
            .sum()
    }

    /// What the batch spent, over every item's run: the sum of the per-mode totals.
    pub fn spend(&self) -> Spend {
        let usd = self
            .rows
            .iter()
            .filter_map(|r| r.cost_usd)
            .fold(None, |sum: Option<f64>, c| Some(sum.unwrap_or(0.0) + c));
        let complete_by_run: HashMap<&str, bool> = self
            .results
            .iter()
            .map(|r| (r.run_id.as_str(), r.cost_complete))
            .collect();
        let priced = |row: &ItemRow| {
            let complete = row.run_id.as_deref().and_then(|id| complete_by_run.get(id));
            row.cost_usd.is_some() && complete.is_none_or(|c| *c)
        };
        let complete = self.rows.iter().filter(|r| r.run_id.is_some()).all(priced);
        Spend { usd, complete }
    }
}

/// The results of `record` from its items' stored `runs` and each run's steps (`steps[i]`
/// belongs to `runs[i]`). Items whose run is not among `runs` have a row but no result.
pub fn build_results(
    record: &BatchRecord,
    runs: &[RunRecord],
    steps: &[Vec<TrajectoryEntry>],
) -> BatchResults {
    let problem_of = problem_ids(record);
    let by_id: HashMap<&str, ReadRun> = runs
        .iter()
        .zip(
            steps
                .iter()
                .map(Vec::as_slice)
                .chain(std::iter::repeat(&[][..])),
        )
        .filter_map(|(run, steps)| {
            let problem_id = problem_of.get(run.run_id.as_str())?;
            Some((run.run_id.as_str(), ReadRun::new(problem_id, run, steps)))
        })
        .collect();
    assemble(record, |id| by_id.get(id), &BTreeMap::new(), &[])
}

/// Each item's problem, by the id of its run.
fn problem_ids(record: &BatchRecord) -> HashMap<&str, &str> {
    record
        .items
        .iter()
        .filter_map(|i| Some((i.run_id.as_deref()?, i.problem_id.as_str())))
        .collect()
}

/// What the results need of one stored run, read from it and its steps once: the run's own
/// record and steps are not kept, so a long batch's results hold a few fields per item
/// rather than every step's text.
#[derive(Debug, Clone)]
struct ReadRun {
    result: RunResult,
    /// The streamed steps' speeds, with their step ids.
    speeds: Vec<(u64, StepSpeed)>,
    status: RunStatus,
    step_count: u64,
    correct: Option<bool>,
    judge_score: Option<f64>,
    cost_usd: Option<f64>,
    message: Option<String>,
}

impl ReadRun {
    fn new(problem_id: &str, run: &RunRecord, steps: &[TrajectoryEntry]) -> Self {
        ReadRun {
            result: RunResult::new(problem_id, run, steps),
            speeds: steps
                .iter()
                .filter_map(|step| Some((step.step_id, StepSpeed::of(step)?)))
                .collect(),
            status: run.status,
            step_count: run.step_count,
            correct: run.correct,
            judge_score: run.judge_score,
            cost_usd: run.cost_usd,
            message: run.message.clone(),
        }
    }
}

/// What an item's row shows of its stored run.
#[derive(Debug, Clone, Copy)]
struct RowFacts<'r> {
    status: RunStatus,
    step_count: u64,
    correct: Option<bool>,
    judge_score: Option<f64>,
    cost_usd: Option<f64>,
    message: Option<&'r str>,
}

impl ReadRun {
    fn facts(&self) -> RowFacts<'_> {
        RowFacts {
            status: self.status,
            step_count: self.step_count,
            correct: self.correct,
            judge_score: self.judge_score,
            cost_usd: self.cost_usd,
            message: self.message.as_deref(),
        }
    }
}

impl RunDigest {
    fn facts(&self) -> RowFacts<'_> {
        RowFacts {
            status: self.status,
            step_count: u64::from(self.steps),
            correct: self.correct,
            judge_score: self.judge_score,
            cost_usd: self.cost_usd,
            message: self.message.as_deref(),
        }
    }
}

/// Item `index`'s row: the item, with what its stored run says once it is not in flight;
/// `live_steps` counts the steps of the runs in flight.
fn row_of(
    index: usize,
    item: &ItemState,
    stored: Option<RowFacts<'_>>,
    live_steps: &BTreeMap<usize, u64>,
) -> ItemRow {
    let in_flight = item.status == ItemStatus::Running;
    let stored_steps = stored.map_or(0, |run| run.step_count);
    let steps = match live_steps.get(&index) {
        Some(live) if in_flight => stored_steps.max(*live),
        _ => stored_steps,
    };
    let settled = stored.filter(|_| !in_flight);
    ItemRow {
        index,
        problem_id: item.problem_id.clone(),
        mode: item.mode,
        status: item.status,
        run_id: item.run_id.clone(),
        run_status: settled.map(|run| run.status).or(item.run_status),
        steps,
        correct: settled.and_then(|run| run.correct),
        judge_score: settled.and_then(|run| run.judge_score),
        cost_usd: settled.and_then(|run| run.cost_usd).or(item.cost_usd),
        message: item
            .message
            .clone()
            .or_else(|| settled.and_then(|run| run.message.map(str::to_string))),
        read: settled.is_some(),
    }
}

/// The rows and statistics of `record`, each item's run found by `stored`; `live_steps` gives
/// the steps committed so far by the runs in flight, by item index; `problems` are the
/// batch's, for the facets.
fn assemble<'r>(
    record: &BatchRecord,
    stored: impl Fn(&str) -> Option<&'r ReadRun>,
    live_steps: &BTreeMap<usize, u64>,
    problems: &[Problem],
) -> BatchResults {
    let mut rows = Vec::with_capacity(record.items.len());
    let mut results = Vec::new();
    let mut speeds = Vec::new();
    for (index, item) in record.items.iter().enumerate() {
        let stored = item.run_id.as_deref().and_then(&stored);
        if let Some(run) = stored.filter(|_| item.status != ItemStatus::Running) {
            results.push(run.result.clone());
            speeds.extend(run.speeds.iter().map(|(_, speed)| speed.clone()));
        }
        rows.push(row_of(index, item, stored.map(ReadRun::facts), live_steps));
    }
    let stats = summarize(&results);
    let facets = facet_breakdowns(&results, problems);
    BatchResults {
        rows,
        results,
        stats,
        facets,
        problems: problems.to_vec(),
        speed: speed_by_model(&speeds),
        partial: false,
    }
}

/// The runs of one batch read so far, kept between reads while the batch is shown.
///
/// Read for a batch that is running ([`to_read`](Self::to_read) with `running`), a run is
/// kept as a [`RunDigest`] counted into [`LiveResults`]: the results then come from running
/// totals, and hold a few dozen bytes per run. Otherwise each run's [`RunResult`] is kept, for
/// the exports. A cache goes from one to the other by reading every run again.
#[derive(Debug, Clone, Default)]
pub struct RunCache {
    batch_id: String,
    runs: HashMap<String, CachedRun>,
    /// While the batch runs: the running totals, and per item what was read for it.
    live: Option<LiveResults>,
    /// The batch's problems, once read.
    problems: Option<Vec<Problem>>,
}

#[derive(Debug, Clone)]
struct CachedRun {
    read: ReadRun,
    /// The item's status when the run was read: a run is read again once its item moved on.
    item_status: ItemStatus,
}

impl RunCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The runs of `record`'s items to read now: each run not read yet, or read before its
    /// item moved on (it finished, or was resumed and stopped again). Runs in flight are not
    /// read: their steps are counted as reported. A cache of another batch, or kept for a
    /// batch that was `running` and is not now (or the reverse), is emptied first.
    pub fn to_read(&mut self, record: &BatchRecord, running: bool) -> Vec<String> {
        if self.batch_id != record.spec.batch_id || self.live.is_some() != running {
            if self.batch_id != record.spec.batch_id {
                self.problems = None;
            }
            self.batch_id = record.spec.batch_id.clone();
            self.runs.clear();
            let problems = self.problems.as_deref().unwrap_or_default();
            self.live = running.then(|| LiveResults::new(problems));
        }
        let live = self.live.as_ref();
        record
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| item.status != ItemStatus::Running)
            .filter_map(|(index, item)| {
                let id = item.run_id.as_ref()?;
                let fresh = match live {
                    Some(live) => live
                        .digest(index)
                        .is_some_and(|d| (d.item_status, d.run_key) == (item.status, run_key(id))),
                    None => self
                        .runs
                        .get(id)
                        .is_some_and(|cached| cached.item_status == item.status),
                };
                (!fresh).then(|| id.clone())
            })
            .collect()
    }

    /// Keeps the runs read for `record` (`steps[i]` belongs to `runs[i]`); runs it does not
    /// hold any more are left out.
    pub fn insert(
        &mut self,
        record: &BatchRecord,
        runs: Vec<RunRecord>,
        steps: Vec<Vec<TrajectoryEntry>>,
    ) {
        if self.batch_id != record.spec.batch_id {
            return;
        }
        let items: HashMap<&str, (usize, &ItemState)> = record
            .items
            .iter()
            .enumerate()
            .filter_map(|(index, i)| Some((i.run_id.as_deref()?, (index, i))))
            .collect();
        let per_problem = record.spec.modes.modes().len().max(1);
        let steps = steps.into_iter().chain(std::iter::repeat_with(Vec::new));
        for (run, steps) in runs.into_iter().zip(steps) {
            let Some((index, item)) = items.get(run.run_id.as_str()).copied() else {
                continue;
            };
            let read = ReadRun::new(&item.problem_id, &run, &steps);
            match &mut self.live {
                Some(live) => live.add(
                    index,
                    index / per_problem,
                    RunRead {
                        result: &read.result,
                        steps: read.step_count,
                        message: read.message.as_deref(),
                        speeds: &read.speeds,
                    },
                    item.status,
                ),
                None => {
                    self.runs.insert(
                        run.run_id.clone(),
                        CachedRun {
                            read,
                            item_status: item.status,
                        },
                    );
                }
            }
        }
    }

    /// The results of `record` from the runs read so far; `live_steps` gives the steps
    /// committed so far by the runs in flight, by item index.
    pub fn results(&self, record: &BatchRecord, live_steps: &BTreeMap<usize, u64>) -> BatchResults {
        let Some(live) = &self.live else {
            return assemble(
                record,
                |id| self.runs.get(id).map(|c| &c.read),
                live_steps,
                self.problems.as_deref().unwrap_or_default(),
            );
        };
        let rows = record
            .items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let digest = live.digest(index).filter(|d| {
                    item.run_id
                        .as_deref()
                        .is_some_and(|id| d.run_key == run_key(id))
                });
                row_of(index, item, digest.map(RunDigest::facts), live_steps)
            })
            .collect();
        BatchResults {
            rows,
            results: Vec::new(),
            stats: live.stats(),
            facets: live.facets(),
            problems: Vec::new(),
            speed: live.speed(),
            partial: true,
        }
    }

    /// Whether the batch's problems are still to be read (ask after
    /// [`to_read`](Self::to_read), which says which batch the cache is for).
    pub fn needs_problems(&self) -> bool {
        self.problems.is_none()
    }

    /// Keeps the problems of `record` among `dataset` (the dataset's problems), in batch
    /// order; a problem the dataset no longer has is left out.
    pub fn set_problems(&mut self, record: &BatchRecord, dataset: &[Problem]) {
        if self.batch_id != record.spec.batch_id {
            return;
        }
        let by_id: HashMap<&str, &Problem> = dataset.iter().map(|p| (p.id.as_str(), p)).collect();
        let problems: Vec<Problem> = record
            .spec
            .problem_ids
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).map(|p| (*p).clone()))
            .collect();
        if let Some(live) = &mut self.live {
            if live.is_empty() {
                *live = LiveResults::new(&problems);
            }
        }
        self.problems = Some(problems);
    }
}

/// The turns of a shown batch's result reads: one at a time, a read asked for while one is
/// going made once that one ends (from the state of then), however many times it was asked.
/// Reads side by side would each find the [`RunCache`] taken and read every run again, and the
/// slower the page, the more of them would overlap.
#[derive(Debug, Default)]
pub struct ReadTurns {
    going: Cell<bool>,
    again: Cell<bool>,
}

impl ReadTurns {
    /// Asks for a read: true when it starts now; false when one is going, which then reads
    /// once more before it ends.
    pub fn ask(&self) -> bool {
        if self.going.replace(true) {
            self.again.set(true);
            false
        } else {
            true
        }
    }

    /// Told by the read going when it has read: true when it must read once more (a read was
    /// asked for meanwhile); false when it is done, and the next [`ask`](Self::ask) starts one.
    pub fn ended(&self) -> bool {
        if self.again.replace(false) {
            true
        } else {
            self.going.set(false);
            false
        }
    }
}

/// Whether the results should be read again when the shown batch goes from `before` to `now`
/// (each a batch id and status): on open (another batch, or the first) and whenever it is not
/// running. While it runs, the items it starts and finishes say when instead (see
/// [`RunCache`]), not every progress update.
pub fn should_reload(before: Option<&(String, BatchStatus)>, now: &(String, BatchStatus)) -> bool {
    match before {
        None => true,
        Some((id, status)) => *id != now.0 || (now.1 != BatchStatus::Running && *status != now.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

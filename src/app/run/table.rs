//! The runs table's model: which runs it shows, in which order.
//!
//! Pure functions over [`RunRecord`]s so that sorting and filtering are tested without a page.

use std::cmp::Ordering;

use crate::app::format::{count, plural};
use crate::core::config::Mode;
use crate::core::sorting;
use crate::core::trajectory::{RunRecord, RunStatus};

/// A column the table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// When the run was created (the default, newest first).
    Date,
    /// `running`, `completed`, … in alphabetical order.
    Status,
    /// Why the run stopped (`passed`, `max_iterations`, …), then how many calls failed (runs
    /// that have not stopped last).
    Stopped,
    /// Debate or baseline.
    Mode,
    /// The config hash.
    ConfigHash,
    /// The problem text.
    Problem,
    /// Solver rounds.
    Iterations,
    /// Whether the verifier passed a solution.
    Passed,
    /// The judge's score (runs without one last).
    JudgeScore,
    /// Whether the answer matched the ground truth (runs without one last).
    Correct,
    /// The cost (runs with an unknown cost last).
    Cost,
}

impl SortKey {
    /// Every column, in table order.
    pub const ALL: [SortKey; 11] = [
        SortKey::Status,
        SortKey::Stopped,
        SortKey::Mode,
        SortKey::ConfigHash,
        SortKey::Problem,
        SortKey::Iterations,
        SortKey::Passed,
        SortKey::JudgeScore,
        SortKey::Correct,
        SortKey::Cost,
        SortKey::Date,
    ];

    /// The column heading.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Date => "Date",
            SortKey::Status => "Status",
            SortKey::Stopped => "Stopped",
            SortKey::Mode => "Mode",
            SortKey::ConfigHash => "Config",
            SortKey::Problem => "Problem",
            SortKey::Iterations => "Iter.",
            SortKey::Passed => "Passed",
            SortKey::JudgeScore => "Judge",
            SortKey::Correct => "Correct",
            SortKey::Cost => "Cost (USD)",
        }
    }

    /// The column's name in the page's address (`?sort=judge`).
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Date => "date",
            SortKey::Status => "status",
            SortKey::Stopped => "stopped",
            SortKey::Mode => "mode",
            SortKey::ConfigHash => "config",
            SortKey::Problem => "problem",
            SortKey::Iterations => "iterations",
            SortKey::Passed => "passed",
            SortKey::JudgeScore => "judge",
            SortKey::Correct => "correct",
            SortKey::Cost => "cost",
        }
    }

    /// The column named `name` in an address, if any.
    pub fn named(name: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether a first click sorts this column largest first (numbers and dates) rather than
    /// A to Z (text).
    pub fn descending_first(self) -> bool {
        matches!(
            self,
            SortKey::Date
                | SortKey::Iterations
                | SortKey::Passed
                | SortKey::JudgeScore
                | SortKey::Correct
                | SortKey::Cost
        )
    }
}

/// How a run's answer came out, for the correctness filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correctness {
    /// The final answer matched the ground truth.
    Correct,
    /// An answer was extracted and it did not match.
    Wrong,
    /// The run has a ground truth but gave no answer to check: none could be extracted, or
    /// it stopped before one (cancelled, interrupted, stopped by a budget).
    NoAnswer,
    /// The run failed (no answer could be produced, or an error stopped it).
    Failed,
}

impl Correctness {
    /// Every choice, in the filter's order.
    pub const ALL: [Correctness; 4] = [
        Correctness::Correct,
        Correctness::Wrong,
        Correctness::NoAnswer,
        Correctness::Failed,
    ];

    /// The name in the page's address and the filter's option value.
    pub fn as_str(self) -> &'static str {
        match self {
            Correctness::Correct => "correct",
            Correctness::Wrong => "wrong",
            Correctness::NoAnswer => "no_answer",
            Correctness::Failed => "failed",
        }
    }

    /// The filter's option text.
    pub fn label(self) -> &'static str {
        match self {
            Correctness::Correct => "correct",
            Correctness::Wrong => "wrong",
            Correctness::NoAnswer => "no answer",
            Correctness::Failed => "failed",
        }
    }

    /// The choice named `name`, if any.
    pub fn named(name: &str) -> Option<Correctness> {
        Correctness::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// How `run` came out; `None` for a run with no ground truth that did not fail (nothing to
    /// be right or wrong about).
    pub fn of(run: &RunRecord) -> Option<Correctness> {
        if run.status == RunStatus::Failed {
            return Some(Correctness::Failed);
        }
        match run.correct {
            Some(true) => Some(Correctness::Correct),
            // A run made here records the extracted answer beside its grade: without one, the
            // 0 was for no answer. An original's file may not say, so its 0 stands as wrong.
            Some(false) if run.extracted_answer.is_none() && !run.imported => {
                Some(Correctness::NoAnswer)
            }
            Some(false) => Some(Correctness::Wrong),
            None if run.ground_truth.is_some() => Some(Correctness::NoAnswer),
            None => None,
        }
    }
}

/// The models a run's config called (solver, verifier, judge; each once, in that order); none
/// for a run imported without its config.
pub fn models_of(run: &RunRecord) -> Vec<&str> {
    let mut models: Vec<&str> = Vec::with_capacity(3);
    if let Some(config) = &run.config {
        for model in [
            &config.solver.model,
            &config.verifier.model,
            &config.judge.model,
        ] {
            if !models.contains(&model.as_str()) {
                models.push(model);
            }
        }
    }
    models
}

/// What the table shows: the filters and the order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunsQuery {
    /// The column sorted by.
    pub sort: SortKey,
    /// Largest / latest / Z first.
    pub descending: bool,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// Only runs in this mode.
    pub mode: Option<Mode>,
    /// Only runs whose id, problem or config hash contains this text (case-insensitive).
    pub text: String,
    /// Only runs of this batch (its id).
    pub batch: Option<String>,
    /// Only runs that called this model (as solver, verifier or judge).
    pub model: Option<String>,
    /// Only runs that came out this way.
    pub correctness: Option<Correctness>,
}

impl Default for RunsQuery {
    /// Every run, newest first.
    fn default() -> Self {
        RunsQuery {
            sort: SortKey::Date,
            descending: true,
            status: None,
            mode: None,
            text: String::new(),
            batch: None,
            model: None,
            correctness: None,
        }
    }
}

impl RunsQuery {
    /// The query after a click on `key`'s heading: the same column flips its order, another
    /// column starts in its natural order.
    pub fn clicked(&self, key: SortKey) -> RunsQuery {
        let mut next = self.clone();
        if self.sort == key {
            next.descending = !self.descending;
        } else {
            next.sort = key;
            next.descending = key.descending_first();
        }
        next
    }

    /// The query as the page's address says it (`sort=cost&order=asc&correct=wrong`): each
    /// setting that is not the default, in a fixed order, so that one query has one address.
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        let default = RunsQuery::default();
        if self.sort != default.sort || self.descending != default.descending {
            params.push(("sort", self.sort.as_str().to_string()));
            let order = if self.descending { "desc" } else { "asc" };
            params.push(("order", order.to_string()));
        }
        if let Some(status) = self.status {
            params.push(("status", status.as_str().to_string()));
        }
        if let Some(mode) = self.mode {
            params.push(("mode", mode.as_str().to_string()));
        }
        if let Some(batch) = &self.batch {
            params.push(("batch", batch.clone()));
        }
        if let Some(model) = &self.model {
            params.push(("model", model.clone()));
        }
        if let Some(correctness) = self.correctness {
            params.push(("correct", correctness.as_str().to_string()));
        }
        if !self.text.is_empty() {
            params.push(("q", self.text.clone()));
        }
        params
    }

    /// The query an address says, reading each parameter with `get`; a parameter that is
    /// missing or names nothing known leaves that setting at its default (an old or edited
    /// link still opens the table).
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> RunsQuery {
        let default = RunsQuery::default();
        let sort = get("sort").as_deref().and_then(SortKey::named);
        let descending = match get("order").as_deref() {
            Some("asc") => false,
            Some("desc") => true,
            _ => sort.map_or(default.descending, SortKey::descending_first),
        };
        let nonempty = |name: &str| get(name).filter(|v| !v.is_empty());
        RunsQuery {
            sort: sort.unwrap_or(default.sort),
            descending,
            status: get("status").as_deref().and_then(RunStatus::named),
            mode: get("mode").as_deref().and_then(mode_named),
            text: get("q").unwrap_or_default(),
            batch: nonempty("batch"),
            model: nonempty("model"),
            correctness: get("correct").as_deref().and_then(Correctness::named),
        }
    }

    /// Whether `run` passes the filters.
    pub fn matches(&self, run: &RunRecord) -> bool {
        self.matches_needle(run, &self.text.trim().to_lowercase())
    }

    fn matches_needle(&self, run: &RunRecord, needle: &str) -> bool {
        if self.status.is_some_and(|s| s != run.status) {
            return false;
        }
        if self.mode.is_some_and(|m| m != run.mode) {
            return false;
        }
        if self
            .batch
            .as_ref()
            .is_some_and(|b| run.batch_id.as_ref() != Some(b))
        {
            return false;
        }
        if self
            .model
            .as_ref()
            .is_some_and(|m| !models_of(run).contains(&m.as_str()))
        {
            return false;
        }
        if self
            .correctness
            .is_some_and(|c| Correctness::of(run) != Some(c))
        {
            return false;
        }
        needle.is_empty()
            || [&run.run_id, &run.problem, &run.config_hash]
                .iter()
                .any(|hay| hay.to_lowercase().contains(needle))
    }

    /// The runs that pass the filters, in the query's order (ties broken by date, newest
    /// first, then by id, so the order is stable).
    pub fn apply<'a>(&self, runs: &'a [RunRecord]) -> Vec<&'a RunRecord> {
        self.apply_indices(runs)
            .into_iter()
            .map(|i| &runs[i])
            .collect()
    }

    /// Like [`RunsQuery::apply`], but the positions in `runs` of the runs shown, so that a
    /// page can keep them without cloning 10,000 records.
    pub fn apply_indices(&self, runs: &[RunRecord]) -> Vec<usize> {
        // Lowercased once, not once per run.
        let needle = self.text.trim().to_lowercase();
        let mut shown: Vec<usize> = (0..runs.len())
            .filter(|&i| self.matches_needle(&runs[i], &needle))
            .collect();
        sorting::sort_by(&mut shown, |&a, &b| {
            let (a, b) = (&runs[a], &runs[b]);
            let primary = compare(self.sort, a, b);
            let primary = if self.descending {
                primary.reverse()
            } else {
                primary
            };
            // Missing values go last whichever way the column is sorted.
            let missing = missing(self.sort, a).cmp(&missing(self.sort, b));
            missing
                .then(primary)
                .then_with(|| b.created_ms.total_cmp(&a.created_ms))
                .then_with(|| a.run_id.cmp(&b.run_id))
        });
        shown
    }
}

/// A query the store answers from its indexes, reading only the page shown: the date order,
/// filtered by status at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedOrder {
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// Newest first.
    pub newest_first: bool,
}

impl RunsQuery {
    /// How the store's indexes answer this query, if they can; any other sort or filter needs
    /// every run read.
    pub fn indexed_order(&self) -> Option<IndexedOrder> {
        let only_status = self.mode.is_none()
            && self.batch.is_none()
            && self.model.is_none()
            && self.correctness.is_none()
            && self.text.trim().is_empty();
        (self.sort == SortKey::Date && only_status).then_some(IndexedOrder {
            status: self.status,
            newest_first: self.descending,
        })
    }
}

/// Where each page visited so far starts, for paging by position rather than by offset: the
/// first page starts at the beginning, and each next page right after the last row of the one
/// before (`P` is that row's position).
#[derive(Debug, Clone, PartialEq)]
pub struct PageStarts<P> {
    starts: Vec<Option<P>>,
}

impl<P> Default for PageStarts<P> {
    fn default() -> Self {
        PageStarts { starts: vec![None] }
    }
}

impl<P: Clone> PageStarts<P> {
    /// The page shown, from 0.
    pub fn index(&self) -> usize {
        self.starts.len() - 1
    }

    /// Where the page shown starts: `None` for the first page.
    pub fn current(&self) -> Option<P> {
        self.starts.last().cloned().flatten()
    }

    /// Goes to the page after the one shown, whose last row is at `last`.
    pub fn next(&mut self, last: P) {
        self.starts.push(Some(last));
    }

    /// Goes back one page (staying on the first).
    pub fn previous(&mut self) {
        if self.starts.len() > 1 {
            self.starts.pop();
        }
    }
}

/// Whether `run` lacks the value of column `key` (such runs sort last).
fn missing(key: SortKey, run: &RunRecord) -> bool {
    match key {
        SortKey::JudgeScore => run.judge_score.is_none(),
        SortKey::Correct => run.correct.is_none(),
        SortKey::Cost => run.cost_usd.is_none(),
        SortKey::Stopped => run.stop_reason.is_none(),
        _ => false,
    }
}

fn compare(key: SortKey, a: &RunRecord, b: &RunRecord) -> Ordering {
    match key {
        SortKey::Date => a.created_ms.total_cmp(&b.created_ms),
        SortKey::Status => a.status.as_str().cmp(b.status.as_str()),
        SortKey::Stopped => (a.stop_reason.map(|r| r.as_str()), a.errors)
            .cmp(&(b.stop_reason.map(|r| r.as_str()), b.errors)),
        SortKey::Mode => a.mode.as_str().cmp(b.mode.as_str()),
        SortKey::ConfigHash => a.config_hash.cmp(&b.config_hash),
        SortKey::Problem => a.problem.to_lowercase().cmp(&b.problem.to_lowercase()),
        SortKey::Iterations => a.iterations.cmp(&b.iterations),
        SortKey::Passed => a.passed.cmp(&b.passed),
        SortKey::JudgeScore => cmp_opt(a.judge_score, b.judge_score),
        SortKey::Correct => a.correct.cmp(&b.correct),
        SortKey::Cost => cmp_opt(a.cost_usd, b.cost_usd),
    }
}

fn cmp_opt(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        _ => Ordering::Equal,
    }
}

/// How many runs one page of the table draws: drawing every row of 10,000 runs took seconds of
/// style and layout work, while sorting and filtering all of them in memory stays cheap.
pub const PAGE_SIZE: usize = 100;

/// One page of a list of `total` items, `size` per page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The page shown, from 0, already clamped to the last page.
    pub index: usize,
    /// How many pages there are (at least 1, even for an empty list).
    pub count: usize,
    /// The first item on the page (0-based, inclusive).
    pub start: usize,
    /// One past the last item on the page.
    pub end: usize,
    /// How many items in all.
    pub total: usize,
}

impl Page {
    /// Page `index` of `total` items, `size` per page; an index past the end shows the last
    /// page, so deleting or filtering never leaves an empty page behind. A `size` of 0 is
    /// taken as 1.
    pub fn of(total: usize, size: usize, index: usize) -> Page {
        let size = size.max(1);
        let count = total.div_ceil(size).max(1);
        let index = index.min(count - 1);
        let start = (index * size).min(total);
        let end = (start + size).min(total);
        Page {
            index,
            count,
            start,
            end,
            total,
        }
    }

    /// Whether a page comes before this one.
    pub fn has_previous(&self) -> bool {
        self.index > 0
    }

    /// Whether a page comes after this one.
    pub fn has_next(&self) -> bool {
        self.index + 1 < self.count
    }

    /// `Showing 1–100 of 100+ runs`: the label while the runs are not counted yet.
    pub fn label_so_far(&self) -> String {
        format!(
            "Showing {}–{} of {}+ runs",
            count(self.start as u64 + 1),
            count(self.end as u64),
            count(self.total as u64)
        )
    }

    /// `Showing 101–200 of 10,000 runs` (1-based, inclusive, digits grouped by thousands).
    pub fn label(&self) -> String {
        if self.total == 0 {
            return "No runs to show".to_string();
        }
        format!(
            "Showing {}–{} of {} run{}",
            count(self.start as u64 + 1),
            count(self.end as u64),
            count(self.total as u64),
            plural(self.total)
        )
    }
}

/// The mode named `name` (`debate` / `baseline`), if any.
pub fn mode_named(name: &str) -> Option<Mode> {
    [Mode::Debate, Mode::Baseline]
        .into_iter()
        .find(|m| m.as_str() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::llm::Usage;

    fn run(id: &str, created_ms: f64) -> RunRecord {
        RunRecord {
            run_id: id.to_string(),
            status: RunStatus::Completed,
            message: None,
            mode: Mode::Debate,
            config_hash: "0badf00d".to_string(),
            config: None,
            problem: format!("problem of {id}"),
            ground_truth: None,
            created_ms,
            updated_ms: created_ms,
            batch_id: None,
            iterations: 1,
            passed: true,
            judge_score: None,
            correct: None,
            usage: Usage::default(),
            cost_usd: None,
            cost_complete: true,
            step_count: 3,
            errors: 0,
            stop_reason: None,
            extracted_answer: None,
            judged: false,
            possibly_billed_usd: 0.0,
            imported: false,
            derived_from: None,
        }
    }

    fn ids(runs: &[&RunRecord]) -> Vec<String> {
        runs.iter().map(|r| r.run_id.clone()).collect()
    }

    #[test]
    fn the_default_is_every_run_newest_first() {
        let runs = [run("a", 1.0), run("b", 3.0), run("c", 2.0)];
        assert_eq!(ids(&RunsQuery::default().apply(&runs)), ["b", "c", "a"]);
    }

    #[test]
    fn unknown_costs_and_scores_sort_last_in_both_directions() {
        let mut a = run("a", 1.0);
        a.cost_usd = Some(0.5);
        let b = run("b", 2.0);
        let mut c = run("c", 3.0);
        c.cost_usd = Some(0.1);
        let runs = [a, b, c];
        let by_cost = RunsQuery::default().clicked(SortKey::Cost);
        assert!(
            by_cost.descending,
            "a first click on cost shows the dearest first"
        );
        assert_eq!(ids(&by_cost.apply(&runs)), ["a", "c", "b"]);
        let cheapest_first = by_cost.clicked(SortKey::Cost);
        assert!(!cheapest_first.descending);
        assert_eq!(ids(&cheapest_first.apply(&runs)), ["c", "a", "b"]);
    }

    #[test]
    fn runs_sort_by_why_they_stopped_with_those_still_going_last() {
        use crate::core::trajectory::StopReason;
        let mut a = run("a", 1.0);
        a.stop_reason = Some(StopReason::Passed);
        let b = run("b", 2.0);
        let mut c = run("c", 3.0);
        c.stop_reason = Some(StopReason::Error);
        c.errors = 2;
        let runs = [a, b, c];
        let q = RunsQuery::default().clicked(SortKey::Stopped);
        assert_eq!(ids(&q.apply(&runs)), ["c", "a", "b"]);
    }

    #[test]
    fn text_columns_start_a_to_z() {
        let mut a = run("a", 1.0);
        a.status = RunStatus::Interrupted;
        let mut b = run("b", 2.0);
        b.status = RunStatus::Cancelled;
        let runs = [a, b];
        let q = RunsQuery::default().clicked(SortKey::Status);
        assert!(!q.descending);
        assert_eq!(ids(&q.apply(&runs)), ["b", "a"]);
    }

    #[test]
    fn filters_combine_status_mode_and_case_insensitive_text() {
        let mut a = run("run_a", 1.0);
        a.problem = "Find the LARGEST prime".to_string();
        let mut b = run("run_b", 2.0);
        b.mode = Mode::Baseline;
        b.problem = "largest root".to_string();
        let mut c = run("run_c", 3.0);
        c.status = RunStatus::Failed;
        c.problem = "largest factor".to_string();
        let runs = [a, b, c];
        let q = RunsQuery {
            text: "  largest ".to_string(),
            ..RunsQuery::default()
        };
        assert_eq!(ids(&q.apply(&runs)), ["run_c", "run_b", "run_a"]);
        let q = RunsQuery {
            mode: Some(Mode::Debate),
            status: Some(RunStatus::Completed),
            ..q
        };
        assert_eq!(ids(&q.apply(&runs)), ["run_a"]);
        let q = RunsQuery {
            text: "0BADF00D".to_string(),
            ..RunsQuery::default()
        };
        assert_eq!(q.apply(&runs).len(), 3, "the config hash is searched too");
    }

    #[test]
    fn indices_point_at_the_same_runs_as_apply() {
        let runs = [run("a", 1.0), run("b", 3.0), run("c", 2.0)];
        assert_eq!(RunsQuery::default().apply_indices(&runs), [1, 2, 0]);
        let q = RunsQuery {
            text: "OF B".to_string(),
            ..RunsQuery::default()
        };
        assert_eq!(q.apply_indices(&runs), [1]);
    }

    #[test]
    fn pages_split_ten_thousand_runs_into_hundreds() {
        let first = Page::of(10_000, PAGE_SIZE, 0);
        assert_eq!((first.start, first.end, first.count), (0, 100, 100));
        assert!(!first.has_previous() && first.has_next());
        assert_eq!(first.label(), "Showing 1–100 of 10,000 runs");
        let second = Page::of(10_000, PAGE_SIZE, 1);
        assert_eq!(second.label(), "Showing 101–200 of 10,000 runs");
        let last = Page::of(10_000, PAGE_SIZE, 99);
        assert_eq!((last.start, last.end), (9_900, 10_000));
        assert!(last.has_previous() && !last.has_next());
    }

    #[test]
    fn a_page_past_the_end_is_the_last_page_and_empty_lists_have_one() {
        // 250 runs: pages of 100, 100 and 50.
        let p = Page::of(250, 100, 7);
        assert_eq!((p.index, p.count, p.start, p.end), (2, 3, 200, 250));
        assert_eq!(p.label(), "Showing 201–250 of 250 runs");
        let empty = Page::of(0, 100, 3);
        assert_eq!(
            (empty.index, empty.count, empty.start, empty.end),
            (0, 1, 0, 0)
        );
        assert!(!empty.has_previous() && !empty.has_next());
        assert_eq!(empty.label(), "No runs to show");
        assert_eq!(Page::of(1, 100, 0).label(), "Showing 1–1 of 1 run");
        assert_eq!(
            Page::of(1_000, 100, 0).label_so_far(),
            "Showing 1–100 of 1,000+ runs"
        );
        assert_eq!(Page::of(5, 0, 1).end, 2, "a size of 0 is taken as 1");
    }

    #[test]
    fn names_map_back_to_statuses_and_modes() {
        assert_eq!(
            RunStatus::named("budget_exceeded"),
            Some(RunStatus::BudgetExceeded)
        );
        assert_eq!(RunStatus::named("done"), None);
        for status in RunStatus::ALL {
            assert_eq!(RunStatus::named(status.as_str()), Some(status));
        }
        assert_eq!(mode_named("baseline"), Some(Mode::Baseline));
        assert_eq!(mode_named(""), None);
    }

    /// A config whose solver and judge call `model` and whose verifier calls `checker`.
    fn config_calling(model: &str, checker: &str) -> crate::core::config::PipelineConfig {
        let mut config = crate::core::config::PipelineConfig::default();
        config.solver.model = model.to_string();
        config.verifier.model = checker.to_string();
        config.judge.model = model.to_string();
        config
    }

    #[test]
    fn runs_filter_by_batch_model_and_how_they_came_out() {
        let mut right = run("right", 1.0);
        right.batch_id = Some("batch_a".into());
        right.ground_truth = Some("4".into());
        right.correct = Some(true);
        right.extracted_answer = Some("4".into());
        right.config = Some(config_calling("openai/gpt-4o-mini", "anthropic/claude-x"));
        let mut wrong = run("wrong", 2.0);
        wrong.batch_id = Some("batch_b".into());
        wrong.ground_truth = Some("4".into());
        wrong.correct = Some(false);
        wrong.extracted_answer = Some("5".into());
        wrong.config = Some(config_calling("local/smollm2", "local/smollm2"));
        let mut unanswered = run("unanswered", 3.0);
        unanswered.ground_truth = Some("4".into());
        unanswered.correct = Some(false);
        let mut cut_off = run("cut_off", 4.0);
        cut_off.status = RunStatus::Cancelled;
        cut_off.ground_truth = Some("4".into());
        let mut failed = run("failed", 5.0);
        failed.status = RunStatus::Failed;
        failed.ground_truth = Some("4".into());
        let mut original = run("original", 6.0);
        original.imported = true;
        original.correct = Some(false);
        let ungraded = run("ungraded", 7.0);
        let runs = [
            right, wrong, unanswered, cut_off, failed, original, ungraded,
        ];

        let only = |q: RunsQuery| {
            let mut shown = ids(&q.apply(&runs));
            shown.sort();
            shown
        };
        let with = |c| RunsQuery {
            correctness: Some(c),
            ..RunsQuery::default()
        };
        assert_eq!(only(with(Correctness::Correct)), ["right"]);
        assert_eq!(only(with(Correctness::Wrong)), ["original", "wrong"]);
        assert_eq!(only(with(Correctness::NoAnswer)), ["cut_off", "unanswered"]);
        assert_eq!(only(with(Correctness::Failed)), ["failed"]);
        assert_eq!(Correctness::of(&runs[6]), None);

        let batch = RunsQuery {
            batch: Some("batch_b".into()),
            ..RunsQuery::default()
        };
        assert_eq!(only(batch), ["wrong"]);
        // A model matches whichever agent called it; runs without a config call none.
        let verifier_model = RunsQuery {
            model: Some("anthropic/claude-x".into()),
            ..RunsQuery::default()
        };
        assert_eq!(only(verifier_model), ["right"]);
        assert_eq!(models_of(&runs[1]), ["local/smollm2"]);
        assert!(models_of(&runs[2]).is_empty());
        let combined = RunsQuery {
            model: Some("local/smollm2".into()),
            correctness: Some(Correctness::Correct),
            ..RunsQuery::default()
        };
        assert!(only(combined).is_empty());
    }

    fn from_pairs(pairs: &[(&str, &str)]) -> RunsQuery {
        RunsQuery::from_params(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn a_query_is_written_to_the_address_and_read_back_the_same() {
        assert!(RunsQuery::default().to_params().is_empty());
        assert_eq!(from_pairs(&[]), RunsQuery::default());
        let query = RunsQuery {
            sort: SortKey::Cost,
            descending: false,
            status: Some(RunStatus::Completed),
            mode: Some(Mode::Baseline),
            text: "2 + 2".into(),
            batch: Some("batch_20261207_0badf00d".into()),
            model: Some("openai/gpt-4o-mini".into()),
            correctness: Some(Correctness::NoAnswer),
        };
        let params = query.to_params();
        assert_eq!(
            params,
            [
                ("sort", "cost".to_string()),
                ("order", "asc".to_string()),
                ("status", "completed".to_string()),
                ("mode", "baseline".to_string()),
                ("batch", "batch_20261207_0badf00d".to_string()),
                ("model", "openai/gpt-4o-mini".to_string()),
                ("correct", "no_answer".to_string()),
                ("q", "2 + 2".to_string()),
            ]
        );
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(from_pairs(&pairs), query);
        for key in SortKey::ALL {
            for descending in [false, true] {
                let q = RunsQuery {
                    sort: key,
                    descending,
                    ..RunsQuery::default()
                };
                let params = q.to_params();
                let pairs: Vec<(&str, &str)> =
                    params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                assert_eq!(from_pairs(&pairs), q, "{key:?}");
            }
        }
    }

    #[test]
    fn an_address_with_unknown_values_opens_the_table_with_defaults_for_them() {
        let q = from_pairs(&[
            ("sort", "colour"),
            ("order", "sideways"),
            ("status", "done"),
            ("correct", "maybe"),
            ("batch", ""),
        ]);
        assert_eq!(q, RunsQuery::default());
        // A sort without an order starts in the column's natural order.
        assert_eq!(
            from_pairs(&[("sort", "problem")]),
            RunsQuery::default().clicked(SortKey::Problem)
        );
    }

    #[test]
    fn the_date_order_with_at_most_a_status_filter_is_answered_from_indexes() {
        let default = RunsQuery::default();
        assert_eq!(
            default.indexed_order(),
            Some(IndexedOrder {
                status: None,
                newest_first: true
            })
        );
        let oldest_failed = RunsQuery {
            status: Some(RunStatus::Failed),
            ..default.clicked(SortKey::Date)
        };
        assert_eq!(
            oldest_failed.indexed_order(),
            Some(IndexedOrder {
                status: Some(RunStatus::Failed),
                newest_first: false
            })
        );
        // Blank search text filters nothing.
        let blank = RunsQuery {
            text: "  ".to_string(),
            ..RunsQuery::default()
        };
        assert!(blank.indexed_order().is_some());
        let needs_every_run = [
            default.clicked(SortKey::Cost),
            RunsQuery {
                mode: Some(Mode::Baseline),
                ..RunsQuery::default()
            },
            RunsQuery {
                text: "alpha".to_string(),
                ..RunsQuery::default()
            },
            RunsQuery {
                batch: Some("batch_1".to_string()),
                ..RunsQuery::default()
            },
            RunsQuery {
                model: Some("gpt-4o".to_string()),
                ..RunsQuery::default()
            },
            RunsQuery {
                correctness: Some(Correctness::Wrong),
                ..RunsQuery::default()
            },
        ];
        for q in needs_every_run {
            assert_eq!(q.indexed_order(), None, "{q:?}");
        }
    }

    #[test]
    fn pages_start_after_the_last_row_of_the_page_before_and_go_back_the_same_way() {
        let mut starts = PageStarts::<u32>::default();
        assert_eq!((starts.index(), starts.current()), (0, None));
        starts.previous();
        assert_eq!((starts.index(), starts.current()), (0, None));
        starts.next(100);
        starts.next(200);
        assert_eq!((starts.index(), starts.current()), (2, Some(200)));
        starts.previous();
        assert_eq!((starts.index(), starts.current()), (1, Some(100)));
        starts.previous();
        assert_eq!((starts.index(), starts.current()), (0, None));
    }
}

//! What the Costs page and a run's page show about spending, computed from stored data:
//!
//! - [`CostOverview`]: totals, spend over time, spend by config hash and the cost per correct
//!   answer, from run records alone, so that it stays cheap with 10,000 runs;
//! - [`StepCost`]: the cost facts of one step (a step without its text), from which the splits
//!   by agent and by model ([`split_by_agent_and_model`]) and re-pricing
//!   ([`reprice_by_model`]) are computed without keeping whole steps in memory;
//! - [`costs_by_round`] and [`AttemptTax`]: one run's cost by round and agent, and what its
//!   re-asks and retries cost beside the first tries;
//! - [`BudgetStatus`]: where a run stands against its `run_budget_usd`.
//!
//! A cost that is not known is counted as unknown, never as 0.

use std::collections::BTreeMap;

use crate::core::budget::{Budget, BudgetLevel};
use crate::core::clock::iso8601_utc;
use crate::core::cost::{billed_at, request_cost, AttemptCost, CallRecord, CostTracker, UsdSum};
use crate::core::llm::{AttemptKind, SentVia, Usage};
use crate::core::pricing::{Price, PriceSource, Pricer};
use crate::core::role::AgentRole;
use crate::core::sorting;
use crate::core::stream_speed::StepSpeed;
use crate::core::trajectory::{RunRecord, TrajectoryEntry};

/// How much of a run's stored cost is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostState {
    /// Every call was priced and reported its usage (or nothing was spent): the cost is exact.
    Exact,
    /// Some calls have no known price or reported no usage: the cost is a lower bound.
    AtLeast,
    /// No call has a known cost although tokens were used (or usage is missing): unknown.
    Unknown,
}

impl CostState {
    /// The state of a run's stored cost.
    ///
    /// A run without any cost and without tokens spent nothing (it stopped before its first
    /// call), unless some request reported no usage: then what it spent is unknown.
    pub fn of(record: &RunRecord) -> Self {
        match record.cost_usd {
            Some(_) if record.cost_complete => CostState::Exact,
            Some(_) => CostState::AtLeast,
            None if record.usage.total_tokens == 0 && record.cost_complete => CostState::Exact,
            None => CostState::Unknown,
        }
    }
}

/// When a run happened, in epoch milliseconds (UTC), for charts over time.
///
/// Runs imported from JSONL are stored with the import time as `created_ms` and without a
/// config; their id (`run_YYYYMMDD_HHMMSS_hash`, UTC, as the original named runs) says when
/// they ran, so for them the id's time is used when it parses.
pub fn run_time_ms(record: &RunRecord) -> f64 {
    if record.config.is_none() {
        if let Some(ms) = time_of_run_id(&record.run_id) {
            return ms;
        }
    }
    record.created_ms
}

/// The time in a run id of the form `run_YYYYMMDD_HHMMSS_…` (UTC), in epoch milliseconds.
pub fn time_of_run_id(run_id: &str) -> Option<f64> {
    let mut parts = run_id.split('_');
    if parts.next()? != "run" {
        return None;
    }
    let (date, time) = (parts.next()?, parts.next()?);
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(date, 8) || !digits(time, 6) {
        return None;
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let (y, m, d) = (num(&date[..4])?, num(&date[4..6])?, num(&date[6..])?);
    let (h, mi, s) = (num(&time[..2])?, num(&time[2..4])?, num(&time[4..])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let secs = days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + s;
    Some(secs as f64 * 1000.0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date: eras of 400 years (146,097 days),
/// years counted from March so the leap day falls at the end.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (m + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `YYYY-MM-DD` (UTC) of epoch milliseconds.
pub fn day_of(epoch_ms: f64) -> String {
    iso8601_utc(epoch_ms).chars().take(10).collect()
}

/// Runs, tokens and spend of a group of runs, from their records.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunsSpend {
    /// How many runs.
    pub runs: u64,
    /// Their committed steps.
    pub steps: u64,
    /// Runs whose cost is exact.
    pub exact_runs: u64,
    /// Runs whose cost is a lower bound (some calls unpriced or without usage).
    pub partial_runs: u64,
    /// Runs whose cost is unknown: not in `usd`, never counted as 0.
    pub unknown_runs: u64,
    /// Tokens by kind (input includes cached, output includes reasoning).
    pub usage: Usage,
    usd: UsdSum,
    possibly_billed: UsdSum,
}

impl RunsSpend {
    /// Adds one run.
    pub fn add(&mut self, record: &RunRecord) {
        self.runs += 1;
        self.steps += record.step_count;
        self.usage.add(&record.usage);
        match CostState::of(record) {
            CostState::Exact => self.exact_runs += 1,
            CostState::AtLeast => self.partial_runs += 1,
            CostState::Unknown => self.unknown_runs += 1,
        }
        if let Some(cost) = record.cost_usd.filter(|c| c.is_finite()) {
            self.usd.add(cost);
        }
        if record.possibly_billed_usd.is_finite() && record.possibly_billed_usd > 0.0 {
            self.possibly_billed.add(record.possibly_billed_usd);
        }
    }

    /// The worst case of the runs' requests that got no reply (not in [`RunsSpend::usd`]):
    /// what may still be billed.
    pub fn possibly_billed_usd(&self) -> f64 {
        self.possibly_billed.value()
    }

    /// The known spend in USD (a lower bound unless [`RunsSpend::is_exact`]).
    pub fn usd(&self) -> f64 {
        self.usd.value()
    }

    /// True when every run's cost is exact, so [`RunsSpend::usd`] is the whole spend.
    pub fn is_exact(&self) -> bool {
        self.partial_runs == 0 && self.unknown_runs == 0
    }
}

/// Spend of the runs of one config.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigSpend {
    /// The config's 8-hex-digit hash.
    pub config_hash: String,
    /// Runs, tokens and spend.
    pub spend: RunsSpend,
    /// Runs with a verdict on their answer (a ground truth was given and the judge ran).
    pub graded_runs: u64,
    /// Of those, the correct ones.
    pub correct_runs: u64,
}

/// What a correct answer cost: the spend of the graded runs over the correct ones.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CostPerCorrect {
    /// Runs with a verdict on their answer, and what they spent.
    pub graded: RunsSpend,
    /// Of those, the correct ones.
    pub correct_runs: u64,
}

impl CostPerCorrect {
    /// USD per correct answer; `None` without a correct answer, or when no graded run has a
    /// known cost. A lower bound unless `graded.is_exact()`.
    pub fn usd_per_correct(&self) -> Option<f64> {
        let known = self.graded.runs > self.graded.unknown_runs;
        (self.correct_runs > 0 && known).then(|| self.graded.usd() / self.correct_runs as f64)
    }
}

/// One point of the spend-over-time line: the spend of every run up to and including this
/// one (or this day).
#[derive(Debug, Clone, PartialEq)]
pub struct SpendPoint {
    /// When, in epoch milliseconds (the run's time, the last run's of the day, or noon UTC of
    /// a day from the roll-ups).
    pub time_ms: f64,
    /// Known spend so far, in USD.
    pub cumulative_usd: f64,
    /// The run id, or the day (`YYYY-MM-DD`) when points are days.
    pub label: String,
    /// What is not in `cumulative_usd` so far: runs of unknown cost, or, in a line from the
    /// roll-ups, steps at an unknown price ([`SpendLine::unknown_are_steps`]).
    pub unknown: u64,
}

/// The spend-over-time line, oldest point first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendLine {
    /// The points.
    pub points: Vec<SpendPoint>,
    /// One point per day rather than per run.
    pub points_are_days: bool,
    /// The points' `unknown` counts steps at an unknown price (a line summed from the cost
    /// roll-ups, which know steps, not runs), rather than runs of unknown cost.
    pub unknown_are_steps: bool,
}

/// Every `n`-th of more than `max_points` day points, always keeping the last, so that a line
/// over years still draws in a few hundred points.
pub fn thin_days(days: Vec<SpendPoint>, max_points: usize) -> Vec<SpendPoint> {
    if days.len() <= max_points || max_points == 0 {
        return days;
    }
    let step = days.len().div_ceil(max_points);
    let last = days.len() - 1;
    days.into_iter()
        .enumerate()
        .filter(|(i, _)| i % step == last % step)
        .map(|(_, p)| p)
        .collect()
}

/// Everything the Costs page shows that run records alone can tell.
#[derive(Debug, Clone, PartialEq)]
pub struct CostOverview {
    /// Every run.
    pub total: RunsSpend,
    /// By config hash, most expensive first (ties by hash).
    pub by_config: Vec<ConfigSpend>,
    /// Cost per correct answer over the runs with a verdict.
    pub per_correct: CostPerCorrect,
    /// Cumulative spend over time.
    pub over_time: SpendLine,
    /// Runs whose cost is unknown, newest first.
    pub unknown_run_ids: Vec<String>,
}

impl CostOverview {
    /// The overview of `records`. The spend line gets one point per run, or one per UTC day
    /// when there are more than `max_points` runs (and then every n-th day if there are more
    /// than `max_points` days, always keeping the last).
    pub fn of(records: &[RunRecord], max_points: usize) -> Self {
        let mut total = RunsSpend::default();
        let mut per_correct = CostPerCorrect::default();
        let mut configs: BTreeMap<&str, ConfigSpend> = BTreeMap::new();
        for record in records {
            total.add(record);
            let config = configs
                .entry(record.config_hash.as_str())
                .or_insert_with(|| ConfigSpend {
                    config_hash: record.config_hash.clone(),
                    spend: RunsSpend::default(),
                    graded_runs: 0,
                    correct_runs: 0,
                });
            config.spend.add(record);
            if let Some(correct) = record.correct {
                per_correct.graded.add(record);
                config.graded_runs += 1;
                if correct {
                    per_correct.correct_runs += 1;
                    config.correct_runs += 1;
                }
            }
        }
        let mut by_config: Vec<ConfigSpend> = configs.into_values().collect();
        sorting::sort_by(&mut by_config, |a, b| {
            b.spend
                .usd()
                .total_cmp(&a.spend.usd())
                .then_with(|| a.config_hash.cmp(&b.config_hash))
        });

        let mut timed: Vec<(f64, &RunRecord)> =
            records.iter().map(|r| (run_time_ms(r), r)).collect();
        sorting::sort_by(&mut timed, |a, b| {
            a.0.total_cmp(&b.0)
                .then_with(|| a.1.run_id.cmp(&b.1.run_id))
        });
        let unknown_run_ids = timed
            .iter()
            .rev()
            .filter(|(_, r)| CostState::of(r) == CostState::Unknown)
            .map(|(_, r)| r.run_id.clone())
            .collect();
        let over_time = spend_line(&timed, max_points);
        CostOverview {
            total,
            by_config,
            per_correct,
            over_time,
            unknown_run_ids,
        }
    }
}

/// The cumulative line over runs sorted by time; days instead of runs past `max_points`.
fn spend_line(timed: &[(f64, &RunRecord)], max_points: usize) -> SpendLine {
    let mut sum = UsdSum::default();
    let mut unknown = 0;
    let mut per_run = Vec::with_capacity(timed.len().min(max_points.saturating_add(1)));
    let mut per_day: Vec<SpendPoint> = Vec::new();
    let by_day = timed.len() > max_points;
    for (time_ms, record) in timed {
        if let Some(cost) = record.cost_usd.filter(|c| c.is_finite()) {
            sum.add(cost);
        }
        if CostState::of(record) == CostState::Unknown {
            unknown += 1;
        }
        let point = |label: String| SpendPoint {
            time_ms: *time_ms,
            cumulative_usd: sum.value(),
            label,
            unknown,
        };
        if !by_day {
            per_run.push(point(record.run_id.clone()));
            continue;
        }
        let day = day_of(*time_ms);
        match per_day.last_mut() {
            Some(last) if last.label == day => *last = point(day),
            _ => per_day.push(point(day)),
        }
    }
    if !by_day {
        return SpendLine {
            points: per_run,
            ..SpendLine::default()
        };
    }
    SpendLine {
        points: thin_days(per_day, max_points),
        points_are_days: true,
        unknown_are_steps: false,
    }
}

/// The cost facts of one stored step: who, which model, what it used and cost, and the
/// usage of each request when the step recorded them (re-pricing bills tiers per request).
#[derive(Debug, Clone, PartialEq)]
pub struct StepCost {
    /// The step within its run.
    pub step_id: u64,
    /// `solver`, `verifier` or `judge`.
    pub agent: String,
    /// The configured model string, when the step recorded one.
    pub model: Option<String>,
    /// The provider id that served the call (`""` when not recorded).
    pub provider: String,
    /// The solver/verifier round (absent on judge steps).
    pub iteration: Option<u32>,
    /// Tokens used, all requests included.
    pub usage: Option<Usage>,
    /// The cost stored with the step (`metadata.cost_usd`).
    pub cost_usd: Option<f64>,
    /// False when some request reported no usage.
    pub usage_complete: bool,
    /// The usage of each request and how it was sent, kept only when they add up to `usage`.
    pub requests: Vec<(Usage, SentVia)>,
    /// How `usage` is billed when `requests` is empty: through a provider batch only when
    /// every request went through one (as [`crate::core::cost::call_cost`] decides).
    pub sent_via: SentVia,
    /// When the step was billed (its timestamp), for time-of-day prices.
    pub billed_at: Option<f64>,
    /// How fast the reply streamed, when it did (the Costs page's speed table).
    pub speed: Option<StepSpeed>,
    /// Whether its reply was reused from another run's, or carried from one by a fork (it cost
    /// $0 here, whatever the prices).
    pub reused: bool,
}

/// What the Costs page calls a step without a recorded model.
pub const UNKNOWN_MODEL: &str = "unknown";

impl StepCost {
    /// The cost facts of `entry`.
    pub fn of(entry: &TrajectoryEntry) -> Self {
        let usage = entry.usage();
        let attempts = entry.metadata.attempts.as_deref().unwrap_or_default();
        let requests: Vec<(Usage, SentVia)> = attempts
            .iter()
            .filter_map(|a| Some((a.usage?, a.sent_via)))
            .collect();
        let adds_up = !requests.is_empty() && Some(requests.iter().map(|(u, _)| *u).sum()) == usage;
        let all_batched = !attempts.is_empty()
            && attempts
                .iter()
                .all(|a| a.sent_via == SentVia::ProviderBatch);
        StepCost {
            step_id: entry.step_id,
            agent: entry.agent.clone(),
            model: entry.metadata.model.clone(),
            provider: entry.metadata.provider().unwrap_or_default().to_string(),
            iteration: entry.iteration(),
            usage,
            cost_usd: entry.spent_usd(),
            usage_complete: entry.usage_complete(),
            requests: if adds_up { requests } else { Vec::new() },
            sent_via: if all_batched {
                SentVia::ProviderBatch
            } else {
                SentVia::Live
            },
            billed_at: billed_at(entry),
            speed: StepSpeed::of(entry),
            reused: entry.metadata.reused_from.is_some() || entry.is_carried(),
        }
    }

    /// The model string, or [`UNKNOWN_MODEL`].
    pub fn model_name(&self) -> &str {
        self.model.as_deref().unwrap_or(UNKNOWN_MODEL)
    }

    /// The step as the cost tracker counts it (its stored cost).
    pub fn call_record(&self) -> CallRecord {
        CallRecord {
            agent: self.agent.clone(),
            model: self.model_name().to_string(),
            usage: self.usage.unwrap_or_default(),
            cost_usd: self.cost_usd,
            usage_complete: self.usage_complete,
        }
    }

    /// The price of the step's model under `pricer` (unknown without a model).
    pub fn price(&self, pricer: &Pricer) -> Price {
        match &self.model {
            Some(model) => pricer.price_of(&self.provider, model),
            None => Price::Unknown,
        }
    }

    /// The step's cost under `pricer`, priced as [`crate::core::cost::reprice`] does: each
    /// request on its own, at the rates of the route it took, when their usages add up to the
    /// step's, else the step's usage.
    /// `None` when the price or the usage is unknown. A reused reply stays $0: another run
    /// paid for it.
    pub fn reprice(&self, pricer: &Pricer) -> Option<f64> {
        if self.reused {
            return Some(0.0);
        }
        self.value(pricer)
    }

    /// What the step's calls cost under `pricer` had they been paid: for a reused step, what
    /// reusing saved.
    pub fn value(&self, pricer: &Pricer) -> Option<f64> {
        let usage = self.usage?;
        let price = self.price(pricer);
        if self.requests.is_empty() {
            return request_cost(&usage, &price, self.billed_at, self.sent_via);
        }
        let costs: Option<Vec<f64>> = self
            .requests
            .iter()
            .map(|(u, via)| request_cost(u, &price, self.billed_at, *via))
            .collect();
        costs.map(|c| UsdSum::of(c).value())
    }

    fn used_tokens(&self) -> bool {
        self.usage.is_some_and(|u| u.total_tokens > 0)
    }
}

/// Totals by agent and by model of stored steps (their stored costs).
pub fn split_by_agent_and_model<'a>(steps: impl IntoIterator<Item = &'a StepCost>) -> CostTracker {
    let mut tracker = CostTracker::new();
    for step in steps {
        tracker.record(&step.call_record());
    }
    tracker
}

/// One side of a re-pricing: the known cost and the steps without one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PricedSum {
    usd: UsdSum,
    /// Steps that used tokens but have no cost on this side (not in the sum).
    pub unpriced_steps: u64,
}

impl PricedSum {
    fn add(&mut self, cost: Option<f64>, used_tokens: bool) {
        match cost {
            Some(c) => self.usd.add(c),
            None if used_tokens => self.unpriced_steps += 1,
            None => {}
        }
    }

    /// The known cost in USD.
    pub fn usd(&self) -> f64 {
        self.usd.value()
    }

    /// Adds a known cost.
    pub fn add_known(&mut self, usd: f64) {
        self.usd.add(usd);
    }
}

/// Spend split by where the replies came from: paid by the runs themselves, or reused from
/// another run's at $0.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReuseSplit {
    /// Steps whose reply their run paid for.
    pub paid_steps: u64,
    /// What they cost, as stored.
    pub paid: PricedSum,
    /// Steps whose reply was reused.
    pub reused_steps: u64,
    /// What the reused replies would have cost under today's prices: what reuse saved.
    pub reused_value: PricedSum,
}

impl ReuseSplit {
    /// The split of `steps`, the reused ones valued with `pricer`.
    pub fn of<'a>(steps: impl IntoIterator<Item = &'a StepCost>, pricer: &Pricer) -> Self {
        let mut split = ReuseSplit::default();
        for step in steps {
            let used = step.used_tokens();
            if step.reused {
                split.reused_steps += 1;
                split.reused_value.add(step.value(pricer), used);
            } else {
                split.paid_steps += 1;
                split.paid.add(step.cost_usd, used);
            }
        }
        split
    }
}

/// One model's steps, as stored and re-priced.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRepricing {
    /// The model string as configured ([`UNKNOWN_MODEL`] when not recorded).
    pub model: String,
    /// Its steps.
    pub steps: u64,
    /// Their tokens.
    pub usage: Usage,
    /// The stored costs.
    pub stored: PricedSum,
    /// The costs under the new prices.
    pub repriced: PricedSum,
    /// Where the new price came from (the first step's, `None` when unknown).
    pub source: Option<PriceSource>,
}

/// Stored steps priced again, by model and in total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepricingOverview {
    /// By model string, in name order.
    pub by_model: Vec<ModelRepricing>,
    /// Every step as stored.
    pub stored: PricedSum,
    /// Every step under the new prices.
    pub repriced: PricedSum,
    /// Steps whose cost differs (by more than a millionth of a cent, or known on one side only).
    pub changed_steps: u64,
}

/// Re-prices stored steps under `pricer`, by model. Nothing stored is changed.
pub fn reprice_by_model<'a>(
    steps: impl IntoIterator<Item = &'a StepCost>,
    pricer: &Pricer,
) -> RepricingOverview {
    let mut overview = RepricingOverview::default();
    let mut models: BTreeMap<&str, ModelRepricing> = BTreeMap::new();
    for step in steps {
        let new = step.reprice(pricer);
        let used = step.used_tokens();
        let row = models
            .entry(step.model_name())
            .or_insert_with(|| ModelRepricing {
                model: step.model_name().to_string(),
                steps: 0,
                usage: Usage::default(),
                stored: PricedSum::default(),
                repriced: PricedSum::default(),
                source: step.price(pricer).source().cloned(),
            });
        row.steps += 1;
        if let Some(u) = step.usage {
            row.usage.add(&u);
        }
        row.stored.add(step.cost_usd, used);
        row.repriced.add(new, used);
        overview.stored.add(step.cost_usd, used);
        overview.repriced.add(new, used);
        let changed = match (step.cost_usd, new) {
            (Some(a), Some(b)) => (a - b).abs() > 1e-8,
            (None, None) => false,
            _ => used,
        };
        if changed {
            overview.changed_steps += 1;
        }
    }
    overview.by_model = models.into_values().collect();
    overview
}

/// One agent's part of a round.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentShare {
    /// `solver`, `verifier`, `judge` (or another name found in the file).
    pub agent: String,
    /// Steps.
    pub steps: u64,
    /// Steps that used tokens without a stored cost (not in the sum).
    pub unpriced_steps: u64,
    /// Tokens.
    pub usage: Usage,
    usd: UsdSum,
}

impl AgentShare {
    /// The stored cost of the priced steps, in USD.
    pub fn usd(&self) -> f64 {
        self.usd.value()
    }
}

/// One bar of a run's chart: a solver/verifier round, or the steps outside rounds (the judge).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundCosts {
    /// The round, `None` for steps without one.
    pub iteration: Option<u32>,
    /// `Round 1`, `Round 2`, …, or `Judge`.
    pub label: String,
    /// Each agent that made steps in it, in role order (solver, verifier, judge, others).
    pub agents: Vec<AgentShare>,
}

impl RoundCosts {
    /// The agent's share, if it made steps in this round.
    pub fn agent(&self, agent: &str) -> Option<&AgentShare> {
        self.agents.iter().find(|a| a.agent == agent)
    }

    /// The stored cost of the round's priced steps, in USD.
    pub fn usd(&self) -> f64 {
        UsdSum::of(self.agents.iter().map(AgentShare::usd)).value()
    }
}

/// The order agents are stacked in: the loop's.
pub fn agent_rank(agent: &str) -> usize {
    AgentRole::ALL
        .iter()
        .position(|r| r.as_str() == agent)
        .unwrap_or(AgentRole::ALL.len())
}

/// A run's stored costs and tokens by round and agent, rounds in order, then the steps
/// without a round.
pub fn costs_by_round<'a>(steps: impl IntoIterator<Item = &'a StepCost>) -> Vec<RoundCosts> {
    let mut rounds: BTreeMap<(bool, u32), RoundCosts> = BTreeMap::new();
    for step in steps {
        // Rounds sort first, by number; steps without a round after them.
        let key = (step.iteration.is_none(), step.iteration.unwrap_or(0));
        let round = rounds.entry(key).or_insert_with(|| RoundCosts {
            iteration: step.iteration,
            label: step
                .iteration
                .map_or_else(|| "Judge".to_string(), |i| format!("Round {i}")),
            agents: Vec::new(),
        });
        let index = match round.agents.iter().position(|a| a.agent == step.agent) {
            Some(i) => i,
            None => {
                round.agents.push(AgentShare {
                    agent: step.agent.clone(),
                    steps: 0,
                    unpriced_steps: 0,
                    usage: Usage::default(),
                    usd: UsdSum::default(),
                });
                round.agents.len() - 1
            }
        };
        let share = &mut round.agents[index];
        share.steps += 1;
        if let Some(u) = step.usage {
            share.usage.add(&u);
        }
        match step.cost_usd {
            Some(c) => share.usd.add(c),
            None if step.used_tokens() => share.unpriced_steps += 1,
            None => {}
        }
    }
    let mut out: Vec<RoundCosts> = rounds.into_values().collect();
    for round in &mut out {
        sorting::sort_by(&mut round.agents, |a, b| {
            agent_rank(&a.agent)
                .cmp(&agent_rank(&b.agent))
                .then_with(|| a.agent.cmp(&b.agent))
        });
    }
    out
}

/// Requests of one kind in the attempt ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RequestSum {
    /// How many requests.
    pub requests: u64,
    /// Requests that used tokens but could not be priced (not in the sum).
    pub unpriced: u64,
    /// Their tokens.
    pub usage: Usage,
    usd: UsdSum,
}

impl RequestSum {
    fn add(&mut self, row: &AttemptCost) {
        self.requests += 1;
        if let Some(u) = row.usage {
            self.usage.add(&u);
        }
        match row.cost_usd {
            Some(c) => self.usd.add(c),
            None if row.usage.is_some_and(|u| u.total_tokens > 0) => self.unpriced += 1,
            None => {}
        }
    }

    /// Their cost in USD.
    pub fn usd(&self) -> f64 {
        self.usd.value()
    }
}

/// What a run's first tries cost, and what its re-asks and retries added ("re-ask tax").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AttemptTax {
    /// First requests of each step.
    pub first_tries: RequestSum,
    /// Requests that sent an invalid reply back with the validation error.
    pub reasks: RequestSum,
    /// Requests repeated after a transport or HTTP failure.
    pub retries: RequestSum,
    /// Steps that recorded no requests (the original's files): their whole cost, unsplit.
    pub unsplit: RequestSum,
}

impl AttemptTax {
    /// Sums the ledger's rows by kind.
    pub fn of(ledger: &[AttemptCost]) -> Self {
        let mut tax = AttemptTax::default();
        for row in ledger {
            match row.kind {
                Some(AttemptKind::Initial) => tax.first_tries.add(row),
                Some(AttemptKind::Reask) => tax.reasks.add(row),
                Some(AttemptKind::Retry) => tax.retries.add(row),
                None => tax.unsplit.add(row),
            }
        }
        tax
    }

    /// What re-asks and retries cost, in USD.
    pub fn tax_usd(&self) -> f64 {
        UsdSum::of([self.reasks.usd(), self.retries.usd()]).value()
    }

    /// The tax as a share of the first tries' cost; `None` when they cost nothing.
    pub fn tax_fraction(&self) -> Option<f64> {
        let base = self.first_tries.usd();
        (base > 0.0).then(|| self.tax_usd() / base)
    }
}

/// Where a run stands against its budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetStatus {
    /// The run's `run_budget_usd`.
    pub limit_usd: f64,
    /// What it spent so far (known costs).
    pub spent_usd: f64,
    /// `spent / limit` (1.0 for a zero limit).
    pub fraction: f64,
    /// Normal, warning from 80 %, exhausted at the limit ([`Budget::warn_level`]).
    pub level: BudgetLevel,
    /// False when some calls are not in `spent_usd` (unknown price or usage).
    pub exact: bool,
    /// Requests that got no reply, at their worst case: not in `spent_usd`, but counted
    /// against the limit in `level`.
    pub possibly_billed_usd: f64,
}

/// Where a run stands against the budget its config set, if it set one.
pub fn run_budget_status(record: &RunRecord) -> Option<BudgetStatus> {
    let limit = record.config.as_ref()?.run_budget_usd?;
    let mut status = budget_status(
        limit,
        record.cost_usd.unwrap_or(0.0),
        CostState::of(record) == CostState::Exact,
    )?;
    // What may have been billed counts against the budget, as the gate counts it.
    let mut budget = Budget::new("run", limit).ok()?;
    let held = budget.reserve(0.0).ok()?;
    budget.settle(held, status.spent_usd);
    budget.record_possibly_billed(record.possibly_billed_usd);
    status.level = budget.warn_level();
    status.possibly_billed_usd = budget.possibly_billed_usd();
    Some(status)
}

/// What the next call of stored run `record` (after its `committed` steps) would hold of a
/// budget before it is sent: its first request's worst case at `pricer`'s price (see
/// [`BudgetGate::first_request_usd`]). `None` when the run is over, has no config, its steps
/// do not replay, or the price is unknown.
pub fn next_call_reservation(
    record: &RunRecord,
    committed: &[TrajectoryEntry],
    pricer: std::rc::Rc<Pricer>,
) -> Option<f64> {
    use crate::core::pipeline::{agent_call, LoopState, StepVars};
    let config = record.config.as_ref()?;
    let state = LoopState::replay(
        config.mode,
        config.max_iterations,
        &record.run_id,
        committed,
    )
    .ok()?;
    let role = state.next.role()?;
    let vars = StepVars {
        problem: &record.problem,
        feedback: &state.feedback,
        solution: &state.solution,
    };
    let call = agent_call(config, role, &vars).ok()?;
    let estimate = crate::core::budget::CallEstimate {
        max_reasks: config.max_reasks,
        ..Default::default()
    };
    crate::core::budget::BudgetGate::new(pricer)
        .with_estimate(estimate)
        .first_request_usd(&call)
}

/// Where `spent_usd` stands against a limit of `limit_usd` (`None` for a limit that is not a
/// number ≥ 0), with the levels of [`Budget::warn_level`].
pub fn budget_status(limit_usd: f64, spent_usd: f64, exact: bool) -> Option<BudgetStatus> {
    let mut budget = Budget::new("run", limit_usd).ok()?;
    // A free reservation always fits; settling it records what was spent.
    let held = budget.reserve(0.0).ok()?;
    budget.settle(held, spent_usd);
    Some(BudgetStatus {
        limit_usd,
        spent_usd: budget.spent_usd(),
        fraction: budget.fraction_spent(),
        level: budget.warn_level(),
        exact,
        possibly_billed_usd: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_give_utc_times_and_nonsense_gives_none() {
        // python3: datetime(2025,1,1,12,0,0,tzinfo=timezone.utc).timestamp()*1000
        assert_eq!(
            time_of_run_id("run_20250101_120000_deadbeef"),
            Some(1_735_732_800_000.0)
        );
        // python3: datetime(2024,2,29,23,59,59,tzinfo=timezone.utc).timestamp()*1000
        assert_eq!(
            time_of_run_id("run_20240229_235959_0badf00d_2"),
            Some(1_709_251_199_000.0)
        );
        assert_eq!(
            time_of_run_id("run_20230229_000000_x"),
            None,
            "not a leap year"
        );
        assert_eq!(time_of_run_id("run_20250132_000000_x"), None);
        assert_eq!(time_of_run_id("run_2025011_120000_x"), None);
        assert_eq!(time_of_run_id("batch_20250101_120000_x"), None);
        assert_eq!(time_of_run_id("run_20250101_246000_x"), None);
        assert_eq!(time_of_run_id("run_２0250101_120000_x"), None);
    }

    #[test]
    fn days_are_utc() {
        // 2025-01-01T23:59:59.999Z and one millisecond later.
        assert_eq!(day_of(1_735_775_999_999.0), "2025-01-01");
        assert_eq!(day_of(1_735_776_000_000.0), "2025-01-02");
    }

    #[test]
    fn budget_levels_follow_the_budget() {
        let s = budget_status(1.0, 0.79, true).unwrap();
        assert_eq!(s.level, BudgetLevel::Normal);
        assert_eq!(
            budget_status(1.0, 0.8, true).unwrap().level,
            BudgetLevel::Warning
        );
        let over = budget_status(1.0, 1.25, false).unwrap();
        assert_eq!(
            (over.level, over.fraction, over.exact),
            (BudgetLevel::Exhausted, 1.25, false)
        );
        assert_eq!(budget_status(-1.0, 0.0, true), None);
        assert_eq!(budget_status(f64::NAN, 0.0, true), None);
    }
}

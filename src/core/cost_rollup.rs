//! Roll-ups of step costs: the sums the Costs page draws, kept per day × agent × provider ×
//! model × paid-or-reused × route cell so that a page over a million steps reads a few hundred
//! cells instead of every step. The route (live or through a provider batch) decides the rates
//! a cell's tokens are priced at when the page re-prices them.
//!
//! Amounts are kept as whole nano-dollars and tokens as whole counts, so a cell is changed by
//! exact integer arithmetic: adding steps one by one equals building from all of them, and
//! removing a run's steps leaves exactly what building from the other runs' steps gives (a float
//! sum would drift a little with every subtraction). A nano-dollar is far below the six decimals
//! the page shows, and a cell holds up to about nine million dollars (an `i64` that JavaScript,
//! where the cells are stored, reads exactly up to 2^53).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::cost::{request_cost, BucketSummary, CostSummary};
use crate::core::cost_views::{
    day_of, thin_days, PricedSum, SpendLine, SpendPoint, StepCost, UNKNOWN_MODEL,
};
use crate::core::llm::usage::Usage;
use crate::core::llm::SentVia;
use crate::core::pricing::{Price, Pricer};

/// Nano-dollars in one dollar.
const NANOS_PER_USD: f64 = 1e9;

/// `usd` in whole nano-dollars (a non-finite amount counts as none).
pub fn nanos_of(usd: f64) -> i64 {
    if usd.is_finite() {
        (usd * NANOS_PER_USD).round() as i64
    } else {
        0
    }
}

/// Dollars of `nanos` nano-dollars.
pub fn usd_of(nanos: i64) -> f64 {
    nanos as f64 / NANOS_PER_USD
}

/// Where a step's sums go: its day, who made it, with which provider and model, and whether
/// its run paid for the reply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RollupKey {
    /// `YYYY-MM-DD` (UTC) of the step's timestamp; `""` when it has none that parses.
    pub day: String,
    /// `solver`, `verifier` or `judge`.
    pub agent: String,
    /// The provider id that served the call (`""` when not recorded).
    pub provider: String,
    /// The configured model string ([`crate::core::cost_views::UNKNOWN_MODEL`] when not
    /// recorded).
    pub model: String,
    /// A reply reused from another run, or carried by a fork: it cost this run $0.
    pub reused: bool,
    /// How the tokens were sent, which decides their rates: a step whose requests took both
    /// routes is split between two cells (see [`RollupStep::split`]).
    #[serde(default)]
    pub sent_via: SentVia,
}

/// The sums of one cell's steps. Every field is a count or a whole amount, so that
/// [`RollupCell::add`] and [`RollupCell::subtract`] undo each other exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupCell {
    /// Steps.
    pub steps: u64,
    /// Steps that used tokens but have no stored cost (not in `cost_nanos`).
    pub unpriced_steps: u64,
    /// Steps whose usage some request did not report (their cost is a lower bound).
    pub incomplete_usage_steps: u64,
    /// Steps whose reply reasoned without saying how many tokens that took.
    pub reasoning_unknown_steps: u64,
    /// Tokens by kind. Its `reasoning_tokens_unknown` stays unset: `reasoning_unknown_steps`
    /// counts those steps instead, so that a subtraction undoes an addition (a flag cannot be
    /// taken away). Stored as the same flat fields as before.
    #[serde(flatten)]
    pub tokens: Usage,
    /// What the steps cost their runs, as stored (a carried or reused step counts $0).
    pub cost_nanos: i64,
    /// What the steps' unanswered requests may have cost.
    pub possibly_billed_nanos: i64,
}

/// One step as a roll-up counts it: its cell and what it adds there.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupStep {
    /// Its cell.
    pub key: RollupKey,
    /// What it adds to the cell.
    pub sums: RollupCell,
}

impl RollupStep {
    /// `step` as a roll-up counts it, `possibly_billed_usd` its unanswered requests' worst
    /// case: one part per route its tokens took. No price goes in: the cells hold what was
    /// stored, so they never go stale when prices change (re-pricing prices the cells when
    /// read, [`CostRollup::repriced`]).
    ///
    /// A step whose requests all took one route (or whose requests are not kept) is one part
    /// under that route. A step whose requests took both (a batched reply re-asked live, say)
    /// is two: the live part carries the step (its count, stored cost, flags) with the live
    /// requests' tokens, the batched part only the batched requests' tokens.
    pub fn split(step: &StepCost, possibly_billed_usd: f64) -> Vec<RollupStep> {
        let usage = step.usage.unwrap_or_default();
        let used_tokens = usage.total_tokens > 0;
        // As stored: the loop prices a reused reply at $0 and a carried step is counted at $0
        // by `StepCost::of`, exactly as the cost tracker counts them.
        let cost = step.cost_usd;
        let key = |sent_via| RollupKey {
            day: step.billed_at.map(day_of).unwrap_or_default(),
            agent: step.agent.clone(),
            provider: step.provider.clone(),
            model: step.model_name().to_string(),
            reused: step.reused,
            sent_via,
        };
        let whole = RollupCell {
            steps: 1,
            unpriced_steps: u64::from(cost.is_none() && used_tokens),
            incomplete_usage_steps: u64::from(!step.usage_complete),
            reasoning_unknown_steps: u64::from(usage.reasoning_tokens_unknown),
            cost_nanos: cost.map(nanos_of).unwrap_or(0),
            possibly_billed_nanos: nanos_of(possibly_billed_usd),
            ..RollupCell::default()
        };
        let routed = |via: SentVia| -> Usage {
            step.requests
                .iter()
                .filter(|(_, v)| *v == via)
                .map(|(u, _)| *u)
                .sum()
        };
        let batched = routed(SentVia::ProviderBatch);
        if step.requests.is_empty() || batched == usage || batched == Usage::default() {
            let via = match step.requests.first() {
                None => step.sent_via,
                Some(_) if batched == Usage::default() => SentVia::Live,
                Some(_) => SentVia::ProviderBatch,
            };
            return vec![RollupStep {
                key: key(via),
                sums: whole.with_tokens(&usage),
            }];
        }
        vec![
            RollupStep {
                key: key(SentVia::Live),
                sums: whole.with_tokens(&routed(SentVia::Live)),
            },
            RollupStep {
                key: key(SentVia::ProviderBatch),
                sums: RollupCell::default().with_tokens(&batched),
            },
        ]
    }
}

impl RollupCell {
    /// The cell with `usage`'s tokens.
    fn with_tokens(self, usage: &Usage) -> Self {
        RollupCell {
            tokens: Usage {
                reasoning_tokens_unknown: false,
                ..*usage
            },
            ..self
        }
    }

    /// Whether it counts nothing at all (a part of a step holds tokens without the step).
    pub fn is_empty(&self) -> bool {
        *self == RollupCell::default()
    }

    /// Adds `other`'s sums.
    pub fn add(&mut self, other: &RollupCell) {
        self.steps += other.steps;
        self.unpriced_steps += other.unpriced_steps;
        self.incomplete_usage_steps += other.incomplete_usage_steps;
        self.reasoning_unknown_steps += other.reasoning_unknown_steps;
        self.tokens.add(&other.tokens);
        self.cost_nanos += other.cost_nanos;
        self.possibly_billed_nanos += other.possibly_billed_nanos;
    }

    /// Takes `other`'s sums away (counts never go below zero: a cell asked to forget more
    /// than it holds, e.g. a run deleted twice, is left empty rather than wrapped around).
    pub fn subtract(&mut self, other: &RollupCell) {
        self.steps = self.steps.saturating_sub(other.steps);
        self.unpriced_steps = self.unpriced_steps.saturating_sub(other.unpriced_steps);
        self.incomplete_usage_steps = self
            .incomplete_usage_steps
            .saturating_sub(other.incomplete_usage_steps);
        self.reasoning_unknown_steps = self
            .reasoning_unknown_steps
            .saturating_sub(other.reasoning_unknown_steps);
        self.tokens.subtract(&other.tokens);
        self.cost_nanos -= other.cost_nanos;
        self.possibly_billed_nanos -= other.possibly_billed_nanos;
    }

    /// Tokens by kind, as [`Usage`] (reasoning unknown when any step's was).
    pub fn usage(&self) -> Usage {
        Usage {
            reasoning_tokens_unknown: self.reasoning_unknown_steps > 0,
            ..self.tokens
        }
    }

    /// What the steps cost, in USD.
    pub fn cost_usd(&self) -> f64 {
        usd_of(self.cost_nanos)
    }

    /// The cell as the cost tracker's bucket summary shows it.
    pub fn bucket(&self) -> BucketSummary {
        BucketSummary {
            calls: self.steps,
            unpriced_calls: self.unpriced_steps,
            incomplete_usage_calls: self.incomplete_usage_steps,
            usage: self.usage(),
            cost_usd: self.cost_usd(),
            complete: self.unpriced_steps == 0 && self.incomplete_usage_steps == 0,
        }
    }
}

/// Spend split by where the replies came from, from a roll-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollupReuseSplit {
    /// Steps whose reply their run paid for, and their sums.
    pub paid: RollupCell,
    /// Steps whose reply was reused or carried, and their sums.
    pub reused: RollupCell,
}

/// The roll-up of any number of steps: one [`RollupCell`] per [`RollupKey`] with at least one
/// step (a cell emptied by a removal is dropped, so equal step sets give equal roll-ups).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CostRollup {
    cells: BTreeMap<RollupKey, RollupCell>,
}

impl CostRollup {
    /// An empty roll-up.
    pub fn new() -> Self {
        Self::default()
    }

    /// The roll-up of `steps`.
    pub fn of<'a>(steps: impl IntoIterator<Item = &'a RollupStep>) -> Self {
        let mut rollup = CostRollup::new();
        for step in steps {
            rollup.add(step);
        }
        rollup
    }

    /// A roll-up of stored cells (as [`Self::cells`] gave them).
    pub fn from_cells(cells: impl IntoIterator<Item = (RollupKey, RollupCell)>) -> Self {
        let mut rollup = CostRollup::new();
        for (key, cell) in cells {
            rollup.add(&RollupStep { key, sums: cell });
        }
        rollup
    }

    /// Counts one step.
    pub fn add(&mut self, step: &RollupStep) {
        self.cells
            .entry(step.key.clone())
            .or_default()
            .add(&step.sums);
    }

    /// Forgets one step counted before (e.g. its run was deleted).
    pub fn subtract(&mut self, step: &RollupStep) {
        if let Some(cell) = self.cells.get_mut(&step.key) {
            cell.subtract(&step.sums);
            if cell.is_empty() {
                self.cells.remove(&step.key);
            }
        }
    }

    /// The cells, in key order.
    pub fn cells(&self) -> impl Iterator<Item = (&RollupKey, &RollupCell)> {
        self.cells.iter()
    }

    /// How many cells it holds.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether it counts no step.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The sum of every cell whose key `keep` accepts.
    pub fn total_where(&self, keep: impl Fn(&RollupKey) -> bool) -> RollupCell {
        let mut total = RollupCell::default();
        for (key, cell) in &self.cells {
            if keep(key) {
                total.add(cell);
            }
        }
        total
    }

    /// Totals overall, by model and by agent, as the cost tracker gives them for the same
    /// steps.
    pub fn summary(&self) -> CostSummary {
        let mut total = RollupCell::default();
        let mut by_model: BTreeMap<String, RollupCell> = BTreeMap::new();
        let mut by_agent: BTreeMap<String, RollupCell> = BTreeMap::new();
        for (key, cell) in &self.cells {
            total.add(cell);
            by_model.entry(key.model.clone()).or_default().add(cell);
            by_agent.entry(key.agent.clone()).or_default().add(cell);
        }
        let buckets =
            |m: BTreeMap<String, RollupCell>| m.into_iter().map(|(k, c)| (k, c.bucket())).collect();
        CostSummary {
            total: total.bucket(),
            by_model: buckets(by_model),
            by_agent: buckets(by_agent),
        }
    }

    /// Paid and reused steps apart.
    pub fn reuse_split(&self) -> RollupReuseSplit {
        RollupReuseSplit {
            paid: self.total_where(|k| !k.reused),
            reused: self.total_where(|k| k.reused),
        }
    }

    /// What the reused (and carried) replies would have cost under `pricer`, had their runs
    /// paid for them: what reuse saved. Cells are priced as [`Self::repriced`] prices them.
    pub fn reused_value(&self, pricer: &Pricer) -> PricedSum {
        self.priced(pricer, |key| key.reused)
    }

    /// Every paid step's cost under `pricer` (a reused or carried reply costs its run $0), as
    /// [`crate::core::cost_views::reprice_by_model`] gives it from the steps. Each cell's
    /// tokens are priced at its model's rates for the route they took (the batch API's for
    /// requests a provider batch answered) at noon UTC of its day: the same as pricing step
    /// by step for every per-token price, but not for a price whose rate depends on one
    /// request's size or on the hour (a cell adds many requests together and keeps only the
    /// day). A step split between routes whose batched part has no price is not counted as
    /// unpriced (its count is in the live part).
    pub fn repriced(&self, pricer: &Pricer) -> PricedSum {
        self.priced(pricer, |key| !key.reused)
    }

    /// The cells `keep` accepts, priced under `pricer`.
    fn priced(&self, pricer: &Pricer, keep: impl Fn(&RollupKey) -> bool) -> PricedSum {
        let mut value = PricedSum::default();
        for (key, cell) in self.cells.iter().filter(|(k, _)| keep(k)) {
            let price = if key.model == UNKNOWN_MODEL {
                Price::Unknown
            } else {
                pricer.price_of(&key.provider, &key.model)
            };
            let noon = day_noon_ms(&key.day);
            match request_cost(&cell.usage(), &price, noon, key.sent_via) {
                Some(usd) => value.add_known(usd),
                None if cell.tokens.total_tokens > 0 => value.unpriced_steps += cell.steps,
                None => {}
            }
        }
        value
    }

    /// Each day's sums, oldest first (steps without a day are left out).
    pub fn by_day(&self) -> Vec<(String, RollupCell)> {
        let mut days: BTreeMap<&str, RollupCell> = BTreeMap::new();
        for (key, cell) in &self.cells {
            if !key.day.is_empty() {
                days.entry(&key.day).or_default().add(cell);
            }
        }
        days.into_iter().map(|(d, c)| (d.to_string(), c)).collect()
    }

    /// The spend-over-time line by day, from the cells alone: what a store too big to read
    /// run by run draws. Each day's point sits at its noon UTC, which is the same calendar day
    /// in every time zone a reader is likely in, and counts the steps at an unknown price so
    /// far (the cells know steps, not runs). Steps without a day are in no point.
    pub fn spend_line(&self, max_points: usize) -> SpendLine {
        let mut nanos = 0i64;
        let mut unknown = 0u64;
        let days = self
            .by_day()
            .into_iter()
            .filter_map(|(day, cell)| {
                nanos += cell.cost_nanos;
                unknown += cell.unpriced_steps;
                Some(SpendPoint {
                    time_ms: day_noon_ms(&day)?,
                    cumulative_usd: usd_of(nanos),
                    label: day,
                    unknown,
                })
            })
            .collect();
        SpendLine {
            points: thin_days(days, max_points),
            points_are_days: true,
            unknown_are_steps: true,
        }
    }
}

/// Epoch milliseconds of noon UTC on `day` (`YYYY-MM-DD`); `None` when it is not such a day.
fn day_noon_ms(day: &str) -> Option<f64> {
    crate::core::clock::parse_iso8601(&format!("{day}T12:00:00Z"))
}

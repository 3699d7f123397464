//! Cost math: what one request cost ([`cost_of`]), the loop's [`StepPricer`], totals by model
//! and by agent ([`CostTracker`]), a per-attempt ledger that shows what re-asks and retries
//! cost ([`attempt_ledger`]), and re-pricing a stored run under other prices ([`reprice`]).
//!
//! Amounts are `f64` USD, summed with compensation ([`UsdSum`]) so that long runs do not drift;
//! rounding happens only for display ([`format_usd`]). A call whose price is unknown is counted
//! as unpriced, never added as 0.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::clock::parse_iso8601;
use crate::core::llm::{AttemptKind, AttemptRecord, SentVia, Usage};
use crate::core::pipeline::StepPricer;
use crate::core::pricing::{BilledAt, EffectiveRates, ModelRates, Price, PriceSource, Pricer};
use crate::core::trajectory::TrajectoryEntry;

/// What one request cost, by kind of token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CostBreakdown {
    /// Uncached prompt tokens at the input rate.
    pub input_usd: f64,
    /// Prompt tokens read from the cache at the cache-read rate.
    pub cache_read_usd: f64,
    /// Prompt tokens written to the cache at the cache-write rate.
    pub cache_write_usd: f64,
    /// Generated tokens that are not reasoning, at the output rate.
    pub output_usd: f64,
    /// Reasoning tokens, at the reasoning rate if the model has one, else the output rate.
    pub reasoning_usd: f64,
    /// The sum of the five.
    pub total_usd: f64,
    /// The threshold of the long-prompt tier that applied, if one did.
    pub tier_above: Option<u64>,
    /// Whether the provider's off-peak rates applied.
    #[serde(default)]
    pub off_peak: bool,
}

/// What a request with `usage` costs at `rates`, at an unknown time (no off-peak discount).
pub fn cost_of(usage: &Usage, rates: &ModelRates) -> CostBreakdown {
    cost_at(usage, rates, None)
}

/// What a request with `usage` billed at `at` costs at `rates`.
///
/// `usage` is one request's (tiers are decided per request). Rules, by kind of token (see
/// [`ModelRates::effective_at`] for the fallbacks):
/// - uncached prompt tokens at the input rate; cache reads at the cache-read rate and cache
///   writes at the cache-write rate, each falling back to the input rate when the table has
///   none (the provider then bills them as plain input);
/// - reasoning tokens at the reasoning rate when the table has one, else at the output rate;
///   the rest of the output at the output rate;
/// - when the prompt (all of `input_tokens`, cached included) passes a tier's threshold, the
///   whole request is billed at that tier's rates. Gemini bills 2.5 Pro prompts over 200k
///   tokens at higher input *and* output rates
///   (<https://ai.google.dev/gemini-api/docs/pricing>); Anthropic bills requests over 200K input
///   tokens at long-context rates
///   (<https://docs.anthropic.com/en/docs/about-claude/pricing#long-context-pricing>). Whether a
///   prompt of exactly the threshold is in the tier is the provider's own rule
///   ([`ModelRates::threshold`]): past it for most, at it for xAI;
/// - while the provider's off-peak window is open at `at`, its off-peak rates (DeepSeek).
// NOTE: Anthropic bills 1-hour cache writes at a higher rate than 5-minute ones
// (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#pricing); usage does not
// tell them apart and Trialogue never asks for 1-hour caching, so writes use the 5-minute rate
// (the longer-lived rates are in `EffectiveRates` for a caller that knows the lifetime).
pub fn cost_at(usage: &Usage, rates: &ModelRates, at: BilledAt) -> CostBreakdown {
    cost_with(usage, &rates.effective_at(usage.input_tokens, at))
}

/// What a request with `usage` costs through the provider's batch API, by the same rules as
/// [`cost_at`] over the batch rates ([`ModelRates::batch_effective`]); `None` when the table
/// lists no batch rate for the model.
pub fn batch_cost(usage: &Usage, rates: &ModelRates) -> Option<CostBreakdown> {
    let r = rates.batch_effective(usage.input_tokens)?;
    Some(cost_with(usage, &r))
}

fn cost_with(usage: &Usage, r: &EffectiveRates) -> CostBreakdown {
    let reasoning = usage.reasoning_tokens.min(usage.output_tokens);
    let input_usd = usage.uncached_input_tokens() as f64 * r.input;
    let cache_read_usd = usage.cache_read_tokens as f64 * r.cache_read;
    let cache_write_usd = usage.cache_write_tokens as f64 * r.cache_write;
    let output_usd = (usage.output_tokens - reasoning) as f64 * r.output;
    let reasoning_usd = reasoning as f64 * r.reasoning;
    let total_usd = UsdSum::of([
        input_usd,
        cache_read_usd,
        cache_write_usd,
        output_usd,
        reasoning_usd,
    ])
    .value();
    CostBreakdown {
        input_usd,
        cache_read_usd,
        cache_write_usd,
        output_usd,
        reasoning_usd,
        total_usd,
        tier_above: r.tier_above,
        off_peak: r.off_peak,
    }
}

/// A running sum of USD amounts with Neumaier's compensation, so adding many small costs
/// loses no cents to rounding.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UsdSum {
    sum: f64,
    compensation: f64,
}

impl UsdSum {
    /// The sum of `amounts`.
    pub fn of(amounts: impl IntoIterator<Item = f64>) -> Self {
        let mut s = UsdSum::default();
        for a in amounts {
            s.add(a);
        }
        s
    }

    /// Adds one amount.
    pub fn add(&mut self, amount: f64) {
        let t = self.sum + amount;
        if self.sum.abs() >= amount.abs() {
            self.compensation += (self.sum - t) + amount;
        } else {
            self.compensation += (amount - t) + self.sum;
        }
        self.sum = t;
    }

    /// The sum so far.
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// A USD amount for display: cents from $1 up, four decimals from $0.01, else six (`$0.000123`);
/// `unknown` for what is not a finite number.
pub fn format_usd(amount: f64) -> String {
    if !amount.is_finite() {
        return "unknown".to_string();
    }
    let places = match amount.abs() {
        a if a >= 1.0 => 2,
        a if a >= 0.01 => 4,
        _ => 6,
    };
    let text = format!("{:.*}", places, amount.abs());
    if amount < 0.0 && text.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        format!("-${text}")
    } else {
        format!("${text}")
    }
}

impl StepPricer for Pricer {
    fn price(&self, provider: &str, model: &str, usage: &Usage) -> Option<f64> {
        self.price_at(provider, model, usage, None)
    }

    fn price_at(&self, provider: &str, model: &str, usage: &Usage, at: BilledAt) -> Option<f64> {
        usage_cost(usage, &self.price_of(provider, model), at)
    }

    fn price_sent(
        &self,
        provider: &str,
        model: &str,
        usage: &Usage,
        at: BilledAt,
        via: SentVia,
    ) -> Option<f64> {
        request_cost(usage, &self.price_of(provider, model), at, via)
    }
}

/// When a stored step was billed: its timestamp, which the loop writes as the call settles,
/// right after pricing it; `None` when it does not parse.
pub fn billed_at(entry: &TrajectoryEntry) -> BilledAt {
    parse_iso8601(&entry.timestamp)
}

/// One agent call, for the tracker: who made it, with which model, what it used and cost.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// `solver`, `verifier` or `judge`.
    pub agent: String,
    /// The model string the totals are kept under (as configured).
    pub model: String,
    /// Tokens used, all attempts included.
    pub usage: Usage,
    /// The call's cost, `None` when the price is unknown.
    pub cost_usd: Option<f64>,
    /// False when some attempt reported no usage (the cost is then a lower bound).
    pub usage_complete: bool,
}

impl CallRecord {
    /// The record of one trajectory step. Steps without a model are kept under `unknown`.
    pub fn from_entry(entry: &TrajectoryEntry) -> Self {
        CallRecord {
            agent: entry.agent.clone(),
            model: entry_model(entry).unwrap_or("unknown").to_string(),
            usage: entry.usage().unwrap_or_default(),
            cost_usd: entry.cost_usd(),
            usage_complete: entry.usage_complete(),
        }
    }
}

/// Calls, tokens and cost of a group of calls (one model, one agent, or all).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CostBucket {
    /// How many calls.
    pub calls: u64,
    /// Calls that used tokens but whose price is unknown: their cost is not in `cost_usd`.
    pub unpriced_calls: u64,
    /// Calls where some request reported no usage: their cost is a lower bound.
    pub incomplete_usage_calls: u64,
    /// Tokens of every call, by kind.
    pub usage: Usage,
    cost: UsdSum,
}

impl CostBucket {
    /// Adds one call.
    pub fn add(&mut self, record: &CallRecord) {
        self.calls += 1;
        self.usage.add(&record.usage);
        match record.cost_usd {
            Some(cost) => self.cost.add(cost),
            // A call that used no token cost nothing whatever its price.
            None if record.usage.total_tokens > 0 => self.unpriced_calls += 1,
            None => {}
        }
        if !record.usage_complete {
            self.incomplete_usage_calls += 1;
        }
    }

    /// The cost of the priced calls in USD (a lower bound unless [`CostBucket::is_complete`]).
    pub fn cost_usd(&self) -> f64 {
        self.cost.value()
    }

    /// True when every call was priced and reported its usage, so the cost is exact.
    pub fn is_complete(&self) -> bool {
        self.unpriced_calls == 0 && self.incomplete_usage_calls == 0
    }

    fn summary(&self) -> BucketSummary {
        BucketSummary {
            calls: self.calls,
            unpriced_calls: self.unpriced_calls,
            incomplete_usage_calls: self.incomplete_usage_calls,
            usage: self.usage,
            cost_usd: self.cost_usd(),
            complete: self.is_complete(),
        }
    }
}

/// Totals by model and by agent, as the original's cost tracker kept them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostTracker {
    total: CostBucket,
    by_model: BTreeMap<String, CostBucket>,
    by_agent: BTreeMap<String, CostBucket>,
}

impl CostTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// The totals of trajectory steps (any number of runs).
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a TrajectoryEntry>) -> Self {
        let mut tracker = CostTracker::new();
        for entry in entries {
            tracker.add_entry(entry);
        }
        tracker
    }

    /// Adds one call.
    pub fn record(&mut self, record: &CallRecord) {
        self.total.add(record);
        self.by_model
            .entry(record.model.clone())
            .or_default()
            .add(record);
        self.by_agent
            .entry(record.agent.clone())
            .or_default()
            .add(record);
    }

    /// Adds one trajectory step.
    pub fn add_entry(&mut self, entry: &TrajectoryEntry) {
        self.record(&CallRecord::from_entry(entry));
    }

    /// All calls.
    pub fn total(&self) -> &CostBucket {
        &self.total
    }

    /// By model string.
    pub fn by_model(&self) -> &BTreeMap<String, CostBucket> {
        &self.by_model
    }

    /// By agent.
    pub fn by_agent(&self) -> &BTreeMap<String, CostBucket> {
        &self.by_agent
    }

    /// A plain snapshot, for the UI and exports.
    pub fn summary(&self) -> CostSummary {
        let map = |m: &BTreeMap<String, CostBucket>| {
            m.iter().map(|(k, b)| (k.clone(), b.summary())).collect()
        };
        CostSummary {
            total: self.total.summary(),
            by_model: map(&self.by_model),
            by_agent: map(&self.by_agent),
        }
    }
}

/// One bucket of a [`CostSummary`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BucketSummary {
    /// How many calls.
    pub calls: u64,
    /// Calls that used tokens at an unknown price (not in `cost_usd`).
    pub unpriced_calls: u64,
    /// Calls whose usage was not fully reported.
    pub incomplete_usage_calls: u64,
    /// Tokens by kind: input (cached included), cache read, cache write, output (reasoning
    /// included), reasoning.
    pub usage: Usage,
    /// Cost of the priced calls in USD.
    pub cost_usd: f64,
    /// True when `cost_usd` is exact (every call priced, all usage reported).
    pub complete: bool,
}

/// Totals overall, by model and by agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    /// Every call.
    pub total: BucketSummary,
    /// By model string.
    pub by_model: BTreeMap<String, BucketSummary>,
    /// By agent.
    pub by_agent: BTreeMap<String, BucketSummary>,
}

/// One row of the attempt ledger: one HTTP request of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptCost {
    /// The run.
    pub run_id: String,
    /// The step within the run.
    pub step_id: u64,
    /// `solver`, `verifier` or `judge`.
    pub agent: String,
    /// The solver/verifier round (absent on judge steps).
    pub iteration: Option<u32>,
    /// 1-based position of the request within the step.
    pub attempt: u32,
    /// Initial, retry or re-ask; `None` when the step recorded no attempts (the original's
    /// files), in which case the row stands for the whole step.
    pub kind: Option<AttemptKind>,
    /// Tokens the provider reported for the request.
    pub usage: Option<Usage>,
    /// Its cost under the pricer; `None` when the price or the usage is unknown.
    pub cost_usd: Option<f64>,
    /// What went wrong with the request, if anything.
    pub error: Option<String>,
}

/// Every request of every step, priced one by one, so that the cost of re-asks and retries is
/// visible next to the first try's.
pub fn attempt_ledger(entries: &[TrajectoryEntry], pricer: &Pricer) -> Vec<AttemptCost> {
    let mut rows = Vec::new();
    for entry in entries {
        let price = entry_price(entry, pricer);
        let at = billed_at(entry);
        let row = |attempt: u32, kind, usage: Option<Usage>, error, via| AttemptCost {
            run_id: entry.run_id.clone(),
            step_id: entry.step_id,
            agent: entry.agent.clone(),
            iteration: entry.iteration(),
            attempt,
            kind,
            cost_usd: usage.and_then(|u| request_cost(&u, &price, at, via)),
            usage,
            error,
        };
        match entry_attempts(entry) {
            Some(attempts) if !attempts.is_empty() => {
                for a in attempts {
                    let error = a.error.clone();
                    rows.push(row(a.attempt, Some(a.kind), a.usage, error, a.sent_via));
                }
            }
            _ => rows.push(row(1, None, entry.usage(), None, SentVia::Live)),
        }
    }
    rows
}

/// One step priced again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepricedStep {
    /// The run.
    pub run_id: String,
    /// The step within the run.
    pub step_id: u64,
    /// `solver`, `verifier` or `judge`.
    pub agent: String,
    /// The model string as configured.
    pub model: String,
    /// The cost stored in the step (`metadata.cost_usd`).
    pub old_usd: Option<f64>,
    /// The cost under the new prices; `None` when the price or the usage is unknown.
    pub new_usd: Option<f64>,
    /// Where the new price came from (`None` when unknown).
    pub source: Option<PriceSource>,
}

/// A total of one side of a re-pricing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CostTotal {
    /// Sum of the priced steps in USD.
    pub usd: f64,
    /// Steps that used tokens but have no cost on this side (not in `usd`).
    pub unpriced_steps: u64,
}

/// A run's cost as stored and under other prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repricing {
    /// Step by step.
    pub steps: Vec<RepricedStep>,
    /// The stored costs.
    pub old: CostTotal,
    /// The costs under the new prices.
    pub new: CostTotal,
}

/// Recomputes the cost of stored steps from their usage under `pricer`.
///
/// When a step recorded its requests and their usages add up to the step's, each request is
/// priced on its own: tiers are decided per request, so two 150k-token re-asks are not billed
/// as one 300k-token prompt. Otherwise the step's summed usage is priced.
pub fn reprice(entries: &[TrajectoryEntry], pricer: &Pricer) -> Repricing {
    let mut old_sum = UsdSum::default();
    let mut new_sum = UsdSum::default();
    let (mut old, mut new) = (CostTotal::default(), CostTotal::default());
    let mut steps = Vec::with_capacity(entries.len());
    for entry in entries {
        let price = entry_price(entry, pricer);
        let usage = entry.usage();
        let used_tokens = usage.is_some_and(|u| u.total_tokens > 0);
        let new_usd = step_cost(entry, usage, &price);
        let old_usd = entry.cost_usd();
        for (cost, sum, total) in [
            (old_usd, &mut old_sum, &mut old),
            (new_usd, &mut new_sum, &mut new),
        ] {
            match cost {
                Some(c) => sum.add(c),
                None if used_tokens => total.unpriced_steps += 1,
                None => {}
            }
        }
        steps.push(RepricedStep {
            run_id: entry.run_id.clone(),
            step_id: entry.step_id,
            agent: entry.agent.clone(),
            model: entry_model(entry).unwrap_or("unknown").to_string(),
            old_usd,
            new_usd,
            source: price.source().cloned(),
        });
    }
    old.usd = old_sum.value();
    new.usd = new_sum.value();
    Repricing { steps, old, new }
}

/// What stored step `entry` would have cost its run had every request been sent live: what it
/// paid when none of its requests went through a provider batch (and $0 for a carried step or
/// a reused reply, which another run paid for), else the step priced again under `pricer` with
/// each request at the live rates. `None` when that price is unknown.
pub fn live_cost(entry: &TrajectoryEntry, pricer: &Pricer) -> Option<f64> {
    let attempts = entry_attempts(entry).unwrap_or_default();
    let batched = attempts
        .iter()
        .any(|a| a.sent_via == SentVia::ProviderBatch);
    if !batched || entry.is_carried() || entry.metadata.reused_from.is_some() {
        return entry.spent_usd();
    }
    let usage = entry.usage()?;
    let price = entry_price(entry, pricer);
    let at = billed_at(entry);
    call_cost(attempts, &usage, |u, _| {
        request_cost(u, &price, at, SentVia::Live)
    })
}

/// What `usage` costs at `price` billed at `at`; `None` when the price is unknown.
pub fn usage_cost(usage: &Usage, price: &Price, at: BilledAt) -> Option<f64> {
    price
        .quote()
        .map(|q| cost_at(usage, &q.rates, at).total_usd)
}

/// What one request with `usage` sent `via` its route costs at `price` billed at `at`: the
/// batch API's rates for a request a provider batch answered (unknown when the table lists
/// none), the live rates otherwise. `None` when the price is unknown.
pub fn request_cost(usage: &Usage, price: &Price, at: BilledAt, via: SentVia) -> Option<f64> {
    match via {
        SentVia::Live => usage_cost(usage, price, at),
        SentVia::ProviderBatch => price
            .quote()
            .and_then(|q| batch_cost(usage, &q.rates))
            .map(|c| c.total_usd),
    }
}

fn step_cost(entry: &TrajectoryEntry, usage: Option<Usage>, price: &Price) -> Option<f64> {
    let usage = usage?;
    let attempts = entry_attempts(entry).unwrap_or_default();
    let at = billed_at(entry);
    call_cost(attempts, &usage, |u, via| request_cost(u, price, at, via))
}

/// The cost of one agent call made of `attempts` that used `usage` in all, with `price`
/// pricing one request sent by a route. When the requests' usages add up to `usage`, each
/// request is priced on its own, by the route it took, and the prices summed exactly:
/// providers bill requests, and a tier applies to one request's prompt, so two 150k-token
/// re-asks are not one 300k-token prompt. Otherwise (some request reported no usage) the
/// summed usage is priced, at the batch rates only when every request went through a provider
/// batch. `None` when a price is unknown.
pub fn call_cost(
    attempts: &[AttemptRecord],
    usage: &Usage,
    price: impl Fn(&Usage, SentVia) -> Option<f64>,
) -> Option<f64> {
    let per_request: Vec<(Usage, SentVia)> = attempts
        .iter()
        .filter_map(|a| Some((a.usage?, a.sent_via)))
        .collect();
    if !per_request.is_empty() && per_request.iter().map(|(u, _)| *u).sum::<Usage>() == *usage {
        let costs: Option<Vec<f64>> = per_request.iter().map(|(u, via)| price(u, *via)).collect();
        costs.map(|c| UsdSum::of(c).value())
    } else {
        let all_batched = !attempts.is_empty()
            && attempts
                .iter()
                .all(|a| a.sent_via == SentVia::ProviderBatch);
        let via = if all_batched {
            SentVia::ProviderBatch
        } else {
            SentVia::Live
        };
        price(usage, via)
    }
}

fn entry_model(entry: &TrajectoryEntry) -> Option<&str> {
    entry.metadata.model.as_deref()
}

fn entry_attempts(entry: &TrajectoryEntry) -> Option<&[AttemptRecord]> {
    entry.metadata.attempts.as_deref()
}

/// The price of a stored step's model: its configured string, with the provider that served
/// it when recorded.
fn entry_price(entry: &TrajectoryEntry, pricer: &Pricer) -> Price {
    let Some(model) = entry_model(entry) else {
        return Price::Unknown;
    };
    pricer.price_of(entry.metadata.provider().unwrap_or(""), model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sums_keep_small_amounts() {
        // 1.0 followed by ten million 1e-16: naive f64 addition stays at 1.0, the true sum is
        // 1.000000001.
        let mut s = UsdSum::default();
        s.add(1.0);
        for _ in 0..10_000_000 {
            s.add(1e-16);
        }
        assert!((s.value() - 1.000000001).abs() < 1e-15, "{}", s.value());
    }

    #[test]
    fn usd_is_rounded_only_for_display() {
        assert_eq!(format_usd(1.234), "$1.23");
        assert_eq!(format_usd(0.01234), "$0.0123");
        assert_eq!(format_usd(0.000123456), "$0.000123");
        assert_eq!(format_usd(0.0), "$0.000000");
        assert_eq!(format_usd(-0.5), "-$0.5000");
    }

    #[test]
    fn reasoning_beyond_output_is_capped() {
        let rates = ModelRates {
            input: 0.0,
            output: 1.0,
            reasoning: Some(10.0),
            ..ModelRates::default()
        };
        let usage = Usage {
            output_tokens: 2,
            total_tokens: 2,
            reasoning_tokens: 5,
            ..Usage::default()
        };
        // Malformed usage: only the 2 output tokens can be reasoning: 2 × 10.
        let c = cost_of(&usage, &rates);
        assert_eq!(
            (c.output_usd, c.reasoning_usd, c.total_usd),
            (0.0, 20.0, 20.0)
        );
    }
}

//! One model's prices, as an entry of `pricing.json`, and the rates that apply to one request:
//! long-prompt tiers, time-of-day (off-peak) prices, batch-API prices and cache writes per
//! lifetime.

use serde::{Deserialize, Serialize};

use super::off_peak::OffPeak;

/// Optional per-token rates in USD: a tier's, an off-peak block's or the batch API's. A rate
/// left out falls back as each place that uses the set says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RateSet {
    /// USD per uncached prompt token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<f64>,
    /// USD per generated token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<f64>,
    /// USD per prompt token read from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// USD per prompt token written to the cache (the shortest lifetime: 5 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// USD per prompt token written to a 1-hour cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<f64>,
    /// USD per prompt token written to a 12-hour cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_12h: Option<f64>,
    /// USD per reasoning token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
}

/// Which rate of a [`RateSet`] (the LiteLLM import fills them by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateField {
    /// [`RateSet::input`].
    Input,
    /// [`RateSet::output`].
    Output,
    /// [`RateSet::cache_read`].
    CacheRead,
    /// [`RateSet::cache_write`].
    CacheWrite,
    /// [`RateSet::cache_write_1h`].
    CacheWrite1h,
    /// [`RateSet::cache_write_12h`].
    CacheWrite12h,
    /// [`RateSet::reasoning`].
    Reasoning,
}

impl RateSet {
    /// Sets one rate.
    pub fn set(&mut self, field: RateField, rate: f64) {
        *self.slot(field) = Some(rate);
    }

    /// One rate.
    pub fn get(&self, field: RateField) -> Option<f64> {
        match field {
            RateField::Input => self.input,
            RateField::Output => self.output,
            RateField::CacheRead => self.cache_read,
            RateField::CacheWrite => self.cache_write,
            RateField::CacheWrite1h => self.cache_write_1h,
            RateField::CacheWrite12h => self.cache_write_12h,
            RateField::Reasoning => self.reasoning,
        }
    }

    fn slot(&mut self, field: RateField) -> &mut Option<f64> {
        match field {
            RateField::Input => &mut self.input,
            RateField::Output => &mut self.output,
            RateField::CacheRead => &mut self.cache_read,
            RateField::CacheWrite => &mut self.cache_write,
            RateField::CacheWrite1h => &mut self.cache_write_1h,
            RateField::CacheWrite12h => &mut self.cache_write_12h,
            RateField::Reasoning => &mut self.reasoning,
        }
    }

    /// Whether no rate is set.
    pub fn is_empty(&self) -> bool {
        *self == RateSet::default()
    }

    /// Every rate with its name, for validation.
    pub fn named(&self) -> [(&'static str, Option<f64>); 7] {
        [
            ("input", self.input),
            ("output", self.output),
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
            ("cache_write_1h", self.cache_write_1h),
            ("cache_write_12h", self.cache_write_12h),
            ("reasoning", self.reasoning),
        ]
    }
}

/// Rates that apply instead of the lower ones once a request's prompt passes `above` tokens
/// (LiteLLM's `..._above_<N>k_tokens` keys, and the ranges of its `tiered_pricing` lists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateTier {
    /// The threshold in prompt tokens; see [`ModelRates::threshold`] for whether a prompt of
    /// exactly this size is in the tier.
    pub above: u64,
    /// The tier's rates; one it leaves out is the next lower tier's (or the base rate).
    #[serde(flatten)]
    pub rates: RateSet,
}

/// Batch-API prices (LiteLLM's `*_batches` keys). A batch rate the table does not list is
/// unknown: it is never guessed from the standard one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchRates {
    /// The base batch rates.
    #[serde(flatten)]
    pub rates: RateSet,
    /// Long-prompt batch rates, sorted by threshold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<RateTier>,
}

/// Whether a prompt of exactly a tier's threshold is in the tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// Only a prompt larger than the threshold (`>`): Anthropic, Google, OpenAI, and LiteLLM's
    /// default.
    Exceeded,
    /// A prompt of the threshold's size too (`>=`).
    Reached,
}

impl Threshold {
    fn admits(self, prompt_tokens: u64, above: u64) -> bool {
        match self {
            Threshold::Exceeded => prompt_tokens > above,
            Threshold::Reached => prompt_tokens >= above,
        }
    }
}

/// One model's prices in USD per token, as one entry of `pricing.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelRates {
    /// USD per uncached prompt token.
    pub input: f64,
    /// USD per generated token.
    pub output: f64,
    /// USD per prompt token read from the cache; absent means the input rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// USD per prompt token written to a 5-minute cache; absent means the input rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// USD per prompt token written to a 1-hour cache; absent means the 5-minute rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<f64>,
    /// USD per prompt token written to a 12-hour cache; absent means the 5-minute rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_12h: Option<f64>,
    /// USD per reasoning token; absent means reasoning is billed as output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
    /// Long-prompt rates, sorted by threshold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<RateTier>,
    /// Rates that replace the others while one of the provider's off-peak windows is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub off_peak: Option<OffPeak>,
    /// Batch-API rates, where the table lists them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchRates>,
    /// LiteLLM's provider name for the entry (`openai`, `vertex_ai-language-models`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub litellm_provider: Option<String>,
}

/// The rates that apply to one request, tiers, time of day and fallbacks resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectiveRates {
    /// USD per uncached prompt token.
    pub input: f64,
    /// USD per generated token that is not reasoning.
    pub output: f64,
    /// USD per prompt token read from the cache.
    pub cache_read: f64,
    /// USD per prompt token written to a 5-minute cache.
    pub cache_write: f64,
    /// USD per prompt token written to a 1-hour cache.
    pub cache_write_1h: f64,
    /// USD per prompt token written to a 12-hour cache.
    pub cache_write_12h: f64,
    /// USD per reasoning token.
    pub reasoning: f64,
    /// The threshold of the tier that applied, if one did.
    pub tier_above: Option<u64>,
    /// Whether the provider's off-peak prices applied.
    pub off_peak: bool,
}

/// When a request was billed, in milliseconds since the Unix epoch (UTC); `None` when not
/// known, in which case no time-of-day discount is assumed.
pub type BilledAt = Option<f64>;

impl ModelRates {
    /// Rates of a model that costs nothing (a local server).
    pub fn free() -> Self {
        ModelRates::default()
    }

    /// The base rates as a [`RateSet`].
    pub fn base(&self) -> RateSet {
        RateSet {
            input: Some(self.input),
            output: Some(self.output),
            cache_read: self.cache_read,
            cache_write: self.cache_write,
            cache_write_1h: self.cache_write_1h,
            cache_write_12h: self.cache_write_12h,
            reasoning: self.reasoning,
        }
    }

    /// Whether a prompt of exactly a threshold's size is in the tier, by the provider's own
    /// rule.
    // NOTE: xAI bills the higher rate once a request reaches the threshold ("requests with
    // 200K tokens or more", https://docs.x.ai/docs/models), and LiteLLM applies `>=` for xAI
    // alone; Anthropic ("exceeds 200K", https://docs.anthropic.com/en/docs/about-claude/pricing)
    // and Google ("prompts > 200k tokens", https://ai.google.dev/gemini-api/docs/pricing) only
    // past it.
    pub fn threshold(&self) -> Threshold {
        match self.litellm_provider.as_deref() {
            Some("xai") => Threshold::Reached,
            _ => Threshold::Exceeded,
        }
    }

    /// The tier for a request with `prompt_tokens` prompt tokens (cached ones included): the one
    /// with the highest threshold the prompt passes, if any.
    pub fn tier_for(&self, prompt_tokens: u64) -> Option<&RateTier> {
        passed(&self.tiers, self.threshold(), prompt_tokens)
            .last()
            .copied()
    }

    /// The rates for a request with `prompt_tokens` prompt tokens at an unknown time.
    pub fn effective(&self, prompt_tokens: u64) -> EffectiveRates {
        self.effective_at(prompt_tokens, None)
    }

    /// The rates for a request with `prompt_tokens` prompt tokens billed at `at`.
    ///
    /// Each rate is the one of the highest tier the prompt passes that lists it, else the base
    /// rate (LiteLLM resolves its `_above_` keys the same way). Then, while an off-peak window
    /// is open, the off-peak rates replace those (the whole request, tier or not, as DeepSeek
    /// bills it). Last the fallbacks: no cache-read or cache-write rate means the input rate (a
    /// provider that lists no cache price bills cached tokens as plain input); no longer-lived
    /// cache-write rate means the 5-minute one; no reasoning rate means the output rate
    /// (OpenAI, Anthropic and Gemini bill reasoning as output).
    pub fn effective_at(&self, prompt_tokens: u64, at: BilledAt) -> EffectiveRates {
        let tiers = passed(&self.tiers, self.threshold(), prompt_tokens);
        let mut rates = layered(self.base(), &tiers);
        let open = self
            .off_peak
            .as_ref()
            .filter(|o| at.is_some_and(|t| o.is_open(t)));
        if let Some(off_peak) = open {
            for field in [
                RateField::Input,
                RateField::Output,
                RateField::CacheRead,
                RateField::CacheWrite,
                RateField::Reasoning,
            ] {
                if let Some(rate) = off_peak.rates.get(field) {
                    rates.set(field, rate);
                }
            }
        }
        let input = rates.input.unwrap_or(self.input);
        let output = rates.output.unwrap_or(self.output);
        let cache_write = rates.cache_write.unwrap_or(input);
        EffectiveRates {
            input,
            output,
            cache_read: rates.cache_read.unwrap_or(input),
            cache_write,
            cache_write_1h: rates.cache_write_1h.unwrap_or(cache_write),
            cache_write_12h: rates.cache_write_12h.unwrap_or(cache_write),
            reasoning: rates.reasoning.unwrap_or(output),
            tier_above: tiers.last().map(|t| t.above),
            off_peak: open.is_some(),
        }
    }

    /// The batch-API rates for a request with `prompt_tokens` prompt tokens, or `None` when
    /// the table lists no batch input or output price for the model (unknown, not guessed).
    /// Cached and reasoning tokens fall back as in [`ModelRates::effective_at`], within the
    /// batch rates.
    pub fn batch_effective(&self, prompt_tokens: u64) -> Option<EffectiveRates> {
        let batch = self.batch.as_ref()?;
        let tiers = passed(&batch.tiers, self.threshold(), prompt_tokens);
        let rates = layered(batch.rates.clone(), &tiers);
        let (input, output) = (rates.input?, rates.output?);
        let cache_write = rates.cache_write.unwrap_or(input);
        Some(EffectiveRates {
            input,
            output,
            cache_read: rates.cache_read.unwrap_or(input),
            cache_write,
            cache_write_1h: rates.cache_write_1h.unwrap_or(cache_write),
            cache_write_12h: rates.cache_write_12h.unwrap_or(cache_write),
            reasoning: rates.reasoning.unwrap_or(output),
            tier_above: tiers.last().map(|t| t.above),
            off_peak: false,
        })
    }

    /// The first rate that is not a finite number ≥ 0, as (field, value).
    pub fn invalid_rate(&self) -> Option<(&'static str, f64)> {
        let sets = std::iter::once(self.base())
            .chain(self.tiers.iter().map(|t| t.rates.clone()))
            .chain(self.off_peak.iter().map(|o| o.rates.clone()))
            .chain(self.batch.iter().flat_map(|b| {
                std::iter::once(b.rates.clone()).chain(b.tiers.iter().map(|t| t.rates.clone()))
            }));
        sets.flat_map(|s| s.named())
            .find_map(|(field, rate)| rate.filter(|r| !usable(*r)).map(|r| (field, r)))
    }
}

/// The tiers a prompt of `prompt_tokens` passes, lowest threshold first.
fn passed(tiers: &[RateTier], threshold: Threshold, prompt_tokens: u64) -> Vec<&RateTier> {
    let mut passed: Vec<&RateTier> = tiers
        .iter()
        .filter(|t| threshold.admits(prompt_tokens, t.above))
        .collect();
    passed.sort_by_key(|t| t.above);
    passed
}

/// `base` with each passed tier's rates laid over it, lowest first.
fn layered(mut base: RateSet, tiers: &[&RateTier]) -> RateSet {
    for tier in tiers {
        for field in FIELDS {
            if let Some(rate) = tier.rates.get(field) {
                base.set(field, rate);
            }
        }
    }
    base
}

const FIELDS: [RateField; 7] = [
    RateField::Input,
    RateField::Output,
    RateField::CacheRead,
    RateField::CacheWrite,
    RateField::CacheWrite1h,
    RateField::CacheWrite12h,
    RateField::Reasoning,
];

/// A rate that can be used: finite and ≥ 0.
pub(crate) fn usable(rate: f64) -> bool {
    rate.is_finite() && rate >= 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(above: u64, rates: RateSet) -> RateTier {
        RateTier { above, rates }
    }

    #[test]
    fn the_highest_passed_tier_listing_a_rate_gives_it() {
        let r = ModelRates {
            input: 1.0,
            output: 2.0,
            cache_read: Some(0.1),
            tiers: vec![
                tier(
                    32_000,
                    RateSet {
                        input: Some(3.0),
                        cache_read: Some(0.3),
                        ..RateSet::default()
                    },
                ),
                tier(
                    256_000,
                    RateSet {
                        input: Some(5.0),
                        output: Some(6.0),
                        ..RateSet::default()
                    },
                ),
            ],
            ..ModelRates::default()
        };
        assert_eq!(r.effective(32_000).tier_above, None);
        let mid = r.effective(32_001);
        assert_eq!(
            (mid.tier_above, mid.input, mid.output, mid.cache_read),
            (Some(32_000), 3.0, 2.0, 0.3)
        );
        let high = r.effective(300_000);
        // The 256k tier lists no cache-read rate: the 32k tier's, not the base one.
        assert_eq!((high.input, high.output, high.cache_read), (5.0, 6.0, 0.3));
        // No cache-write or reasoning rate anywhere: input and output rates.
        assert_eq!((high.cache_write, high.reasoning), (5.0, 6.0));
        assert_eq!((high.cache_write_1h, high.cache_write_12h), (5.0, 5.0));
    }

    #[test]
    fn xai_reaches_its_tier_at_the_threshold_others_only_past_it() {
        let mut r = ModelRates {
            input: 1.0,
            output: 1.0,
            tiers: vec![tier(
                200_000,
                RateSet {
                    input: Some(2.0),
                    ..RateSet::default()
                },
            )],
            litellm_provider: Some("anthropic".into()),
            ..ModelRates::default()
        };
        assert_eq!(r.effective(200_000).input, 1.0);
        assert_eq!(r.effective(200_001).input, 2.0);
        r.litellm_provider = Some("xai".into());
        assert_eq!(r.effective(199_999).input, 1.0);
        assert_eq!(r.effective(200_000).input, 2.0);
    }

    #[test]
    fn batch_rates_are_unknown_unless_listed() {
        let mut r = ModelRates {
            input: 1.0,
            output: 2.0,
            ..ModelRates::default()
        };
        assert_eq!(r.batch_effective(10), None);
        r.batch = Some(BatchRates {
            rates: RateSet {
                input: Some(0.5),
                ..RateSet::default()
            },
            tiers: Vec::new(),
        });
        assert_eq!(r.batch_effective(10), None, "no batch output price");
        r.batch = Some(BatchRates {
            rates: RateSet {
                input: Some(0.5),
                output: Some(1.0),
                ..RateSet::default()
            },
            tiers: vec![tier(
                200_000,
                RateSet {
                    input: Some(0.75),
                    ..RateSet::default()
                },
            )],
        });
        let low = r.batch_effective(10).unwrap();
        assert_eq!((low.input, low.output, low.cache_read), (0.5, 1.0, 0.5));
        let high = r.batch_effective(200_001).unwrap();
        assert_eq!((high.input, high.tier_above), (0.75, Some(200_000)));
    }

    #[test]
    fn a_bad_rate_anywhere_is_found() {
        let mut r = ModelRates {
            input: 1.0,
            output: 2.0,
            ..ModelRates::default()
        };
        assert_eq!(r.invalid_rate(), None);
        r.batch = Some(BatchRates {
            rates: RateSet::default(),
            tiers: vec![tier(
                1,
                RateSet {
                    cache_write_1h: Some(-1.0),
                    ..RateSet::default()
                },
            )],
        });
        assert_eq!(r.invalid_rate(), Some(("cache_write_1h", -1.0)));
    }
}

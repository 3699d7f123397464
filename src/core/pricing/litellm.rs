//! The import of LiteLLM's `model_prices_and_context_window.json`: the one implementation,
//! used both by the app (a file the user brings) and by `examples/gen-pricing.rs`, which
//! writes `public/pricing.json`.
//!
//! What is kept, and why:
//! - entries whose `mode` is `chat` or `responses` (the agents only make chat calls), priced
//!   per token: `input_cost_per_token` and `output_cost_per_token`, or a `tiered_pricing` list;
//!   without a price a call cannot be priced, and a missing price stays unknown, never 0;
//! - their cache-read, cache-write (per lifetime: 5 minutes, 1 hour, 12 hours) and reasoning
//!   rates, the long-prompt tiers (`<rate>_above_<N>k_tokens` keys and `tiered_pricing`
//!   ranges), the off-peak block (`off_peak_pricing`), the batch-API rates (`*_batches`) and
//!   `litellm_provider`; flex, priority and other service tiers, audio, image and per-query
//!   fees are left out (the app never asks for them);
//! - the names LiteLLM declares as aliases (`alias_of`, and `aliases` lists), each standing for
//!   the entry it names, when that entry is kept;
//! - a rate counts only if it is a JSON number (not a boolean or a string) that is finite and
//!   ≥ 0; a malformed tier, range or window leaves out the block it is in.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::{PricingError, PRICE_FILE_LIMITS};
use super::off_peak::{DaySpan, OffPeak, OffPeakWindow};
use super::rates::{usable, BatchRates, ModelRates, RateField, RateSet, RateTier};
use super::table::{PricingHeader, PricingTable};
use super::LITELLM_SOURCE;
use crate::core::guard;

/// Model modes of LiteLLM entries that are kept.
const CHAT_MODES: &[&str] = &["chat", "responses"];

/// LiteLLM's rate keys and the field each fills, in USD per token.
const RATE_KEYS: &[(&str, RateField)] = &[
    ("input_cost_per_token", RateField::Input),
    ("output_cost_per_token", RateField::Output),
    ("cache_read_input_token_cost", RateField::CacheRead),
    ("cache_creation_input_token_cost", RateField::CacheWrite),
    (
        "cache_creation_input_token_cost_above_1hr",
        RateField::CacheWrite1h,
    ),
    (
        "cache_creation_input_token_cost_above_12hr",
        RateField::CacheWrite12h,
    ),
    ("output_cost_per_reasoning_token", RateField::Reasoning),
];

/// The suffix of LiteLLM's batch-API rate keys.
const BATCH_SUFFIX: &str = "_batches";

// NOTE: Fireworks bills cached prompt tokens at half the input price on its serverless models
// (https://docs.fireworks.ai/guides/prompt-caching); LiteLLM's table omits the cache-read key for
// most Fireworks models and its cost code applies that discount itself.
const FIREWORKS_PROVIDER: &str = "fireworks_ai";
const FIREWORKS_CACHE_READ_SHARE: f64 = 0.5;

/// Calendars LiteLLM names for off-peak weekdays, as minutes east of UTC; only zones without
/// daylight saving time, so that a fixed offset is exact.
const WEEKDAY_ZONES: &[(&str, i32)] = &[("UTC", 0), ("Etc/UTC", 0), ("Asia/Shanghai", 480)];

impl PricingTable {
    /// Imports a raw LiteLLM price file (see the module's documentation for what is kept). The
    /// version is `unknown`; see [`PricingTable::from_litellm_file`] to take it from the file
    /// name.
    pub fn from_litellm_json(text: &str) -> Result<Self, PricingError> {
        let value: Value = guard::json_value(text, &PRICE_FILE_LIMITS)?;
        let Value::Object(entries) = value else {
            return Err(PricingError::NotAnObject {
                found: json_kind(&value),
            });
        };
        let rates: BTreeMap<String, ModelRates> = entries
            .iter()
            .filter(|(_, entry)| alias_target(entry).is_none())
            .filter_map(|(key, entry)| litellm_rates(entry).map(|r| (key.clone(), r)))
            .collect();
        if rates.is_empty() {
            return Err(PricingError::NoChatModels {
                entries: entries.len(),
            });
        }
        let aliases = aliases(&entries, &rates);
        let header = PricingHeader {
            source: LITELLM_SOURCE.to_string(),
            version: "unknown".to_string(),
            generated_from: String::new(),
            models: 0,
            aliases: 0,
        };
        Ok(PricingTable::new(header, rates, aliases))
    }

    /// Like [`PricingTable::from_litellm_json`], recording the file name, and the LiteLLM
    /// version when the name carries one (`litellm_model_prices_1.110.2.json`).
    pub fn from_litellm_file(file_name: &str, text: &str) -> Result<Self, PricingError> {
        let mut table = PricingTable::from_litellm_json(text)?;
        table.header.generated_from = file_name.to_string();
        if let Some(version) = version_in_name(file_name) {
            table.header.version = version.to_string();
        }
        Ok(table)
    }

    /// Sets the LiteLLM version recorded in the header (for a file whose name carries none).
    pub fn set_version(&mut self, version: &str) {
        self.header.version = version.to_string();
    }
}

/// The name an `alias_of` row stands for.
fn alias_target(entry: &Value) -> Option<&str> {
    entry.get("alias_of").and_then(Value::as_str)
}

/// Alias name → kept key: `alias_of` rows, then `aliases` lists, as LiteLLM serves them: an
/// alias that is itself a model, points at another alias, or is claimed twice is left out;
/// one that points at a model the table does not keep (not a chat model) is left out too.
fn aliases(
    entries: &Map<String, Value>,
    rates: &BTreeMap<String, ModelRates>,
) -> BTreeMap<String, String> {
    let pointers: BTreeMap<&str, &str> = entries
        .iter()
        .filter_map(|(key, entry)| Some((key.as_str(), alias_target(entry)?)))
        .collect();
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    let mut refused: Vec<String> = Vec::new();
    for (owner, entry) in entries {
        if pointers.contains_key(owner.as_str()) {
            continue;
        }
        let Some(list) = entry.get("aliases").and_then(Value::as_array) else {
            continue;
        };
        for alias in list.iter().filter_map(Value::as_str) {
            let canonical = entries.contains_key(alias) && !pointers.contains_key(alias);
            if canonical {
                continue;
            }
            if claimed.contains_key(alias) {
                refused.push(alias.to_string());
            } else {
                claimed.insert(alias.to_string(), owner.clone());
            }
        }
    }
    for (&alias, &target) in &pointers {
        let target_is_model = entries.contains_key(target) && !pointers.contains_key(target);
        if !target_is_model || claimed.contains_key(alias) {
            continue;
        }
        claimed.insert(alias.to_string(), target.to_string());
    }
    for alias in refused {
        claimed.remove(&alias);
    }
    claimed.retain(|_, target| rates.contains_key(target));
    claimed
}

/// The first `N.N.N` in a file name (leftmost, each part as long as it goes).
pub(super) fn version_in_name(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    let digits_from = |i: usize| {
        let n = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        (n > 0).then_some(i + n)
    };
    (0..bytes.len()).find_map(|start| {
        let mut end = digits_from(start)?;
        for _ in 0..2 {
            if bytes.get(end) != Some(&b'.') {
                return None;
            }
            end = digits_from(end + 1)?;
        }
        Some(&name[start..end])
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A LiteLLM rate value that can be used: a JSON number (booleans are not) that is finite
/// and ≥ 0.
fn litellm_rate(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64().filter(|r| usable(*r)),
        _ => None,
    }
}

/// A rate key's field: `input_cost_per_token` → input.
fn rate_field(key: &str) -> Option<RateField> {
    RATE_KEYS
        .iter()
        .find(|(litellm, _)| *litellm == key)
        .map(|(_, f)| *f)
}

/// `<rate key>_above_<N>k_tokens` (or `_above_<N>_tokens`) → (the rate's field, the threshold
/// in tokens).
fn tier_key(key: &str) -> Option<(RateField, u64)> {
    let rest = key.strip_suffix("_tokens")?;
    let (base, n) = rest.rsplit_once("_above_")?;
    let (digits, scale) = match n.strip_suffix('k') {
        Some(digits) => (digits, 1000),
        None => (n, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let above = digits.parse::<u64>().ok()?.checked_mul(scale)?;
    Some((rate_field(base)?, above))
}

/// The rates and long-prompt tiers an entry lists under keys ending in `suffix` (`""` for the
/// standard rates, [`BATCH_SUFFIX`] for the batch API).
fn rates_with_suffix(entry: &Map<String, Value>, suffix: &str) -> (RateSet, Vec<RateTier>) {
    let mut base = RateSet::default();
    let mut tiers: BTreeMap<u64, RateSet> = BTreeMap::new();
    for (key, value) in entry {
        let (Some(key), Some(rate)) = (key.strip_suffix(suffix), litellm_rate(value)) else {
            continue;
        };
        if !suffix.is_empty() || !key.ends_with(BATCH_SUFFIX) {
            if let Some(field) = rate_field(key) {
                base.set(field, rate);
            } else if let Some((field, above)) = tier_key(key) {
                tiers.entry(above).or_default().set(field, rate);
            }
        }
    }
    let tiers = tiers
        .into_iter()
        .map(|(above, rates)| RateTier { above, rates })
        .collect();
    (base, tiers)
}

/// One LiteLLM entry as our rates, or `None` when it is not a chat model priced per token.
fn litellm_rates(entry: &Value) -> Option<ModelRates> {
    let entry = entry.as_object()?;
    let mode = entry.get("mode").and_then(Value::as_str)?;
    if !CHAT_MODES.contains(&mode) {
        return None;
    }
    let (base, tiers) = rates_with_suffix(entry, "");
    let provider = entry
        .get("litellm_provider")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut rates = match entry.get("tiered_pricing").and_then(ranged_tiers) {
        Some(ranges) => from_ranges(&base, ranges)?,
        None => ModelRates {
            input: base.input?,
            output: base.output?,
            cache_read: base.cache_read,
            cache_write: base.cache_write,
            cache_write_1h: base.cache_write_1h,
            cache_write_12h: base.cache_write_12h,
            reasoning: base.reasoning,
            tiers,
            ..ModelRates::default()
        },
    };
    if provider.as_deref() == Some(FIREWORKS_PROVIDER) && rates.cache_read.is_none() {
        rates.cache_read = Some(rates.input * FIREWORKS_CACHE_READ_SHARE);
    }
    rates.off_peak = entry.get("off_peak_pricing").and_then(off_peak);
    let (batch, batch_tiers) = rates_with_suffix(entry, BATCH_SUFFIX);
    if !batch.is_empty() || !batch_tiers.is_empty() {
        rates.batch = Some(BatchRates {
            rates: batch,
            tiers: batch_tiers,
        });
    }
    rates.litellm_provider = provider;
    Some(rates)
}

/// A `tiered_pricing` list as (lower bound, rates) sorted by bound, when every tier has a
/// `[from, to]` range and an input rate; `None` otherwise (LiteLLM then uses the flat rates).
fn ranged_tiers(list: &Value) -> Option<Vec<(u64, RateSet)>> {
    let mut ranges = Vec::new();
    for tier in list.as_array()? {
        let tier = tier.as_object()?;
        let bounds = tier.get("range")?.as_array()?;
        let [from, _to] = bounds.as_slice() else {
            return None;
        };
        let from = from.as_f64().filter(|f| usable(*f) && f.fract() == 0.0)? as u64;
        let mut rates = RateSet::default();
        for (key, value) in tier {
            if let (Some(field), Some(rate)) = (rate_field(key), litellm_rate(value)) {
                rates.set(field, rate);
            }
        }
        rates.input?;
        ranges.push((from, rates));
    }
    ranges.sort_by_key(|(from, _)| *from);
    (!ranges.is_empty()).then_some(ranges)
}

/// Rates from `tiered_pricing` ranges (Alibaba's Model Studio and the like). Every token of a
/// request is billed at the one range its prompt falls in (`from < prompt <= to`), as
/// <https://www.alibabacloud.com/help/en/model-studio/models> bills them; above the last range,
/// the last range. The first range gives the base rates, each further one a tier above its
/// lower bound. Each range's rates are written out whole, so that nothing falls back to a lower
/// range: no cache rate means the range's input rate, no output rate the entry's own, no
/// reasoning rate the range's output rate (LiteLLM reads them so). `None` when no output rate
/// is known (a price left unknown, never 0).
fn from_ranges(flat: &RateSet, ranges: Vec<(u64, RateSet)>) -> Option<ModelRates> {
    let mut whole = ranges.into_iter().map(|(from, r)| {
        let input = r.input?;
        let output = r.output.or(flat.output)?;
        let cache_write = r.cache_write.unwrap_or(input);
        let rates = RateSet {
            input: Some(input),
            output: Some(output),
            cache_read: Some(r.cache_read.unwrap_or(input)),
            cache_write: Some(cache_write),
            cache_write_1h: Some(r.cache_write_1h.unwrap_or(cache_write)),
            cache_write_12h: Some(r.cache_write_12h.unwrap_or(cache_write)),
            reasoning: Some(
                r.reasoning
                    .or(r.output)
                    .or(flat.reasoning)
                    .unwrap_or(output),
            ),
        };
        Some((from, rates))
    });
    let (_, first) = whole.next()??;
    let tiers: Option<Vec<RateTier>> = whole
        .map(|r| r.map(|(above, rates)| RateTier { above, rates }))
        .collect();
    Some(ModelRates {
        input: first.input?,
        output: first.output?,
        cache_read: first.cache_read,
        cache_write: first.cache_write,
        cache_write_1h: first.cache_write_1h,
        cache_write_12h: first.cache_write_12h,
        reasoning: first.reasoning,
        tiers: tiers?,
        ..ModelRates::default()
    })
}

/// An `off_peak_pricing` block: its rates, its every-day `hours_utc` and its `windows` of hours
/// on weekdays. `None` when a span, a weekday or the weekday calendar cannot be read, or when
/// it sets no rate or no window.
fn off_peak(block: &Value) -> Option<OffPeak> {
    let block = block.as_object()?;
    let mut rates = RateSet::default();
    for (key, value) in block {
        if let (Some(field), Some(rate)) = (rate_field(key), litellm_rate(value)) {
            rates.set(field, rate);
        }
    }
    let mut windows = Vec::new();
    if let Some(hours) = block.get("hours_utc") {
        windows.push(OffPeakWindow {
            hours_utc: spans(hours)?,
            weekdays: Vec::new(),
        });
    }
    if let Some(list) = block.get("windows") {
        for window in list.as_array()? {
            let weekdays = match window.get("weekdays") {
                None => Vec::new(),
                Some(days) => days
                    .as_array()?
                    .iter()
                    .map(|d| d.as_u64().filter(|d| (1..=7).contains(d)).map(|d| d as u8))
                    .collect::<Option<Vec<u8>>>()?,
            };
            windows.push(OffPeakWindow {
                hours_utc: spans(window.get("hours_utc")?)?,
                weekdays,
            });
        }
    }
    let weekday_offset_minutes = match block.get("weekday_timezone") {
        None => 0,
        Some(zone) => {
            let zone = zone.as_str()?;
            WEEKDAY_ZONES.iter().find(|(z, _)| *z == zone)?.1
        }
    };
    (!rates.is_empty() && !windows.is_empty()).then_some(OffPeak {
        rates,
        windows,
        weekday_offset_minutes,
    })
}

/// `"HH:MM-HH:MM"` or a list of them.
fn spans(value: &Value) -> Option<Vec<DaySpan>> {
    let one = |v: &Value| DaySpan::try_from(v.as_str()?.to_string()).ok();
    match value {
        Value::Array(list) => list.iter().map(one).collect(),
        other => Some(vec![one(other)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_keys_parse_any_threshold_and_nothing_else() {
        assert_eq!(
            tier_key("input_cost_per_token_above_200k_tokens"),
            Some((RateField::Input, 200_000))
        );
        assert_eq!(
            tier_key("cache_read_input_token_cost_above_32k_tokens"),
            Some((RateField::CacheRead, 32_000))
        );
        assert_eq!(
            tier_key("cache_creation_input_token_cost_above_1hr_above_200k_tokens"),
            Some((RateField::CacheWrite1h, 200_000))
        );
        assert_eq!(
            tier_key("input_cost_per_token_above_128000_tokens"),
            Some((RateField::Input, 128_000))
        );
        assert_eq!(
            tier_key("input_cost_per_token_above_200k_tokens_batches"),
            None
        );
        assert_eq!(
            tier_key("input_cost_per_audio_token_above_200k_tokens"),
            None
        );
        assert_eq!(tier_key("input_cost_per_token_above_k_tokens"), None);
    }

    #[test]
    fn versions_come_from_file_names() {
        assert_eq!(
            version_in_name("litellm_model_prices_1.110.2.json"),
            Some("1.110.2")
        );
        assert_eq!(version_in_name("prices-v2.0.json"), None);
        assert_eq!(version_in_name("model_prices.json"), None);
        assert_eq!(version_in_name("a1.2.3.4b"), Some("1.2.3"));
    }
}

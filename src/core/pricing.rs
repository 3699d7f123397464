//! What models cost: the price table (LiteLLM's, compacted by `scripts/gen-pricing` into
//! `public/pricing.json`), the user's own prices, and the lookup that turns a provider and a
//! model name into rates and says where they came from.
//!
//! The table is a static asset the app fetches when it needs prices; it is not compiled into
//! the wasm. [`PricingTable::from_json`] reads that asset, [`PricingTable::from_litellm_json`]
//! reads a raw LiteLLM `model_prices_and_context_window.json` a user brings, with the same rules
//! as the script (tests check both give the same table).
//!
//! [`Pricer`] is what the rest of the app asks: overrides first, then the local-model rule, then
//! the table; the answer is a [`Price`] that is either known, with its [`PriceSource`], or
//! unknown. An unknown price is never treated as 0.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::guard::{self, Limits, ReadError};
use crate::core::model::resolve_model;

/// Where the app fetches the generated table (trunk copies `public/` into the build as is).
pub const PRICING_ASSET_URL: &str = "/public/pricing.json";

/// The name of LiteLLM's price file, recorded in the table's header.
pub const LITELLM_SOURCE: &str = "LiteLLM model_prices_and_context_window.json";

/// Model modes of LiteLLM entries that are kept: the agents only make chat calls.
const CHAT_MODES: &[&str] = &["chat", "responses"];

/// LiteLLM's rate keys and the field each fills, in USD per token.
const RATE_KEYS: &[(&str, RateField)] = &[
    ("input_cost_per_token", RateField::Input),
    ("output_cost_per_token", RateField::Output),
    ("cache_read_input_token_cost", RateField::CacheRead),
    ("cache_creation_input_token_cost", RateField::CacheWrite),
    ("output_cost_per_reasoning_token", RateField::Reasoning),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RateField {
    Input,
    Output,
    CacheRead,
    CacheWrite,
    Reasoning,
}

/// Where a table came from, as written at the top of `pricing.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingHeader {
    /// Always [`LITELLM_SOURCE`].
    pub source: String,
    /// LiteLLM's version of the file (`1.110.2`), or `unknown`.
    pub version: String,
    /// The file name the table was built from (empty when not known).
    pub generated_from: String,
    /// How many models the table holds.
    pub models: u64,
}

/// Rates that apply instead of the base ones once a request's prompt exceeds `above` tokens
/// (LiteLLM's `..._above_<N>k_tokens` keys). A rate the tier leaves out stays the base rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateTier {
    /// The threshold in prompt tokens (N × 1000); the tier applies when the prompt has more.
    pub above: u64,
    /// USD per uncached prompt token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<f64>,
    /// USD per generated token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<f64>,
    /// USD per prompt token read from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// USD per prompt token written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// USD per reasoning token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
}

impl RateTier {
    fn empty(above: u64) -> Self {
        RateTier {
            above,
            input: None,
            output: None,
            cache_read: None,
            cache_write: None,
            reasoning: None,
        }
    }

    fn set(&mut self, field: RateField, rate: f64) {
        let slot = match field {
            RateField::Input => &mut self.input,
            RateField::Output => &mut self.output,
            RateField::CacheRead => &mut self.cache_read,
            RateField::CacheWrite => &mut self.cache_write,
            RateField::Reasoning => &mut self.reasoning,
        };
        *slot = Some(rate);
    }

    fn rates(&self) -> [(&'static str, Option<f64>); 5] {
        [
            ("input", self.input),
            ("output", self.output),
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
            ("reasoning", self.reasoning),
        ]
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
    /// USD per prompt token written to the cache; absent means the input rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// USD per reasoning token; absent means reasoning is billed as output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
    /// Long-prompt rates, sorted by threshold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<RateTier>,
    /// LiteLLM's provider name for the entry (`openai`, `vertex_ai-language-models`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub litellm_provider: Option<String>,
}

/// The rates that apply to one request, tiers and fallbacks resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectiveRates {
    /// USD per uncached prompt token.
    pub input: f64,
    /// USD per generated token that is not reasoning.
    pub output: f64,
    /// USD per prompt token read from the cache.
    pub cache_read: f64,
    /// USD per prompt token written to the cache.
    pub cache_write: f64,
    /// USD per reasoning token.
    pub reasoning: f64,
    /// The threshold of the tier that applied, if one did.
    pub tier_above: Option<u64>,
}

impl ModelRates {
    /// Rates of a model that costs nothing (a local server).
    pub fn free() -> Self {
        ModelRates::default()
    }

    /// The tier for a request with `prompt_tokens` prompt tokens (cached ones included): the one
    /// with the highest threshold the prompt exceeds, if any.
    pub fn tier_for(&self, prompt_tokens: u64) -> Option<&RateTier> {
        self.tiers
            .iter()
            .filter(|t| prompt_tokens > t.above)
            .max_by_key(|t| t.above)
    }

    /// The rates for a request with `prompt_tokens` prompt tokens.
    ///
    /// Inside a tier each rate is the tier's, or the base rate when the tier has none (as
    /// LiteLLM does). Then: no cache-read or cache-write rate means the input rate (a provider
    /// that lists no cache price bills cached tokens as plain input, and LiteLLM's table omits
    /// the key for models without a discount); no reasoning rate means the output rate
    /// (OpenAI, Anthropic and Gemini bill reasoning as output).
    pub fn effective(&self, prompt_tokens: u64) -> EffectiveRates {
        let tier = self.tier_for(prompt_tokens);
        let input = tier.and_then(|t| t.input).unwrap_or(self.input);
        let output = tier.and_then(|t| t.output).unwrap_or(self.output);
        EffectiveRates {
            input,
            output,
            cache_read: tier
                .and_then(|t| t.cache_read)
                .or(self.cache_read)
                .unwrap_or(input),
            cache_write: tier
                .and_then(|t| t.cache_write)
                .or(self.cache_write)
                .unwrap_or(input),
            reasoning: tier
                .and_then(|t| t.reasoning)
                .or(self.reasoning)
                .unwrap_or(output),
            tier_above: tier.map(|t| t.above),
        }
    }

    fn check(&self, model: &str) -> Result<(), PricingError> {
        let base = [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
            ("reasoning", self.reasoning),
        ];
        let tiers = self.tiers.iter().flat_map(|t| t.rates());
        for (field, rate) in base.into_iter().chain(tiers) {
            if let Some(value) = rate {
                if !usable(value) {
                    return Err(PricingError::InvalidRate {
                        model: model.to_string(),
                        field,
                        value,
                    });
                }
            }
        }
        Ok(())
    }
}

fn usable(rate: f64) -> bool {
    rate.is_finite() && rate >= 0.0
}

/// What a price file may hold: 32 MiB, 32 levels of nesting, 2 million values. LiteLLM's
/// file is a few MB, a few levels deep.
pub const PRICE_FILE_LIMITS: Limits = Limits {
    max_bytes: 32 * 1024 * 1024,
    max_depth: 32,
    max_nodes: 2_000_000,
};

/// Why a price file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingError {
    /// Over [`PRICE_FILE_LIMITS`], or not readable at all.
    #[error("the price file {0}; a price file is one JSON object of models")]
    Unreadable(ReadError),
    /// Not JSON at all.
    #[error("the price file is not valid JSON: {message} (line {line}, column {column})")]
    Syntax {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the parser found.
        message: String,
    },
    /// JSON, but not in the shape of Trialogue's `pricing.json`.
    #[error(
        "the price table is not in the expected shape: {message} (line {line}, column {column}); \
         expected the `pricing.json` made by scripts/gen-pricing, with `header` and `rates` \
         (to import LiteLLM's own file, use the LiteLLM import)"
    )]
    Shape {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A LiteLLM file whose top level is not an object of models.
    #[error(
        "the price file is JSON but its top level is {found}, not an object of models; expected \
         LiteLLM's model_prices_and_context_window.json"
    )]
    NotAnObject {
        /// What the top level is (`an array`, `a string`, …).
        found: &'static str,
    },
    /// A LiteLLM file with nothing usable in it.
    #[error(
        "the price file has {entries} entries but no chat model with per-token prices (mode \
         \"chat\" or \"responses\" with both input_cost_per_token and output_cost_per_token); is \
         it LiteLLM's model_prices_and_context_window.json?"
    )]
    NoChatModels {
        /// How many top-level entries the file has.
        entries: usize,
    },
    /// The header's model count disagrees with the rates.
    #[error(
        "the price table says it holds {expected} models but has {found}; the file looks \
         truncated: fetch or generate it again (scripts/gen-pricing)"
    )]
    CountMismatch {
        /// The header's `models`.
        expected: u64,
        /// How many entries `rates` has.
        found: u64,
    },
    /// A negative rate.
    #[error("the price of `{model}` is invalid: its {field} rate is {value}, but rates must be ≥ 0 (USD per token)")]
    InvalidRate {
        /// The model's key.
        model: String,
        /// Which rate (`input`, `cache_read`, …).
        field: &'static str,
        /// The rate found.
        value: f64,
    },
}

impl From<ReadError> for PricingError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Syntax {
                line,
                column,
                message,
            } => PricingError::Syntax {
                line,
                column,
                message,
            },
            other => PricingError::Unreadable(other),
        }
    }
}

impl PricingError {
    fn from_serde(e: &serde_json::Error) -> Self {
        let full = e.to_string();
        // serde_json appends " at line L column C"; the variant carries those apart.
        let message = match full.rsplit_once(" at line ") {
            Some((message, _)) => message.to_string(),
            None => full,
        };
        let (line, column) = (e.line(), e.column());
        match e.classify() {
            serde_json::error::Category::Data => PricingError::Shape {
                line,
                column,
                message,
            },
            _ => PricingError::Syntax {
                line,
                column,
                message,
            },
        }
    }
}

/// The price table: rates per LiteLLM model key.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingTable {
    header: PricingHeader,
    rates: BTreeMap<String, ModelRates>,
    /// Undated name → its latest dated key, for names LiteLLM only lists with a date.
    dated: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct Asset {
    header: PricingHeader,
    rates: BTreeMap<String, ModelRates>,
}

impl PricingTable {
    /// A table from its parts (the header's `models` is set to the number of rates).
    pub fn new(mut header: PricingHeader, rates: BTreeMap<String, ModelRates>) -> Self {
        header.models = rates.len() as u64;
        let mut dated: BTreeMap<String, String> = BTreeMap::new();
        for key in rates.keys() {
            if let Some((base, date)) = split_date(key) {
                let newer = match dated.get(base) {
                    Some(current) => split_date(current)
                        .is_none_or(|(_, d)| (date.as_str(), key.as_str()) > (d.as_str(), current)),
                    None => true,
                };
                if newer {
                    dated.insert(base.to_string(), key.clone());
                }
            }
        }
        PricingTable {
            header,
            rates,
            dated,
        }
    }

    /// Reads `pricing.json` as written by `scripts/gen-pricing`.
    pub fn from_json(text: &str) -> Result<Self, PricingError> {
        guard::check_json(text, &PRICE_FILE_LIMITS)?;
        let asset: Asset = serde_json::from_str(text).map_err(|e| PricingError::from_serde(&e))?;
        let found = asset.rates.len() as u64;
        if asset.header.models != found {
            return Err(PricingError::CountMismatch {
                expected: asset.header.models,
                found,
            });
        }
        for (model, rates) in &asset.rates {
            rates.check(model)?;
        }
        Ok(PricingTable::new(asset.header, asset.rates))
    }

    /// Imports a raw LiteLLM price file, keeping what `scripts/gen-pricing` keeps (see its
    /// header): chat and responses models with both an input and an output price, their cache,
    /// reasoning and `_above_<N>k_tokens` rates, and `litellm_provider`. A rate that is not a
    /// finite number ≥ 0 is left out. The version is `unknown`; see
    /// [`PricingTable::from_litellm_file`] to take it from the file name.
    pub fn from_litellm_json(text: &str) -> Result<Self, PricingError> {
        let value: Value = guard::json_value(text, &PRICE_FILE_LIMITS)?;
        let Value::Object(entries) = value else {
            return Err(PricingError::NotAnObject {
                found: json_kind(&value),
            });
        };
        let rates: BTreeMap<String, ModelRates> = entries
            .iter()
            .filter_map(|(key, entry)| litellm_rates(entry).map(|r| (key.clone(), r)))
            .collect();
        if rates.is_empty() {
            return Err(PricingError::NoChatModels {
                entries: entries.len(),
            });
        }
        let header = PricingHeader {
            source: LITELLM_SOURCE.to_string(),
            version: "unknown".to_string(),
            generated_from: String::new(),
            models: 0,
        };
        Ok(PricingTable::new(header, rates))
    }

    /// Like [`PricingTable::from_litellm_json`], recording the file name, and the LiteLLM
    /// version when the name carries one (`litellm_model_prices_1.110.2.json`), as the script does.
    pub fn from_litellm_file(file_name: &str, text: &str) -> Result<Self, PricingError> {
        let mut table = PricingTable::from_litellm_json(text)?;
        table.header.generated_from = file_name.to_string();
        if let Some(version) = version_in_name(file_name) {
            table.header.version = version.to_string();
        }
        Ok(table)
    }

    /// The table in `pricing.json` form (compact, keys sorted), e.g. to keep an imported table.
    pub fn to_json(&self) -> String {
        let asset = Asset {
            header: self.header.clone(),
            rates: self.rates.clone(),
        };
        serde_json::to_string(&asset).unwrap_or_default()
    }

    /// Where the table came from.
    pub fn header(&self) -> &PricingHeader {
        &self.header
    }

    /// Every model's rates, by LiteLLM key.
    pub fn rates(&self) -> &BTreeMap<String, ModelRates> {
        &self.rates
    }

    /// The rates stored under exactly `key`.
    pub fn get(&self, key: &str) -> Option<&ModelRates> {
        self.rates.get(key)
    }

    /// How many models the table prices.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    /// Whether the table prices no model.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// Finds the entry for a model served by `provider` (our provider id, or `""` when unknown,
    /// in which case `model` may carry a `provider/` prefix), returning its LiteLLM key.
    ///
    /// Tried in order, each pass over every candidate name before the next pass:
    /// 1. exact keys: `provider/model`; LiteLLM's own prefix for the provider
    ///    (`gemini/…`, `anthropic/…`, `cohere_chat/…`, `openrouter/…`); the bare `model`.
    ///    The provider's own prefix comes before the bare name because LiteLLM's bare Gemini
    ///    names are Vertex AI's entries, whose prices differ in places from the Gemini API's.
    /// 2. the same names without a trailing date (`-YYYYMMDD` or `-YYYY-MM-DD`), for a dated
    ///    snapshot LiteLLM does not list (`claude-sonnet-4-5-20991231` → `claude-sonnet-4-5`);
    /// 3. the latest dated key of an undated name LiteLLM only lists with dates.
    ///
    /// OpenRouter models not in the table are priced as their upstream provider's model
    /// (`openrouter/anthropic/claude-sonnet-4.5` → `claude-sonnet-4-5`): OpenRouter passes the
    /// underlying provider's prices through (<https://openrouter.ai/docs/faq>).
    pub fn lookup(&self, provider: &str, model: &str) -> Option<(&str, &ModelRates)> {
        let names = if provider.is_empty() {
            match model.split_once('/') {
                Some((prefix, rest)) if !rest.is_empty() => {
                    let mut names = vec![model.to_string()];
                    names.extend(candidate_names(prefix, rest));
                    names
                }
                _ => vec![model.to_string()],
            }
        } else {
            candidate_names(provider, model)
        };
        if let Some(found) = self.find(&names) {
            return Some(found);
        }
        let (provider, model) = match (provider, model.split_once('/')) {
            ("", Some((prefix, rest))) => (prefix, rest),
            _ => (provider, model),
        };
        if provider != "openrouter" {
            return None;
        }
        let (vendor, name) = model.split_once('/')?;
        let upstream = match vendor {
            "google" => "gemini",
            other => other,
        };
        let mut names = candidate_names(upstream, name);
        if upstream == "anthropic" {
            // OpenRouter writes Claude versions with dots (`claude-sonnet-4.5`), Anthropic and
            // LiteLLM with dashes (`claude-sonnet-4-5`).
            names.extend(candidate_names(upstream, &dots_to_dashes(name)));
        }
        self.find(&names)
    }

    fn find(&self, names: &[String]) -> Option<(&str, &ModelRates)> {
        let get = |key: &str| self.rates.get_key_value(key).map(|(k, v)| (k.as_str(), v));
        names
            .iter()
            .find_map(|n| get(n))
            .or_else(|| {
                names
                    .iter()
                    .find_map(|n| split_date(n).and_then(|(base, _)| get(base)))
            })
            .or_else(|| {
                names
                    .iter()
                    .find_map(|n| self.dated.get(n.as_str()).and_then(|k| get(k)))
            })
    }
}

/// The names a model may be listed under, most specific first, without repeats.
fn candidate_names(provider: &str, model: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut push = |name: String| {
        if !names.contains(&name) {
            names.push(name);
        }
    };
    if !provider.is_empty() {
        push(format!("{provider}/{model}"));
    }
    for prefix in litellm_prefixes(provider) {
        push(format!("{prefix}/{model}"));
    }
    push(model.to_string());
    names
}

/// LiteLLM's key prefixes for one of our provider ids.
fn litellm_prefixes(provider: &str) -> &'static [&'static str] {
    match provider {
        "openai" => &["openai"],
        "anthropic" => &["anthropic"],
        "gemini" => &["gemini"],
        "cohere" | "cohere_chat" => &["cohere_chat", "cohere"],
        "openrouter" => &["openrouter"],
        _ => &[],
    }
}

/// `claude-3.5-sonnet` → `claude-3-5-sonnet`: a dot between two digits becomes a dash.
fn dots_to_dashes(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let between_digits = i > 0
                && i + 1 < chars.len()
                && chars[i - 1].is_ascii_digit()
                && chars[i + 1].is_ascii_digit();
            if c == '.' && between_digits {
                '-'
            } else {
                c
            }
        })
        .collect()
}

/// Splits a trailing `-YYYYMMDD` or `-YYYY-MM-DD` (years 2000–2099) off a model name, returning
/// the name before it and the date as `YYYYMMDD`.
fn split_date(name: &str) -> Option<(&str, String)> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let plausible = |d: &str| d.starts_with("20");
    if let Some((base, date)) = name.rsplit_once('-') {
        if date.len() == 8 && digits(date) && plausible(date) && !base.is_empty() {
            return Some((base, date.to_string()));
        }
    }
    if name.len() > 11 && name.is_char_boundary(name.len() - 11) {
        let (base, tail) = name.split_at(name.len() - 11);
        let b = tail.as_bytes();
        if b[0] == b'-' && b[5] == b'-' && b[8] == b'-' {
            let (y, m, d) = (&tail[1..5], &tail[6..8], &tail[9..11]);
            if digits(y) && digits(m) && digits(d) && plausible(y) {
                return Some((base, format!("{y}{m}{d}")));
            }
        }
    }
    None
}

/// The first `N.N.N` in a file name (leftmost, each part as long as it goes), as the script's
/// regex `[0-9]+\.[0-9]+\.[0-9]+` finds it.
fn version_in_name(name: &str) -> Option<&str> {
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

/// `<rate key>_above_<N>k_tokens` → (the rate's field, N × 1000).
fn tier_key(key: &str) -> Option<(RateField, u64)> {
    let rest = key.strip_suffix("k_tokens")?;
    let (base, n) = rest.rsplit_once("_above_")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = RATE_KEYS
        .iter()
        .find(|(litellm, _)| *litellm == base)
        .map(|(_, f)| *f)?;
    let above = n.parse::<u64>().ok()?.checked_mul(1000)?;
    Some((field, above))
}

/// One LiteLLM entry as our rates, or `None` when it is not a priced chat model.
fn litellm_rates(entry: &Value) -> Option<ModelRates> {
    let entry = entry.as_object()?;
    let mode = entry.get("mode").and_then(Value::as_str)?;
    if !CHAT_MODES.contains(&mode) {
        return None;
    }
    let rate = |key: &str| entry.get(key).and_then(litellm_rate);
    let mut tiers: BTreeMap<u64, RateTier> = BTreeMap::new();
    for (key, value) in entry {
        if let (Some((field, above)), Some(r)) = (tier_key(key), litellm_rate(value)) {
            tiers
                .entry(above)
                .or_insert_with(|| RateTier::empty(above))
                .set(field, r);
        }
    }
    Some(ModelRates {
        input: rate("input_cost_per_token")?,
        output: rate("output_cost_per_token")?,
        cache_read: rate("cache_read_input_token_cost"),
        cache_write: rate("cache_creation_input_token_cost"),
        reasoning: rate("output_cost_per_reasoning_token"),
        tiers: tiers.into_values().collect(),
        litellm_provider: entry
            .get("litellm_provider")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// A user's own price for a model, in USD per **million** tokens, as typed in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateOverride {
    /// USD per million uncached prompt tokens.
    pub input_per_million: f64,
    /// USD per million generated tokens (reasoning included).
    pub output_per_million: f64,
    /// USD per million prompt tokens read from the cache; `None` means the input price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_per_million: Option<f64>,
    /// USD per million prompt tokens written to the cache; `None` means the input price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_million: Option<f64>,
}

impl RateOverride {
    /// An override with input and output prices only.
    pub fn new(input_per_million: f64, output_per_million: f64) -> Self {
        RateOverride {
            input_per_million,
            output_per_million,
            cache_read_per_million: None,
            cache_write_per_million: None,
        }
    }

    /// As per-token rates. An override replaces the whole table entry: no tiers, and reasoning
    /// is billed at the output price.
    pub fn to_rates(&self) -> ModelRates {
        const MILLION: f64 = 1_000_000.0;
        ModelRates {
            input: self.input_per_million / MILLION,
            output: self.output_per_million / MILLION,
            cache_read: self.cache_read_per_million.map(|r| r / MILLION),
            cache_write: self.cache_write_per_million.map(|r| r / MILLION),
            reasoning: None,
            tiers: Vec::new(),
            litellm_provider: None,
        }
    }

    fn check(&self, model: &str) -> Result<(), OverrideError> {
        let prices = [
            ("input", Some(self.input_per_million)),
            ("output", Some(self.output_per_million)),
            ("cache read", self.cache_read_per_million),
            ("cache write", self.cache_write_per_million),
        ];
        for (field, price) in prices {
            if let Some(value) = price {
                if !usable(value) {
                    return Err(OverrideError::InvalidPrice {
                        model: model.to_string(),
                        field,
                        value,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Why a price override was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OverrideError {
    /// No model string.
    #[error("a price override needs a model, e.g. `openai/gpt-4.1-mini` or `gpt-4.1-mini`")]
    EmptyModel,
    /// A price that is negative or not a number.
    #[error("the {field} price for `{model}` must be a number ≥ 0 in USD per million tokens, not {value}")]
    InvalidPrice {
        /// The model string.
        model: String,
        /// Which price (`input`, `output`, `cache read`, `cache write`).
        field: &'static str,
        /// The value given.
        value: f64,
    },
}

/// The user's prices, by model string (`openai/gpt-4o`, `gpt-4o`, `my-vllm/qwen`), applied
/// before the table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, RateOverride>",
    into = "BTreeMap<String, RateOverride>"
)]
pub struct PriceOverrides {
    entries: BTreeMap<String, RateOverride>,
}

impl TryFrom<BTreeMap<String, RateOverride>> for PriceOverrides {
    type Error = OverrideError;
    fn try_from(entries: BTreeMap<String, RateOverride>) -> Result<Self, OverrideError> {
        let mut overrides = PriceOverrides::new();
        for (model, rates) in entries {
            overrides.insert(&model, rates)?;
        }
        Ok(overrides)
    }
}

impl From<PriceOverrides> for BTreeMap<String, RateOverride> {
    fn from(overrides: PriceOverrides) -> Self {
        overrides.entries
    }
}

impl PriceOverrides {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the price of `model` (trimmed), returning the one it replaces.
    pub fn insert(
        &mut self,
        model: &str,
        rates: RateOverride,
    ) -> Result<Option<RateOverride>, OverrideError> {
        let model = model.trim();
        if model.is_empty() {
            return Err(OverrideError::EmptyModel);
        }
        rates.check(model)?;
        Ok(self.entries.insert(model.to_string(), rates))
    }

    /// Removes the price of `model`, returning it.
    pub fn remove(&mut self, model: &str) -> Option<RateOverride> {
        self.entries.remove(model.trim())
    }

    /// The override stored under exactly `model`.
    pub fn get(&self, model: &str) -> Option<&RateOverride> {
        self.entries.get(model)
    }

    /// Every override, by model string.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RateOverride)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many overrides there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Where a known price came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriceSource {
    /// The user's override stored under `key`.
    Override {
        /// The override's model string.
        key: String,
    },
    /// The price table's entry `key`.
    Table {
        /// The LiteLLM key that matched (`gemini/gemini-2.5-pro`, `claude-sonnet-4-5`).
        key: String,
    },
    /// A local model: free by rule, not by a missing price.
    LocalFree,
}

impl std::fmt::Display for PriceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PriceSource::Override { key } => write!(f, "your price for `{key}`"),
            PriceSource::Table { key } => write!(f, "LiteLLM's price for `{key}`"),
            PriceSource::LocalFree => f.write_str("local model, free"),
        }
    }
}

/// Known rates and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// The rates to bill at.
    pub rates: ModelRates,
    /// Where they came from.
    pub source: PriceSource,
}

/// The answer to "what does this model cost?".
#[derive(Debug, Clone, PartialEq)]
pub enum Price {
    /// Known rates.
    Known(Quote),
    /// No override, not local, not in the table: the cost cannot be computed (never 0).
    Unknown,
}

impl Price {
    /// The quote, when the price is known.
    pub fn quote(&self) -> Option<&Quote> {
        match self {
            Price::Known(quote) => Some(quote),
            Price::Unknown => None,
        }
    }

    /// Where the price came from, when known.
    pub fn source(&self) -> Option<&PriceSource> {
        self.quote().map(|q| &q.source)
    }
}

/// Prices models from overrides, the local-model rule and the table, in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricer {
    table: Option<Rc<PricingTable>>,
    overrides: PriceOverrides,
    local_providers: BTreeSet<String>,
}

impl Default for Pricer {
    /// No table, no overrides, and the built-in `local` provider free.
    fn default() -> Self {
        Pricer {
            table: None,
            overrides: PriceOverrides::new(),
            local_providers: BTreeSet::from([crate::core::providers::LOCAL_ID.to_string()]),
        }
    }
}

impl Pricer {
    /// A pricer over `table` (`None` until the table is fetched) and `overrides`, with the
    /// built-in `local` provider free.
    pub fn new(table: Option<Rc<PricingTable>>, overrides: PriceOverrides) -> Self {
        Pricer {
            table,
            overrides,
            ..Pricer::default()
        }
    }

    /// Marks a provider id as a local server whose models cost nothing.
    pub fn with_local_provider(mut self, provider: &str) -> Self {
        self.set_local(provider, true);
        self
    }

    /// Marks (or unmarks) a provider id as local.
    pub fn set_local(&mut self, provider: &str, local: bool) {
        if local {
            self.local_providers.insert(provider.to_string());
        } else {
            self.local_providers.remove(provider);
        }
    }

    /// Whether models of `provider` are free by the local rule.
    pub fn is_local(&self, provider: &str) -> bool {
        self.local_providers.contains(provider)
    }

    /// The table, once loaded.
    pub fn table(&self) -> Option<&PricingTable> {
        self.table.as_deref()
    }

    /// Replaces the table (a fetched asset, or a user's LiteLLM import).
    pub fn set_table(&mut self, table: Option<Rc<PricingTable>>) {
        self.table = table;
    }

    /// The user's prices.
    pub fn overrides(&self) -> &PriceOverrides {
        &self.overrides
    }

    /// The user's prices, to edit.
    pub fn overrides_mut(&mut self) -> &mut PriceOverrides {
        &mut self.overrides
    }

    /// The price of `model` served by `provider`.
    ///
    /// `provider` is our provider id, or `""` when unknown; `model` is then read as a
    /// configured model string (`openai/gpt-4o`, `claude-sonnet-4-5`, `local/smollm2`). A model
    /// that repeats its provider's prefix (`openai`, `openai/gpt-4o`) is read without it.
    ///
    /// When nothing prices `model` as served by `provider` and the name itself carries a
    /// provider (a gateway's `vendor/model`, a failed call's configured string), it is priced as
    /// that provider's model.
    pub fn price_of(&self, provider: &str, model: &str) -> Price {
        let primary = if provider.is_empty() {
            self.split(model)
        } else {
            let name = model
                .strip_prefix(provider)
                .and_then(|m| m.strip_prefix('/'))
                .filter(|m| !m.is_empty())
                .unwrap_or(model);
            (provider.to_string(), name.to_string())
        };
        if let Some(quote) = self.quote_as(&primary.0, &primary.1, model) {
            return Price::Known(quote);
        }
        if !provider.is_empty() && primary.1.contains('/') {
            let (p, m) = self.split(&primary.1);
            if let Some(quote) = self.quote_as(&p, &m, &primary.1) {
                return Price::Known(quote);
            }
        }
        Price::Unknown
    }

    /// Overrides, then the local rule, then the table, for one reading of the model.
    fn quote_as(&self, provider: &str, name: &str, configured: &str) -> Option<Quote> {
        if let Some((key, rates)) = self.find_override(provider, name, configured) {
            return Some(Quote {
                rates: rates.to_rates(),
                source: PriceSource::Override {
                    key: key.to_string(),
                },
            });
        }
        if self.is_local(provider) {
            return Some(Quote {
                rates: ModelRates::free(),
                source: PriceSource::LocalFree,
            });
        }
        let (key, rates) = self.table()?.lookup(provider, name)?;
        Some(Quote {
            rates: rates.clone(),
            source: PriceSource::Table {
                key: key.to_string(),
            },
        })
    }

    /// A configured model string as (provider, model): by the app's own rules where they apply
    /// (`gpt-4o` → openai, `cohere_chat/…` → cohere), else split at the first `/`.
    fn split(&self, model: &str) -> (String, String) {
        let locals: Vec<&str> = self.local_providers.iter().map(String::as_str).collect();
        match resolve_model(model, &locals) {
            Ok(r) => (r.provider, r.model),
            Err(_) => match model.split_once('/') {
                Some((p, m)) if !p.is_empty() && !m.is_empty() => (p.to_string(), m.to_string()),
                _ => (String::new(), model.to_string()),
            },
        }
    }

    /// The override for a model, most specific match first: `provider/model` exactly, the
    /// configured string exactly, a key that means the same model (`gpt-4o` for
    /// `openai/gpt-4o`), the bare model name.
    fn find_override(
        &self,
        provider: &str,
        name: &str,
        configured: &str,
    ) -> Option<(&str, &RateOverride)> {
        if self.overrides.is_empty() {
            return None;
        }
        let full = if provider.is_empty() {
            name.to_string()
        } else {
            format!("{provider}/{name}")
        };
        let exact = |key: &str| self.overrides.entries.get_key_value(key);
        exact(&full)
            .or_else(|| exact(configured))
            .or_else(|| {
                self.overrides
                    .entries
                    .iter()
                    .find(|(key, _)| self.split(key) == (provider.to_string(), name.to_string()))
            })
            .or_else(|| exact(name))
            .map(|(k, v)| (k.as_str(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(input: f64, output: f64) -> ModelRates {
        ModelRates {
            input,
            output,
            ..ModelRates::default()
        }
    }

    fn table(keys: &[&str]) -> PricingTable {
        let header = PricingHeader {
            source: LITELLM_SOURCE.into(),
            version: "test".into(),
            generated_from: String::new(),
            models: 0,
        };
        let rates = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), rates(i as f64, 0.0)))
            .collect();
        PricingTable::new(header, rates)
    }

    #[test]
    fn dates_are_split_in_both_forms_and_only_as_dates() {
        assert_eq!(
            split_date("claude-sonnet-4-5-20250929"),
            Some(("claude-sonnet-4-5", "20250929".to_string()))
        );
        assert_eq!(
            split_date("gpt-4o-2024-08-06"),
            Some(("gpt-4o", "20240806".to_string()))
        );
        assert_eq!(split_date("gpt-4-0613"), None);
        assert_eq!(split_date("command-r-08-2024"), None);
        assert_eq!(split_date("model-12345678"), None);
        assert_eq!(split_date("-20250101"), None);
        // Non-ASCII names never split inside a character.
        assert_eq!(
            split_date("modèle-2024-01-01"),
            Some(("modèle", "20240101".to_string()))
        );
        assert_eq!(split_date("x-é024-01-01"), None);
        assert_eq!(split_date("é2024-01-01"), None);
    }

    #[test]
    fn the_latest_dated_key_stands_for_an_undated_name() {
        let t = table(&[
            "x-audio-2024-12-17",
            "x-audio-2025-06-03",
            "x-audio-20240101",
        ]);
        assert_eq!(
            t.lookup("openai", "x-audio").map(|(k, _)| k),
            Some("x-audio-2025-06-03")
        );
    }

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
            tier_key("input_cost_per_token_above_200k_tokens_batches"),
            None
        );
        assert_eq!(
            tier_key("cache_creation_input_token_cost_above_1hr_above_200k_tokens"),
            None
        );
        assert_eq!(
            tier_key("input_cost_per_audio_token_above_200k_tokens"),
            None
        );
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

    #[test]
    fn openrouter_claude_names_with_dots_find_anthropic_keys() {
        assert_eq!(dots_to_dashes("claude-3.5-sonnet"), "claude-3-5-sonnet");
        assert_eq!(dots_to_dashes("v.1.x"), "v.1.x");
        let t = table(&["claude-sonnet-4-5"]);
        assert_eq!(
            t.lookup("openrouter", "anthropic/claude-sonnet-4.5")
                .map(|(k, _)| k),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(
            t.lookup("", "openrouter/anthropic/claude-sonnet-4.5")
                .map(|(k, _)| k),
            Some("claude-sonnet-4-5")
        );
    }

    #[test]
    fn the_highest_exceeded_tier_applies_and_missing_rates_fall_back() {
        let mut r = rates(1.0, 2.0);
        r.cache_read = Some(0.1);
        r.tiers = vec![
            RateTier {
                input: Some(3.0),
                ..RateTier::empty(32_000)
            },
            RateTier {
                input: Some(5.0),
                output: Some(6.0),
                ..RateTier::empty(256_000)
            },
        ];
        assert_eq!(r.effective(32_000).tier_above, None);
        let mid = r.effective(32_001);
        assert_eq!(
            (mid.tier_above, mid.input, mid.output, mid.cache_read),
            (Some(32_000), 3.0, 2.0, 0.1)
        );
        let high = r.effective(300_000);
        assert_eq!((high.input, high.output), (5.0, 6.0));
        // No cache-write or reasoning rate anywhere: input and output rates.
        assert_eq!((high.cache_write, high.reasoning), (5.0, 6.0));
    }

    #[test]
    fn overrides_reject_negative_prices_and_blank_models() {
        let mut o = PriceOverrides::new();
        assert_eq!(
            o.insert("  ", RateOverride::new(1.0, 2.0)),
            Err(OverrideError::EmptyModel)
        );
        let err = o
            .insert("gpt-4o", RateOverride::new(-1.0, 2.0))
            .unwrap_err();
        assert!(err.to_string().contains("input price for `gpt-4o`"));
        let stored: Result<PriceOverrides, _> =
            serde_json::from_str(r#"{"x":{"input_per_million":1,"output_per_million":-2}}"#);
        assert!(stored.is_err());
    }
}

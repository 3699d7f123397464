//! The price table and its file, `pricing.json`: a header saying where it came from, the rates
//! of every chat model by LiteLLM key, and the names LiteLLM declares as aliases of another
//! model (`claude-opus-latest` → a dated Claude model).
//!
//! The file is written one model per line ([`PricingTable::to_json`]) so that a new LiteLLM
//! version shows as a readable diff; `examples/gen-pricing.rs` writes `public/pricing.json`
//! with it from LiteLLM's file ([`PricingTable::from_litellm_file`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::{PricingError, PRICE_FILE_LIMITS};
use super::matching::split_date;
use super::rates::ModelRates;
use crate::core::guard;

/// Where a table came from, as written at the top of `pricing.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingHeader {
    /// Always [`super::LITELLM_SOURCE`].
    pub source: String,
    /// LiteLLM's version of the file (`1.110.2`), or `unknown`.
    pub version: String,
    /// The file name the table was built from (empty when not known).
    pub generated_from: String,
    /// How many models the table prices.
    pub models: u64,
    /// How many alias names it holds (absent in tables written before aliases were kept).
    #[serde(default)]
    pub aliases: u64,
}

/// One name of the table and what it prices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableEntry<'a> {
    /// The name that matched (a LiteLLM key or an alias).
    pub key: &'a str,
    /// The key the alias stands for, when `key` is an alias.
    pub alias_of: Option<&'a str>,
    /// The rates.
    pub rates: &'a ModelRates,
}

/// The price table: rates per LiteLLM model key, and alias names.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingTable {
    pub(super) header: PricingHeader,
    pub(super) rates: BTreeMap<String, ModelRates>,
    pub(super) aliases: BTreeMap<String, String>,
    /// Undated name → its latest dated name, for names LiteLLM only lists with a date.
    pub(super) dated: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct Asset {
    header: PricingHeader,
    rates: BTreeMap<String, ModelRates>,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
}

impl PricingTable {
    /// A table from its parts (the header's counts are set from them). Aliases must name a key
    /// of `rates`; see [`PricingTable::from_json`] for a checked read.
    pub fn new(
        mut header: PricingHeader,
        rates: BTreeMap<String, ModelRates>,
        aliases: BTreeMap<String, String>,
    ) -> Self {
        header.models = rates.len() as u64;
        header.aliases = aliases.len() as u64;
        let mut dated: BTreeMap<String, String> = BTreeMap::new();
        for key in rates.keys().chain(aliases.keys()) {
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
            aliases,
            dated,
        }
    }

    /// Reads `pricing.json` as written by [`PricingTable::to_json`].
    pub fn from_json(text: &str) -> Result<Self, PricingError> {
        guard::check_json(text, &PRICE_FILE_LIMITS)?;
        let asset: Asset = serde_json::from_str(text).map_err(|e| PricingError::from_serde(&e))?;
        for (what, expected, found) in [
            ("models", asset.header.models, asset.rates.len()),
            ("aliases", asset.header.aliases, asset.aliases.len()),
        ] {
            if expected != found as u64 {
                return Err(PricingError::CountMismatch {
                    what,
                    expected,
                    found: found as u64,
                });
            }
        }
        for (model, rates) in &asset.rates {
            if let Some((field, value)) = rates.invalid_rate() {
                return Err(PricingError::InvalidRate {
                    model: model.clone(),
                    field,
                    value,
                });
            }
        }
        if let Some((alias, target)) = asset
            .aliases
            .iter()
            .find(|(_, target)| !asset.rates.contains_key(*target))
        {
            return Err(PricingError::DanglingAlias {
                alias: alias.clone(),
                target: target.clone(),
            });
        }
        Ok(PricingTable::new(asset.header, asset.rates, asset.aliases))
    }

    /// The table as `pricing.json`: the header on the first line, then one model per line and
    /// one alias per line, keys sorted, so that the same table always gives the same bytes.
    pub fn to_json(&self) -> String {
        let mut out = format!("{{\"header\":{},\"rates\":{{", json(&self.header));
        let lines = |out: &mut String, items: Vec<(String, String)>| {
            for (i, (key, value)) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(key);
                out.push(':');
                out.push_str(value);
            }
            out.push('\n');
        };
        let rates = self.rates.iter().map(|(k, v)| (json(k), json(v))).collect();
        lines(&mut out, rates);
        out.push_str("},\"aliases\":{");
        let aliases = self
            .aliases
            .iter()
            .map(|(k, v)| (json(k), json(v)))
            .collect();
        lines(&mut out, aliases);
        out.push_str("}}\n");
        out
    }

    /// Where the table came from.
    pub fn header(&self) -> &PricingHeader {
        &self.header
    }

    /// Every model's rates, by LiteLLM key.
    pub fn rates(&self) -> &BTreeMap<String, ModelRates> {
        &self.rates
    }

    /// Alias names and the key each stands for.
    pub fn aliases(&self) -> &BTreeMap<String, String> {
        &self.aliases
    }

    /// The rates stored under exactly `key`, or under the key `key` is an alias of.
    pub fn get(&self, key: &str) -> Option<&ModelRates> {
        self.entry(key).map(|e| e.rates)
    }

    /// The entry named exactly `key` (a key or an alias).
    pub fn entry(&self, key: &str) -> Option<TableEntry<'_>> {
        if let Some((key, rates)) = self.rates.get_key_value(key) {
            return Some(TableEntry {
                key,
                alias_of: None,
                rates,
            });
        }
        let (alias, target) = self.aliases.get_key_value(key)?;
        let (target, rates) = self.rates.get_key_value(target)?;
        Some(TableEntry {
            key: alias,
            alias_of: Some(target),
            rates,
        })
    }

    /// How many models the table prices (aliases not counted).
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    /// Whether the table prices no model.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }
}

/// One value as compact JSON. Keys are strings and every rate is a finite number (checked on
/// every way into a table), so serialization cannot fail.
fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

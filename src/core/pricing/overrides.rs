//! The user's own prices: per model string, in USD per million tokens, applied before the
//! table.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rates::{usable, ModelRates};

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
            ..ModelRates::default()
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

    /// The override stored under exactly `model`, with its key.
    pub fn get_key_value(&self, model: &str) -> Option<(&str, &RateOverride)> {
        self.entries
            .get_key_value(model)
            .map(|(k, v)| (k.as_str(), v))
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

#[cfg(test)]
mod tests {
    use super::*;

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

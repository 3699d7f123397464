//! The price form of Settings → Prices as text: a price per million tokens as typed, read or
//! explained, and the user's price for a model checked as a whole; how rates and the price
//! table are written back.

use crate::app::format::count;
use crate::core::pricing::{PricingTable, RateOverride};

/// A price typed in the override form that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RateInputError {
    /// A required price is empty.
    #[error("enter the {field} price in USD per million tokens, e.g. 2.5")]
    Missing {
        /// Which price.
        field: &'static str,
    },
    /// Not a number.
    #[error("the {field} price \"{text}\" is not a number; enter USD per million tokens with a dot for decimals, e.g. 0.15")]
    NotANumber {
        /// Which price.
        field: &'static str,
        /// What was typed.
        text: String,
    },
    /// A number that is not a price (negative, infinite), or no model.
    #[error(transparent)]
    Invalid(#[from] crate::core::pricing::OverrideError),
}

/// Reads one typed price: `None` for an empty optional one.
pub fn parse_price(
    field: &'static str,
    text: &str,
    required: bool,
) -> Result<Option<f64>, RateInputError> {
    let text = text.trim();
    if text.is_empty() {
        return if required {
            Err(RateInputError::Missing { field })
        } else {
            Ok(None)
        };
    }
    // `f64::from_str` also takes `inf` and `NaN`; prices are plain decimals.
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    match text.parse::<f64>() {
        Ok(v) if plain => Ok(Some(v)),
        _ => Err(RateInputError::NotANumber {
            field,
            text: text.to_string(),
        }),
    }
}

/// The override form's text fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverrideDraft {
    /// The model string.
    pub model: String,
    /// USD per million uncached input tokens.
    pub input: String,
    /// USD per million output tokens.
    pub output: String,
    /// USD per million cache-read tokens (empty: the input price).
    pub cache_read: String,
    /// USD per million cache-write tokens (empty: the input price).
    pub cache_write: String,
}

impl OverrideDraft {
    /// The override the fields describe, or every problem with them.
    pub fn check(&self) -> Result<(String, RateOverride), Vec<RateInputError>> {
        let mut problems = Vec::new();
        let mut read = |field, text: &str, required| match parse_price(field, text, required) {
            Ok(v) => v,
            Err(e) => {
                problems.push(e);
                None
            }
        };
        let input = read("input", &self.input, true);
        let output = read("output", &self.output, true);
        let cache_read = read("cache read", &self.cache_read, false);
        let cache_write = read("cache write", &self.cache_write, false);
        let model = self.model.trim().to_string();
        let (Some(input), Some(output)) = (input, output) else {
            return Err(problems);
        };
        let rates = RateOverride {
            input_per_million: input,
            output_per_million: output,
            cache_read_per_million: cache_read,
            cache_write_per_million: cache_write,
        };
        // Core's own check: a model, and every price a number ≥ 0.
        if let Err(e) = crate::core::pricing::PriceOverrides::new().insert(&model, rates) {
            problems.push(e.into());
        }
        if problems.is_empty() {
            Ok((model, rates))
        } else {
            Err(problems)
        }
    }
}

/// A per-token rate as USD per million tokens, as people quote prices: `2.50`, `0.075`;
/// `unknown` for what is not a finite number.
pub fn per_million(rate_per_token: f64) -> String {
    if !(rate_per_token * 1_000_000.0).is_finite() {
        return "unknown".to_string();
    }
    let text = format!("{:.6}", rate_per_token * 1_000_000.0);
    let trimmed = text.trim_end_matches('0');
    match trimmed.split_once('.') {
        Some((whole, decimals)) if decimals.len() < 2 => format!("{whole}.{decimals:0<2}"),
        _ => trimmed.to_string(),
    }
}

/// What the table's header says, in one line: `LiteLLM 1.110.2, 3,505 models`.
pub fn table_summary(table: &PricingTable) -> String {
    let header = table.header();
    format!(
        "LiteLLM {}, {} models",
        header.version,
        count(header.models)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(model: &str, input: &str, output: &str, read: &str, write: &str) -> OverrideDraft {
        OverrideDraft {
            model: model.into(),
            input: input.into(),
            output: output.into(),
            cache_read: read.into(),
            cache_write: write.into(),
        }
    }

    #[test]
    fn typed_prices_are_read_or_explained() {
        assert_eq!(parse_price("input", " 2.5 ", true), Ok(Some(2.5)));
        assert_eq!(parse_price("cache read", "", false), Ok(None));
        assert_eq!(
            parse_price("input", "", true),
            Err(RateInputError::Missing { field: "input" })
        );
        let err = parse_price("output", "1,5", true).unwrap_err();
        assert!(err.to_string().contains("\"1,5\" is not a number"), "{err}");
        assert!(parse_price("output", "inf", true).is_err());
        assert!(parse_price("output", "NaN", true).is_err());
    }

    #[test]
    fn a_draft_becomes_an_override_or_lists_every_problem() {
        let (model, rates) = draft(" mystery/x ", "1", "2.5", "0.1", "").check().unwrap();
        assert_eq!(model, "mystery/x");
        assert_eq!(
            rates,
            RateOverride {
                input_per_million: 1.0,
                output_per_million: 2.5,
                cache_read_per_million: Some(0.1),
                cache_write_per_million: None,
            }
        );
        let problems = draft("", "", "abc", "", "").check().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        let problems = draft("", "1", "2", "", "").check().unwrap_err();
        assert!(problems[0].to_string().contains("needs a model"));
        let problems = draft("m", "-1", "2", "", "").check().unwrap_err();
        assert!(problems[0].to_string().contains("≥ 0"), "{problems:?}");
    }

    #[test]
    fn rates_read_per_million() {
        assert_eq!(per_million(2.5e-6), "2.50");
        assert_eq!(per_million(7.5e-8), "0.075");
        assert_eq!(per_million(1e-5), "10.00");
        assert_eq!(per_million(0.0), "0.00");
        assert_eq!(per_million(1.886e-7), "0.1886");
    }
}

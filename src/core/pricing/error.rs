//! Why a price file could not be read.

use crate::core::guard::{Limits, ReadError};

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
         \"chat\" or \"responses\" with input_cost_per_token and output_cost_per_token, or a \
         tiered_pricing list); is it LiteLLM's model_prices_and_context_window.json?"
    )]
    NoChatModels {
        /// How many top-level entries the file has.
        entries: usize,
    },
    /// The header's count of models or aliases disagrees with the table.
    #[error(
        "the price table says it holds {expected} {what} but has {found}; the file looks \
         truncated: fetch or generate it again (scripts/gen-pricing)"
    )]
    CountMismatch {
        /// `models` or `aliases`.
        what: &'static str,
        /// The header's count.
        expected: u64,
        /// How many the table has.
        found: u64,
    },
    /// A rate that is negative or not finite.
    #[error("the price of `{model}` is invalid: its {field} rate is {value}, but rates must be ≥ 0 (USD per token)")]
    InvalidRate {
        /// The model's key.
        model: String,
        /// Which rate (`input`, `cache_read`, …).
        field: &'static str,
        /// The rate found.
        value: f64,
    },
    /// An alias that names no priced model.
    #[error(
        "the price table's alias `{alias}` points at `{target}`, which the table does not price; \
         fetch or generate it again (scripts/gen-pricing)"
    )]
    DanglingAlias {
        /// The alias.
        alias: String,
        /// The key it points at.
        target: String,
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
    /// The error of a serde_json failure, with its line and column apart.
    pub(super) fn from_serde(e: &serde_json::Error) -> Self {
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

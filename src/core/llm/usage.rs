//! Token usage normalized across providers.
//!
//! Every adapter maps its provider's fields onto [`Usage`] once, so cost math and the UI never
//! look at raw provider fields.

use serde::{Deserialize, Serialize};

/// Tokens one call (or a sum of calls) used, in one shape for every provider.
///
/// Conventions, whatever the provider reports:
/// - `input_tokens` counts **all** prompt tokens, cached ones included (Anthropic reports
///   cache reads and writes apart from `input_tokens`; the adapter adds them in).
/// - `cache_read_tokens` and `cache_write_tokens` are the parts of `input_tokens` read from or
///   written to a prompt cache.
/// - `output_tokens` counts **all** generated tokens, reasoning included (Gemini reports
///   `thoughtsTokenCount` apart from `candidatesTokenCount`; the adapter adds it in).
/// - `reasoning_tokens` is the part of `output_tokens` spent on hidden reasoning.
/// - `total_tokens` is `input_tokens + output_tokens`.
/// - `reasoning_tokens_unknown` is set when a reply carried reasoning but no count of it
///   (Anthropic folds thinking into `output_tokens`): `reasoning_tokens` is then not the
///   count, only what was reported, and readers show it as unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// All prompt tokens, cached included.
    pub input_tokens: u64,
    /// All generated tokens, reasoning included.
    pub output_tokens: u64,
    /// `input_tokens + output_tokens`.
    pub total_tokens: u64,
    /// Prompt tokens served from the provider's cache (part of `input_tokens`).
    #[serde(default)]
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache (part of `input_tokens`).
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Hidden reasoning tokens (part of `output_tokens`).
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// The reply reasoned but its provider did not say how many tokens that took.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reasoning_tokens_unknown: bool,
}

impl Usage {
    /// Adds another call's usage to this one.
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.total_tokens += other.total_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
        self.reasoning_tokens_unknown |= other.reasoning_tokens_unknown;
    }

    /// Takes `other`'s tokens away, each count stopping at zero. `reasoning_tokens_unknown` is
    /// left as it is: a flag set by one of several calls cannot be taken away (a sum that must
    /// be undone counts the calls that set it, as the cost roll-ups do).
    pub fn subtract(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.saturating_sub(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_sub(other.output_tokens);
        self.total_tokens = self.total_tokens.saturating_sub(other.total_tokens);
        self.cache_read_tokens = self
            .cache_read_tokens
            .saturating_sub(other.cache_read_tokens);
        self.cache_write_tokens = self
            .cache_write_tokens
            .saturating_sub(other.cache_write_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_sub(other.reasoning_tokens);
    }

    /// The reasoning tokens, when known.
    pub fn reasoning_tokens_known(&self) -> Option<u64> {
        (!self.reasoning_tokens_unknown).then_some(self.reasoning_tokens)
    }

    /// Prompt tokens billed at the plain input rate (neither read from nor written to a cache).
    pub fn uncached_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cache_read_tokens)
            .saturating_sub(self.cache_write_tokens)
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;
    fn add(mut self, rhs: Usage) -> Usage {
        Usage::add(&mut self, &rhs);
        self
    }
}

impl std::iter::Sum for Usage {
    fn sum<I: Iterator<Item = Usage>>(iter: I) -> Usage {
        iter.fold(Usage::default(), |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_splits_cached_input() {
        let a = Usage {
            input_tokens: 100,
            output_tokens: 20,
            total_tokens: 120,
            cache_read_tokens: 60,
            cache_write_tokens: 10,
            reasoning_tokens: 5,
            reasoning_tokens_unknown: false,
        };
        let total: Usage = [a, a].into_iter().sum();
        assert_eq!(total.total_tokens, 240);
        assert_eq!(total.uncached_input_tokens(), 60);
        assert_eq!(total.reasoning_tokens, 10);
        assert_eq!(total.reasoning_tokens_known(), Some(10));
        let unknown = Usage {
            reasoning_tokens_unknown: true,
            ..a
        };
        assert_eq!((a + unknown).reasoning_tokens_known(), None);
    }

    #[test]
    fn a_known_count_is_written_as_before() {
        let known = Usage::default();
        let json = serde_json::to_string(&known).unwrap();
        assert!(!json.contains("unknown"), "{json}");
        let back: Usage = serde_json::from_str(&json).unwrap();
        assert_eq!(back, known);
    }
}

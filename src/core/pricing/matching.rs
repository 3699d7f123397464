//! Name matching: which entry of the table prices a model a provider serves. Providers and
//! users write names LiteLLM does not list as such (a newer dated snapshot, OpenRouter's
//! `vendor/model`, Claude versions with dots); each rule here says why it may stand for an
//! entry.

use super::table::{PricingTable, TableEntry};

impl PricingTable {
    /// Finds the entry for a model served by `provider` (our provider id, or `""` when unknown,
    /// in which case `model` may carry a `provider/` prefix).
    ///
    /// Tried in order, each pass over every candidate name before the next pass:
    /// 1. exact names (a key, or an alias LiteLLM declares, such as `*-latest`): `provider/model`; LiteLLM's own prefix for the provider
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
    pub fn lookup(&self, provider: &str, model: &str) -> Option<TableEntry<'_>> {
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

    fn find(&self, names: &[String]) -> Option<TableEntry<'_>> {
        names
            .iter()
            .find_map(|n| self.entry(n))
            .or_else(|| {
                names
                    .iter()
                    .find_map(|n| split_date(n).and_then(|(base, _)| self.entry(base)))
            })
            .or_else(|| {
                names
                    .iter()
                    .find_map(|n| self.dated.get(n.as_str()).and_then(|k| self.entry(k)))
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
pub(super) fn split_date(name: &str) -> Option<(&str, String)> {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::core::pricing::{ModelRates, PricingHeader, LITELLM_SOURCE};

    fn table(keys: &[&str], aliases: &[(&str, &str)]) -> PricingTable {
        let header = PricingHeader {
            source: LITELLM_SOURCE.into(),
            version: "test".into(),
            generated_from: String::new(),
            models: 0,
            aliases: 0,
        };
        let rates = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let rates = ModelRates {
                    input: i as f64,
                    ..ModelRates::default()
                };
                (k.to_string(), rates)
            })
            .collect();
        let aliases: BTreeMap<String, String> = aliases
            .iter()
            .map(|(a, t)| (a.to_string(), t.to_string()))
            .collect();
        PricingTable::new(header, rates, aliases)
    }

    fn key_of(t: &PricingTable, provider: &str, model: &str) -> Option<String> {
        t.lookup(provider, model).map(|e| e.key.to_string())
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
        let t = table(
            &[
                "x-audio-2024-12-17",
                "x-audio-2025-06-03",
                "x-audio-20240101",
            ],
            &[],
        );
        assert_eq!(
            key_of(&t, "openai", "x-audio").as_deref(),
            Some("x-audio-2025-06-03")
        );
    }

    #[test]
    fn aliases_price_as_their_model_and_say_so() {
        let t = table(
            &["claude-opus-5-5-20260101"],
            &[("claude-opus-latest", "claude-opus-5-5-20260101")],
        );
        let entry = t.lookup("anthropic", "claude-opus-latest").unwrap();
        assert_eq!(
            (entry.key, entry.alias_of),
            ("claude-opus-latest", Some("claude-opus-5-5-20260101"))
        );
        // A dated snapshot of an alias name is read as the alias.
        assert_eq!(
            key_of(&t, "anthropic", "claude-opus-latest-20991231").as_deref(),
            Some("claude-opus-latest")
        );
    }

    #[test]
    fn openrouter_claude_names_with_dots_find_anthropic_keys() {
        assert_eq!(dots_to_dashes("claude-3.5-sonnet"), "claude-3-5-sonnet");
        assert_eq!(dots_to_dashes("v.1.x"), "v.1.x");
        let t = table(&["claude-sonnet-4-5"], &[]);
        assert_eq!(
            key_of(&t, "openrouter", "anthropic/claude-sonnet-4.5").as_deref(),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(
            key_of(&t, "", "openrouter/anthropic/claude-sonnet-4.5").as_deref(),
            Some("claude-sonnet-4-5")
        );
    }
}

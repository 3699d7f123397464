//! The pricer: what the rest of the app asks. Overrides first, then the local rule, then the
//! table; the answer is a [`Price`] that is either known, with its [`PriceSource`], or
//! unknown. An unknown price is never treated as 0.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::overrides::{PriceOverrides, RateOverride};
use super::rates::ModelRates;
use super::table::PricingTable;
use crate::core::model::resolve_model;
use crate::core::providers::{is_loopback_url, LOCAL_ID};

/// Why a provider's models cost nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum FreeRule {
    /// The built-in `local` provider, pointed at a server on this machine.
    Loopback {
        /// Its base URL (a loopback address).
        base_url: String,
    },
    /// A custom provider the user marked as a local server.
    MarkedLocal,
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
        /// The name that matched (`gemini/gemini-2.5-pro`, `claude-sonnet-4-5`, an alias).
        key: String,
        /// The LiteLLM key whose prices an alias stands for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alias_of: Option<String>,
    },
    /// A local model: free by rule, not by a missing price.
    LocalFree {
        /// The provider id.
        provider: String,
        /// Which rule made it free.
        rule: FreeRule,
    },
}

impl PriceSource {
    /// A table entry that is not an alias.
    pub fn table(key: &str) -> Self {
        PriceSource::Table {
            key: key.to_string(),
            alias_of: None,
        }
    }
}

impl std::fmt::Display for PriceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PriceSource::Override { key } => write!(f, "your price for `{key}`"),
            PriceSource::Table {
                key,
                alias_of: None,
            } => write!(f, "LiteLLM's price for `{key}`"),
            PriceSource::Table {
                key,
                alias_of: Some(target),
            } => write!(
                f,
                "LiteLLM's price for `{target}` (LiteLLM names `{key}` as its alias)"
            ),
            PriceSource::LocalFree {
                provider,
                rule: FreeRule::Loopback { base_url },
            } => write!(
                f,
                "free: `{provider}` is a server on this machine ({base_url})"
            ),
            PriceSource::LocalFree {
                provider,
                rule: FreeRule::MarkedLocal,
            } => write!(f, "free: you marked `{provider}` as a local server"),
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
    /// Known rates (boxed: a quote with off-peak and batch rates is large, unknown is small).
    Known(Box<Quote>),
    /// No override, not local, not in the table: the cost cannot be computed (never 0).
    Unknown,
}

impl Price {
    /// The quote, when the price is known.
    pub fn quote(&self) -> Option<&Quote> {
        match self {
            Price::Known(quote) => Some(quote.as_ref()),
            Price::Unknown => None,
        }
    }

    /// Where the price came from, when known.
    pub fn source(&self) -> Option<&PriceSource> {
        self.quote().map(|q| &q.source)
    }
}

/// Prices models from overrides, the local rule and the table, in that order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pricer {
    table: Option<Rc<PricingTable>>,
    overrides: PriceOverrides,
    free: BTreeMap<String, FreeRule>,
}

impl Pricer {
    /// A pricer over `table` (`None` until the table is fetched) and `overrides`. No provider
    /// is free until [`Pricer::set_local_server_url`] or [`Pricer::set_local`] says so.
    pub fn new(table: Option<Rc<PricingTable>>, overrides: PriceOverrides) -> Self {
        Pricer {
            table,
            overrides,
            free: BTreeMap::new(),
        }
    }

    /// [`Pricer::set_local_server_url`], as a builder.
    pub fn with_local_server_url(mut self, base_url: &str) -> Self {
        self.set_local_server_url(base_url);
        self
    }

    /// Applies the local rule to the built-in `local` provider at `base_url`: its models are
    /// free when the URL is a loopback address (`127.0.0.0/8`, `localhost`, `[::1]`), where
    /// nobody bills; pointed anywhere else it is priced like any other OpenAI-compatible
    /// provider (unknown unless a price is known), so a remote server cannot run up spend that
    /// budgets do not see.
    pub fn set_local_server_url(&mut self, base_url: &str) {
        if is_loopback_url(base_url) {
            let rule = FreeRule::Loopback {
                base_url: base_url.trim().to_string(),
            };
            self.free.insert(LOCAL_ID.to_string(), rule);
        } else {
            self.free.remove(LOCAL_ID);
        }
    }

    /// Marks a custom provider id as a local server whose models cost nothing, as a builder.
    pub fn with_local_provider(mut self, provider: &str) -> Self {
        self.set_local(provider, true);
        self
    }

    /// Marks (or unmarks) a custom provider id as a local server (the user's word). The
    /// built-in `local` provider follows [`Pricer::set_local_server_url`] instead.
    pub fn set_local(&mut self, provider: &str, local: bool) {
        if provider == LOCAL_ID {
            return;
        }
        if local {
            self.free
                .insert(provider.to_string(), FreeRule::MarkedLocal);
        } else {
            self.free.remove(provider);
        }
    }

    /// Why models of `provider` are free, if they are.
    pub fn free_rule(&self, provider: &str) -> Option<&FreeRule> {
        self.free.get(provider)
    }

    /// Whether models of `provider` are free by the local rule.
    pub fn is_local(&self, provider: &str) -> bool {
        self.free.contains_key(provider)
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
            return Price::Known(Box::new(quote));
        }
        if !provider.is_empty() && primary.1.contains('/') {
            let (p, m) = self.split(&primary.1);
            if let Some(quote) = self.quote_as(&p, &m, &primary.1) {
                return Price::Known(Box::new(quote));
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
        if let Some(rule) = self.free.get(provider) {
            return Some(Quote {
                rates: ModelRates::free(),
                source: PriceSource::LocalFree {
                    provider: provider.to_string(),
                    rule: rule.clone(),
                },
            });
        }
        let entry = self.table()?.lookup(provider, name)?;
        Some(Quote {
            rates: entry.rates.clone(),
            source: PriceSource::Table {
                key: entry.key.to_string(),
                alias_of: entry.alias_of.map(str::to_string),
            },
        })
    }

    /// A configured model string as (provider, model): by the app's own rules where they apply
    /// (`gpt-4o` → openai, `cohere_chat/…` → cohere), else split at the first `/`.
    fn split(&self, model: &str) -> (String, String) {
        let custom: Vec<&str> = self.free.keys().map(String::as_str).collect();
        match resolve_model(model, &custom) {
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
        let exact = |key: &str| self.overrides.get_key_value(key);
        exact(&full)
            .or_else(|| exact(configured))
            .or_else(|| {
                self.overrides
                    .iter()
                    .find(|(key, _)| self.split(key) == (provider.to_string(), name.to_string()))
            })
            .or_else(|| exact(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_is_free_only_at_a_loopback_address() {
        for url in [
            "http://127.0.0.1:8091/v1",
            "http://localhost:11434/v1",
            "http://[::1]:8000/v1",
            "http://127.8.9.10/v1",
        ] {
            let p = Pricer::default().with_local_server_url(url);
            let source = p.price_of("local", "smollm2").source().cloned();
            assert_eq!(
                source,
                Some(PriceSource::LocalFree {
                    provider: "local".into(),
                    rule: FreeRule::Loopback {
                        base_url: url.into()
                    }
                }),
                "{url}"
            );
        }
        for url in [
            "https://llm.example.com/v1",
            "http://192.168.1.20:8000/v1",
            "https://127.0.0.1.example.com/v1",
            "https://localhost.example.com/v1",
        ] {
            let p = Pricer::default().with_local_server_url(url);
            assert_eq!(p.price_of("local", "smollm2"), Price::Unknown, "{url}");
        }
        // Moving the server off the machine takes the rule away.
        let mut p = Pricer::default().with_local_server_url("http://127.0.0.1:8091/v1");
        p.set_local_server_url("https://llm.example.com/v1");
        assert!(!p.is_local("local"));
        // The user's word cannot make the built-in provider free.
        p.set_local("local", true);
        assert!(!p.is_local("local"));
    }

    #[test]
    fn sources_say_which_entry_or_rule_priced_the_call() {
        assert_eq!(
            PriceSource::table("gpt-4o").to_string(),
            "LiteLLM's price for `gpt-4o`"
        );
        let alias = PriceSource::Table {
            key: "claude-opus-latest".into(),
            alias_of: Some("claude-opus-5-5".into()),
        };
        assert_eq!(
            alias.to_string(),
            "LiteLLM's price for `claude-opus-5-5` (LiteLLM names `claude-opus-latest` as its alias)"
        );
        let mine = Pricer::default().with_local_provider("my-vllm");
        let source = mine
            .price_of("my-vllm", "qwen")
            .source()
            .unwrap()
            .to_string();
        assert_eq!(source, "free: you marked `my-vllm` as a local server");
    }
}

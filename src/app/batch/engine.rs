//! What provider batch mode will do with a config's providers, for the Batch page's engine
//! choice: which of them go through their batch APIs and which are called live.

use crate::core::config::PipelineConfig;
use crate::core::cost::{batch_cost, cost_of};
use crate::core::llm::Usage;
use crate::core::model::resolve_model;
use crate::core::pricing::Pricer;
use crate::core::provider_batch::BatchFamily;
use crate::core::providers::{agent_providers, ProviderRegistry};

/// The providers a config calls, split by how provider batch mode reaches them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineSplit {
    /// Labels of the providers whose calls go into provider batches.
    pub batched: Vec<String>,
    /// Labels of the providers called live (no batch API, or none declared).
    pub live: Vec<String>,
    /// The batch API families of the batched providers, each once.
    pub families: Vec<BatchFamily>,
}

impl EngineSplit {
    /// The split of `config`'s providers in `registry`.
    pub fn of(registry: &ProviderRegistry, config: &PipelineConfig) -> Self {
        let mut split = EngineSplit::default();
        for provider in agent_providers(registry, config) {
            let label = provider.label.clone();
            match BatchFamily::of(provider) {
                Some(family) => {
                    split.batched.push(label);
                    if !split.families.contains(&family) {
                        split.families.push(family);
                    }
                }
                None => split.live.push(label),
            }
        }
        split
    }

    /// One sentence for the page: what goes where, and what that means when nothing is
    /// batched.
    pub fn sentence(&self) -> String {
        match (self.batched.is_empty(), self.live.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!(
                "None of this config's providers ({}) has a batch API Trialogue can use: every \
                 call would be made live, at live prices",
                self.live.join(", ")
            ),
            (false, true) => format!("Batched at half price: {}", self.batched.join(", ")),
            (false, false) => format!(
                "Batched at half price: {}; called live: {}",
                self.batched.join(", "),
                self.live.join(", ")
            ),
        }
    }
}

/// What a debate turn of `config` costs through provider batch mode, as a share of its live
/// price: each agent's request of a typical shape (a thousand prompt tokens, five hundred
/// generated) priced at its model's batch rates when its provider has a batch API, at the live
/// rates when it is called live. `None` when a price is unknown (a batched model without batch
/// rates included) or every model is free.
pub fn batch_price_share(
    registry: &ProviderRegistry,
    pricer: &Pricer,
    config: &PipelineConfig,
) -> Option<f64> {
    let usage = Usage {
        input_tokens: 1000,
        output_tokens: 500,
        total_tokens: 1500,
        ..Usage::default()
    };
    let custom = registry.custom_ids();
    let (mut live, mut batch) = (0.0, 0.0);
    for model in [
        &config.solver.model,
        &config.verifier.model,
        &config.judge.model,
    ] {
        let provider = resolve_model(model, &custom).ok()?.provider;
        let batched = registry.get(&provider).and_then(BatchFamily::of).is_some();
        let rates = pricer.price_of(&provider, model).quote()?.rates.clone();
        let live_usd = cost_of(&usage, &rates).total_usd;
        live += live_usd;
        batch += if batched {
            batch_cost(&usage, &rates)?.total_usd
        } else {
            live_usd
        };
    }
    (live > 0.0).then(|| batch / live)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(solver: &str, verifier: &str, judge: &str) -> PipelineConfig {
        let mut config = PipelineConfig::default();
        config.solver.model = solver.into();
        config.verifier.model = verifier.into();
        config.judge.model = judge.into();
        config
    }

    #[test]
    fn providers_with_a_batch_api_are_batched_and_the_others_called_live() {
        let mut registry = ProviderRegistry::builtin();
        let split = EngineSplit::of(
            &registry,
            &config(
                "anthropic/claude-3-5-haiku-20241022",
                "local/smollm2",
                "gemini/gemini-2.0-flash",
            ),
        );
        assert_eq!(split.batched, vec!["Anthropic", "Google Gemini"]);
        assert_eq!(split.live.len(), 1);
        assert!(
            split.sentence().contains("called live"),
            "{}",
            split.sentence()
        );

        // A local vLLM whose settings declare the batch endpoints is batched too.
        let mut local = registry
            .get("local")
            .cloned()
            .unwrap_or_else(|| panic!("local"));
        local.batch_endpoints = Some(true);
        registry.upsert(local);
        let split = EngineSplit::of(&registry, &config("local/a", "local/a", "openai/gpt-4o"));
        assert!(split.live.is_empty(), "{split:?}");
        assert_eq!(split.batched.len(), 2);

        let none = EngineSplit::of(
            &ProviderRegistry::builtin(),
            &config("cohere/command-r", "cohere/command-r", "cohere/command-r"),
        );
        assert!(none.batched.is_empty());
        assert!(
            none.sentence().contains("at live prices"),
            "{}",
            none.sentence()
        );
    }

    #[test]
    fn batched_agents_pay_their_batch_rates_and_live_ones_their_live_rates() {
        use crate::core::pricing::{PriceOverrides, PricingTable};
        let table = PricingTable::from_litellm_json(
            r#"{"claude-3-5-haiku-20241022": {"litellm_provider": "anthropic", "mode": "chat",
                  "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                  "input_cost_per_token_batches": 5e-7, "output_cost_per_token_batches": 1e-6},
                "command-r": {"litellm_provider": "cohere_chat", "mode": "chat",
                  "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
                "gemini/gemini-2.0-flash": {"litellm_provider": "gemini", "mode": "chat",
                  "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let pricer = Pricer::new(Some(std::rc::Rc::new(table)), PriceOverrides::new());
        let registry = ProviderRegistry::builtin();
        let claude = "anthropic/claude-3-5-haiku-20241022";
        let share = |c: &PipelineConfig| batch_price_share(&registry, &pricer, c);
        assert_eq!(share(&config(claude, claude, claude)), Some(0.5));
        // Cohere has no batch API: its verifier turn stays at the live price.
        let mixed = share(&config(claude, "cohere/command-r", claude)).unwrap_or(0.0);
        assert!((mixed - 2.0 / 3.0).abs() < 1e-12, "{mixed}");
        // Batched without a batch rate: the batch price is unknown, never a guess.
        assert_eq!(
            share(&config(claude, claude, "gemini/gemini-2.0-flash")),
            None
        );
    }
}

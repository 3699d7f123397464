//! What provider batch mode will do with a config's providers, for the Batch page's engine
//! choice: which of them go through their batch APIs and which are called live.

use crate::core::config::PipelineConfig;
use crate::core::provider_batch::BatchFamily;
use crate::core::providers::{agent_providers, ProviderRegistry};

/// The providers a config calls, split by how provider batch mode reaches them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineSplit {
    /// Labels of the providers whose calls go into provider batches.
    pub batched: Vec<String>,
    /// Labels of the providers called live (no batch API, or none declared).
    pub live: Vec<String>,
}

impl EngineSplit {
    /// The split of `config`'s providers in `registry`.
    pub fn of(registry: &ProviderRegistry, config: &PipelineConfig) -> Self {
        let mut split = EngineSplit::default();
        for provider in agent_providers(registry, config) {
            let label = provider.label.clone();
            match BatchFamily::of(provider) {
                Some(_) => split.batched.push(label),
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
}

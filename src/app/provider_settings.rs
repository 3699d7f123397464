//! Provider settings as they are kept: stored edits laid over the built-in providers, and the
//! keys, which are stored apart from the settings (and only while the user lets them be).

use std::collections::BTreeMap;

use crate::core::providers::ProviderRegistry;

/// Built-in providers with stored edits laid over them. Built-ins added since the settings were
/// stored appear with their defaults; a stored "built-in" that no longer exists is dropped.
pub fn merge_stored(stored: ProviderRegistry) -> ProviderRegistry {
    let mut registry = ProviderRegistry::builtin();
    for settings in stored.providers {
        let known = registry.get(&settings.id).is_some();
        if settings.builtin && !known {
            continue;
        }
        registry.upsert(settings);
    }
    registry
}

/// The keys to store: non-empty keys of providers that exist, by id.
pub fn keys_of(registry: &ProviderRegistry) -> BTreeMap<String, String> {
    registry
        .providers
        .iter()
        .filter(|p| !p.api_key.is_empty())
        .map(|p| (p.id.clone(), p.api_key.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::providers::{ProviderKind, ProviderSettings};

    fn custom(id: &str) -> ProviderSettings {
        ProviderSettings {
            id: id.into(),
            label: "Mine".into(),
            kind: ProviderKind::OpenAiCompatible,
            base_url: "http://localhost:8000/v1".into(),
            api_key: String::new(),
            structured_mode: None,
            builtin: false,
        }
    }

    #[test]
    fn stored_edits_lie_over_the_builtins_and_stale_builtins_are_dropped() {
        let mut openai = ProviderRegistry::builtin().get("openai").cloned().unwrap();
        openai.base_url = "https://proxy.example.com/v1".into();
        let mut gone = custom("retired");
        gone.builtin = true;
        let stored = ProviderRegistry {
            providers: vec![openai, gone, custom("my-vllm")],
        };
        let merged = merge_stored(stored);
        let ids: Vec<&str> = merged.providers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "openai",
                "anthropic",
                "cohere",
                "gemini",
                "openrouter",
                "local",
                "my-vllm"
            ]
        );
        assert_eq!(
            merged.get("openai").map(|p| p.base_url.as_str()),
            Some("https://proxy.example.com/v1")
        );
    }

    #[test]
    fn keys_are_collected_by_id_and_never_serialized_with_the_settings() {
        let mut registry = ProviderRegistry::builtin();
        registry.upsert(custom("my-vllm"));
        for p in &mut registry.providers {
            if p.id == "anthropic" || p.id == "my-vllm" {
                p.api_key = format!("secret-{}", p.id);
            }
        }
        let keys = keys_of(&registry);
        assert_eq!(
            keys.into_iter().collect::<Vec<_>>(),
            [
                ("anthropic".to_string(), "secret-anthropic".to_string()),
                ("my-vllm".to_string(), "secret-my-vllm".to_string()),
            ]
        );
        let stored = serde_json::to_string(&registry).unwrap();
        assert!(!stored.contains("secret-"), "{stored}");
    }
}

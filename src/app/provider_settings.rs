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

/// The registry after another tab changed storage: `stored` (the providers stored now, merged
/// over the built-ins) with keys from `stored_keys` when keys are remembered (what is stored is
/// then the truth, a key deleted elsewhere included), else this tab's keys in memory for the
/// providers that still exist.
pub fn reloaded(
    current: &ProviderRegistry,
    stored: ProviderRegistry,
    stored_keys: Option<&BTreeMap<String, String>>,
) -> ProviderRegistry {
    let mut registry = stored;
    for provider in &mut registry.providers {
        provider.api_key = match stored_keys {
            Some(keys) => keys.get(&provider.id).cloned().unwrap_or_default(),
            None => current
                .get(&provider.id)
                .map(|p| p.api_key.clone())
                .unwrap_or_default(),
        };
    }
    registry
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
            streaming: None,
            batch_endpoints: None,
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

    #[test]
    fn another_tabs_providers_and_keys_replace_this_tabs() {
        let mut current = ProviderRegistry::builtin();
        current.upsert(custom("stale"));
        for p in &mut current.providers {
            p.api_key = format!("mem-{}", p.id);
        }
        // The other tab removed `stale`, added `fresh` and changed OpenAI's key.
        let mut stored = ProviderRegistry::builtin();
        stored.upsert(custom("fresh"));
        let keys = BTreeMap::from([("openai".to_string(), "stored-openai".to_string())]);

        let remembered = reloaded(&current, stored.clone(), Some(&keys));
        assert!(remembered.get("stale").is_none());
        assert!(remembered.get("fresh").is_some());
        let key = |r: &ProviderRegistry, id: &str| r.get(id).map(|p| p.api_key.clone());
        assert_eq!(key(&remembered, "openai").as_deref(), Some("stored-openai"));
        // A key no longer stored is gone here too.
        assert_eq!(key(&remembered, "anthropic").as_deref(), Some(""));

        // Not remembered: this tab's keys stay in memory, for providers that still exist.
        let forgotten = reloaded(&current, stored, None);
        assert_eq!(key(&forgotten, "openai").as_deref(), Some("mem-openai"));
        assert_eq!(key(&forgotten, "fresh").as_deref(), Some(""));
        assert!(forgotten.get("stale").is_none());
    }
}

//! The provider settings the app runs with, their keys, and where each is kept.
//!
//! Settings without keys are saved under [`PROVIDERS_KEY`]. Keys live in memory, and also under
//! [`KEYS_KEY`] only while "Remember keys in this browser" is on; turning it off deletes them
//! from storage at once. Keys are never written anywhere else.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::core::providers::{call_origins, ProviderKind, ProviderRegistry, ProviderSettings};
use crate::web::preconnect::preconnect;

use super::config_draft::DraftCheck;

use super::persist::{self, PersistError, FORGET_KEYS_KEY, KEYS_KEY, PROVIDERS_KEY};

/// A custom provider the user asks to add could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddProviderError {
    /// The id is already taken by a built-in or an earlier custom provider.
    #[error("a provider with id \"{id}\" already exists; pick another id")]
    Duplicate {
        /// The id asked for.
        id: String,
    },
    /// The settings did not validate.
    #[error("{}", problems.join("; "))]
    Invalid {
        /// What [`ProviderSettings::validate`] found.
        problems: Vec<String>,
    },
}

/// App-wide provider settings (a context value: read it with `expect_context::<ProviderState>()`).
#[derive(Debug, Clone, Copy)]
pub struct ProviderState {
    registry: ReadSignal<ProviderRegistry>,
    set_registry: WriteSignal<ProviderRegistry>,
    remember_keys: ReadSignal<bool>,
    set_remember_keys: WriteSignal<bool>,
    problems: ReadSignal<Vec<PersistError>>,
    set_problems: WriteSignal<Vec<PersistError>>,
}

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

impl ProviderState {
    /// Loads the stored settings (and keys, if remembered) and starts saving changes.
    pub fn load() -> Self {
        let mut problems = Vec::new();
        let mut registry =
            match persist::load_json::<ProviderRegistry>("provider settings", PROVIDERS_KEY) {
                Ok(Some(stored)) => merge_stored(stored),
                Ok(None) => ProviderRegistry::builtin(),
                Err(e) => {
                    problems.push(e);
                    ProviderRegistry::builtin()
                }
            };
        let remember = match load_keys() {
            Ok(Some(keys)) => {
                for provider in &mut registry.providers {
                    if let Some(key) = keys.get(&provider.id) {
                        provider.api_key.clone_from(key);
                    }
                }
                true
            }
            // Nothing stored: remembered by default, unless the user said "don't remember".
            Ok(None) => !matches!(
                persist::load_json::<String>("key preference", FORGET_KEYS_KEY),
                Ok(Some(_))
            ),
            Err(e) => {
                problems.push(e);
                true
            }
        };

        let (registry, set_registry) = signal(registry);
        let (remember_keys, set_remember_keys) = signal(remember);
        let (problems, set_problems) = signal(problems);
        let state = Self {
            registry,
            set_registry,
            remember_keys,
            set_remember_keys,
            problems,
            set_problems,
        };
        Effect::new(move |_| {
            let result = registry.with(|r| {
                persist::save_json("provider settings", PROVIDERS_KEY, r)?;
                if remember_keys.get() {
                    persist::save_json("API keys", KEYS_KEY, &keys_of(r))?;
                }
                Ok::<(), PersistError>(())
            });
            if let Err(e) = result {
                state.report(e);
            }
        });
        state
    }

    /// All providers, built-in first, with their in-memory keys.
    pub fn registry(&self) -> ReadSignal<ProviderRegistry> {
        self.registry
    }

    /// Whether keys are kept in this browser's storage.
    pub fn remember_keys(&self) -> ReadSignal<bool> {
        self.remember_keys
    }

    /// Storage problems met so far, oldest first.
    pub fn problems(&self) -> ReadSignal<Vec<PersistError>> {
        self.problems
    }

    /// Forgets the reported problems (the user dismissed them).
    pub fn dismiss_problems(&self) {
        self.set_problems.set(Vec::new());
    }

    /// Changes provider `id` in place; unknown ids are ignored.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut ProviderSettings)) {
        self.set_registry.update(|r| {
            if let Some(p) = r.providers.iter_mut().find(|p| p.id == id) {
                change(p);
            }
        });
    }

    /// Adds a custom OpenAI-compatible provider.
    pub fn add_custom(
        &self,
        id: &str,
        label: &str,
        base_url: &str,
    ) -> Result<(), AddProviderError> {
        let settings = ProviderSettings {
            id: id.trim().to_string(),
            label: label.trim().to_string(),
            kind: ProviderKind::OpenAiCompatible,
            base_url: base_url.trim().to_string(),
            api_key: String::new(),
            structured_mode: None,
            builtin: false,
            streaming: None,
        };
        if self
            .registry
            .with_untracked(|r| r.get(&settings.id).is_some())
        {
            return Err(AddProviderError::Duplicate { id: settings.id });
        }
        let problems = settings.validate();
        if !problems.is_empty() {
            return Err(AddProviderError::Invalid { problems });
        }
        self.set_registry.update(|r| r.upsert(settings));
        Ok(())
    }

    /// Removes custom provider `id` (and its key); built-ins stay.
    pub fn remove_custom(&self, id: &str) {
        self.set_registry.update(|r| {
            r.remove_custom(id);
        });
    }

    /// Turns "Remember keys in this browser" on (keys saved now and on every change) or off
    /// (stored keys deleted at once; keys stay in memory for this tab).
    pub fn set_remember_keys(&self, on: bool) {
        self.set_remember_keys.set(on);
        let result = if on {
            persist::remove(FORGET_KEYS_KEY).and_then(|()| {
                let keys = self.registry.with_untracked(keys_of);
                persist::save_json("API keys", KEYS_KEY, &keys)
            })
        } else {
            persist::remove(KEYS_KEY)
                .and_then(|()| persist::save_json("key preference", FORGET_KEYS_KEY, &"off"))
        };
        if let Err(e) = result {
            self.report(e);
        }
    }

    fn report(&self, problem: PersistError) {
        self.set_problems.update(|all| {
            if !all.contains(&problem) {
                all.push(problem);
            }
        });
    }
}

/// Stored keys, if any. Unreadable keys are deleted rather than backed up: a copy of a key is one
/// more place a secret sits, and one that "don't remember" would not know to delete.
fn load_keys() -> Result<Option<BTreeMap<String, String>>, PersistError> {
    persist::load_or_delete("API keys", KEYS_KEY, |text| {
        // serde's message can quote the offending value, which may be a key: give the position only.
        serde_json::from_str::<BTreeMap<String, String>>(text).map_err(|e| {
            format!(
                "not a JSON object of provider ids to keys, at line {} column {}",
                e.line(),
                e.column()
            )
        })
    })
}

/// Opens connections to the providers the form's config calls, as soon as the form shows and
/// whenever the config or the providers change (see [`crate::web::preconnect`]): the first call
/// of a run or a batch then does not wait for the connection and the TLS handshake.
pub fn preconnect_to_agents(check: Memo<DraftCheck>, providers: ProviderState) {
    Effect::new(move |_| {
        let registry = providers.registry().get();
        for origin in check.with(|c| call_origins(&registry, &c.config)) {
            preconnect(&origin);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

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
        }
    }

    #[wasm_bindgen_test]
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

    #[wasm_bindgen_test]
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

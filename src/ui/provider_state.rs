//! The provider settings the app runs with, their keys, and where each is kept.
//!
//! Settings without keys are saved under [`PROVIDERS_KEY`]. Keys live in memory, and also under
//! [`KEYS_KEY`] only while "Remember keys in this browser" is on; turning it off deletes them
//! from storage at once. Keys are never written anywhere else.
//!
//! Other tabs share that storage. When one changes it, this tab reloads what it holds from it
//! ([`reloaded`](crate::app::provider_settings::reloaded)), so a stale tab does not write back providers removed or keys forgotten
//! elsewhere; and no tab writes keys while the "don't remember" mark is stored, whichever tab
//! set it.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::app::config_draft::DraftCheck;
use crate::app::provider_settings::{keys_of, merge_stored, reloaded};
use crate::core::providers::{call_origins, ProviderKind, ProviderRegistry, ProviderSettings};
use crate::web::preconnect::preconnect;

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

/// Whether a tab stored the "don't remember keys" mark.
fn forget_mark_stored() -> bool {
    matches!(
        persist::load_json::<String>("key preference", FORGET_KEYS_KEY),
        Ok(Some(_))
    )
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
                // Another tab may have turned remembering off since this one last heard.
                if remember_keys.get() && !forget_mark_stored() {
                    persist::save_json("API keys", KEYS_KEY, &keys_of(r))?;
                }
                Ok::<(), PersistError>(())
            });
            if let Err(e) = result {
                state.report(e);
            }
        });
        let listener = crate::web::storage::StorageListener::new(move |key| {
            let ours = [PROVIDERS_KEY, KEYS_KEY, FORGET_KEYS_KEY];
            if key.as_deref().is_none_or(|k| ours.contains(&k)) {
                state.reload_from_storage();
            }
        });
        // Lives as long as the app's owner.
        StoredValue::new_local(listener);
        state
    }

    /// Takes up what another tab stored: whether keys are remembered, the providers and (when
    /// remembered) the keys.
    fn reload_from_storage(&self) {
        let remember = !forget_mark_stored();
        if remember != self.remember_keys.get_untracked() {
            self.set_remember_keys.set(remember);
        }
        let stored =
            match persist::load_json::<ProviderRegistry>("provider settings", PROVIDERS_KEY) {
                Ok(Some(stored)) => merge_stored(stored),
                Ok(None) => ProviderRegistry::builtin(),
                Err(e) => return self.report(e),
            };
        let keys = if remember {
            match load_keys() {
                Ok(keys) => keys,
                Err(e) => return self.report(e),
            }
        } else {
            None
        };
        let next = self
            .registry
            .with_untracked(|current| reloaded(current, stored, keys.as_ref()));
        if self.registry.with_untracked(|current| *current != next) {
            self.set_registry.set(next);
        }
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
            batch_endpoints: None,
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

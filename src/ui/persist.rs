//! What the app keeps in `localStorage`, under which keys, and what happens when a stored value
//! cannot be read: the user is told, defaults are used, and the unreadable text is kept under a
//! backup key rather than dropped.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::web::storage::{LocalStorage, StorageError};

/// The current configuration, as JSON, saved on every valid change.
pub const CONFIG_KEY: &str = "trialogue.config.v1";
/// Named configurations the user saved (JSON list of [`super::saved::SavedConfig`]).
pub const SAVED_CONFIGS_KEY: &str = "trialogue.saved-configs.v1";
/// Provider settings without keys (the registry as JSON; keys are serde-skipped).
pub const PROVIDERS_KEY: &str = "trialogue.providers.v1";
/// API keys by provider id, present only while "Remember keys in this browser" is on.
pub const KEYS_KEY: &str = "trialogue.keys.v1";
/// Present (`"off"`) only when the user chose "don't remember": keys are remembered by default.
pub const FORGET_KEYS_KEY: &str = "trialogue.forget-keys.v1";
/// How each page shows model text, formatted or raw (JSON map from page to `formatted`/`raw`).
pub const TEXT_VIEW_KEY: &str = "trialogue.text-view.v1";

/// Why stored data could not be loaded or saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersistError {
    /// The browser refused the storage call.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The stored text did not parse; the app carries on without it (defaults, or an empty list)
    /// and the text was copied to `backup_key`.
    #[error("the {what} stored in this browser could not be read ({reason}); the app carries on without it, and the stored text was kept under the localStorage key `{backup_key}`")]
    Corrupt {
        /// What was stored (`current configuration`, `saved configurations`, ...).
        what: &'static str,
        /// Why it did not parse.
        reason: String,
        /// Where the unreadable text now lives.
        backup_key: String,
    },
    /// The stored text did not parse and could not be copied aside either; it was left in place.
    #[error("the {what} stored in this browser could not be read ({reason}) and could not be copied aside ({backup_error}); the app carries on without it, and the stored text is still under the localStorage key `{key}`, where the next save will replace it")]
    CorruptKept {
        /// What was stored.
        what: &'static str,
        /// Why it did not parse.
        reason: String,
        /// The key still holding the text.
        key: &'static str,
        /// Why the copy failed.
        backup_error: StorageError,
    },
    /// The stored text did not parse and was deleted without a copy (used for API keys, where a
    /// copy would be one more place a secret sits).
    #[error("the {what} stored in this browser could not be read ({reason}) and were deleted; enter them again on Settings")]
    Discarded {
        /// What was stored.
        what: &'static str,
        /// Why it did not parse (never quotes the stored text).
        reason: String,
    },
    /// A value could not be turned into JSON (not expected for our types).
    #[error("could not encode the {what} for storage: {reason}")]
    Encode {
        /// What was being saved.
        what: &'static str,
        /// The serializer's message.
        reason: String,
    },
}

/// Reads `key` and parses it with `parse`. A missing key is `Ok(None)`; text that does not parse
/// is moved to a backup key and reported as [`PersistError::Corrupt`].
pub fn load_with<T>(
    what: &'static str,
    key: &'static str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, PersistError> {
    let storage = LocalStorage::open()?;
    let Some(text) = storage.get(key)? else {
        return Ok(None);
    };
    match parse(&text) {
        Ok(value) => Ok(Some(value)),
        Err(reason) => Err(back_up(&storage, what, key, &text, reason)),
    }
}

/// Like [`load_with`], but text that does not parse is deleted, not copied, and reported as
/// [`PersistError::Discarded`]; `parse` must not quote the text in its error.
pub fn load_or_delete<T>(
    what: &'static str,
    key: &'static str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, PersistError> {
    let storage = LocalStorage::open()?;
    let Some(text) = storage.get(key)? else {
        return Ok(None);
    };
    match parse(&text) {
        Ok(value) => Ok(Some(value)),
        Err(reason) => {
            storage.remove(key)?;
            Err(PersistError::Discarded { what, reason })
        }
    }
}

/// [`load_with`] for plain JSON.
pub fn load_json<T: DeserializeOwned>(
    what: &'static str,
    key: &'static str,
) -> Result<Option<T>, PersistError> {
    load_with(what, key, |text| {
        serde_json::from_str(text).map_err(|e| e.to_string())
    })
}

/// Saves `value` as JSON under `key`.
pub fn save_json<T: Serialize>(
    what: &'static str,
    key: &'static str,
    value: &T,
) -> Result<(), PersistError> {
    let text = serde_json::to_string(value).map_err(|e| PersistError::Encode {
        what,
        reason: e.to_string(),
    })?;
    save_text(key, &text)
}

/// Saves `text` under `key`.
pub fn save_text(key: &'static str, text: &str) -> Result<(), PersistError> {
    Ok(LocalStorage::open()?.set(key, text)?)
}

/// Deletes `key`.
pub fn remove(key: &'static str) -> Result<(), PersistError> {
    Ok(LocalStorage::open()?.remove(key)?)
}

/// The backup key for unreadable text found under `key` at `now_ms`; the time keeps every copy.
pub fn backup_key(key: &str, now_ms: f64) -> String {
    format!("{key}.unreadable-{}", now_ms.max(0.0) as u64)
}

fn back_up(
    storage: &LocalStorage,
    what: &'static str,
    key: &'static str,
    text: &str,
    reason: String,
) -> PersistError {
    let backup = backup_key(key, js_sys::Date::now());
    match storage.set(&backup, text) {
        Ok(()) => {
            // The copy is safe, so the original can go: a reload must not report it again.
            if let Err(backup_error) = storage.remove(key) {
                return PersistError::CorruptKept {
                    what,
                    reason,
                    key,
                    backup_error,
                };
            }
            PersistError::Corrupt {
                what,
                reason,
                backup_key: backup,
            }
        }
        Err(backup_error) => PersistError::CorruptKept {
            what,
            reason,
            key,
            backup_error,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    const TEST_KEY: &str = "trialogue.test.persist";

    #[wasm_bindgen_test]
    fn backup_keys_name_the_original_and_the_time() {
        assert_eq!(
            backup_key("trialogue.config.v1", 1_700_000_000_123.0),
            "trialogue.config.v1.unreadable-1700000000123"
        );
    }

    #[wasm_bindgen_test]
    fn json_round_trips_and_a_missing_key_is_none() {
        let _ = remove(TEST_KEY);
        assert_eq!(load_json::<Vec<u32>>("test list", TEST_KEY), Ok(None));
        save_json("test list", TEST_KEY, &vec![1u32, 2, 3]).unwrap();
        assert_eq!(
            load_json::<Vec<u32>>("test list", TEST_KEY),
            Ok(Some(vec![1, 2, 3]))
        );
        remove(TEST_KEY).unwrap();
    }

    #[wasm_bindgen_test]
    fn unreadable_text_is_moved_to_a_backup_key_and_reported() {
        save_text(TEST_KEY, "{not json").unwrap();
        let err = load_json::<Vec<u32>>("test list", TEST_KEY).unwrap_err();
        let PersistError::Corrupt {
            what, backup_key, ..
        } = &err
        else {
            panic!("expected Corrupt, got {err:?}");
        };
        assert_eq!(*what, "test list");
        assert!(backup_key.starts_with("trialogue.test.persist.unreadable-"));
        let storage = LocalStorage::open().unwrap();
        assert_eq!(
            storage.get(backup_key).unwrap().as_deref(),
            Some("{not json")
        );
        assert_eq!(storage.get(TEST_KEY).unwrap(), None);
        assert!(err.to_string().contains(backup_key.as_str()));
        storage.remove(backup_key).unwrap();
    }

    #[wasm_bindgen_test]
    fn load_or_delete_deletes_unreadable_text_without_a_copy() {
        save_text(TEST_KEY, "oops").unwrap();
        let err =
            load_or_delete("test keys", TEST_KEY, |_| Err::<(), _>("bad".into())).unwrap_err();
        assert_eq!(
            err,
            PersistError::Discarded {
                what: "test keys",
                reason: "bad".into()
            }
        );
        assert_eq!(LocalStorage::open().unwrap().get(TEST_KEY).unwrap(), None);
    }
}

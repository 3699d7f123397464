//! `localStorage`, with a typed error for every way it can fail.
//!
//! Browsers may refuse storage altogether (some private modes, storage disabled in site settings)
//! or refuse a write when the origin's quota is used up; both surface as [`StorageError`].

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Storage, StorageEvent};

use super::js_reason;

/// Why browser storage could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The page has no `localStorage` at all.
    #[error("this browser gives the page no local storage ({reason}); allow site data for this page, or leave private browsing, to keep settings across reloads")]
    Unavailable {
        /// What the browser said.
        reason: String,
    },
    /// Reading a key threw.
    #[error("could not read `{key}` from browser storage: {reason}")]
    Read {
        /// The key being read.
        key: String,
        /// What the browser said.
        reason: String,
    },
    /// Writing a key threw, usually because the storage quota is used up.
    #[error("could not save `{key}` in browser storage ({reason}); the site's storage may be full: delete saved configs you no longer need and try again")]
    Write {
        /// The key being written.
        key: String,
        /// What the browser said.
        reason: String,
    },
    /// Removing a key threw.
    #[error("could not delete `{key}` from browser storage: {reason}")]
    Remove {
        /// The key being removed.
        key: String,
        /// What the browser said.
        reason: String,
    },
}

/// The page's `localStorage`.
#[derive(Debug, Clone)]
pub struct LocalStorage(Storage);

impl LocalStorage {
    /// Opens the page's `localStorage`.
    pub fn open() -> Result<Self, StorageError> {
        let window = web_sys::window().ok_or_else(|| StorageError::Unavailable {
            reason: "no window".into(),
        })?;
        match window.local_storage() {
            Ok(Some(storage)) => Ok(Self(storage)),
            Ok(None) => Err(StorageError::Unavailable {
                reason: "localStorage is null".into(),
            }),
            Err(e) => Err(StorageError::Unavailable {
                reason: js_reason(&e),
            }),
        }
    }

    /// The value stored under `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        self.0.get_item(key).map_err(|e| StorageError::Read {
            key: key.into(),
            reason: js_reason(&e),
        })
    }

    /// Stores `value` under `key`, replacing what was there.
    pub fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.0
            .set_item(key, value)
            .map_err(|e| StorageError::Write {
                key: key.into(),
                reason: js_reason(&e),
            })
    }

    /// Deletes `key`; deleting a missing key is not an error.
    pub fn remove(&self, key: &str) -> Result<(), StorageError> {
        self.0.remove_item(key).map_err(|e| StorageError::Remove {
            key: key.into(),
            reason: js_reason(&e),
        })
    }
}

/// Hears changes other tabs of this origin make to `localStorage` (the browser's `storage`
/// event, which never fires in the tab that made the change). The listener is removed when this
/// is dropped.
pub struct StorageListener {
    callback: Closure<dyn FnMut(StorageEvent)>,
}

impl std::fmt::Debug for StorageListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageListener")
    }
}

impl StorageListener {
    /// Calls `on_change` with the changed key (`None` when another tab cleared all storage).
    /// `None` when the page has no window to listen on.
    pub fn new(mut on_change: impl FnMut(Option<String>) + 'static) -> Option<StorageListener> {
        let window = web_sys::window()?;
        let callback = Closure::<dyn FnMut(StorageEvent)>::new(move |event: StorageEvent| {
            on_change(event.key());
        });
        window
            .add_event_listener_with_callback("storage", callback.as_ref().unchecked_ref())
            .ok()?;
        Some(StorageListener { callback })
    }
}

impl Drop for StorageListener {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            let _ = window.remove_event_listener_with_callback(
                "storage",
                self.callback.as_ref().unchecked_ref(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn values_are_stored_replaced_and_removed() {
        let storage = LocalStorage::open().unwrap();
        let key = "trialogue.test.storage";
        storage.remove(key).unwrap();
        assert_eq!(storage.get(key).unwrap(), None);
        storage.set(key, "one").unwrap();
        storage.set(key, "two ✓").unwrap();
        assert_eq!(storage.get(key).unwrap().as_deref(), Some("two ✓"));
        storage.remove(key).unwrap();
        storage.remove(key).unwrap();
        assert_eq!(storage.get(key).unwrap(), None);
    }
}

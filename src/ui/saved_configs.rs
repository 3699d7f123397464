//! Named configurations the user saved, kept in `localStorage` under [`SAVED_CONFIGS_KEY`].
//!
//! Each entry stores the config as its JSON export, the same text the Export button writes, and
//! is parsed only when loaded: an entry that no longer parses is reported when the user loads
//! it, and kept, never silently dropped. (The run-history work moves these to IndexedDB.)

use serde::{Deserialize, Serialize};

use crate::app::config_draft::stored_reason;
use crate::core::config::{parse_json_config, ConfigError, PipelineConfig};

use super::persist::{self, PersistError, SAVED_CONFIGS_KEY};

/// One saved configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedConfig {
    /// The name the user gave it (unique in the list, compared after trimming).
    pub name: String,
    /// When it was saved, ISO 8601 UTC.
    pub saved_at: String,
    /// Its config hash at the time.
    pub hash: String,
    /// The config as its JSON export.
    pub config: serde_json::Value,
}

/// Why a saved configuration could not be saved, listed or loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SavedConfigError {
    /// The name is empty.
    #[error("give the configuration a name to save it under")]
    EmptyName,
    /// Storage failed or held an unreadable list.
    #[error(transparent)]
    Storage(#[from] PersistError),
    /// A saved entry's config no longer reads as a config.
    #[error(
        "the saved configuration \"{name}\" could not be read: {}",
        stored_reason(error)
    )]
    Unreadable {
        /// The entry's name.
        name: String,
        /// What the parser said.
        error: ConfigError,
    },
}

/// The saved list in storage order (oldest first); empty when nothing was saved.
pub fn list() -> Result<Vec<SavedConfig>, SavedConfigError> {
    Ok(persist::load_json("saved configurations", SAVED_CONFIGS_KEY)?.unwrap_or_default())
}

/// `entries` with `config` saved under `name` (replacing an entry of the same name in place).
pub fn with_saved(
    mut entries: Vec<SavedConfig>,
    name: &str,
    config: &PipelineConfig,
    saved_at: String,
) -> Result<Vec<SavedConfig>, SavedConfigError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(SavedConfigError::EmptyName);
    }
    // The export is JSON we wrote ourselves; it always reads back as a value.
    let value = serde_json::from_str(&config.to_json()).unwrap_or(serde_json::Value::Null);
    let entry = SavedConfig {
        name: name.to_string(),
        saved_at,
        hash: config.config_hash(),
        config: value,
    };
    match entries.iter_mut().find(|e| e.name.trim() == name) {
        Some(existing) => *existing = entry,
        None => entries.push(entry),
    }
    Ok(entries)
}

/// Saves `config` under `name` and returns the new list.
pub fn save(name: &str, config: &PipelineConfig) -> Result<Vec<SavedConfig>, SavedConfigError> {
    let now = String::from(js_sys::Date::new_0().to_iso_string());
    let entries = with_saved(list()?, name, config, now)?;
    persist::save_json("saved configurations", SAVED_CONFIGS_KEY, &entries)?;
    Ok(entries)
}

/// A deleted entry and where it stood, so that the delete can be undone.
#[derive(Debug, Clone, PartialEq)]
pub struct Deleted {
    /// The entry as it was.
    pub entry: SavedConfig,
    /// Its position in the list.
    pub index: usize,
}

/// `entries` without the entry called `name`, and that entry (if there was one).
pub fn without(mut entries: Vec<SavedConfig>, name: &str) -> (Vec<SavedConfig>, Option<Deleted>) {
    let deleted = entries
        .iter()
        .position(|e| e.name == name)
        .map(|index| Deleted {
            entry: entries.remove(index),
            index,
        });
    (entries, deleted)
}

/// `entries` with `deleted` back where it stood. An entry saved under the same name since is
/// newer and stays; the old one is not put back.
pub fn with_restored(mut entries: Vec<SavedConfig>, deleted: Deleted) -> Vec<SavedConfig> {
    let name = deleted.entry.name.trim();
    if !entries.iter().any(|e| e.name.trim() == name) {
        let index = deleted.index.min(entries.len());
        entries.insert(index, deleted.entry);
    }
    entries
}

/// Deletes the entry called `name`; returns the new list and what was deleted, for an undo.
pub fn delete(name: &str) -> Result<(Vec<SavedConfig>, Option<Deleted>), SavedConfigError> {
    let (entries, deleted) = without(list()?, name);
    persist::save_json("saved configurations", SAVED_CONFIGS_KEY, &entries)?;
    Ok((entries, deleted))
}

/// Undoes a [`delete`]: puts `deleted` back into the stored list (see [`with_restored`]).
pub fn restore(deleted: Deleted) -> Result<Vec<SavedConfig>, SavedConfigError> {
    let entries = with_restored(list()?, deleted);
    persist::save_json("saved configurations", SAVED_CONFIGS_KEY, &entries)?;
    Ok(entries)
}

impl SavedConfig {
    /// The stored config, read back.
    pub fn config(&self) -> Result<PipelineConfig, SavedConfigError> {
        parse_json_config(self.config.to_string().as_bytes())
            .map(|parsed| parsed.config)
            .map_err(|error| SavedConfigError::Unreadable {
                name: self.name.clone(),
                error,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn saving_adds_then_replaces_by_name_and_reads_back() {
        let a = PipelineConfig::default();
        let b = PipelineConfig {
            max_iterations: 3,
            ..PipelineConfig::default()
        };
        let list = with_saved(Vec::new(), "  baseline ", &a, "t1".into()).unwrap();
        let list = with_saved(list, "other", &a, "t2".into()).unwrap();
        let list = with_saved(list, "baseline", &b, "t3".into()).unwrap();
        let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["baseline", "other"]);
        assert_eq!(list[0].saved_at, "t3");
        assert_eq!(list[0].hash, b.config_hash());
        assert_eq!(list[0].config().unwrap(), b);
        assert_eq!(
            with_saved(list, "  ", &a, "t4".into()),
            Err(SavedConfigError::EmptyName)
        );
    }

    #[wasm_bindgen_test]
    fn a_delete_is_undone_in_place_unless_the_name_was_saved_again() {
        let a = PipelineConfig::default();
        let list = with_saved(Vec::new(), "one", &a, "t1".into()).unwrap();
        let list = with_saved(list, "two", &a, "t2".into()).unwrap();
        let list = with_saved(list, "three", &a, "t3".into()).unwrap();
        let (after, deleted) = without(list.clone(), "two");
        let names: Vec<&str> = after.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["one", "three"]);
        let deleted = deleted.unwrap();
        assert_eq!(deleted.index, 1);
        assert_eq!(with_restored(after.clone(), deleted.clone()), list);
        assert_eq!(without(list.clone(), "nope"), (list, None));

        // Saved again under the name meanwhile: the newer entry stays, alone.
        let resaved = with_saved(after, " two", &a, "t4".into()).unwrap();
        let restored = with_restored(resaved.clone(), deleted.clone());
        assert_eq!(restored, resaved);
        // The list got shorter meanwhile: it goes at the end.
        let restored = with_restored(Vec::new(), deleted);
        assert_eq!(restored.len(), 1);
    }

    #[wasm_bindgen_test]
    fn an_entry_that_no_longer_parses_says_which_one() {
        let entry = SavedConfig {
            name: "old".into(),
            saved_at: "t".into(),
            hash: "00000000".into(),
            config: serde_json::json!({"config_version": "1"}),
        };
        let err = entry.config().unwrap_err();
        assert!(matches!(err, SavedConfigError::Unreadable { ref name, .. } if name == "old"));
        assert!(err.to_string().contains("\"old\""));
    }
}

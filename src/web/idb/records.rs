//! How runs, steps and configs are laid out as IndexedDB records, and their keys.
//!
//! Each record keeps the value as JSON text written by `serde_json` (`json` / `line`), beside
//! the few fields the store is keyed and indexed by. Storing text rather than a structured
//! clone is deliberate: a structured clone turns `1.0` inside a `serde_json::Value` into the
//! integer `1` on the way back (JavaScript has one number type), which would change exported
//! trajectories; text round-trips every value exactly, as the JSONL format needs.

use indexed_db_futures::{DeserialiseFromJs, SerialiseToJs};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use crate::core::config::PipelineConfig;
use crate::core::jsonl::{parse_stored_line, to_line};
use crate::core::trajectory::{RunRecord, RunStatus, TrajectoryEntry};

use super::error::StoreError;
use super::schema::{CONFIGS, RUNS, STEPS};

/// The largest step id a key can hold exactly (JavaScript's `Number.MAX_SAFE_INTEGER`).
pub(crate) const MAX_STEP_ID: u64 = (1 << 53) - 1;

/// A record of the `runs` store.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RunRow {
    run_id: String,
    created_ms: f64,
    updated_ms: f64,
    status: RunStatus,
    config_hash: String,
    // Left out (not `undefined`) when absent, so runs outside a batch stay out of the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    batch_id: Option<String>,
    json: String,
}

impl RunRow {
    /// The record for `run`.
    pub(crate) fn encode(run: &RunRecord) -> Result<JsValue, StoreError> {
        let json = serde_json::to_string(run).map_err(|e| StoreError::Encode {
            what: format!("run {}", run.run_id),
            reason: e.to_string(),
        })?;
        let row = RunRow {
            run_id: run.run_id.clone(),
            created_ms: run.created_ms,
            updated_ms: run.updated_ms,
            status: run.status,
            config_hash: run.config_hash.clone(),
            batch_id: run.batch_id.clone(),
            json,
        };
        to_js(&row, || format!("run {}", run.run_id))
    }

    /// The run in a record read from the store.
    pub(crate) fn decode(value: JsValue) -> Result<RunRecord, StoreError> {
        let key = text_field(&value, "run_id");
        let row: RunRow = from_js(value, RUNS, &key)?;
        let run: RunRecord = serde_json::from_str(&row.json).map_err(|e| StoreError::Corrupt {
            store: RUNS,
            key: row.run_id.clone(),
            reason: e.to_string(),
        })?;
        if run.run_id != row.run_id {
            return Err(StoreError::Corrupt {
                store: RUNS,
                key: row.run_id,
                reason: format!("the record holds run {}", run.run_id),
            });
        }
        Ok(run)
    }
}

/// A record of the `steps` store.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StepRow {
    pub(crate) run_id: String,
    pub(crate) step_id: u64,
    /// The step as [`to_line`] wrote it, without the newline.
    pub(crate) line: String,
}

impl StepRow {
    /// The record for `entry`.
    pub(crate) fn encode(entry: &TrajectoryEntry) -> Result<JsValue, StoreError> {
        let what = || format!("step {} of run {}", entry.step_id, entry.run_id);
        if entry.step_id > MAX_STEP_ID {
            return Err(StoreError::Encode {
                what: what(),
                reason: format!("step ids above {MAX_STEP_ID} cannot be database keys"),
            });
        }
        let mut line = to_line(entry).map_err(|e| StoreError::Encode {
            what: what(),
            reason: e.to_string(),
        })?;
        line.pop(); // the newline
        let row = StepRow {
            run_id: entry.run_id.clone(),
            step_id: entry.step_id,
            line,
        };
        to_js(&row, what)
    }

    /// The entry in a record read from the store.
    pub(crate) fn decode(value: JsValue) -> Result<TrajectoryEntry, StoreError> {
        Self::read(value)?.into_entry()
    }

    /// A record read from the store, its line not parsed yet.
    pub(crate) fn read(value: JsValue) -> Result<StepRow, StoreError> {
        let key = format!(
            "[{}, {}]",
            text_field(&value, "run_id"),
            text_field(&value, "step_id")
        );
        from_js(value, STEPS, &key)
    }

    /// The entry its line holds, checked to be the step the record is keyed as.
    pub(crate) fn into_entry(self) -> Result<TrajectoryEntry, StoreError> {
        let key = format!("[{}, {}]", self.run_id, self.step_id);
        let entry = parse_stored_line(&self.line).map_err(|e| StoreError::Corrupt {
            store: STEPS,
            key: key.clone(),
            reason: e.to_string(),
        })?;
        if entry.run_id != self.run_id || entry.step_id != self.step_id {
            return Err(StoreError::Corrupt {
                store: STEPS,
                key,
                reason: format!(
                    "the record holds step {} of run {}",
                    entry.step_id, entry.run_id
                ),
            });
        }
        Ok(entry)
    }
}

/// A pipeline config saved under a name.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedConfig {
    /// The name it was saved under (the key).
    pub name: String,
    /// When it was saved, epoch milliseconds (UTC).
    pub saved_ms: f64,
    /// The config.
    pub config: PipelineConfig,
}

/// A record of the `configs` store.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ConfigRow {
    name: String,
    saved_ms: f64,
    json: String,
}

impl ConfigRow {
    /// The record for `saved`.
    pub(crate) fn encode(saved: &SavedConfig) -> Result<JsValue, StoreError> {
        let what = || format!("the config `{}`", saved.name);
        let json = serde_json::to_string(&saved.config).map_err(|e| StoreError::Encode {
            what: what(),
            reason: e.to_string(),
        })?;
        let row = ConfigRow {
            name: saved.name.clone(),
            saved_ms: saved.saved_ms,
            json,
        };
        to_js(&row, what)
    }

    /// The saved config in a record read from the store.
    pub(crate) fn decode(value: JsValue) -> Result<SavedConfig, StoreError> {
        let key = text_field(&value, "name");
        let row: ConfigRow = from_js(value, CONFIGS, &key)?;
        let config = serde_json::from_str(&row.json).map_err(|e| StoreError::Corrupt {
            store: CONFIGS,
            key: row.name.clone(),
            reason: e.to_string(),
        })?;
        Ok(SavedConfig {
            name: row.name,
            saved_ms: row.saved_ms,
            config,
        })
    }
}

/// The key of step `step_id` of `run_id`: `[run_id, step_id]`.
pub(crate) fn step_key(run_id: &str, step_id: u64) -> JsValue {
    // Step ids are at most MAX_STEP_ID (checked on the way in), so the f64 is exact.
    js_sys::Array::of2(
        &JsValue::from_str(run_id),
        &JsValue::from_f64(step_id as f64),
    )
    .into()
}

/// The lowest and highest possible keys of the steps of `run_id`.
pub(crate) fn run_step_bounds(run_id: &str) -> (JsValue, JsValue) {
    (step_key(run_id, 0), step_key(run_id, MAX_STEP_ID))
}

fn to_js<T: Serialize>(value: &T, what: impl Fn() -> String) -> Result<JsValue, StoreError> {
    value.serialise_to_js().map_err(|e| StoreError::Encode {
        what: what(),
        reason: e.to_string(),
    })
}

fn from_js<T: DeserializeOwned>(
    value: JsValue,
    store: &'static str,
    key: &str,
) -> Result<T, StoreError> {
    T::deserialise_from_js(value).map_err(|e| StoreError::Corrupt {
        store,
        key: key.to_string(),
        reason: e.to_string(),
    })
}

/// A field of a raw record as text, for naming the record in an error.
pub(super) fn text_field(value: &JsValue, field: &str) -> String {
    match js_sys::Reflect::get(value, &JsValue::from_str(field)) {
        Ok(v) => v
            .as_string()
            .or_else(|| v.as_f64().map(|n| n.to_string()))
            .unwrap_or_else(|| "?".to_string()),
        Err(_) => "?".to_string(),
    }
}

/// [`to_js`] for the other stores' rows.
pub(crate) fn to_js_row<T: Serialize>(
    value: &T,
    what: impl Fn() -> String,
) -> Result<JsValue, StoreError> {
    to_js(value, what)
}

/// [`from_js`] for the other stores' rows.
pub(crate) fn from_js_row<T: DeserializeOwned>(
    value: JsValue,
    store: &'static str,
    key: &str,
) -> Result<T, StoreError> {
    from_js(value, store, key)
}

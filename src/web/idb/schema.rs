//! The database layout: store and index names, the current version, and the upgrade path that
//! takes a database of any older version to the current one without losing data.
//!
//! | version | change |
//! |---|---|
//! | 1 | `runs` (key `run_id`; indices `created_at`, `status`, `config_hash`, `batch_id`), `steps` (key `[run_id, step_id]`; index `run_id`), `configs` (key `name`) |
//! | 2 | `datasets` (key `dataset_id`), `batches` (key `batch_id`; indices `created_at`, `dataset_id`); `runs` gains the index `updated_at` |
//! | 3 | `replies` (key `request_hash`; index `stored_at`): paid replies; older runs simply have none |
//! | 4 | `provider_rounds` (key `[batch_id, round]`; index `batch_id`): provider batch mode's rounds |
//! | 5 | `in_flight` (key `[run_id, step_id]`): calls whose requests may be out, until settled |
//! | 6 | `cost_rollups` (key `key`): the Costs page's sums; left empty, the first Costs visit builds them |
//! | 7 | `runs` gains the index `status_created` (`[status, created_ms]`): one status's runs in date order |
//! | 8 | `run_counts` (key `key`): runs per status, built here from the `status` index's counts |
//! | 9 | `batches` gains the index `status`: the batches left going are found without reading every batch |
//!
//! A new version adds one `vN` function and one line to [`upgrade`]; versions already shipped
//! are never edited, because browsers out there hold databases they created.

use wasm_bindgen::JsValue;
use web_sys::{IdbDatabase, IdbObjectStore, IdbObjectStoreParameters, IdbTransaction};

/// The database the app uses.
pub const DB_NAME: &str = "trialogue";

/// The schema version this build creates and expects.
pub const DB_VERSION: u32 = 9;

/// Run records ([`crate::core::trajectory::RunRecord`]), keyed by `run_id`.
pub const RUNS: &str = "runs";
/// Trajectory steps, keyed by `[run_id, step_id]`.
pub const STEPS: &str = "steps";
/// Saved pipeline configs, keyed by `name`.
pub const CONFIGS: &str = "configs";
/// Datasets of problems for batches, keyed by `dataset_id` (since version 2).
pub const DATASETS: &str = "datasets";
/// Batch runs over a dataset, keyed by `batch_id` (since version 2).
pub const BATCHES: &str = "batches";
/// Paid replies ([`crate::core::replies::StoredReply`]), keyed by `request_hash` (since
/// version 3).
pub const REPLIES: &str = "replies";
/// Provider batch mode's rounds ([`crate::core::provider_batch::RoundRecord`]), keyed by
/// `[batch_id, round]` (since version 4).
pub const PROVIDER_ROUNDS: &str = "provider_rounds";
/// Calls in flight ([`crate::core::in_flight::InFlightCall`]), keyed by `[run_id, step_id]`
/// (since version 5).
pub const IN_FLIGHT: &str = "in_flight";
/// The Costs page's sums per day × agent × provider × model × paid-or-reused, and how far a
/// build has counted (see `rollups.rs`), keyed by `key` (since version 6).
pub const COST_ROLLUPS: &str = "cost_rollups";
/// How many runs are in each status (see `run_counts.rs`), keyed by `key` (since version 8).
pub const RUN_COUNTS: &str = "run_counts";

/// Index names, each named after what it orders or selects by.
pub mod index {
    /// `runs` and `batches` by `created_ms`.
    pub const CREATED_AT: &str = "created_at";
    /// `runs` by `updated_ms` (since version 2).
    pub const UPDATED_AT: &str = "updated_at";
    /// `runs` by `status`, and `batches` by `status` (since version 9).
    pub const STATUS: &str = "status";
    /// `runs` by `[status, created_ms]`: one status's runs in date order (since version 7).
    pub const STATUS_CREATED: &str = "status_created";
    /// `runs` by `config_hash`.
    pub const CONFIG_HASH: &str = "config_hash";
    /// `runs` (runs outside a batch are not in it) and `provider_rounds` by `batch_id`.
    pub const BATCH_ID: &str = "batch_id";
    /// `steps` by `run_id`.
    pub const RUN_ID: &str = "run_id";
    /// `batches` by `dataset_id`.
    pub const DATASET_ID: &str = "dataset_id";
    /// `replies` by `stored_ms` (since version 3).
    pub const STORED_AT: &str = "stored_at";
}

/// Brings a database from `old_version` (0 when it is new) to [`DB_VERSION`], inside the
/// `versionchange` transaction `tx`. Each step runs once, in order, so a version-1 database
/// gets only the version-2 changes and keeps its data.
pub(crate) fn upgrade(
    db: &IdbDatabase,
    tx: &IdbTransaction,
    old_version: u32,
    new_version: u32,
) -> Result<(), JsValue> {
    if old_version < 1 && new_version >= 1 {
        v1(db)?;
    }
    if old_version < 2 && new_version >= 2 {
        v2(db, tx)?;
    }
    if old_version < 3 && new_version >= 3 {
        v3(db)?;
    }
    if old_version < 4 && new_version >= 4 {
        v4(db)?;
    }
    if old_version < 5 && new_version >= 5 {
        v5(db)?;
    }
    if old_version < 6 && new_version >= 6 {
        v6(db)?;
    }
    if old_version < 7 && new_version >= 7 {
        v7(tx)?;
    }
    if old_version < 8 && new_version >= 8 {
        v8(db, tx)?;
    }
    if old_version < 9 && new_version >= 9 {
        v9(tx)?;
    }
    Ok(())
}

fn v1(db: &IdbDatabase) -> Result<(), JsValue> {
    let runs = create_store(db, RUNS, &JsValue::from_str("run_id"))?;
    runs.create_index_with_str(index::CREATED_AT, "created_ms")?;
    runs.create_index_with_str(index::STATUS, "status")?;
    runs.create_index_with_str(index::CONFIG_HASH, "config_hash")?;
    runs.create_index_with_str(index::BATCH_ID, "batch_id")?;

    let key = js_sys::Array::of2(&JsValue::from_str("run_id"), &JsValue::from_str("step_id"));
    let steps = create_store(db, STEPS, &key)?;
    steps.create_index_with_str(index::RUN_ID, "run_id")?;

    create_store(db, CONFIGS, &JsValue::from_str("name"))?;
    Ok(())
}

fn v2(db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    create_store(db, DATASETS, &JsValue::from_str("dataset_id"))?;
    let batches = create_store(db, BATCHES, &JsValue::from_str("batch_id"))?;
    batches.create_index_with_str(index::CREATED_AT, "created_ms")?;
    batches.create_index_with_str(index::DATASET_ID, "dataset_id")?;

    // An index on a store that already holds data is filled by the browser from the records
    // there, within this same transaction.
    let runs = tx.object_store(RUNS)?;
    runs.create_index_with_str(index::UPDATED_AT, "updated_ms")?;
    Ok(())
}

fn v3(db: &IdbDatabase) -> Result<(), JsValue> {
    let replies = create_store(db, REPLIES, &JsValue::from_str("request_hash"))?;
    replies.create_index_with_str(index::STORED_AT, "stored_ms")?;
    Ok(())
}

fn v4(db: &IdbDatabase) -> Result<(), JsValue> {
    let key = js_sys::Array::of2(&JsValue::from_str("batch_id"), &JsValue::from_str("round"));
    let rounds = create_store(db, PROVIDER_ROUNDS, &key)?;
    rounds.create_index_with_str(index::BATCH_ID, "batch_id")?;
    Ok(())
}

fn v5(db: &IdbDatabase) -> Result<(), JsValue> {
    let key = js_sys::Array::of2(&JsValue::from_str("run_id"), &JsValue::from_str("step_id"));
    create_store(db, IN_FLIGHT, &key)?;
    Ok(())
}

fn v6(db: &IdbDatabase) -> Result<(), JsValue> {
    // Empty, without a progress record: counting a big store's steps here would hold the
    // upgrade (and every tab) for as long as it takes, so the Costs page builds the cells,
    // resumably, on its first visit.
    create_store(db, COST_ROLLUPS, &JsValue::from_str("key"))?;
    Ok(())
}

fn v7(tx: &IdbTransaction) -> Result<(), JsValue> {
    // Filled by the browser from the runs already stored, in this transaction (as in v2).
    let runs = tx.object_store(RUNS)?;
    let key_path = js_sys::Array::of2(
        &JsValue::from_str("status"),
        &JsValue::from_str("created_ms"),
    );
    runs.create_index_with_str_sequence(index::STATUS_CREATED, &key_path)?;
    Ok(())
}

fn v8(db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    create_store(db, RUN_COUNTS, &JsValue::from_str("key"))?;
    // Counted on the status index's entries, not by reading runs, so even a big store's
    // upgrade stays short; a count that fails leaves no record, which the first read builds.
    super::run_counts::build(tx)
}

fn v9(tx: &IdbTransaction) -> Result<(), JsValue> {
    // Filled by the browser from the batches already stored, in this transaction (as in v2):
    // each batch record is read once here, not at every load.
    let batches = tx.object_store(BATCHES)?;
    batches.create_index_with_str(index::STATUS, "status")?;
    Ok(())
}

fn create_store(
    db: &IdbDatabase,
    name: &str,
    key_path: &JsValue,
) -> Result<IdbObjectStore, JsValue> {
    let params = IdbObjectStoreParameters::new();
    params.set_key_path(key_path);
    db.create_object_store_with_optional_parameters(name, &params)
}

//! [`StoreError`]: every way the browser database can fail, as a sentence saying what to do.
//!
//! IndexedDB reports failures as `DOMException`s identified by name; [`StoreError::from_dom`]
//! is the one place those names are turned into variants.

use indexed_db_futures::error::{Error as IdbError, OpenDbError};
use wasm_bindgen::JsValue;

use crate::core::pipeline::SinkError;
use crate::web::js_reason;

/// Why the run store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The page cannot use IndexedDB at all (some private windows, site data blocked, a very
    /// old browser).
    #[error("this browser does not let Trialogue use its database ({reason}); runs cannot be saved. Open Trialogue in a normal (not private) window, or allow site data for this page")]
    Unavailable {
        /// What the browser said.
        reason: String,
    },
    /// The database needs an upgrade, and a tab running an older Trialogue keeps it open.
    #[error("the browser database `{name}` must be upgraded, but another Trialogue tab still has it open: close other Trialogue tabs, then reload this page")]
    Blocked {
        /// The database name.
        name: String,
    },
    /// The database on disk was made by a newer Trialogue than this page.
    #[error("the browser database was created by a newer version of Trialogue ({reason}); reload the page to load the newest version")]
    NewerVersion {
        /// What the browser said.
        reason: String,
    },
    /// The site's storage quota is used up.
    #[error("the browser's storage for this site is full, so {operation} failed ({reason}). Nothing already stored was lost: free space by exporting the runs you want to keep and deleting them, then try again")]
    QuotaExceeded {
        /// What was being done, e.g. `saving step 3 of run run_…`.
        operation: String,
        /// What the browser said.
        reason: String,
    },
    /// A step with this `(run_id, step_id)` is stored already; it was not replaced.
    #[error("step {step_id} of run {run_id} is already stored; the stored step was kept and the new one was not written")]
    DuplicateStep {
        /// The run.
        run_id: String,
        /// The step.
        step_id: u64,
    },
    /// A run with this id exists already; it was not replaced.
    #[error("a run with id {run_id} already exists; it was kept and not overwritten")]
    RunExists {
        /// The id asked for.
        run_id: String,
    },
    /// Nothing is stored under this key.
    #[error("no {kind} `{key}` is stored (it may have been deleted in another tab)")]
    NotFound {
        /// What was looked for: `run` or `saved config`.
        kind: &'static str,
        /// Its key.
        key: String,
    },
    /// A stored record does not have the shape this version of Trialogue reads.
    #[error("the stored record {key} in `{store}` cannot be read ({reason}); export the runs you need, then delete this one")]
    Corrupt {
        /// The object store.
        store: &'static str,
        /// The record's key, as text.
        key: String,
        /// What did not fit.
        reason: String,
    },
    /// A value could not be turned into a record (cannot happen for values Trialogue builds).
    #[error("{what} could not be turned into a database record: {reason}")]
    Encode {
        /// What was being stored.
        what: String,
        /// The serializer's explanation.
        reason: String,
    },
    /// The connection was closed, usually because a newer Trialogue in another tab upgraded
    /// the database.
    #[error("the connection to the browser database was closed ({reason}); reload this page")]
    Closed {
        /// What the browser said.
        reason: String,
    },
    /// The code that opens the database is split off the first page's wasm (`ui::store`), and
    /// the server the page came from did not deliver it.
    #[error("the code that opens the browser database could not be loaded from the server Trialogue is served from; check the connection, then try again")]
    CodeUnavailable,
    /// Any other failure, with the browser's exception name and message.
    #[error("{operation} failed in the browser database: {name}: {message}")]
    Dom {
        /// What was being done.
        operation: String,
        /// The `DOMException` name (`UnknownError`, `DataError`, …).
        name: String,
        /// Its message.
        message: String,
    },
}

/// A store failure as core's run driver and loop see it: its sentence.
impl From<StoreError> for SinkError {
    fn from(error: StoreError) -> Self {
        SinkError::new(error.to_string())
    }
}

impl StoreError {
    /// Maps a `DOMException` (by `name`) raised while doing `operation` to a variant:
    /// `QuotaExceededError` → [`QuotaExceeded`](Self::QuotaExceeded), `VersionError` →
    /// [`NewerVersion`](Self::NewerVersion), `InvalidStateError` → [`Closed`](Self::Closed)
    /// (the connection is closing), `SecurityError` → [`Unavailable`](Self::Unavailable);
    /// anything else (including `ConstraintError`, which callers that know the key turn into
    /// [`DuplicateStep`](Self::DuplicateStep) or [`RunExists`](Self::RunExists)) →
    /// [`Dom`](Self::Dom).
    pub fn from_dom(operation: &str, name: &str, message: &str) -> Self {
        let reason = if message.is_empty() {
            name.to_string()
        } else {
            format!("{name}: {message}")
        };
        match name {
            "QuotaExceededError" => StoreError::QuotaExceeded {
                operation: operation.to_string(),
                reason,
            },
            "VersionError" => StoreError::NewerVersion { reason },
            "InvalidStateError" => StoreError::Closed { reason },
            "SecurityError" => StoreError::Unavailable { reason },
            _ => StoreError::Dom {
                operation: operation.to_string(),
                name: name.to_string(),
                message: message.to_string(),
            },
        }
    }
}

/// The exception name and message inside an `indexed_db_futures` error.
pub(crate) fn name_and_message(error: &IdbError) -> (String, String) {
    match error {
        IdbError::DomException(e) => {
            let raw: web_sys::DomException = e.clone().into();
            (raw.name(), raw.message())
        }
        IdbError::Serialisation(e) => ("DataCloneError".to_string(), e.to_string()),
        IdbError::MissingData(e) => ("AbortError".to_string(), e.to_string()),
        IdbError::Unknown(e) => {
            let raw: JsValue = e.clone().into();
            let name = js_sys::Reflect::get(&raw, &JsValue::from_str("name"))
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_else(|| "Error".to_string());
            (name, js_reason(&raw))
        }
    }
}

/// Maps an error from a request or transaction made while doing `operation`.
pub(crate) fn from_idb(operation: &str, error: &IdbError) -> StoreError {
    let (name, message) = name_and_message(error);
    StoreError::from_dom(operation, &name, &message)
}

/// Whether the error is a `ConstraintError` (a key that is taken).
pub(crate) fn is_constraint(error: &IdbError) -> bool {
    name_and_message(error).0 == "ConstraintError"
}

/// Maps a failure to open (or delete) a database.
pub(crate) fn from_open(name: &str, error: &OpenDbError) -> StoreError {
    match error {
        OpenDbError::UnsupportedEnvironment | OpenDbError::NullFactory => StoreError::Unavailable {
            reason: format!("IndexedDB is missing: {error}"),
        },
        OpenDbError::VersionZero => StoreError::Dom {
            operation: format!("opening `{name}`"),
            name: "TypeError".to_string(),
            message: error.to_string(),
        },
        OpenDbError::Base(base) => {
            let (exception, message) = name_and_message(base);
            match exception.as_str() {
                // Firefox's private windows refuse `open` with InvalidStateError; Chrome
                // reports a profile it cannot write as UnknownError.
                "InvalidStateError" | "UnknownError" | "SecurityError" => StoreError::Unavailable {
                    reason: format!("{exception}: {message}"),
                },
                _ => StoreError::from_dom(&format!("opening `{name}`"), &exception, &message),
            }
        }
    }
}

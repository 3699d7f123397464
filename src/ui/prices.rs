//! The prices the app uses, in one place for every page and for runs:
//!
//! - the price table: LiteLLM's as shipped (`/public/pricing.json`, fetched the first time a
//!   price is needed, never compiled into the wasm), or one the user imported from LiteLLM's
//!   `model_prices_and_context_window.json`, kept in `localStorage` under
//!   [`IMPORTED_TABLE_KEY`] until they reset to the shipped one;
//! - the user's prices per model and the custom providers they marked local (free), kept under
//!   [`PRICE_SETTINGS_KEY`].
//!
//! [`PricingState`] is the page-wide context the Costs page, the run page and Settings read;
//! [`load_pricer`] builds the same [`Pricer`] without a reactive owner (for a run starting in a
//! spawned task). Both share the fetched and parsed tables through one cache.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::File;

use crate::app::prices::PriceSettings;
use crate::app::provider_settings::merge_stored;
use crate::core::pricing::{Pricer, PricingError, PricingTable, RateOverride, PRICING_ASSET_URL};
use crate::core::providers::{ProviderRegistry, LOCAL_ID};
use crate::ui::persist::{self, PersistError, PROVIDERS_KEY};
use crate::ui::provider_state::ProviderState;
use crate::web::file::{read_bytes, FileReadError};

/// The user's prices and local providers (JSON of [`PriceSettings`]).
pub const PRICE_SETTINGS_KEY: &str = "trialogue.prices.v1";
/// An imported price table, in `pricing.json` form.
pub const IMPORTED_TABLE_KEY: &str = "trialogue.price-table.v1";
/// The largest price file the import reads: 32 MiB (LiteLLM 1.110.2's is 3.5 MB).
pub const MAX_PRICE_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Why the shipped price table could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PriceTableError {
    /// The request failed before an answer (offline, or the server is gone).
    #[error("could not fetch the price table {url} ({reason}); costs are unknown except for your own prices and local models; reload the page to try again")]
    Fetch {
        /// Where it was fetched from.
        url: String,
        /// What the browser said.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("the price table {url} answered HTTP {status}; the app's files may be incomplete: reload, or import a LiteLLM price file on Settings")]
    Status {
        /// Where it was fetched from.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The answer was not a price table.
    #[error("the price table {url} could not be read: {error}")]
    Parse {
        /// Where it was fetched from.
        url: String,
        /// What was wrong.
        error: PricingError,
    },
}

/// Why a LiteLLM price file was not imported. The table in use is kept in every case.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PriceImportError {
    /// The file could not be read (or is too large).
    #[error("{0}; the current price table is kept")]
    Read(#[from] FileReadError),
    /// Not UTF-8 text.
    #[error("{file_name} is not UTF-8 text (invalid bytes at byte {offset}); LiteLLM's price file is JSON; the current price table is kept")]
    NotText {
        /// The file.
        file_name: String,
        /// Where the first invalid byte is.
        offset: usize,
    },
    /// Not a LiteLLM price file.
    #[error("{file_name}: {error}; the current price table is kept")]
    Parse {
        /// The file.
        file_name: String,
        /// What was wrong, with line and column for JSON errors.
        error: PricingError,
    },
    /// Read, but it could not be kept in this browser.
    #[error("{file_name} was read ({models} models) but could not be saved in this browser ({error}); the current price table is kept")]
    Save {
        /// The file.
        file_name: String,
        /// How many models it priced.
        models: usize,
        /// Why saving failed.
        error: PersistError,
    },
}

/// Which table is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOrigin {
    /// The one shipped with the app.
    Shipped,
    /// One the user imported.
    Imported,
}

/// Where the price table stands.
#[derive(Debug, Clone, PartialEq)]
pub enum TableStatus {
    /// Not asked for yet.
    Idle,
    /// Being fetched.
    Loading,
    /// In use.
    Ready {
        /// The table.
        table: Rc<PricingTable>,
        /// Where it came from.
        origin: TableOrigin,
    },
    /// Could not be loaded; only overrides and local models are priced.
    Failed(String),
}

impl TableStatus {
    /// The table, when one is loaded.
    pub fn table(&self) -> Option<Rc<PricingTable>> {
        match self {
            TableStatus::Ready { table, .. } => Some(Rc::clone(table)),
            _ => None,
        }
    }

    /// Whether asking for prices has finished, with or without a table.
    pub fn settled(&self) -> bool {
        matches!(self, TableStatus::Ready { .. } | TableStatus::Failed(_))
    }
}

thread_local! {
    static SHIPPED: RefCell<Option<Rc<PricingTable>>> = const { RefCell::new(None) };
    // The parsed imported table, once read from storage; `Some(None)` when there is none.
    static IMPORTED: RefCell<Option<Option<Rc<PricingTable>>>> = const { RefCell::new(None) };
}

/// The shipped table, fetched once per page load.
pub async fn shipped_table() -> Result<Rc<PricingTable>, PriceTableError> {
    if let Some(table) = SHIPPED.with(|t| t.borrow().clone()) {
        return Ok(table);
    }
    let url = PRICING_ASSET_URL.to_string();
    let response = gloo_net::http::Request::get(&url)
        .send()
        .await
        .map_err(|e| PriceTableError::Fetch {
            url: url.clone(),
            reason: e.to_string(),
        })?;
    if !response.ok() {
        return Err(PriceTableError::Status {
            url,
            status: response.status(),
        });
    }
    let text = response.text().await.map_err(|e| PriceTableError::Fetch {
        url: url.clone(),
        reason: e.to_string(),
    })?;
    let table =
        Rc::new(
            PricingTable::from_json(&text).map_err(|error| PriceTableError::Parse {
                url: url.clone(),
                error,
            })?,
        );
    SHIPPED.with(|t| *t.borrow_mut() = Some(Rc::clone(&table)));
    Ok(table)
}

/// The imported table, if the user imported one (read from storage once, then cached).
/// Stored text that does not read is moved aside and reported; the shipped table is used.
pub fn imported_table() -> Result<Option<Rc<PricingTable>>, PersistError> {
    if let Some(cached) = IMPORTED.with(|t| t.borrow().clone()) {
        return Ok(cached);
    }
    let loaded = persist::load_with("imported price table", IMPORTED_TABLE_KEY, |text| {
        PricingTable::from_json(text).map_err(|e| e.to_string())
    })?
    .map(Rc::new);
    IMPORTED.with(|t| *t.borrow_mut() = Some(loaded.clone()));
    Ok(loaded)
}

/// The table in use: the imported one if there is one, else the shipped one.
pub async fn current_table() -> Result<(Rc<PricingTable>, TableOrigin), PriceTableError> {
    if let Ok(Some(table)) = imported_table() {
        return Ok((table, TableOrigin::Imported));
    }
    Ok((shipped_table().await?, TableOrigin::Shipped))
}

/// The stored price settings; unreadable ones are moved aside, reported, and replaced by none.
pub fn load_settings() -> (PriceSettings, Option<PersistError>) {
    match persist::load_json::<PriceSettings>("price settings", PRICE_SETTINGS_KEY) {
        Ok(settings) => (settings.unwrap_or_default(), None),
        Err(e) => (PriceSettings::default(), Some(e)),
    }
}

/// The pricer a run starting now should use: the stored settings over the table in use
/// (without a table when it cannot be loaded: then only overrides and local models are priced,
/// and every other cost is unknown, never 0).
pub async fn load_pricer() -> Pricer {
    let (settings, _) = load_settings();
    let table = current_table().await.ok().map(|(t, _)| t);
    settings.pricer(table, &stored_registry())
}

/// The provider settings as stored (the built-ins where nothing readable is stored), for a
/// pricer built without a reactive owner.
fn stored_registry() -> ProviderRegistry {
    match persist::load_json::<ProviderRegistry>("provider settings", PROVIDERS_KEY) {
        Ok(Some(stored)) => merge_stored(stored),
        Ok(None) | Err(_) => ProviderRegistry::builtin(),
    }
}

/// The app's prices as signals (a context value: `expect_context::<PricingState>()`).
#[derive(Debug, Clone, Copy)]
pub struct PricingState {
    settings: RwSignal<PriceSettings>,
    table: RwSignal<TableStatus, LocalStorage>,
    problem: RwSignal<Option<String>>,
}

/// Reads the stored price settings and provides [`PricingState`]; the table is fetched when a
/// page first asks for prices ([`PricingState::ensure_table`]).
pub fn provide_pricing_state() {
    let (settings, problem) = load_settings();
    provide_context(PricingState {
        settings: RwSignal::new(settings),
        table: RwSignal::new_local(TableStatus::Idle),
        problem: RwSignal::new(problem.map(|e| e.to_string())),
    });
}

impl PricingState {
    /// Starts loading the table if nothing asked for it yet.
    pub fn ensure_table(&self) {
        if self.table.with_untracked(|t| *t != TableStatus::Idle) {
            return;
        }
        self.reload_table();
    }

    fn reload_table(&self) {
        self.table.set(TableStatus::Loading);
        let state = *self;
        spawn_local(async move {
            if let Err(e) = imported_table() {
                state.problem.set(Some(e.to_string()));
            }
            let status = match current_table().await {
                Ok((table, origin)) => TableStatus::Ready { table, origin },
                Err(e) => TableStatus::Failed(e.to_string()),
            };
            state.table.set(status);
        });
    }

    /// Where the table stands.
    pub fn table(&self) -> Signal<TableStatus, LocalStorage> {
        let table = self.table;
        Signal::derive_local(move || table.get())
    }

    /// The user's prices and local providers.
    pub fn settings(&self) -> Signal<PriceSettings> {
        self.settings.into()
    }

    /// The pricer for what is loaded now (`None` while the table is still loading; once it
    /// failed, a pricer without a table).
    pub fn pricer(&self) -> Signal<Option<Rc<Pricer>>, LocalStorage> {
        let (settings, table) = (self.settings, self.table);
        let providers = use_context::<ProviderState>();
        Signal::derive_local(move || {
            let status = table.get();
            let registry = match providers {
                Some(p) => p.registry().get(),
                None => stored_registry(),
            };
            status
                .settled()
                .then(|| Rc::new(settings.with(|s| s.pricer(status.table(), &registry))))
        })
    }

    /// A problem with stored price data, as a sentence.
    pub fn problem(&self) -> Signal<Option<String>> {
        self.problem.into()
    }

    fn save(&self, change: impl FnOnce(&mut PriceSettings)) -> Result<(), PersistError> {
        let mut next = self.settings.get_untracked();
        change(&mut next);
        persist::save_json("price settings", PRICE_SETTINGS_KEY, &next)?;
        self.settings.set(next);
        Ok(())
    }

    /// Sets the user's price for `model` and saves it.
    pub fn set_override(&self, model: &str, rates: RateOverride) -> Result<(), PriceSettingsError> {
        let mut overrides = self.settings.with_untracked(|s| s.overrides.clone());
        overrides.insert(model, rates)?;
        self.save(|s| s.overrides = overrides)?;
        Ok(())
    }

    /// Removes the user's price for `model` and saves.
    pub fn remove_override(&self, model: &str) -> Result<(), PriceSettingsError> {
        Ok(self.save(|s| {
            s.overrides.remove(model);
        })?)
    }

    /// Marks a custom provider as local (its models free) or not, and saves.
    pub fn set_local(&self, provider: &str, local: bool) -> Result<(), PriceSettingsError> {
        if provider == LOCAL_ID {
            return Err(PriceSettingsError::BuiltinLocal);
        }
        Ok(self.save(|s| {
            if local {
                s.local_providers.insert(provider.to_string());
            } else {
                s.local_providers.remove(provider);
            }
        })?)
    }

    /// Reads a LiteLLM price file and, if it reads, keeps it and uses it instead of the table
    /// in use. Returns the new table's model count.
    pub async fn import_litellm(&self, file: &File) -> Result<usize, PriceImportError> {
        let file_name = file.name();
        let bytes = read_bytes(file, MAX_PRICE_FILE_BYTES).await?;
        let text = String::from_utf8(bytes).map_err(|e| PriceImportError::NotText {
            file_name: file_name.clone(),
            offset: e.utf8_error().valid_up_to(),
        })?;
        let table = PricingTable::from_litellm_file(&file_name, &text).map_err(|error| {
            PriceImportError::Parse {
                file_name: file_name.clone(),
                error,
            }
        })?;
        drop(text);
        let models = table.len();
        persist::save_text(IMPORTED_TABLE_KEY, &table.to_json()).map_err(|error| {
            PriceImportError::Save {
                file_name,
                models,
                error,
            }
        })?;
        let table = Rc::new(table);
        IMPORTED.with(|t| *t.borrow_mut() = Some(Some(Rc::clone(&table))));
        self.table.set(TableStatus::Ready {
            table,
            origin: TableOrigin::Imported,
        });
        Ok(models)
    }

    /// Forgets the imported table and goes back to the shipped one.
    pub fn reset_table(&self) -> Result<(), PriceSettingsError> {
        persist::remove(IMPORTED_TABLE_KEY)?;
        IMPORTED.with(|t| *t.borrow_mut() = Some(None));
        self.reload_table();
        Ok(())
    }
}

/// A change to the price settings that was refused or not saved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PriceSettingsError {
    /// The price is not valid.
    #[error(transparent)]
    Invalid(#[from] crate::core::pricing::OverrideError),
    /// The built-in local provider is free by its address, not by a mark.
    #[error(
        "the built-in `local` provider is free while its base URL is on this machine \
         (localhost, 127.0.0.1, [::1]); only custom providers can be marked local"
    )]
    BuiltinLocal,
    /// Browser storage refused the change; nothing changed.
    #[error("{0}; the change was not made")]
    Storage(#[from] PersistError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn errors_say_the_current_table_is_kept() {
        let e = PriceImportError::Parse {
            file_name: "prices.json".into(),
            error: PricingError::NotAnObject { found: "an array" },
        };
        let text = e.to_string();
        assert!(
            text.starts_with("prices.json: the price file is JSON"),
            "{text}"
        );
        assert!(text.ends_with("the current price table is kept"), "{text}");
        let e = PriceTableError::Status {
            url: PRICING_ASSET_URL.into(),
            status: 404,
        };
        assert!(e.to_string().contains("HTTP 404"));
    }
}

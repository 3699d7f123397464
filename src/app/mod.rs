//! View models: the UI's logic that needs no browser (what a page shows, in which order, and
//! how the text a user typed becomes values), compiled for every target so that native
//! `cargo test` covers it.
//!
//! Modules here may use [`crate::core`], never Leptos or the browser (`web_sys`, `js_sys`,
//! `crate::web`): a native build has none of them, so a view model that reaches for the
//! browser does not compile. `ui` holds the signals and draws what these compute.

pub mod batch;
pub mod charts;
pub mod config_draft;
pub mod costs;
pub mod experiment;
pub mod experiment_forecast;
pub mod file_names;
pub mod format;
pub mod llm_error;
pub mod nav;
pub mod prices;
pub mod provider_probe;
pub mod provider_settings;
pub mod reply_store;
pub mod richtext;
pub mod run;
pub mod storage;

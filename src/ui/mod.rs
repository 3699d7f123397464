//! The Leptos application: the shell, the pages, their components and the app-wide state.

pub mod app;
pub mod batch;
pub mod charts;
pub mod components;
pub mod config_form;
pub mod costs;
pub mod experiments;
pub mod job;
pub mod pages;
pub mod persist;
pub mod prices;
pub mod provider_state;
pub mod run;
pub mod saved_configs;
pub mod state;
pub mod store;
pub mod task;
pub mod training;

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

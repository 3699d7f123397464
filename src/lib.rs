//! Trialogue: solver / verifier / judge LLM loops that run in the browser.
//!
//! - [`core`] is pure Rust (no browser APIs) and is tested natively.
//! - [`app`] holds the UI's view models: no browser either, tested natively.
//! - `web` is the browser edge (HTTP, IndexedDB, storage, downloads) behind core's traits.
//! - `ui` is the Leptos application.

pub mod app;
pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod ui;

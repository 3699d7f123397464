//! Browser tests (wasm-bindgen-test in headless Chromium), one module per area under
//! `tests/web/`. Run with:
//!
//! ```sh
//! source scripts/env.sh && cargo test --target wasm32-unknown-unknown --test web
//! ```
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test_configure;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "web/idb.rs"]
mod idb;

// The reply store (schema version 3).
#[path = "web/replies.rs"]
mod replies;

#[path = "web/batches.rs"]
mod batches;

#[path = "web/locks.rs"]
mod locks;

#[path = "web/preconnect.rs"]
mod preconnect;

#[path = "web/http.rs"]
mod http;

#[path = "web/store.rs"]
mod store;

#[path = "web/job.rs"]
mod job;

#[path = "web/sent.rs"]
mod sent;

#[path = "web/util.rs"]
mod util;

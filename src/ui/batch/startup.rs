//! What the app does about runs and batches once, when it loads: provide the batch session,
//! and turn the runs and batches a closed or reloaded tab left going into `interrupted` before
//! any starts ([`crate::core::driver::startup`]). Work another open tab is driving keeps its
//! status: that tab holds its lock.
//!
//! The check is split off the first page's wasm (the `startup_checks` chunk): the first page
//! draws without it, and the chunk is fetched at once after.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{wasm_split, SplitLoaderError};

use crate::core::clock::Clock;
use crate::core::driver::startup::{mark_abandoned, Abandoned};
use crate::core::pipeline::SinkError;
use crate::ui::run::session::{RunSession, Startup};
use crate::ui::store::SharedStore;
use crate::web::clock::BrowserClock;
use crate::web::locks::WebLocks;

use super::session::BatchSession;

/// Provides the [`BatchSession`] context and starts the start-up check of runs and batches.
/// The root component calls it once, after [`crate::ui::run::startup::provide_run_state`]
/// (whose session it tells); runs and batches wait (their Start and Resume buttons stay
/// disabled) until the check is done, so work started now is never mistaken for work a closed
/// tab left behind, and nothing this tab resumes is marked interrupted under it.
pub fn provide_batch_state() {
    let store = expect_context::<SharedStore>();
    let runs = expect_context::<RunSession>();
    let batches = BatchSession::new(runs);
    provide_context(batches);
    spawn_local(async move {
        if start_checks(store, runs, batches).await.is_err() {
            runs.startup
                .set(Startup::Failed(CHECK_UNAVAILABLE.to_string()));
            batches
                .startup
                .set(Startup::Failed(CHECK_UNAVAILABLE.to_string()));
        }
    });
}

/// Why the start-up check did not run: its code could not be fetched. Work can still be tried,
/// as after any failed check; what a closed tab left running keeps that status until a reload.
pub const CHECK_UNAVAILABLE: &str = "the start-up check could not be loaded from the server \
    Trialogue is served from, so runs and batches a closed tab left running are not marked \
    interrupted yet; check the connection, then reload the page";

/// Starts the check, once its chunk is loaded.
#[wasm_split(startup_checks, wasm_split_path = ::leptos::wasm_split, fallible)]
fn start_checks(
    store: SharedStore,
    runs: RunSession,
    batches: BatchSession,
) -> Result<(), SplitLoaderError> {
    spawn_local(run_checks(store, runs, batches));
    Ok(())
}

/// Runs the check and tells both sessions how it went.
async fn run_checks(store: SharedStore, runs: RunSession, batches: BatchSession) {
    let checked = check(store).await;
    let (run_check, batch_check) = match checked {
        Ok(Abandoned { runs, batches }) => (Startup::Done(runs), Startup::Done(batches)),
        Err(e) => (
            Startup::Failed(e.message.clone()),
            Startup::Failed(e.message),
        ),
    };
    let touch = |check: &Startup| matches!(check, Startup::Done(ids) if !ids.is_empty());
    let (runs_changed, batches_changed) = (touch(&run_check), touch(&batch_check));
    runs.startup.set(run_check);
    batches.startup.set(batch_check);
    if runs_changed {
        runs.touch_runs();
    }
    if batches_changed {
        batches.touch_batches();
    }
}

/// Opens the store and marks what a closed tab left going.
async fn check(store: SharedStore) -> Result<Abandoned, SinkError> {
    let store = store.open().await?;
    mark_abandoned(&store, &WebLocks, BrowserClock::new().now_ms()).await
}

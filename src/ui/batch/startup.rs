//! What the app does about batches once, when it loads: provide the batch session, and turn
//! batches a closed or reloaded tab left running into `interrupted` before any batch starts.
//! Batches another open tab is driving keep their status: that tab holds their lock.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{wasm_split, SplitLoaderError};

use crate::core::clock::Clock;
use crate::ui::run::session::{RunSession, Startup};
use crate::ui::run::startup::CHECK_UNAVAILABLE;
use crate::ui::store::run_store;
use crate::web::clock::BrowserClock;
use crate::web::idb::{StoreError, TrajectoryStore};
use crate::web::locks::{batch_lock_name, claim, Claim};

use super::session::BatchSession;

/// Provides the [`BatchSession`] context and starts the startup check. The root component calls
/// it once, after [`crate::ui::run::startup::provide_run_state`] (whose session it uses);
/// batches wait (their Start and Resume buttons stay disabled) until both checks are done, so a
/// batch started now is never mistaken for one a closed tab left behind, and no run it resumes
/// is marked interrupted under it.
pub fn provide_batch_state() {
    let runs = expect_context::<RunSession>();
    let session = BatchSession::new(runs);
    provide_context(session);
    // The run check asks batch locks for the runs of batches; this one starts once it is done,
    // so it never holds one that check asks for.
    let mut started = false;
    Effect::new(move |_| {
        let run_check_done = runs.startup.with(|s| *s != Startup::Pending);
        if run_check_done && !std::mem::replace(&mut started, true) {
            spawn_local(async move {
                if start_batch_check(session).await.is_err() {
                    session
                        .startup
                        .set(Startup::Failed(CHECK_UNAVAILABLE.to_string()));
                }
            });
        }
    });
}

/// Starts the batch check, once its chunk (the run check's, `ui::run::startup`) is loaded.
#[wasm_split(startup_checks, wasm_split_path = ::leptos::wasm_split, fallible)]
fn start_batch_check(session: BatchSession) -> Result<(), SplitLoaderError> {
    spawn_local(check_batches(session));
    Ok(())
}

/// Marks the batches a closed tab left running as interrupted, and says so in the session.
async fn check_batches(session: BatchSession) {
    let result = match run_store().await {
        Ok(store) => mark_abandoned_batches(&store, BrowserClock::new().now_ms()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(ids) => {
            let changed = !ids.is_empty();
            session.startup.set(Startup::Done(ids));
            if changed {
                session.touch_batches();
            }
        }
        Err(e) => session.startup.set(Startup::Failed(e.to_string())),
    }
}

/// Marks interrupted the batches left running or paused whose lock no tab holds, and returns
/// their ids. As for runs (see `ui::run::startup`), each free lock is held until the marks are
/// stored; without Web Locks every such batch counts as abandoned.
async fn mark_abandoned_batches(
    store: &TrajectoryStore,
    now_ms: f64,
) -> Result<Vec<String>, StoreError> {
    let unfinished = store.unfinished_batch_ids().await?;
    let mut abandoned = Vec::new();
    let mut held: Vec<Claim> = Vec::new();
    for id in unfinished {
        let found = claim(&batch_lock_name(&id)).await;
        if found.is_free() {
            abandoned.push(id);
        }
        held.push(found);
    }
    let marked = store.mark_batches_interrupted(&abandoned, now_ms).await;
    drop(held);
    marked
}

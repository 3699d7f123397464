//! What the app does about runs once, when it loads: provide the run session, and turn runs a
//! closed or reloaded tab left `running` into `interrupted` before any new run starts. Runs
//! another open tab is driving keep their status: that tab holds their lock.
//!
//! The check itself is split off the first page's wasm (the `startup_checks` chunk, shared with
//! the batch check): the first page draws without it, and the chunk is fetched at once after.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{wasm_split, SplitLoaderError};

use crate::web::idb::{StoreError, TrajectoryStore};
use crate::web::locks::{batch_lock_name, claim, run_lock_name, Claim};

use super::session::{RunSession, Startup};
use crate::ui::store::SharedStore;

/// Provides the [`RunSession`] context and starts the startup check. The root component calls
/// it once; new runs wait (their Start button stays disabled) until the check is done, so a run
/// started now is never mistaken for one a closed tab left behind.
pub fn provide_run_state() {
    let store = expect_context::<SharedStore>();
    let session = RunSession::new();
    provide_context(session);
    spawn_local(async move {
        if start_run_check(store, session).await.is_err() {
            session
                .startup
                .set(Startup::Failed(CHECK_UNAVAILABLE.to_string()));
        }
    });
}

/// Why a start-up check (of runs, or of batches) did not run: its code could not be fetched.
/// Work can still be tried, as after any failed check; what a closed tab left running keeps
/// that status until a reload.
pub const CHECK_UNAVAILABLE: &str = "the start-up check could not be loaded from the server \
    Trialogue is served from, so runs and batches a closed tab left running are not marked \
    interrupted yet; check the connection, then reload the page";

/// Starts the run check, once its chunk is loaded.
#[wasm_split(startup_checks, wasm_split_path = ::leptos::wasm_split, fallible)]
fn start_run_check(store: SharedStore, session: RunSession) -> Result<(), SplitLoaderError> {
    spawn_local(check_runs(store, session));
    Ok(())
}

/// Marks the runs a closed tab left running as interrupted, and says so in the session.
async fn check_runs(store: SharedStore, session: RunSession) {
    let result = match store.open().await {
        Ok(store) => mark_abandoned_runs(&store).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(ids) => {
            let changed = !ids.is_empty();
            session.startup.set(Startup::Done(ids));
            if changed {
                session.touch_runs();
            }
        }
        Err(e) => {
            session.startup.set(Startup::Failed(e.to_string()));
        }
    }
}

/// Marks interrupted the runs left `running` that no open tab is driving, and returns their
/// ids. A run outside a batch is driven under its own lock; a batch's runs under the batch's.
///
/// Each lock found free is taken before the runs under it are marked and kept until the marks
/// are stored, so a tab that starts resuming one meanwhile cannot have it marked under it (the
/// batch start-up waits for this one, so it never holds a batch lock this asks for). Without
/// Web Locks (or when the browser refuses one) a run counts as abandoned, as a lone tab would
/// see it.
async fn mark_abandoned_runs(store: &TrajectoryStore) -> Result<Vec<String>, StoreError> {
    let running = store.running_runs().await?;
    let mut abandoned = Vec::new();
    // Asked once per lock name (a batch has many runs, and asking again for a lock this task
    // holds would be refused); the claims are kept until the marks are stored.
    let mut claims: Vec<(String, Claim)> = Vec::new();
    for (run_id, batch_id) in running {
        let name = match &batch_id {
            Some(batch_id) => batch_lock_name(batch_id),
            None => run_lock_name(&run_id),
        };
        let is_free = match claims.iter().find(|(known, _)| *known == name) {
            Some((_, found)) => found.is_free(),
            None => {
                let found = claim(&name).await;
                let is_free = found.is_free();
                claims.push((name, found));
                is_free
            }
        };
        if is_free {
            abandoned.push(run_id);
        }
    }
    let marked = store.mark_runs_interrupted(&abandoned).await;
    drop(claims);
    marked
}

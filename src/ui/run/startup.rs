//! What the app does about runs once, when it loads: provide the run session, and turn runs a
//! closed or reloaded tab left `running` into `interrupted` before any new run starts. Runs
//! another open tab is driving keep their status: that tab holds their lock.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::web::idb::{StoreError, TrajectoryStore};
use crate::web::locks::{run_lock_name, try_hold, TabLock};

use super::session::{RunSession, Startup};
use super::store::{forget_if_closed, run_store};

/// Provides the [`RunSession`] context and starts the startup check. The root component calls
/// it once; new runs wait (their Start button stays disabled) until the check is done, so a run
/// started now is never mistaken for one a closed tab left behind.
pub fn provide_run_state() {
    let session = RunSession::new();
    provide_context(session);
    spawn_local(async move {
        let result = match run_store().await {
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
                forget_if_closed(&e);
                session.startup.set(Startup::Failed(e.to_string()));
            }
        }
    });
}

/// Marks interrupted the runs left `running` whose lock no tab holds, and returns their ids.
///
/// Each such run's lock is taken before it is marked and kept until the mark is stored, so a
/// tab that starts resuming it meanwhile cannot have it marked under it. Without Web Locks (or
/// when the browser refuses one) a run counts as abandoned, as a lone tab would see it.
async fn mark_abandoned_runs(store: &TrajectoryStore) -> Result<Vec<String>, StoreError> {
    let running = store.running_run_ids().await?;
    let mut abandoned = Vec::new();
    let mut held: Vec<TabLock> = Vec::new();
    for id in running {
        match try_hold(&run_lock_name(&id)).await {
            Ok(Some(lock)) => {
                held.push(lock);
                abandoned.push(id);
            }
            Ok(None) => {} // another tab is driving it
            Err(_) => abandoned.push(id),
        }
    }
    let marked = store.mark_runs_interrupted(&abandoned).await;
    drop(held);
    marked
}

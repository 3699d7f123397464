//! What the app does about runs once, when it loads: provide the run session, and turn runs a
//! closed or reloaded tab left `running` into `interrupted` before any new run starts.

use leptos::prelude::*;
use leptos::task::spawn_local;

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
            Ok(store) => store.mark_interrupted_runs().await,
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

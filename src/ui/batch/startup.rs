//! What the app does about batches once, when it loads: provide the batch session, and turn
//! batches a closed or reloaded tab left running into `interrupted` before any batch starts.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::core::clock::Clock;
use crate::ui::run::session::RunSession;
use crate::ui::run::store::{forget_if_closed, run_store};
use crate::web::clock::BrowserClock;

use super::session::{BatchSession, BatchStartup};

/// Provides the [`BatchSession`] context and starts the startup check. The root component calls
/// it once, after [`crate::ui::run::startup::provide_run_state`] (whose session it uses);
/// batches wait (their Start and Resume buttons stay disabled) until both checks are done, so a
/// batch started now is never mistaken for one a closed tab left behind, and no run it resumes
/// is marked interrupted under it.
pub fn provide_batch_state() {
    let session = BatchSession::new(expect_context::<RunSession>());
    provide_context(session);
    spawn_local(async move {
        let result = match run_store().await {
            Ok(store) => {
                store
                    .mark_interrupted_batches(BrowserClock::new().now_ms())
                    .await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(ids) => {
                let changed = !ids.is_empty();
                session.startup.set(BatchStartup::Done(ids));
                if changed {
                    session.touch_batches();
                }
            }
            Err(e) => {
                forget_if_closed(&e);
                session.startup.set(BatchStartup::Failed(e.to_string()));
            }
        }
    });
}

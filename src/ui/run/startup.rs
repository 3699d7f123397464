//! The run session, provided once when the app loads. Runs a closed or reloaded tab left
//! `running` are marked `interrupted` by the one start-up check of runs and batches
//! ([`crate::ui::batch::startup`]), which says when it is done through
//! [`RunSession::startup`].

use leptos::prelude::*;

use super::session::RunSession;
use crate::ui::store::SharedStore;

/// Provides the [`RunSession`] context. The root component calls it once, before
/// [`crate::ui::batch::startup::provide_batch_state`], which starts the start-up check; new
/// runs wait (their Start button stays disabled) until the check is done, so a run started now
/// is never mistaken for one a closed tab left behind.
pub fn provide_run_state() {
    provide_context(RunSession::new(expect_context::<SharedStore>()));
}

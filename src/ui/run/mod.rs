//! Running the loop in the page and looking at runs: the live session (core's loop wired to
//! fetch, the clock and IndexedDB), the transcript and summary components, and moving
//! trajectories in and out as JSONL. What they show is computed in [`crate::app::run`].

pub mod actions;
pub mod export;
pub mod import;
pub mod pricing;
pub mod session;
pub mod startup;
pub mod summary;
pub mod transcript;

// `session.rs`, which the run-driver work rewrites, still names these through the old paths:
// the transcript's cards (now view models in `crate::app::run::step`) and the store's
// accessor (now in `crate::ui::store`).
pub(crate) use crate::app::run::step;
pub(crate) use crate::ui::store;

//! Running the loop in the page and looking at runs: the live session (core's loop wired to
//! fetch, the clock and IndexedDB), the transcript and summary components, and moving
//! trajectories in and out as JSONL. What they show is computed in [`crate::app::run`].

pub mod actions;
pub mod derive;
pub mod export;
pub mod import;
pub mod live;
pub mod sent;
pub mod session;
pub mod startup;
pub mod summary;
pub mod thinking;
pub mod transcript;

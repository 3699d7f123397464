//! Running the loop in the page and looking at runs: the live session (core's loop wired to
//! fetch, the clock and IndexedDB), the transcript and summary components, the runs table's
//! model, and moving trajectories in and out as JSONL.

pub mod actions;
pub mod export;
pub mod format;
pub mod import;
pub mod live;
pub mod session;
pub mod startup;
pub mod step;
pub mod store;
pub mod summary;
pub mod table;
pub mod thinking;
pub mod transcript;

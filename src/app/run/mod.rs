//! What the run pages show: the transcript's cards, the summary card, the runs table, and which
//! runs of an import are kept for copies.

pub mod compare;
pub mod derive;
pub mod import;
pub mod live;
pub mod step;
pub mod summary;
pub mod table;

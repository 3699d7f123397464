//! What the run pages show: the transcript's cards and the runs table.

pub mod step;
pub mod table;

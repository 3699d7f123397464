//! What the run pages show: the transcript's cards.

pub mod step;

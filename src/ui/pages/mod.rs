//! One module per route.

pub mod batch;
pub mod configure;
pub mod costs;
pub mod experiments;
pub mod not_found;
pub mod run;
pub mod run_detail;
pub mod runs;
pub mod settings;
pub mod training;

//! The training-data export in the browser: the selected runs read from the store problem by
//! problem, through core's exporter, into live counts or one ZIP download.

pub mod export;

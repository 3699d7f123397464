//! What the Batch page shows: a dataset file being imported, the problem selection form, the cost forecast, the results, and
//! how batch numbers read.

pub mod draft;
pub mod engine;
pub mod forecast;
pub mod format;
pub mod live;
pub mod results;
pub mod rounds;
pub mod selection;

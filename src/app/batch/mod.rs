//! What the Batch page shows: the problem selection form, the cost forecast, the results, and
//! how batch numbers read.

pub mod forecast;
pub mod format;
pub mod results;
pub mod selection;

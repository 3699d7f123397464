//! One module per route.

pub mod configure;
pub mod later;
pub mod not_found;
pub mod settings;

//! What the pages show, computed without a browser: view models tested natively.

pub mod richtext;

//! The native integration tests, one module per area, linked as one binary (as ripgrep's
//! `tests/` are). Shared helpers live in [`util`]; fixtures in `tests/fixtures/`.

mod util;

mod answer;
mod batch;
mod cancel;
mod config;
mod cost;
mod cost_views;
mod dataset;
mod driver;
mod fuzz;
mod jsonl;
mod llm_adapters;
mod llm_client;
mod pipeline;
mod replies;
mod richtext;
mod stats;

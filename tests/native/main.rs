//! The native integration tests, one module per area, linked as one binary (as ripgrep's
//! `tests/` are). Shared helpers live in [`util`]; fixtures in `tests/fixtures/`.

mod util;

mod answer;
mod batch;
mod batch_replies;
mod batch_results;
mod budget;
mod cancel;
mod config;
mod cost;
mod cost_rollup;
mod cost_views;
mod dataset;
mod driver;
mod experiment;
mod experiment_rounds;
mod fork;
mod fuzz;
mod hardening;
mod jsonl;
mod jsonl_stream;
mod llm_adapters;
mod llm_client;
mod partial_json;
mod pipeline;
mod possibly_billed;
mod provider_batch;
mod provider_batch_families;
mod reasoning;
mod replies;
mod richtext;
mod round_trip;
mod startup;
mod stats;
mod stream_speed;
mod streaming;
mod training;

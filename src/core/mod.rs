//! The pure core of Trialogue: domain types, configuration, provider adapters, the agent loop,
//! costs and answer checking. Nothing here touches the browser; I/O comes in through the traits
//! in [`llm::transport`], [`pipeline`] and [`clock`].

pub mod cancel;
pub mod clock;
pub mod outputs;
pub mod role;

pub mod config;
pub mod guard;
pub mod hash;
pub mod model;
pub mod presets;
pub mod redact;
pub mod template;
pub mod text;

pub mod llm;
pub mod providers;

pub mod answer;
pub mod batch;
pub mod dataset;
pub mod driver;
pub mod experiment;
pub mod in_flight;
pub mod jsonl;
pub mod pipeline;
pub mod provider_batch;
pub mod regrade;
pub mod replies;
pub mod run_counts;
pub mod run_facts;
pub mod run_store;
pub mod scripted;
pub mod sorting;
pub mod stats;
pub mod stored_dataset;
pub mod stream_speed;
pub mod training;
pub mod trajectory;

pub mod budget;
pub mod cost;
pub mod cost_rollup;
pub mod cost_views;
pub mod pricing;

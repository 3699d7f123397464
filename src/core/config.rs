//! The pipeline configuration: the original's `PipelineConfig`, `AgentConfig` and `JudgeConfig`,
//! plus Trialogue's own settings (which leave the config hash alone at their defaults).
//!
//! (Parsing, validation and export are being written; these are the data types.)

use serde::{Deserialize, Serialize};

/// Debate (solver ⇄ verifier loop) or a single-solver baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Solver, verifier critiques, solver revises, ... then the judge.
    #[default]
    Debate,
    /// One solver call, then the judge.
    Baseline,
}

/// Solver or verifier settings (the original's `AgentConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    /// `solver` or `verifier`; must match the slot it sits in.
    pub role: String,
    /// A LiteLLM-style model string.
    pub model: String,
    /// Sampling temperature (default 0.0).
    pub temperature: f64,
    /// Max generated tokens (default 4096).
    pub max_tokens: u32,
    /// The prompt, with `{placeholders}`.
    pub prompt_template: String,
    /// The system prompt (default empty).
    pub system_prompt: String,
}

/// Judge settings (the original's `JudgeConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeConfig {
    /// A LiteLLM-style model string.
    pub model: String,
    /// Sampling temperature (default 0.0).
    pub temperature: f64,
    /// Max generated tokens (default 4096).
    pub max_tokens: u32,
    /// The prompt, with `{placeholders}`.
    pub prompt_template: String,
    /// The system prompt (default empty).
    pub system_prompt: String,
    /// The rubric, available to the prompt as `{rubric}`.
    pub scoring_rubric: String,
}

/// The whole pipeline (the original's `PipelineConfig`) plus Trialogue's additions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineConfig {
    /// The solver.
    pub solver: AgentConfig,
    /// The verifier.
    pub verifier: AgentConfig,
    /// The judge.
    pub judge: JudgeConfig,
    /// Debate or baseline (default debate).
    pub mode: Mode,
    /// Solver/verifier rounds, 1..=20 (default 5).
    pub max_iterations: u32,
    /// Kept for compatibility with the original; meaningless in a browser.
    pub trajectory_output_dir: String,
    /// The user's version label for this config (required).
    pub config_version: String,
    /// Trialogue: re-asks after a reply fails validation (default 2).
    pub max_reasks: u32,
    /// Trialogue: transport attempts per request, first included (default 3).
    pub max_attempts: u32,
    /// Trialogue: per-request timeout in seconds (default 120).
    pub request_timeout_secs: u32,
    /// Trialogue: spending cap per run in USD (default none).
    pub run_budget_usd: Option<f64>,
    /// Trialogue: spending cap per batch in USD (default none).
    pub batch_budget_usd: Option<f64>,
}

//! The pipeline configuration: the original's `PipelineConfig`, `AgentConfig` and `JudgeConfig`,
//! plus Trialogue's own execution settings (re-asks, attempts, timeouts, budgets), which are
//! never part of the config hash.
//!
//! - [`parse_config`] reads the YAML or JSON files the original's users have, with the original's
//!   defaults, and errors that name the field, the line and the column. It is safe on hostile
//!   input: size-capped, depth-capped, alias-bomb-proof.
//! - [`PipelineConfig::validate`] lists every problem (ranges, roles, models, templates).
//! - [`PipelineConfig::to_yaml`] / [`PipelineConfig::to_json`] export files the original can read.
//! - [`PipelineConfig::config_hash`] is byte-for-byte the original's hash.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::guard::{self, Limits, ReadError};
use crate::core::hash::{python_float_repr, python_json_dumps_sorted, sha256_hex};
use crate::core::llm::reasoning::{self, Reasoning};
use crate::core::model::resolve_model;
use crate::core::template::{self, placeholders};

mod parse;
mod yaml;

use yaml::{yaml_float, yaml_raw, yaml_text};

/// Default sampling temperature of every agent (the original's).
pub const DEFAULT_TEMPERATURE: f64 = 0.0;
/// Default max generated tokens of every agent (the original's).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;
/// Default solver/verifier rounds (the original's).
pub const DEFAULT_MAX_ITERATIONS: u32 = 5;
/// Default trajectory directory (the original's; unused in a browser).
pub const DEFAULT_TRAJECTORY_OUTPUT_DIR: &str = "trajectories";
/// Default re-asks after a reply fails validation.
pub const DEFAULT_MAX_REASKS: u32 = 2;
/// Default transport attempts per request, the first included (the original's tenacity setting).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default per-request timeout in seconds.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u32 = 120;
/// The largest config file [`parse_config`] reads (1 MiB); real configs are a few KB.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

/// What [`parse_config`] reads: [`MAX_CONFIG_BYTES`], 32 levels of nesting and 100,000 values
/// (aliases counted each time they expand). Real configs hold a few dozen values, 3 levels deep.
pub const CONFIG_LIMITS: Limits = Limits {
    max_bytes: MAX_CONFIG_BYTES,
    max_depth: 32,
    max_nodes: 100_000,
};

fn default_max_tokens() -> u32 {
    DEFAULT_MAX_TOKENS
}
fn default_max_iterations() -> u32 {
    DEFAULT_MAX_ITERATIONS
}
fn default_trajectory_output_dir() -> String {
    DEFAULT_TRAJECTORY_OUTPUT_DIR.to_string()
}
fn default_max_reasks() -> u32 {
    DEFAULT_MAX_REASKS
}
fn default_max_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}
fn default_request_timeout_secs() -> u32 {
    DEFAULT_REQUEST_TIMEOUT_SECS
}

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

impl Mode {
    /// The name used in config files: `debate` or `baseline`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Debate => "debate",
            Mode::Baseline => "baseline",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Solver or verifier settings (the original's `AgentConfig`).
///
/// The serde derives (used for storage) apply the original's defaults to missing optional
/// fields; files from users go through [`parse_config`] instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    /// `solver` or `verifier`; must match the slot it sits in.
    pub role: String,
    /// A LiteLLM-style model string.
    pub model: String,
    /// Sampling temperature (default 0.0).
    #[serde(default)]
    pub temperature: f64,
    /// Max generated tokens (default 4096).
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// The prompt, with `{placeholders}`.
    pub prompt_template: String,
    /// The system prompt (default empty).
    #[serde(default)]
    pub system_prompt: String,
    /// Trialogue: how much to reason before answering (default off).
    #[serde(default, skip_serializing_if = "Reasoning::is_off")]
    pub reasoning: Reasoning,
}

/// Judge settings (the original's `JudgeConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeConfig {
    /// A LiteLLM-style model string.
    pub model: String,
    /// Sampling temperature (default 0.0).
    #[serde(default)]
    pub temperature: f64,
    /// Max generated tokens (default 4096).
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// The prompt, with `{placeholders}`.
    pub prompt_template: String,
    /// The system prompt (default empty).
    #[serde(default)]
    pub system_prompt: String,
    /// The rubric, available to the prompt as `{rubric}`.
    pub scoring_rubric: String,
    /// Trialogue: how much to reason before answering (default off).
    #[serde(default, skip_serializing_if = "Reasoning::is_off")]
    pub reasoning: Reasoning,
}

/// The whole pipeline (the original's `PipelineConfig`) plus Trialogue's additions.
///
/// [`Default`] is the app's default preset, `local-smollm2` (see [`crate::core::presets`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineConfig {
    /// The solver.
    pub solver: AgentConfig,
    /// The verifier.
    pub verifier: AgentConfig,
    /// The judge.
    pub judge: JudgeConfig,
    /// Debate or baseline (default debate).
    #[serde(default)]
    pub mode: Mode,
    /// Solver/verifier rounds, 1..=20 (default 5).
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u32,
    /// Kept for compatibility with the original; meaningless in a browser.
    #[serde(default = "default_trajectory_output_dir")]
    pub trajectory_output_dir: String,
    /// The user's version label for this config (required).
    pub config_version: String,
    /// Trialogue: re-asks after a reply fails validation (default 2).
    #[serde(default = "default_max_reasks")]
    pub max_reasks: u32,
    /// Trialogue: transport attempts per request, first included (default 3).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Trialogue: per-request timeout in seconds (default 120).
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u32,
    /// Trialogue: spending cap per run in USD (default none).
    #[serde(default)]
    pub run_budget_usd: Option<f64>,
    /// Trialogue: spending cap per batch in USD (default none).
    #[serde(default)]
    pub batch_budget_usd: Option<f64>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        crate::core::presets::local_smollm2_config()
    }
}

// ---------------------------------------------------------------------------------------------
// Formats, results and errors
// ---------------------------------------------------------------------------------------------

/// The two file formats a config comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// YAML (the original's usual format).
    Yaml,
    /// JSON.
    Json,
}

impl ConfigFormat {
    /// The format a file name's extension says: `.yaml` / `.yml` or `.json` (any case).
    pub fn from_file_name(name: &str) -> Option<ConfigFormat> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(ConfigFormat::Yaml),
            "json" => Some(ConfigFormat::Json),
            _ => None,
        }
    }

    /// Guesses the format of pasted text: JSON when the first non-whitespace character (after
    /// a byte-order mark) is `{`, YAML otherwise.
    pub fn sniff(text: &str) -> ConfigFormat {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim_start().starts_with('{') {
            ConfigFormat::Json
        } else {
            ConfigFormat::Yaml
        }
    }
}

impl fmt::Display for ConfigFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigFormat::Yaml => "YAML",
            ConfigFormat::Json => "JSON",
        })
    }
}

/// A parsed config and what was ignored on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedConfig {
    /// The config, defaults filled in. It is not validated: call [`PipelineConfig::validate`].
    pub config: PipelineConfig,
    /// One sentence per key that was ignored (unknown, or given twice), each starting with the
    /// key's path, e.g. `solver.foo: unknown key, ignored`.
    pub warnings: Vec<String>,
}

/// Why a config file could not be read. Lines and columns are 1-based; columns count
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file is over [`MAX_CONFIG_BYTES`]; it was not parsed.
    #[error("the file is {bytes} bytes, over the {limit}-byte limit for a pipeline config; choose the config's .yaml or .json file")]
    TooLarge {
        /// The file's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The file is not UTF-8 text (binary, or saved as UTF-16 or Latin-1).
    #[error("the file is not UTF-8 text (invalid byte at line {line}, column {column}); save it as UTF-8, or choose the config's .yaml or .json file")]
    NotUtf8 {
        /// Line of the first invalid byte.
        line: usize,
        /// Column of the first invalid byte.
        column: usize,
        /// Byte offset of the first invalid byte.
        byte_offset: usize,
    },
    /// The file holds nothing but whitespace (or, in YAML, comments).
    #[error("the {format} file is empty; a pipeline config needs at least config_version, solver, verifier and judge")]
    Empty {
        /// The format it was read as.
        format: ConfigFormat,
    },
    /// The text is not well-formed YAML or JSON.
    #[error("{format} syntax error at line {line}, column {column}: {message}; fix the file and import it again")]
    Syntax {
        /// The format it was read as.
        format: ConfigFormat,
        /// Where the parser stopped.
        line: usize,
        /// Where the parser stopped.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// The document is a list or a scalar rather than a mapping of settings.
    #[error("the {format} file holds {found}, not a mapping of settings; a pipeline config has keys such as `config_version:` and `solver:` at the top")]
    WrongTopLevel {
        /// The format it was read as.
        format: ConfigFormat,
        /// What it holds, e.g. `a list`.
        found: String,
    },
    /// A field holds the wrong kind of value (or a number that does not fit).
    #[error("{path}: {message} (line {line}, column {column})")]
    WrongType {
        /// The field's path, e.g. `solver.temperature`.
        path: String,
        /// Where the value is.
        line: usize,
        /// Where the value is.
        column: usize,
        /// What was expected and found, e.g. `expected a number, found a string`.
        message: String,
    },
    /// A required field is absent.
    #[error("{path} is missing; it is required, so add it to the file")]
    Missing {
        /// The field's path, e.g. `solver.prompt_template`.
        path: String,
    },
    /// Nesting or alias expansion beyond what any config needs (a YAML "billion laughs").
    #[error("the {format} file is too deeply nested or expands too much ({reason}); a pipeline config is a small mapping, so this is probably not the right file")]
    TooComplex {
        /// The format it was read as.
        format: ConfigFormat,
        /// Which limit was hit.
        reason: String,
    },
    /// Any other failure of the parser, without a position (e.g. several YAML documents).
    #[error("the {format} file could not be read: {message}")]
    Unreadable {
        /// The format it was read as.
        format: ConfigFormat,
        /// The parser's description.
        message: String,
    },
}

/// One validation problem: the field's path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FieldError {
    /// The field's path, e.g. `verifier.prompt_template` (the form control's `name`).
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl FieldError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Parses a config file: checks its size and encoding, then reads it as `format`, filling the
/// original's defaults. Unknown keys are ignored (as the original did) with a warning each.
///
/// In YAML, anchors, aliases and merge keys (`<<: *defaults`) work as in PyYAML; explicit keys
/// win over merged ones. A key given twice keeps its last value, with a warning.
///
/// Strings must be strings (`config_version: 1.0` is an error that says to quote it), numbers
/// numbers; an integer is accepted for a float field and a whole float (`4096.0`) for an integer
/// field, as pydantic did. The result is not validated: see [`PipelineConfig::validate`].
pub fn parse_config(bytes: &[u8], format: ConfigFormat) -> Result<ParsedConfig, ConfigError> {
    match format {
        ConfigFormat::Json => parse_json_config(bytes),
        ConfigFormat::Yaml => parse_yaml_config(bytes),
    }
}

/// [`parse_config`] for JSON only: it does not reach the YAML reader.
pub fn parse_json_config(bytes: &[u8]) -> Result<ParsedConfig, ConfigError> {
    let (config, warnings) = parse::read_json(config_text(bytes, ConfigFormat::Json)?)?;
    Ok(ParsedConfig { config, warnings })
}

/// [`parse_config`] for YAML only.
pub fn parse_yaml_config(bytes: &[u8]) -> Result<ParsedConfig, ConfigError> {
    let (config, warnings) = parse::read_yaml(config_text(bytes, ConfigFormat::Yaml)?)?;
    Ok(ParsedConfig { config, warnings })
}

/// The text of a config file: within the size limit, UTF-8 without a BOM, not blank.
fn config_text(bytes: &[u8], format: ConfigFormat) -> Result<&str, ConfigError> {
    guard::text(bytes, &CONFIG_LIMITS).map_err(|e| ConfigError::from_read(e, format))
}

impl ConfigError {
    /// The config's word for what the guarded reader found.
    fn from_read(error: ReadError, format: ConfigFormat) -> ConfigError {
        match error {
            ReadError::TooLarge { bytes, limit } => ConfigError::TooLarge { bytes, limit },
            ReadError::NotUtf8 {
                line,
                column,
                byte_offset,
            } => ConfigError::NotUtf8 {
                line,
                column,
                byte_offset,
            },
            ReadError::Empty => ConfigError::Empty { format },
            ReadError::Syntax {
                line,
                column,
                message,
            } => ConfigError::Syntax {
                format,
                line,
                column,
                message,
            },
            ReadError::TooComplex(exceeded) => ConfigError::TooComplex {
                format,
                reason: exceeded.to_string(),
            },
            ReadError::SeveralDocuments => ConfigError::Unreadable {
                format,
                message: "it holds more than one YAML document (separated by `---`); keep one \
                    config per file"
                    .to_string(),
            },
            ReadError::Unreadable { message } => ConfigError::Unreadable { format, message },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

impl PipelineConfig {
    /// Every problem with this config, with models checked against the built-in providers
    /// only. Empty means the config can run.
    pub fn validate(&self) -> Vec<FieldError> {
        self.validate_with(&[])
    }

    /// Every problem with this config; `custom_provider_ids` are the user's own providers, which
    /// models may name as `id/model`.
    pub fn validate_with(&self, custom_provider_ids: &[&str]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.config_version.trim().is_empty() {
            errors.push(FieldError::new(
                "config_version",
                "must not be empty; give this config a version label such as \"1\"",
            ));
        }
        check_range(&mut errors, "max_iterations", self.max_iterations, 1, 20);
        check_agent(
            &mut errors,
            &self.solver,
            "solver",
            placeholders::SOLVER,
            custom_provider_ids,
        );
        check_agent(
            &mut errors,
            &self.verifier,
            "verifier",
            placeholders::VERIFIER,
            custom_provider_ids,
        );
        let judge = &self.judge;
        check_common(
            &mut errors,
            "judge",
            Common {
                model: &judge.model,
                temperature: judge.temperature,
                max_tokens: judge.max_tokens,
                prompt_template: &judge.prompt_template,
            },
            placeholders::JUDGE,
            custom_provider_ids,
        );
        if judge.scoring_rubric.trim().is_empty() {
            errors.push(FieldError::new(
                "judge.scoring_rubric",
                "must not be empty; the judge scores against it (as {rubric} in its prompt)",
            ));
        }
        for (slot, reasoning, max_tokens) in [
            ("solver", self.solver.reasoning, self.solver.max_tokens),
            (
                "verifier",
                self.verifier.reasoning,
                self.verifier.max_tokens,
            ),
            ("judge", self.judge.reasoning, self.judge.max_tokens),
        ] {
            if let Err(problem) = reasoning::check_budget(reasoning, max_tokens) {
                errors.push(FieldError::new(format!("{slot}.reasoning"), problem.0));
            }
        }
        check_range(&mut errors, "max_reasks", self.max_reasks, 0, 10);
        check_range(&mut errors, "max_attempts", self.max_attempts, 1, 10);
        check_range(
            &mut errors,
            "request_timeout_secs",
            self.request_timeout_secs,
            1,
            3600,
        );
        for (path, budget) in [
            ("run_budget_usd", self.run_budget_usd),
            ("batch_budget_usd", self.batch_budget_usd),
        ] {
            if let Some(x) = budget {
                if !(x.is_finite() && x > 0.0) {
                    errors.push(FieldError::new(
                        path,
                        format!(
                            "must be an amount in USD above 0, not {}; leave it out for no cap",
                            python_float_repr(x)
                        ),
                    ));
                }
            }
        }
        errors
    }
}

fn check_range(errors: &mut Vec<FieldError>, path: &str, value: u32, min: u32, max: u32) {
    if !(min..=max).contains(&value) {
        errors.push(FieldError::new(
            path,
            format!("must be a whole number from {min} to {max}, not {value}"),
        ));
    }
}

struct Common<'a> {
    model: &'a str,
    temperature: f64,
    max_tokens: u32,
    prompt_template: &'a str,
}

fn check_agent(
    errors: &mut Vec<FieldError>,
    agent: &AgentConfig,
    slot: &str,
    allowed: &[&str],
    custom_provider_ids: &[&str],
) {
    if agent.role != slot {
        errors.push(FieldError::new(
            format!("{slot}.role"),
            format!("must be \"{slot}\", not {:?}", agent.role),
        ));
    }
    check_common(
        errors,
        slot,
        Common {
            model: &agent.model,
            temperature: agent.temperature,
            max_tokens: agent.max_tokens,
            prompt_template: &agent.prompt_template,
        },
        allowed,
        custom_provider_ids,
    );
}

fn check_common(
    errors: &mut Vec<FieldError>,
    slot: &str,
    c: Common<'_>,
    allowed: &[&str],
    custom_provider_ids: &[&str],
) {
    if let Err(e) = resolve_model(c.model, custom_provider_ids) {
        errors.push(FieldError::new(format!("{slot}.model"), e.to_string()));
    }
    if !(c.temperature.is_finite() && (0.0..=2.0).contains(&c.temperature)) {
        errors.push(FieldError::new(
            format!("{slot}.temperature"),
            format!(
                "must be a number from 0 to 2, not {}",
                python_float_repr(c.temperature)
            ),
        ));
    }
    check_range(
        errors,
        &format!("{slot}.max_tokens"),
        c.max_tokens,
        1,
        1_000_000,
    );
    if c.prompt_template.trim().is_empty() {
        let names: Vec<String> = allowed.iter().map(|p| format!("{{{p}}}")).collect();
        errors.push(FieldError::new(
            format!("{slot}.prompt_template"),
            format!(
                "must not be empty; write the prompt, using {}",
                names.join(", ")
            ),
        ));
    } else if let Err(e) = template::check(c.prompt_template, allowed) {
        errors.push(FieldError::new(
            format!("{slot}.prompt_template"),
            e.to_string(),
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Export and hash
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct AgentExport<'a> {
    role: &'a str,
    model: &'a str,
    temperature: f64,
    max_tokens: u32,
    system_prompt: &'a str,
    prompt_template: &'a str,
    #[serde(skip_serializing_if = "Reasoning::is_off")]
    reasoning: Reasoning,
}

#[derive(Serialize)]
struct JudgeExport<'a> {
    model: &'a str,
    temperature: f64,
    max_tokens: u32,
    system_prompt: &'a str,
    prompt_template: &'a str,
    scoring_rubric: &'a str,
    #[serde(skip_serializing_if = "Reasoning::is_off")]
    reasoning: Reasoning,
}

#[derive(Serialize)]
struct PipelineExport<'a> {
    config_version: &'a str,
    mode: Mode,
    max_iterations: u32,
    trajectory_output_dir: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_reasks: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_timeout_secs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_budget_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch_budget_usd: Option<f64>,
    solver: AgentExport<'a>,
    verifier: AgentExport<'a>,
    judge: JudgeExport<'a>,
}

fn agent_export(a: &AgentConfig) -> AgentExport<'_> {
    AgentExport {
        role: &a.role,
        model: &a.model,
        temperature: a.temperature,
        max_tokens: a.max_tokens,
        system_prompt: &a.system_prompt,
        prompt_template: &a.prompt_template,
        reasoning: a.reasoning,
    }
}

/// A reasoning setting as a YAML value: the effort's name, or a flow mapping for a budget.
fn yaml_reasoning(reasoning: Reasoning) -> String {
    match reasoning.budget_tokens() {
        Some(n) => format!("{{budget_tokens: {n}}}"),
        None => reasoning.effort_name().unwrap_or_default().to_string(),
    }
}

fn non_default(value: u32, default: u32) -> Option<u32> {
    (value != default).then_some(value)
}

impl PipelineConfig {
    /// Trialogue's own fields (execution settings) that differ from their defaults, as
    /// `(name, JSON value)`. At their defaults they are left out of exports, so a config that
    /// does not use them is exactly what the original would read; they are never hashed.
    fn extensions(&self) -> Vec<(&'static str, serde_json::Value)> {
        let mut out = Vec::new();
        let wholes = [
            ("max_reasks", self.max_reasks, DEFAULT_MAX_REASKS),
            ("max_attempts", self.max_attempts, DEFAULT_MAX_ATTEMPTS),
            (
                "request_timeout_secs",
                self.request_timeout_secs,
                DEFAULT_REQUEST_TIMEOUT_SECS,
            ),
        ];
        for (name, value, default) in wholes {
            if let Some(v) = non_default(value, default) {
                out.push((name, serde_json::Value::from(v)));
            }
        }
        for (name, value) in [
            ("run_budget_usd", self.run_budget_usd),
            ("batch_budget_usd", self.batch_budget_usd),
        ] {
            if let Some(v) = value {
                out.push((name, serde_json::Value::from(v)));
            }
        }
        out
    }

    fn export(&self) -> PipelineExport<'_> {
        PipelineExport {
            config_version: &self.config_version,
            mode: self.mode,
            max_iterations: self.max_iterations,
            trajectory_output_dir: &self.trajectory_output_dir,
            max_reasks: non_default(self.max_reasks, DEFAULT_MAX_REASKS),
            max_attempts: non_default(self.max_attempts, DEFAULT_MAX_ATTEMPTS),
            request_timeout_secs: non_default(
                self.request_timeout_secs,
                DEFAULT_REQUEST_TIMEOUT_SECS,
            ),
            run_budget_usd: self.run_budget_usd,
            batch_budget_usd: self.batch_budget_usd,
            solver: agent_export(&self.solver),
            verifier: agent_export(&self.verifier),
            judge: JudgeExport {
                model: &self.judge.model,
                temperature: self.judge.temperature,
                max_tokens: self.judge.max_tokens,
                system_prompt: &self.judge.system_prompt,
                prompt_template: &self.judge.prompt_template,
                scoring_rubric: &self.judge.scoring_rubric,
                reasoning: self.judge.reasoning,
            },
        }
    }

    /// The config as a YAML file the original (PyYAML) and [`parse_config`] both read back to
    /// the same config. Every original field is written, defaults included; Trialogue's own
    /// fields only when they differ from their defaults. Multi-line prompts are written as
    /// literal blocks (`|`) when that is exact, otherwise as double-quoted strings.
    pub fn to_yaml(&self) -> String {
        let e = self.export();
        let mut out = String::new();
        yaml_text(&mut out, 0, "config_version", e.config_version);
        yaml_raw(&mut out, 0, "mode", e.mode.as_str());
        yaml_raw(&mut out, 0, "max_iterations", &e.max_iterations.to_string());
        yaml_text(
            &mut out,
            0,
            "trajectory_output_dir",
            e.trajectory_output_dir,
        );
        for (name, value) in self.extensions() {
            let raw = match value.as_f64() {
                Some(x) if value.is_f64() => yaml_float(x),
                _ => value.to_string(),
            };
            yaml_raw(&mut out, 0, name, &raw);
        }
        for (slot, a) in [("solver", &e.solver), ("verifier", &e.verifier)] {
            out.push_str(slot);
            out.push_str(":\n");
            yaml_text(&mut out, 2, "role", a.role);
            yaml_text(&mut out, 2, "model", a.model);
            yaml_raw(&mut out, 2, "temperature", &yaml_float(a.temperature));
            yaml_raw(&mut out, 2, "max_tokens", &a.max_tokens.to_string());
            yaml_text(&mut out, 2, "system_prompt", a.system_prompt);
            yaml_text(&mut out, 2, "prompt_template", a.prompt_template);
            if !a.reasoning.is_off() {
                yaml_raw(&mut out, 2, "reasoning", &yaml_reasoning(a.reasoning));
            }
        }
        let j = &e.judge;
        out.push_str("judge:\n");
        yaml_text(&mut out, 2, "model", j.model);
        yaml_raw(&mut out, 2, "temperature", &yaml_float(j.temperature));
        yaml_raw(&mut out, 2, "max_tokens", &j.max_tokens.to_string());
        yaml_text(&mut out, 2, "system_prompt", j.system_prompt);
        yaml_text(&mut out, 2, "prompt_template", j.prompt_template);
        yaml_text(&mut out, 2, "scoring_rubric", j.scoring_rubric);
        if !j.reasoning.is_off() {
            yaml_raw(&mut out, 2, "reasoning", &yaml_reasoning(j.reasoning));
        }
        out
    }

    /// The config as the JSON object [`Self::to_json`] writes: what a trajectory carries as
    /// a run's `metadata.config`, and what [`parse_json_config`] reads back.
    pub fn to_json_object(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self.export()) {
            Ok(serde_json::Value::Object(map)) => map,
            // Plain strings and numbers always serialize to an object.
            _ => serde_json::Map::new(),
        }
    }

    /// The config as pretty-printed JSON (same fields and order as [`Self::to_yaml`]).
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        let mut json = serde_json::to_string_pretty(&self.export()).unwrap_or_default();
        json.push('\n');
        json
    }

    /// The text the original hashed: `json.dumps(config.model_dump(), sort_keys=True)`, every
    /// original field present with defaults filled in. Trialogue's execution settings (re-asks,
    /// attempts, timeouts, budgets) never take part: they say how a run is made, not what is
    /// studied, so runs that differ only in them share a hash, and every config keeps the hash
    /// the original gives its fields. An agent's `reasoning` is studied (it changes what the
    /// agent answers): set to anything but off, it enters its agent's object.
    ///
    /// A non-finite temperature or budget (which parsing and validation reject) would print as
    /// `null`, since JSON has no NaN.
    pub fn canonical_json(&self) -> String {
        use serde_json::{json, Map, Value};
        let with_reasoning = |mut agent: Value, reasoning: Reasoning| {
            if let (Some(object), false) = (agent.as_object_mut(), reasoning.is_off()) {
                object.insert("reasoning".into(), reasoning.to_json());
            }
            agent
        };
        let agent = |a: &AgentConfig| {
            let plain = json!({
                "role": a.role,
                "model": a.model,
                "temperature": a.temperature,
                "max_tokens": a.max_tokens,
                "prompt_template": a.prompt_template,
                "system_prompt": a.system_prompt,
            });
            with_reasoning(plain, a.reasoning)
        };
        let j = &self.judge;
        let mut top = Map::new();
        top.insert("solver".into(), agent(&self.solver));
        top.insert("verifier".into(), agent(&self.verifier));
        let judge = json!({
            "model": j.model,
            "temperature": j.temperature,
            "max_tokens": j.max_tokens,
            "prompt_template": j.prompt_template,
            "system_prompt": j.system_prompt,
            "scoring_rubric": j.scoring_rubric,
        });
        top.insert("judge".into(), with_reasoning(judge, j.reasoning));
        top.insert("mode".into(), Value::from(self.mode.as_str()));
        top.insert("max_iterations".into(), Value::from(self.max_iterations));
        top.insert(
            "trajectory_output_dir".into(),
            Value::from(self.trajectory_output_dir.as_str()),
        );
        top.insert(
            "config_version".into(),
            Value::from(self.config_version.as_str()),
        );
        python_json_dumps_sorted(&Value::Object(top))
    }

    /// The first 8 lowercase hex digits of SHA-256 over [`Self::canonical_json`]: the
    /// original's `config_hash`, used in run ids.
    pub fn config_hash(&self) -> String {
        let mut hex = sha256_hex(self.canonical_json().as_bytes());
        hex.truncate(8);
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "config_version: '1'\nsolver: {role: solver, model: gpt-4o, prompt_template: '{problem}'}\nverifier: {role: verifier, model: gpt-4o, prompt_template: '{solution}'}\njudge: {model: gpt-4o, prompt_template: '{solution}', scoring_rubric: r}\n";

    fn yaml(text: &str) -> Result<ParsedConfig, ConfigError> {
        parse_config(text.as_bytes(), ConfigFormat::Yaml)
    }

    #[test]
    fn formats_from_names_and_sniffing() {
        assert_eq!(
            ConfigFormat::from_file_name("a.YML"),
            Some(ConfigFormat::Yaml)
        );
        assert_eq!(
            ConfigFormat::from_file_name("x.json"),
            Some(ConfigFormat::Json)
        );
        assert_eq!(ConfigFormat::from_file_name("json"), None);
        assert_eq!(
            ConfigFormat::sniff("\u{feff}  \n{\"a\": 1}"),
            ConfigFormat::Json
        );
        assert_eq!(ConfigFormat::sniff("a: {b: 1}"), ConfigFormat::Yaml);
    }

    #[test]
    fn defaults_fill_the_original_values() {
        let c = yaml(MINIMAL).unwrap().config;
        assert_eq!(c.mode, Mode::Debate);
        assert_eq!(c.max_iterations, 5);
        assert_eq!(c.trajectory_output_dir, "trajectories");
        assert_eq!((c.solver.temperature, c.solver.max_tokens), (0.0, 4096));
        assert_eq!(c.judge.system_prompt, "");
        assert_eq!(
            (c.max_reasks, c.max_attempts, c.request_timeout_secs),
            (2, 3, 120)
        );
        assert_eq!((c.run_budget_usd, c.batch_budget_usd), (None, None));
    }

    #[test]
    fn merge_keys_fill_gaps_and_explicit_keys_win() {
        let text = "base: &b {model: gpt-4o, temperature: 0.5, max_tokens: 100}\n\
            config_version: '1'\n\
            solver: {temperature: 0.9, <<: *b, role: solver, prompt_template: p}\n\
            verifier: {<<: [{model: claude-x}, *b], role: verifier, prompt_template: p}\n\
            judge: {<<: *b, prompt_template: p, scoring_rubric: r}\n";
        let parsed = yaml(text).unwrap();
        let c = parsed.config;
        assert_eq!(
            (c.solver.model.as_str(), c.solver.temperature),
            ("gpt-4o", 0.9)
        );
        assert_eq!(
            (c.verifier.model.as_str(), c.verifier.max_tokens),
            ("claude-x", 100)
        );
        assert_eq!(c.judge.temperature, 0.5);
        assert_eq!(
            parsed.warnings,
            vec!["base: unknown key, ignored".to_string()]
        );
    }

    #[test]
    fn field_error_displays_path_then_message() {
        let e = FieldError::new("solver.model", "bad");
        assert_eq!(e.to_string(), "solver.model: bad");
    }
}

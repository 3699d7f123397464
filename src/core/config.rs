//! The pipeline configuration: the original's `PipelineConfig`, `AgentConfig` and `JudgeConfig`,
//! plus Trialogue's own settings (which leave the config hash alone at their defaults).
//!
//! - [`parse_config`] reads the YAML or JSON files the original's users have, with the original's
//!   defaults, and errors that name the field, the line and the column. It is safe on hostile
//!   input: size-capped, depth-capped, alias-bomb-proof.
//! - [`PipelineConfig::validate`] lists every problem (ranges, roles, models, templates).
//! - [`PipelineConfig::to_yaml`] / [`PipelineConfig::to_json`] export files the original can read.
//! - [`PipelineConfig::config_hash`] is byte-for-byte the original's hash.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::core::hash::{python_float_repr, python_json_dumps_sorted, sha256_hex};
use crate::core::model::resolve_model;
use crate::core::template::{self, placeholders};

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

/// Values an unknown part of a file may hold before it is rejected as hostile (aliases count
/// every time they are expanded).
const MAX_NODES: usize = 100_000;
/// Nesting an unknown part of a file may have before it is rejected as hostile.
const MAX_DEPTH: usize = 32;

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
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            bytes: bytes.len(),
            limit: MAX_CONFIG_BYTES,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ConfigError::Empty { format });
    }
    // A first pass over the whole text with only the limits applied, so that a syntax error
    // or a bomb anywhere in the file is reported before any problem with a field's value
    // (serde_norway only reports a YAML syntax error after the events before it are used).
    let scan = Ctx::new(format);
    match format {
        ConfigFormat::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            Skip { ctx: &scan }
                .deserialize(&mut de)
                .and_then(|()| de.end())
                .map_err(|e| json_error(e, text, &scan))?;
        }
        ConfigFormat::Yaml => Skip { ctx: &scan }
            .deserialize(serde_norway::Deserializer::from_str(text))
            .map_err(|e| yaml_error(e, &scan))?,
    }
    let ctx = Ctx::new(format);
    let config = match format {
        ConfigFormat::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            RootSeed { ctx: &ctx }
                .deserialize(&mut de)
                .and_then(|config| de.end().map(|()| config))
                .map_err(|e| json_error(e, text, &ctx))?
        }
        ConfigFormat::Yaml => RootSeed { ctx: &ctx }
            .deserialize(serde_norway::Deserializer::from_str(text))
            .map_err(|e| yaml_error(e, &ctx))?,
    };
    Ok(ParsedConfig {
        config,
        warnings: ctx.warnings.into_inner(),
    })
}

fn not_utf8(bytes: &[u8], offset: usize) -> ConfigError {
    let before = String::from_utf8_lossy(&bytes[..offset.min(bytes.len())]);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ConfigError::NotUtf8 {
        line,
        column,
        byte_offset: offset,
    }
}

fn json_error(e: serde_json::Error, text: &str, ctx: &Ctx) -> ConfigError {
    let line = e.line().max(1);
    let column = char_column(text, e.line(), e.column());
    if let Some(failure) = ctx.failure.take() {
        return failure.into_error(ConfigFormat::Json, Some((line, column)));
    }
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    if message.contains("recursion limit exceeded") {
        return ConfigError::TooComplex {
            format: ConfigFormat::Json,
            reason: format!("nested too deeply at line {line}, column {column}"),
        };
    }
    ConfigError::Syntax {
        format: ConfigFormat::Json,
        line,
        column,
        message,
    }
}

/// serde_json counts bytes; users count characters.
fn char_column(text: &str, line: usize, byte_column: usize) -> usize {
    let Some(line_text) = text.split('\n').nth(line.saturating_sub(1)) else {
        return byte_column.max(1);
    };
    let chars = line_text
        .char_indices()
        .take_while(|(i, _)| *i < byte_column)
        .count();
    chars.max(1)
}

fn yaml_error(e: serde_norway::Error, ctx: &Ctx) -> ConfigError {
    let location = e.location().map(|l| (l.line(), l.column()));
    if let Some(failure) = ctx.failure.take() {
        return failure.into_error(ConfigFormat::Yaml, location);
    }
    let full = e.to_string();
    let message = match location {
        Some((line, column)) => full.replacen(&format!(" at line {line} column {column}"), "", 1),
        None => full.clone(),
    };
    if message.starts_with("recursion limit exceeded")
        || message.starts_with("repetition limit exceeded")
    {
        let reason = match (message.starts_with("recursion"), location) {
            (true, Some((line, column))) => {
                format!("nested too deeply at line {line}, column {column}")
            }
            (true, None) => "nested too deeply".to_string(),
            (false, _) => "aliases expand too many times".to_string(),
        };
        return ConfigError::TooComplex {
            format: ConfigFormat::Yaml,
            reason,
        };
    }
    if message.starts_with("EOF while parsing a value") {
        return ConfigError::Empty {
            format: ConfigFormat::Yaml,
        };
    }
    match location {
        Some((line, column)) => ConfigError::Syntax {
            format: ConfigFormat::Yaml,
            line,
            column,
            message,
        },
        None => ConfigError::Unreadable {
            format: ConfigFormat::Yaml,
            message,
        },
    }
}

/// What went wrong, recorded beside the serde error so the real evidence survives it.
#[derive(Debug)]
enum Failure {
    WrongType { path: String, message: String },
    Missing { path: String },
    TopLevel { found: String },
    Empty,
    TooComplex { reason: String },
}

impl Failure {
    fn into_error(self, format: ConfigFormat, location: Option<(usize, usize)>) -> ConfigError {
        match self {
            Failure::WrongType { path, message } => {
                let (line, column) = location.unwrap_or((1, 1));
                ConfigError::WrongType {
                    path,
                    line,
                    column,
                    message,
                }
            }
            Failure::Missing { path } => ConfigError::Missing { path },
            Failure::TopLevel { found } => ConfigError::WrongTopLevel { format, found },
            Failure::Empty => ConfigError::Empty { format },
            Failure::TooComplex { reason } => ConfigError::TooComplex { format, reason },
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::WrongType { path, message } => write!(f, "{path}: {message}"),
            Failure::Missing { path } => write!(f, "{path} is missing"),
            Failure::TopLevel { found } => write!(f, "the document is {found}"),
            Failure::Empty => f.write_str("the document is empty"),
            Failure::TooComplex { reason } => f.write_str(reason),
        }
    }
}

/// State shared by every visitor of one parse.
struct Ctx {
    format: ConfigFormat,
    warnings: RefCell<Vec<String>>,
    failure: RefCell<Option<Failure>>,
    nodes: Cell<usize>,
    depth: Cell<usize>,
}

impl Ctx {
    fn new(format: ConfigFormat) -> Self {
        Ctx {
            format,
            warnings: RefCell::new(Vec::new()),
            failure: RefCell::new(None),
            nodes: Cell::new(0),
            depth: Cell::new(0),
        }
    }

    /// Records `failure` and returns the serde error that aborts the parse.
    fn fail<E: de::Error>(&self, failure: Failure) -> E {
        let error = E::custom(&failure);
        let mut slot = self.failure.borrow_mut();
        if slot.is_none() {
            *slot = Some(failure);
        }
        error
    }

    fn warn(&self, warning: String) {
        self.warnings.borrow_mut().push(warning);
    }

    /// Counts one value; fails past [`MAX_NODES`].
    fn tick<E: de::Error>(&self) -> Result<(), E> {
        let n = self.nodes.get() + 1;
        self.nodes.set(n);
        if n > MAX_NODES {
            return Err(self.fail(Failure::TooComplex {
                reason: format!("more than {MAX_NODES} values, counting alias expansions"),
            }));
        }
        Ok(())
    }

    /// Runs `f` one level deeper; fails past [`MAX_DEPTH`].
    fn nested<T, E: de::Error>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let depth = self.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(self.fail(Failure::TooComplex {
                reason: format!("nested more than {MAX_DEPTH} levels deep"),
            }));
        }
        self.depth.set(depth);
        let result = f();
        self.depth.set(depth - 1);
        result
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The kinds of value a config field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Float,
    Whole,
    OptFloat,
    Mode,
    Agent,
    Judge,
}

impl Kind {
    fn expected(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Float => "a number",
            Kind::Whole => "a whole number",
            Kind::OptFloat => "a number or null",
            Kind::Mode => "\"debate\" or \"baseline\"",
            Kind::Agent | Kind::Judge => "a mapping of settings",
        }
    }
}

struct FieldSpec {
    name: &'static str,
    kind: Kind,
}

const fn field(name: &'static str, kind: Kind) -> FieldSpec {
    FieldSpec { name, kind }
}

const PIPELINE_FIELDS: &[FieldSpec] = &[
    field("solver", Kind::Agent),
    field("verifier", Kind::Agent),
    field("judge", Kind::Judge),
    field("mode", Kind::Mode),
    field("max_iterations", Kind::Whole),
    field("trajectory_output_dir", Kind::Text),
    field("config_version", Kind::Text),
    field("max_reasks", Kind::Whole),
    field("max_attempts", Kind::Whole),
    field("request_timeout_secs", Kind::Whole),
    field("run_budget_usd", Kind::OptFloat),
    field("batch_budget_usd", Kind::OptFloat),
];

const AGENT_FIELDS: &[FieldSpec] = &[
    field("role", Kind::Text),
    field("model", Kind::Text),
    field("temperature", Kind::Float),
    field("max_tokens", Kind::Whole),
    field("prompt_template", Kind::Text),
    field("system_prompt", Kind::Text),
];

const JUDGE_FIELDS: &[FieldSpec] = &[
    field("model", Kind::Text),
    field("temperature", Kind::Float),
    field("max_tokens", Kind::Whole),
    field("prompt_template", Kind::Text),
    field("system_prompt", Kind::Text),
    field("scoring_rubric", Kind::Text),
];

/// A parsed field value.
#[derive(Debug)]
enum Val {
    Text(String),
    Float(f64),
    Whole(u32),
    OptFloat(Option<f64>),
    Mode(Mode),
    Agent(Box<AgentConfig>),
    Judge(Box<JudgeConfig>),
}

/// The fields of one mapping collected so far; each remembers whether it was written
/// explicitly or came from a YAML merge key.
struct Builder {
    prefix: String,
    fields: &'static [FieldSpec],
    slots: Vec<Option<(Val, bool)>>,
}

impl Builder {
    fn new(prefix: &str, fields: &'static [FieldSpec]) -> Self {
        Builder {
            prefix: prefix.to_string(),
            fields,
            slots: fields.iter().map(|_| None).collect(),
        }
    }

    /// Stores a value: explicit keys override (the last one wins), merged keys only fill gaps.
    fn set(&mut self, index: usize, value: Val, explicit: bool, ctx: &Ctx) {
        let slot = &mut self.slots[index];
        match slot {
            Some((_, true)) if !explicit => {}
            Some((_, false)) if !explicit => {}
            Some((_, true)) => {
                ctx.warn(format!(
                    "{}: given more than once; the last value is used",
                    join(&self.prefix, self.fields[index].name)
                ));
                *slot = Some((value, true));
            }
            _ => *slot = Some((value, explicit)),
        }
    }

    fn take(&mut self, name: &str) -> Option<Val> {
        let index = self.fields.iter().position(|f| f.name == name)?;
        self.slots[index].take().map(|(value, _)| value)
    }

    fn required_text(&mut self, name: &str) -> Result<String, Failure> {
        match self.take(name) {
            Some(Val::Text(s)) => Ok(s),
            _ => Err(Failure::Missing {
                path: join(&self.prefix, name),
            }),
        }
    }

    fn text_or(&mut self, name: &str, default: &str) -> String {
        match self.take(name) {
            Some(Val::Text(s)) => s,
            _ => default.to_string(),
        }
    }

    fn float_or(&mut self, name: &str, default: f64) -> f64 {
        match self.take(name) {
            Some(Val::Float(x)) => x,
            _ => default,
        }
    }

    fn whole_or(&mut self, name: &str, default: u32) -> u32 {
        match self.take(name) {
            Some(Val::Whole(n)) => n,
            _ => default,
        }
    }

    fn opt_float(&mut self, name: &str) -> Option<f64> {
        match self.take(name) {
            Some(Val::OptFloat(x)) => x,
            _ => None,
        }
    }

    fn finish_agent(mut self) -> Result<AgentConfig, Failure> {
        Ok(AgentConfig {
            role: self.required_text("role")?,
            model: self.required_text("model")?,
            temperature: self.float_or("temperature", DEFAULT_TEMPERATURE),
            max_tokens: self.whole_or("max_tokens", DEFAULT_MAX_TOKENS),
            prompt_template: self.required_text("prompt_template")?,
            system_prompt: self.text_or("system_prompt", ""),
        })
    }

    fn finish_judge(mut self) -> Result<JudgeConfig, Failure> {
        Ok(JudgeConfig {
            model: self.required_text("model")?,
            temperature: self.float_or("temperature", DEFAULT_TEMPERATURE),
            max_tokens: self.whole_or("max_tokens", DEFAULT_MAX_TOKENS),
            prompt_template: self.required_text("prompt_template")?,
            system_prompt: self.text_or("system_prompt", ""),
            scoring_rubric: self.required_text("scoring_rubric")?,
        })
    }

    fn finish_pipeline(mut self) -> Result<PipelineConfig, Failure> {
        let config_version = self.required_text("config_version")?;
        let solver = match self.take("solver") {
            Some(Val::Agent(a)) => *a,
            _ => return Err(missing("solver")),
        };
        let verifier = match self.take("verifier") {
            Some(Val::Agent(a)) => *a,
            _ => return Err(missing("verifier")),
        };
        let judge = match self.take("judge") {
            Some(Val::Judge(j)) => *j,
            _ => return Err(missing("judge")),
        };
        let mode = match self.take("mode") {
            Some(Val::Mode(m)) => m,
            _ => Mode::default(),
        };
        Ok(PipelineConfig {
            solver,
            verifier,
            judge,
            mode,
            max_iterations: self.whole_or("max_iterations", DEFAULT_MAX_ITERATIONS),
            trajectory_output_dir: self
                .text_or("trajectory_output_dir", DEFAULT_TRAJECTORY_OUTPUT_DIR),
            config_version,
            max_reasks: self.whole_or("max_reasks", DEFAULT_MAX_REASKS),
            max_attempts: self.whole_or("max_attempts", DEFAULT_MAX_ATTEMPTS),
            request_timeout_secs: self
                .whole_or("request_timeout_secs", DEFAULT_REQUEST_TIMEOUT_SECS),
            run_budget_usd: self.opt_float("run_budget_usd"),
            batch_budget_usd: self.opt_float("batch_budget_usd"),
        })
    }
}

fn missing(path: &str) -> Failure {
    Failure::Missing {
        path: path.to_string(),
    }
}

/// What a visitor saw for a YAML document without any node.
const EMPTY_DOCUMENT: &str = "nothing";

/// Rejects every kind of value but a mapping or a list, through the visitor's `reject(found)`.
macro_rules! reject_non_mappings {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(self.reject("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(self.reject("a string"))
        }
        fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
            Err(self.reject("bytes"))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err(self.reject("nothing (null)"))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            // A YAML document with no node at all (only comments) arrives as `none`; an
            // explicit `null` as `unit`.
            Err(self.reject(EMPTY_DOCUMENT))
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.reject("a tagged value (YAML tags are not supported)"))
        }
    };
}

/// The whole document.
struct RootSeed<'c> {
    ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for RootSeed<'_> {
    type Value = PipelineConfig;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PipelineConfig, D::Error> {
        let mut builder = Builder::new("", PIPELINE_FIELDS);
        d.deserialize_any(MapVisitor {
            ctx: self.ctx,
            builder: &mut builder,
            explicit: true,
            root: true,
        })?;
        builder
            .finish_pipeline()
            .map_err(|failure| self.ctx.fail(failure))
    }
}

/// Reads a mapping's entries into a [`Builder`].
struct MapVisitor<'c, 'b> {
    ctx: &'c Ctx,
    builder: &'b mut Builder,
    /// False while reading a mapping merged in with `<<`.
    explicit: bool,
    root: bool,
}

impl MapVisitor<'_, '_> {
    fn reject<E: de::Error>(&self, found: &str) -> E {
        if self.root && found == EMPTY_DOCUMENT {
            self.ctx.fail(Failure::Empty)
        } else if self.root {
            self.ctx.fail(Failure::TopLevel {
                found: found.to_string(),
            })
        } else if !self.explicit {
            self.ctx.fail(Failure::WrongType {
                path: join(&self.builder.prefix, "<<"),
                message: format!("expected a mapping to merge, found {found}"),
            })
        } else {
            self.ctx.fail(Failure::WrongType {
                path: self.builder.prefix.clone(),
                message: format!("expected a mapping of settings, found {found}"),
            })
        }
    }
}

impl<'de> Visitor<'de> for MapVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping of settings")
    }

    reject_non_mappings!();

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.reject("a list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        while let Some(key) = map.next_key_seed(KeySeed { ctx })? {
            let prefix = self.builder.prefix.clone();
            let name = match key {
                Key::Text(name) => name,
                Key::Other(found) => {
                    let at = if prefix.is_empty() {
                        "top level"
                    } else {
                        &prefix
                    };
                    ctx.warn(format!("{at}: a key that is {found}, not text, ignored"));
                    map.next_value_seed(Skip { ctx })?;
                    continue;
                }
            };
            if name == "<<" && ctx.format == ConfigFormat::Yaml {
                map.next_value_seed(MergeSeed {
                    ctx,
                    builder: &mut *self.builder,
                })?;
                continue;
            }
            let path = join(&prefix, &name);
            match self.builder.fields.iter().position(|f| f.name == name) {
                Some(index) => {
                    let kind = self.builder.fields[index].kind;
                    let value = map.next_value_seed(ValueSeed { ctx, path, kind })?;
                    self.builder.set(index, value, self.explicit, ctx);
                }
                None => {
                    ctx.warn(format!("{path}: unknown key, ignored"));
                    map.next_value_seed(Skip { ctx })?;
                }
            }
        }
        Ok(())
    }
}

/// The value of a YAML merge key: a mapping, or a list of mappings (earlier ones win).
struct MergeSeed<'c, 'b> {
    ctx: &'c Ctx,
    builder: &'b mut Builder,
}

impl MergeSeed<'_, '_> {
    fn reject<E: de::Error>(&self, found: &str) -> E {
        self.ctx.fail(Failure::WrongType {
            path: join(&self.builder.prefix, "<<"),
            message: format!("expected a mapping (or a list of mappings) to merge, found {found}"),
        })
    }
}

impl<'de> DeserializeSeed<'de> for MergeSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let ctx = self.ctx;
        ctx.tick::<D::Error>()?;
        ctx.nested(|| d.deserialize_any(self))
    }
}

impl<'de> Visitor<'de> for MergeSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping or a list of mappings to merge")
    }

    reject_non_mappings!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let MergeSeed { ctx, builder } = self;
        while seq
            .next_element_seed(MergeListSeed {
                ctx,
                builder: &mut *builder,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        MapVisitor {
            ctx: self.ctx,
            builder: self.builder,
            explicit: false,
            root: false,
        }
        .visit_map(map)
    }
}

/// A list under a merge key: each element must be a mapping.
struct MergeListSeed<'c, 'b> {
    ctx: &'c Ctx,
    builder: &'b mut Builder,
}

impl<'de> DeserializeSeed<'de> for MergeListSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let ctx = self.ctx;
        ctx.tick::<D::Error>()?;
        ctx.nested(|| {
            d.deserialize_any(MapVisitor {
                ctx,
                builder: self.builder,
                explicit: false,
                root: false,
            })
        })
    }
}

/// A mapping key: text, or something else YAML allows (numbers, lists...).
enum Key {
    Text(String),
    Other(&'static str),
}

struct KeySeed<'c> {
    ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        self.ctx.tick::<D::Error>()?;
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(Key::Text(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Key, E> {
        Ok(Key::Other("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Key, E> {
        Ok(Key::Other("bytes"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key::Other("null"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key::Other("null"))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        Skip { ctx: self.ctx }.deserialize(d)?;
        Ok(Key::Other("a value"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Key, A::Error> {
        SkipVisitor { ctx: self.ctx }.visit_seq(seq)?;
        Ok(Key::Other("a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Key, A::Error> {
        SkipVisitor { ctx: self.ctx }.visit_map(map)?;
        Ok(Key::Other("a mapping"))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Key, A::Error> {
        SkipVisitor { ctx: self.ctx }.visit_enum(data)?;
        Ok(Key::Other("a tagged value"))
    }
}

/// Consumes an ignored value, counting every node against the limits.
struct Skip<'c> {
    ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let ctx = self.ctx;
        ctx.tick::<D::Error>()?;
        ctx.nested(|| d.deserialize_any(SkipVisitor { ctx }))
    }
}

struct SkipVisitor<'c> {
    ctx: &'c Ctx,
}

impl<'de> Visitor<'de> for SkipVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        Ok(())
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Skip { ctx: self.ctx }.deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Skip { ctx: self.ctx }.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip { ctx: self.ctx })?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip { ctx: self.ctx })?.is_some() {
            map.next_value_seed(Skip { ctx: self.ctx })?;
        }
        Ok(())
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess;
        let ((), variant) = data.variant_seed(Skip { ctx: self.ctx })?;
        variant.newtype_variant_seed(Skip { ctx: self.ctx })
    }
}

/// A known field's value.
struct ValueSeed<'c> {
    ctx: &'c Ctx,
    path: String,
    kind: Kind,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Val;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        let ctx = self.ctx;
        ctx.tick::<D::Error>()?;
        match self.kind {
            Kind::Agent | Kind::Judge => {
                let fields = if self.kind == Kind::Agent {
                    AGENT_FIELDS
                } else {
                    JUDGE_FIELDS
                };
                let mut builder = Builder::new(&self.path, fields);
                ctx.nested(|| {
                    d.deserialize_any(MapVisitor {
                        ctx,
                        builder: &mut builder,
                        explicit: true,
                        root: false,
                    })
                })?;
                let value = if self.kind == Kind::Agent {
                    builder.finish_agent().map(|a| Val::Agent(Box::new(a)))
                } else {
                    builder.finish_judge().map(|j| Val::Judge(Box::new(j)))
                };
                value.map_err(|failure| ctx.fail(failure))
            }
            _ => d.deserialize_any(self),
        }
    }
}

impl ValueSeed<'_> {
    fn wrong<E: de::Error>(&self, message: String) -> E {
        self.ctx.fail(Failure::WrongType {
            path: self.path.clone(),
            message,
        })
    }

    fn mismatch<E: de::Error>(&self, found: &str) -> E {
        let hint = match (self.kind, found) {
            (Kind::Text, "a number" | "a boolean") => "; put the value in quotes",
            (Kind::Text, "nothing (null)") => "; write \"\" for empty text",
            _ => "",
        };
        self.wrong(format!(
            "expected {}, found {found}{hint}",
            self.kind.expected()
        ))
    }

    fn integer<E: de::Error>(&self, v: i128) -> Result<Val, E> {
        match self.kind {
            Kind::Float => Ok(Val::Float(v as f64)),
            Kind::OptFloat => Ok(Val::OptFloat(Some(v as f64))),
            Kind::Whole => match u32::try_from(v) {
                Ok(n) => Ok(Val::Whole(n)),
                Err(_) if v < 0 => {
                    Err(self.wrong(format!("expected a whole number of 0 or more, found {v}")))
                }
                Err(_) => Err(self.wrong(format!(
                    "expected a whole number up to {}, found {v}",
                    u32::MAX
                ))),
            },
            _ => Err(self.mismatch("a number")),
        }
    }

    fn float<E: de::Error>(&self, v: f64) -> Result<Val, E> {
        let finite = |v: f64| {
            if v.is_finite() {
                Ok(v)
            } else {
                let found = if v.is_nan() { "NaN" } else { "infinity" };
                Err(self.wrong(format!("expected a finite number, found {found}")))
            }
        };
        match self.kind {
            Kind::Float => finite(v).map(Val::Float),
            Kind::OptFloat => finite(v).map(|v| Val::OptFloat(Some(v))),
            Kind::Whole if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e30 => {
                self.integer(v as i128)
            }
            Kind::Whole => Err(self.wrong(format!(
                "expected a whole number, found {}",
                python_float_repr(v)
            ))),
            _ => Err(self.mismatch("a number")),
        }
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Val;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.expected())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Val, E> {
        Err(self.mismatch("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val, E> {
        self.integer(i128::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val, E> {
        self.integer(i128::from(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Val, E> {
        self.integer(v)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Val, E> {
        self.integer(i128::try_from(v).unwrap_or(i128::MAX))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val, E> {
        self.float(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val, E> {
        match self.kind {
            Kind::Text => Ok(Val::Text(v.to_string())),
            Kind::Mode => match v {
                "debate" => Ok(Val::Mode(Mode::Debate)),
                "baseline" => Ok(Val::Mode(Mode::Baseline)),
                other => Err(self.wrong(format!(
                    "expected \"debate\" or \"baseline\", found {:?}",
                    other
                ))),
            },
            _ => Err(self.mismatch("a string")),
        }
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Val, E> {
        Err(self.mismatch("bytes"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Val, E> {
        match self.kind {
            Kind::OptFloat => Ok(Val::OptFloat(None)),
            _ => Err(self.mismatch("nothing (null)")),
        }
    }
    fn visit_none<E: de::Error>(self) -> Result<Val, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Val, A::Error> {
        Err(self.mismatch("a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Val, A::Error> {
        Err(self.mismatch("a mapping"))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<Val, A::Error> {
        Err(self.mismatch("a tagged value (YAML tags are not supported)"))
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
}

#[derive(Serialize)]
struct JudgeExport<'a> {
    model: &'a str,
    temperature: f64,
    max_tokens: u32,
    system_prompt: &'a str,
    prompt_template: &'a str,
    scoring_rubric: &'a str,
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
    }
}

fn non_default(value: u32, default: u32) -> Option<u32> {
    (value != default).then_some(value)
}

impl PipelineConfig {
    /// Trialogue's own fields that differ from their defaults, as `(name, JSON value)`. At
    /// their defaults they are left out of exports and of the hash, so a config that does not
    /// use them stays exactly what the original would read and hash.
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
        }
        let j = &e.judge;
        out.push_str("judge:\n");
        yaml_text(&mut out, 2, "model", j.model);
        yaml_raw(&mut out, 2, "temperature", &yaml_float(j.temperature));
        yaml_raw(&mut out, 2, "max_tokens", &j.max_tokens.to_string());
        yaml_text(&mut out, 2, "system_prompt", j.system_prompt);
        yaml_text(&mut out, 2, "prompt_template", j.prompt_template);
        yaml_text(&mut out, 2, "scoring_rubric", j.scoring_rubric);
        out
    }

    /// The config as pretty-printed JSON (same fields and order as [`Self::to_yaml`]).
    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        let mut json = serde_json::to_string_pretty(&self.export()).unwrap_or_default();
        json.push('\n');
        json
    }

    /// The text the original hashed: `json.dumps(config.model_dump(), sort_keys=True)`, every
    /// original field present with defaults filled in. Trialogue's own fields take part only
    /// when they differ from their defaults, so configs that do not use them keep the
    /// original's hash, and configs that do get a different one.
    pub fn canonical_json(&self) -> String {
        use serde_json::{json, Map, Value};
        let agent = |a: &AgentConfig| {
            json!({
                "role": a.role,
                "model": a.model,
                "temperature": a.temperature,
                "max_tokens": a.max_tokens,
                "prompt_template": a.prompt_template,
                "system_prompt": a.system_prompt,
            })
        };
        let j = &self.judge;
        let mut top = Map::new();
        top.insert("solver".into(), agent(&self.solver));
        top.insert("verifier".into(), agent(&self.verifier));
        top.insert(
            "judge".into(),
            json!({
                "model": j.model,
                "temperature": j.temperature,
                "max_tokens": j.max_tokens,
                "prompt_template": j.prompt_template,
                "system_prompt": j.system_prompt,
                "scoring_rubric": j.scoring_rubric,
            }),
        );
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
        for (name, value) in self.extensions() {
            top.insert(name.into(), value);
        }
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

fn yaml_raw(out: &mut String, indent: usize, key: &str, raw: &str) {
    out.push_str(&" ".repeat(indent));
    out.push_str(key);
    out.push_str(": ");
    out.push_str(raw);
    out.push('\n');
}

fn yaml_text(out: &mut String, indent: usize, key: &str, value: &str) {
    match yaml_literal_block(value, indent + 2) {
        Some(block) => {
            out.push_str(&" ".repeat(indent));
            out.push_str(key);
            out.push_str(": ");
            out.push_str(&block);
        }
        None => yaml_raw(out, indent, key, &yaml_inline(value)),
    }
}

/// A float as YAML 1.1 (PyYAML) and 1.2 both read it: Python's repr, with `.0` added to a
/// bare exponent form (`1e-05` is a string to PyYAML, `1.0e-05` a float).
fn yaml_float(x: f64) -> String {
    if x.is_nan() {
        return ".nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    let repr = python_float_repr(x);
    if repr.contains('e') && !repr.contains('.') {
        repr.replacen('e', ".0e", 1)
    } else {
        repr
    }
}

/// Characters written as themselves in a YAML scalar. Excludes what YAML cannot hold raw, the
/// byte-order mark, and NEL / LS / PS, which YAML 1.1 readers treat as line breaks.
fn yaml_raw_char(c: char) -> bool {
    matches!(c,
        ' '..='~'
        | '\u{a0}'..='\u{2027}'
        | '\u{202a}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fefe}'
        | '\u{ff00}'..='\u{fffd}'
        | '\u{10000}'..)
}

/// Words YAML 1.1 or 1.2 would read as something other than a string.
const YAML_SPECIAL_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf",
];

fn yaml_inline(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !YAML_SPECIAL_WORDS.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if yaml_raw_char(c) => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `|`, `|-` or `|+` and the indented lines, when a literal block says exactly `s`.
fn yaml_literal_block(s: &str, indent: usize) -> Option<String> {
    let body = s.trim_end_matches('\n');
    let trailing_newlines = s.len() - body.len();
    let lines: Vec<&str> = body.split('\n').collect();
    let suitable = s.contains('\n')
        && body
            .chars()
            .all(|c| c == '\n' || c == '\t' || yaml_raw_char(c))
        && lines
            .iter()
            .find(|l| !l.is_empty())
            .is_some_and(|first| !first.starts_with(' '))
        && lines.iter().all(|l| {
            !l.starts_with('\t') && (l.is_empty() || !l.trim_matches([' ', '\t']).is_empty())
        });
    if !suitable {
        return None;
    }
    let chomp = match trailing_newlines {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    let pad = " ".repeat(indent);
    let mut out = format!("{chomp}\n");
    for line in lines {
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing_newlines {
        out.push('\n');
    }
    Some(out)
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
    fn yaml_literal_blocks_only_when_exact() {
        assert_eq!(
            yaml_literal_block("a\n  b\n", 2).as_deref(),
            Some("|\n  a\n    b\n")
        );
        assert_eq!(
            yaml_literal_block("a\n\nb", 4).as_deref(),
            Some("|-\n    a\n\n    b\n")
        );
        assert_eq!(
            yaml_literal_block("a\n\n", 2).as_deref(),
            Some("|+\n  a\n\n")
        );
        assert_eq!(yaml_literal_block(" lead\nx", 2), None);
        assert_eq!(yaml_literal_block("a\n   \nb", 2), None);
        assert_eq!(yaml_literal_block("a\r\nb", 2), None);
        assert_eq!(yaml_literal_block("single line", 2), None);
    }

    #[test]
    fn yaml_inline_quotes_whatever_could_read_as_something_else() {
        assert_eq!(yaml_inline("gpt-4.1-mini"), "gpt-4.1-mini");
        assert_eq!(yaml_inline("local/smollm2-135m"), "local/smollm2-135m");
        assert_eq!(yaml_inline("yes"), "\"yes\"");
        assert_eq!(yaml_inline("0.1"), "\"0.1\"");
        assert_eq!(yaml_inline(""), "\"\"");
        assert_eq!(yaml_inline("a: b # c"), "\"a: b # c\"");
        assert_eq!(
            yaml_inline("q\"\\\u{1}\u{85}\u{feff}é😀"),
            "\"q\\\"\\\\\\u0001\\u0085\\ufeffé😀\""
        );
        assert_eq!(yaml_float(1e-05), "1.0e-05");
        assert_eq!(yaml_float(0.3), "0.3");
    }

    #[test]
    fn field_error_displays_path_then_message() {
        let e = FieldError::new("solver.model", "bad");
        assert_eq!(e.to_string(), "solver.model: bad");
    }
}

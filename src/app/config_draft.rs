//! The Configure form as text: which fields it has, how a config becomes the text in each
//! field, and how the text the user typed becomes a config plus the problems to show.
//!
//! The form keeps text rather than numbers so that what the user typed stays in the input while
//! it is not (yet) a number; a field that does not parse keeps the last config's value and
//! reports why.

use crate::core::config::{ConfigError, FieldError, Mode, PipelineConfig};
use crate::core::hash::python_float_repr;
use crate::core::llm::reasoning::{self, Reasoning};
use crate::core::providers::ProviderRegistry;

/// What kind of control a field is and how its text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// One line of text.
    Line,
    /// Several lines of text (prompts and the rubric).
    Multiline,
    /// A decimal number.
    Float,
    /// A whole number, 0 or more.
    Whole,
    /// A USD amount, or empty for none.
    OptionalUsd,
    /// `debate` or `baseline`.
    Mode,
    /// An agent's reasoning: `off`, `low`, `medium`, `high`, or `budget:N` for a token budget.
    Reasoning,
}

/// One control of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The config path, also the control's `name` (`solver.temperature`).
    pub path: &'static str,
    /// The visible label.
    pub label: &'static str,
    /// How it is edited and parsed.
    pub kind: FieldKind,
    /// A short hint shown beside the label (may be empty).
    pub hint: &'static str,
}

const fn spec(
    path: &'static str,
    label: &'static str,
    kind: FieldKind,
    hint: &'static str,
) -> FieldSpec {
    FieldSpec {
        path,
        label,
        kind,
        hint,
    }
}

use FieldKind::{
    Float, Line, Mode as ModeKind, Multiline, OptionalUsd, Reasoning as ReasoningKind, Whole,
};

/// Every control of the form, in display order.
pub const FIELDS: &[FieldSpec] = &[
    spec("mode", "Mode", ModeKind, ""),
    spec("max_iterations", "Max iterations", Whole, "1–20"),
    spec("config_version", "Config version", Line, "your label"),
    spec("solver.model", "Model", Line, ""),
    spec("solver.temperature", "Temperature", Float, ""),
    spec("solver.max_tokens", "Max tokens", Whole, ""),
    spec(
        "solver.reasoning",
        "Reasoning",
        ReasoningKind,
        "thinking before answering",
    ),
    spec(
        "solver.system_prompt",
        "System prompt",
        Multiline,
        "optional",
    ),
    spec("solver.prompt_template", "Prompt template", Multiline, ""),
    spec("verifier.model", "Model", Line, ""),
    spec("verifier.temperature", "Temperature", Float, ""),
    spec("verifier.max_tokens", "Max tokens", Whole, ""),
    spec(
        "verifier.reasoning",
        "Reasoning",
        ReasoningKind,
        "thinking before answering",
    ),
    spec(
        "verifier.system_prompt",
        "System prompt",
        Multiline,
        "optional",
    ),
    spec("verifier.prompt_template", "Prompt template", Multiline, ""),
    spec("judge.model", "Model", Line, ""),
    spec("judge.temperature", "Temperature", Float, ""),
    spec("judge.max_tokens", "Max tokens", Whole, ""),
    spec(
        "judge.reasoning",
        "Reasoning",
        ReasoningKind,
        "thinking before answering",
    ),
    spec(
        "judge.system_prompt",
        "System prompt",
        Multiline,
        "optional",
    ),
    spec("judge.prompt_template", "Prompt template", Multiline, ""),
    spec(
        "judge.scoring_rubric",
        "Scoring rubric",
        Multiline,
        "{rubric} in the prompt",
    ),
    spec(
        "max_reasks",
        "Re-asks",
        Whole,
        "0–10, after an invalid reply",
    ),
    spec(
        "max_attempts",
        "Attempts per request",
        Whole,
        "1–10, first included",
    ),
    spec(
        "request_timeout_secs",
        "Request timeout",
        Whole,
        "seconds, 1–3600",
    ),
    spec(
        "run_budget_usd",
        "Run budget",
        OptionalUsd,
        "USD, empty for none",
    ),
    spec(
        "batch_budget_usd",
        "Batch budget",
        OptionalUsd,
        "USD, empty for none",
    ),
];

/// The field at `path`.
pub fn field(path: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.path == path)
}

/// A mutable view of one config field.
enum Slot<'a> {
    Text(&'a mut String),
    Float(&'a mut f64),
    Whole(&'a mut u32),
    OptionalUsd(&'a mut Option<f64>),
    Mode(&'a mut Mode),
    Reasoning(&'a mut Reasoning),
}

fn slot<'a>(config: &'a mut PipelineConfig, path: &str) -> Option<Slot<'a>> {
    let (head, tail) = match path.split_once('.') {
        Some((head, tail)) => (head, Some(tail)),
        None => (path, None),
    };
    Some(match (head, tail) {
        ("mode", None) => Slot::Mode(&mut config.mode),
        ("max_iterations", None) => Slot::Whole(&mut config.max_iterations),
        ("config_version", None) => Slot::Text(&mut config.config_version),
        ("max_reasks", None) => Slot::Whole(&mut config.max_reasks),
        ("max_attempts", None) => Slot::Whole(&mut config.max_attempts),
        ("request_timeout_secs", None) => Slot::Whole(&mut config.request_timeout_secs),
        ("run_budget_usd", None) => Slot::OptionalUsd(&mut config.run_budget_usd),
        ("batch_budget_usd", None) => Slot::OptionalUsd(&mut config.batch_budget_usd),
        ("solver" | "verifier", Some(field)) => {
            let agent = if head == "solver" {
                &mut config.solver
            } else {
                &mut config.verifier
            };
            match field {
                "model" => Slot::Text(&mut agent.model),
                "temperature" => Slot::Float(&mut agent.temperature),
                "max_tokens" => Slot::Whole(&mut agent.max_tokens),
                "reasoning" => Slot::Reasoning(&mut agent.reasoning),
                "system_prompt" => Slot::Text(&mut agent.system_prompt),
                "prompt_template" => Slot::Text(&mut agent.prompt_template),
                _ => return None,
            }
        }
        ("judge", Some(field)) => {
            let judge = &mut config.judge;
            match field {
                "model" => Slot::Text(&mut judge.model),
                "temperature" => Slot::Float(&mut judge.temperature),
                "max_tokens" => Slot::Whole(&mut judge.max_tokens),
                "reasoning" => Slot::Reasoning(&mut judge.reasoning),
                "system_prompt" => Slot::Text(&mut judge.system_prompt),
                "prompt_template" => Slot::Text(&mut judge.prompt_template),
                "scoring_rubric" => Slot::Text(&mut judge.scoring_rubric),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// The text of every field for `config`, in [`FIELDS`] order. Floats are written as Python
/// prints them (`0.0`, `0.7`), the way they appear in the original's YAML files.
pub fn texts(config: &PipelineConfig) -> Vec<(&'static str, String)> {
    let mut scratch = config.clone();
    FIELDS
        .iter()
        .map(|f| {
            let text = match slot(&mut scratch, f.path) {
                Some(Slot::Text(s)) => s.clone(),
                Some(Slot::Float(x)) => python_float_repr(*x),
                Some(Slot::Whole(n)) => n.to_string(),
                Some(Slot::OptionalUsd(x)) => x.map(python_float_repr).unwrap_or_default(),
                Some(Slot::Mode(m)) => m.as_str().to_string(),
                Some(Slot::Reasoning(r)) => reasoning_text(*r),
                None => String::new(),
            };
            (f.path, text)
        })
        .collect()
}

fn parse_float(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("enter a number, such as 0.7".into());
    }
    match trimmed.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err(format!(
            "\"{trimmed}\" is not a finite number; enter one such as 0.7"
        )),
        Err(_) => Err(format!(
            "\"{trimmed}\" is not a number; enter one such as 0.7"
        )),
    }
}

fn parse_whole(text: &str) -> Result<u32, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("enter a whole number".into());
    }
    match trimmed.parse::<u32>() {
        Ok(n) => Ok(n),
        Err(_) if trimmed.parse::<u64>().is_ok() => Err(format!(
            "{trimmed} is too large; enter a smaller whole number"
        )),
        Err(_) => Err(format!(
            "\"{trimmed}\" is not a whole number; enter digits only, such as 5"
        )),
    }
}

/// The form's text for a reasoning setting: the effort's name, or `budget:N`.
pub fn reasoning_text(reasoning: Reasoning) -> String {
    match reasoning.budget_tokens() {
        Some(n) => format!("budget:{n}"),
        None => reasoning.effort_name().unwrap_or_default().to_string(),
    }
}

fn parse_reasoning(text: &str) -> Result<Reasoning, String> {
    let trimmed = text.trim();
    if let Some(budget) = trimmed.strip_prefix("budget:") {
        return parse_whole(budget).map(Reasoning::Budget);
    }
    Reasoning::from_effort_name(trimmed).ok_or_else(|| {
        format!("\"{trimmed}\" is not a reasoning setting; choose off, low, medium or high")
    })
}

/// Sets the field at `path` from the text the user typed; on error the config is unchanged.
pub fn set_text(config: &mut PipelineConfig, path: &str, text: &str) -> Result<(), String> {
    match slot(config, path) {
        Some(Slot::Text(s)) => *s = text.to_string(),
        Some(Slot::Float(x)) => *x = parse_float(text)?,
        Some(Slot::Whole(n)) => *n = parse_whole(text)?,
        Some(Slot::OptionalUsd(x)) => {
            *x = if text.trim().is_empty() {
                None
            } else {
                Some(parse_float(text)?)
            }
        }
        Some(Slot::Mode(m)) => {
            *m = match text.trim() {
                "debate" => Mode::Debate,
                "baseline" => Mode::Baseline,
                other => {
                    return Err(format!(
                        "\"{other}\" is not a mode; choose debate or baseline"
                    ))
                }
            }
        }
        Some(Slot::Reasoning(r)) => *r = parse_reasoning(text)?,
        None => return Err(format!("{path} is not a field of the form")),
    }
    Ok(())
}

/// The form's texts read as a config, with every problem to show.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftCheck {
    /// The config the texts describe; fields that did not parse keep `base`'s value.
    pub config: PipelineConfig,
    /// Parse errors first (one per field that did not parse), then validation errors for the
    /// other fields. Empty means `config` is valid.
    pub errors: Vec<FieldError>,
}

impl DraftCheck {
    /// Whether the form describes a valid config.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// The messages for `path`.
    pub fn messages_for(&self, path: &str) -> Vec<String> {
        self.errors
            .iter()
            .filter(|e| e.path == path)
            .map(|e| e.message.clone())
            .collect()
    }

    /// Errors at paths the form has no control for (e.g. a wrong `solver.role` from an import).
    pub fn unplaced(&self) -> Vec<FieldError> {
        self.errors
            .iter()
            .filter(|e| field(&e.path).is_none())
            .cloned()
            .collect()
    }
}

/// Reads `texts` (path → text) over `base` and validates the result; `custom_provider_ids` are
/// the user's own providers, which models may name as `id/model`.
pub fn check(
    base: &PipelineConfig,
    texts: &[(&'static str, String)],
    custom_provider_ids: &[&str],
) -> DraftCheck {
    let mut config = base.clone();
    let mut errors = Vec::new();
    for (path, text) in texts {
        if let Err(message) = set_text(&mut config, path, text) {
            errors.push(FieldError {
                path: (*path).to_string(),
                message,
            });
        }
    }
    let unparsed: Vec<String> = errors.iter().map(|e| e.path.clone()).collect();
    errors.extend(
        config
            .validate_with(custom_provider_ids)
            .into_iter()
            .filter(|e| !unparsed.contains(&e.path)),
    );
    DraftCheck { config, errors }
}

/// [`check`], plus the reasoning settings the agents' providers refuse (see
/// [`reasoning::config_problems`]), for fields that parsed.
pub fn check_with_providers(
    base: &PipelineConfig,
    texts: &[(&'static str, String)],
    registry: &ProviderRegistry,
) -> DraftCheck {
    let custom = registry.custom_ids();
    let mut draft = check(base, texts, &custom);
    let flagged: Vec<String> = draft.errors.iter().map(|e| e.path.clone()).collect();
    draft.errors.extend(
        reasoning::config_problems(&draft.config, registry)
            .into_iter()
            .filter(|e| !flagged.contains(&e.path)),
    );
    draft
}

/// Why stored text is not a config, without the advice about files that [`ConfigError`]'s
/// message gives (there is no file to fix here).
pub fn stored_reason(error: &ConfigError) -> String {
    match error {
        ConfigError::Syntax {
            line,
            column,
            message,
            ..
        } => format!("JSON syntax error at line {line}, column {column}: {message}"),
        ConfigError::Missing { path } => format!("{path} is missing"),
        other => other.to_string(),
    }
}

/// The byte index in `text` of UTF-16 offset `utf16` (what the DOM's `selectionStart` counts),
/// clamped to the end of the text and never inside a character.
pub fn byte_index_of_utf16(text: &str, utf16: u32) -> usize {
    let mut units = 0u32;
    for (byte, ch) in text.char_indices() {
        if units >= utf16 {
            return byte;
        }
        units += ch.len_utf16() as u32;
    }
    text.len()
}

/// `text` with `insert` put in place of the UTF-16 range `start..end`, and the UTF-16 offset
/// just after the inserted text (where the caret goes).
pub fn insert_at(text: &str, start: u32, end: u32, insert: &str) -> (String, u32) {
    let (start, end) = (start.min(end), start.max(end));
    let from = byte_index_of_utf16(text, start);
    let to = byte_index_of_utf16(text, end);
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..from]);
    out.push_str(insert);
    out.push_str(&text[to..]);
    let caret = text[..from].encode_utf16().count() + insert.encode_utf16().count();
    (out, caret as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::parse_json_config;

    fn text_of(texts: &[(&'static str, String)], path: &str) -> String {
        texts
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, t)| t.clone())
            .unwrap()
    }

    fn with(path: &'static str, text: &str) -> Vec<(&'static str, String)> {
        let mut all = texts(&PipelineConfig::default());
        for entry in &mut all {
            if entry.0 == path {
                entry.1 = text.to_string();
            }
        }
        all
    }

    #[test]
    fn reasoning_reads_and_writes_as_the_select_offers_it() {
        let base = PipelineConfig::default();
        for (text, want) in [
            ("high", Reasoning::High),
            ("off", Reasoning::Off),
            ("budget:1500", Reasoning::Budget(1500)),
        ] {
            let result = check(&base, &with("verifier.reasoning", text), &[]);
            assert_eq!(result.config.verifier.reasoning, want, "{text}");
            assert_eq!(reasoning_text(want), text);
        }
        let result = check(&base, &with("verifier.reasoning", "max"), &[]);
        assert_eq!(
            result.messages_for("verifier.reasoning"),
            ["\"max\" is not a reasoning setting; choose off, low, medium or high"]
        );
    }

    #[test]
    fn a_setting_the_provider_refuses_is_flagged_on_its_field() {
        let base = PipelineConfig::default();
        let mut texts = with("solver.model", "openai/gpt-4o");
        for entry in texts.iter_mut() {
            if entry.0 == "solver.reasoning" {
                entry.1 = "high".to_string();
            }
        }
        let registry = ProviderRegistry::builtin();
        let result = check_with_providers(&base, &texts, &registry);
        let messages = result.messages_for("solver.reasoning");
        assert_eq!(messages.len(), 1, "{:?}", result.errors);
        assert!(
            messages[0].contains("not an OpenAI reasoning model"),
            "{messages:?}"
        );
        assert!(check(&base, &texts, &[])
            .messages_for("solver.reasoning")
            .is_empty());
    }

    #[test]
    fn every_field_maps_to_a_config_path_the_validator_uses() {
        let mut config = PipelineConfig::default();
        for f in FIELDS {
            assert!(slot(&mut config, f.path).is_some(), "{}", f.path);
        }
        // The paths in the test-hook contract are all present.
        for agent in ["solver", "verifier", "judge"] {
            for name in [
                "model",
                "temperature",
                "max_tokens",
                "reasoning",
                "system_prompt",
                "prompt_template",
            ] {
                assert!(
                    field(&format!("{agent}.{name}")).is_some(),
                    "{agent}.{name}"
                );
            }
        }
        assert!(field("judge.scoring_rubric").is_some());
        assert!(field("solver.scoring_rubric").is_none());
    }

    #[test]
    fn floats_read_as_python_writes_them() {
        let mut config = PipelineConfig::default();
        config.solver.temperature = 0.0;
        config.verifier.temperature = 0.7;
        config.judge.temperature = 1.0;
        config.run_budget_usd = Some(2.5);
        config.batch_budget_usd = None;
        let all = texts(&config);
        assert_eq!(text_of(&all, "solver.temperature"), "0.0");
        assert_eq!(text_of(&all, "verifier.temperature"), "0.7");
        assert_eq!(text_of(&all, "judge.temperature"), "1.0");
        assert_eq!(text_of(&all, "run_budget_usd"), "2.5");
        assert_eq!(text_of(&all, "batch_budget_usd"), "");
        assert_eq!(text_of(&all, "mode"), "debate");
    }

    #[test]
    fn the_default_config_round_trips_through_the_form_without_errors() {
        let base = PipelineConfig::default();
        let result = check(&base, &texts(&base), &[]);
        assert_eq!(result.errors, Vec::<FieldError>::new());
        assert_eq!(result.config, base);
    }

    #[test]
    fn text_that_is_not_a_number_is_a_parse_error_and_keeps_the_old_value() {
        let base = PipelineConfig::default();
        let result = check(&base, &with("solver.temperature", "0.7x"), &[]);
        assert_eq!(result.errors.len(), 1);
        assert_eq!(result.errors[0].path, "solver.temperature");
        assert!(result.errors[0]
            .message
            .contains("\"0.7x\" is not a number"));
        assert_eq!(result.config.solver.temperature, base.solver.temperature);
        assert!(!result.is_valid());

        let result = check(&base, &with("max_iterations", "2.5"), &[]);
        assert_eq!(result.messages_for("max_iterations").len(), 1);
        let result = check(&base, &with("solver.temperature", "nan"), &[]);
        assert!(result.messages_for("solver.temperature")[0].contains("finite"));
        let result = check(&base, &with("solver.max_tokens", " 1024 "), &[]);
        assert!(result.is_valid());
        assert_eq!(result.config.solver.max_tokens, 1024);
    }

    #[test]
    fn validation_errors_reach_their_field() {
        let base = PipelineConfig::default();
        let result = check(&base, &with("max_iterations", "21"), &[]);
        assert_eq!(result.errors.len(), 1);
        assert_eq!(result.errors[0].path, "max_iterations");
        let result = check(&base, &with("config_version", "  "), &[]);
        assert_eq!(result.messages_for("config_version").len(), 1);
        let result = check(
            &base,
            &with("solver.prompt_template", "{problem} {answer}"),
            &[],
        );
        assert_eq!(result.messages_for("solver.prompt_template").len(), 1);
        assert!(result.unplaced().is_empty());
    }

    #[test]
    fn budgets_are_optional_and_modes_are_named() {
        let base = PipelineConfig::default();
        let result = check(&base, &with("run_budget_usd", "0.25"), &[]);
        assert_eq!(result.config.run_budget_usd, Some(0.25));
        let result = check(&base, &with("run_budget_usd", ""), &[]);
        assert_eq!(result.config.run_budget_usd, None);
        let result = check(&base, &with("mode", "baseline"), &[]);
        assert_eq!(result.config.mode, Mode::Baseline);
    }

    #[test]
    fn errors_without_a_control_are_unplaced() {
        let mut base = PipelineConfig::default();
        base.solver.role = "verifier".into();
        let result = check(&base, &texts(&base), &[]);
        let unplaced = result.unplaced();
        assert_eq!(unplaced.len(), 1);
        assert_eq!(unplaced[0].path, "solver.role");
    }

    #[test]
    fn insertion_counts_utf16_like_the_dom() {
        // "é" is 1 UTF-16 unit and 2 bytes; "𝑥" is 2 units and 4 bytes.
        assert_eq!(byte_index_of_utf16("é𝑥a", 0), 0);
        assert_eq!(byte_index_of_utf16("é𝑥a", 1), 2);
        assert_eq!(byte_index_of_utf16("é𝑥a", 3), 6);
        assert_eq!(byte_index_of_utf16("é𝑥a", 99), 7);
        assert_eq!(
            insert_at("é𝑥a", 3, 3, "{problem}"),
            ("é𝑥{problem}a".to_string(), 12)
        );
        assert_eq!(insert_at("abcdef", 4, 1, "X"), ("aXef".to_string(), 2));
    }

    #[test]
    fn stored_text_problems_do_not_talk_about_files() {
        let err = parse_json_config(b"{\"config_version\": ").unwrap_err();
        let reason = stored_reason(&err);
        assert!(
            reason.starts_with("JSON syntax error at line 1, column "),
            "{reason}"
        );
        assert!(!reason.contains("file"), "{reason}");
        let err = parse_json_config(b"{\"config_version\": \"1\"}").unwrap_err();
        assert!(stored_reason(&err).ends_with(" is missing"), "{err:?}");
    }
}

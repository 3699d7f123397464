//! The provider-neutral reasoning knob of an agent, the thinking a reply carries back, and the
//! combinations each API family refuses, checked before any call is made.
//!
//! One knob per agent: `off` (send nothing; the model does what it does by default), an effort
//! (`low`, `medium`, `high`) or an explicit thinking budget (`{budget_tokens: N}`). Each adapter
//! maps it onto its family's own fields; [`check`] says, in words a user can act on, when a
//! family cannot take it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::core::config::{FieldError, PipelineConfig};
use crate::core::model::resolve_model;
use crate::core::providers::{ProviderKind, ProviderRegistry};

/// The smallest thinking budget Anthropic accepts.
// NOTE: "budget_tokens ... Must be ≥1024 and less than max_tokens".
// https://docs.anthropic.com/en/api/messages#body-thinking
pub const MIN_THINKING_BUDGET: u32 = 1024;

/// How much an agent should reason before it answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Reasoning {
    /// Ask for nothing: the model's default (which is to reason, for o-series models).
    #[default]
    Off,
    /// A little reasoning.
    Low,
    /// The families' middle setting.
    Medium,
    /// As much as the family allows for an effort level.
    High,
    /// At most this many thinking tokens (families that take a budget).
    Budget(u32),
}

/// The effort levels, in the order the UI offers them.
pub const EFFORTS: [Reasoning; 4] = [
    Reasoning::Off,
    Reasoning::Low,
    Reasoning::Medium,
    Reasoning::High,
];

impl Reasoning {
    /// Whether the knob is at its default.
    pub fn is_off(&self) -> bool {
        *self == Reasoning::Off
    }

    /// The effort's name (`off`, `low`, `medium`, `high`); `None` for a budget.
    pub fn effort_name(self) -> Option<&'static str> {
        match self {
            Reasoning::Off => Some("off"),
            Reasoning::Low => Some("low"),
            Reasoning::Medium => Some("medium"),
            Reasoning::High => Some("high"),
            Reasoning::Budget(_) => None,
        }
    }

    /// The explicit budget, when the knob is one.
    pub fn budget_tokens(self) -> Option<u32> {
        match self {
            Reasoning::Budget(n) => Some(n),
            _ => None,
        }
    }

    /// The effort named `name` (`off`, `low`, `medium`, `high`).
    pub fn from_effort_name(name: &str) -> Option<Reasoning> {
        EFFORTS
            .into_iter()
            .find(|r| r.effort_name() == Some(name.trim()))
    }

    /// The thinking budget for families that take one, within `max_tokens` (the cap of every
    /// generated token, thinking included). An effort is a share of `max_tokens` — a quarter,
    /// a half, three quarters — never under [`MIN_THINKING_BUDGET`], so the answer keeps room
    /// whatever `max_tokens` is; an explicit budget is taken as given. `None` when off.
    pub fn budget_within(self, max_tokens: u32) -> Option<u32> {
        let share = |num: u64| {
            let tokens = u64::from(max_tokens) * num / 4;
            u32::try_from(tokens)
                .unwrap_or(u32::MAX)
                .max(MIN_THINKING_BUDGET)
        };
        match self {
            Reasoning::Off => None,
            Reasoning::Low => Some(share(1)),
            Reasoning::Medium => Some(share(2)),
            Reasoning::High => Some(share(3)),
            Reasoning::Budget(n) => Some(n),
        }
    }

    /// The knob as it is written in config files: a string, or `{"budget_tokens": N}`.
    pub fn to_json(self) -> Value {
        match self {
            Reasoning::Budget(n) => serde_json::json!({ "budget_tokens": n }),
            effort => Value::from(effort.effort_name().unwrap_or_default()),
        }
    }
}

impl fmt::Display for Reasoning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reasoning::Budget(n) => write!(f, "a {n}-token thinking budget"),
            other => f.write_str(other.effort_name().unwrap_or_default()),
        }
    }
}

impl Serialize for Reasoning {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Reasoning {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Effort(String),
            Budget { budget_tokens: u32 },
        }
        match Wire::deserialize(deserializer)? {
            Wire::Effort(name) => Reasoning::from_effort_name(&name).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "reasoning must be off, low, medium, high or {{budget_tokens: N}}, not {name:?}"
                ))
            }),
            Wire::Budget { budget_tokens } => Ok(Reasoning::Budget(budget_tokens)),
        }
    }
}

/// What a model thought before answering, as its provider returned it.
///
/// Plain text where the provider sends plain text (`reasoning_content` on OpenAI-compatible
/// hosts, Gemini's thought summaries, Cohere's thinking parts); the provider's own blocks,
/// unchanged, where they are signed or redacted (Anthropic's `thinking` blocks with their
/// `signature`, `redacted_thinking` blocks with their encrypted `data`), so that what was
/// returned can be sent back or checked as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Thinking {
    /// The reasoning text.
    Text(String),
    /// The provider's blocks, as returned.
    Blocks(Vec<Value>),
}

impl Thinking {
    /// The readable text: the text itself, or the blocks' thinking joined by blank lines, a
    /// redacted block standing as a note that the provider encrypted it.
    pub fn text(&self) -> String {
        match self {
            Thinking::Text(text) => text.clone(),
            Thinking::Blocks(blocks) => blocks
                .iter()
                .filter_map(|b| {
                    if b.get("type").and_then(Value::as_str) == Some("redacted_thinking") {
                        return Some(REDACTED_NOTE.to_string());
                    }
                    ["thinking", "text"]
                        .iter()
                        .find_map(|k| b.get(*k).and_then(Value::as_str))
                        .map(str::to_string)
                })
                .collect::<Vec<_>>()
                .join("\n\n"),
        }
    }

    /// Whether some of it was redacted (encrypted) by the provider.
    pub fn is_redacted(&self) -> bool {
        match self {
            Thinking::Text(_) => false,
            Thinking::Blocks(blocks) => blocks
                .iter()
                .any(|b| b.get("type").and_then(Value::as_str) == Some("redacted_thinking")),
        }
    }

    /// Whether it holds nothing at all.
    pub fn is_empty(&self) -> bool {
        match self {
            Thinking::Text(text) => text.is_empty(),
            Thinking::Blocks(blocks) => blocks.is_empty(),
        }
    }
}

/// What stands for a block the provider encrypted.
pub const REDACTED_NOTE: &str = "[redacted by the provider: kept encrypted, as returned]";

/// Why a family cannot take an agent's reasoning setting: a sentence naming the setting to
/// change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReasoningRefused(pub String);

/// What a provider needs to know about a call to judge its reasoning setting.
#[derive(Debug, Clone, Copy)]
pub struct ReasoningTarget<'a> {
    /// The API family.
    pub kind: ProviderKind,
    /// The provider's API root (some hosts of the OpenAI family differ in what they take).
    pub base_url: &'a str,
    /// The model as the provider knows it.
    pub model: &'a str,
    /// The agent's `max_tokens`.
    pub max_tokens: u32,
}

/// What every family asks of an explicit budget: at least one token, and below `max_tokens`,
/// which caps thinking and answer together.
pub fn check_budget(reasoning: Reasoning, max_tokens: u32) -> Result<(), ReasoningRefused> {
    match reasoning.budget_tokens() {
        Some(0) => Err(ReasoningRefused(
            "a thinking budget must be at least 1 token; set reasoning to off for none".into(),
        )),
        Some(n) if n >= max_tokens => Err(ReasoningRefused(format!(
            "the thinking budget ({n} tokens) must be below max_tokens ({max_tokens}), which caps thinking and answer together; raise max_tokens or lower the budget"
        ))),
        _ => Ok(()),
    }
}

/// Each agent whose reasoning setting its provider's family refuses, as a problem on its
/// `<agent>.reasoning` field. Agents whose model names no provider are left to the model check.
pub fn config_problems(config: &PipelineConfig, registry: &ProviderRegistry) -> Vec<FieldError> {
    let custom = registry.custom_ids();
    let agents = [
        (
            "solver",
            &config.solver.model,
            config.solver.reasoning,
            config.solver.max_tokens,
        ),
        (
            "verifier",
            &config.verifier.model,
            config.verifier.reasoning,
            config.verifier.max_tokens,
        ),
        (
            "judge",
            &config.judge.model,
            config.judge.reasoning,
            config.judge.max_tokens,
        ),
    ];
    let mut problems = Vec::new();
    for (slot, model, reasoning, max_tokens) in agents {
        let Ok(resolved) = resolve_model(model, &custom) else {
            continue;
        };
        let Some(provider) = registry.get(&resolved.provider) else {
            continue;
        };
        let target = ReasoningTarget {
            kind: provider.kind,
            base_url: &provider.base_url,
            model: &resolved.model,
            max_tokens,
        };
        if let Err(refused) = check(reasoning, target) {
            problems.push(FieldError {
                path: format!("{slot}.reasoning"),
                message: format!("{}: {}", provider.label, refused.0),
            });
        }
    }
    problems
}

/// Whether the family behind `target` can take `reasoning`; `Err` says why not and what to do.
///
/// - OpenAI (api.openai.com): an effort, for reasoning models only; no token budget.
/// - Other OpenAI-compatible hosts: an effort (`reasoning_effort`); a budget only on OpenRouter.
/// - Anthropic and Cohere: a budget of at least 1024 tokens and below `max_tokens`.
/// - Gemini: a budget below `max_tokens` (thoughts count against `maxOutputTokens`).
pub fn check(reasoning: Reasoning, target: ReasoningTarget<'_>) -> Result<(), ReasoningRefused> {
    use crate::core::llm::adapters::openai::{is_openai_host, is_openrouter_host};
    let refuse = |message: String| Err(ReasoningRefused(message));
    let Some(budget) = reasoning.budget_within(target.max_tokens) else {
        return Ok(());
    };
    check_budget(reasoning, target.max_tokens)?;
    let max = target.max_tokens;
    match target.kind {
        ProviderKind::OpenAiCompatible => {
            let budget_given = matches!(reasoning, Reasoning::Budget(_));
            if is_openai_host(target.base_url) {
                if budget_given {
                    return refuse(
                        "OpenAI takes a reasoning effort, not a token budget; choose low, medium or high"
                            .into(),
                    );
                }
                if !crate::core::llm::adapters::openai::uses_max_completion_tokens(
                    target.base_url,
                    target.model,
                ) {
                    return refuse(format!(
                        "{} is not an OpenAI reasoning model (o-series or gpt-5); set reasoning to off or choose a reasoning model",
                        target.model
                    ));
                }
                return Ok(());
            }
            if budget_given && !is_openrouter_host(target.base_url) {
                return refuse(
                    "OpenAI-compatible servers take a reasoning effort (reasoning_effort), not a token budget; choose low, medium or high"
                        .into(),
                );
            }
            Ok(())
        }
        ProviderKind::Anthropic | ProviderKind::Cohere => {
            if budget < MIN_THINKING_BUDGET {
                return refuse(format!(
                    "a thinking budget must be at least {MIN_THINKING_BUDGET} tokens, not {budget}"
                ));
            }
            if budget >= max {
                return refuse(format!(
                    "the thinking budget ({budget} tokens) must be below max_tokens ({max}), which caps thinking and answer together; raise max_tokens or lower the budget"
                ));
            }
            Ok(())
        }
        ProviderKind::Gemini => {
            if budget >= max {
                return refuse(format!(
                    "the thinking budget ({budget} tokens) must be below max_tokens ({max}), since Gemini counts thoughts against maxOutputTokens; raise max_tokens or lower the budget"
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_knob_reads_and_writes_as_config_files_spell_it() {
        for (json, want) in [
            (r#""off""#, Reasoning::Off),
            (r#""low""#, Reasoning::Low),
            (r#""medium""#, Reasoning::Medium),
            (r#""high""#, Reasoning::High),
            (r#"{"budget_tokens":2048}"#, Reasoning::Budget(2048)),
        ] {
            let read: Reasoning = serde_json::from_str(json).unwrap();
            assert_eq!(read, want, "{json}");
            assert_eq!(serde_json::to_string(&read).unwrap(), json);
        }
        let err = serde_json::from_str::<Reasoning>(r#""max""#).unwrap_err();
        assert!(err.to_string().contains("off, low, medium, high"), "{err}");
    }

    #[test]
    fn efforts_become_shares_of_max_tokens_with_a_floor() {
        assert_eq!(Reasoning::Off.budget_within(8000), None);
        assert_eq!(Reasoning::Low.budget_within(8000), Some(2000));
        assert_eq!(Reasoning::Medium.budget_within(8000), Some(4000));
        assert_eq!(Reasoning::High.budget_within(8000), Some(6000));
        assert_eq!(
            Reasoning::Low.budget_within(2000),
            Some(MIN_THINKING_BUDGET)
        );
        assert_eq!(Reasoning::Budget(5000).budget_within(8000), Some(5000));
    }

    #[test]
    fn redacted_blocks_read_as_a_note_and_are_marked() {
        let t = Thinking::Blocks(vec![
            serde_json::json!({"type": "thinking", "thinking": "Let x = 2.", "signature": "sig"}),
            serde_json::json!({"type": "redacted_thinking", "data": "EmwK..."}),
        ]);
        assert_eq!(t.text(), format!("Let x = 2.\n\n{REDACTED_NOTE}"));
        assert!(t.is_redacted());
        assert!(!Thinking::Text("x".into()).is_redacted());
    }
}

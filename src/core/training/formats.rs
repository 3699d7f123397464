//! Rows written in each format, and a validator per format that every written row passes.
//!
//! Sources of the formats' rules (facts only; the code is ours):
//! - TRL: "Dataset formats and types" of TRL v0.24.0,
//!   <https://huggingface.co/docs/trl/v0.24.0/dataset_formats>. Conversational rows hold lists of
//!   `{"role", "content"}` messages (roles `system`, `user`, `assistant`); prompt-completion
//!   rows have `prompt` and `completion`, preference rows `prompt`, `chosen` and `rejected`,
//!   unpaired preference rows `prompt`, `completion` and a boolean `label`; language-modelling
//!   rows one `messages` list.
//! - OpenAI chat fine-tuning: <https://platform.openai.com/docs/guides/supervised-fine-tuning>
//!   (a `messages` list per line; roles `system`, `user`, `assistant`; message keys `role`,
//!   `content`, `name`, `weight`; the example teaches its assistant message, so it ends with
//!   one) and the format checks of OpenAI's cookbook "Data preparation and analysis for chat
//!   model fine-tuning" (unrecognised roles and keys, missing content, no assistant message;
//!   3 tokens per message and 3 for the reply's priming when counting tokens). Each example
//!   must fit the model's training context: 65,536 tokens for the models the guide lists.
//! - OpenAI preference fine-tuning (DPO):
//!   <https://platform.openai.com/docs/guides/direct-preference-optimization>: `input.messages`,
//!   then `preferred_output` and `non_preferred_output`, each one assistant message.
//!
//! Token counts are bounded without a tokenizer: OpenAI's tokenizers are byte-level BPE, so a
//! text never has more tokens than UTF-8 bytes; a row whose bound exceeds the limit is dropped
//! as one that may not fit.

use serde_json::{json, Map, Value};

use super::options::{DatasetFormat, SftShape, TrainingOptions};
use super::prompt::Message;
use super::rows::{Row, RowBody};

/// A rule of a format that a row breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatViolation {
    /// The line is not JSON.
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// The line is not a JSON object.
    #[error("a row must be a JSON object")]
    NotAnObject,
    /// A required field is absent.
    #[error("the field {0:?} is missing")]
    MissingField(String),
    /// A field has the wrong type.
    #[error("{field} must be {expected}")]
    WrongType {
        /// The field's path.
        field: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A message list is empty.
    #[error("{0} must hold at least one message")]
    NoMessages(String),
    /// A message has a role the format does not know.
    #[error("{field}[{index}] has the role {role:?}; the roles are system, user and assistant")]
    UnknownRole {
        /// The list's path.
        field: String,
        /// The message's position.
        index: usize,
        /// The role found.
        role: String,
    },
    /// A message has a key the format does not know (OpenAI).
    #[error(
        "{field}[{index}] has the key {key:?}; a message may have role, content, name and weight"
    )]
    UnknownKey {
        /// The list's path.
        field: String,
        /// The message's position.
        index: usize,
        /// The key found.
        key: String,
    },
    /// A message's content is missing or empty.
    #[error("{field}[{index}] has no content")]
    EmptyContent {
        /// The list's path.
        field: String,
        /// The message's position.
        index: usize,
    },
    /// A message that must be the assistant's is not.
    #[error("{field}[{index}] must be an assistant message")]
    NotAssistant {
        /// The list's path.
        field: String,
        /// The message's position.
        index: usize,
    },
    /// An SFT example does not end with the assistant message it teaches.
    #[error("the last message must be the assistant's answer")]
    LastNotAssistant,
    /// A preference prompt ends with an assistant message, leaving no turn for the outputs.
    #[error("input.messages must not end with an assistant message: the outputs are the assistant's turn")]
    InputEndsWithAssistant,
    /// A preference output is not exactly one message.
    #[error("{field} must hold exactly one assistant message (it holds {count})")]
    OutputCount {
        /// The output's path.
        field: String,
        /// How many it holds.
        count: usize,
    },
    /// The chosen and rejected answers are the same text.
    #[error("the preferred and non-preferred answers are the same text")]
    SameAnswers,
    /// A reward is not a number in [0, 1].
    #[error("reward must be a number between 0 and 1")]
    Reward,
    /// The example may exceed the token limit.
    #[error("the example may be {bound} tokens long (counted as at most one token per byte), more than the limit of {limit}")]
    TooManyTokens {
        /// The upper bound of its tokens.
        bound: u64,
        /// The limit.
        limit: u64,
    },
}

fn message_value(m: &Message) -> Value {
    json!({"role": m.role.as_str(), "content": m.content})
}

fn messages_value(messages: &[Message]) -> Value {
    Value::Array(messages.iter().map(message_value).collect())
}

fn assistant(content: &str) -> Value {
    assistant_thinking(content, None)
}

/// An assistant turn whose thinking, when given, is its `reasoning_content`: the message field
/// TRL's own Qwen3 training template renders as the turn's `<think>` block, and that TRL's
/// conversational rows hand to the chat template as they are.
// NOTE: TRL's documentation, "Chat Templates" (https://huggingface.co/docs/trl/chat_templates,
// source `docs/source/chat_templates.md` of huggingface/trl at f2cd577): its patched
// `qwen3_training.jinja`, swapped in for SFT with `assistant_only_loss=True`, writes each
// assistant message as `<think>\n` + `reasoning_content` + `\n</think>` before its `content`.
// Conversational rows are lists of such messages ("Dataset formats and types",
// https://huggingface.co/docs/trl/dataset_formats).
fn assistant_thinking(content: &str, thinking: Option<&str>) -> Value {
    match thinking {
        Some(thinking) => {
            json!([{"role": "assistant", "content": content, "reasoning_content": thinking}])
        }
        None => json!([{"role": "assistant", "content": content}]),
    }
}

fn completion_of(body: &RowBody) -> &str {
    match body {
        RowBody::Completion(c)
        | RowBody::Labelled { completion: c, .. }
        | RowBody::Critic { completion: c, .. }
        | RowBody::Reward { completion: c, .. }
        | RowBody::Plain { completion: c, .. } => c,
        RowBody::Pair { chosen, .. } => chosen,
    }
}

/// The row as a JSON object in `options.format`. OpenAI's formats carry no provenance (it
/// goes to `provenance.jsonl`, see [`provenance_value`]); every other format has a
/// `provenance` column.
pub fn row_value(row: &Row, options: &TrainingOptions) -> Value {
    let prompt = messages_value(&row.prompt.messages);
    let provenance = serde_json::to_value(&row.provenance).unwrap_or(Value::Null);
    let completion = completion_of(&row.body);
    let thinking = row.thinking.answer.as_deref();
    let mut out = match (&row.body, options.format) {
        (RowBody::Pair { chosen, rejected }, DatasetFormat::OpenAiPreference) => {
            return json!({
                "input": {"messages": prompt},
                "preferred_output": assistant(chosen),
                "non_preferred_output": assistant(rejected),
            })
        }
        (_, DatasetFormat::OpenAiSft) => {
            let mut messages = row.prompt.messages.clone();
            messages.push(Message::assistant(completion));
            return json!({"messages": messages_value(&messages)});
        }
        (RowBody::Pair { chosen, rejected }, _) => json!({
            "prompt": prompt,
            "chosen": assistant_thinking(chosen, thinking),
            "rejected": assistant_thinking(rejected, row.thinking.rejected.as_deref()),
        }),
        (_, DatasetFormat::TrlSft) if options.sft_shape == SftShape::Messages => {
            let mut messages = messages_value(&row.prompt.messages);
            if let (Value::Array(list), Value::Array(turn)) =
                (&mut messages, assistant_thinking(completion, thinking))
            {
                list.extend(turn);
            }
            json!({ "messages": messages })
        }
        (RowBody::Labelled { label, .. }, _) => json!({
            "prompt": prompt,
            "completion": assistant_thinking(completion, thinking),
            "label": label,
        }),
        (
            RowBody::Critic {
                label,
                passed,
                answer_correct,
                ..
            },
            _,
        ) => json!({
            "prompt": prompt,
            "completion": assistant_thinking(completion, thinking),
            "label": label,
            "verdict_passed": passed,
            "answer_correct": answer_correct,
        }),
        (
            RowBody::Reward {
                reward, rewards, ..
            },
            _,
        ) => json!({
            "prompt": prompt,
            "completion": assistant_thinking(completion, thinking),
            "reward": reward,
            "rewards": rewards,
            "reward_source": row.provenance.source,
        }),
        (RowBody::Plain { fields, .. }, _) => {
            let mut object = fields.clone();
            object.insert("prompt".into(), prompt);
            object.insert(
                "completion".into(),
                assistant_thinking(completion, thinking),
            );
            Value::Object(object)
        }
        (RowBody::Completion(_), _) => json!({
            "prompt": prompt,
            "completion": assistant_thinking(completion, thinking),
        }),
    };
    if let Value::Object(map) = &mut out {
        map.insert("provenance".into(), provenance);
    }
    out
}

/// The line of `provenance.jsonl` for the row at `line` (1-based) of `split`'s file, for
/// OpenAI's formats.
pub fn provenance_value(row: &Row, split: &str, line: u64) -> Value {
    json!({
        "split": split,
        "line": line,
        "provenance": row.provenance,
    })
}

/// What validators need beyond the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// OpenAI formats: the per-example token limit.
    pub token_limit: u64,
}

fn field<'v>(object: &'v Map<String, Value>, name: &str) -> Result<&'v Value, FormatViolation> {
    object
        .get(name)
        .ok_or_else(|| FormatViolation::MissingField(name.to_string()))
}

/// Checks a message list: non-empty, each message an object with a known role and non-empty
/// string content; with `openai`, no key beyond OpenAI's. Returns the messages' roles and
/// contents.
fn messages<'v>(
    value: &'v Value,
    path: &str,
    openai: bool,
) -> Result<Vec<(&'v str, &'v str)>, FormatViolation> {
    let list = value.as_array().ok_or_else(|| FormatViolation::WrongType {
        field: path.to_string(),
        expected: "a list of messages",
    })?;
    if list.is_empty() {
        return Err(FormatViolation::NoMessages(path.to_string()));
    }
    let mut out = Vec::with_capacity(list.len());
    for (index, message) in list.iter().enumerate() {
        let object = message
            .as_object()
            .ok_or_else(|| FormatViolation::WrongType {
                field: format!("{path}[{index}]"),
                expected: "an object with role and content",
            })?;
        if openai {
            if let Some(key) = object
                .keys()
                .find(|k| !matches!(k.as_str(), "role" | "content" | "name" | "weight"))
            {
                return Err(FormatViolation::UnknownKey {
                    field: path.to_string(),
                    index,
                    key: key.clone(),
                });
            }
        }
        let role = object
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(role, "system" | "user" | "assistant") {
            return Err(FormatViolation::UnknownRole {
                field: path.to_string(),
                index,
                role: role.to_string(),
            });
        }
        let content = object
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if content.trim().is_empty() {
            return Err(FormatViolation::EmptyContent {
                field: path.to_string(),
                index,
            });
        }
        out.push((role, content));
    }
    Ok(out)
}

/// A list that must hold assistant messages only (completions, chosen, rejected).
fn assistant_messages<'v>(
    value: &'v Value,
    path: &str,
    openai: bool,
) -> Result<Vec<(&'v str, &'v str)>, FormatViolation> {
    let list = messages(value, path, openai)?;
    if let Some(index) = list.iter().position(|(role, _)| *role != "assistant") {
        return Err(FormatViolation::NotAssistant {
            field: path.to_string(),
            index,
        });
    }
    Ok(list)
}

/// An upper bound of the tokens OpenAI counts for `messages`: at most one per byte of role and
/// content, 3 per message and 3 for the reply's priming (the cookbook's counting).
pub fn token_upper_bound(messages: &[(&str, &str)]) -> u64 {
    3 + messages
        .iter()
        .map(|(role, content)| 3 + role.len() as u64 + content.len() as u64)
        .sum::<u64>()
}

fn within_limit(messages: &[(&str, &str)], limit: u64) -> Result<(), FormatViolation> {
    let bound = token_upper_bound(messages);
    if bound > limit {
        return Err(FormatViolation::TooManyTokens { bound, limit });
    }
    Ok(())
}

fn boolean(object: &Map<String, Value>, name: &str) -> Result<(), FormatViolation> {
    field(object, name)?
        .as_bool()
        .map(|_| ())
        .ok_or_else(|| FormatViolation::WrongType {
            field: name.to_string(),
            expected: "true or false",
        })
}

/// Checks one row against `format`'s rules.
pub fn validate_row(
    format: DatasetFormat,
    value: &Value,
    limits: Limits,
) -> Result<(), FormatViolation> {
    let object = value.as_object().ok_or(FormatViolation::NotAnObject)?;
    match format {
        DatasetFormat::OpenAiSft => {
            let list = messages(field(object, "messages")?, "messages", true)?;
            if list.last().map(|(role, _)| *role) != Some("assistant") {
                return Err(FormatViolation::LastNotAssistant);
            }
            within_limit(&list, limits.token_limit)
        }
        DatasetFormat::OpenAiPreference => {
            let input = field(object, "input")?
                .as_object()
                .ok_or(FormatViolation::WrongType {
                    field: "input".into(),
                    expected: "an object with messages",
                })?;
            let prompt = messages(field(input, "messages")?, "input.messages", true)?;
            if prompt.last().map(|(role, _)| *role) == Some("assistant") {
                return Err(FormatViolation::InputEndsWithAssistant);
            }
            let mut outputs = Vec::new();
            for name in ["preferred_output", "non_preferred_output"] {
                let list = assistant_messages(field(object, name)?, name, true)?;
                if list.len() != 1 {
                    return Err(FormatViolation::OutputCount {
                        field: name.to_string(),
                        count: list.len(),
                    });
                }
                outputs.push(list[0]);
            }
            if outputs[0].1 == outputs[1].1 {
                return Err(FormatViolation::SameAnswers);
            }
            for output in outputs {
                let mut example = prompt.clone();
                example.push(output);
                within_limit(&example, limits.token_limit)?;
            }
            Ok(())
        }
        DatasetFormat::TrlSft if object.contains_key("messages") => {
            let list = messages(field(object, "messages")?, "messages", false)?;
            if list.last().map(|(role, _)| *role) != Some("assistant") {
                return Err(FormatViolation::LastNotAssistant);
            }
            Ok(())
        }
        DatasetFormat::TrlPreference => {
            messages(field(object, "prompt")?, "prompt", false)?;
            let chosen = assistant_messages(field(object, "chosen")?, "chosen", false)?;
            let rejected = assistant_messages(field(object, "rejected")?, "rejected", false)?;
            if chosen == rejected {
                return Err(FormatViolation::SameAnswers);
            }
            Ok(())
        }
        DatasetFormat::TrlSft
        | DatasetFormat::TrlUnpaired
        | DatasetFormat::Critic
        | DatasetFormat::Reward
        | DatasetFormat::Plain => {
            messages(field(object, "prompt")?, "prompt", false)?;
            assistant_messages(field(object, "completion")?, "completion", false)?;
            match format {
                DatasetFormat::TrlUnpaired => boolean(object, "label"),
                DatasetFormat::Critic => {
                    boolean(object, "label")?;
                    boolean(object, "verdict_passed")?;
                    boolean(object, "answer_correct")
                }
                DatasetFormat::Reward => {
                    let reward = field(object, "reward")?.as_f64();
                    match reward {
                        Some(r) if (0.0..=1.0).contains(&r) => Ok(()),
                        _ => Err(FormatViolation::Reward),
                    }
                }
                _ => Ok(()),
            }
        }
    }
}

/// A line of a file that breaks its format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {violation}")]
pub struct LineViolation {
    /// 1-based line number.
    pub line: usize,
    /// The rule it breaks.
    pub violation: FormatViolation,
}

/// Checks every line of a JSONL file against `format`; returns the number of rows.
pub fn validate_jsonl(
    format: DatasetFormat,
    text: &str,
    limits: Limits,
) -> Result<usize, LineViolation> {
    let mut rows = 0;
    for (i, line) in text.lines().enumerate() {
        let at = |violation| LineViolation {
            line: i + 1,
            violation,
        };
        let value: Value =
            serde_json::from_str(line).map_err(|e| at(FormatViolation::NotJson(e.to_string())))?;
        validate_row(format, &value, limits).map_err(at)?;
        rows += 1;
    }
    Ok(rows)
}

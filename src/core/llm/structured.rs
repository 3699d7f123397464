//! Structured outputs: the agents' JSON Schemas, pulling JSON out of a reply, validating it, and
//! the re-ask and prompt-only instructions that go back to the model.
//!
//! The schemas are written for the strictest consumer, OpenAI's `strict: true` structured
//! outputs: every object has `additionalProperties: false` and lists all of its properties as
//! `required`. Strict mode has no way to say "an object with any keys", so the verifier's
//! per-criterion `scores` map travels as an array of `{criterion, score}` pairs and is turned
//! back into the map the original logged when the reply is validated.
//!
//! Ranges (`confidence` in `[0, 1]`) are stated in the schema's `description` and enforced here,
//! not with `minimum` / `maximum`: not every provider's schema subset accepts those keywords, and
//! a range problem is exactly what the re-ask is for.
//!
//! Validation follows the original's pydantic models in their default (lax) mode: unknown keys
//! are ignored, an integer is a valid number, and a number or boolean written as a string
//! (`"0.8"`, `"true"`) is accepted.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::chat::{ChatMessage, ChatRequest, ChatRole, StructuredMode, StructuredSpec};
use super::AgentCall;
use crate::core::outputs::{AgentOutput, JudgeOutput, SolverOutput, VerifierOutput};
use crate::core::role::AgentRole;
use crate::core::text::excerpt;

/// How much of a reply an error message quotes.
const EXCERPT_CHARS: usize = 200;

/// The schema's name for a role, used as the tool / `json_schema` name (`solver_output`).
pub fn schema_name(role: AgentRole) -> &'static str {
    match role {
        AgentRole::Solver => "solver_output",
        AgentRole::Verifier => "verifier_output",
        AgentRole::Judge => "judge_output",
    }
}

/// The JSON Schema the role's reply must match (strict-mode compatible).
pub fn schema(role: AgentRole) -> Value {
    match role {
        AgentRole::Solver => json!({
            "type": "object",
            "description": "The solver's answer to the problem.",
            "properties": {
                "solution": {
                    "type": "string",
                    "description": "The final answer. Must not be empty."
                },
                "reasoning": {
                    "type": "string",
                    "description": "How the answer was reached."
                },
                "confidence": {
                    "type": "number",
                    "description": "Confidence that the solution is correct, between 0 and 1."
                }
            },
            "required": ["solution", "reasoning", "confidence"],
            "additionalProperties": false
        }),
        AgentRole::Verifier => json!({
            "type": "object",
            "description": "The verifier's verdict on a proposed solution.",
            "properties": {
                "passed": {
                    "type": "boolean",
                    "description": "True if the solution is correct and complete."
                },
                "critique": {
                    "type": "string",
                    "description": "What is wrong with the solution, or why it is right."
                },
                "confidence": {
                    "type": "number",
                    "description": "Confidence in the verdict, between 0 and 1."
                },
                "scores": {
                    "type": "array",
                    "description": "Per-criterion scores; may be empty.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "criterion": {
                                "type": "string",
                                "description": "The name of the criterion."
                            },
                            "score": {
                                "type": "number",
                                "description": "The score for this criterion."
                            }
                        },
                        "required": ["criterion", "score"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["passed", "critique", "confidence", "scores"],
            "additionalProperties": false
        }),
        AgentRole::Judge => json!({
            "type": "object",
            "description": "The judge's score of the final answer.",
            "properties": {
                "score": {
                    "type": "number",
                    "description": "How good the answer is against the rubric, between 0 and 1."
                },
                "reasoning": {
                    "type": "string",
                    "description": "Why this score."
                },
                "strengths": {
                    "type": "array",
                    "description": "What the answer does well; may be empty.",
                    "items": { "type": "string" }
                },
                "weaknesses": {
                    "type": "array",
                    "description": "What the answer does badly; may be empty.",
                    "items": { "type": "string" }
                }
            },
            "required": ["score", "reasoning", "strengths", "weaknesses"],
            "additionalProperties": false
        }),
    }
}

/// The structured output wanted from `role`, asked for in `mode`.
pub fn spec_for(role: AgentRole, mode: StructuredMode) -> StructuredSpec {
    StructuredSpec {
        name: schema_name(role).to_string(),
        schema: schema(role),
        mode,
    }
}

/// One problem with one field of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// Path of the field (`confidence`, `scores[1].score`, `strengths[0]`).
    pub field: String,
    /// What is wrong, phrased so the model (and a user) can fix it.
    pub message: String,
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A reply that is a JSON object but does not satisfy the schema; lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reply does not match the {schema} schema: {}", join_problems(.problems))]
pub struct ValidationError {
    /// The schema name (`solver_output`).
    pub schema: String,
    /// Every problem, in field order.
    pub problems: Vec<FieldProblem>,
}

fn join_problems(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a reply could not be turned into an agent output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    /// Nothing in the reply looks like a complete JSON object.
    #[error("the reply contains no complete JSON object (it starts: {excerpt:?}); the model may have answered in prose or been cut off")]
    NoJson {
        /// The start of the reply.
        excerpt: String,
    },
    /// Something JSON-like was found but does not parse.
    #[error("the reply's JSON is malformed at line {line}, column {column}: {message} (near {excerpt:?})")]
    Malformed {
        /// 1-based line within the JSON candidate.
        line: usize,
        /// 1-based column within that line.
        column: usize,
        /// The parser's description.
        message: String,
        /// The start of the JSON candidate.
        excerpt: String,
    },
    /// The reply is valid JSON but not an object (an array, a number, ...).
    #[error("the reply is JSON but a {found}, not an object")]
    NotAnObject {
        /// The JSON type found.
        found: String,
    },
    /// A JSON object that fails validation.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl OutputError {
    /// The problems as a bulleted list, for the re-ask message.
    pub fn problem_list(&self) -> String {
        match self {
            OutputError::Invalid(v) => v
                .problems
                .iter()
                .map(|p| format!("- {p}"))
                .collect::<Vec<_>>()
                .join("\n"),
            other => format!("- {other}"),
        }
    }
}

/// Extracts JSON from a reply and validates it as `role`'s output.
pub fn parse_reply(role: AgentRole, text: &str) -> Result<AgentOutput, OutputError> {
    let value = extract_json(text)?;
    Ok(validate(role, &value)?)
}

/// Finds the JSON object in a model reply.
///
/// Tried in order: the whole reply; the contents of each ```` ``` ```` fence (with or without a
/// `json` tag); each balanced `{...}` in the text, from the first `{` on (braces inside JSON
/// strings are skipped). A JSON string holding an object (a double-encoded reply) is unwrapped.
/// When candidates exist but none parses, the first one's syntax error is reported.
pub fn extract_json(text: &str) -> Result<Value, OutputError> {
    let trimmed = text.trim();
    let mut first_error: Option<OutputError> = None;

    let mut try_candidate = |candidate: &str| -> Option<Value> {
        match parse_lenient(candidate) {
            Ok(Value::Object(map)) => Some(Value::Object(map)),
            Ok(Value::String(inner)) => match serde_json::from_str::<Value>(&inner) {
                Ok(Value::Object(map)) => Some(Value::Object(map)),
                _ => {
                    first_error.get_or_insert(OutputError::NotAnObject {
                        found: "string".into(),
                    });
                    None
                }
            },
            Ok(other) => {
                first_error.get_or_insert(OutputError::NotAnObject {
                    found: json_type(&other).into(),
                });
                None
            }
            Err(e) => {
                first_error.get_or_insert(OutputError::Malformed {
                    line: e.line(),
                    column: e.column(),
                    message: e.to_string(),
                    excerpt: reply_excerpt(candidate),
                });
                None
            }
        }
    };

    if trimmed.starts_with('{') || trimmed.starts_with('"') || trimmed.starts_with('[') {
        if let Some(v) = try_candidate(trimmed) {
            return Ok(v);
        }
    }
    for block in fenced_blocks(trimmed) {
        if let Some(v) = try_candidate(block.trim()) {
            return Ok(v);
        }
    }
    for candidate in balanced_objects(trimmed) {
        if let Some(v) = try_candidate(candidate) {
            return Ok(v);
        }
    }
    Err(first_error.unwrap_or_else(|| OutputError::NoJson {
        excerpt: reply_excerpt(trimmed),
    }))
}

/// Parses JSON, accepting raw control characters (a literal newline or tab) inside strings the
/// way Python's `json.loads(strict=False)` does.
// NOTE: llama-cpp-python's schema grammar lets the model emit raw newlines inside JSON strings
// (its string rule excludes only `"` and `\`), which strict JSON forbids; the text is still
// unambiguous, so it is repaired rather than re-asked.
fn parse_lenient(candidate: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<Value>(candidate).or_else(|strict_error| {
        match escape_control_chars_in_strings(candidate) {
            Some(repaired) => serde_json::from_str::<Value>(&repaired).map_err(|_| strict_error),
            None => Err(strict_error),
        }
    })
}

/// `text` with control characters inside JSON strings escaped, or `None` when there are none.
fn escape_control_chars_in_strings(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    let (mut in_string, mut escaped, mut changed) = (false, false, false);
    for c in text.chars() {
        if in_string && !escaped && (c as u32) < 0x20 {
            changed = true;
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                other => out.push_str(&format!("\\u{:04x}", other as u32)),
            }
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    changed.then_some(out)
}

/// The contents of every ```` ``` ```` fenced block, the info string (`json`) dropped.
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after_open = &rest[open + 3..];
        // The info string runs to the end of the line; a fence on one line has none.
        let body_start = match after_open.find('\n') {
            Some(nl) if !after_open[..nl].contains('{') => nl + 1,
            _ => 0,
        };
        let body = &after_open[body_start..];
        match body.find("```") {
            Some(close) => {
                blocks.push(&body[..close]);
                rest = &body[close + 3..];
            }
            None => {
                // An unclosed fence (a truncated reply): still worth a try.
                blocks.push(body);
                break;
            }
        }
    }
    blocks
}

/// Every balanced `{...}` substring, in order of its opening brace.
fn balanced_objects(text: &str) -> impl Iterator<Item = &str> {
    text.char_indices()
        .filter(|&(_, c)| c == '{')
        .filter_map(move |(start, _)| {
            balanced_end(&text[start..]).map(|end| &text[start..start + end])
        })
}

/// The byte length of the balanced object that `s` (starting with `{`) opens, if it closes.
fn balanced_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The start of a reply, as quoted in an error message.
pub(crate) fn reply_excerpt(reply: &str) -> String {
    excerpt(reply, EXCERPT_CHARS)
}

/// Validates a JSON value as `role`'s output, collecting every problem before failing.
///
/// Rules: `solution` must not be blank; `confidence` and the judge's `score` must be finite
/// numbers in `[0, 1]`; the verifier's criterion scores must be finite (their scale is the
/// rubric's business, so no range is imposed); `scores`, `strengths` and `weaknesses` may be
/// missing (empty, as the original's defaults). The verifier's `scores` is accepted as the
/// schema's array of `{criterion, score}` pairs or as the original's `{name: score}` map.
pub fn validate(role: AgentRole, value: &Value) -> Result<AgentOutput, ValidationError> {
    let schema = schema_name(role).to_string();
    let Value::Object(obj) = value else {
        return Err(ValidationError {
            schema,
            problems: vec![FieldProblem {
                field: "(reply)".into(),
                message: format!("must be a JSON object, got {}", json_type(value)),
            }],
        });
    };
    let mut c = Checker {
        obj,
        problems: Vec::new(),
    };
    let output = match role {
        AgentRole::Solver => {
            let solution = c.string("solution");
            if matches!(&solution, Some(s) if s.trim().is_empty()) {
                c.problem("solution", "must not be empty".into());
            }
            AgentOutput::Solver(SolverOutput {
                solution: solution.unwrap_or_default(),
                reasoning: c.string("reasoning").unwrap_or_default(),
                confidence: c.unit_number("confidence").unwrap_or_default(),
            })
        }
        AgentRole::Verifier => AgentOutput::Verifier(VerifierOutput {
            passed: c.boolean("passed").unwrap_or_default(),
            critique: c.string("critique").unwrap_or_default(),
            confidence: c.unit_number("confidence").unwrap_or_default(),
            scores: c.scores("scores"),
        }),
        AgentRole::Judge => AgentOutput::Judge(JudgeOutput {
            score: c.unit_number("score").unwrap_or_default(),
            reasoning: c.string("reasoning").unwrap_or_default(),
            strengths: c.string_list("strengths"),
            weaknesses: c.string_list("weaknesses"),
        }),
    };
    if c.problems.is_empty() {
        Ok(output)
    } else {
        Err(ValidationError {
            schema,
            problems: c.problems,
        })
    }
}

struct Checker<'a> {
    obj: &'a Map<String, Value>,
    problems: Vec<FieldProblem>,
}

impl<'a> Checker<'a> {
    fn problem(&mut self, field: &str, message: String) {
        self.problems.push(FieldProblem {
            field: field.to_string(),
            message,
        });
    }

    fn required(&mut self, field: &str) -> Option<&'a Value> {
        let obj: &'a Map<String, Value> = self.obj;
        match obj.get(field) {
            Some(v) => Some(v),
            None => {
                self.problem(field, "is required but missing".into());
                None
            }
        }
    }

    fn string(&mut self, field: &str) -> Option<String> {
        match self.required(field)? {
            Value::String(s) => Some(s.clone()),
            other => {
                let found = json_type(other);
                self.problem(field, format!("must be a string, got {found}"));
                None
            }
        }
    }

    fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.required(field)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
            other => {
                let found = describe(other);
                self.problem(field, format!("must be true or false, got {found}"));
                None
            }
        }
    }

    fn unit_number(&mut self, field: &str) -> Option<f64> {
        let v = self.required(field)?;
        let x = self.finite_number(field, v)?;
        if !(0.0..=1.0).contains(&x) {
            self.problem(field, format!("must be between 0 and 1, got {x}"));
            return None;
        }
        Some(x)
    }

    fn finite_number(&mut self, field: &str, v: &Value) -> Option<f64> {
        let x = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match x {
            Some(x) if x.is_finite() => Some(x),
            Some(_) => {
                self.problem(
                    field,
                    format!("must be a finite number, got {}", describe(v)),
                );
                None
            }
            None => {
                self.problem(field, format!("must be a number, got {}", describe(v)));
                None
            }
        }
    }

    fn string_list(&mut self, field: &str) -> Vec<String> {
        let obj = self.obj;
        let items = match obj.get(field) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                let found = json_type(other);
                self.problem(field, format!("must be an array of strings, got {found}"));
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.clone()),
                other => {
                    let found = json_type(other);
                    self.problem(
                        &format!("{field}[{i}]"),
                        format!("must be a string, got {found}"),
                    );
                }
            }
        }
        out
    }

    fn scores(&mut self, field: &str) -> BTreeMap<String, f64> {
        let obj = self.obj;
        let mut out = BTreeMap::new();
        match obj.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (name, v) in map {
                    if let Some(x) = self.finite_number(&format!("{field}.{name}"), v) {
                        out.insert(name.clone(), x);
                    }
                }
            }
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{field}[{i}]");
                    let Value::Object(pair) = item else {
                        let found = json_type(item);
                        self.problem(
                            &path,
                            format!("must be an object with criterion and score, got {found}"),
                        );
                        continue;
                    };
                    let name = match pair.get("criterion") {
                        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                        Some(Value::String(_)) => {
                            self.problem(&format!("{path}.criterion"), "must not be empty".into());
                            None
                        }
                        Some(other) => {
                            let found = json_type(other);
                            self.problem(
                                &format!("{path}.criterion"),
                                format!("must be a string, got {found}"),
                            );
                            None
                        }
                        None => {
                            self.problem(
                                &format!("{path}.criterion"),
                                "is required but missing".into(),
                            );
                            None
                        }
                    };
                    let score = match pair.get("score") {
                        Some(v) => self.finite_number(&format!("{path}.score"), v),
                        None => {
                            self.problem(
                                &format!("{path}.score"),
                                "is required but missing".into(),
                            );
                            None
                        }
                    };
                    if let (Some(name), Some(score)) = (name, score) {
                        if out.insert(name.clone(), score).is_some() {
                            self.problem(
                                &format!("{path}.criterion"),
                                format!("{name:?} appears more than once"),
                            );
                        }
                    }
                }
            }
            Some(other) => {
                let found = json_type(other);
                self.problem(
                    field,
                    format!("must be an array of {{criterion, score}} objects, got {found}"),
                );
            }
        }
        out
    }
}

/// A short rendering of a value for an error message: its type, and the value if it is small.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("the string {:?}", reply_excerpt(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The two messages of a re-ask: the model's unusable reply, then what was wrong with it and
/// the instruction to answer again (Instructor's approach: the conversation shows the model its
/// own mistake).
pub fn reask_messages(bad_reply: &str, error: &OutputError) -> [ChatMessage; 2] {
    [
        ChatMessage {
            role: ChatRole::Assistant,
            content: bad_reply.to_string(),
        },
        ChatMessage {
            role: ChatRole::User,
            content: reask_text(error),
        },
    ]
}

/// The user message of a re-ask.
pub fn reask_text(error: &OutputError) -> String {
    format!(
        "Your previous reply could not be used. Problems found:\n{}\n\n\
         Answer again, fixing every problem listed. Reply with only a JSON object that matches \
         the required schema: no text before or after it, no code fence.",
        error.problem_list()
    )
}

/// The instructions appended to the prompt in [`StructuredMode::PromptOnly`]: the schema, and
/// "reply with only a JSON object".
pub fn prompt_only_instructions(spec: &StructuredSpec) -> String {
    let schema = serde_json::to_string_pretty(&spec.schema).unwrap_or_default();
    format!(
        "\n\nReply with only a JSON object, with no text before or after it and no code fence. \
         It must match this JSON Schema, with every field filled in:\n{schema}"
    )
}

/// The user prompt as sent in `spec.mode`: unchanged, except in prompt-only mode, where the
/// schema instructions are appended.
pub fn prompt_for_mode(user_prompt: &str, spec: &StructuredSpec) -> String {
    match spec.mode {
        StructuredMode::PromptOnly => format!("{user_prompt}{}", prompt_only_instructions(spec)),
        StructuredMode::Native | StructuredMode::JsonObjectSchema => user_prompt.to_string(),
    }
}

/// The first request of `call`, sent to `model` (the provider's name for it) with its output
/// asked for in `mode`: the system prompt, the user prompt as [`prompt_for_mode`] sends it, the
/// role's schema, and the call's sampling and reasoning settings.
pub fn chat_request(call: &AgentCall, mode: StructuredMode, model: &str) -> ChatRequest {
    let spec = spec_for(call.role, mode);
    ChatRequest {
        model: model.to_string(),
        system: call.system_prompt.clone(),
        messages: vec![ChatMessage {
            role: ChatRole::User,
            content: prompt_for_mode(&call.user_prompt, &spec),
        }],
        temperature: call.temperature,
        max_tokens: call.max_tokens,
        structured: Some(spec),
        reasoning: call.reasoning,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn raw_control_characters_inside_strings_are_accepted_like_pythons_non_strict_json() {
        // As SmolLM2 under llama-cpp-python's grammar really answered (a raw newline in a string).
        let reply =
            "{ \"confidence\": 0.5, \"reasoning\": \"r\", \"solution\": \"1}\n\nThis\tis\" } ";
        let value = extract_json(reply).unwrap();
        assert_eq!(value["solution"], "1}\n\nThis\tis");
        // Outside strings nothing changes, and text with no JSON still fails.
        assert_eq!(escape_control_chars_in_strings("{\n\"a\": 1}"), None);
        assert!(extract_json("no json here").is_err());
    }

    use super::*;

    /// Walks a schema and returns the path of every object node that is not strict-valid.
    fn strictness_violations(node: &Value, path: &str, out: &mut Vec<String>) {
        let Value::Object(map) = node else { return };
        if map.get("type") == Some(&json!("object")) {
            if map.get("additionalProperties") != Some(&json!(false)) {
                out.push(format!("{path}: additionalProperties is not false"));
            }
            let props: Vec<&String> = map
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().collect())
                .unwrap_or_default();
            if props.is_empty() {
                out.push(format!("{path}: object without properties"));
            }
            let required: Vec<&str> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for p in &props {
                if !required.contains(&p.as_str()) {
                    out.push(format!("{path}.{p}: not in required"));
                }
            }
            for r in &required {
                if !props.iter().any(|p| p.as_str() == *r) {
                    out.push(format!("{path}: required {r} is not a property"));
                }
            }
        }
        for key in ["minimum", "maximum", "allOf", "$ref", "patternProperties"] {
            if map.contains_key(key) {
                out.push(format!("{path}: uses {key}"));
            }
        }
        for (k, v) in map {
            match v {
                Value::Object(_) => strictness_violations(v, &format!("{path}.{k}"), out),
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        strictness_violations(item, &format!("{path}.{k}[{i}]"), out);
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn every_schema_is_strict_mode_valid() {
        for role in AgentRole::ALL {
            let mut problems = Vec::new();
            strictness_violations(&schema(role), role.as_str(), &mut problems);
            assert!(problems.is_empty(), "{role}: {problems:?}");
        }
        // The checker itself must catch a violation.
        let mut problems = Vec::new();
        let bad = json!({"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string"}}}},"required":["a"],"additionalProperties":false});
        strictness_violations(&bad, "bad", &mut problems);
        assert_eq!(
            problems,
            [
                "bad.properties.a: additionalProperties is not false",
                "bad.properties.a.b: not in required"
            ]
        );
    }

    #[test]
    fn schema_fields_match_the_output_types() {
        let props = |role| -> Vec<String> {
            schema(role)["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        };
        // serde_json's map is sorted by key (no preserve_order feature).
        assert_eq!(
            props(AgentRole::Solver),
            ["confidence", "reasoning", "solution"]
        );
        assert_eq!(
            props(AgentRole::Verifier),
            ["confidence", "critique", "passed", "scores"]
        );
        assert_eq!(
            props(AgentRole::Judge),
            ["reasoning", "score", "strengths", "weaknesses"]
        );
        let spec = spec_for(AgentRole::Judge, StructuredMode::PromptOnly);
        assert_eq!(spec.name, "judge_output");
        assert_eq!(spec.mode, StructuredMode::PromptOnly);
    }

    #[test]
    fn extraction_table() {
        let cases: &[(&str, &str, Value)] = &[
            ("bare", r#"{"a": 1}"#, json!({"a": 1})),
            ("bare with whitespace", "\n  {\"a\": 1}\n", json!({"a": 1})),
            (
                "json fence",
                "Here you go:\n```json\n{\"a\": [1, 2]}\n```\nDone.",
                json!({"a": [1, 2]}),
            ),
            (
                "untagged fence",
                "```\n{\"a\": true}\n```",
                json!({"a": true}),
            ),
            (
                "prose wrapped",
                "Sure! The answer is {\"solution\": \"4\"} as requested.",
                json!({"solution": "4"}),
            ),
            (
                "braces inside strings",
                r#"Result: {"s": "a } tricky { string", "n": {"m": "\"}"}} trailing }"#,
                json!({"s": "a } tricky { string", "n": {"m": "\"}"}}),
            ),
            (
                "latex before the object",
                r#"We get \frac{1}{2}. {"solution": "\\frac{1}{2}"}"#,
                json!({"solution": "\\frac{1}{2}"}),
            ),
            ("double encoded", r#""{\"a\": 2}""#, json!({"a": 2})),
            (
                "first of two objects",
                r#"{"a": 1} and {"b": 2}"#,
                json!({"a": 1}),
            ),
            ("fence on one line", "```{\"a\": 3}```", json!({"a": 3})),
            (
                "non-ascii",
                "Réponse : {\"solution\": \"π ≈ 3.14\"}",
                json!({"solution": "π ≈ 3.14"}),
            ),
        ];
        for (name, input, expected) in cases {
            assert_eq!(extract_json(input).as_ref(), Ok(expected), "case {name}");
        }
    }

    #[test]
    fn extraction_failures_say_why() {
        assert!(matches!(
            extract_json("I think the answer is 4."),
            Err(OutputError::NoJson { excerpt }) if excerpt == "I think the answer is 4."
        ));
        // Truncated: the object never closes.
        assert!(matches!(
            extract_json("{\"solution\": \"4\", \"reasoning\": \"becau"),
            Err(OutputError::Malformed { line: 1, .. })
        ));
        // A trailing comma is reported with its position.
        match extract_json("{\"a\": 1,\n}") {
            Err(OutputError::Malformed { line, column, .. }) => {
                assert_eq!((line, column), (2, 1));
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
        assert_eq!(
            extract_json("[1, 2]"),
            Err(OutputError::NotAnObject {
                found: "array".into()
            })
        );
    }

    #[test]
    fn valid_outputs_are_normalized() {
        let solver = validate(
            AgentRole::Solver,
            &json!({"solution": "42", "reasoning": "r", "confidence": 1, "extra": "ignored"}),
        );
        assert_eq!(
            solver.map(|o| Value::Object(o.to_object())),
            Ok(json!({"solution": "42", "reasoning": "r", "confidence": 1.0}))
        );
        let verifier = validate(
            AgentRole::Verifier,
            &json!({"passed": "true", "critique": "ok", "confidence": "0.25",
                    "scores": [{"criterion": "rigor", "score": 0.5}, {"criterion": "clarity", "score": 7}]}),
        );
        assert_eq!(
            verifier.map(|o| Value::Object(o.to_object())),
            Ok(json!({"passed": true, "critique": "ok", "confidence": 0.25,
                      "scores": {"clarity": 7.0, "rigor": 0.5}}))
        );
        // The original's map form, and defaults for missing lists.
        let verifier = validate(
            AgentRole::Verifier,
            &json!({"passed": false, "critique": "no", "confidence": 0, "scores": {"a": 0.1}}),
        );
        assert!(
            matches!(verifier, Ok(AgentOutput::Verifier(v)) if v.scores.get("a") == Some(&0.1))
        );
        let judge = validate(
            AgentRole::Judge,
            &json!({"score": 0.75, "reasoning": "fine"}),
        );
        assert_eq!(
            judge.map(|o| Value::Object(o.to_object())),
            Ok(json!({"score": 0.75, "reasoning": "fine", "strengths": [], "weaknesses": []}))
        );
    }

    #[test]
    fn validation_lists_every_problem_with_its_field() {
        let err = validate(
            AgentRole::Solver,
            &json!({"solution": "  ", "confidence": 1.5}),
        )
        .unwrap_err();
        let fields: Vec<(&str, &str)> = err
            .problems
            .iter()
            .map(|p| (p.field.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("solution", "must not be empty"),
                ("reasoning", "is required but missing"),
                ("confidence", "must be between 0 and 1, got 1.5"),
            ]
        );
        assert_eq!(
            err.to_string(),
            "the reply does not match the solver_output schema: solution: must not be empty; \
             reasoning: is required but missing; confidence: must be between 0 and 1, got 1.5"
        );

        let err = validate(
            AgentRole::Verifier,
            &json!({"passed": "maybe", "critique": 3, "confidence": "NaN",
                    "scores": [{"criterion": "a", "score": 1}, {"criterion": "a", "score": 2}, 5, {"score": "x"}]}),
        )
        .unwrap_err();
        let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "passed",
                "critique",
                "confidence",
                "scores[1].criterion",
                "scores[2]",
                "scores[3].criterion",
                "scores[3].score"
            ]
        );
        assert_eq!(
            err.problems[2].message,
            "must be a finite number, got the string \"NaN\""
        );

        let err = validate(
            AgentRole::Judge,
            &json!({"score": -0.1, "reasoning": "r", "strengths": "good", "weaknesses": ["x", 1]}),
        )
        .unwrap_err();
        let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["score", "strengths", "weaknesses[1]"]);

        let err = validate(AgentRole::Judge, &json!([1])).unwrap_err();
        assert_eq!(err.problems[0].message, "must be a JSON object, got array");
    }

    #[test]
    fn reask_carries_the_bad_reply_and_every_problem() {
        let bad = r#"{"solution": "", "reasoning": "r", "confidence": 2}"#;
        let err = parse_reply(AgentRole::Solver, bad).unwrap_err();
        let [assistant, user] = reask_messages(bad, &err);
        assert_eq!(assistant.role, ChatRole::Assistant);
        assert_eq!(assistant.content, bad);
        assert_eq!(user.role, ChatRole::User);
        assert!(user.content.contains(
            "- solution: must not be empty\n- confidence: must be between 0 and 1, got 2"
        ));
        assert!(user.content.contains("only a JSON object"));

        let err = parse_reply(AgentRole::Solver, "no json here").unwrap_err();
        assert!(reask_text(&err).contains("- the reply contains no complete JSON object"));
    }

    #[test]
    fn prompt_only_mode_appends_the_schema() {
        let spec = spec_for(AgentRole::Solver, StructuredMode::PromptOnly);
        let prompt = prompt_for_mode("Solve 2+2.", &spec);
        assert!(prompt.starts_with("Solve 2+2.\n\nReply with only a JSON object"));
        let schema_text = prompt
            .split_once("filled in:\n")
            .map(|(_, s)| s)
            .unwrap_or("");
        let parsed: Value = serde_json::from_str(schema_text).unwrap();
        assert_eq!(parsed, schema(AgentRole::Solver));
        let native = spec_for(AgentRole::Solver, StructuredMode::Native);
        assert_eq!(prompt_for_mode("Solve 2+2.", &native), "Solve 2+2.");
    }
}

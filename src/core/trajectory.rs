//! Trajectories: one [`TrajectoryEntry`] per agent step, in the original's JSONL shape, plus the
//! [`RunRecord`] that sums a run up for the runs table.
//!
//! The entry has exactly the original's fields. The original's metadata keys (`iteration`,
//! `model`, `tokens`) come first in meaning; Trialogue's extras live beside them in `metadata`
//! only (see [`StepMetadata`]), so code written for the original reads our files unchanged.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::core::clock::compact_utc;
use crate::core::config::{Mode, PipelineConfig};
use crate::core::llm::{AttemptRecord, Thinking, Usage};
use crate::core::replies::ReusePolicy;
use crate::core::role::AgentRole;

/// One step of a run: one line of the trajectory JSONL.
///
/// `input` and `output` are kept as JSON objects, and `metadata` keeps the keys it does not
/// know, so that files written by the original (or by a later Trialogue with more metadata
/// keys) are read and re-written without losing anything. Keys inside them are written in
/// sorted order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryEntry {
    /// When the step finished, ISO 8601 (UTC, microseconds, `+00:00`).
    pub timestamp: String,
    /// The run this step belongs to.
    pub run_id: String,
    /// 1, 2, 3 … within the run.
    pub step_id: u64,
    /// `solver`, `verifier` or `judge`.
    pub agent: String,
    /// `generate`, `validate` or `score`.
    pub action: String,
    /// What the agent was given (`problem`, `feedback` / `solution`).
    pub input: Map<String, Value>,
    /// What the agent returned, or `{error_type, error_message}` for a failed step.
    pub output: Map<String, Value>,
    /// `iteration` (solver and verifier), `model`, `tokens`, plus Trialogue's extras.
    pub metadata: StepMetadata,
    /// 1.0 / 0.0 on the terminal step of a run with a ground truth, else `null`.
    #[serde(default)]
    pub reward: Option<f64>,
    /// True on the last step of a finished run (the judge's).
    #[serde(default)]
    pub terminal: bool,
    /// Whether the final answer matched the ground truth (terminal step only), else `null`.
    #[serde(default)]
    pub success: Option<bool>,
}

/// The original's token counts, stored under `metadata.tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Prompt tokens (all of them, cached included).
    pub prompt_tokens: u64,
    /// Generated tokens (reasoning included).
    pub completion_tokens: u64,
    /// `prompt_tokens + completion_tokens`.
    pub total_tokens: u64,
}

impl From<&Usage> for TokenUsage {
    fn from(usage: &Usage) -> Self {
        TokenUsage {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
            total_tokens: usage.total_tokens,
        }
    }
}

/// A step's `metadata`: the original's keys (`iteration`, `model`, `tokens`), Trialogue's
/// extras, and every other key a file brought, kept as it was.
///
/// Each known field is `None` when the key is absent. The extras that Trialogue writes as
/// `null` when unknown (`provider`, `cost_usd`, `finish_reason`) are `Option<Option<_>>`:
/// `Some(None)` is a key written as `null`, so a file reads and writes back byte for byte.
///
/// Keys are written in sorted order, nested objects too, as the JSONL format requires. A known
/// key whose value would not be written back as the very same JSON (an integer where Trialogue
/// writes a float, a `tokens` object with more fields, a string where a number belongs) is kept
/// as it was read and written back unchanged, as long as its field is not changed; so nothing a
/// file holds is lost or altered. The fields read such values as leniently as they can.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepMetadata {
    /// Original: the solver/verifier round, from 1 (absent on judge steps).
    pub iteration: Option<u32>,
    /// Original: the configured model string.
    pub model: Option<String>,
    /// Original: the step's token counts.
    pub tokens: Option<TokenUsage>,
    /// Trialogue: the provider id that served the call (`openai`, `local`, …).
    pub provider: Option<Option<String>>,
    /// Trialogue: wall time of the whole call in milliseconds.
    pub latency_ms: Option<f64>,
    /// Trialogue: every HTTP request made for the step.
    pub attempts: Option<Vec<AttemptRecord>>,
    /// Trialogue: how many of those requests were re-asks after an invalid reply.
    pub reasks: Option<u64>,
    /// Trialogue: the full normalized usage (cached and reasoning tokens included).
    pub usage: Option<Usage>,
    /// Trialogue: false when some request reported no usage (the cost is then a lower bound).
    pub usage_complete: Option<bool>,
    /// Trialogue: the step's cost in USD; `Some(None)` when the price was unknown.
    pub cost_usd: Option<Option<f64>>,
    /// Trialogue: the 8-hex-digit hash of the config the run used.
    pub config_hash: Option<String>,
    /// Trialogue: the provider's finish reason for the last request, as reported.
    pub finish_reason: Option<Option<String>>,
    /// Trialogue: the sha-256 address of the request whose reply the step used (reply store).
    pub request_hash: Option<String>,
    /// Trialogue: the run that paid for the step's reply, when it was reused (cost $0 here).
    pub reused_from: Option<String>,
    /// Trialogue: the run's reply reuse policy.
    pub reuse_policy: Option<ReusePolicy>,
    /// Trialogue: what the model thought before its accepted reply, as the provider returned
    /// it (absent when it returned none).
    pub thinking: Option<Thinking>,
    /// Trialogue: whether the accepted reply arrived as a stream (absent for steps stored
    /// before streaming existed, and for failed steps).
    pub streamed: Option<bool>,
    /// Trialogue: milliseconds from sending the accepted request to its first streamed token,
    /// thinking included.
    pub ttft_ms: Option<f64>,
    /// Trialogue: the worst case of the step's requests that got no reply saying what they
    /// cost (a timeout, a dropped connection) and that the provider may still bill; written
    /// only when there were some.
    pub possibly_billed_usd: Option<f64>,
    /// Trialogue: milliseconds from sending the accepted request to the first token of its
    /// answer, after any thinking.
    pub ttfat_ms: Option<f64>,
    /// Trialogue: generated tokens per second of the accepted request, from its first token
    /// to its end.
    pub output_tokens_per_s: Option<f64>,
    /// Trialogue, on a run's last step: why the run stopped.
    pub stop_reason: Option<StopReason>,
    /// Trialogue, on a run's last exported step: where the run stands.
    pub status: Option<RunStatus>,
    /// Trialogue, on a run's last exported step: when the run was created, ISO 8601 UTC.
    pub started_at: Option<String>,
    /// Trialogue, on a run's last exported step: the expected answer; `Some(None)` (`null`)
    /// when the run had none.
    pub ground_truth: Option<Option<String>>,
    /// Trialogue, on a run's last exported step: the answer extracted from the final solution;
    /// `Some(None)` when none was.
    pub extracted_answer: Option<Option<String>>,
    /// Trialogue, on a run's last exported step: the run's config as the config file
    /// Trialogue exports (JSON form).
    pub config: Option<Map<String, Value>>,
    /// Trialogue, only on the steps a fork (or a re-judge) carried over from another run: the
    /// run and step it was copied from. Absent everywhere else, so runs that are no fork keep
    /// the original pipeline's format byte for byte.
    pub forked_from: Option<StepOrigin>,
    /// Every key this struct does not know, as it was read.
    pub other: BTreeMap<String, Value>,
    /// Known keys as a file wrote them, where their field would be written differently.
    as_read: BTreeMap<&'static str, Value>,
}

impl StepMetadata {
    /// The provider id that served the call, when recorded.
    pub fn provider(&self) -> Option<&str> {
        self.provider.as_ref()?.as_deref()
    }

    /// The step's cost in USD, when recorded and known.
    pub fn cost_usd(&self) -> Option<f64> {
        self.cost_usd.flatten()
    }

    /// The provider's finish reason, when recorded.
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish_reason.as_ref()?.as_deref()
    }

    /// Reads a metadata object: known keys into their fields, the rest into `other`.
    pub fn from_object(object: Map<String, Value>) -> StepMetadata {
        let mut m = StepMetadata::default();
        for (key, value) in object {
            let kept = match key.as_str() {
                key::ITERATION => {
                    read_field(&mut m.as_read, key::ITERATION, value, &mut m.iteration)
                }
                key::MODEL => read_field(&mut m.as_read, key::MODEL, value, &mut m.model),
                key::TOKENS => read_field(&mut m.as_read, key::TOKENS, value, &mut m.tokens),
                key::PROVIDER => read_field(&mut m.as_read, key::PROVIDER, value, &mut m.provider),
                key::LATENCY_MS => {
                    read_field(&mut m.as_read, key::LATENCY_MS, value, &mut m.latency_ms)
                }
                key::ATTEMPTS => read_field(&mut m.as_read, key::ATTEMPTS, value, &mut m.attempts),
                key::REASKS => read_field(&mut m.as_read, key::REASKS, value, &mut m.reasks),
                key::USAGE => read_field(&mut m.as_read, key::USAGE, value, &mut m.usage),
                key::USAGE_COMPLETE => read_field(
                    &mut m.as_read,
                    key::USAGE_COMPLETE,
                    value,
                    &mut m.usage_complete,
                ),
                key::COST_USD => read_field(&mut m.as_read, key::COST_USD, value, &mut m.cost_usd),
                key::CONFIG_HASH => {
                    read_field(&mut m.as_read, key::CONFIG_HASH, value, &mut m.config_hash)
                }
                key::FINISH_REASON => read_field(
                    &mut m.as_read,
                    key::FINISH_REASON,
                    value,
                    &mut m.finish_reason,
                ),
                key::REQUEST_HASH => read_field(
                    &mut m.as_read,
                    key::REQUEST_HASH,
                    value,
                    &mut m.request_hash,
                ),
                key::REUSED_FROM => {
                    read_field(&mut m.as_read, key::REUSED_FROM, value, &mut m.reused_from)
                }
                key::REUSE_POLICY => read_field(
                    &mut m.as_read,
                    key::REUSE_POLICY,
                    value,
                    &mut m.reuse_policy,
                ),
                key::THINKING => read_field(&mut m.as_read, key::THINKING, value, &mut m.thinking),
                key::STREAMED => read_field(&mut m.as_read, key::STREAMED, value, &mut m.streamed),
                key::TTFT_MS => read_field(&mut m.as_read, key::TTFT_MS, value, &mut m.ttft_ms),
                key::POSSIBLY_BILLED_USD => read_field(
                    &mut m.as_read,
                    key::POSSIBLY_BILLED_USD,
                    value,
                    &mut m.possibly_billed_usd,
                ),
                key::TTFAT_MS => read_field(&mut m.as_read, key::TTFAT_MS, value, &mut m.ttfat_ms),
                key::OUTPUT_TOKENS_PER_S => read_field(
                    &mut m.as_read,
                    key::OUTPUT_TOKENS_PER_S,
                    value,
                    &mut m.output_tokens_per_s,
                ),
                key::STOP_REASON => {
                    read_field(&mut m.as_read, key::STOP_REASON, value, &mut m.stop_reason)
                }
                key::STATUS => read_field(&mut m.as_read, key::STATUS, value, &mut m.status),
                key::STARTED_AT => {
                    read_field(&mut m.as_read, key::STARTED_AT, value, &mut m.started_at)
                }
                key::GROUND_TRUTH => read_field(
                    &mut m.as_read,
                    key::GROUND_TRUTH,
                    value,
                    &mut m.ground_truth,
                ),
                key::EXTRACTED_ANSWER => read_field(
                    &mut m.as_read,
                    key::EXTRACTED_ANSWER,
                    value,
                    &mut m.extracted_answer,
                ),
                key::CONFIG => read_field(&mut m.as_read, key::CONFIG, value, &mut m.config),
                key::FORKED_FROM => {
                    read_field(&mut m.as_read, key::FORKED_FROM, value, &mut m.forked_from)
                }
                _ => Some(value),
            };
            if let Some(value) = kept {
                m.other.insert(key, value);
            }
        }
        m
    }

    /// The metadata as the JSON object it is written as (keys sorted).
    pub fn to_object(&self) -> Map<String, Value> {
        let mut out: Map<String, Value> = self
            .other
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.write_field(&mut out, key::ITERATION, &self.iteration);
        self.write_field(&mut out, key::MODEL, &self.model);
        self.write_field(&mut out, key::TOKENS, &self.tokens);
        self.write_field(&mut out, key::PROVIDER, &self.provider);
        self.write_field(&mut out, key::LATENCY_MS, &self.latency_ms);
        self.write_field(&mut out, key::ATTEMPTS, &self.attempts);
        self.write_field(&mut out, key::REASKS, &self.reasks);
        self.write_field(&mut out, key::USAGE, &self.usage);
        self.write_field(&mut out, key::USAGE_COMPLETE, &self.usage_complete);
        self.write_field(&mut out, key::COST_USD, &self.cost_usd);
        self.write_field(&mut out, key::CONFIG_HASH, &self.config_hash);
        self.write_field(&mut out, key::FINISH_REASON, &self.finish_reason);
        self.write_field(&mut out, key::REQUEST_HASH, &self.request_hash);
        self.write_field(&mut out, key::REUSED_FROM, &self.reused_from);
        self.write_field(&mut out, key::REUSE_POLICY, &self.reuse_policy);
        self.write_field(&mut out, key::THINKING, &self.thinking);
        self.write_field(&mut out, key::STREAMED, &self.streamed);
        self.write_field(&mut out, key::TTFT_MS, &self.ttft_ms);
        self.write_field(
            &mut out,
            key::POSSIBLY_BILLED_USD,
            &self.possibly_billed_usd,
        );
        self.write_field(&mut out, key::TTFAT_MS, &self.ttfat_ms);
        self.write_field(
            &mut out,
            key::OUTPUT_TOKENS_PER_S,
            &self.output_tokens_per_s,
        );
        self.write_field(&mut out, key::STOP_REASON, &self.stop_reason);
        self.write_field(&mut out, key::STATUS, &self.status);
        self.write_field(&mut out, key::STARTED_AT, &self.started_at);
        self.write_field(&mut out, key::GROUND_TRUTH, &self.ground_truth);
        self.write_field(&mut out, key::EXTRACTED_ANSWER, &self.extracted_answer);
        self.write_field(&mut out, key::CONFIG, &self.config);
        self.write_field(&mut out, key::FORKED_FROM, &self.forked_from);
        out
    }

    /// Puts `field` under `key`: as it was read when it still reads as the field's value, else
    /// the field as Trialogue writes it; nothing when the field is absent.
    fn write_field<T: Serialize + DeserializeOwned + PartialEq>(
        &self,
        out: &mut Map<String, Value>,
        key: &'static str,
        field: &Option<T>,
    ) {
        let value = match self.as_read.get(key) {
            Some(raw) if T::deserialize(raw).ok().as_ref() == field.as_ref() => Some(raw.clone()),
            _ => field.as_ref().and_then(|v| serde_json::to_value(v).ok()),
        };
        if let Some(value) = value {
            out.insert(key.to_string(), value);
        }
    }
}

/// Reads `value` into `field`; keeps the value as read when the field would not be written
/// back as the same JSON (or cannot hold it at all). Always `None`: a known key never goes to
/// `other`.
fn read_field<T: Serialize + DeserializeOwned>(
    as_read: &mut BTreeMap<&'static str, Value>,
    key: &'static str,
    value: Value,
    field: &mut Option<T>,
) -> Option<Value> {
    match T::deserialize(&value) {
        Ok(typed) => {
            if serde_json::to_value(&typed).ok().as_ref() != Some(&value) {
                as_read.insert(key, value);
            }
            *field = Some(typed);
        }
        Err(_) => {
            as_read.insert(key, value);
        }
    }
    None
}

impl Serialize for StepMetadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_object().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for StepMetadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(StepMetadata::from_object)
    }
}

/// The metadata keys, the original's first, then Trialogue's extras.
pub(crate) mod key {
    /// Original: the solver/verifier round, from 1 (absent on judge steps).
    pub const ITERATION: &str = "iteration";
    /// Original: the configured model string.
    pub const MODEL: &str = "model";
    /// Original: `super::TokenUsage`.
    pub const TOKENS: &str = "tokens";
    /// Trialogue: the provider id that served the call (`openai`, `local`, …).
    pub const PROVIDER: &str = "provider";
    /// Trialogue: wall time of the whole call in milliseconds.
    pub const LATENCY_MS: &str = "latency_ms";
    /// Trialogue: every HTTP request made for the step .
    pub const ATTEMPTS: &str = "attempts";
    /// Trialogue: how many of those requests were re-asks after an invalid reply.
    pub const REASKS: &str = "reasks";
    /// Trialogue: the full normalized usage (cached and reasoning tokens included).
    pub const USAGE: &str = "usage";
    /// Trialogue: false when some request reported no usage (the cost is then a lower bound).
    pub const USAGE_COMPLETE: &str = "usage_complete";
    /// Trialogue: the step's cost in USD, or `null` when the price is unknown.
    pub const COST_USD: &str = "cost_usd";
    /// Trialogue: the 8-hex-digit hash of the config the run used.
    pub const CONFIG_HASH: &str = "config_hash";
    /// Trialogue: the provider's finish reason for the last request, as reported.
    pub const FINISH_REASON: &str = "finish_reason";
    /// Trialogue: the sha-256 address of the request whose reply the step used.
    pub const REQUEST_HASH: &str = "request_hash";
    /// Trialogue: the run that paid for a reused reply.
    pub const REUSED_FROM: &str = "reused_from";
    /// Trialogue: the run's reply reuse policy.
    pub const REUSE_POLICY: &str = "reuse_policy";
    /// Trialogue: the thinking the provider returned (text, or its signed/redacted blocks).
    pub const THINKING: &str = "thinking";
    /// Trialogue: whether the accepted reply was streamed.
    pub const STREAMED: &str = "streamed";
    /// Trialogue: time to the first streamed token, in milliseconds.
    pub const TTFT_MS: &str = "ttft_ms";
    /// Trialogue: the worst case of requests that got no reply, which may still be billed.
    pub const POSSIBLY_BILLED_USD: &str = "possibly_billed_usd";
    /// Trialogue: time to the first answer token (after thinking), in milliseconds.
    pub const TTFAT_MS: &str = "ttfat_ms";
    /// Trialogue: generated tokens per second after the first token.
    pub const OUTPUT_TOKENS_PER_S: &str = "output_tokens_per_s";
    /// Trialogue, run's last step: why the run stopped.
    pub const STOP_REASON: &str = "stop_reason";
    /// Trialogue, run's last exported step: the run's status.
    pub const STATUS: &str = "status";
    /// Trialogue, run's last exported step: when the run was created.
    pub const STARTED_AT: &str = "started_at";
    /// Trialogue, run's last exported step: the expected answer, or `null`.
    pub const GROUND_TRUTH: &str = "ground_truth";
    /// Trialogue, run's last exported step: the answer extracted from the final solution.
    pub const EXTRACTED_ANSWER: &str = "extracted_answer";
    /// Trialogue, run's last exported step: the run's config (the JSON config file's form).
    pub const CONFIG: &str = "config";
    /// Trialogue, on steps a fork carried over: `{run_id, step_id}` of the source step.
    pub const FORKED_FROM: &str = "forked_from";
}

/// Where a carried step came from: a step of another run (`metadata.forked_from`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepOrigin {
    /// The source run.
    pub run_id: String,
    /// The source step's id in that run.
    pub step_id: u64,
}

/// How a run was derived from another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DerivationKind {
    /// Forked at a step with an edited config: the steps before it carried over, the rest
    /// called live.
    Fork,
    /// Judged again with another judge config: every step but the judge's carried over, and
    /// only the judge called.
    Rejudge,
}

impl DerivationKind {
    /// Its stored name (`fork`, `rejudge`).
    pub fn as_str(self) -> &'static str {
        match self {
            DerivationKind::Fork => "fork",
            DerivationKind::Rejudge => "rejudge",
        }
    }

    /// The word shown for it.
    pub fn label(self) -> &'static str {
        match self {
            DerivationKind::Fork => "fork",
            DerivationKind::Rejudge => "re-judge",
        }
    }
}

/// A run made from another stored run (a fork, a re-judge), on the new run's record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunOrigin {
    /// Fork or re-judge.
    pub kind: DerivationKind,
    /// The source run, which is never changed.
    pub run_id: String,
    /// The source step the new run went live from (the steps before it were carried).
    pub step_id: u64,
}

/// Keys of the `output` object of a failed step.
pub mod error_output {
    /// A short machine-readable kind (`Http`, `Cancelled`, `invalid_output`, …).
    pub const ERROR_TYPE: &str = "error_type";
    /// The error as a sentence.
    pub const ERROR_MESSAGE: &str = "error_message";
}

impl TrajectoryEntry {
    /// The agent as a role, if it is one of the three.
    pub fn role(&self) -> Option<AgentRole> {
        AgentRole::ALL
            .into_iter()
            .find(|r| r.as_str() == self.agent)
    }

    /// Whether this step records a failed call (its output carries `error_type`).
    pub fn is_error(&self) -> bool {
        self.output.contains_key(error_output::ERROR_TYPE)
    }

    /// `metadata.iteration`, when present and a non-negative integer.
    pub fn iteration(&self) -> Option<u32> {
        self.metadata.iteration
    }

    /// `metadata.tokens`, when present and well-formed.
    pub fn tokens(&self) -> Option<TokenUsage> {
        self.metadata.tokens
    }

    /// The step's usage: Trialogue's full `metadata.usage` if present, else one rebuilt from the
    /// original's `metadata.tokens` (without the cached/reasoning split), else `None`.
    pub fn usage(&self) -> Option<Usage> {
        if let Some(usage) = self.metadata.usage {
            return Some(usage);
        }
        self.tokens().map(|t| Usage {
            input_tokens: t.prompt_tokens,
            output_tokens: t.completion_tokens,
            total_tokens: t.total_tokens,
            ..Usage::default()
        })
    }

    /// `metadata.cost_usd`, when present and a number.
    pub fn cost_usd(&self) -> Option<f64> {
        self.metadata.cost_usd()
    }

    /// Whether a fork carried this step from another run (`metadata.forked_from`): its line
    /// keeps what its call cost, but that run paid for it.
    pub fn is_carried(&self) -> bool {
        self.metadata.forked_from.is_some()
    }

    /// What the step cost its own run: its stored cost, or nothing for a carried step (its
    /// source run counts it; counting it here too would count one payment twice).
    pub fn spent_usd(&self) -> Option<f64> {
        if self.is_carried() {
            Some(0.0)
        } else {
            self.cost_usd()
        }
    }

    /// `metadata.usage_complete`; entries without it (the original's) count as complete.
    pub fn usage_complete(&self) -> bool {
        self.metadata.usage_complete.unwrap_or(true)
    }

    /// `metadata.possibly_billed_usd`: what the step's unanswered requests may have cost (0
    /// when none, or when the value is not a non-negative finite number).
    pub fn possibly_billed_usd(&self) -> f64 {
        self.metadata
            .possibly_billed_usd
            .filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(0.0)
    }

    /// A string field of `output` (e.g. `solution`, `critique`), when present.
    pub fn output_str(&self, key: &str) -> Option<&str> {
        self.output.get(key).and_then(Value::as_str)
    }
}

/// Builds a run id `run_<YYYYMMDD>_<HHMMSS>_<config_hash>` (UTC) as the original did.
///
/// Two runs of one config started within the same second would collide, so when `taken`
/// says the plain id is in use a suffix `_2`, `_3`, … is added; ids from the original never
/// carry one, and a run started alone never gets one.
pub fn run_id(epoch_ms: f64, config_hash: &str, taken: impl Fn(&str) -> bool) -> String {
    let base = format!("run_{}_{}", compact_utc(epoch_ms), config_hash);
    if !taken(&base) {
        return base;
    }
    (2u64..)
        .map(|n| format!("{base}_{n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or(base)
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Steps are being made.
    Running,
    /// The loop produced an answer and the judge's step ended the run (failed steps on the way
    /// are counted in the record's `errors`).
    Completed,
    /// No answer was produced (every solver call failed), or the run stopped on an error that
    /// is not a step's (storage failed, a prompt could not be rendered).
    Failed,
    /// The user cancelled it.
    Cancelled,
    /// The page went away mid-run; it can be resumed from its committed steps.
    Interrupted,
    /// A budget refused the next call.
    BudgetExceeded,
}

impl RunStatus {
    /// Every status, in the order the UI lists them.
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Interrupted,
        RunStatus::BudgetExceeded,
    ];

    /// The status stored under `name` (`completed`, …), if any.
    pub fn named(name: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The snake_case name shown in the UI and stored in records.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
            RunStatus::BudgetExceeded => "budget_exceeded",
        }
    }

    /// Whether a run in this status may still be continued with `resume`.
    pub fn is_resumable(self) -> bool {
        !matches!(self, RunStatus::Completed)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a run stopped: why its solver/verifier loop handed over to the judge, or why the run
/// stopped before the judge. Stored on the run's record and as `metadata.stop_reason` of its
/// last step in exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The verifier passed the solution.
    Passed,
    /// `max_iterations` rounds were made without a pass.
    MaxIterations,
    /// The critiques started repeating themselves.
    Circular,
    /// Baseline mode: one solver call, no verifier.
    Baseline,
    /// A budget refused the next call.
    Budget,
    /// The user cancelled the run.
    Cancelled,
    /// An error ended it: the same request failed the same way twice, storage failed, or a
    /// prompt could not be rendered.
    Error,
    /// The provider failed (an outage, a rate-limit storm, an exhausted quota) after every
    /// retry: no answer of the model's was had, so the run is resumable and a batch lists it
    /// among its provider errors rather than its answers.
    Provider,
}

impl StopReason {
    /// Every reason, in the order the UI lists them.
    pub const ALL: [StopReason; 8] = [
        StopReason::Passed,
        StopReason::MaxIterations,
        StopReason::Circular,
        StopReason::Baseline,
        StopReason::Budget,
        StopReason::Cancelled,
        StopReason::Error,
        StopReason::Provider,
    ];

    /// The snake_case name stored in records and JSONL.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Passed => "passed",
            StopReason::MaxIterations => "max_iterations",
            StopReason::Circular => "circular",
            StopReason::Baseline => "baseline",
            StopReason::Budget => "budget",
            StopReason::Cancelled => "cancelled",
            StopReason::Error => "error",
            StopReason::Provider => "provider",
        }
    }

    /// Whether the solver/verifier loop ran to its end: only then does the verifier's verdict
    /// say something (a baseline run has no verifier; a cancelled or budget-stopped run was cut
    /// off before its verdict).
    pub fn ends_the_loop(self) -> bool {
        matches!(
            self,
            StopReason::Passed
                | StopReason::MaxIterations
                | StopReason::Circular
                | StopReason::Error
        )
    }

    /// The verifier's verdict of a run that stopped for `reason` with `passed`: `None` where it
    /// does not apply (see [`Self::ends_the_loop`]).
    pub fn verdict(reason: Option<StopReason>, passed: bool) -> Option<bool> {
        reason.filter(|r| r.ends_the_loop()).map(|_| passed)
    }

    /// What it means, as a few words for people.
    pub fn label(self) -> &'static str {
        match self {
            StopReason::Passed => "the verifier passed the solution",
            StopReason::MaxIterations => "the iterations ran out",
            StopReason::Circular => "the critiques went circular",
            StopReason::Baseline => "baseline: one solver call",
            StopReason::Budget => "a budget refused the next call",
            StopReason::Cancelled => "cancelled",
            StopReason::Error => "an error stopped it",
            StopReason::Provider => "the provider failed",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Totals over a run's entries: what the runs table and the summaries show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTotals {
    /// Number of entries.
    pub steps: u64,
    /// The highest `metadata.iteration` seen (0 when none).
    pub iterations: u32,
    /// Whether a verifier step passed.
    pub passed: bool,
    /// The judge's score, if a judge step scored (`None` when the judge's call failed: a
    /// failed call is no score).
    pub judge_score: Option<f64>,
    /// The terminal step's `success`, if any.
    pub correct: Option<bool>,
    /// Steps whose call failed.
    #[serde(default)]
    pub errors: u64,
    /// Usage summed over every step.
    pub usage: Usage,
    /// Cost summed over the steps whose cost is known, `None` when none is.
    pub cost_usd: Option<f64>,
    /// True when every step's usage was complete and its cost known.
    pub cost_complete: bool,
    /// Whether the terminal step (the judge's) is among them: the run is over.
    #[serde(default)]
    pub judged: bool,
    /// The steps' possibly billed requests, in USD (see
    /// [`TrajectoryEntry::possibly_billed_usd`]).
    #[serde(default)]
    pub possibly_billed_usd: f64,
}

impl Default for StepTotals {
    /// No steps: nothing spent, and nothing unpriced yet.
    fn default() -> Self {
        StepTotals {
            steps: 0,
            iterations: 0,
            passed: false,
            judge_score: None,
            correct: None,
            errors: 0,
            usage: Usage::default(),
            cost_usd: None,
            cost_complete: true,
            judged: false,
            possibly_billed_usd: 0.0,
        }
    }
}

impl StepTotals {
    /// Sums up `entries` (any order, one run).
    pub fn of(entries: &[TrajectoryEntry]) -> Self {
        let mut totals = StepTotals::default();
        for entry in entries {
            totals.add(entry);
        }
        totals
    }

    /// Adds one entry to the totals.
    pub fn add(&mut self, entry: &TrajectoryEntry) {
        self.steps += 1;
        if entry.is_error() {
            self.errors += 1;
        }
        if let Some(i) = entry.iteration() {
            self.iterations = self.iterations.max(i);
        }
        match entry.role() {
            Some(AgentRole::Verifier)
                if entry.output.get("passed").and_then(Value::as_bool) == Some(true) =>
            {
                self.passed = true;
            }
            Some(AgentRole::Judge) => {
                self.judge_score = entry.output.get("score").and_then(Value::as_f64);
            }
            _ => {}
        }
        if entry.terminal {
            self.correct = entry.success;
            self.judged = true;
        }
        if let Some(usage) = entry.usage() {
            self.usage.add(&usage);
        }
        match entry.spent_usd() {
            Some(cost) => *self.cost_usd.get_or_insert(0.0) += cost,
            None => self.cost_complete = false,
        }
        if !entry.usage_complete() && !entry.is_carried() {
            self.cost_complete = false;
        }
        if !entry.is_carried() {
            self.possibly_billed_usd += entry.possibly_billed_usd();
        }
    }
}

/// One row of the runs table: what a run was, and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run id (also every entry's `run_id`).
    pub run_id: String,
    /// Where it stands.
    pub status: RunStatus,
    /// Why it stopped early (failed, cancelled, budget), as a sentence.
    #[serde(default)]
    pub message: Option<String>,
    /// Debate or baseline.
    pub mode: Mode,
    /// The config's 8-hex-digit hash.
    pub config_hash: String,
    /// The config the run used; `None` for runs imported from JSONL (the file has no config).
    #[serde(default)]
    pub config: Option<PipelineConfig>,
    /// The problem text.
    pub problem: String,
    /// The expected answer, if known.
    #[serde(default)]
    pub ground_truth: Option<String>,
    /// When the run was created, epoch milliseconds (UTC).
    pub created_ms: f64,
    /// When the record last changed, epoch milliseconds (UTC).
    pub updated_ms: f64,
    /// The batch that started it, if any.
    #[serde(default)]
    pub batch_id: Option<String>,
    /// Solver rounds made.
    pub iterations: u32,
    /// Whether the verifier passed a solution.
    pub passed: bool,
    /// The judge's score, once scored.
    #[serde(default)]
    pub judge_score: Option<f64>,
    /// Whether the final answer matched the ground truth (only with a ground truth).
    #[serde(default)]
    pub correct: Option<bool>,
    /// Usage summed over every step.
    pub usage: Usage,
    /// Cost in USD of the steps whose price is known; `None` when no price is known.
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// True when every step's usage was complete and priced.
    #[serde(default)]
    pub cost_complete: bool,
    /// Committed steps.
    pub step_count: u64,
    /// Committed steps whose call failed.
    #[serde(default)]
    pub errors: u64,
    /// Why the run stopped, once it has.
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The answer extracted from the final solution (runs with a ground truth).
    #[serde(default)]
    pub extracted_answer: Option<String>,
    /// Whether the judge's step (the terminal one) is committed. Such a run is over, whatever
    /// its status (a run that produced no answer is `failed` after its judge step): nothing is
    /// left to resume.
    #[serde(default)]
    pub judged: bool,
    /// The worst case of the run's requests that got no reply saying what they cost (timeouts,
    /// dropped connections, calls in flight when a tab was closed), in USD: the provider may
    /// still bill them. Shown as "at most … unaccounted"; not in `cost_usd`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub possibly_billed_usd: f64,
    /// Whether the run was read from a JSONL file. Its lines are exported as they were read
    /// (see [`run_facts`](crate::core::run_facts)), so an imported file comes back byte for
    /// byte.
    #[serde(default)]
    pub imported: bool,
    /// The run this one was forked or re-judged from; `None` for a run of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<RunOrigin>,
}

impl RunRecord {
    /// A fresh record for a run about to start.
    pub fn start(
        run_id: impl Into<String>,
        config: &PipelineConfig,
        config_hash: impl Into<String>,
        problem: impl Into<String>,
        ground_truth: Option<String>,
        now_ms: f64,
    ) -> Self {
        RunRecord {
            run_id: run_id.into(),
            status: RunStatus::Running,
            message: None,
            mode: config.mode,
            config_hash: config_hash.into(),
            config: Some(config.clone()),
            problem: problem.into(),
            ground_truth,
            created_ms: now_ms,
            updated_ms: now_ms,
            batch_id: None,
            iterations: 0,
            passed: false,
            judge_score: None,
            correct: None,
            usage: Usage::default(),
            cost_usd: None,
            cost_complete: true,
            step_count: 0,
            errors: 0,
            stop_reason: None,
            extracted_answer: None,
            judged: false,
            possibly_billed_usd: 0.0,
            imported: false,
            derived_from: None,
        }
    }

    /// A record for a run read from a JSONL file (ours or the original's), built from its
    /// entries: status `completed` if a terminal step is there, else `interrupted`. The problem
    /// comes from the first entry's `input.problem`; the config hash from `metadata.config_hash`
    /// or, failing that, the run id's last `_` part.
    pub fn from_entries(run_id: &str, entries: &[TrajectoryEntry], now_ms: f64) -> Self {
        let totals = StepTotals::of(entries);
        let problem = entries
            .iter()
            .find_map(|e| e.input.get("problem").and_then(Value::as_str))
            .unwrap_or_default()
            .to_string();
        let config_hash = entries
            .iter()
            .find_map(|e| e.metadata.config_hash.clone())
            .unwrap_or_else(|| hash_from_run_id(run_id));
        let has_verifier = entries
            .iter()
            .any(|e| e.role() == Some(AgentRole::Verifier));
        let status = if entries.iter().any(|e| e.terminal) {
            RunStatus::Completed
        } else {
            RunStatus::Interrupted
        };
        let mut record = RunRecord {
            run_id: run_id.to_string(),
            status,
            message: None,
            mode: if has_verifier {
                Mode::Debate
            } else {
                Mode::Baseline
            },
            config_hash,
            config: None,
            problem,
            ground_truth: None,
            created_ms: now_ms,
            updated_ms: now_ms,
            batch_id: None,
            iterations: 0,
            passed: false,
            judge_score: None,
            correct: None,
            usage: Usage::default(),
            cost_usd: None,
            cost_complete: true,
            step_count: 0,
            errors: 0,
            stop_reason: None,
            extracted_answer: None,
            judged: false,
            possibly_billed_usd: 0.0,
            imported: true,
            derived_from: None,
        };
        record.apply_totals(&totals, now_ms);
        crate::core::run_facts::RunFacts::of(entries).apply_to(&mut record);
        record
    }

    /// The totals the record's summary fields hold.
    pub fn totals(&self) -> StepTotals {
        StepTotals {
            steps: self.step_count,
            iterations: self.iterations,
            passed: self.passed,
            judge_score: self.judge_score,
            correct: self.correct,
            errors: self.errors,
            usage: self.usage,
            cost_usd: self.cost_usd,
            cost_complete: self.cost_complete,
            judged: self.judged,
            possibly_billed_usd: self.possibly_billed_usd,
        }
    }

    /// Whether the run can be continued with `resume`: it stopped before its judge step
    /// (cancelled, interrupted, stopped by a budget or an error), and it is not going (a stored
    /// `running` run is going in some tab; one a closed tab left behind is marked
    /// `interrupted` when the app loads).
    pub fn resumable(&self) -> bool {
        !self.judged && self.status.is_resumable() && self.status != RunStatus::Running
    }

    /// Counts one more committed step in the summary fields: the record as stored with it.
    /// The terminal step (the judge's) ends the run: once it is committed the run is
    /// `completed` (or `failed`, when the step says no answer was produced), so the record
    /// says so in the same write.
    pub fn add_step(&mut self, entry: &TrajectoryEntry, now_ms: f64) {
        let mut totals = self.totals();
        totals.add(entry);
        self.apply_totals(&totals, now_ms);
        if entry.terminal {
            self.status = entry.metadata.status.unwrap_or(RunStatus::Completed);
            self.stop_reason = entry.metadata.stop_reason.or(self.stop_reason);
            if let Some(answer) = &entry.metadata.extracted_answer {
                self.extracted_answer.clone_from(answer);
            }
            self.message = None;
        }
    }

    /// Whether storing this record would change nothing in `stored` but its time: the final
    /// summary of a run its last step already wrote, which needs no write of its own.
    pub fn matches_stored(&self, stored: &RunRecord) -> bool {
        self == &RunRecord {
            updated_ms: self.updated_ms,
            ..stored.clone()
        }
    }

    /// Copies the totals into the record's summary fields.
    pub fn apply_totals(&mut self, totals: &StepTotals, now_ms: f64) {
        self.iterations = totals.iterations;
        self.passed = totals.passed;
        self.judge_score = totals.judge_score;
        self.correct = totals.correct;
        self.usage = totals.usage;
        self.cost_usd = totals.cost_usd;
        self.cost_complete = totals.cost_complete;
        self.step_count = totals.steps;
        self.errors = totals.errors;
        self.judged = totals.judged;
        self.possibly_billed_usd = totals.possibly_billed_usd;
        self.updated_ms = now_ms;
    }
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

fn hash_from_run_id(run_id: &str) -> String {
    // `run_YYYYMMDD_HHMMSS_hash[_n]`: the hash is the fourth `_`-separated part.
    run_id.split('_').nth(3).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(line: &str) -> TrajectoryEntry {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn run_id_matches_the_original_form_and_adds_a_suffix_only_when_taken() {
        // 2026-11-24T21:10:09.123Z
        let ms = 1_795_554_609_123.0;
        assert_eq!(
            run_id(ms, "ab12cd34", |_| false),
            "run_20261124_211009_ab12cd34"
        );
        let taken = [
            "run_20261124_211009_ab12cd34",
            "run_20261124_211009_ab12cd34_2",
        ];
        assert_eq!(
            run_id(ms, "ab12cd34", |id| taken.contains(&id)),
            "run_20261124_211009_ab12cd34_3"
        );
    }

    #[test]
    fn entry_serializes_nulls_and_field_order_like_the_original() {
        let e = TrajectoryEntry {
            timestamp: "2026-01-01T00:00:00.000000+00:00".into(),
            run_id: "run_20260101_000000_0badf00d".into(),
            step_id: 1,
            agent: "solver".into(),
            action: "generate".into(),
            input: Map::new(),
            output: Map::new(),
            metadata: StepMetadata::default(),
            reward: None,
            terminal: false,
            success: None,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"timestamp":"2026-01-01T00:00:00.000000+00:00","run_id":"run_20260101_000000_0badf00d","step_id":1,"agent":"solver","action":"generate","input":{},"output":{},"metadata":{},"reward":null,"terminal":false,"success":null}"#
        );
    }

    fn metadata(json: &str) -> StepMetadata {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn metadata_keys_it_does_not_know_and_values_of_odd_shapes_survive_a_round_trip() {
        // An unknown key, an integer latency, a string iteration, tokens with an extra field,
        // and partial usage: each written back exactly as read.
        let line = r#"{"iteration":"2","latency_ms":250,"model":"m","note":{"a":[true],"b":1},"tokens":{"completion_tokens":3,"prompt_tokens":7,"prompt_tokens_details":{"cached":1},"total_tokens":10},"usage":{"input_tokens":7,"output_tokens":3,"total_tokens":10}}"#;
        let m = metadata(line);
        assert_eq!(serde_json::to_string(&m).unwrap(), line);
        assert_eq!(m.other.keys().collect::<Vec<_>>(), ["note"]);
        // Read as leniently as the fields allow.
        assert_eq!(m.iteration, None);
        assert_eq!(m.latency_ms, Some(250.0));
        assert_eq!(m.tokens.map(|t| t.total_tokens), Some(10));
        assert_eq!(m.usage.map(|u| u.cache_read_tokens), Some(0));
        assert_eq!(m.model.as_deref(), Some("m"));
    }

    #[test]
    fn a_changed_field_is_written_as_changed_even_when_it_was_read_in_another_form() {
        let mut m = metadata(r#"{"latency_ms":250,"cost_usd":null,"zeta":1}"#);
        m.latency_ms = Some(12.5);
        m.cost_usd = Some(Some(0.25));
        m.iteration = Some(3);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"cost_usd":0.25,"iteration":3,"latency_ms":12.5,"zeta":1}"#
        );
        m.latency_ms = None;
        m.cost_usd = None;
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"iteration":3,"zeta":1}"#
        );
    }

    #[test]
    fn absent_and_null_stay_apart() {
        let absent = metadata(r#"{"model":"m"}"#);
        let null = metadata(r#"{"model":"m","provider":null,"cost_usd":null}"#);
        assert_eq!((absent.provider.clone(), absent.cost_usd), (None, None));
        assert_eq!(
            (null.provider.clone(), null.cost_usd),
            (Some(None), Some(None))
        );
        assert_eq!(absent.provider(), None);
        assert_eq!(null.cost_usd(), None);
        assert_eq!(serde_json::to_string(&absent).unwrap(), r#"{"model":"m"}"#);
        assert_eq!(
            serde_json::to_string(&null).unwrap(),
            r#"{"cost_usd":null,"model":"m","provider":null}"#
        );
    }

    #[test]
    fn usage_falls_back_to_the_original_tokens() {
        let e = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":1,"agent":"judge","action":"score","input":{},"output":{"score":0.5},"metadata":{"model":"gpt-4o","tokens":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}}"#,
        );
        assert_eq!(
            e.usage(),
            Some(Usage {
                input_tokens: 7,
                output_tokens: 3,
                total_tokens: 10,
                ..Usage::default()
            })
        );
        assert!(e.usage_complete());
        assert_eq!(e.cost_usd(), None);
        assert_eq!(e.role(), Some(AgentRole::Judge));
        assert_eq!(e.iteration(), None);
    }

    #[test]
    fn totals_sum_usage_and_cost_and_flag_unknown_prices() {
        let mut a = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":1,"agent":"solver","action":"generate","input":{"problem":"p"},"output":{"solution":"4"},"metadata":{"iteration":2,"cost_usd":0.25,"usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15,"cache_read_tokens":4}}}"#,
        );
        let b = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":2,"agent":"judge","action":"score","input":{},"output":{"score":0.75},"metadata":{"cost_usd":0.5},"terminal":true,"success":true,"reward":1.0}"#,
        );
        let t = StepTotals::of(&[a.clone(), b.clone()]);
        assert_eq!(t.steps, 2);
        assert_eq!(t.iterations, 2);
        assert_eq!(t.judge_score, Some(0.75));
        assert_eq!(t.correct, Some(true));
        assert_eq!(t.usage.cache_read_tokens, 4);
        assert_eq!(t.cost_usd, Some(0.75));
        assert!(t.cost_complete);
        a.metadata.cost_usd = None;
        let t = StepTotals::of(&[a, b]);
        assert_eq!(t.cost_usd, Some(0.5));
        assert!(!t.cost_complete);
    }

    #[test]
    fn a_record_counting_steps_one_by_one_holds_the_totals_of_all_of_them() {
        let a = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":1,"agent":"solver","action":"generate","input":{"problem":"p"},"output":{"solution":"4"},"metadata":{"iteration":1,"cost_usd":0.25,"usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}}"#,
        );
        let b = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":2,"agent":"verifier","action":"critique","input":{},"output":{"passed":true},"metadata":{"iteration":1}}"#,
        );
        let c = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":3,"agent":"judge","action":"score","input":{},"output":{"score":0.5},"metadata":{"cost_usd":0.5,"usage":{"input_tokens":3,"output_tokens":2,"total_tokens":5}},"terminal":true,"success":false,"reward":0.0}"#,
        );
        let mut record = RunRecord::from_entries("r", &[], 1.0);
        for (i, e) in [&a, &b, &c].into_iter().enumerate() {
            record.add_step(e, 10.0 + i as f64);
        }
        assert_eq!(record.totals(), StepTotals::of(&[a, b, c]));
        assert_eq!(record.step_count, 3);
        assert_eq!(record.usage.total_tokens, 20);
        // b has no usage, so the cost is known but not complete.
        assert!(!record.cost_complete);
        assert_eq!(record.correct, Some(false));
        assert_eq!(record.updated_ms, 12.0);
        // c is the terminal step: the run is complete once it is stored.
        assert_eq!(record.status, RunStatus::Completed);
        let mut later = record.clone();
        later.updated_ms = 99.0;
        assert!(later.matches_stored(&record));
        later.cost_usd = Some(0.75 + 1e-12);
        assert!(!later.matches_stored(&record));
    }

    #[test]
    fn a_step_before_the_terminal_one_leaves_the_status_alone() {
        let mut record = RunRecord::from_entries("r", &[], 1.0);
        record.status = RunStatus::Running;
        record.message = Some("resumed".into());
        let solver = entry(
            r#"{"timestamp":"t","run_id":"r","step_id":1,"agent":"solver","action":"generate","input":{"problem":"p"},"output":{"solution":"4"},"metadata":{"iteration":1}}"#,
        );
        record.add_step(&solver, 2.0);
        assert_eq!(record.status, RunStatus::Running);
        assert_eq!(record.message.as_deref(), Some("resumed"));
    }

    #[test]
    fn the_verdict_applies_only_to_a_loop_that_ran_to_its_end() {
        assert_eq!(
            StopReason::verdict(Some(StopReason::Passed), true),
            Some(true)
        );
        assert_eq!(
            StopReason::verdict(Some(StopReason::MaxIterations), false),
            Some(false)
        );
        for cut_off in [
            None,
            Some(StopReason::Baseline),
            Some(StopReason::Cancelled),
            Some(StopReason::Budget),
        ] {
            assert_eq!(StopReason::verdict(cut_off, false), None, "{cut_off:?}");
        }
        for reason in StopReason::ALL {
            let name = serde_json::to_value(reason).unwrap();
            assert_eq!(name, json!(reason.as_str()));
        }
    }

    #[test]
    fn record_from_imported_entries_recovers_hash_problem_and_status() {
        let e = entry(
            r#"{"timestamp":"t","run_id":"run_20250101_120000_deadbeef","step_id":1,"agent":"solver","action":"generate","input":{"problem":"2+2?","feedback":""},"output":{"solution":"4"},"metadata":{"iteration":1}}"#,
        );
        let r = RunRecord::from_entries("run_20250101_120000_deadbeef", &[e], 5.0);
        assert_eq!(r.config_hash, "deadbeef");
        assert_eq!(r.problem, "2+2?");
        assert_eq!(r.status, RunStatus::Interrupted);
        assert_eq!(r.mode, Mode::Baseline);
        assert_eq!(r.step_count, 1);
        assert_eq!(json!(r.status), json!("interrupted"));
        assert_eq!(json!(RunStatus::BudgetExceeded), json!("budget_exceeded"));
    }
}

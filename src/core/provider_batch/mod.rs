//! Provider batch mode: a batch's calls go to the providers' batch APIs (half the price, outside
//! the live rate limits) instead of one by one, and the loop runs in rounds.
//!
//! Nothing here runs a loop of its own. The batch is driven by the one
//! [`BatchDriver`](crate::core::driver::BatchDriver), each item's run by the
//! [`RunDriver`](crate::core::driver::RunDriver), each call by the live
//! [`LlmClient`](crate::core::llm::client::LlmClient): the same request bodies (same structured
//! output mode), the same validation and re-asks. Only the transport differs ([`hub`]): a
//! request is held until every item in flight waits on one, then the round's requests go up as
//! one provider batch per provider, and each reply comes back to the call that made it, as the
//! live response would have. A re-ask, the verifier's turn, the next revision and the judge are
//! the next requests their runs make, so they form the next round; an expired or errored
//! request is retried by the client's policy, which puts it in the next round too.
//!
//! - [`CustomId`]: a request's id in a provider batch (run, step, attempt).
//! - [`BatchApi`]: what the hub asks of a batch API family, as pure request builders and
//!   response readers; [`BatchFamily::api`] is the one dispatch point.
//! - [`openai`]: the OpenAI Batch API (and OpenAI-compatible servers that implement it).
//! - [`anthropic`]: Anthropic's Message Batches API.
//! - [`gemini`]: Gemini's batch mode (`batchGenerateContent`, with inline requests, or above
//!   the inline size limit with a JSONL file uploaded through the Files API).
//! - [`journal`]: what is durable: each round's provider batch id, its custom ids and, once
//!   it ended, its results, written before the submit returns.
//! - [`hub`]: rounds over the journal and the provider; the per-run LLM that sends through it.
//! - [`engine`]: what driving in rounds needs ([`RoundEngine`]), and a batch in provider batch
//!   mode through the batch driver.
//! - [`turnaround`]: how long a batch will take: rounds per item × the turnaround learned from
//!   the user's past provider batches.

pub mod anthropic;
pub mod engine;
pub mod gemini;
pub mod hub;
pub mod journal;
pub mod openai;
pub mod turnaround;

pub use engine::{ProviderBatchEngine, ProviderBatchOptions, RoundEngine};
pub use hub::{BatchSource, Exchanged, ParkedListener, RoundHub, RoundListener, RoundView};
pub use journal::{BatchJournal, MemoryJournal, RoundRecord, RoundStatus};

use serde::{Deserialize, Serialize};

use crate::core::hash::sha256_hex;
use crate::core::llm::chat::{HttpRequest, HttpResponse};
use crate::core::providers::{ProviderKind, ProviderSettings};

/// Which batch API serves a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchFamily {
    /// OpenAI's Batch API, or an OpenAI-compatible server that implements it.
    OpenAi,
    /// Anthropic's Message Batches API.
    Anthropic,
    /// Gemini's batch mode.
    Gemini,
}

impl BatchFamily {
    /// The batch API of the provider `settings` describe, if it has one Trialogue drives: every
    /// Anthropic and Gemini provider, the built-in OpenAI provider, and any other
    /// OpenAI-compatible provider whose settings say it implements the OpenAI batch endpoints.
    pub fn of(settings: &ProviderSettings) -> Option<BatchFamily> {
        match settings.kind {
            ProviderKind::OpenAiCompatible => settings.batch_api().then_some(BatchFamily::OpenAi),
            ProviderKind::Anthropic => Some(BatchFamily::Anthropic),
            ProviderKind::Gemini => Some(BatchFamily::Gemini),
            // Cohere's batch API ("embed jobs") embeds; it does not chat.
            ProviderKind::Cohere => None,
        }
    }

    /// The family's batch API: the one dispatch point on the family.
    pub fn api(self) -> &'static dyn BatchApi {
        match self {
            BatchFamily::OpenAi => &openai::OpenAiBatch,
            BatchFamily::Anthropic => &anthropic::AnthropicBatch,
            BatchFamily::Gemini => &gemini::GeminiBatch,
        }
    }
}

/// A provider batch as Trialogue follows it (the reply to create, retrieve and cancel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The provider's batch id (for Gemini, the operation's name `batches/…`).
    pub id: String,
    /// Where it stands.
    pub state: BatchState,
    /// Its requests by outcome so far.
    pub counts: BatchCounts,
    /// Where its results are read from once it ended (files, a results URL); empty while it
    /// runs, and for a family that returns them inline.
    pub result_sources: Vec<String>,
    /// Results carried in the batch object itself (Gemini's inline responses), by custom id.
    pub inline_results: Vec<ItemResult>,
}

/// The next thing a submission needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// Another request (OpenAI's create, after the file upload).
    Next(HttpRequest),
    /// The provider holds the batch.
    Created(Batch),
}

/// One batch API family: pure request builders and response readers, no I/O (the
/// [`RoundHub`] sends). Every method gets the live chat request the batch is for (`chat`): its
/// headers authenticate the batch endpoints too. A *group* is what one provider batch may
/// hold (an API root; for Gemini, one model under it), as [`BatchApi::group`] names it.
pub trait BatchApi {
    /// The family.
    fn family(&self) -> BatchFamily;

    /// Whether `chat` is a live chat request to the provider whose API root is `root`, of the
    /// kind this family batches.
    fn carries(&self, root: &str, chat: &HttpRequest) -> bool;

    /// The group `chat` goes into.
    fn group(&self, chat: &HttpRequest) -> Result<String, ProviderBatchError>;

    /// `chat` as one entry of a batch, under `custom_id`: the live body, unchanged.
    fn entry(&self, custom_id: &str, chat: &HttpRequest) -> Result<String, ProviderBatchError>;

    /// The first request that submits `entries` (in custom-id order) as one batch of `group`.
    fn submit(
        &self,
        group: &str,
        chat: &HttpRequest,
        entries: &[String],
    ) -> Result<HttpRequest, ProviderBatchError>;

    /// Reads the reply to the `step`th request of the submission of `entries` (0 for
    /// [`BatchApi::submit`]'s).
    fn submitted(
        &self,
        step: usize,
        group: &str,
        chat: &HttpRequest,
        entries: &[String],
        response: &HttpResponse,
    ) -> Result<Submission, ProviderBatchError>;

    /// The request that asks where batch `batch_id` stands.
    fn retrieve(&self, group: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest;

    /// Reads a batch object; `custom_ids` are the batch's, in the order they were submitted
    /// (a family whose results carry no id matches them by position).
    fn parse_batch(
        &self,
        response: &HttpResponse,
        custom_ids: &[&str],
    ) -> Result<Batch, ProviderBatchError>;

    /// The request that cancels batch `batch_id`.
    fn cancel(&self, group: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest;

    /// The request that reads one of [`Batch::result_sources`].
    fn fetch_results(&self, group: &str, chat: &HttpRequest, source: &str) -> HttpRequest;

    /// Every result in a body [`BatchApi::fetch_results`] got.
    fn parse_results(&self, body: &str) -> Result<Vec<ItemResult>, ProviderBatchError>;
}

/// A request's id inside a provider batch: which run, which step of it, which HTTP request of
/// that step's call (the first, a retry, a re-ask).
///
/// The run appears as a short digest of its id, so the whole id fits every provider's limit
/// (Anthropic's is 64 characters of `[a-zA-Z0-9_-]`); the journal keeps the full run id beside
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CustomId {
    /// The run.
    pub run_id: String,
    /// The step the call is for (1-based, as the step it becomes).
    pub step: u64,
    /// The request within the call (1-based).
    pub attempt: u32,
}

impl CustomId {
    /// The id as sent: `r<16 hex digits of the run id's SHA-256>-s<step>-a<attempt>`.
    pub fn encode(&self) -> String {
        let digest = sha256_hex(self.run_id.as_bytes());
        format!("r{}-s{}-a{}", &digest[..16], self.step, self.attempt)
    }

    /// The step and attempt an id encodes, and the digest of its run; `None` when it is not
    /// one of Trialogue's.
    pub fn decode(id: &str) -> Option<(&str, u64, u32)> {
        let rest = id.strip_prefix('r')?;
        let (run, rest) = rest.split_once("-s")?;
        let (step, attempt) = rest.split_once("-a")?;
        if run.len() != 16 || !run.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some((run, step.parse().ok()?, attempt.parse().ok()?))
    }
}

/// Where a provider batch stands, as far as Trialogue acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Still being worked on (validating, in progress, finalizing, cancelling).
    Running,
    /// Ended (completed, expired or cancelled): its results can be read.
    Ended,
    /// Rejected as a whole: none of its requests ran.
    Failed,
}

/// A provider batch's requests by outcome, as the provider counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCounts {
    /// Requests in the batch.
    pub total: u64,
    /// Requests that got a reply.
    pub succeeded: u64,
    /// Requests that failed or expired.
    pub errored: u64,
}

/// What became of one request of a provider batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ItemOutcome {
    /// The reply the request would have had live (any status), read by the live adapter.
    Reply(HttpResponse),
    /// The batch ended before the request ran.
    Expired,
    /// The provider could not run it.
    Errored {
        /// The provider's reason.
        message: String,
    },
}

/// One line of a provider batch's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    /// The request's [`CustomId`], encoded.
    pub custom_id: String,
    /// What became of it.
    pub outcome: ItemOutcome,
}

/// Why a provider batch could not be submitted, followed or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderBatchError {
    /// The request is not one this batch API can carry.
    #[error("the request to {url} cannot go into a provider batch; run this batch live")]
    NotBatchable {
        /// Where it was going.
        url: String,
    },
    /// The provider answered with an error status.
    #[error("the provider refused {what} (HTTP {status}): {body}")]
    Refused {
        /// What was asked for.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The start of the provider's reply.
        body: String,
    },
    /// The provider's reply was not what its API reference describes.
    #[error("the provider's reply to {what} could not be read: {detail}")]
    Unexpected {
        /// What was asked for.
        what: String,
        /// What was wrong with it.
        detail: String,
    },
    /// No HTTP response at all.
    #[error("the provider could not be reached for {what}: {reason}")]
    Unreachable {
        /// What was asked for.
        what: String,
        /// The transport's reason.
        reason: String,
    },
}

/// The headers of a live chat request that authenticate it (a key, a version, an
/// organisation), for the batch endpoints of the same provider.
fn auth_headers(chat: &HttpRequest) -> Vec<(String, String)> {
    chat.headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
        .cloned()
        .collect()
}

/// A request to a batch endpoint with `chat`'s authentication, JSON when it has a body.
fn json_request(method: &str, url: String, chat: &HttpRequest, body: String) -> HttpRequest {
    let mut headers = auth_headers(chat);
    if !body.is_empty() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    HttpRequest {
        method: method.into(),
        url,
        headers,
        body,
    }
}

/// The JSON body of a 2xx reply, or the provider's error as a sentence.
fn read_ok<T: serde::de::DeserializeOwned>(
    response: &HttpResponse,
    what: &str,
) -> Result<T, ProviderBatchError> {
    if !(200..300).contains(&response.status) {
        return Err(ProviderBatchError::Refused {
            what: what.into(),
            status: response.status,
            body: excerpt(&response.body),
        });
    }
    serde_json::from_str(&response.body).map_err(|e| ProviderBatchError::Unexpected {
        what: what.into(),
        detail: format!("{e}; the reply began: {}", excerpt(&response.body)),
    })
}

/// Each non-blank line of a results file read as `T`; `what` names the file in an error.
fn result_lines<T: serde::de::DeserializeOwned>(
    jsonl: &str,
    what: &str,
) -> Result<Vec<T>, ProviderBatchError> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|e| ProviderBatchError::Unexpected {
                what: what.into(),
                detail: format!("line {} is not a result line: {e}", index + 1),
            })
        })
        .collect()
}

/// A batched request's reply as the live adapter would have received it.
fn json_reply(status: u16, body: String) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

/// A live chat body as JSON, or why it cannot go into a batch.
fn body_json(chat: &HttpRequest) -> Result<serde_json::Value, ProviderBatchError> {
    serde_json::from_str(&chat.body).map_err(|e| ProviderBatchError::NotBatchable {
        url: format!("{} (its body is not JSON: {e})", chat.url),
    })
}

/// The start of a reply body, for an error message.
fn excerpt(body: &str) -> String {
    const MAX: usize = 300;
    match body.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_id_encodes_step_and_attempt_within_the_providers_limits() {
        let id = CustomId {
            run_id: "run_20261207T010203456Z_0123456789abcdef0123456789abcdef_2".into(),
            step: 12,
            attempt: 3,
        };
        let encoded = id.encode();
        assert!(encoded.len() <= 64, "{encoded}");
        assert!(encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let (run, step, attempt) = CustomId::decode(&encoded).unwrap_or(("", 0, 0));
        assert_eq!((step, attempt), (12, 3));
        assert_eq!(run, &sha256_hex(id.run_id.as_bytes())[..16]);
        let other_run = CustomId {
            run_id: format!("{}x", id.run_id),
            ..id.clone()
        };
        assert_ne!(other_run.encode(), encoded);
        assert_eq!(CustomId::decode("batch_req_123"), None);
    }

    #[test]
    fn only_a_provider_batch_records_its_engine() {
        use crate::core::batch::{BatchEngine, BatchModes, BatchSpec};
        use crate::core::config::PipelineConfig;
        let mut spec = BatchSpec::new(
            "b",
            "ds",
            "d",
            vec!["P1".into()],
            BatchModes::Debate,
            1,
            PipelineConfig::default(),
            0.0,
            |_| false,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let live = serde_json::to_value(&spec).unwrap_or_default();
        assert!(live.get("engine").is_none(), "{live}");
        spec.engine = BatchEngine::ProviderBatch;
        let text = serde_json::to_string(&spec).unwrap_or_default();
        assert!(text.contains(r#""engine":"provider-batch""#), "{text}");
        let back: Option<BatchSpec> = serde_json::from_str(&text).ok();
        assert_eq!(back.map(|b| b.engine), Some(BatchEngine::ProviderBatch));
        let old: Option<BatchSpec> = serde_json::from_value(live).ok();
        assert_eq!(old.map(|b| b.engine), Some(BatchEngine::Live));
        assert_eq!(
            BatchEngine::from_name(BatchEngine::ProviderBatch.as_str()),
            Some(BatchEngine::ProviderBatch)
        );
    }
}

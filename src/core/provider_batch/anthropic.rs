//! Anthropic's Message Batches API as pure request builders and response readers: a round's
//! requests go up in one `POST /v1/messages/batches` (`requests: [{custom_id, params}]`, each
//! `params` the live Messages body), the batch is polled (`GET /v1/messages/batches/{id}`)
//! until its `processing_status` is `ended`, and its results are read from its `results_url`
//! (JSONL, one line per request, in no particular order).
//!
//! Field names and values are Anthropic's:
//! <https://docs.anthropic.com/en/api/creating-message-batches> (the request, `custom_id`
//! `^[a-zA-Z0-9_-]{1,64}$`), <https://docs.anthropic.com/en/api/retrieving-message-batches>
//! (the Message Batch object: `processing_status` `in_progress` | `canceling` | `ended`,
//! `request_counts` with `processing`, `succeeded`, `errored`, `canceled`, `expired`,
//! `results_url`), <https://docs.anthropic.com/en/api/retrieving-message-batch-results> (a
//! result line: `custom_id` and `result` whose `type` is `succeeded` with `message`, `errored`
//! with `error`, `canceled` or `expired`) and
//! <https://docs.anthropic.com/en/api/canceling-message-batches> (`POST …/{id}/cancel`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    body_json, json_request, read_ok, Batch, BatchApi, BatchCounts, BatchFamily, BatchState,
    ItemOutcome, ItemResult, ProviderBatchError, Submission,
};
use crate::core::llm::chat::{HttpRequest, HttpResponse};

/// The path the live adapter sends a message to, under the API root.
pub const MESSAGES_PATH: &str = "/messages";

/// Anthropic's Message Batches behind [`BatchApi`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AnthropicBatch;

/// The API root a live Messages request was sent under (`https://api.anthropic.com/v1`).
fn api_root(chat: &HttpRequest) -> Result<&str, ProviderBatchError> {
    chat.url
        .strip_suffix(MESSAGES_PATH)
        .ok_or_else(|| ProviderBatchError::NotBatchable {
            url: chat.url.clone(),
        })
}

#[derive(Deserialize)]
struct RequestCounts {
    #[serde(default)]
    processing: u64,
    #[serde(default)]
    succeeded: u64,
    #[serde(default)]
    errored: u64,
    #[serde(default)]
    canceled: u64,
    #[serde(default)]
    expired: u64,
}

#[derive(Deserialize)]
struct MessageBatch {
    id: String,
    processing_status: String,
    #[serde(default)]
    request_counts: Option<RequestCounts>,
    #[serde(default)]
    results_url: Option<String>,
}

#[derive(Deserialize)]
struct ResultLine {
    custom_id: String,
    result: LineResult,
}

#[derive(Deserialize)]
struct LineResult {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

/// Reads a Message Batch object.
pub fn parse_batch(response: &HttpResponse) -> Result<Batch, ProviderBatchError> {
    let batch: MessageBatch = read_ok(response, "the message batch")?;
    let state = match batch.processing_status.as_str() {
        "in_progress" | "canceling" => BatchState::Running,
        // Its results hold every request: what ran, and the canceled and expired ones.
        "ended" => BatchState::Ended,
        other => {
            return Err(ProviderBatchError::Unexpected {
                what: "the message batch".into(),
                detail: format!("unknown processing_status `{other}`"),
            })
        }
    };
    let counts = batch.request_counts.map_or_else(BatchCounts::default, |c| {
        let errored = c.errored + c.canceled + c.expired;
        BatchCounts {
            total: c.processing + c.succeeded + errored,
            succeeded: c.succeeded,
            errored,
        }
    });
    let result_sources = match (state, batch.results_url) {
        (BatchState::Ended, Some(url)) => vec![url],
        _ => Vec::new(),
    };
    Ok(Batch {
        id: batch.id,
        state,
        counts,
        result_sources,
        inline_results: Vec::new(),
    })
}

/// Every line of a results file. A succeeded line's `message` is the body the live call would
/// have had (status 200), read by the live adapter; `expired` is [`ItemOutcome::Expired`];
/// `errored` and `canceled` are [`ItemOutcome::Errored`].
pub fn parse_results(jsonl: &str) -> Result<Vec<ItemResult>, ProviderBatchError> {
    let mut results = Vec::new();
    for parsed in super::result_lines::<ResultLine>(jsonl, "the batch results")? {
        let result = parsed.result;
        let outcome = match (result.kind.as_str(), result.message) {
            ("succeeded", Some(message)) => {
                ItemOutcome::Reply(super::json_reply(200, message.to_string()))
            }
            ("expired", _) => ItemOutcome::Expired,
            ("canceled", _) => ItemOutcome::Errored {
                message: "the batch was canceled before this request ran".into(),
            },
            ("errored", _) => ItemOutcome::Errored {
                message: error_message(result.error.as_ref()),
            },
            (other, _) => ItemOutcome::Errored {
                message: format!("unexpected result type `{other}`"),
            },
        };
        results.push(ItemResult {
            custom_id: parsed.custom_id,
            outcome,
        });
    }
    Ok(results)
}

/// An errored line's reason: its `error` is an error response (`{"type": "error", "error":
/// {"type", "message"}}`), or, in older replies, the inner error itself.
fn error_message(error: Option<&Value>) -> String {
    let Some(error) = error else {
        return "errored without a reason".into();
    };
    let inner = error.get("error").unwrap_or(error);
    let kind = inner.get("type").and_then(Value::as_str).unwrap_or("error");
    let message = inner
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message");
    format!("{kind}: {message}")
}

impl BatchApi for AnthropicBatch {
    fn family(&self) -> BatchFamily {
        BatchFamily::Anthropic
    }

    fn carries(&self, root: &str, chat: &HttpRequest) -> bool {
        chat.url == format!("{root}{MESSAGES_PATH}")
    }

    /// One provider batch per API root (a batch may mix models).
    fn group(&self, chat: &HttpRequest) -> Result<String, ProviderBatchError> {
        api_root(chat).map(str::to_string)
    }

    fn entry(&self, custom_id: &str, chat: &HttpRequest) -> Result<String, ProviderBatchError> {
        let params = body_json(chat)?;
        // NOTE: a batch request's params are the Messages API's, but not streamed ("stream"
        // is not accepted in a batch); batch mode never streams.
        Ok(json!({"custom_id": custom_id, "params": params}).to_string())
    }

    fn submit(
        &self,
        group: &str,
        chat: &HttpRequest,
        entries: &[String],
    ) -> Result<HttpRequest, ProviderBatchError> {
        // The entries are JSON objects already; joined, they are the `requests` array.
        let body = format!(r#"{{"requests":[{}]}}"#, entries.join(","));
        Ok(json_request(
            "POST",
            format!("{group}/messages/batches"),
            chat,
            body,
        ))
    }

    fn submitted(
        &self,
        _step: usize,
        _group: &str,
        _chat: &HttpRequest,
        _entries: &[String],
        response: &HttpResponse,
    ) -> Result<Submission, ProviderBatchError> {
        parse_batch(response).map(Submission::Created)
    }

    fn retrieve(&self, group: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest {
        json_request(
            "GET",
            format!("{group}/messages/batches/{batch_id}"),
            chat,
            String::new(),
        )
    }

    fn parse_batch(
        &self,
        response: &HttpResponse,
        _custom_ids: &[&str],
    ) -> Result<Batch, ProviderBatchError> {
        parse_batch(response)
    }

    fn cancel(&self, group: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest {
        json_request(
            "POST",
            format!("{group}/messages/batches/{batch_id}/cancel"),
            chat,
            String::new(),
        )
    }

    /// The `results_url` as given: the provider names it, with the same authentication.
    fn fetch_results(&self, _group: &str, chat: &HttpRequest, source: &str) -> HttpRequest {
        json_request("GET", source.to_string(), chat, String::new())
    }

    fn parse_results(&self, body: &str) -> Result<Vec<ItemResult>, ProviderBatchError> {
        parse_results(body)
    }
}

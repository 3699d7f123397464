//! Gemini's batch mode as pure request builders and response readers: a round's requests to
//! one model go up inline in one `POST {root}/models/{model}:batchGenerateContent` (each an
//! `InlinedRequest`: the live `generateContent` body as `request`, the custom id as
//! `metadata.key`), the operation it returns (`batches/{id}`) is polled with `GET
//! {root}/batches/{id}` until `done`, and the inline responses are read from the operation.
//!
//! Field names and values are Google's:
//! <https://ai.google.dev/api/batch-mode> (`models.batchGenerateContent`, the
//! `GenerateContentBatch` with `displayName`, `inputConfig.requests.requests[]`, `state`
//! `BATCH_STATE_PENDING` | `_RUNNING` | `_SUCCEEDED` | `_FAILED` | `_CANCELLED` | `_EXPIRED`,
//! `batchStats` with `requestCount`, `successfulRequestCount`, `failedRequestCount`,
//! `pendingRequestCount`; `InlinedResponse` with `response` or `error` and `metadata`;
//! `batches.cancel` as `POST …/batches/{id}:cancel`) and
//! <https://ai.google.dev/gemini-api/docs/batch-mode> (the operation's `metadata` is the batch,
//! its `response.inlinedResponses.inlinedResponses[]` the replies, "in the same order as the
//! input requests").

use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    body_json, json_request, read_ok, Batch, BatchApi, BatchCounts, BatchFamily, BatchState,
    ItemOutcome, ItemResult, ProviderBatchError, Submission,
};
use crate::core::llm::chat::{HttpRequest, HttpResponse};

/// How the live adapter's URL ends.
const GENERATE: &str = ":generateContent";
/// Between the API root and the model in a live URL.
const MODELS: &str = "/models/";

/// Gemini's batch mode behind [`BatchApi`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GeminiBatch;

/// The API root of a group (`{root}/models/{model}`).
fn root_of(group: &str) -> &str {
    group.rsplit_once(MODELS).map_or(group, |(root, _)| root)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Operation {
    name: String,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    metadata: Option<BatchMetadata>,
    #[serde(default)]
    response: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchMetadata {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    batch_stats: Option<BatchStats>,
    #[serde(default)]
    output: Option<Value>,
}

/// Counts come as int64, which proto JSON writes as strings.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchStats {
    #[serde(default)]
    request_count: Option<Value>,
    #[serde(default)]
    successful_request_count: Option<Value>,
    #[serde(default)]
    failed_request_count: Option<Value>,
}

fn count(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(v) => v.as_u64().unwrap_or(0),
        None => 0,
    }
}

/// Reads an operation (the reply to create and to get); `custom_ids` are the batch's in
/// submission order, matched to inline responses that carry no `metadata.key`.
pub fn parse_batch(
    response: &HttpResponse,
    custom_ids: &[&str],
) -> Result<Batch, ProviderBatchError> {
    let operation: Operation = read_ok(response, "the batch operation")?;
    let metadata = operation.metadata;
    let state_name = metadata
        .as_ref()
        .and_then(|m| m.state.clone())
        .unwrap_or_default();
    let state = match state_name.as_str() {
        "BATCH_STATE_PENDING" | "BATCH_STATE_RUNNING" | "" if !operation.done => {
            BatchState::Running
        }
        "BATCH_STATE_FAILED" => BatchState::Failed,
        "BATCH_STATE_SUCCEEDED" | "BATCH_STATE_CANCELLED" | "BATCH_STATE_EXPIRED" | "" => {
            BatchState::Ended
        }
        "BATCH_STATE_PENDING" | "BATCH_STATE_RUNNING" => BatchState::Running,
        other => {
            return Err(ProviderBatchError::Unexpected {
                what: "the batch operation".into(),
                detail: format!("unknown state `{other}`"),
            })
        }
    };
    // An operation that ended in an error ran nothing.
    let state = match (state, &operation.error) {
        (BatchState::Ended, Some(_)) => BatchState::Failed,
        (state, _) => state,
    };
    let counts = metadata
        .as_ref()
        .and_then(|m| m.batch_stats.as_ref())
        .map_or_else(BatchCounts::default, |s| BatchCounts {
            total: count(s.request_count.as_ref()),
            succeeded: count(s.successful_request_count.as_ref()),
            errored: count(s.failed_request_count.as_ref()),
        });
    let inline_results = if state == BatchState::Ended {
        let output = operation
            .response
            .or_else(|| metadata.and_then(|m| m.output))
            .unwrap_or(Value::Null);
        inline_results(&output, custom_ids, &state_name)?
    } else {
        Vec::new()
    };
    Ok(Batch {
        id: operation.name,
        state,
        counts,
        result_sources: Vec::new(),
        inline_results,
    })
}

/// The inline responses of a finished batch's output, by custom id; the requests of an
/// expired or cancelled batch that have none are expired or cancelled.
fn inline_results(
    output: &Value,
    custom_ids: &[&str],
    state_name: &str,
) -> Result<Vec<ItemResult>, ProviderBatchError> {
    // `inlinedResponses` is an `InlinedResponses` message holding the list under the same name.
    let list = match output.get("inlinedResponses") {
        Some(Value::Array(list)) => list.as_slice(),
        Some(wrapper) => match wrapper.get("inlinedResponses") {
            Some(Value::Array(list)) => list.as_slice(),
            _ => &[],
        },
        None => &[],
    };
    let mut results = Vec::new();
    for (index, item) in list.iter().enumerate() {
        let key = item
            .pointer("/metadata/key")
            .and_then(Value::as_str)
            .or_else(|| custom_ids.get(index).copied());
        let Some(key) = key else {
            return Err(ProviderBatchError::Unexpected {
                what: "the batch operation".into(),
                detail: format!(
                    "response {} has no key and the batch had only {} requests",
                    index + 1,
                    custom_ids.len()
                ),
            });
        };
        let outcome = match (item.get("response"), item.get("error")) {
            (Some(response), None) => {
                ItemOutcome::Reply(super::json_reply(200, response.to_string()))
            }
            (_, Some(error)) => {
                let message = error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message");
                ItemOutcome::Errored {
                    message: format!("{}: {message}", status_name(error)),
                }
            }
            (None, None) if state_name == "BATCH_STATE_EXPIRED" => ItemOutcome::Expired,
            (None, None) => ItemOutcome::Errored {
                message: "the provider returned neither a response nor an error".into(),
            },
        };
        results.push(ItemResult {
            custom_id: key.to_string(),
            outcome,
        });
    }
    // A batch that expired or was cancelled holds responses for what ran only.
    let unrun = match state_name {
        "BATCH_STATE_EXPIRED" => Some(ItemOutcome::Expired),
        "BATCH_STATE_CANCELLED" => Some(ItemOutcome::Errored {
            message: "the batch was cancelled before this request ran".into(),
        }),
        _ => None,
    };
    if let Some(unrun) = unrun {
        for id in custom_ids {
            if !results.iter().any(|r| r.custom_id == *id) {
                results.push(ItemResult {
                    custom_id: (*id).to_string(),
                    outcome: unrun.clone(),
                });
            }
        }
    }
    Ok(results)
}

/// A `google.rpc.Status`'s code as a name where it has one.
fn status_name(error: &Value) -> String {
    match error.get("code").and_then(Value::as_u64) {
        Some(3) => "INVALID_ARGUMENT".into(),
        Some(4) => "DEADLINE_EXCEEDED".into(),
        Some(8) => "RESOURCE_EXHAUSTED".into(),
        Some(13) => "INTERNAL".into(),
        Some(code) => format!("code {code}"),
        None => "error".into(),
    }
}

impl BatchApi for GeminiBatch {
    fn family(&self) -> BatchFamily {
        BatchFamily::Gemini
    }

    fn carries(&self, root: &str, chat: &HttpRequest) -> bool {
        chat.url
            .strip_prefix(root)
            .and_then(|rest| rest.strip_prefix(MODELS))
            .is_some_and(|rest| rest.ends_with(GENERATE) && !rest.contains('/'))
    }

    /// One provider batch per model: the endpoint names it.
    fn group(&self, chat: &HttpRequest) -> Result<String, ProviderBatchError> {
        chat.url
            .strip_suffix(GENERATE)
            .filter(|group| group.contains(MODELS))
            .map(str::to_string)
            .ok_or_else(|| ProviderBatchError::NotBatchable {
                url: chat.url.clone(),
            })
    }

    fn entry(&self, custom_id: &str, chat: &HttpRequest) -> Result<String, ProviderBatchError> {
        let request = body_json(chat)?;
        Ok(json!({"request": request, "metadata": {"key": custom_id}}).to_string())
    }

    fn submit(&self, group: &str, chat: &HttpRequest, entries: &[String]) -> HttpRequest {
        let model = group.rsplit_once(MODELS).map_or("", |(_, model)| model);
        // The entries are JSON objects already; joined, they are the requests array.
        let body = format!(
            r#"{{"batch":{{"displayName":{},"inputConfig":{{"requests":{{"requests":[{}]}}}}}}}}"#,
            json!(format!("trialogue {model}")),
            entries.join(",")
        );
        json_request("POST", format!("{group}:batchGenerateContent"), chat, body)
    }

    fn submitted(
        &self,
        _step: usize,
        _group: &str,
        _chat: &HttpRequest,
        response: &HttpResponse,
    ) -> Result<Submission, ProviderBatchError> {
        parse_batch(response, &[]).map(Submission::Created)
    }

    fn retrieve(&self, group: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest {
        json_request(
            "GET",
            format!("{}/{batch_id}", root_of(group)),
            chat,
            String::new(),
        )
    }

    fn parse_batch(
        &self,
        response: &HttpResponse,
        custom_ids: &[&str],
    ) -> Result<Batch, ProviderBatchError> {
        parse_batch(response, custom_ids)
    }

    fn cancel(&self, group: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest {
        json_request(
            "POST",
            format!("{}/{batch_id}:cancel", root_of(group)),
            chat,
            String::new(),
        )
    }

    /// Never asked: the responses are inline.
    fn fetch_results(&self, group: &str, chat: &HttpRequest, source: &str) -> HttpRequest {
        json_request(
            "GET",
            format!("{}/{source}", root_of(group)),
            chat,
            String::new(),
        )
    }

    fn parse_results(&self, _body: &str) -> Result<Vec<ItemResult>, ProviderBatchError> {
        Ok(Vec::new())
    }
}

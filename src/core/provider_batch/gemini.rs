//! Gemini's batch mode as pure request builders and response readers: a round's requests to
//! one model go up in one `POST {root}/models/{model}:batchGenerateContent`, the operation it
//! returns (`batches/{id}`) is polled with `GET {root}/batches/{id}` until `done`, and the
//! responses are read from the operation or from its responses file.
//!
//! Up to [`INLINE_LIMIT_BYTES`] the requests go inline (each an `InlinedRequest`: the live
//! `generateContent` body as `request`, the custom id as `metadata.key`) and the responses come
//! back inline. Above it they go as a JSONL input file (one `{"key", "request"}` line each),
//! uploaded through the Files API's resumable upload (`POST {host}/upload/{version}/files`
//! with `X-Goog-Upload-Command: start`, then the bytes to the `X-Goog-Upload-URL` it returns
//! with `upload, finalize`), the batch is created from its `fileName`, and the responses are
//! read from the output file the batch names (`GET {host}/download/{version}/{file}:download
//! ?alt=media`, one `{"key", "response" | "error"}` line per request).
//!
//! Field names and values are Google's:
//! <https://ai.google.dev/api/batch-mode> (`models.batchGenerateContent`, the
//! `GenerateContentBatch` with `displayName`, `inputConfig.requests.requests[]` or
//! `inputConfig.fileName`, `state` `BATCH_STATE_PENDING` | `_RUNNING` | `_SUCCEEDED` |
//! `_FAILED` | `_CANCELLED` | `_EXPIRED`, `batchStats` with `requestCount`,
//! `successfulRequestCount`, `failedRequestCount`, `pendingRequestCount`; the output's
//! `inlinedResponses` or `responsesFile`; `InlinedResponse` with `response` or `error` and
//! `metadata`; `batches.cancel` as `POST …/batches/{id}:cancel`),
//! <https://ai.google.dev/gemini-api/docs/batch-api> (the operation's `metadata` is the batch,
//! its `response.inlinedResponses.inlinedResponses[]` the replies, "in the same order as the
//! input requests"; the input file's lines, the output file's download) and
//! <https://ai.google.dev/api/files> (`media.upload`, the `File` with its `name`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    auth_headers, body_json, excerpt, json_request, read_ok, result_lines, Batch, BatchApi,
    BatchCounts, BatchFamily, BatchState, ItemOutcome, ItemResult, ProviderBatchError, Submission,
};
use crate::core::llm::chat::{HttpRequest, HttpResponse};

/// How the live adapter's URL ends.
const GENERATE: &str = ":generateContent";
/// Between the API root and the model in a live URL.
const MODELS: &str = "/models/";

/// The largest round sent inline, in bytes of its requests; a larger one goes as a file.
// NOTE: inline requests suit "smaller batches that keep the total request size under 20MB";
// larger ones go as an input file, https://ai.google.dev/gemini-api/docs/batch-api. Counted in
// decimal megabytes (the smaller reading) over the requests alone, which the create body's
// few dozen bytes of wrapping stay well within.
pub const INLINE_LIMIT_BYTES: usize = 20_000_000;

/// The header the start of a resumable upload returns the upload's URL in.
const UPLOAD_URL_HEADER: &str = "x-goog-upload-url";

/// One request of an inline batch, as [`GeminiBatch::entry`] writes it.
#[derive(Serialize, Deserialize)]
struct InlinedRequest {
    request: Value,
    metadata: RequestMetadata,
}

#[derive(Serialize, Deserialize)]
struct RequestMetadata {
    key: String,
}

/// One line of an input file.
#[derive(Serialize)]
struct InputLine<'a> {
    key: &'a str,
    request: &'a Value,
}

/// Whether a round of `entries` is too large to go inline.
pub fn goes_as_file(entries: &[String]) -> bool {
    entries.iter().map(|e| e.len() + 1).sum::<usize>() > INLINE_LIMIT_BYTES
}

/// The input file of a round: each entry as a `{"key", "request"}` line.
pub fn input_file(entries: &[String]) -> Result<String, ProviderBatchError> {
    let mut file = String::new();
    for entry in entries {
        let inlined: InlinedRequest =
            serde_json::from_str(entry).map_err(|e| ProviderBatchError::NotBatchable {
                url: format!("a batch entry that is not an inline request ({e})"),
            })?;
        let line = InputLine {
            key: &inlined.metadata.key,
            request: &inlined.request,
        };
        file.push_str(&serde_json::to_string(&line).map_err(|e| {
            ProviderBatchError::NotBatchable {
                url: format!("an input file line ({e})"),
            }
        })?);
        file.push('\n');
    }
    Ok(file)
}

/// `{host}/{service}/{version}` for API root `{host}/{version}`: where the Files API uploads
/// (`upload`) and downloads (`download`).
fn media_root(root: &str, service: &str) -> String {
    match root.rsplit_once('/') {
        Some((host, version)) => format!("{host}/{service}/{version}"),
        None => format!("{root}/{service}"),
    }
}

/// The model a group is for.
fn model_of(group: &str) -> &str {
    group.rsplit_once(MODELS).map_or("", |(_, model)| model)
}

/// The start of the resumable upload of `file` (the round's input file), under API root
/// `root`.
pub fn upload_start_request(
    root: &str,
    chat: &HttpRequest,
    model: &str,
    file: &str,
) -> HttpRequest {
    let mut request = json_request(
        "POST",
        format!("{}/files", media_root(root, "upload")),
        chat,
        json!({"file": {"displayName": format!("trialogue {model} round")}}).to_string(),
    );
    request.headers.extend(
        [
            ("X-Goog-Upload-Protocol", "resumable".to_string()),
            ("X-Goog-Upload-Command", "start".to_string()),
            (
                "X-Goog-Upload-Header-Content-Length",
                file.len().to_string(),
            ),
            (
                "X-Goog-Upload-Header-Content-Type",
                "application/jsonl".to_string(),
            ),
        ]
        .map(|(name, value)| (name.to_string(), value)),
    );
    request
}

/// The upload URL a start of a resumable upload returned.
pub fn parse_upload_start(response: &HttpResponse) -> Result<String, ProviderBatchError> {
    let what = "the start of the input file's upload";
    if !(200..300).contains(&response.status) {
        return Err(ProviderBatchError::Refused {
            what: what.into(),
            status: response.status,
            body: excerpt(&response.body),
        });
    }
    response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(UPLOAD_URL_HEADER))
        .map(|(_, url)| url.clone())
        .ok_or_else(|| ProviderBatchError::Unexpected {
            what: what.into(),
            detail: format!(
                "no {UPLOAD_URL_HEADER} header (a browser sees it only when the server exposes it)"
            ),
        })
}

/// The bytes of `file`, in one request that also finalizes the upload.
pub fn upload_request(upload_url: &str, chat: &HttpRequest, file: String) -> HttpRequest {
    let mut headers = auth_headers(chat);
    headers.extend(
        [
            ("X-Goog-Upload-Command", "upload, finalize"),
            ("X-Goog-Upload-Offset", "0"),
            ("Content-Type", "application/jsonl"),
        ]
        .map(|(name, value)| (name.to_string(), value.to_string())),
    );
    HttpRequest {
        method: "POST".into(),
        url: upload_url.to_string(),
        headers,
        body: file,
    }
}

#[derive(Deserialize)]
struct UploadedFile {
    file: FileName,
}

#[derive(Deserialize)]
struct FileName {
    name: String,
}

/// The name (`files/…`) of the uploaded input file.
pub fn parse_upload(response: &HttpResponse) -> Result<String, ProviderBatchError> {
    let uploaded: UploadedFile = read_ok(response, "the input file's upload")?;
    Ok(uploaded.file.name)
}

/// `POST {group}:batchGenerateContent` over the uploaded input file `file_name`.
pub fn create_from_file_request(group: &str, chat: &HttpRequest, file_name: &str) -> HttpRequest {
    let body = json!({"batch": {
        "displayName": format!("trialogue {}", model_of(group)),
        "inputConfig": {"fileName": file_name},
    }});
    json_request(
        "POST",
        format!("{group}:batchGenerateContent"),
        chat,
        body.to_string(),
    )
}

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
    let (inline_results, result_sources) = if state == BatchState::Ended {
        let output = operation
            .response
            .or_else(|| metadata.and_then(|m| m.output))
            .unwrap_or(Value::Null);
        let file = output.get("responsesFile").and_then(Value::as_str);
        // What a file batch ran is in its file, read afterwards: the requests the inline
        // reading marks as not run are overwritten by the file's lines.
        (
            inline_results(&output, custom_ids, &state_name)?,
            file.map(str::to_string).into_iter().collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Batch {
        id: operation.name,
        state,
        counts,
        result_sources,
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
        let outcome = outcome_of(
            item.get("response"),
            item.get("error"),
            state_name == "BATCH_STATE_EXPIRED",
        );
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

/// What became of one request, from its `response` or `error` (an inline response or a line of
/// the responses file); one with neither ran out of time when its batch `expired`.
fn outcome_of(response: Option<&Value>, error: Option<&Value>, expired: bool) -> ItemOutcome {
    match (response, error) {
        (Some(response), None) => ItemOutcome::Reply(super::json_reply(200, response.to_string())),
        (_, Some(error)) => {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            ItemOutcome::Errored {
                message: format!("{}: {message}", status_name(error)),
            }
        }
        (None, None) if expired => ItemOutcome::Expired,
        (None, None) => ItemOutcome::Errored {
            message: "the provider returned neither a response nor an error".into(),
        },
    }
}

/// One line of a responses file.
#[derive(Deserialize)]
struct OutputLine {
    key: String,
    #[serde(default)]
    response: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

/// Every line of a responses file, by the key its input line had.
pub fn parse_results(jsonl: &str) -> Result<Vec<ItemResult>, ProviderBatchError> {
    Ok(
        result_lines::<OutputLine>(jsonl, "the batch's responses file")?
            .into_iter()
            .map(|line| ItemResult {
                outcome: outcome_of(line.response.as_ref(), line.error.as_ref(), false),
                custom_id: line.key,
            })
            .collect(),
    )
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
        let inlined = InlinedRequest {
            request: body_json(chat)?,
            metadata: RequestMetadata {
                key: custom_id.to_string(),
            },
        };
        serde_json::to_string(&inlined).map_err(|e| ProviderBatchError::NotBatchable {
            url: format!("{} ({e})", chat.url),
        })
    }

    /// Inline up to [`INLINE_LIMIT_BYTES`]; above it, the start of the input file's upload.
    fn submit(
        &self,
        group: &str,
        chat: &HttpRequest,
        entries: &[String],
    ) -> Result<HttpRequest, ProviderBatchError> {
        if goes_as_file(entries) {
            let file = input_file(entries)?;
            return Ok(upload_start_request(
                root_of(group),
                chat,
                model_of(group),
                &file,
            ));
        }
        // The entries are JSON objects already; joined, they are the requests array.
        let body = format!(
            r#"{{"batch":{{"displayName":{},"inputConfig":{{"requests":{{"requests":[{}]}}}}}}}}"#,
            json!(format!("trialogue {}", model_of(group))),
            entries.join(",")
        );
        Ok(json_request(
            "POST",
            format!("{group}:batchGenerateContent"),
            chat,
            body,
        ))
    }

    /// Inline: the operation. As a file: the upload's URL, then the uploaded file's name, then
    /// the operation.
    fn submitted(
        &self,
        step: usize,
        group: &str,
        chat: &HttpRequest,
        entries: &[String],
        response: &HttpResponse,
    ) -> Result<Submission, ProviderBatchError> {
        match (goes_as_file(entries), step) {
            (true, 0) => {
                let url = parse_upload_start(response)?;
                Ok(Submission::Next(upload_request(
                    &url,
                    chat,
                    input_file(entries)?,
                )))
            }
            (true, 1) => {
                let file_name = parse_upload(response)?;
                Ok(Submission::Next(create_from_file_request(
                    group, chat, &file_name,
                )))
            }
            _ => parse_batch(response, &[]).map(Submission::Created),
        }
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

    /// The responses file `source` (`files/…`) of a batch created from a file.
    fn fetch_results(&self, group: &str, chat: &HttpRequest, source: &str) -> HttpRequest {
        json_request(
            "GET",
            format!(
                "{}/{source}:download?alt=media",
                media_root(root_of(group), "download")
            ),
            chat,
            String::new(),
        )
    }

    fn parse_results(&self, body: &str) -> Result<Vec<ItemResult>, ProviderBatchError> {
        parse_results(body)
    }
}

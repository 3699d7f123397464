//! OpenAI's Batch API as pure request builders and response readers: a round's requests go
//! up as one JSONL file (`POST /v1/files`, `purpose=batch`), one batch is created over it
//! (`POST /v1/batches` for `/v1/chat/completions`), polled (`GET /v1/batches/{id}`), and its
//! output and error files are read (`GET /v1/files/{id}/content`). Any OpenAI-compatible
//! server that implements these endpoints is driven the same way.
//!
//! Field names, statuses and file formats are OpenAI's:
//! <https://platform.openai.com/docs/api-reference/batch> (the batch object, `request_counts`,
//! the statuses `validating`, `failed`, `in_progress`, `finalizing`, `completed`, `expired`,
//! `cancelling`, `cancelled`), <https://platform.openai.com/docs/api-reference/batch/request-input>
//! (an input line: `custom_id`, `method`, `url`, `body`),
//! <https://platform.openai.com/docs/api-reference/batch/request-output> (an output line:
//! `id`, `custom_id`, `response` with `status_code` and `body`, `error` with `code` and
//! `message`) and <https://platform.openai.com/docs/guides/batch> (requests that did not run
//! before the batch expired come back in the error file with the code `batch_expired`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth_headers, body_json, json_request, read_ok, Batch, BatchApi, BatchCounts, BatchFamily,
    BatchState, ItemOutcome, ItemResult, ProviderBatchError, Submission,
};
use crate::core::llm::chat::{HttpRequest, HttpResponse};

/// The path the live adapter sends a chat request to, under the API root.
pub const CHAT_PATH: &str = "/chat/completions";
/// The endpoint a batch and each of its lines name: one of the values the reference lists,
/// whatever path the provider's API root has (an OpenAI-compatible server behind a prefix
/// still names it so).
pub const ENDPOINT: &str = "/v1/chat/completions";
/// How long the provider may take; OpenAI accepts only `24h`.
pub const COMPLETION_WINDOW: &str = "24h";
/// The multipart boundary of the file upload: a fixed string that never occurs in a JSONL
/// line (every line is one JSON object, whose strings escape control characters).
const BOUNDARY: &str = "trialogue-batch-boundary-7d1f0c";

/// The API root a live chat request was sent under (`https://api.openai.com/v1`), which the
/// batch endpoints share.
pub fn api_root(chat: &HttpRequest) -> Result<&str, ProviderBatchError> {
    chat.url
        .strip_suffix(CHAT_PATH)
        .ok_or_else(|| ProviderBatchError::NotBatchable {
            url: chat.url.clone(),
        })
}

/// One line of the input file: the live request's body, unchanged, under `custom_id`.
pub fn input_line(custom_id: &str, chat: &HttpRequest) -> Result<String, ProviderBatchError> {
    let body = body_json(chat)?;
    let line = json!({
        "custom_id": custom_id,
        "method": "POST",
        "url": ENDPOINT,
        "body": body,
    });
    Ok(line.to_string())
}

/// `POST {root}/files`: the round's input file, as `multipart/form-data` with `purpose=batch`.
pub fn upload_request(root: &str, chat: &HttpRequest, lines: &[String]) -> HttpRequest {
    let mut body = String::new();
    body.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
    ));
    body.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"trialogue-round.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n"
    ));
    for line in lines {
        body.push_str(line);
        body.push('\n');
    }
    body.push_str(&format!("\r\n--{BOUNDARY}--\r\n"));
    let mut headers = auth_headers(chat);
    headers.push((
        "Content-Type".into(),
        format!("multipart/form-data; boundary={BOUNDARY}"),
    ));
    HttpRequest {
        method: "POST".into(),
        url: format!("{root}/files"),
        headers,
        body,
    }
}

#[derive(Deserialize)]
struct FileObject {
    id: String,
}

/// The id of the uploaded file.
pub fn parse_upload(response: &HttpResponse) -> Result<String, ProviderBatchError> {
    let file: FileObject = read_ok(response, "the file upload")?;
    Ok(file.id)
}

/// `POST {root}/batches` over the uploaded file, for the chat endpoint, in the 24-hour window.
pub fn create_request(root: &str, chat: &HttpRequest, input_file_id: &str) -> HttpRequest {
    let body = json!({
        "input_file_id": input_file_id,
        "endpoint": ENDPOINT,
        "completion_window": COMPLETION_WINDOW,
    });
    json_request("POST", format!("{root}/batches"), chat, body.to_string())
}

/// `GET {root}/batches/{id}`.
pub fn retrieve_request(root: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest {
    json_request(
        "GET",
        format!("{root}/batches/{batch_id}"),
        chat,
        String::new(),
    )
}

/// `POST {root}/batches/{id}/cancel`.
pub fn cancel_request(root: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest {
    json_request(
        "POST",
        format!("{root}/batches/{batch_id}/cancel"),
        chat,
        String::new(),
    )
}

/// `GET {root}/files/{id}/content`: an output or error file.
pub fn file_content_request(root: &str, chat: &HttpRequest, file_id: &str) -> HttpRequest {
    json_request(
        "GET",
        format!("{root}/files/{file_id}/content"),
        chat,
        String::new(),
    )
}

#[derive(Deserialize)]
struct RequestCounts {
    #[serde(default)]
    total: u64,
    #[serde(default)]
    completed: u64,
    #[serde(default)]
    failed: u64,
}

#[derive(Deserialize)]
struct BatchObject {
    id: String,
    status: String,
    #[serde(default)]
    output_file_id: Option<String>,
    #[serde(default)]
    error_file_id: Option<String>,
    #[serde(default)]
    request_counts: Option<RequestCounts>,
}

/// Reads a batch object (the reply to create, retrieve and cancel).
pub fn parse_batch(response: &HttpResponse) -> Result<Batch, ProviderBatchError> {
    let batch: BatchObject = read_ok(response, "the batch")?;
    let state = match batch.status.as_str() {
        "validating" | "in_progress" | "finalizing" | "cancelling" => BatchState::Running,
        // Each of these ends the batch; its files hold whatever ran.
        "completed" | "expired" | "cancelled" => BatchState::Ended,
        // The input was rejected as a whole (`errors` says why); none of it ran.
        "failed" => BatchState::Failed,
        other => {
            return Err(ProviderBatchError::Unexpected {
                what: "the batch".into(),
                detail: format!("unknown status `{other}`"),
            })
        }
    };
    let counts = batch
        .request_counts
        .map_or_else(BatchCounts::default, |c| BatchCounts {
            total: c.total,
            succeeded: c.completed,
            errored: c.failed,
        });
    Ok(Batch {
        id: batch.id,
        state,
        counts,
        // The error file holds the requests that failed or expired.
        result_sources: [batch.output_file_id, batch.error_file_id]
            .into_iter()
            .flatten()
            .collect(),
        inline_results: Vec::new(),
    })
}

#[derive(Deserialize)]
struct OutputLine {
    custom_id: String,
    #[serde(default)]
    response: Option<LineResponse>,
    #[serde(default)]
    error: Option<LineError>,
}

#[derive(Deserialize)]
struct LineResponse {
    status_code: u16,
    #[serde(default)]
    body: Value,
}

#[derive(Deserialize)]
struct LineError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Every line of an output or error file, as the reply each request would have had live.
/// A reply with its HTTP status goes to the live adapter as it is; an expired request is
/// [`ItemOutcome::Expired`]; any other line error is [`ItemOutcome::Errored`].
pub fn parse_results(jsonl: &str) -> Result<Vec<ItemResult>, ProviderBatchError> {
    let mut results = Vec::new();
    for parsed in super::result_lines::<OutputLine>(jsonl, "a result file")? {
        let outcome = match (parsed.response, parsed.error) {
            (Some(response), None) => ItemOutcome::Reply(super::json_reply(
                response.status_code,
                response.body.to_string(),
            )),
            (_, Some(error)) if error.code.as_deref() == Some("batch_expired") => {
                ItemOutcome::Expired
            }
            (_, Some(error)) => ItemOutcome::Errored {
                message: format!(
                    "{}: {}",
                    error.code.as_deref().unwrap_or("error"),
                    error.message.as_deref().unwrap_or("no message")
                ),
            },
            (None, None) => ItemOutcome::Errored {
                message: "the provider returned neither a reply nor an error".into(),
            },
        };
        results.push(ItemResult {
            custom_id: parsed.custom_id,
            outcome,
        });
    }
    Ok(results)
}

/// OpenAI's Batch API behind [`BatchApi`].
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiBatch;

impl BatchApi for OpenAiBatch {
    fn family(&self) -> BatchFamily {
        BatchFamily::OpenAi
    }

    fn carries(&self, root: &str, chat: &HttpRequest) -> bool {
        chat.url == format!("{root}{CHAT_PATH}")
    }

    /// One provider batch per API root.
    // NOTE: the reference allows one model per input file ("each input file can only include
    // requests to a single model"), https://platform.openai.com/docs/guides/batch; a round's
    // requests to one root are split by model.
    fn group(&self, chat: &HttpRequest) -> Result<String, ProviderBatchError> {
        let root = api_root(chat)?;
        let model = body_json(chat)?
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(format!("{root}{GROUP_MODEL}{model}"))
    }

    fn entry(&self, custom_id: &str, chat: &HttpRequest) -> Result<String, ProviderBatchError> {
        input_line(custom_id, chat)
    }

    fn submit(
        &self,
        group: &str,
        chat: &HttpRequest,
        entries: &[String],
    ) -> Result<HttpRequest, ProviderBatchError> {
        Ok(upload_request(root_of(group), chat, entries))
    }

    fn submitted(
        &self,
        step: usize,
        group: &str,
        chat: &HttpRequest,
        _entries: &[String],
        response: &HttpResponse,
    ) -> Result<Submission, ProviderBatchError> {
        if step == 0 {
            let file_id = parse_upload(response)?;
            return Ok(Submission::Next(create_request(
                root_of(group),
                chat,
                &file_id,
            )));
        }
        parse_batch(response).map(Submission::Created)
    }

    fn retrieve(&self, group: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest {
        retrieve_request(root_of(group), chat, batch_id)
    }

    fn parse_batch(
        &self,
        response: &HttpResponse,
        _custom_ids: &[&str],
    ) -> Result<Batch, ProviderBatchError> {
        parse_batch(response)
    }

    fn cancel(&self, group: &str, chat: &HttpRequest, batch_id: &str) -> HttpRequest {
        cancel_request(root_of(group), chat, batch_id)
    }

    fn fetch_results(&self, group: &str, chat: &HttpRequest, source: &str) -> HttpRequest {
        file_content_request(root_of(group), chat, source)
    }

    fn parse_results(&self, body: &str) -> Result<Vec<ItemResult>, ProviderBatchError> {
        parse_results(body)
    }
}

/// Between an API root and a model in a group's name (a space never occurs in a URL).
const GROUP_MODEL: &str = " model=";

/// The API root of a group.
fn root_of(group: &str) -> &str {
    group
        .split_once(GROUP_MODEL)
        .map_or(group, |(root, _)| root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat() -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url: "https://api.openai.com/v1/chat/completions".into(),
            headers: vec![
                ("Authorization".into(), "Bearer sk-test".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: r#"{"model":"gpt-4o-mini","messages":[]}"#.into(),
        }
    }

    #[test]
    fn an_input_line_carries_the_live_body_and_the_endpoint_path() {
        let line = input_line("r1-s2-a1", &chat()).ok();
        let parsed: Option<Value> = line.and_then(|l| serde_json::from_str(&l).ok());
        assert_eq!(
            parsed,
            Some(json!({
                "custom_id": "r1-s2-a1",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "gpt-4o-mini", "messages": []},
            }))
        );
        assert_eq!(api_root(&chat()).ok(), Some("https://api.openai.com/v1"));
        // A compatible server behind a path prefix is sent the same endpoint.
        let mut prefixed = chat();
        prefixed.url = "http://127.0.0.1:8099/openai/v1/chat/completions".into();
        let line: Option<Value> = input_line("x", &prefixed)
            .ok()
            .and_then(|l| serde_json::from_str(&l).ok());
        assert_eq!(
            line.map(|l| l["url"].clone()),
            Some(json!("/v1/chat/completions"))
        );
        let create = create_request("http://127.0.0.1:8099/openai/v1", &prefixed, "file-1");
        assert_eq!(create.url, "http://127.0.0.1:8099/openai/v1/batches");
        assert!(create.body.contains(r#""endpoint":"/v1/chat/completions""#));
    }

    #[test]
    fn statuses_map_to_running_ended_and_failed() {
        let batch = |status: &str| HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"id": "batch_1", "status": status,
                "request_counts": {"total": 3, "completed": 2, "failed": 1}})
            .to_string(),
        };
        let state = |s: &str| parse_batch(&batch(s)).ok().map(|b| b.state);
        for running in ["validating", "in_progress", "finalizing", "cancelling"] {
            assert_eq!(state(running), Some(BatchState::Running), "{running}");
        }
        for ended in ["completed", "expired", "cancelled"] {
            assert_eq!(state(ended), Some(BatchState::Ended), "{ended}");
        }
        assert_eq!(state("failed"), Some(BatchState::Failed));
        assert!(parse_batch(&batch("paused")).is_err());
        let counts = parse_batch(&batch("completed")).ok().map(|b| b.counts);
        assert_eq!(
            counts,
            Some(BatchCounts {
                total: 3,
                succeeded: 2,
                errored: 1
            })
        );
    }

    #[test]
    fn result_lines_become_replies_expiries_and_errors() {
        let jsonl = [
            r#"{"id":"r1","custom_id":"a","response":{"status_code":200,"body":{"x":1}},"error":null}"#,
            r#"{"id":"r2","custom_id":"b","response":{"status_code":400,"body":{"error":{"message":"bad"}}},"error":null}"#,
            r#"{"id":"r3","custom_id":"c","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}"#,
            r#"{"id":"r4","custom_id":"d","response":null,"error":{"code":"server_error","message":"boom"}}"#,
        ]
        .join("\n");
        let results = parse_results(&jsonl).unwrap_or_default();
        let outcomes: Vec<(&str, &ItemOutcome)> = results
            .iter()
            .map(|r| (r.custom_id.as_str(), &r.outcome))
            .collect();
        assert_eq!(outcomes.len(), 4);
        assert!(
            matches!(outcomes[0], ("a", ItemOutcome::Reply(r)) if r.status == 200 && r.body == r#"{"x":1}"#)
        );
        assert!(matches!(outcomes[1], ("b", ItemOutcome::Reply(r)) if r.status == 400));
        assert_eq!(outcomes[2], ("c", &ItemOutcome::Expired));
        assert!(
            matches!(outcomes[3], ("d", ItemOutcome::Errored { message }) if message == "server_error: boom")
        );
        assert!(parse_results("{not json}\n").is_err());
    }

    #[test]
    fn the_upload_is_a_batch_purpose_multipart_file() {
        let lines = vec!["{\"a\":1}".to_string(), "{\"b\":2}".to_string()];
        let upload = upload_request("https://api.openai.com/v1", &chat(), &lines);
        assert_eq!(upload.url, "https://api.openai.com/v1/files");
        assert!(upload.body.contains("name=\"purpose\"\r\n\r\nbatch\r\n"));
        assert!(upload.body.contains("{\"a\":1}\n{\"b\":2}\n"));
        assert!(upload
            .headers
            .iter()
            .any(|(k, v)| k == "Authorization" && v == "Bearer sk-test"));
        assert!(upload
            .headers
            .iter()
            .any(|(k, v)| k == "Content-Type" && v.starts_with("multipart/form-data; boundary=")));
    }
}

"""The mock provider's Anthropic Message Batches and Gemini batch mode, beside its OpenAI Batch
API (batch_api.py, whose turnaround, expiry and error settings and `/__mock/batches` listing
these share).

Anthropic, from https://docs.anthropic.com/en/api/creating-message-batches,
https://docs.anthropic.com/en/api/retrieving-message-batches,
https://docs.anthropic.com/en/api/retrieving-message-batch-results and
https://docs.anthropic.com/en/api/canceling-message-batches: `POST /v1/messages/batches` with
`{"requests": [{"custom_id", "params"}]}` returns a Message Batch (`processing_status`
`in_progress` -> `ended`, or `canceling` -> `ended` after a cancel; `request_counts` with
`processing`, `succeeded`, `errored`, `canceled`, `expired`; `results_url` once ended); the
results are JSONL lines `{"custom_id", "result": {"type": "succeeded", "message"} | {"type":
"errored", "error"} | {"type": "canceled"} | {"type": "expired"}}`.

Gemini, from https://ai.google.dev/api/batch-mode and
https://ai.google.dev/gemini-api/docs/batch-mode: `POST /v1beta/models/{model}:batchGenerateContent`
with `{"batch": {"displayName", "inputConfig": {"requests": {"requests": [{"request",
"metadata": {"key"}}]}}}}` returns an operation named `batches/{id}` whose `metadata` is the
batch (`state` `BATCH_STATE_PENDING` -> `_RUNNING` -> `_SUCCEEDED` | `_EXPIRED` | `_CANCELLED`,
`batchStats` counts as int64 strings); once `done`, `response.inlinedResponses.inlinedResponses`
holds one `{"response"} | {"error"}` per request that ran, in input order, with its metadata.
`POST /v1beta/batches/{id}:cancel` cancels.

Gemini's file input, from https://ai.google.dev/gemini-api/docs/batch-api and
https://ai.google.dev/api/files: a JSONL input file (one `{"key", "request"}` line per request)
is uploaded with the resumable protocol (`POST /upload/v1beta/files` with
`X-Goog-Upload-Protocol: resumable` and `X-Goog-Upload-Command: start` answers with the upload
URL in `X-Goog-Upload-URL`; the bytes go there with `X-Goog-Upload-Command: upload, finalize`
and `X-Goog-Upload-Offset: 0`, answered with `{"file": {"name": "files/..."}}`); a batch
created with `inputConfig.fileName` writes its responses to a file (`{"key", "response"} |
{"key", "error"}` lines, in input order) named by the finished operation's
`response.responsesFile`, read with `GET /download/v1beta/files/{id}:download?alt=media`.

Each request is answered as the family's chat route would answer it live (rules, default
replies, token counts). Standard library only.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import batch_api

A_BATCHES = re.compile(r"/anthropic/v1/messages/batches")
A_BATCH = re.compile(r"/anthropic/v1/messages/batches/([A-Za-z0-9_-]+)")
A_CANCEL = re.compile(r"/anthropic/v1/messages/batches/([A-Za-z0-9_-]+)/cancel")
A_RESULTS = re.compile(r"/anthropic/v1/messages/batches/([A-Za-z0-9_-]+)/results")
G_CREATE = re.compile(r"/gemini/v1beta/models/([^/:]+):batchGenerateContent")
G_BATCH = re.compile(r"/gemini/v1beta/batches/([A-Za-z0-9_-]+)")
G_CANCEL = re.compile(r"/gemini/v1beta/batches/([A-Za-z0-9_-]+):cancel")
G_UPLOAD = re.compile(r"/gemini/upload/v1beta/files")
G_DOWNLOAD = re.compile(r"/gemini/download/v1beta/files/([A-Za-z0-9_-]+):download")
# The Files API takes files up to 2 GB; the mock keeps uploads in memory, so it takes less.
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
MAX_REQUESTS = 10_000


def _anthropic_error(status: int, kind: str, message: str) -> tuple[int, dict]:
    return status, {"type": "error", "error": {"type": kind, "message": message}}


def _gemini_error(status: int, name: str, message: str) -> tuple[int, dict]:
    return status, {"error": {"code": status, "message": message, "status": name}}


def run_request(mock: Any, handler: Any, family: str, body: Any, model: str | None) -> tuple[str, Any]:
    """What becomes of one batched request: ("reply", the live body), ("expired", None),
    ("errored", message)."""
    if not isinstance(body, dict):
        return "errored", "the request has no JSON body"
    try:
        chat = mock.PARSERS[family](body, family, model)
    except (ValueError, mock.RequestInvalid) as exc:
        return "errored", f"invalid request: {exc}"
    with batch_api.STATE.lock:
        if batch_api._take(batch_api.STATE.expire, chat.prompt_text):
            return "expired", None
        if batch_api._take(batch_api.STATE.error, chat.prompt_text):
            return "errored", "the server had an error processing the request"
    state = handler.server.state
    agent = mock.infer_agent(chat)
    rule = state.take_rule(chat.prompt_text, agent, family, family)
    reply, completion_text = mock.Handler._compose(handler, chat, agent, rule, None)
    usage = mock.normalized_usage(chat.prompt_text, completion_text, rule.get("usage") if rule else None)
    raw_usage = (rule.get("usage") or {}).get("raw") if rule else None
    wire_usage = mock.family_usage(family, usage, raw_usage)
    entry = state.record(handler._base_entry(family, "batch", json.dumps(body).encode("utf-8")), handler._raw())
    entry["agent"] = agent
    entry["status"] = 200
    entry["usage"] = usage
    return "reply", mock.SUCCESS_BUILDERS[family](chat, reply, wire_usage)


def _due(batch: dict, now: float) -> bool:
    if now < batch["_due"]:
        return False
    if batch["_polls_left"] > 0:
        batch["_polls_left"] -= 1
        return False
    return True


def _register(ids: list[str], batch: dict) -> None:
    with batch_api.STATE.lock:
        for custom_id in ids:
            batch_api.STATE.uploads[custom_id] = batch_api.STATE.uploads.get(custom_id, 0) + 1
        batch_api.STATE.batches[batch["_key"]] = batch


# --- Anthropic -----------------------------------------------------------------------------

def _message_batch(batch: dict) -> dict:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _anthropic_finish(mock: Any, handler: Any, batch: dict, now: float) -> None:
    """Runs a due batch (or marks a canceling one's requests canceled) and ends it, once."""
    if batch["processing_status"] == "ended":
        return
    canceling = batch["processing_status"] == "canceling"
    if not canceling and not _due(batch, now):
        return
    lines, counts = [], {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    for custom_id, params in batch["_requests"]:
        if canceling:
            kind, value = "canceled", None
        else:
            kind, value = run_request(mock, handler, "anthropic", params, None)
        if kind == "reply":
            result = {"type": "succeeded", "message": value}
            counts["succeeded"] += 1
        elif kind == "expired":
            result = {"type": "expired"}
            counts["expired"] += 1
        elif kind == "canceled":
            result = {"type": "canceled"}
            counts["canceled"] += 1
        else:
            result = {"type": "errored", "error": {"type": "error",
                                                   "error": {"type": "api_error", "message": value}}}
            counts["errored"] += 1
        lines.append(json.dumps({"custom_id": custom_id, "result": result}))
    host = handler.headers.get("Host", "127.0.0.1")
    with batch_api.STATE.lock:
        batch["_results"] = "\n".join(lines) + "\n"
        batch["processing_status"] = "ended"
        batch["request_counts"] = counts
        batch["ended_at"] = _iso(now)
        batch["results_url"] = f"http://{host}/anthropic/v1/messages/batches/{batch['id']}/results"


def _iso(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


def _anthropic(mock: Any, handler: Any, method: str, path: str, raw: bytes, now: float) -> tuple[int, Any]:
    if method == "POST" and A_BATCHES.fullmatch(path):
        try:
            body = json.loads(raw.decode("utf-8"))
            requests = body["requests"]
            pairs = [(r["custom_id"], r["params"]) for r in requests]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            return _anthropic_error(400, "invalid_request_error", f"requests: each needs custom_id and params ({exc})")
        ids = [p[0] for p in pairs]
        if not ids or len(ids) > MAX_REQUESTS:
            return _anthropic_error(400, "invalid_request_error", "requests: between 1 and 10,000 items")
        if len(set(ids)) != len(ids) or not all(isinstance(i, str) and CUSTOM_ID.fullmatch(i) for i in ids):
            return _anthropic_error(400, "invalid_request_error",
                                    "custom_id values must be unique and match ^[a-zA-Z0-9_-]{1,64}$")
        if any(isinstance(p, dict) and p.get("stream") for _, p in pairs):
            return _anthropic_error(400, "invalid_request_error", "params.stream: not supported in a batch")
        batch_id = "msgbatch_" + uuid.uuid4().hex[:24]
        batch = {
            "id": batch_id, "type": "message_batch", "processing_status": "in_progress",
            "request_counts": {"processing": len(ids), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
            "ended_at": None, "created_at": _iso(now), "expires_at": _iso(now + 86_400),
            "cancel_initiated_at": None, "archived_at": None, "results_url": None,
            "_key": batch_id, "_family": "anthropic", "_custom_ids": ids, "_requests": pairs,
            "_due": now + batch_api.STATE.turnaround_ms / 1000, "_polls_left": batch_api.STATE.turnaround_polls,
        }
        _register(ids, batch)
        return 200, _message_batch(batch)
    for pattern in (A_CANCEL, A_RESULTS, A_BATCH):
        m = pattern.fullmatch(path)
        if m:
            break
    with batch_api.STATE.lock:
        batch = batch_api.STATE.batches.get(m.group(1)) if m else None
    if m and batch is None:
        return _anthropic_error(404, "not_found_error", f"message batch {m.group(1)} not found")
    if method == "POST" and pattern is A_CANCEL and m:
        with batch_api.STATE.lock:
            if batch["processing_status"] == "in_progress":
                batch["processing_status"] = "canceling"
                batch["cancel_initiated_at"] = _iso(now)
        return 200, _message_batch(batch)
    if method == "GET" and pattern is A_RESULTS and m:
        if batch["processing_status"] != "ended":
            return _anthropic_error(400, "invalid_request_error", "the batch has not ended; its results are not ready")
        return 200, batch["_results"].encode("utf-8")
    if method == "GET" and pattern is A_BATCH and m:
        _anthropic_finish(mock, handler, batch, now)
        return 200, _message_batch(batch)
    return _anthropic_error(405, "invalid_request_error", f"mock provider: {method} {path} is not part of the batch API")


# --- Gemini --------------------------------------------------------------------------------

def _operation(batch: dict) -> dict:
    state = batch["_state"]
    done = state in ("BATCH_STATE_SUCCEEDED", "BATCH_STATE_EXPIRED", "BATCH_STATE_CANCELLED", "BATCH_STATE_FAILED")
    n = len(batch["_requests"])
    stats = {"requestCount": str(n)}
    if done:
        ok = sum(1 for r in batch["_responses"] if "response" in r)
        failed = sum(1 for r in batch["_responses"] if "error" in r)
        stats.update(successfulRequestCount=str(ok), failedRequestCount=str(failed))
    else:
        stats.update(pendingRequestCount=str(n))
    metadata = {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
        "model": f"models/{batch['_model']}", "displayName": batch["_display_name"],
        "createTime": batch["_created"], "state": state, "batchStats": stats, "name": batch["_key"],
    }
    op = {"name": batch["_key"], "metadata": metadata, "done": done}
    if done:
        output = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput"}
        if batch.get("_responses_file"):
            output["responsesFile"] = batch["_responses_file"]
        else:
            output["inlinedResponses"] = {"inlinedResponses": batch["_responses"]}
        op["response"] = output
    return op


def _gemini_finish(mock: Any, handler: Any, batch: dict, now: float) -> None:
    if batch["_state"] not in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"):
        return
    if not _due(batch, now):
        with batch_api.STATE.lock:
            batch["_state"] = "BATCH_STATE_RUNNING"
        return
    responses, expired = [], False
    for key, request in batch["_requests"]:
        kind, value = run_request(mock, handler, "gemini", request, batch["_model"])
        if kind == "reply":
            responses.append({"response": value, "metadata": {"key": key}})
        elif kind == "expired":
            # A request the window closed on has no response; the batch ends EXPIRED.
            expired = True
        else:
            responses.append({"error": {"code": 13, "message": value}, "metadata": {"key": key}})
    with batch_api.STATE.lock:
        batch["_responses"] = responses
        batch["_state"] = "BATCH_STATE_EXPIRED" if expired else "BATCH_STATE_SUCCEEDED"
        if batch.get("_file_input"):
            # A file's output names each line by its input line's key.
            lines = [{"key": r["metadata"]["key"], **{k: v for k, v in r.items() if k != "metadata"}}
                     for r in responses]
            name = "files/" + "out-" + batch["_key"].split("/", 1)[1]
            FILES[name] = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")
            batch["_responses_file"] = name


# Uploaded and written files by name (`files/...`), and resumable uploads begun, by upload id.
FILES: dict[str, bytes] = {}
UPLOADS: dict[str, dict] = {}


def reset() -> None:
    """Forgets every file and upload (the mock's reset)."""
    FILES.clear()
    UPLOADS.clear()


def body_limit(path: str) -> int | None:
    """The largest request body `path` takes, when it takes more than the mock's default."""
    return MAX_UPLOAD_BYTES if G_UPLOAD.fullmatch(path) else None


def _upload(handler: Any, raw: bytes) -> tuple[int, Any] | tuple[int, Any, dict]:
    command = handler.headers.get("X-Goog-Upload-Command", "").lower()
    if command == "start":
        if handler.headers.get("X-Goog-Upload-Protocol", "").lower() != "resumable":
            return _gemini_error(400, "INVALID_ARGUMENT", "mock provider: only resumable uploads")
        try:
            length = int(handler.headers.get("X-Goog-Upload-Header-Content-Length", ""))
        except ValueError:
            return _gemini_error(400, "INVALID_ARGUMENT", "X-Goog-Upload-Header-Content-Length is required")
        upload_id = uuid.uuid4().hex
        UPLOADS[upload_id] = {"length": length,
                              "type": handler.headers.get("X-Goog-Upload-Header-Content-Type", "")}
        host = handler.headers.get("Host", "127.0.0.1")
        url = f"http://{host}/gemini/upload/v1beta/files?upload_id={upload_id}&upload_protocol=resumable"
        # A page reads the upload URL only when the response exposes it.
        return 200, {}, {"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active",
                         "Access-Control-Expose-Headers": "x-goog-upload-url, x-goog-upload-status"}
    if command in ("upload, finalize", "upload,finalize"):
        query = handler.path.partition("?")[2]
        upload_id = dict(p.partition("=")[::2] for p in query.split("&") if p).get("upload_id", "")
        begun = UPLOADS.pop(upload_id, None)
        if begun is None:
            return _gemini_error(404, "NOT_FOUND", "no such upload")
        if handler.headers.get("X-Goog-Upload-Offset", "0") != "0" or len(raw) != begun["length"]:
            return _gemini_error(400, "INVALID_ARGUMENT",
                                 f"expected {begun['length']} bytes at offset 0, got {len(raw)}")
        name = "files/" + uuid.uuid4().hex[:16]
        FILES[name] = raw
        return 200, {"file": {"name": name, "mimeType": begun["type"], "sizeBytes": str(len(raw)),
                              "state": "ACTIVE"}}
    return _gemini_error(400, "INVALID_ARGUMENT", f"mock provider: upload command {command!r} is not supported")


def _file_requests(name: str) -> list[tuple[str, Any]]:
    """The (key, request) pairs of uploaded input file `name`."""
    data = FILES.get(name)
    if data is None:
        raise KeyError(f"{name} not found")
    pairs = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            pairs.append((item["key"], item["request"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"line {number} needs key and request ({exc})") from None
    return pairs


def _gemini(mock: Any, handler: Any, method: str, path: str, raw: bytes, now: float) -> tuple:
    if method == "POST" and G_UPLOAD.fullmatch(path):
        return _upload(handler, raw)
    download = G_DOWNLOAD.fullmatch(path)
    if method == "GET" and download:
        data = FILES.get("files/" + download.group(1))
        if data is None:
            return _gemini_error(404, "NOT_FOUND", f"files/{download.group(1)} not found")
        return 200, data
    m = G_CREATE.fullmatch(path)
    if method == "POST" and m:
        try:
            body = json.loads(raw.decode("utf-8"))
            batch_in = body["batch"]
            file_name = batch_in["inputConfig"].get("fileName")
            if file_name is None:
                inline = batch_in["inputConfig"]["requests"]["requests"]
                pairs = [(r["metadata"]["key"], r["request"]) for r in inline]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            return _gemini_error(400, "INVALID_ARGUMENT",
                                 f"batch.inputConfig.requests.requests[] needs request and metadata.key ({exc})")
        if file_name is not None:
            try:
                pairs = _file_requests(file_name)
            except KeyError as exc:
                return _gemini_error(404, "NOT_FOUND", str(exc))
            except ValueError as exc:
                return _gemini_error(400, "INVALID_ARGUMENT", f"{file_name}: {exc}")
        ids = [p[0] for p in pairs]
        if not ids or len(set(ids)) != len(ids):
            return _gemini_error(400, "INVALID_ARGUMENT", "requests must be non-empty with unique metadata keys")
        key = "batches/" + uuid.uuid4().hex[:20]
        batch = {
            "_key": key, "_family": "gemini", "_custom_ids": ids, "_requests": pairs, "_model": m.group(1),
            "_display_name": str(batch_in.get("displayName", "")), "_created": _iso(now),
            "_state": "BATCH_STATE_PENDING", "_responses": [],
            "_due": now + batch_api.STATE.turnaround_ms / 1000, "_polls_left": batch_api.STATE.turnaround_polls,
            "_file_input": file_name is not None,
        }
        _register(ids, batch)
        return 200, _operation(batch)
    cancel = G_CANCEL.fullmatch(path)
    get = G_BATCH.fullmatch(path)
    name = "batches/" + (cancel or get).group(1) if (cancel or get) else None
    with batch_api.STATE.lock:
        batch = batch_api.STATE.batches.get(name) if name else None
    if name and batch is None:
        return _gemini_error(404, "NOT_FOUND", f"{name} not found")
    if method == "POST" and cancel:
        with batch_api.STATE.lock:
            if batch["_state"] in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"):
                batch["_state"] = "BATCH_STATE_CANCELLED"
        return 200, {}
    if method == "GET" and get:
        _gemini_finish(mock, handler, batch, now)
        return 200, _operation(batch)
    return _gemini_error(405, "INVALID_ARGUMENT", f"mock provider: {method} {path} is not part of the batch API")


def handle(mock: Any, handler: Any, method: str, path: str, raw: bytes) -> tuple[int, Any] | None:
    """The reply to an Anthropic or Gemini batch request, or None when `path` is not one."""
    if method == "POST" and path == "/__mock/reset":
        reset()
        return None  # the server resets its own state too
    anthropic = any(p.fullmatch(path) for p in (A_BATCHES, A_BATCH, A_CANCEL, A_RESULTS))
    gemini = any(p.fullmatch(path) for p in (G_CREATE, G_BATCH, G_CANCEL, G_UPLOAD, G_DOWNLOAD))
    if not anthropic and not gemini:
        return None
    family = "anthropic" if anthropic else "gemini"
    path_query = handler.path.partition("?")[2]
    query = {k: [v] for k, _, v in (p.partition("=") for p in path_query.split("&") if p)}
    problem = handler._auth_error(family, query)
    if problem:
        return problem
    now = time.time()
    if anthropic:
        return _anthropic(mock, handler, method, path, raw, now)
    return _gemini(mock, handler, method, path, raw, now)

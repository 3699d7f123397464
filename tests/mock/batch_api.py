"""The mock provider's OpenAI Batch API: file upload, batch create, retrieve, cancel and the
output and error files, with a configurable turnaround, partial errors and expiry.

Shapes follow OpenAI's reference (https://platform.openai.com/docs/api-reference/batch and
https://platform.openai.com/docs/api-reference/files): an input file is JSONL uploaded as
multipart/form-data with `purpose=batch`; each line is `{custom_id, method, url, body}`; a batch
goes `validating` -> `in_progress` -> `completed` (or `expired`, or `cancelling` -> `cancelled`)
and counts its requests in `request_counts` (`total`, `completed`, `failed`); its output file
has one `{id, custom_id, response: {status_code, request_id, body}, error: null}` line per
request that ran, its error file one `{..., response: null, error: {code, message}}` line per
request that did not (`batch_expired` for those the window closed on).

Each line is answered as the chat route would answer it live (scripted rules, default replies,
token counts), so a batch costs the same tokens as the same calls made one by one.

Test hooks:
- POST /__mock/batch-config
  `{"turnaround_ms": 0, "turnaround_polls": 0, "expire": ["substr"], "error": ["substr"]}`:
  how long a batch takes from creation to completion (in time, and in retrieves that see it
  still running, so tests need not sleep); the first line whose prompt contains an
  `expire` substring comes back `batch_expired`, one containing an `error` substring comes back
  with a `server_error` (each substring is used once).
- GET /__mock/batches: every batch (of every family, see batch_families.py) with its family,
  custom ids and status, and how many times each custom id was uploaded, so tests can check
  nothing was submitted twice.

Standard library only.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import Any

ROOT = r"/(openai|local|openrouter)/v1"
FILES = re.compile(ROOT + r"/files")
FILE_CONTENT = re.compile(ROOT + r"/files/([A-Za-z0-9_-]+)/content")
BATCHES = re.compile(ROOT + r"/batches")
BATCH = re.compile(ROOT + r"/batches/([A-Za-z0-9_-]+)")
BATCH_CANCEL = re.compile(ROOT + r"/batches/([A-Za-z0-9_-]+)/cancel")
# Bounds that keep the mock's memory finite.
MAX_FILES = 1000
MAX_LINES = 50_000


class BatchState:
    """Files and batches, shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.files: dict[str, str] = {}
        self.batches: dict[str, dict] = {}
        self.uploads: dict[str, int] = {}
        self.turnaround_ms = 0
        self.turnaround_polls = 0
        self.expire: list[str] = []
        self.error: list[str] = []


STATE = BatchState()


def _multipart_file(content_type: str, raw: bytes) -> tuple[str | None, str | None]:
    """The `purpose` field and the `file` part of a multipart/form-data body."""
    m = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not m:
        return None, None
    boundary = ("--" + m.group(1)).encode("utf-8")
    purpose = file_text = None
    for part in raw.split(boundary):
        head, sep, body = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        if body.endswith(b"\r\n"):
            body = body[:-2]
        name = re.search(rb'name="([^"]+)"', head)
        if not name:
            continue
        if name.group(1) == b"purpose":
            purpose = body.decode("utf-8", errors="replace").strip()
        elif name.group(1) == b"file":
            file_text = body.decode("utf-8", errors="replace")
    return purpose, file_text


def _error(status: int, message: str) -> tuple[int, dict]:
    return status, {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


def _batch_object(batch: dict) -> dict:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _take(substrings: list[str], prompt: str) -> bool:
    for i, s in enumerate(substrings):
        if s in prompt:
            del substrings[i]
            return True
    return False


def _run_line(mock: Any, handler: Any, line: dict) -> tuple[dict | None, dict | None]:
    """The live reply to one input line, as (response, error)."""
    body = line.get("body")
    if not isinstance(body, dict):
        return None, {"code": "invalid_request", "message": "the line has no JSON body"}
    try:
        chat = mock.PARSERS["openai"](body, "openai", None)
    except (ValueError, mock.RequestInvalid) as exc:
        return {"status_code": 400, "request_id": "req_" + uuid.uuid4().hex[:12],
                "body": mock._openai_error(str(exc), "invalid_request_error", None)}, None
    with STATE.lock:
        if _take(STATE.expire, chat.prompt_text):
            return None, {"code": "batch_expired",
                          "message": "This request could not be executed before the completion window expired."}
        if _take(STATE.error, chat.prompt_text):
            return None, {"code": "server_error", "message": "The server had an error processing the request."}
    state = handler.server.state
    agent = mock.infer_agent(chat)
    rule = state.take_rule(chat.prompt_text, agent, "openai", "openai")
    reply, completion_text = mock.Handler._compose(handler, chat, agent, rule, None)
    usage = mock.normalized_usage(chat.prompt_text, completion_text, rule.get("usage") if rule else None)
    raw_usage = (rule.get("usage") or {}).get("raw") if rule else None
    wire_usage = mock.family_usage("openai", usage, raw_usage)
    entry = state.record(handler._base_entry("openai", "batch", json.dumps(body).encode("utf-8")), handler._raw())
    entry["agent"] = agent
    entry["status"] = 200
    entry["usage"] = usage
    return {"status_code": 200, "request_id": "req_" + uuid.uuid4().hex[:12],
            "body": mock.SUCCESS_BUILDERS["openai"](chat, reply, wire_usage)}, None


def _finish(mock: Any, handler: Any, batch: dict, now: float) -> None:
    """Runs a due batch's lines and writes its output and error files (once)."""
    if batch["status"] not in ("validating", "in_progress") or now < batch["_due"]:
        return
    if batch["_polls_left"] > 0:
        batch["_polls_left"] -= 1
        return
    text = STATE.files.get(batch["input_file_id"], "")
    out, err = [], []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        line = json.loads(raw)
        response, error = _run_line(mock, handler, line)
        record = {"id": "batch_req_" + uuid.uuid4().hex[:16], "custom_id": line.get("custom_id"),
                  "response": response, "error": error}
        (out if response is not None else err).append(json.dumps(record))
    with STATE.lock:
        batch["status"] = "completed"
        batch["completed_at"] = int(now)
        batch["request_counts"] = {"total": len(out) + len(err), "completed": len(out), "failed": len(err)}
        if out:
            batch["output_file_id"] = "file-" + uuid.uuid4().hex[:24]
            STATE.files[batch["output_file_id"]] = "\n".join(out) + "\n"
        if err:
            batch["error_file_id"] = "file-" + uuid.uuid4().hex[:24]
            STATE.files[batch["error_file_id"]] = "\n".join(err) + "\n"


def handle(mock: Any, handler: Any, method: str, path: str, raw: bytes) -> tuple[int, Any] | None:
    """The reply to a batch API request, or None when `path` is not one."""
    if method == "POST" and path == "/__mock/batch-config":
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
            turnaround = int(body.get("turnaround_ms", 0))
            polls = int(body.get("turnaround_polls", 0))
            expire = [str(s) for s in body.get("expire", [])]
            error = [str(s) for s in body.get("error", [])]
        except (ValueError, AttributeError, TypeError) as exc:
            return _error(400, f"batch-config body must be {{turnaround_ms, turnaround_polls, expire, error}}: {exc}")
        with STATE.lock:
            STATE.turnaround_ms, STATE.turnaround_polls = max(0, turnaround), max(0, polls)
            STATE.expire, STATE.error = expire, error
        return 200, {"turnaround_ms": STATE.turnaround_ms, "turnaround_polls": STATE.turnaround_polls,
                     "expire": expire, "error": error}
    if method == "GET" and path == "/__mock/batches":
        with STATE.lock:
            return 200, {"batches": [dict(_batch_object(b), custom_ids=b["_custom_ids"],
                                          family=b.get("_family", "openai"))
                                     for b in STATE.batches.values()],
                         "uploads": dict(STATE.uploads)}
    if method == "POST" and path == "/__mock/reset":
        with STATE.lock:
            STATE.reset()
        return None  # the server resets its own state too

    if not any(p.fullmatch(path) for p in (FILES, FILE_CONTENT, BATCHES, BATCH, BATCH_CANCEL)):
        return None
    problem = handler._auth_error("openai", {})
    if problem:
        return problem
    now = time.time()

    if method == "POST" and FILES.fullmatch(path):
        purpose, text = _multipart_file(handler.headers.get("Content-Type", ""), raw)
        if purpose != "batch" or text is None:
            return _error(400, "upload a `file` part with purpose `batch` as multipart/form-data")
        ids = []
        for n, line in enumerate(l for l in text.splitlines() if l.strip()):
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError as exc:
                return _error(400, f"line {n + 1} of the file is not JSON: {exc}")
            if not isinstance(parsed, dict) or not {"custom_id", "method", "url", "body"} <= parsed.keys():
                return _error(400, f"line {n + 1} needs custom_id, method, url and body")
            ids.append(parsed["custom_id"])
        if len(ids) != len(set(ids)) or len(ids) > MAX_LINES:
            return _error(400, "custom_id values must be unique within a file (at most 50,000 lines)")
        with STATE.lock:
            if len(STATE.files) >= MAX_FILES:
                return _error(400, "the mock holds too many files; POST /__mock/reset")
            file_id = "file-" + uuid.uuid4().hex[:24]
            STATE.files[file_id] = text
        return 200, {"id": file_id, "object": "file", "bytes": len(text.encode("utf-8")),
                     "created_at": int(now), "filename": "batch.jsonl", "purpose": "batch"}

    if method == "POST" and BATCHES.fullmatch(path):
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(400, f"invalid JSON body: {exc}")
        file_id = body.get("input_file_id") if isinstance(body, dict) else None
        with STATE.lock:
            text = STATE.files.get(file_id) if isinstance(file_id, str) else None
            if text is None:
                return _error(404, f"No such File object: {file_id}")
            if body.get("endpoint") != "/v1/chat/completions" or body.get("completion_window") != "24h":
                return _error(400, "endpoint must be /v1/chat/completions and completion_window 24h")
            ids = [json.loads(l)["custom_id"] for l in text.splitlines() if l.strip()]
            for custom_id in ids:
                STATE.uploads[custom_id] = STATE.uploads.get(custom_id, 0) + 1
            batch_id = "batch_" + uuid.uuid4().hex[:24]
            batch = {
                "id": batch_id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": None,
                "input_file_id": file_id, "completion_window": "24h", "status": "validating",
                "output_file_id": None, "error_file_id": None, "created_at": int(now),
                "in_progress_at": None, "expires_at": int(now) + 86_400, "completed_at": None,
                "cancelled_at": None, "request_counts": {"total": len(ids), "completed": 0, "failed": 0},
                "metadata": None, "_due": now + STATE.turnaround_ms / 1000, "_custom_ids": ids,
                "_polls_left": STATE.turnaround_polls,
            }
            STATE.batches[batch_id] = batch
            return 200, _batch_object(batch)

    m = BATCH_CANCEL.fullmatch(path)
    if method == "POST" and m:
        with STATE.lock:
            batch = STATE.batches.get(m.group(2))
            if batch is None:
                return _error(404, f"No batch found with id '{m.group(2)}'")
            if batch["status"] in ("validating", "in_progress"):
                # Nothing of it has run: every request is in the error file... none here, as
                # OpenAI leaves requests that never started out of both files.
                batch["status"] = "cancelled"
                batch["cancelled_at"] = int(now)
            return 200, _batch_object(batch)

    m = BATCH.fullmatch(path)
    if method == "GET" and m:
        with STATE.lock:
            batch = STATE.batches.get(m.group(2))
        if batch is None:
            return _error(404, f"No batch found with id '{m.group(2)}'")
        _finish(mock, handler, batch, now)
        with STATE.lock:
            if batch["status"] == "validating":
                batch["status"] = "in_progress"
                batch["in_progress_at"] = int(now)
            return 200, _batch_object(batch)

    m = FILE_CONTENT.fullmatch(path)
    if method == "GET" and m:
        with STATE.lock:
            text = STATE.files.get(m.group(2))
        if text is None:
            return _error(404, f"No such File object: {m.group(2)}")
        return 200, text.encode("utf-8")
    return _error(405, f"mock provider: {method} {path} is not part of the batch API")

"""Streamed replies of the mock provider: each family's server-sent events for a reply.

`mock_provider.py` decides what the model "said" (text or tool input, thinking, finish, usage)
exactly as for a whole reply; this module only cuts that reply into the family's stream events,
so a streamed reply and its non-streamed twin always say the same thing. Python 3.11 standard
library only.

Facts about the wire shapes (field and event names, where usage travels) come from these public
references; the code is ours:

- OpenAI chat completions streaming: `chat.completion.chunk` objects whose `choices[0].delta`
  carries `role`, `content` and `refusal` pieces, a last chunk with `finish_reason`, then
  `data: [DONE]`; with `stream_options: {"include_usage": true}` every chunk has `usage: null`
  and one more chunk before `[DONE]` has `choices: []` and the whole request's usage
  (<https://platform.openai.com/docs/api-reference/chat-streaming/streaming> and
  <https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options>).
  Thinking text streams as `delta.reasoning_content` on the OpenAI-compatible hosts that return
  it (<https://api-docs.deepseek.com/guides/reasoning_model>).
- Anthropic Messages streaming: `message_start` (the message with empty content and the input
  usage), per content block `content_block_start`, `content_block_delta`s (`text_delta`,
  `thinking_delta`, `signature_delta`, `input_json_delta` with `partial_json`) and
  `content_block_stop`, then `message_delta` (stop reason, cumulative `output_tokens`) and
  `message_stop`, with `ping`s between (<https://docs.anthropic.com/en/docs/build-with-claude/streaming>).
- Gemini `models/{model}:streamGenerateContent?alt=sse`: each event one
  `GenerateContentResponse` with the next parts of the candidate (thought summaries marked
  `thought: true`), `usageMetadata` on every event and `finishReason` on the last
  (<https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent>,
  <https://ai.google.dev/gemini-api/docs/thinking#summaries>). Without `alt=sse` the same
  responses come as one JSON array.
- Cohere v2 chat streaming: `message-start`, per content part `content-start` (its `type`,
  `text` or `thinking`), `content-delta`s and `content-end`, then `message-end` whose `delta`
  holds `finish_reason` and `usage` (<https://docs.cohere.com/docs/streaming>,
  <https://docs.cohere.com/reference/chat-stream>).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

# One streamed piece per word and the space after it: roughly one token per event, as models
# stream.
PIECE = re.compile(r"\s*\S+\s*|\s+")


def pieces(text: str) -> list[str]:
    """`text` cut into the pieces a model streams (their concatenation is `text`)."""
    return PIECE.findall(text) if text else []


@dataclass
class StreamReply:
    """What a streamed reply says, family-neutral: the same facts a whole reply is built from."""

    model: str
    text: str = ""
    thinking: str = ""
    # Anthropic's signature of its thinking block (other families have none).
    signature: str = ""
    tool_input: dict | None = None
    tool_name: str | None = None
    truncated: bool = False
    refusal: bool = False
    refusal_text: str = ""
    # The family's wire usage object (or None when the reply carries none).
    usage: dict | None = None


def requested(family: str, body: dict, path: str) -> bool:
    """Whether the request asked for a stream: `stream: true` in the body, or Gemini's
    `streamGenerateContent` method in the path."""
    if family == "gemini":
        return path.endswith(":streamGenerateContent")
    return body.get("stream") is True


def include_usage(body: dict) -> bool:
    """Whether an OpenAI-compatible stream ends with a usage chunk (`stream_options`)."""
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event: an optional `event:` line, one `data:` line, a blank line."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode("utf-8")


@dataclass
class Stream:
    """A reply's events in order, and where the answer is half sent (where `cut` and `pause`
    stop): after the thinking and the first half of the answer's pieces."""

    events: list[bytes]
    middle: int


class _Builder:
    def __init__(self) -> None:
        # Framed events (bytes), or Gemini's response objects before they are framed.
        self.events: list[Any] = []
        self.middle: int | None = None
        self._answer: list[str] = []

    def answer_pieces(self, text: str) -> list[str]:
        """The answer's pieces; the builder notes the middle when the first half is emitted."""
        self._answer = pieces(text)
        return self._answer

    def emit(self, event: Any, answer_index: int | None = None) -> None:
        self.events.append(event)
        if answer_index is not None and self.middle is None and answer_index + 1 >= (len(self._answer) + 1) // 2:
            self.middle = len(self.events)

    def done(self) -> Stream:
        return Stream(self.events, self.middle if self.middle is not None else len(self.events) // 2)


def openai_stream(reply: StreamReply, with_usage: bool) -> Stream:
    b = _Builder()
    cid = "chatcmpl-" + uuid.uuid4().hex[:29]
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None) -> dict:
        out = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": reply.model,
            "service_tier": "default",
            "system_fingerprint": "fp_mock",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if with_usage:
            out["usage"] = None
        return out

    b.emit(sse(chunk({"role": "assistant", "content": "", "refusal": None})))
    for piece in pieces(reply.thinking):
        b.emit(sse(chunk({"reasoning_content": piece})))
    if reply.refusal:
        for i, piece in enumerate(b.answer_pieces(reply.refusal_text)):
            b.emit(sse(chunk({"refusal": piece})), i)
    else:
        for i, piece in enumerate(b.answer_pieces(reply.text)):
            b.emit(sse(chunk({"content": piece})), i)
    b.emit(sse(chunk({}, "length" if reply.truncated else "stop")))
    if with_usage and reply.usage is not None:
        last = chunk({})
        last["choices"] = []
        last["usage"] = reply.usage
        b.emit(sse(last))
    b.emit(sse("[DONE]"))
    return b.done()


def anthropic_stream(reply: StreamReply) -> Stream:
    b = _Builder()
    message = {
        "id": "msg_01" + uuid.uuid4().hex[:24],
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
    }
    usage = reply.usage
    if usage is not None:
        # The input side is known at the start; output_tokens counts up to the final figure,
        # which `message_delta` carries.
        message["usage"] = {**usage, "output_tokens": 1}
    b.emit(sse({"type": "message_start", "message": message}, "message_start"))
    b.emit(sse({"type": "ping"}, "ping"))
    index = 0
    if reply.thinking and not reply.refusal:
        b.emit(sse({"type": "content_block_start", "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""}}, "content_block_start"))
        for piece in pieces(reply.thinking):
            b.emit(sse({"type": "content_block_delta", "index": index,
                        "delta": {"type": "thinking_delta", "thinking": piece}}, "content_block_delta"))
        b.emit(sse({"type": "content_block_delta", "index": index,
                    "delta": {"type": "signature_delta", "signature": reply.signature}}, "content_block_delta"))
        b.emit(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
        index += 1
    if reply.refusal:
        stop = "refusal"
    elif reply.tool_input is not None:
        b.emit(sse({"type": "content_block_start", "index": index,
                    "content_block": {"type": "tool_use", "id": "toolu_01" + uuid.uuid4().hex[:24],
                                      "name": reply.tool_name, "input": {}}}, "content_block_start"))
        text = json.dumps(reply.tool_input, ensure_ascii=False)
        for i, piece in enumerate(b.answer_pieces(text)):
            b.emit(sse({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece}}, "content_block_delta"), i)
        b.emit(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
        stop = "max_tokens" if reply.truncated else "tool_use"
    else:
        b.emit(sse({"type": "content_block_start", "index": index,
                    "content_block": {"type": "text", "text": ""}}, "content_block_start"))
        for i, piece in enumerate(b.answer_pieces(reply.text)):
            b.emit(sse({"type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": piece}}, "content_block_delta"), i)
        b.emit(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
        stop = "max_tokens" if reply.truncated else "end_turn"
    delta: dict = {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}}
    if usage is not None:
        delta["usage"] = {"output_tokens": usage.get("output_tokens", 0)}
    b.emit(sse(delta, "message_delta"))
    b.emit(sse({"type": "message_stop"}, "message_stop"))
    return b.done()


def gemini_responses(reply: StreamReply) -> Stream:
    """The `GenerateContentResponse`s of a Gemini stream, as JSON objects (not yet framed)."""
    b = _Builder()
    response_id = uuid.uuid4().hex[:22]
    usage = reply.usage
    # Until the end, usageMetadata counts the prompt only; the last response counts it all.
    running = None if usage is None else {
        "promptTokenCount": usage.get("promptTokenCount", 0),
        "totalTokenCount": usage.get("promptTokenCount", 0),
    }

    def response(parts: list[dict] | None, finish: str | None = None, final: bool = False) -> dict:
        out: dict = {}
        if parts is not None:
            candidate: dict = {"content": {"parts": parts, "role": "model"}}
            if finish:
                candidate["finishReason"] = finish
            candidate["index"] = 0
            out["candidates"] = [candidate]
        if usage is not None:
            out["usageMetadata"] = usage if final else running
        out["modelVersion"] = reply.model
        out["responseId"] = response_id
        return out

    if reply.refusal:
        blocked = response(None, final=True)
        blocked = {"promptFeedback": {
            "blockReason": "SAFETY",
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}],
        }, **blocked}
        b.events.append(blocked)
        return b.done()
    for piece in pieces(reply.thinking):
        b.events.append(response([{"text": piece, "thought": True}]))
    answer = b.answer_pieces(reply.text)
    finish = "MAX_TOKENS" if reply.truncated else "STOP"
    if not answer:
        b.events.append(response([{"text": ""}], finish, final=True))
        return b.done()
    for i, piece in enumerate(answer):
        last = i == len(answer) - 1
        b.emit(response([{"text": piece}], finish if last else None, final=last), i)
    return b.done()


def gemini_stream(reply: StreamReply, alt_sse: bool) -> Stream:
    responses = gemini_responses(reply)
    if alt_sse:
        return Stream([sse(r) for r in responses.events], responses.middle)
    # Without `alt=sse` the API streams one JSON array whose elements are the responses.
    events = []
    for i, r in enumerate(responses.events):
        events.append(("[" if i == 0 else ",\r\n").encode("utf-8") + json.dumps(r, ensure_ascii=False).encode("utf-8"))
    events.append(b"]")
    return Stream(events, responses.middle)


def cohere_stream(reply: StreamReply) -> Stream:
    b = _Builder()
    b.emit(sse({"id": str(uuid.uuid4()), "type": "message-start",
                "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "",
                                      "tool_calls": [], "citations": []}}}, "message-start"))
    index = 0
    if reply.thinking:
        b.emit(sse({"type": "content-start", "index": index,
                    "delta": {"message": {"content": {"type": "thinking", "thinking": ""}}}}, "content-start"))
        for piece in pieces(reply.thinking):
            b.emit(sse({"type": "content-delta", "index": index,
                        "delta": {"message": {"content": {"thinking": piece}}}}, "content-delta"))
        b.emit(sse({"type": "content-end", "index": index}, "content-end"))
        index += 1
    b.emit(sse({"type": "content-start", "index": index,
                "delta": {"message": {"content": {"type": "text", "text": ""}}}}, "content-start"))
    text = reply.refusal_text if reply.refusal else reply.text
    for i, piece in enumerate(b.answer_pieces(text)):
        b.emit(sse({"type": "content-delta", "index": index,
                    "delta": {"message": {"content": {"text": piece}}}}, "content-delta"), i)
    b.emit(sse({"type": "content-end", "index": index}, "content-end"))
    end: dict = {"finish_reason": "MAX_TOKENS" if reply.truncated else "COMPLETE"}
    if reply.usage is not None:
        end["usage"] = reply.usage
    b.emit(sse({"type": "message-end", "delta": end}, "message-end"))
    return b.done()


def build(family: str, reply: StreamReply, body: dict, query: dict) -> Stream:
    """The events of `reply` in `family`'s stream, for a request with `body` and `query`."""
    if family == "openai":
        return openai_stream(reply, include_usage(body))
    if family == "anthropic":
        return anthropic_stream(reply)
    if family == "gemini":
        return gemini_stream(reply, query.get("alt", [""])[0] == "sse")
    return cohere_stream(reply)


def content_type(family: str, query: dict) -> str:
    if family == "gemini" and query.get("alt", [""])[0] != "sse":
        return "application/json; charset=utf-8"
    return "text/event-stream; charset=utf-8"

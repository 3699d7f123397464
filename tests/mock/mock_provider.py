#!/usr/bin/env python3
"""A local mock of four LLM provider families, for Trialogue's browser tests and benchmarks.

It speaks the chat endpoints of OpenAI-compatible servers, Anthropic Messages, Cohere v2 Chat and
Gemini generateContent with their real wire shapes, answers CORS preflights, serves replies that
tests script by prompt substring, and injects faults (rate limits, server errors, dropped
connections, malformed or truncated bodies, refusals...) on demand. Python 3.11 standard library
only. See README.md beside this file for the endpoints, the scripting API and the token formula.

Usage: python3 tests/mock/mock_provider.py [--port 8099] [--latency-ms 0] [--no-expose-headers]
"""

from __future__ import annotations

import argparse
import collections
import copy
import hashlib
import json
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
import base64
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import mock_streams
import batch_api  # the OpenAI Batch API (files, batches), beside the chat routes
import batch_families  # Anthropic Message Batches and Gemini batch mode

DEFAULT_PORT = 8099
HOST = "127.0.0.1"
BAD_KEY = "bad-key"

# Bounds that keep the server's memory and threads finite whatever the clients do.
LOG_LIMIT = 1000
MAX_RULES = 1000
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_LOGGED_BODY_CHARS = 128 * 1024
MAX_ONCE_KEYS = 10_000
MAX_DELAY_MS = 120_000
MAX_CONCURRENT_CONNECTIONS = 256
SOCKET_TIMEOUT_S = 30

EXPOSED_HEADERS = "retry-after, retry-after-ms, x-ratelimit-remaining-requests"
DEFAULT_ALLOWED_HEADERS = (
    "authorization, content-type, x-api-key, x-goog-api-key, anthropic-version, "
    "anthropic-dangerous-direct-browser-access, anthropic-beta, x-client-name"
)
SECRET_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"}

# Cohere reports the tokens it adds under the hood (chat template) in `usage.tokens` but bills only
# `usage.billed_units`; the mock adds this many template tokens to `tokens.input_tokens`.
COHERE_TEMPLATE_TOKENS = 10

AGENTS = ("solver", "verifier", "judge")
FAMILIES = ("openai", "anthropic", "cohere", "gemini")
ROUTES = ("openai", "local", "openrouter", "anthropic", "cohere", "gemini")

SIMPLE_FAULTS = {
    "429", "500", "503", "529", "401", "404", "context",
    "drop", "malformed", "schema", "nousage", "truncated", "refusal", "echo", "cut",
}
ERROR_FAULTS = {"429", "500", "503", "529", "401", "404", "context"}
FAULT_TOKEN = re.compile(r"\[\[fault:([a-z0-9]+(?::\d+)?)(:once)?\]\]")
FAULT_SPEC = re.compile(r"^(?:(slow):(\d+)|(hold):([a-z0-9][a-z0-9_-]{0,63})|([a-z0-9]+))(:once)?$")
# How often a held reply looks at its gate (and at whether the client is still there).
GATE_POLL_S = 0.02

REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
MOCK_MODELS = {
    "openai": ["gpt-4o", "gpt-4o-mini", "mock-model"],
    "anthropic": ["claude-sonnet-4-20250514", "claude-3-5-haiku-20241022"],
    "cohere": ["command-r-plus-08-2024", "command-a-03-2025"],
    "gemini": ["gemini-2.5-flash", "gemini-2.5-pro"],
}


# --------------------------------------------------------------------------------------------
# Token counting: deterministic so tests can compute the numbers they expect.
# --------------------------------------------------------------------------------------------


def count_tokens(text: str) -> int:
    """Tokens for `text`: whitespace-separated words x 1.3, rounded half up (integer math)."""
    words = len(text.split())
    return (words * 13 + 5) // 10


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One fault to inject: its kind (`429`, `slow`, `hold`, `drop`...), a delay for `slow`, the
    gate for `hold`, and `once`."""

    kind: str
    delay_ms: int = 0
    once: bool = False
    gate: str = ""

    @property
    def spec(self) -> str:
        base = {"slow": f"slow:{self.delay_ms}", "hold": f"hold:{self.gate}"}.get(self.kind, self.kind)
        return base + (":once" if self.once else "")


def parse_fault(spec: str) -> Fault:
    """Parses `429`, `slow:250`, `hold:verifier`, `drop:once`...; raises ValueError with a
    readable message."""
    m = FAULT_SPEC.match(spec.strip())
    if not m:
        raise ValueError(f"unknown fault {spec!r}")
    once = m.group(6) is not None
    if m.group(1):
        delay = int(m.group(2))
        if delay > MAX_DELAY_MS:
            raise ValueError(f"fault {spec!r}: delay above {MAX_DELAY_MS} ms")
        return Fault("slow", delay, once)
    if m.group(3):
        return Fault("hold", 0, once, m.group(4))
    kind = m.group(5)
    if kind not in SIMPLE_FAULTS:
        raise ValueError(
            f"unknown fault {spec!r}; known: {', '.join(sorted(SIMPLE_FAULTS))}, slow:<ms>, hold:<gate>"
        )
    return Fault(kind, 0, once)


# --------------------------------------------------------------------------------------------
# Parsed chat requests
# --------------------------------------------------------------------------------------------


class RequestInvalid(Exception):
    """The request body is not what the provider accepts; carries the provider's message."""


@dataclass
class Chat:
    """The parts of a chat request the mock needs, whatever the family."""

    family: str
    route: str
    model: str
    pieces: list[str]
    # "schema": JSON wanted with a schema (native or llama.cpp style); "json": JSON without a
    # schema; "tool": Anthropic forced tool call; "text": nothing asked (prompt-only mode).
    mode: str = "text"
    schema: dict | None = None
    tool_name: str | None = None
    max_tokens: int | None = None
    prompt_text: str = field(init=False)

    def __post_init__(self) -> None:
        self.prompt_text = "\n".join(p for p in self.pieces if p)


def _text_of(content: Any) -> str:
    """Text of an OpenAI / Cohere message content: a string or a list of `{type: text}` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, str):
                texts.append(part)
        return "\n".join(texts)
    return ""


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_openai(body: dict, route: str, _model: str | None) -> Chat:
    """Reads an OpenAI-compatible chat completion request; raises RequestInvalid like the API."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestInvalid("you must provide a model parameter")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestInvalid("'messages' is a required property and must be a non-empty array")
    pieces = [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
    chat = Chat("openai", route, model, pieces)
    rf = body.get("response_format")
    if isinstance(rf, dict):
        kind = rf.get("type")
        schema = None
        if kind == "json_schema":
            js = rf.get("json_schema")
            schema = js.get("schema") if isinstance(js, dict) else None
        elif kind == "json_object":
            # llama.cpp / llama-cpp-python accept a schema inside `json_object`.
            schema = rf.get("schema")
        if kind in ("json_schema", "json_object"):
            chat.mode = "schema" if isinstance(schema, dict) else "json"
            chat.schema = schema if isinstance(schema, dict) else None
    chat.max_tokens = _int_or_none(body.get("max_completion_tokens")) or _int_or_none(
        body.get("max_tokens")
    )
    return chat


def _anthropic_block_text(block: Any) -> str:
    if isinstance(block, str):
        return block
    if not isinstance(block, dict):
        return ""
    kind = block.get("type")
    if kind == "text":
        return block.get("text", "") if isinstance(block.get("text"), str) else ""
    if kind == "tool_use":
        return json.dumps(block.get("input"), ensure_ascii=False)
    if kind == "tool_result":
        inner = block.get("content")
        if isinstance(inner, list):
            return "\n".join(_anthropic_block_text(b) for b in inner)
        return inner if isinstance(inner, str) else ""
    return ""


def _anthropic_content_text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(_anthropic_block_text(b) for b in content)
    return _anthropic_block_text(content)


def parse_anthropic(body: dict, route: str, _model: str | None) -> Chat:
    """Reads an Anthropic Messages request, including a forced tool as structured output."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestInvalid("model: Field required")
    max_tokens = _int_or_none(body.get("max_tokens"))
    if max_tokens is None:
        raise RequestInvalid("max_tokens: Field required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestInvalid("messages: Field required")
    pieces = [_anthropic_content_text(body.get("system"))]
    pieces += [_anthropic_content_text(m.get("content")) for m in messages if isinstance(m, dict)]
    chat = Chat("anthropic", route, model, pieces, max_tokens=max_tokens)
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if isinstance(tools, list) and tools and isinstance(choice, dict):
        named = [t for t in tools if isinstance(t, dict)]
        tool = None
        if choice.get("type") == "tool":
            tool = next((t for t in named if t.get("name") == choice.get("name")), None)
            if tool is None:
                raise RequestInvalid(
                    f"tool_choice: tool {choice.get('name')!r} is not among the provided tools"
                )
        elif choice.get("type") == "any" and named:
            tool = named[0]
        if tool is not None:
            chat.mode = "tool"
            chat.tool_name = str(tool.get("name", "tool"))
            schema = tool.get("input_schema")
            chat.schema = schema if isinstance(schema, dict) else None
    return chat


def parse_cohere(body: dict, route: str, _model: str | None) -> Chat:
    """Reads a Cohere v2 Chat request."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestInvalid("invalid request: a model parameter is required for this endpoint.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestInvalid("invalid request: messages must not be empty.")
    pieces = [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
    chat = Chat("cohere", route, model, pieces, max_tokens=_int_or_none(body.get("max_tokens")))
    rf = body.get("response_format")
    if isinstance(rf, dict) and rf.get("type") == "json_object":
        # v2 names the schema `json_schema`; v1 called it `schema`; accept both.
        schema = rf.get("json_schema", rf.get("schema"))
        chat.mode = "schema" if isinstance(schema, dict) else "json"
        chat.schema = schema if isinstance(schema, dict) else None
    return chat


def _gemini_parts_text(content: Any) -> str:
    if not isinstance(content, dict):
        return ""
    parts = content.get("parts")
    if not isinstance(parts, list):
        return ""
    return "\n".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


def _either(obj: dict, camel: str, snake: str) -> Any:
    return obj.get(camel, obj.get(snake))


def parse_gemini(body: dict, route: str, model: str | None) -> Chat:
    """Reads a Gemini generateContent request; the model comes from the URL path."""
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise RequestInvalid("* GenerateContentRequest.contents: contents is not specified")
    pieces = [_gemini_parts_text(_either(body, "systemInstruction", "system_instruction"))]
    pieces += [_gemini_parts_text(c) for c in contents]
    config = _either(body, "generationConfig", "generation_config")
    config = config if isinstance(config, dict) else {}
    chat = Chat("gemini", route, model or "", pieces)
    chat.max_tokens = _int_or_none(_either(config, "maxOutputTokens", "max_output_tokens"))
    schema = _either(config, "responseSchema", "response_schema")
    if schema is None:
        schema = _either(config, "responseJsonSchema", "response_json_schema")
    mime = _either(config, "responseMimeType", "response_mime_type")
    if isinstance(schema, dict):
        chat.mode, chat.schema = "schema", schema
    elif mime == "application/json":
        chat.mode = "json"
    return chat


PARSERS = {"openai": parse_openai, "anthropic": parse_anthropic, "cohere": parse_cohere, "gemini": parse_gemini}


# --------------------------------------------------------------------------------------------
# Schemas: which agent is asked, and the exact shape of what it should answer.
# --------------------------------------------------------------------------------------------


def _resolve(node: Any, root: dict, depth: int = 0) -> dict:
    """Follows local `$ref`s and picks the first non-null `anyOf`/`oneOf` branch."""
    if not isinstance(node, dict) or depth > 20:
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return _resolve(target, root, depth + 1)
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list):
            for option in options:
                resolved = _resolve(option, root, depth + 1)
                if _type_of(resolved) != "null":
                    return resolved
    return node


def _type_of(schema: dict) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str) and k.lower() != "null"), None)
    if isinstance(kind, str):
        return kind.lower()  # Gemini's OpenAPI subset spells types in capitals
    if "properties" in schema:
        return "object"
    return ""


def _properties(schema: dict, root: dict) -> dict:
    props = _resolve(schema, root).get("properties")
    return props if isinstance(props, dict) else {}


def agent_from_schema(schema: dict | None) -> str | None:
    """The agent whose output the schema describes, judged by its property names."""
    if not isinstance(schema, dict):
        return None
    names = set(_properties(schema, schema))
    if "solution" in names:
        return "solver"
    if "passed" in names or "critique" in names:
        return "verifier"
    if names & {"score", "strengths", "weaknesses"}:
        return "judge"
    return None


_JUDGE_WORDS = re.compile(r"\bjudge\b|\brubric\b|\bgrader?\b")
_VERIFIER_WORDS = re.compile(r"\bverifier\b|\bverify\b|\bcritique\b|\bcritic\b")


def agent_from_text(system: str, prompt_text: str) -> str:
    """The agent a prompt without a schema is addressed to (a heuristic; defaults to solver)."""
    low = prompt_text.lower()
    # A schema described in the prompt (prompt-only mode) names the fields in quotes.
    if '"passed"' in low or '"critique"' in low:
        return "verifier"
    if '"strengths"' in low or '"weaknesses"' in low or '"score"' in low:
        return "judge"
    if '"solution"' in low:
        return "solver"
    for text in (system.lower(), low):
        if _JUDGE_WORDS.search(text):
            return "judge"
        if _VERIFIER_WORDS.search(text):
            return "verifier"
    return "solver"


def infer_agent(chat: Chat) -> str:
    """solver, verifier or judge: from the schema if there is one, else from the prompt text."""
    return agent_from_schema(chat.schema) or agent_from_text(chat.pieces[0] if chat.pieces else "", chat.prompt_text)


_ANSWER_QUOTED = re.compile(r'ANSWER="([^"]*)"')
_ANSWER_BARE = re.compile(r"ANSWER=(\S+)")


def scripted_answer(prompt_text: str) -> str | None:
    """The `<text>` of `ANSWER="<text>"` or `ANSWER=<text>` in the prompt, if any."""
    m = _ANSWER_QUOTED.search(prompt_text) or _ANSWER_BARE.search(prompt_text)
    return m.group(1) if m else None


_CRITERIA = (("correctness", 0.9), ("completeness", 0.85), ("clarity", 0.8))


def _scores_for(schema: dict | None) -> Any:
    """A map of criterion -> score, or a list of {criterion, score} objects if the schema says so."""
    if not isinstance(schema, dict):
        return dict(_CRITERIA)
    node = _resolve(_properties(schema, schema).get("scores"), schema)
    if _type_of(node) != "array":
        return dict(_CRITERIA)
    item_props = _properties(node.get("items", {}), schema)
    name_key = "criterion" if "criterion" in item_props else None
    score_key = "score" if "score" in item_props else None
    for key, sub in item_props.items():
        kind = _type_of(_resolve(sub, schema))
        if name_key is None and kind == "string":
            name_key = key
        if score_key is None and kind in ("number", "integer"):
            score_key = key
    name_key, score_key = name_key or "criterion", score_key or "score"
    return [{name_key: name, score_key: value} for name, value in _CRITERIA]


_TYPE_DEFAULTS = {"string": "", "number": 0.5, "integer": 0, "boolean": True, "array": [], "object": {}}


def conform(obj: dict, schema: dict | None) -> dict:
    """Adds any required property the default reply lacks, with a value of the right type."""
    if not isinstance(schema, dict):
        return obj
    root = _resolve(schema, schema)
    props = _properties(schema, schema)
    required = root.get("required")
    for key in required if isinstance(required, list) else []:
        if isinstance(key, str) and key not in obj:
            kind = _type_of(_resolve(props.get(key), schema))
            obj[key] = copy.deepcopy(_TYPE_DEFAULTS.get(kind, ""))
    return obj


def default_reply(agent: str, chat: Chat) -> dict:
    """The reply an agent gets when no rule matches (see README "Default replies")."""
    if agent == "verifier":
        reply: dict = {
            "passed": True,
            "critique": "Looks correct.",
            "confidence": 0.9,
            "scores": _scores_for(chat.schema),
        }
    elif agent == "judge":
        reply = {
            "score": 0.8,
            "reasoning": "The final answer is correct and the steps that lead to it are sound.",
            "strengths": ["Correct final answer"],
            "weaknesses": [],
        }
    else:
        answer = scripted_answer(chat.prompt_text)
        reply = {
            "solution": f"The answer is \\boxed{{{answer if answer is not None else '42'}}}.",
            "reasoning": "Worked through the problem step by step and checked the result.",
            "confidence": 0.9,
        }
    return conform(reply, chat.schema)


def schema_violating_reply(agent: str) -> dict:
    """Valid JSON that breaks the agent's schema (missing fields, wrong types, out of range)."""
    if agent == "verifier":
        return {"passed": "maybe", "confidence": 7, "scores": "n/a"}
    if agent == "judge":
        return {"score": 7, "strengths": "none"}
    return {"reasoning": "I skipped the solution field.", "confidence": 7}


def render_text(obj: dict, mode: str) -> str:
    """The reply text: bare JSON when JSON was asked for, else JSON in a fence with prose around."""
    if mode in ("schema", "json", "tool"):
        return json.dumps(obj, ensure_ascii=False)
    pretty = json.dumps(obj, ensure_ascii=False, indent=2)
    return f"Here is my answer.\n\n```json\n{pretty}\n```\n\nLet me know if you need anything else."


# --------------------------------------------------------------------------------------------
# Usage: normalized numbers, then each family's fields.
# --------------------------------------------------------------------------------------------

USAGE_KEYS = ("prompt_tokens", "completion_tokens", "cached_tokens", "cache_creation_tokens", "reasoning_tokens")


def normalized_usage(prompt_text: str, completion_text: str, overrides: dict | None, thinking: str = "") -> dict:
    """prompt includes cached; completion includes reasoning (the app's own conventions), and
    reasoning counts the thinking text's tokens."""
    reasoning = count_tokens(thinking)
    usage = {
        "prompt_tokens": count_tokens(prompt_text),
        "completion_tokens": count_tokens(completion_text) + reasoning,
        "cached_tokens": 0,
        "cache_creation_tokens": 0,
        "reasoning_tokens": reasoning,
    }
    for key in USAGE_KEYS:
        if overrides and key in overrides:
            usage[key] = overrides[key]
    return usage


def _deep_merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def family_usage(family: str, u: dict, raw: dict | None) -> dict:
    """The family's usage object for normalized numbers `u`, with `raw` merged in last."""
    p, c = u["prompt_tokens"], u["completion_tokens"]
    cached, written, reasoning = u["cached_tokens"], u["cache_creation_tokens"], u["reasoning_tokens"]
    if family == "openai":
        out: dict = {
            "prompt_tokens": p,
            "completion_tokens": c,
            "total_tokens": p + c,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
    elif family == "anthropic":
        # Anthropic's input_tokens excludes cache reads and writes, which it reports apart.
        out = {
            "input_tokens": max(p - cached - written, 0),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": cached,
            "output_tokens": c,
            "service_tier": "standard",
        }
    elif family == "cohere":
        out = {
            "billed_units": {"input_tokens": p, "output_tokens": c},
            "tokens": {"input_tokens": p + COHERE_TEMPLATE_TOKENS, "output_tokens": c},
        }
    else:
        # Gemini counts thoughts apart from candidates, and (proto3 JSON) omits zero counts.
        out = {"promptTokenCount": p}
        if c - reasoning > 0:
            out["candidatesTokenCount"] = c - reasoning
        out["totalTokenCount"] = p + c
        out["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": p}]
        if cached:
            out["cachedContentTokenCount"] = cached
        if reasoning:
            out["thoughtsTokenCount"] = reasoning
    if raw:
        _deep_merge(out, raw)
    return out


# --------------------------------------------------------------------------------------------
# Response bodies, per family.
# --------------------------------------------------------------------------------------------


def _new_id(prefix: str, length: int = 24) -> str:
    return prefix + uuid.uuid4().hex[:length]


@dataclass
class Reply:
    """What the model "said": text, or an Anthropic tool input; how it ended; refusal or not."""

    text: str = ""
    tool_input: dict | None = None
    truncated: bool = False
    refusal: bool = False
    # What the model thought before answering (a rule's `thinking`), or "".
    thinking: str = ""

    @property
    def signature(self) -> str:
        """Anthropic's signature of the thinking block: opaque to clients; here derived from
        the text so a streamed reply and its whole twin carry the same one."""
        digest = hashlib.sha256(self.thinking.encode("utf-8")).digest()
        return base64.b64encode(b"mock-signature:" + digest).decode("ascii")


def openai_success(chat: Chat, reply: Reply, usage: dict | None) -> dict:
    """A `chat.completion` object."""
    if reply.refusal:
        message = {"role": "assistant", "content": None, "refusal": REFUSAL_TEXT, "annotations": []}
    else:
        message = {"role": "assistant", "content": reply.text, "refusal": None, "annotations": []}
    if reply.thinking:
        # NOTE: the OpenAI-compatible hosts that return thinking text put it beside the content
        # (https://api-docs.deepseek.com/guides/reasoning_model).
        message["reasoning_content"] = reply.thinking
    body = {
        "id": _new_id("chatcmpl-", 29),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": chat.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "length" if reply.truncated else "stop",
            }
        ],
        "service_tier": "default",
        "system_fingerprint": "fp_mock",
    }
    if usage is not None:
        body["usage"] = usage
    return body


def anthropic_success(chat: Chat, reply: Reply, usage: dict | None) -> dict:
    """A Messages API `message` object (text, tool_use, or refusal)."""
    if reply.refusal:
        content: list = []
        stop = "refusal"
    elif reply.tool_input is not None:
        content = [
            {"type": "tool_use", "id": _new_id("toolu_01"), "name": chat.tool_name, "input": reply.tool_input}
        ]
        stop = "max_tokens" if reply.truncated else "tool_use"
    else:
        content = [{"type": "text", "text": reply.text}]
        stop = "max_tokens" if reply.truncated else "end_turn"
    if reply.thinking and not reply.refusal:
        # NOTE: a thinking block comes first, with its signature
        # (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking).
        content.insert(0, {"type": "thinking", "thinking": reply.thinking, "signature": reply.signature})
    body = {
        "id": _new_id("msg_01"),
        "type": "message",
        "role": "assistant",
        "model": chat.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
    }
    if usage is not None:
        body["usage"] = usage
    return body


def cohere_success(chat: Chat, reply: Reply, usage: dict | None) -> dict:
    """A Cohere v2 chat response."""
    text = REFUSAL_TEXT if reply.refusal else reply.text
    content = [{"type": "text", "text": text}]
    if reply.thinking:
        # NOTE: a `thinking` content part before the text (https://docs.cohere.com/docs/reasoning).
        content.insert(0, {"type": "thinking", "thinking": reply.thinking})
    body = {
        "id": str(uuid.uuid4()),
        "message": {"role": "assistant", "content": content},
        "finish_reason": "MAX_TOKENS" if reply.truncated else "COMPLETE",
    }
    if usage is not None:
        body["usage"] = usage
    return body


def gemini_success(chat: Chat, reply: Reply, usage: dict | None) -> dict:
    """A GenerateContentResponse (or a blocked prompt's feedback for a refusal)."""
    if reply.refusal:
        body: dict = {
            "promptFeedback": {
                "blockReason": "SAFETY",
                "safetyRatings": [
                    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
                ],
            },
        }
    else:
        parts = [{"text": reply.text}]
        if reply.thinking:
            # NOTE: thought summaries are parts marked `thought: true`
            # (https://ai.google.dev/gemini-api/docs/thinking#summaries).
            parts.insert(0, {"text": reply.thinking, "thought": True})
        body = {
            "candidates": [
                {
                    "content": {"parts": parts, "role": "model"},
                    "finishReason": "MAX_TOKENS" if reply.truncated else "STOP",
                    "index": 0,
                }
            ],
        }
    if usage is not None:
        body["usageMetadata"] = usage
    body["modelVersion"] = chat.model
    body["responseId"] = _new_id("", 22)
    return body


SUCCESS_BUILDERS = {
    "openai": openai_success,
    "anthropic": anthropic_success,
    "cohere": cohere_success,
    "gemini": gemini_success,
}


def _openai_error(message: str, kind: str, code: Any, param: Any = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _anthropic_error(kind: str, message: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": _new_id("req_011")}


def _cohere_error(message: str) -> dict:
    return {"id": str(uuid.uuid4()), "message": message}


def _gemini_error(code: int, status: str, message: str, details: list | None = None) -> dict:
    error: dict = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def error_response(
    family: str, kind: str, model: str = "", prompt_tokens: int = 0, message: str = ""
) -> tuple[int, dict]:
    """(status, body) of the family's error for `kind`: a fault name, `auth`, or `invalid`."""
    if kind in ("401", "auth"):
        return {
            "openai": (401, _openai_error(
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key")),
            "anthropic": (401, _anthropic_error("authentication_error", "invalid x-api-key")),
            "cohere": (401, _cohere_error("invalid api token")),
            # NOTE: Gemini answers a bad key with 400 INVALID_ARGUMENT + reason API_KEY_INVALID, not 401.
            "gemini": (400, _gemini_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                 "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
            ])),
        }[family]
    if kind == "404":
        return {
            "openai": (404, _openai_error(
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error", "model_not_found")),
            "anthropic": (404, _anthropic_error("not_found_error", f"model: {model}")),
            "cohere": (404, _cohere_error(
                f"model '{model}' not found, make sure the correct model ID was used and that you have "
                "access to the model.")),
            "gemini": (404, _gemini_error(404, "NOT_FOUND",
                f"models/{model} is not found for API version v1beta, or is not supported for "
                "generateContent. Call ListModels to see the list of available models and their "
                "supported methods.")),
        }[family]
    if kind == "429":
        return {
            "openai": (429, _openai_error(
                f"Rate limit reached for {model} in organization org-mock on requests per min (RPM): "
                "Limit 3, Used 3, Requested 1. Please try again in 2s.", "requests", "rate_limit_exceeded")),
            "anthropic": (429, _anthropic_error("rate_limit_error",
                "This request would exceed the rate limit for your organization of 50 requests per "
                "minute. Please try again later.")),
            "cohere": (429, _cohere_error(
                "You are past the per minute request limit, please wait and try again later.")),
            "gemini": (429, _gemini_error(429, "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).", [
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}])),
        }[family]
    if kind == "500":
        return {
            "openai": (500, _openai_error(
                "The server had an error while processing your request. Sorry about that!", "server_error", None)),
            "anthropic": (500, _anthropic_error("api_error", "Internal server error")),
            "cohere": (500, _cohere_error("internal server error, this has been reported to our developers")),
            "gemini": (500, _gemini_error(500, "INTERNAL",
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting")),
        }[family]
    if kind in ("503", "529"):
        status = int(kind)
        return {
            "openai": (status, _openai_error(
                "The engine is currently overloaded, please try again later.", "server_error", None)),
            "anthropic": (status, _anthropic_error("overloaded_error", "Overloaded")
                          if status == 529 else _anthropic_error("api_error", "Service unavailable")),
            "cohere": (status, _cohere_error("the model is overloaded, please try again later")),
            "gemini": (status, _gemini_error(status, "UNAVAILABLE", "The model is overloaded. Please try again later.")),
        }[family]
    if kind == "context":
        return {
            "openai": (400, _openai_error(
                f"This model's maximum context length is 128000 tokens. However, your messages resulted "
                f"in {128000 + prompt_tokens} tokens. Please reduce the length of the messages.",
                "invalid_request_error", "context_length_exceeded", "messages")),
            "anthropic": (400, _anthropic_error("invalid_request_error",
                f"prompt is too long: {200000 + prompt_tokens} tokens > 200000 maximum")),
            "cohere": (400, _cohere_error(
                f"too many tokens: total number of tokens in the prompt cannot exceed 128000 - received "
                f"{128000 + prompt_tokens}. Try using a shorter prompt, or enabling prompt truncating. "
                "See https://docs.cohere.com/reference/chat for more details.")),
            "gemini": (400, _gemini_error(400, "INVALID_ARGUMENT",
                f"The input token count ({1048576 + prompt_tokens}) exceeds the maximum number of "
                "tokens allowed (1048576).")),
        }[family]
    # kind == "invalid": the request itself is wrong; `message` says how.
    return {
        "openai": (400, _openai_error(message, "invalid_request_error", None)),
        "anthropic": (400, _anthropic_error("invalid_request_error", message)),
        "cohere": (400, _cohere_error(message)),
        "gemini": (400, _gemini_error(400, "INVALID_ARGUMENT", message)),
    }[family]


def models_list(family: str) -> dict:
    """The family's list-models answer, with a few plausible model names."""
    names = MOCK_MODELS[family]
    if family == "openai":
        return {"object": "list", "data": [
            {"id": n, "object": "model", "created": 1715367049, "owned_by": "mock"} for n in names]}
    if family == "anthropic":
        data = [{"type": "model", "id": n, "display_name": n, "created_at": "2025-05-22T00:00:00Z"} for n in names]
        return {"data": data, "has_more": False, "first_id": names[0], "last_id": names[-1]}
    if family == "cohere":
        return {"models": [{"name": n, "endpoints": ["chat"], "finetuned": False, "context_length": 128000}
                           for n in names]}
    return {"models": [{"name": f"models/{n}", "displayName": n, "inputTokenLimit": 1048576,
                        "outputTokenLimit": 65536, "supportedGenerationMethods": ["generateContent", "countTokens"]}
                       for n in names]}


# --------------------------------------------------------------------------------------------
# Scripted rules and shared state
# --------------------------------------------------------------------------------------------

RULE_KEYS = {
    "match", "agent", "provider", "times", "reply", "raw_text", "fault", "latency_ms", "usage",
    "thinking", "chunk_ms", "pause",
}
GATE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_CHUNK_MS = 1000


def validate_rule(raw: Any, index: int) -> dict:
    """Checks one scripted rule; raises ValueError naming the rule and the field at fault."""
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be an object")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(RULE_KEYS)}")
    rule: dict = {"match": raw.get("match", ""), "agent": raw.get("agent", "any"),
                  "provider": raw.get("provider", "any"), "times": raw.get("times")}
    if not isinstance(rule["match"], str):
        raise ValueError(f"{where}.match must be a string")
    if rule["agent"] not in (*AGENTS, "any"):
        raise ValueError(f"{where}.agent must be one of solver, verifier, judge, any")
    if rule["provider"] not in (*ROUTES, "any"):
        raise ValueError(f"{where}.provider must be one of {', '.join(ROUTES)}, any")
    times = rule["times"]
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise ValueError(f"{where}.times must be a positive integer or null")
    if "reply" in raw and "raw_text" in raw:
        raise ValueError(f"{where}: give either reply or raw_text, not both")
    if "reply" in raw:
        if not isinstance(raw["reply"], dict):
            raise ValueError(f"{where}.reply must be a JSON object")
        rule["reply"] = raw["reply"]
    if "raw_text" in raw:
        if not isinstance(raw["raw_text"], str):
            raise ValueError(f"{where}.raw_text must be a string")
        rule["raw_text"] = raw["raw_text"]
    if "fault" in raw and raw["fault"] is not None:
        if not isinstance(raw["fault"], str):
            raise ValueError(f"{where}.fault must be a string")
        try:
            rule["fault"] = parse_fault(raw["fault"])
        except ValueError as exc:
            raise ValueError(f"{where}.fault: {exc}") from None
    latency = raw.get("latency_ms", 0)
    if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= MAX_DELAY_MS:
        raise ValueError(f"{where}.latency_ms must be an integer in 0..{MAX_DELAY_MS}")
    rule["latency_ms"] = latency
    if "thinking" in raw:
        if not isinstance(raw["thinking"], str) or not raw["thinking"]:
            raise ValueError(f"{where}.thinking must be a non-empty string")
        rule["thinking"] = raw["thinking"]
    chunk_ms = raw.get("chunk_ms", 0)
    if isinstance(chunk_ms, bool) or not isinstance(chunk_ms, int) or not 0 <= chunk_ms <= MAX_CHUNK_MS:
        raise ValueError(f"{where}.chunk_ms must be an integer in 0..{MAX_CHUNK_MS}")
    rule["chunk_ms"] = chunk_ms
    if "pause" in raw:
        if not isinstance(raw["pause"], str) or not GATE_NAME.match(raw["pause"]):
            raise ValueError(f"{where}.pause must be a gate name (lowercase letters, digits, - and _)")
        rule["pause"] = raw["pause"]
    if "usage" in raw:
        usage = raw["usage"]
        if not isinstance(usage, dict):
            raise ValueError(f"{where}.usage must be an object")
        for key, value in usage.items():
            if key == "raw":
                if not isinstance(value, dict):
                    raise ValueError(f"{where}.usage.raw must be an object")
            elif key not in USAGE_KEYS:
                raise ValueError(f"{where}.usage: unknown key {key!r}; known: {', '.join(USAGE_KEYS)}, raw")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{where}.usage.{key} must be a non-negative integer")
        rule["usage"] = usage
    return rule


def _public_rule(rule: dict) -> dict:
    out = {k: v for k, v in rule.items() if k != "fault" and k != "id"}
    out["id"] = rule["id"]
    if "fault" in rule:
        out["fault"] = rule["fault"].spec
    return out


class MockState:
    """Rules, the request log and the `once` memory, shared by all handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: list[dict] = []
        self.log: collections.deque = collections.deque(maxlen=LOG_LIMIT)
        # What each logged request carried before redaction, by the log entry's id: only for
        # GET /__mock/raw-requests, so tests can check which key went where (see README).
        self.raw: collections.deque = collections.deque(maxlen=LOG_LIMIT)
        self.once_seen: collections.OrderedDict = collections.OrderedDict()
        # `hold:<gate>` replies wait for their gate to open (POST /__mock/release).
        self.gates: dict[str, threading.Event] = {}
        self.next_request_id = 1
        self.next_rule_id = 1
        self.served = 0

    def add_rules(self, rules: list[dict]) -> int:
        with self.lock:
            if len(self.rules) + len(rules) > MAX_RULES:
                raise ValueError(f"too many rules: at most {MAX_RULES} may be active; POST /__mock/reset first")
            for rule in rules:
                rule["id"] = self.next_rule_id
                self.next_rule_id += 1
                self.rules.append(rule)
            return len(self.rules)

    def take_rule(self, prompt_text: str, agent: str, family: str, route: str) -> dict | None:
        """The first rule matching this request; consumes one of its `times`."""
        with self.lock:
            for i, rule in enumerate(self.rules):
                if rule["agent"] not in ("any", agent):
                    continue
                if rule["provider"] not in ("any", family, route):
                    continue
                if rule["match"] not in prompt_text:
                    continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                    if rule["times"] <= 0:
                        del self.rules[i]
                return copy.deepcopy(rule)
            return None

    def gate(self, name: str) -> threading.Event:
        """The gate `name`, closed until released (created closed on first use)."""
        with self.lock:
            return self.gates.setdefault(name, threading.Event())

    def release(self, name: str) -> None:
        """Opens the gate `name`: what it holds is answered, and it holds nothing more until a
        reset."""
        self.gate(name).set()

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen (bounded memory: the oldest keys are forgotten)."""
        with self.lock:
            if key in self.once_seen:
                return False
            self.once_seen[key] = None
            while len(self.once_seen) > MAX_ONCE_KEYS:
                self.once_seen.popitem(last=False)
            return True

    def record(self, entry: dict, raw: dict | None = None) -> dict:
        """Logs `entry` under the next id; `raw` (the unredacted path and headers) is kept apart."""
        with self.lock:
            entry["id"] = self.next_request_id
            self.next_request_id += 1
            self.served += 1
            self.log.append(entry)
            if raw is not None:
                self.raw.append({"id": entry["id"], "route": entry.get("route"), **raw})
            return entry

    def requests(self, since: int) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(e) for e in self.log if e["id"] > since]

    def raw_requests(self, since: int) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(e) for e in self.raw if e["id"] > since]

    def reset(self) -> None:
        with self.lock:
            self.rules.clear()
            self.log.clear()
            self.raw.clear()
            self.once_seen.clear()
            # Replies still held are let go rather than left hanging on a gate no one can open.
            for gate in self.gates.values():
                gate.set()
            self.gates.clear()
            self.next_request_id = 1
            self.next_rule_id = 1
            self.served = 0

    def snapshot_rules(self) -> list[dict]:
        with self.lock:
            return [_public_rule(r) for r in self.rules]


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


class BodyError(Exception):
    """The request body could not be read (too large, bad framing)."""


def redact_headers(headers: Any) -> dict:
    out = {}
    for name, value in headers.items():
        low = name.lower()
        if low in SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} <redacted>" if rest and low in ("authorization", "proxy-authorization") else "<redacted>"
        out[low] = value
    return out


def redact_path(path: str) -> str:
    return re.sub(r"([?&]key=)[^&]*", r"\1<redacted>", path)


CHAT_ROUTES = [
    (re.compile(r"/(openai|local|openrouter)/v1/chat/completions"), "openai"),
    (re.compile(r"/(anthropic)/v1/messages"), "anthropic"),
    (re.compile(r"/(cohere)/v2/chat"), "cohere"),
    # `streamGenerateContent` streams (mock_streams.py); `generateContent` answers at once.
    (re.compile(r"/(gemini)/v1beta/models/([^/:]+):(?:generateContent|streamGenerateContent)"), "gemini"),
]
MODEL_ROUTES = [
    (re.compile(r"/(openai|local|openrouter)/v1/models"), "openai"),
    (re.compile(r"/(anthropic)/v1/models"), "anthropic"),
    (re.compile(r"/(cohere)/v1/models"), "cohere"),
    (re.compile(r"/(gemini)/v1beta/models"), "gemini"),
]


class Handler(BaseHTTPRequestHandler):
    """One connection; all state lives in `self.server.state`."""

    server_version = "TrialogueMockProvider/1.0"
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_S
    server: "MockServer"

    # ---- plumbing ------------------------------------------------------------------------


    def setup(self) -> None:
        super().setup()
        # Small replies on kept-alive connections otherwise wait ~40 ms for Nagle/delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            super().log_message(format, *args)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # The stdlib logs the request line as sent, and a Gemini key may ride in its `?key=`.
        if self.server.verbose:
            line = f"{self.command} {redact_path(self.path)} {self.request_version}"
            self.log_message('"%s" %s %s', line, str(getattr(code, "value", code)), str(size))

    def do_OPTIONS(self) -> None:
        self._guard(self._preflight)

    def do_GET(self) -> None:
        self._guard(self._get)

    def do_POST(self) -> None:
        self._guard(self._post)

    def do_PUT(self) -> None:
        self._guard(self._not_allowed)

    do_DELETE = do_PATCH = do_HEAD = do_PUT

    def _guard(self, handler: Any) -> None:
        self._sent = False
        self._arrived = time.monotonic()
        try:
            handler()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout):
            self.close_connection = True
        except Exception as exc:  # the server must outlive any bug or bad input
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self._sent:
                try:
                    self._send(500, {"error": {"message": f"mock provider internal error: {exc!r}"}})
                except OSError:
                    pass

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        if self.server.expose_headers:
            self.send_header("Access-Control-Expose-Headers", EXPOSED_HEADERS)

    def _send(self, status: int, body: Any, headers: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        self._send_head(status, "application/json; charset=utf-8", len(data), headers)
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_head(self, status: int, content_type: str, length: int | None, headers: dict | None = None) -> None:
        """The status line and headers. Without a `length` the body is a stream: chunked on a
        kept-alive connection, else delimited by closing the connection."""
        self.send_response(status, "Overloaded" if status == 529 else None)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        elif self.server.keep_alive:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Cache-Control", "no-cache")
        self._cors()
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if not self.server.keep_alive:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self._sent = True

    def _write(self, data: bytes, chunked: bool = False) -> bool:
        """Writes (and flushes) part of a body; False if the client has gone."""
        try:
            if chunked:
                self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
            else:
                self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:
            self.close_connection = True
            return False

    def _stream(self, entry: dict, headers: dict, family: str, chat: Chat, reply: Reply,
                wire_usage: dict | None, body: dict, query: dict, rule: dict | None, kind: str | None) -> None:
        """Sends `reply` as `family`'s event stream (mock_streams.py). `cut` closes the
        connection once half the answer is sent; `malformed` sends half of the event there and
        ends; a rule's `pause` holds the rest until its gate opens; `chunk_ms` spaces the events."""
        stream = mock_streams.build(family, mock_streams.StreamReply(
            model=chat.model, text=reply.text, thinking=reply.thinking, signature=reply.signature,
            tool_input=reply.tool_input, tool_name=chat.tool_name, truncated=reply.truncated,
            refusal=reply.refusal, refusal_text=REFUSAL_TEXT, usage=wire_usage,
        ), body, query)
        events = stream.events
        if kind in ("cut", "malformed"):
            events = events[: stream.middle]
            if kind == "malformed":
                whole = stream.events[stream.middle] if stream.middle < len(stream.events) else events.pop()
                events.append(whole[: len(whole) // 2] + b"\n\n")
        chunked = self.server.keep_alive
        self._send_head(200, mock_streams.content_type(family, query), None,
                        {**headers, "x-ratelimit-remaining-requests": "499"})
        entry["status"] = 200
        gap = (rule or {}).get("chunk_ms", 0) / 1000
        pause = (rule or {}).get("pause")
        for i, event in enumerate(events):
            if i == stream.middle and pause:
                entry["paused"] = pause
                if not self._hold_stream(self.server.state.gate(pause)):
                    entry["status"] = "aborted"
                    return
                entry["paused"] = None
            elif i and gap:
                time.sleep(gap)
            if not self._write(event, chunked):
                entry["status"] = "aborted"
                return
        if kind == "cut":
            entry["status"] = "cut"
            self._drop()
            return
        if chunked:
            self._write(b"", chunked)

    def _hold_stream(self, gate: threading.Event) -> bool:
        """Waits mid-stream until `gate` opens (at most MAX_DELAY_MS); False if the client hung up."""
        deadline = time.monotonic() + MAX_DELAY_MS / 1000
        while not gate.is_set() and (remaining := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], min(remaining, GATE_POLL_S))
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return False
                except OSError:
                    return False
        return True

    def _drop(self) -> None:
        """Closes the connection without a byte of response."""
        self._sent = True
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _read_body(self, limit: int = MAX_BODY_BYTES) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    raise BodyError("bad chunk size line") from None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > limit:
                    raise BodyError(f"request body above {limit} bytes")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise BodyError("Content-Length is not a number") from None
        if length < 0 or length > limit:
            raise BodyError(f"request body above {limit} bytes")
        return self.rfile.read(length)

    def _split(self) -> tuple[str, dict]:
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def _not_allowed(self) -> None:
        self._send(405, {"error": {"message": f"mock provider: method {self.command} is not supported"}},
                   {"Allow": "GET, POST, OPTIONS"})

    def _preflight(self) -> None:
        requested = self.headers.get("Access-Control-Request-Headers")
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", requested or DEFAULT_ALLOWED_HEADERS)
        self.send_header("Access-Control-Max-Age", "600")
        if self.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
            self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Content-Length", "0")
        if not self.server.keep_alive:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self._sent = True

    # ---- routing -------------------------------------------------------------------------

    def _get(self) -> None:
        path, query = self._split()
        state = self.server.state
        if (batch := batch_api.handle(sys.modules[__name__], self, "GET", path, b"")) is not None:
            self._send(*batch)
            return
        if (batch := batch_families.handle(sys.modules[__name__], self, "GET", path, b"")) is not None:
            self._send(*batch)
            return
        if path == "/__mock/health":
            with state.lock:
                rules, logged, served = len(state.rules), len(state.log), state.served
            self._send(200, {"status": "ok", "rules": rules, "requests": logged, "served": served,
                             "latency_ms": self.server.latency_ms, "expose_headers": self.server.expose_headers,
                             "keep_alive": self.server.keep_alive})
            return
        if path in ("/__mock/requests", "/__mock/raw-requests"):
            try:
                since = int(query.get("since", ["0"])[0])
            except ValueError:
                self._send(400, {"error": {"message": "since must be an integer request id"}})
                return
            entries = state.requests(since) if path == "/__mock/requests" else state.raw_requests(since)
            self._send(200, {"count": len(entries), "requests": entries})
            return
        if path == "/__mock/script":
            self._send(200, {"rules": state.snapshot_rules()})
            return
        for pattern, family in MODEL_ROUTES:
            m = pattern.fullmatch(path)
            if m:
                self._models(family, m.group(1), path, query)
                return
        self._send(404, {"error": {"message": f"mock provider: no route for GET {path}"}})

    def _post(self) -> None:
        path, query = self._split()
        try:
            raw = self._read_body(batch_families.body_limit(path) or MAX_BODY_BYTES)
        except BodyError as exc:
            self._send(413, {"error": {"message": f"mock provider: {exc}"}})
            return
        if (batch := batch_api.handle(sys.modules[__name__], self, "POST", path, raw)) is not None:
            self._send(*batch)
            return
        if (batch := batch_families.handle(sys.modules[__name__], self, "POST", path, raw)) is not None:
            self._send(*batch)
            return
        if path == "/__mock/script":
            self._script(raw)
            return
        if path == "/__mock/reset":
            self.server.state.reset()
            self._send(200, {"status": "reset"})
            return
        if path == "/__mock/release":
            self._release(raw)
            return
        for pattern, family in CHAT_ROUTES:
            m = pattern.fullmatch(path)
            if m:
                model = unquote(m.group(2)) if family == "gemini" else None
                self._chat(family, m.group(1), model, raw, query, path)
                return
        self._send(404, {"error": {"message": f"mock provider: no route for POST {path}"}})

    # ---- scripting -----------------------------------------------------------------------

    def _script(self, raw: bytes) -> None:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._send(400, {"error": {"message": f"script body is not JSON: {exc}"}})
            return
        rules = body.get("rules") if isinstance(body, dict) else None
        if not isinstance(rules, list):
            self._send(400, {"error": {"message": 'script body must be {"rules": [ ... ]}'}})
            return
        try:
            checked = [validate_rule(r, i) for i, r in enumerate(rules)]
            total = self.server.state.add_rules(checked)
        except ValueError as exc:
            self._send(400, {"error": {"message": str(exc)}})
            return
        self._send(200, {"added": len(checked), "rules": total})

    def _release(self, raw: bytes) -> None:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._send(400, {"error": {"message": f"release body is not JSON: {exc}"}})
            return
        name = body.get("gate") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            self._send(400, {"error": {"message": 'release body must be {"gate": "<name>"}'}})
            return
        self.server.state.release(name)
        self._send(200, {"released": name})

    # ---- provider endpoints --------------------------------------------------------------

    def _api_key(self, family: str, query: dict) -> str | None:
        if family == "anthropic":
            return self.headers.get("x-api-key")
        if family == "gemini":
            return self.headers.get("x-goog-api-key") or (query.get("key") or [None])[0]
        auth = self.headers.get("Authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None

    def _auth_error(self, family: str, query: dict) -> tuple[int, dict] | None:
        """The error the real API gives for missing browser/version headers or a bad key."""
        if family == "anthropic":
            # NOTE: the real API demands this header only on CORS requests (those with Origin):
            # https://docs.claude.com/en/api/client-sdks (browser use), error text as recorded in
            # https://github.com/ChatGPTNextWeb/NextChat/issues/5429
            browser = self.headers.get("anthropic-dangerous-direct-browser-access", "")
            if self.headers.get("Origin") and browser.lower() != "true":
                return 401, _anthropic_error(
                    "authentication_error",
                    "CORS requests must set 'anthropic-dangerous-direct-browser-access' header")
            if not self.headers.get("anthropic-version"):
                return 400, _anthropic_error("invalid_request_error", "anthropic-version: header is required")
        if self._api_key(family, query) == BAD_KEY:
            return error_response(family, "auth")
        return None

    def _base_entry(self, family: str, route: str, raw: bytes | None) -> dict:
        entry: dict = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.command,
            "path": redact_path(self.path),
            "route": route,
            "provider": family,
            "headers": redact_headers(self.headers),
            "body": None,
            "agent": None,
            "rule": None,
            "fault": None,
            "status": None,
            "usage": None,
        }
        if raw:
            text = raw.decode("utf-8", errors="replace")
            if len(text) > MAX_LOGGED_BODY_CHARS:
                entry["body"] = {"_truncated": True, "_raw": text[:MAX_LOGGED_BODY_CHARS]}
            else:
                try:
                    entry["body"] = json.loads(text)
                except json.JSONDecodeError:
                    entry["body"] = {"_raw": text}
        return entry

    def _raw(self) -> dict:
        """The request's path and headers exactly as they came (names lowercased)."""
        return {"path": self.path, "headers": {name.lower(): value for name, value in self.headers.items()}}

    def _models(self, family: str, route: str, path: str, query: dict) -> None:
        entry = self.server.state.record(self._base_entry(family, route, None), self._raw())
        if not self._delay(self.server.latency_ms):
            entry["status"] = "aborted"
            return
        problem = self._auth_error(family, query)
        status, body = problem if problem else (200, models_list(family))
        entry["status"] = status
        headers = self._family_headers(family)
        if "request_id" in body:
            headers["request-id"] = body["request_id"]
        self._send(status, body, headers)

    def _family_headers(self, family: str) -> dict:
        return {"request-id": _new_id("req_011")} if family == "anthropic" else {}

    def _delay(self, ms: int) -> bool:
        """Holds the reply until `ms` after the request arrived; False if the client closed the
        connection meanwhile (it gave up on the request: an aborted fetch), and then nothing
        more is to be sent.

        A provider's latency is the time from request to reply, its own work included, so the
        mock's parsing and bookkeeping (a millisecond or more while 16 calls share the GIL) are
        counted inside the delay rather than added to it.
        """
        if ms <= 0:
            return True
        return self._wait(self._arrived + min(ms, MAX_DELAY_MS) / 1000)

    def _hold(self, gate: threading.Event) -> bool:
        """Holds the reply until `gate` opens (at most MAX_DELAY_MS after the request came); False
        if the client hung up meanwhile, as `_delay` does."""
        return self._wait(self._arrived + MAX_DELAY_MS / 1000, gate)

    def _wait(self, deadline: float, gate: threading.Event | None = None) -> bool:
        """Waits until `deadline` (monotonic seconds) or until `gate` opens; False if the client
        closed the connection meanwhile."""
        while not (gate is not None and gate.is_set()) and (remaining := deadline - time.monotonic()) > 0:
            # A client that is waiting sends nothing more before the reply (no pipelining), so
            # the socket turns readable only when it is closed: an empty peek. Anything else is
            # left for the next request on the connection.
            step = remaining if gate is None else min(remaining, GATE_POLL_S)
            readable, _, _ = select.select([self.connection], [], [], step)
            if not readable:
                continue
            try:
                closed = self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                closed = True
            if closed:
                self.close_connection = True
                self._sent = True
                return False
            if gate is None:
                time.sleep(max(0.0, deadline - time.monotonic()))
            else:
                gate.wait(max(0.0, deadline - time.monotonic()))
        return True

    def _chat(self, family: str, route: str, model: str | None, raw: bytes, query: dict, path: str) -> None:
        state = self.server.state
        entry = state.record(self._base_entry(family, route, raw), self._raw())
        headers = self._family_headers(family)

        def finish(status: int, body: Any, extra: dict | None = None) -> None:
            entry["status"] = status
            if isinstance(body, dict) and "request_id" in body:
                headers["request-id"] = body["request_id"]
            self._send(status, body, {**headers, **(extra or {})})

        problem = self._auth_error(family, query)
        if problem:
            if self._delay(self.server.latency_ms):
                finish(*problem)
            else:
                entry["status"] = "aborted"
            return
        try:
            body = json.loads(raw.decode("utf-8"))
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            chat = PARSERS[family](body, route, model)
        except (UnicodeDecodeError, ValueError) as exc:
            finish(*error_response(family, "invalid", message=f"invalid JSON body: {exc}"))
            return
        except RequestInvalid as exc:
            finish(*error_response(family, "invalid", message=str(exc)))
            return

        agent = infer_agent(chat)
        entry["agent"] = agent
        rule = state.take_rule(chat.prompt_text, agent, family, route)
        entry["rule"] = rule["id"] if rule else None

        fault = rule.get("fault") if rule else None
        if fault is None:
            tokens = FAULT_TOKEN.search(chat.prompt_text)
            if tokens:
                try:
                    fault = parse_fault(tokens.group(1) + (tokens.group(2) or ""))
                except ValueError as exc:
                    finish(*error_response(family, "invalid", message=f"mock provider: {exc} in the prompt"))
                    return
        if fault is not None and fault.once:
            digest = hashlib.sha256(f"{fault.spec}\0{chat.prompt_text}".encode("utf-8")).hexdigest()
            if not state.first_time(digest):
                fault = None
        entry["fault"] = fault.spec if fault else None

        delay = self.server.latency_ms + (rule["latency_ms"] if rule else 0)
        if fault is not None and fault.kind == "slow":
            delay += fault.delay_ms
        waited = self._delay(delay)
        if waited and fault is not None and fault.kind == "hold":
            waited = self._hold(state.gate(fault.gate))
        if not waited:
            entry["status"] = "aborted"
            return

        kind = fault.kind if fault else None
        if kind == "drop":
            entry["status"] = "dropped"
            self._drop()
            return
        if kind == "echo":
            # A careless proxy: the error quotes the request's headers, API key included, so
            # tests can check the app never keeps a key it gets back.
            sent = "; ".join(f"{name}: {value}" for name, value in self.headers.items())
            finish(*error_response(family, "invalid", message=f"request rejected; it carried {sent}"))
            return
        if kind in ERROR_FAULTS:
            status, err = error_response(family, kind, chat.model, count_tokens(chat.prompt_text))
            extra = {"Retry-After": "2", "retry-after-ms": "2000", "x-ratelimit-remaining-requests": "0"} \
                if kind == "429" else None
            finish(status, err, extra)
            return

        reply, completion_text = self._compose(chat, agent, rule, kind)
        usage = normalized_usage(chat.prompt_text, completion_text, rule.get("usage") if rule else None,
                                 reply.thinking)
        raw_usage = (rule.get("usage") or {}).get("raw") if rule else None
        wire_usage = None if kind == "nousage" else family_usage(family, usage, raw_usage)
        entry["usage"] = None if kind == "nousage" else usage
        if mock_streams.requested(family, body, path):
            entry["streamed"] = True
            self._stream(entry, headers, family, chat, reply, wire_usage, body, query, rule, kind)
            return
        body_obj = SUCCESS_BUILDERS[family](chat, reply, wire_usage)
        if kind == "cut":
            # The connection closes halfway through the body its Content-Length announced.
            entry["status"] = "cut"
            data = json.dumps(body_obj, ensure_ascii=False).encode("utf-8")
            self._send_head(200, "application/json; charset=utf-8", len(data), headers)
            self._write(data[: len(data) // 2])
            self._drop()
            return
        if kind == "malformed":
            text = json.dumps(body_obj, ensure_ascii=False)
            finish(200, text[: len(text) // 2].encode("utf-8"))
            return
        # Real providers report their remaining quota on every reply (OpenAI's x-ratelimit-*).
        finish(200, body_obj, {"x-ratelimit-remaining-requests": "499"})

    def _compose(self, chat: Chat, agent: str, rule: dict | None, kind: str | None) -> tuple[Reply, str]:
        """The model's reply and the text its completion tokens are counted from (thinking
        aside)."""
        reply, text = self._compose_answer(chat, agent, rule, kind)
        if rule and "thinking" in rule and not reply.refusal:
            reply.thinking = rule["thinking"]
        return reply, text

    def _compose_answer(self, chat: Chat, agent: str, rule: dict | None, kind: str | None) -> tuple[Reply, str]:
        if kind == "refusal":
            # Anthropic and Gemini refuse without any text; OpenAI and Cohere say a sentence.
            said = REFUSAL_TEXT if chat.family in ("openai", "cohere") else ""
            return Reply(refusal=True), said
        if rule and "raw_text" in rule:
            text = rule["raw_text"]
            if kind == "truncated":
                text = text[: len(text) // 2]
            return Reply(text=text, truncated=kind == "truncated"), text
        if kind == "schema":
            obj = schema_violating_reply(agent)
        elif rule and "reply" in rule:
            obj = rule["reply"]
        else:
            obj = default_reply(agent, chat)
        if chat.mode == "tool":
            if kind == "truncated":
                # A tool call cut off by max_tokens keeps only what was generated: the first field.
                first = next(iter(obj.items()), None)
                obj = dict([first]) if first else {}
            return Reply(tool_input=obj, truncated=kind == "truncated"), json.dumps(obj, ensure_ascii=False)
        text = render_text(obj, chat.mode)
        if kind == "truncated":
            text = text[: len(text) // 2]
        return Reply(text=text, truncated=kind == "truncated"), text


class MockServer(ThreadingHTTPServer):
    """A threaded server with a cap on concurrent connections and the mock's shared state."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        latency_ms: int = 0,
        expose_headers: bool = True,
        keep_alive: bool = False,
        verbose: bool = False,
    ) -> None:
        super().__init__(address, Handler)
        self.state = MockState()
        self.latency_ms = latency_ms
        self.expose_headers = expose_headers
        self.keep_alive = keep_alive
        self.verbose = verbose
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)


def main(argv: list[str] | None = None) -> int:
    """Runs the server until SIGTERM or SIGINT; returns the process exit code."""
    parser = argparse.ArgumentParser(description="Mock LLM provider server for Trialogue's tests.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0 picks a free one)")
    parser.add_argument("--host", default=HOST, help="only 127.0.0.1 is allowed")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every provider reply")
    parser.add_argument("--expose-headers", dest="expose_headers", action="store_true", default=True,
                        help="send Access-Control-Expose-Headers (default)")
    parser.add_argument("--no-expose-headers", dest="expose_headers", action="store_false",
                        help="hide retry-after and rate-limit headers from pages")
    parser.add_argument("--keep-alive", action="store_true",
                        help="keep connections open between requests (faster; see README on `drop`)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if args.host != HOST:
        print(f"mock provider: --host must be {HOST}; it never listens beyond this machine", file=sys.stderr)
        return 2
    if not 0 <= args.latency_ms <= MAX_DELAY_MS:
        print(f"mock provider: --latency-ms must be in 0..{MAX_DELAY_MS}", file=sys.stderr)
        return 2
    try:
        server = MockServer((HOST, args.port), args.latency_ms, args.expose_headers, args.keep_alive, args.verbose)
    except OSError as exc:
        print(f"mock provider: cannot listen on {HOST}:{args.port}: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    print(f"mock provider listening on http://{HOST}:{server.server_address[1]}", flush=True)
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    print("mock provider stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

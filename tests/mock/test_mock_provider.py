"""Self-test of the mock provider: run `python3 -m unittest tests/mock/test_mock_provider.py`.

Expected token counts are worked out by hand in the comments (words x 1.3, rounded half up),
never read back from the server's own formula.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mock_provider  # noqa: E402

SERVER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mock_provider.py")
BROWSER = {"Origin": "http://127.0.0.1:8080"}
ANTHROPIC_HEADERS = {
    "x-api-key": "sk-ant-secret",
    "anthropic-version": "2023-06-01",
    "anthropic-dangerous-direct-browser-access": "true",
    **BROWSER,
}

SOLVER_SCHEMA = {
    "type": "object",
    "properties": {
        "solution": {"type": "string"},
        "reasoning": {"type": "string"},
        "confidence": {"type": "number"},
    },
    "required": ["solution", "reasoning", "confidence"],
    "additionalProperties": False,
}
# Pydantic style: the per-criterion scores as a list of objects behind a $ref.
VERIFIER_SCHEMA_LIST = {
    "$defs": {
        "CriterionScore": {
            "type": "object",
            "properties": {"criterion": {"type": "string"}, "score": {"type": "number"}},
            "required": ["criterion", "score"],
        }
    },
    "type": "object",
    "properties": {
        "passed": {"type": "boolean"},
        "critique": {"type": "string"},
        "confidence": {"type": "number"},
        "scores": {"type": "array", "items": {"$ref": "#/$defs/CriterionScore"}},
    },
    "required": ["passed", "critique", "confidence", "scores"],
}
VERIFIER_SCHEMA_MAP = {
    "type": "object",
    "properties": {
        "passed": {"type": "boolean"},
        "critique": {"type": "string"},
        "confidence": {"type": "number"},
        "scores": {"type": "object", "additionalProperties": {"type": "number"}},
    },
    "required": ["passed", "critique", "confidence", "scores"],
}
JUDGE_SCHEMA_GEMINI = {
    "type": "OBJECT",
    "properties": {
        "score": {"type": "NUMBER"},
        "reasoning": {"type": "STRING"},
        "strengths": {"type": "ARRAY", "items": {"type": "STRING"}},
        "weaknesses": {"type": "ARRAY", "items": {"type": "STRING"}},
    },
    "required": ["score", "reasoning", "strengths", "weaknesses"],
}


def start_server(**options) -> mock_provider.MockServer:
    server = mock_provider.MockServer(("127.0.0.1", 0), **options)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def stop_server(server: mock_provider.MockServer) -> None:
    server.shutdown()
    server.server_close()


class Response:
    def __init__(self, status: int, headers: dict, raw: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = raw

    def json(self):
        return json.loads(self.raw.decode("utf-8"))


def call(port: int, method: str, path: str, body=None, headers=None) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=data, headers=all_headers)
        resp = conn.getresponse()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def openai_body(prompt: str, schema=None, system: str | None = None, model: str = "gpt-4o") -> dict:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    body: dict = {"model": model, "messages": messages, "max_tokens": 512}
    if schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "out", "strict": True, "schema": schema}}
    return body


def anthropic_tool_body(prompt: str, schema: dict, system: str = "") -> dict:
    return {
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 1024,
        "system": system,
        "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
        "tools": [{"name": "solver_output", "description": "Return the answer.", "input_schema": schema}],
        "tool_choice": {"type": "tool", "name": "solver_output"},
    }


def cohere_body(prompt: str, schema=None) -> dict:
    body: dict = {"model": "command-r-plus-08-2024", "messages": [{"role": "user", "content": prompt}]}
    if schema is not None:
        body["response_format"] = {"type": "json_object", "json_schema": schema}
    return body


def gemini_body(prompt: str, schema=None) -> dict:
    body: dict = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    if schema is not None:
        body["generationConfig"] = {"responseMimeType": "application/json", "responseSchema": schema}
    return body


GEMINI_PATH = "/gemini/v1beta/models/gemini-2.5-flash:generateContent"


class MockProviderCase(unittest.TestCase):
    """Tests against one shared server; every test starts from a reset."""

    server: mock_provider.MockServer
    port: int

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_server()
        cls.port = cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls) -> None:
        stop_server(cls.server)

    def setUp(self) -> None:
        self.assertEqual(self.post("/__mock/reset", {}).status, 200)

    def post(self, path, body, headers=None) -> Response:
        return call(self.port, "POST", path, body, headers)

    def get(self, path, headers=None) -> Response:
        return call(self.port, "GET", path, None, headers)

    def openai(self, prompt, schema=None, system=None, route="openai", key="sk-secret", **extra) -> Response:
        body = {**openai_body(prompt, schema, system), **extra}
        return self.post(f"/{route}/v1/chat/completions", body, {"Authorization": f"Bearer {key}", **BROWSER})

    def anthropic(self, prompt, schema=SOLVER_SCHEMA, headers=None) -> Response:
        return self.post("/anthropic/v1/messages", anthropic_tool_body(prompt, schema), headers or ANTHROPIC_HEADERS)

    def cohere(self, prompt, schema=None, headers=None) -> Response:
        return self.post("/cohere/v2/chat", cohere_body(prompt, schema), headers)

    def gemini(self, prompt, schema=None, headers=None, query="") -> Response:
        return self.post(GEMINI_PATH + query, gemini_body(prompt, schema), headers)

    def content(self, resp: Response):
        """The parsed JSON reply of an OpenAI-compatible response."""
        return json.loads(resp.json()["choices"][0]["message"]["content"])

    def script(self, *rules) -> Response:
        return self.post("/__mock/script", {"rules": list(rules)})

    def requests_log(self) -> list:
        return self.get("/__mock/requests").json()["requests"]

    def hang_up_once_logged(self, prompt: str) -> str:
        """Sends `prompt`, hangs up as an aborted fetch does once the mock has logged it, and
        returns the status the mock then gives the entry. (A hang-up the mock missed would show
        only when its reply was due: 200.)"""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("POST", "/openai/v1/chat/completions", body=json.dumps(openai_body(prompt, SOLVER_SCHEMA)),
                     headers={"Content-Type": "application/json", **BROWSER})
        while not self.requests_log():
            time.sleep(0.01)
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
        while self.requests_log()[0]["status"] is None:
            time.sleep(0.01)
        return self.requests_log()[0]["status"]


class HappyPaths(MockProviderCase):
    def test_openai_json_schema_solver_reply_and_usage(self):
        resp = self.openai("Solve 2+2. ANSWER=4", SOLVER_SCHEMA)
        self.assertEqual(resp.status, 200)
        body = resp.json()
        self.assertEqual(body["object"], "chat.completion")
        self.assertTrue(body["id"].startswith("chatcmpl-"))
        self.assertEqual(body["model"], "gpt-4o")
        choice = body["choices"][0]
        self.assertEqual(choice["finish_reason"], "stop")
        self.assertIsNone(choice["message"]["refusal"])
        reply = json.loads(choice["message"]["content"])
        self.assertEqual(reply["solution"], "The answer is \\boxed{4}.")
        self.assertEqual(reply["confidence"], 0.9)
        self.assertEqual(set(reply), {"solution", "reasoning", "confidence"})
        # Prompt "Solve 2+2. ANSWER=4": 3 words -> 3 x 1.3 = 3.9 -> 4 tokens.
        # Completion: {"solution": | "The | answer | is | \\boxed{4}.", | "reasoning": | "Worked |
        # through | the | problem | step | by | step | and | checked | the | result.", |
        # "confidence": | 0.9} = 19 words -> 24.7 -> 25 tokens.
        self.assertEqual(
            body["usage"],
            {
                "prompt_tokens": 4,
                "completion_tokens": 25,
                "total_tokens": 29,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
        )

    def test_quoted_answer_keeps_spaces(self):
        resp = self.openai('Find the point. ANSWER="(3, \\frac{\\pi}{2})"', SOLVER_SCHEMA)
        reply = self.content(resp)
        self.assertEqual(reply["solution"], "The answer is \\boxed{(3, \\frac{\\pi}{2})}.")

    def test_local_llamacpp_json_object_schema_gives_verifier_list_scores(self):
        body = {
            "model": "local-model",
            "messages": [{"role": "user", "content": "Check this solution."}],
            "response_format": {"type": "json_object", "schema": VERIFIER_SCHEMA_LIST},
        }
        resp = self.post("/local/v1/chat/completions", body)
        self.assertEqual(resp.status, 200)
        reply = self.content(resp)
        self.assertIs(reply["passed"], True)
        self.assertEqual(reply["critique"], "Looks correct.")
        self.assertIsInstance(reply["scores"], list)
        self.assertEqual(reply["scores"][0], {"criterion": "correctness", "score": 0.9})

    def test_openrouter_verifier_map_scores(self):
        resp = self.openai("Check it.", VERIFIER_SCHEMA_MAP, route="openrouter")
        reply = self.content(resp)
        self.assertEqual(reply["scores"], {"correctness": 0.9, "completeness": 0.85, "clarity": 0.8})

    def test_prompt_only_mode_fences_the_json_and_infers_judge_from_words(self):
        resp = self.openai("Score the final answer against the rubric.", system="You are a strict judge.")
        content = resp.json()["choices"][0]["message"]["content"]
        fenced = re.search(r"```json\n(.*?)\n```", content, re.S)
        self.assertIsNotNone(fenced, content)
        self.assertFalse(content.startswith("{"))
        reply = json.loads(fenced.group(1))
        self.assertEqual(reply["score"], 0.8)
        self.assertEqual(reply["weaknesses"], [])

    def test_prompt_only_mode_infers_verifier_from_described_schema(self):
        resp = self.openai('Reply with JSON: {"passed": bool, "critique": str}. Solution: 4')
        content = resp.json()["choices"][0]["message"]["content"]
        reply = json.loads(re.search(r"```json\n(.*?)\n```", content, re.S).group(1))
        self.assertIn("passed", reply)

    def test_anthropic_forced_tool_returns_tool_use_block(self):
        resp = self.post(
            "/anthropic/v1/messages",
            anthropic_tool_body("Solve x+1=3. ANSWER=2", SOLVER_SCHEMA, system="You solve problems."),
            ANTHROPIC_HEADERS,
        )
        self.assertEqual(resp.status, 200)
        body = resp.json()
        self.assertEqual(body["type"], "message")
        self.assertTrue(body["id"].startswith("msg_"))
        self.assertEqual(body["stop_reason"], "tool_use")
        self.assertEqual(resp.headers["request-id"][:4], "req_")
        [block] = body["content"]
        self.assertEqual(block["type"], "tool_use")
        self.assertEqual(block["name"], "solver_output")
        self.assertTrue(block["id"].startswith("toolu_"))
        self.assertEqual(block["input"]["solution"], "The answer is \\boxed{2}.")
        # Prompt: system "You solve problems." (3 words) + "Solve x+1=3. ANSWER=2" (3) = 6 -> 7.8 -> 8.
        # Completion: the same 19-word solver JSON as the OpenAI case -> 25.
        self.assertEqual(
            body["usage"],
            {
                "input_tokens": 8,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 25,
                "service_tier": "standard",
            },
        )

    def test_anthropic_without_tools_answers_text(self):
        body = {"model": "claude", "max_tokens": 50, "messages": [{"role": "user", "content": "Solve 1+1"}]}
        resp = self.post("/anthropic/v1/messages", body, ANTHROPIC_HEADERS)
        self.assertEqual(resp.json()["stop_reason"], "end_turn")
        self.assertEqual(resp.json()["content"][0]["type"], "text")
        self.assertIn("```json", resp.json()["content"][0]["text"])

    def test_cohere_json_schema_reply_and_billed_units(self):
        resp = self.cohere("Solve 1+1. ANSWER=2", SOLVER_SCHEMA, {"Authorization": "Bearer co-secret", **BROWSER})
        self.assertEqual(resp.status, 200)
        body = resp.json()
        self.assertEqual(body["finish_reason"], "COMPLETE")
        self.assertEqual(body["message"]["role"], "assistant")
        reply = json.loads(body["message"]["content"][0]["text"])
        self.assertEqual(reply["solution"], "The answer is \\boxed{2}.")
        # Prompt: 3 words -> 4; completion: 19 words -> 25; tokens adds Cohere's 10 template tokens.
        self.assertEqual(
            body["usage"],
            {"billed_units": {"input_tokens": 4, "output_tokens": 25}, "tokens": {"input_tokens": 14, "output_tokens": 25}},
        )

    def test_gemini_response_schema_judge_and_usage_metadata(self):
        resp = self.gemini("Rate it.", JUDGE_SCHEMA_GEMINI, {"x-goog-api-key": "g-secret", **BROWSER})
        self.assertEqual(resp.status, 200)
        body = resp.json()
        candidate = body["candidates"][0]
        self.assertEqual(candidate["finishReason"], "STOP")
        self.assertEqual(candidate["content"]["role"], "model")
        reply = json.loads(candidate["content"]["parts"][0]["text"])
        self.assertEqual(reply["score"], 0.8)
        self.assertEqual(body["modelVersion"], "gemini-2.5-flash")
        usage = body["usageMetadata"]
        # Prompt "Rate it." = 2 words -> 2.6 -> 3.
        self.assertEqual(usage["promptTokenCount"], 3)
        self.assertEqual(usage["totalTokenCount"], 3 + usage["candidatesTokenCount"])
        self.assertNotIn("thoughtsTokenCount", usage)
        self.assertNotIn("cachedContentTokenCount", usage)

    def test_models_lists(self):
        openai = self.get("/openai/v1/models", {"Authorization": "Bearer k"}).json()
        self.assertEqual(openai["object"], "list")
        self.assertIn("gpt-4o", [m["id"] for m in openai["data"]])
        gemini = self.get("/gemini/v1beta/models", {"x-goog-api-key": "k"}).json()
        self.assertTrue(gemini["models"][0]["name"].startswith("models/"))
        anthropic = self.get("/anthropic/v1/models", ANTHROPIC_HEADERS).json()
        self.assertIs(anthropic["has_more"], False)
        self.assertIn("models", self.get("/cohere/v1/models", {"Authorization": "Bearer k"}).json())


class AuthAndHeaders(MockProviderCase):
    def test_bad_key_gets_each_familys_auth_error(self):
        openai = self.openai("hi", key="bad-key")
        self.assertEqual(openai.status, 401)
        self.assertEqual(openai.json()["error"]["code"], "invalid_api_key")
        anthropic = self.anthropic("hi", headers={**ANTHROPIC_HEADERS, "x-api-key": "bad-key"})
        self.assertEqual(anthropic.status, 401)
        self.assertEqual(anthropic.json()["error"]["type"], "authentication_error")
        cohere = self.cohere("hi", headers={"Authorization": "Bearer bad-key"})
        self.assertEqual((cohere.status, cohere.json()["message"]), (401, "invalid api token"))
        gemini = self.gemini("hi", headers={"x-goog-api-key": "bad-key"})
        self.assertEqual(gemini.status, 400)
        self.assertEqual(gemini.json()["error"]["details"][0]["reason"], "API_KEY_INVALID")
        gemini_query = self.gemini("hi", query="?key=bad-key")
        self.assertEqual(gemini_query.json()["error"]["status"], "INVALID_ARGUMENT")
        models = self.get("/openai/v1/models", {"Authorization": "Bearer bad-key"})
        self.assertEqual(models.status, 401)

    def test_anthropic_requires_version_and_browser_headers(self):
        body = anthropic_tool_body("hi", SOLVER_SCHEMA)
        no_browser = {k: v for k, v in ANTHROPIC_HEADERS.items() if k != "anthropic-dangerous-direct-browser-access"}
        resp = self.post("/anthropic/v1/messages", body, no_browser)
        self.assertEqual(resp.status, 401)
        self.assertIn("anthropic-dangerous-direct-browser-access", resp.json()["error"]["message"])
        no_version = {k: v for k, v in ANTHROPIC_HEADERS.items() if k != "anthropic-version"}
        resp = self.post("/anthropic/v1/messages", body, no_version)
        self.assertEqual(resp.status, 400)
        self.assertEqual(resp.json()["error"]["message"], "anthropic-version: header is required")
        # Like the real API, a request without Origin (not a browser) needs no browser header.
        server_side = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
        self.assertEqual(self.post("/anthropic/v1/messages", body, server_side).status, 200)

    def test_anthropic_requires_max_tokens(self):
        body = anthropic_tool_body("hi", SOLVER_SCHEMA)
        del body["max_tokens"]
        resp = self.post("/anthropic/v1/messages", body, ANTHROPIC_HEADERS)
        self.assertEqual(resp.status, 400)
        self.assertEqual(resp.json()["error"], {"type": "invalid_request_error", "message": "max_tokens: Field required"})

    def test_cors_preflight_echoes_requested_headers(self):
        resp = call(self.port, "OPTIONS", "/anthropic/v1/messages", headers={
            **BROWSER,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key,anthropic-version,content-type",
        })
        self.assertEqual(resp.status, 204)
        self.assertEqual(resp.headers["access-control-allow-origin"], "*")
        self.assertEqual(resp.headers["access-control-allow-headers"], "x-api-key,anthropic-version,content-type")
        self.assertIn("POST", resp.headers["access-control-allow-methods"])
        self.assertEqual(resp.headers["access-control-max-age"], "600")

    def test_every_response_allows_any_origin_and_exposes_retry_headers(self):
        for resp in (self.openai("hi"), self.get("/__mock/health"), self.get("/nowhere")):
            self.assertEqual(resp.headers["access-control-allow-origin"], "*")
            self.assertEqual(
                resp.headers["access-control-expose-headers"],
                "retry-after, retry-after-ms, x-ratelimit-remaining-requests",
            )

    def test_no_expose_headers_option_hides_them(self):
        server = start_server(expose_headers=False)
        try:
            resp = call(server.server_address[1], "POST", "/openai/v1/chat/completions", openai_body("x [[fault:429]]"))
            self.assertEqual(resp.status, 429)
            self.assertEqual(resp.headers["access-control-allow-origin"], "*")
            self.assertNotIn("access-control-expose-headers", resp.headers)
        finally:
            stop_server(server)


class Faults(MockProviderCase):
    def test_429_has_retry_headers_and_family_body(self):
        resp = self.openai("Solve [[fault:429]]", SOLVER_SCHEMA)
        self.assertEqual(resp.status, 429)
        self.assertEqual(resp.headers["retry-after"], "2")
        self.assertEqual(resp.headers["retry-after-ms"], "2000")
        self.assertEqual(resp.headers["x-ratelimit-remaining-requests"], "0")
        self.assertEqual(resp.json()["error"]["code"], "rate_limit_exceeded")
        anthropic = self.anthropic("x [[fault:429]]", SOLVER_SCHEMA)
        self.assertEqual(anthropic.json()["error"]["type"], "rate_limit_error")
        # Without :once the fault applies every time.
        self.assertEqual(self.openai("Solve [[fault:429]]", SOLVER_SCHEMA).status, 429)

    def test_server_errors(self):
        resp = self.openai("x [[fault:500]]")
        self.assertEqual((resp.status, resp.json()["error"]["type"]), (500, "server_error"))
        resp = self.gemini("x [[fault:503]]")
        self.assertEqual((resp.status, resp.json()["error"]["status"]), (503, "UNAVAILABLE"))
        resp = self.cohere("x [[fault:500]]")
        self.assertEqual(resp.status, 500)
        self.assertIn("message", resp.json())

    def test_529_is_anthropic_overloaded(self):
        resp = self.anthropic("x [[fault:529]]", SOLVER_SCHEMA)
        self.assertEqual(resp.status, 529)
        self.assertEqual(resp.json()["type"], "error")
        self.assertEqual(resp.json()["error"], {"type": "overloaded_error", "message": "Overloaded"})
        self.assertEqual(resp.json()["request_id"], resp.headers["request-id"])

    def test_slow_delays_then_answers(self):
        started = time.monotonic()
        resp = self.openai("x [[fault:slow:300]]", SOLVER_SCHEMA)
        elapsed = time.monotonic() - started
        self.assertEqual(resp.status, 200)
        self.assertGreaterEqual(elapsed, 0.3)

    def test_hold_answers_only_once_its_gate_is_released(self):
        self.script({"match": "Held", "fault": "hold:verdicts"})
        done = []
        worker = threading.Thread(target=lambda: done.append(self.openai("Held one", SOLVER_SCHEMA)))
        worker.start()
        while not self.requests_log():
            time.sleep(0.01)
        # Another request is answered meanwhile: the hold keeps only its own.
        self.assertEqual(self.openai("Not held", SOLVER_SCHEMA).status, 200)
        first = self.requests_log()[0]
        self.assertEqual((first["fault"], first["status"], done), ("hold:verdicts", None, []))
        self.assertEqual(self.post("/__mock/release", {"gate": "verdicts"}).json(), {"released": "verdicts"})
        worker.join()
        self.assertEqual(done[0].status, 200)
        self.assertEqual(self.requests_log()[0]["status"], 200)
        # An open gate lets later requests through at once, until a reset closes it again.
        self.assertEqual(self.openai("Held two", SOLVER_SCHEMA).status, 200)
        self.assertEqual(self.post("/__mock/release", {}).status, 400)
        self.assertEqual(self.script({"fault": "hold:bad gate"}).status, 400)

    def test_a_reset_lets_held_replies_go(self):
        self.script({"fault": "hold:never"})
        done = []
        worker = threading.Thread(target=lambda: done.append(self.openai("Held", SOLVER_SCHEMA)))
        worker.start()
        while not self.requests_log():
            time.sleep(0.01)
        self.post("/__mock/reset", {})
        worker.join()
        self.assertEqual(done[0].status, 200)

    def test_a_client_that_hangs_up_while_held_is_logged_aborted(self):
        self.script({"fault": "hold:forever"})
        self.assertEqual(self.hang_up_once_logged("Abort me"), "aborted")

    def test_drop_closes_without_response(self):
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
            self.openai("x [[fault:drop]]")
        self.assertEqual(self.requests_log()[-1]["status"], "dropped")
        self.assertEqual(self.get("/__mock/health").status, 200)

    def test_malformed_is_truncated_json(self):
        resp = self.openai("x [[fault:malformed]]", SOLVER_SCHEMA)
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.raw.startswith(b"{"))
        with self.assertRaises(json.JSONDecodeError):
            resp.json()

    def test_schema_violation_per_agent(self):
        solver = self.content(self.openai("x [[fault:schema]]", SOLVER_SCHEMA))
        self.assertNotIn("solution", solver)
        self.assertEqual(solver["confidence"], 7)
        anthropic = self.anthropic("x [[fault:schema]]", VERIFIER_SCHEMA_MAP)
        verifier = anthropic.json()["content"][0]["input"]
        self.assertNotIn("critique", verifier)
        self.assertEqual(verifier["passed"], "maybe")

    def test_nousage_omits_usage_everywhere(self):
        self.assertNotIn("usage", self.openai("x [[fault:nousage]]", SOLVER_SCHEMA).json())
        anthropic = self.anthropic("x [[fault:nousage]]", SOLVER_SCHEMA)
        self.assertNotIn("usage", anthropic.json())
        self.assertNotIn("usage", self.cohere("x [[fault:nousage]]").json())
        self.assertNotIn("usageMetadata", self.gemini("x [[fault:nousage]]").json())

    def test_truncated_reports_max_tokens_and_cut_json(self):
        choice = self.openai("x [[fault:truncated]]", SOLVER_SCHEMA).json()["choices"][0]
        self.assertEqual(choice["finish_reason"], "length")
        self.assertTrue(choice["message"]["content"].startswith('{"solution"'))
        with self.assertRaises(json.JSONDecodeError):
            json.loads(choice["message"]["content"])
        cohere = self.cohere("x [[fault:truncated]]", SOLVER_SCHEMA).json()
        self.assertEqual(cohere["finish_reason"], "MAX_TOKENS")
        gemini = self.gemini("x [[fault:truncated]]", JUDGE_SCHEMA_GEMINI).json()
        self.assertEqual(gemini["candidates"][0]["finishReason"], "MAX_TOKENS")
        anthropic = self.anthropic("x [[fault:truncated]]", SOLVER_SCHEMA).json()
        self.assertEqual(anthropic["stop_reason"], "max_tokens")
        self.assertEqual(set(anthropic["content"][0]["input"]), {"solution"})

    def test_refusal_shapes(self):
        message = self.openai("x [[fault:refusal]]", SOLVER_SCHEMA).json()["choices"][0]["message"]
        self.assertIsNone(message["content"])
        self.assertTrue(message["refusal"])
        anthropic = self.anthropic("x [[fault:refusal]]", SOLVER_SCHEMA).json()
        self.assertEqual((anthropic["stop_reason"], anthropic["content"]), ("refusal", []))
        gemini = self.gemini("x [[fault:refusal]]").json()
        self.assertEqual(gemini["promptFeedback"]["blockReason"], "SAFETY")
        self.assertNotIn("candidates", gemini)
        cohere = self.cohere("x [[fault:refusal]]", SOLVER_SCHEMA).json()
        self.assertTrue(cohere["message"]["content"][0]["text"].startswith("I'm sorry"))

    def test_401_404_and_context(self):
        self.assertEqual(self.openai("x [[fault:401]]").status, 401)
        not_found = self.openai("x [[fault:404]]")
        self.assertEqual(not_found.status, 404)
        self.assertEqual(not_found.json()["error"]["code"], "model_not_found")
        self.assertIn("`gpt-4o`", not_found.json()["error"]["message"])
        gemini_404 = self.gemini("x [[fault:404]]")
        self.assertIn("models/gemini-2.5-flash is not found", gemini_404.json()["error"]["message"])
        context = self.openai("x [[fault:context]]")
        self.assertEqual((context.status, context.json()["error"]["code"]), (400, "context_length_exceeded"))
        anthropic = self.anthropic("x [[fault:context]]", SOLVER_SCHEMA)
        self.assertTrue(anthropic.json()["error"]["message"].startswith("prompt is too long"))

    def test_once_fault_fires_once_per_distinct_prompt(self):
        self.assertEqual(self.openai("first [[fault:500:once]]").status, 500)
        self.assertEqual(self.openai("first [[fault:500:once]]").status, 200)
        self.assertEqual(self.openai("second [[fault:500:once]]").status, 500)
        self.assertEqual(self.openai("second [[fault:500:once]]").status, 200)
        # Reset forgets which prompts already failed.
        self.post("/__mock/reset", {})
        self.assertEqual(self.openai("first [[fault:500:once]]").status, 500)

    def test_echo_fault_quotes_the_request_headers_key_included(self):
        resp = self.openai("x [[fault:echo]]", key="sk-canary-echo")
        self.assertEqual(resp.status, 400)
        self.assertIn("Authorization: Bearer sk-canary-echo", resp.json()["error"]["message"])
        gemini = self.gemini("x [[fault:echo]]", headers={"x-goog-api-key": "AIza-canary"})
        self.assertIn("AIza-canary", gemini.json()["error"]["message"])
        self.assertNotIn("sk-canary-echo", json.dumps(self.requests_log()))

    def test_unknown_fault_token_is_reported(self):
        resp = self.openai("x [[fault:teapot]]")
        self.assertEqual(resp.status, 400)
        self.assertIn("unknown fault", resp.json()["error"]["message"])


class Scripting(MockProviderCase):
    def test_rule_reply_times_decrement_then_default(self):
        reply = {"solution": "7", "reasoning": "scripted", "confidence": 0.5}
        added = self.script({"match": "Problem A", "agent": "solver", "provider": "openai", "times": 2, "reply": reply})
        self.assertEqual(added.json(), {"added": 1, "rules": 1})
        first = self.content(self.openai("Problem A", SOLVER_SCHEMA))
        self.assertEqual(first, reply)
        self.assertEqual(self.get("/__mock/script").json()["rules"][0]["times"], 1)
        second = self.content(self.openai("Problem A", SOLVER_SCHEMA))
        self.assertEqual(second, reply)
        self.assertEqual(self.get("/__mock/script").json()["rules"], [])
        third = self.content(self.openai("Problem A", SOLVER_SCHEMA))
        self.assertEqual(third["solution"], "The answer is \\boxed{42}.")

    def test_rules_filter_by_agent_and_provider_first_match_wins(self):
        self.script(
            {"match": "P", "agent": "verifier",
             "reply": {"passed": False, "critique": "wrong", "confidence": 1.0, "scores": {}}},
            {"match": "P", "provider": "cohere", "raw_text": "cohere only"},
            {"match": "P", "raw_text": "anyone"},
            {"match": "P", "raw_text": "never reached"},
        )
        verifier = self.content(self.openai("P", VERIFIER_SCHEMA_MAP))
        self.assertIs(verifier["passed"], False)
        self.assertEqual(self.cohere("P").json()["message"]["content"][0]["text"], "cohere only")
        self.assertEqual(self.openai("P", SOLVER_SCHEMA).json()["choices"][0]["message"]["content"], "anyone")
        self.assertEqual(self.requests_log()[-1]["rule"], 3)

    def test_rule_fault_and_latency(self):
        self.script({"match": "flaky", "times": 1, "fault": "503", "latency_ms": 200})
        started = time.monotonic()
        self.assertEqual(self.openai("flaky").status, 503)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.assertEqual(self.openai("flaky").status, 200)

    def test_usage_overrides(self):
        self.script({"match": "cached", "usage": {"prompt_tokens": 1000, "completion_tokens": 300,
                                                  "cached_tokens": 600, "cache_creation_tokens": 100,
                                                  "reasoning_tokens": 200, "raw": {"service_tier": "batch"}}})
        openai = self.openai("cached", SOLVER_SCHEMA).json()["usage"]
        self.assertEqual((openai["prompt_tokens"], openai["completion_tokens"], openai["total_tokens"]), (1000, 300, 1300))
        self.assertEqual(openai["prompt_tokens_details"]["cached_tokens"], 600)
        self.assertEqual(openai["completion_tokens_details"]["reasoning_tokens"], 200)
        anthropic = self.anthropic("cached", SOLVER_SCHEMA).json()["usage"]
        # 1000 prompt tokens = 300 uncached + 600 read + 100 written.
        self.assertEqual(anthropic, {"input_tokens": 300, "cache_read_input_tokens": 600,
                                     "cache_creation_input_tokens": 100, "output_tokens": 300, "service_tier": "batch"})
        gemini = self.gemini("cached").json()["usageMetadata"]
        counts = (gemini["candidatesTokenCount"], gemini["thoughtsTokenCount"], gemini["cachedContentTokenCount"])
        self.assertEqual(counts, (100, 200, 600))
        self.assertEqual(gemini["totalTokenCount"], 1300)

    def test_invalid_script_is_rejected_whole(self):
        resp = self.script({"match": "ok"}, {"match": "bad", "fault": "teapot"})
        self.assertEqual(resp.status, 400)
        self.assertIn("rules[1].fault", resp.json()["error"]["message"])
        self.assertEqual(self.get("/__mock/script").json()["rules"], [])
        for bad in ({"times": 0}, {"agent": "critic"}, {"reply": "text"}, {"usage": {"cached": 1}}, {"mtach": "typo"}):
            self.assertEqual(self.script(bad).status, 400, bad)
        self.assertEqual(self.post("/__mock/script", b"not json").status, 400)

    def test_reset_clears_rules_and_log(self):
        self.script({"raw_text": "x"})
        self.openai("hello")
        self.post("/__mock/reset", {})
        health = self.get("/__mock/health").json()
        self.assertEqual((health["rules"], health["requests"]), (0, 0))
        self.assertEqual(self.requests_log(), [])

    def test_request_log_redacts_keys_and_keeps_parsed_body(self):
        self.openai("Log me", SOLVER_SCHEMA, key="sk-very-secret")
        self.anthropic("Log me", SOLVER_SCHEMA)
        self.gemini("Log me", headers={"x-goog-api-key": "g-secret"}, query="?key=g-query-secret")
        log = self.requests_log()
        self.assertEqual([e["provider"] for e in log], ["openai", "anthropic", "gemini"])
        self.assertEqual(log[0]["headers"]["authorization"], "Bearer <redacted>")
        self.assertEqual(log[0]["body"]["messages"][0]["content"], "Log me")
        self.assertEqual(log[0]["agent"], "solver")
        self.assertEqual(log[0]["status"], 200)
        self.assertEqual(log[1]["headers"]["x-api-key"], "<redacted>")
        self.assertEqual(log[1]["headers"]["anthropic-dangerous-direct-browser-access"], "true")
        self.assertEqual(log[2]["headers"]["x-goog-api-key"], "<redacted>")
        self.assertIn("key=<redacted>", log[2]["path"])
        dump = json.dumps(log)
        for secret in ("sk-very-secret", "sk-ant-secret", "g-secret", "g-query-secret"):
            self.assertNotIn(secret, dump)
        later = self.get(f"/__mock/requests?since={log[1]['id']}").json()["requests"]
        self.assertEqual([e["id"] for e in later], [log[2]["id"]])

    def test_raw_requests_keep_each_key_as_sent_apart_from_the_log(self):
        self.openai("Raw me", SOLVER_SCHEMA, key="sk-very-secret")
        self.anthropic("Raw me", SOLVER_SCHEMA)
        self.gemini("Raw me", headers={"x-goog-api-key": "g-secret"}, query="?key=g-query-secret")
        self.get("/cohere/v1/models", {"Authorization": "Bearer co-secret"})
        raw = self.get("/__mock/raw-requests").json()
        log = self.requests_log()
        self.assertEqual(raw["count"], 4)
        self.assertEqual([r["id"] for r in raw["requests"]], [e["id"] for e in log])
        self.assertEqual([r["route"] for r in raw["requests"]], ["openai", "anthropic", "gemini", "cohere"])
        first, second, third, fourth = raw["requests"]
        self.assertEqual(first["headers"]["authorization"], "Bearer sk-very-secret")
        self.assertEqual(second["headers"]["x-api-key"], "sk-ant-secret")
        self.assertEqual(third["headers"]["x-goog-api-key"], "g-secret")
        self.assertEqual(third["path"], GEMINI_PATH + "?key=g-query-secret")
        self.assertEqual(fourth["headers"]["authorization"], "Bearer co-secret")
        # The log, and the health figures, still hold none of them.
        dump = json.dumps([log, self.get("/__mock/health").json()])
        for secret in ("sk-very-secret", "sk-ant-secret", "g-secret", "g-query-secret", "co-secret"):
            self.assertNotIn(secret, dump)
        later = self.get(f"/__mock/raw-requests?since={first['id']}").json()["requests"]
        self.assertEqual([r["id"] for r in later], [second["id"], third["id"], fourth["id"]])
        self.assertEqual(self.get("/__mock/raw-requests?since=x").status, 400)
        self.post("/__mock/reset", {})
        self.assertEqual(self.get("/__mock/raw-requests").json(), {"count": 0, "requests": []})

    def test_a_client_that_hangs_up_during_a_delay_is_logged_aborted(self):
        self.assertEqual(self.hang_up_once_logged("Abort me [[fault:slow:30000]]"), "aborted")
        # A client that stays gets its reply after the delay as before.
        resp = self.openai("Stay [[fault:slow:200]]", SOLVER_SCHEMA)
        self.assertEqual((resp.status, self.requests_log()[-1]["status"]), (200, 200))

    def test_log_keeps_last_1000(self):
        state = mock_provider.MockState()
        for _ in range(1005):
            state.record({"path": "/x"})
        entries = state.requests(0)
        self.assertEqual(len(entries), 1000)
        self.assertEqual((entries[0]["id"], entries[-1]["id"]), (6, 1005))


class Robustness(MockProviderCase):
    def test_bad_bodies_get_family_errors_and_server_survives(self):
        resp = self.post("/openai/v1/chat/completions", b"{not json")
        self.assertEqual((resp.status, resp.json()["error"]["type"]), (400, "invalid_request_error"))
        resp = self.post(GEMINI_PATH, b"[1, 2]")
        self.assertEqual(resp.json()["error"]["status"], "INVALID_ARGUMENT")
        resp = self.post("/cohere/v2/chat", {"model": "m", "messages": "nope"})
        self.assertEqual(resp.status, 400)
        resp = self.post("/openai/v1/chat/completions", {"model": "m", "messages": [None, 3, {"content": [7]}]})
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.get("/nowhere").status, 404)
        self.assertEqual(call(self.port, "DELETE", "/__mock/reset").status, 405)
        self.assertEqual(self.get("/__mock/health").json()["status"], "ok")

    def test_concurrent_requests(self):
        results = []

        def worker(i):
            results.append(self.openai(f"Problem {i} ANSWER={i}", SOLVER_SCHEMA).json())

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        solutions = sorted(json.loads(r["choices"][0]["message"]["content"])["solution"] for r in results)
        self.assertEqual(solutions, sorted(f"The answer is \\boxed{{{i}}}." for i in range(20)))

    def test_token_formula(self):
        self.assertEqual(mock_provider.count_tokens(""), 0)
        self.assertEqual(mock_provider.count_tokens("one"), 1)  # 1.3 -> 1
        self.assertEqual(mock_provider.count_tokens("a b"), 3)  # 2.6 -> 3
        self.assertEqual(mock_provider.count_tokens(" a\n b\tc  d e "), 7)  # 6.5 -> 7 (half up)
        self.assertEqual(mock_provider.count_tokens(" ".join(["w"] * 10)), 13)


class Process(unittest.TestCase):
    @contextlib.contextmanager
    def server_process(self, *flags):
        """The mock as its own process on a free port: yields (process, port); stopped after."""
        proc = subprocess.Popen([sys.executable, SERVER_SCRIPT, "--port", "0", *flags], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            m = re.fullmatch(r"mock provider listening on http://127\.0\.0\.1:(\d+)\n", line)
            self.assertIsNotNone(m, line)
            yield proc, int(m.group(1))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def test_listens_prints_one_line_and_stops_on_sigterm(self):
        with self.server_process() as (proc, port):
            self.assertEqual(call(port, "GET", "/__mock/health").status, 200)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=5), 0)

    def test_verbose_log_redacts_a_key_in_the_query(self):
        with self.server_process("--verbose") as (proc, port):
            call(port, "POST", GEMINI_PATH + "?key=g-query-secret", gemini_body("Log line"),
                 {"x-goog-api-key": "g-header-secret"})
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=5), 0)
            err = proc.stderr.read()
        self.assertIn("key=<redacted>", err)
        self.assertNotIn("g-query-secret", err)
        self.assertNotIn("g-header-secret", err)

    def test_refuses_other_hosts(self):
        done = subprocess.run([sys.executable, SERVER_SCRIPT, "--host", "0.0.0.0", "--port", "0"],
                              capture_output=True, text=True, timeout=10)
        self.assertEqual(done.returncode, 2)
        self.assertIn("127.0.0.1", done.stderr)


if __name__ == "__main__":
    unittest.main()

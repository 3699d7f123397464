"""Self-test of the mock's streamed replies: `python3 -m unittest tests/mock/test_mock_streams.py`.

Each family's stream is read back by a small event reader written here (not the mock's code)
and must add up to what the same scripted reply says when it comes whole: the text, the
thinking, the finish and the usage.
"""

from __future__ import annotations

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mock_provider  # noqa: E402
from test_mock_provider import (  # noqa: E402
    ANTHROPIC_HEADERS, SOLVER_SCHEMA, anthropic_tool_body, call, cohere_body, gemini_body, openai_body,
    start_server, stop_server,
)

THINKING = "First pair the terms, then multiply."
REPLY = {"solution": "The sum is \\boxed{5050}.", "reasoning": "Gauss.", "confidence": 0.9}


def events(raw: bytes) -> list[tuple[str | None, str]]:
    """(event name, data) of each server-sent event in `raw`."""
    out = []
    for block in raw.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            out.append((name, "\n".join(data)))
    return out


class Streams(unittest.TestCase):
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
        call(self.port, "POST", "/__mock/reset", {})
        call(self.port, "POST", "/__mock/script", {"rules": [{"thinking": THINKING, "reply": REPLY}]})

    def post(self, path, body, headers=None):
        return call(self.port, "POST", path, body, headers)

    def test_openai_chunks_add_up_to_the_whole_reply_and_usage_comes_last_when_asked(self) -> None:
        body = openai_body("Add 1 to 100.", SOLVER_SCHEMA)
        whole = self.post("/openai/v1/chat/completions", body).json()
        resp = self.post("/openai/v1/chat/completions",
                         {**body, "stream": True, "stream_options": {"include_usage": True}})
        self.assertTrue(resp.headers["content-type"].startswith("text/event-stream"))
        data = [d for _, d in events(resp.raw)]
        self.assertEqual(data[-1], "[DONE]")
        chunks = [json.loads(d) for d in data[:-1]]
        deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
        message = whole["choices"][0]["message"]
        self.assertEqual("".join(d.get("content") or "" for d in deltas), message["content"])
        self.assertEqual("".join(d.get("reasoning_content") or "" for d in deltas), THINKING)
        self.assertEqual(message["reasoning_content"], THINKING)
        self.assertEqual([c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1], "stop")
        # Every chunk but the last has `usage: null`; the last has no choices and the usage.
        self.assertEqual([c["usage"] for c in chunks[:-1]], [None] * (len(chunks) - 1))
        self.assertEqual(chunks[-1]["choices"], [])
        self.assertEqual(chunks[-1]["usage"], whole["usage"])
        # "Add 1 to 100." is 4 words → 5 tokens; the thinking's 6 words → 8 reasoning tokens.
        self.assertEqual(whole["usage"]["prompt_tokens"], 5)
        self.assertEqual(whole["usage"]["completion_tokens_details"]["reasoning_tokens"], 8)

        without = self.post("/openai/v1/chat/completions", {**body, "stream": True})
        chunks = [json.loads(d) for _, d in events(without.raw) if d != "[DONE]"]
        self.assertTrue(all("usage" not in c for c in chunks))

    def test_anthropic_events_add_up_to_the_whole_message(self) -> None:
        body = anthropic_tool_body("Add 1 to 100.", SOLVER_SCHEMA)
        whole = self.post("/anthropic/v1/messages", body, ANTHROPIC_HEADERS).json()
        resp = self.post("/anthropic/v1/messages", {**body, "stream": True}, ANTHROPIC_HEADERS)
        evs = [(name, json.loads(d)) for name, d in events(resp.raw)]
        self.assertEqual([n for n, _ in evs][0], "message_start")
        self.assertEqual([n for n, _ in evs][-1], "message_stop")
        self.assertTrue(all(name == d["type"] for name, d in evs))
        thinking = "".join(d["delta"].get("thinking", "") for n, d in evs if n == "content_block_delta")
        signature = "".join(d["delta"].get("signature", "") for n, d in evs if n == "content_block_delta")
        partial = "".join(d["delta"].get("partial_json", "") for n, d in evs if n == "content_block_delta")
        self.assertEqual(whole["content"][0], {"type": "thinking", "thinking": THINKING, "signature": signature})
        self.assertEqual(thinking, THINKING)
        self.assertEqual(json.loads(partial), whole["content"][1]["input"])
        start = evs[0][1]["message"]["usage"]
        delta = next(d for n, d in evs if n == "message_delta")
        self.assertEqual(delta["delta"]["stop_reason"], whole["stop_reason"])
        self.assertEqual({**start, **delta["usage"]}, whole["usage"])

    def test_gemini_sse_responses_add_up_and_the_last_counts_everything(self) -> None:
        body = gemini_body("Add 1 to 100.", {"type": "OBJECT", "properties": {"solution": {"type": "STRING"}}})
        path = "/gemini/v1beta/models/gemini-2.5-flash"
        whole = self.post(path + ":generateContent", body).json()
        resp = self.post(path + ":streamGenerateContent?alt=sse", body)
        responses = [json.loads(d) for _, d in events(resp.raw)]
        parts = [p for r in responses for p in r["candidates"][0]["content"]["parts"]]
        want = whole["candidates"][0]["content"]["parts"]
        self.assertEqual("".join(p["text"] for p in parts if p.get("thought")), want[0]["text"])
        self.assertEqual("".join(p["text"] for p in parts if not p.get("thought")), want[1]["text"])
        self.assertEqual(responses[-1]["candidates"][0]["finishReason"], "STOP")
        self.assertEqual(responses[-1]["usageMetadata"], whole["usageMetadata"])
        # Without alt=sse the same responses come as one JSON array.
        array = self.post(path + ":streamGenerateContent", body)
        self.assertEqual(len(json.loads(array.raw)), len(responses))

    def test_cohere_events_add_up_to_the_whole_message(self) -> None:
        body = cohere_body("Add 1 to 100.", SOLVER_SCHEMA)
        whole = self.post("/cohere/v2/chat", body).json()
        resp = self.post("/cohere/v2/chat", {**body, "stream": True})
        evs = [(name, json.loads(d)) for name, d in events(resp.raw)]
        text = "".join(d["delta"]["message"]["content"].get("text", "") for n, d in evs if n == "content-delta")
        thinking = "".join(d["delta"]["message"]["content"].get("thinking", "") for n, d in evs if n == "content-delta")
        self.assertEqual(whole["message"]["content"], [
            {"type": "thinking", "thinking": thinking}, {"type": "text", "text": text},
        ])
        end = evs[-1][1]
        self.assertEqual(evs[-1][0], "message-end")
        self.assertEqual(end["delta"]["finish_reason"], whole["finish_reason"])
        self.assertEqual(end["delta"]["usage"], whole["usage"])

    def test_a_cut_stream_ends_halfway_without_its_end_event(self) -> None:
        call(self.port, "POST", "/__mock/reset", {})
        call(self.port, "POST", "/__mock/script", {"rules": [{"reply": REPLY, "fault": "cut"}]})
        body = {**openai_body("Add 1 to 100.", SOLVER_SCHEMA), "stream": True}
        resp = self.post("/openai/v1/chat/completions", body)
        data = [d for _, d in events(resp.raw)]
        self.assertNotIn("[DONE]", data)
        text = "".join(json.loads(d)["choices"][0]["delta"].get("content") or "" for d in data)
        self.assertTrue(json.dumps(REPLY).startswith(text) and 0 < len(text) < len(json.dumps(REPLY)))
        log = call(self.port, "GET", "/__mock/requests").json()["requests"]
        self.assertEqual([(e["status"], e["streamed"]) for e in log], [("cut", True)])

    def test_a_rule_with_bad_stream_fields_is_refused_by_name(self) -> None:
        for rule, field in [({"chunk_ms": -1}, "chunk_ms"), ({"pause": "Bad Gate"}, "pause"), ({"thinking": ""}, "thinking")]:
            resp = call(self.port, "POST", "/__mock/script", {"rules": [rule]})
            self.assertEqual(resp.status, 400)
            self.assertIn(f"rules[0].{field}", resp.json()["error"]["message"])


if __name__ == "__main__":
    unittest.main()

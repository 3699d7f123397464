"""Self-test of the mock's Anthropic Message Batches and Gemini batch mode:
`python3 -m unittest tests/mock/test_batch_families.py`.

Expected token counts are worked out by hand (words x 1.3, rounded half up), never read back
from the server's own formula.
"""

from __future__ import annotations

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_mock_provider import (  # noqa: E402
    ANTHROPIC_HEADERS, SOLVER_SCHEMA, anthropic_tool_body, call, gemini_body, start_server, stop_server,
)

GEMINI_KEY = {"x-goog-api-key": "gm-test"}
GEMINI_CREATE = "/gemini/v1beta/models/gemini-2.5-flash:batchGenerateContent"


def gemini_batch(pairs: list[tuple[str, str]]) -> dict:
    return {"batch": {"displayName": "t", "inputConfig": {"requests": {"requests": [
        {"request": gemini_body(prompt, SOLVER_SCHEMA), "metadata": {"key": key}} for key, prompt in pairs]}}}}


class FamiliesCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = start_server()
        cls.port = cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls) -> None:
        stop_server(cls.server)

    def setUp(self) -> None:
        self.assertEqual(call(self.port, "POST", "/__mock/reset", {}).status, 200)

    def configure(self, **config) -> None:
        self.assertEqual(call(self.port, "POST", "/__mock/batch-config", config).status, 200)

    # --- Anthropic ---

    def a_submit(self, pairs: list[tuple[str, str]]) -> dict:
        body = {"requests": [{"custom_id": c, "params": anthropic_tool_body(p, SOLVER_SCHEMA)} for c, p in pairs]}
        got = call(self.port, "POST", "/anthropic/v1/messages/batches", body, ANTHROPIC_HEADERS)
        self.assertEqual(got.status, 200, got.raw)
        return got.json()

    def a_get(self, batch_id: str) -> dict:
        got = call(self.port, "GET", f"/anthropic/v1/messages/batches/{batch_id}", headers=ANTHROPIC_HEADERS)
        self.assertEqual(got.status, 200, got.raw)
        return got.json()

    def a_results(self, url: str) -> dict:
        path = "/" + url.split("/", 3)[3]
        got = call(self.port, "GET", path, headers=ANTHROPIC_HEADERS)
        self.assertEqual(got.status, 200, got.raw)
        return {l["custom_id"]: l["result"] for l in map(json.loads, got.raw.decode().splitlines()) if l}

    def test_an_anthropic_batch_answers_each_request_as_the_messages_route_would(self) -> None:
        batch = self.a_submit([("a", "two plus two"), ("b", "three times three")])
        self.assertEqual(batch["type"], "message_batch")
        self.assertEqual(batch["processing_status"], "in_progress")
        self.assertEqual(batch["request_counts"]["processing"], 2)
        self.assertIsNone(batch["results_url"])
        done = self.a_get(batch["id"])
        self.assertEqual(done["processing_status"], "ended")
        self.assertEqual(done["request_counts"], {"processing": 0, "succeeded": 2, "errored": 0,
                                                  "canceled": 0, "expired": 0})
        results = self.a_results(done["results_url"])
        self.assertEqual(sorted(results), ["a", "b"])
        message = results["a"]["message"]
        self.assertEqual(results["a"]["type"], "succeeded")
        self.assertEqual(message["content"][0]["type"], "tool_use")
        self.assertEqual(set(message["content"][0]["input"]), {"solution", "reasoning", "confidence"})
        # "two plus two": 3 words -> 3.9 -> 4 input tokens.
        self.assertEqual(message["usage"]["input_tokens"], 4)
        listing = call(self.port, "GET", "/__mock/batches").json()
        self.assertEqual(listing["uploads"], {"a": 1, "b": 1})
        self.assertEqual(listing["batches"][0]["family"], "anthropic")

    def test_an_anthropic_batch_waits_and_reports_expired_and_errored_requests(self) -> None:
        self.configure(turnaround_polls=1, expire=["late one"], error=["broken one"])
        batch = self.a_submit([("ok", "fine one"), ("exp", "late one"), ("err", "broken one")])
        self.assertEqual(self.a_get(batch["id"])["processing_status"], "in_progress")
        done = self.a_get(batch["id"])
        self.assertEqual(done["request_counts"], {"processing": 0, "succeeded": 1, "errored": 1,
                                                  "canceled": 0, "expired": 1})
        results = self.a_results(done["results_url"])
        self.assertEqual({k: v["type"] for k, v in results.items()},
                         {"ok": "succeeded", "exp": "expired", "err": "errored"})
        self.assertEqual(results["err"]["error"]["error"]["type"], "api_error")

    def test_a_canceled_anthropic_batch_ends_with_its_requests_canceled(self) -> None:
        self.configure(turnaround_polls=5)
        batch = self.a_submit([("a", "two plus two")])
        got = call(self.port, "POST", f"/anthropic/v1/messages/batches/{batch['id']}/cancel", b"", ANTHROPIC_HEADERS)
        self.assertEqual(got.json()["processing_status"], "canceling")
        done = self.a_get(batch["id"])
        self.assertEqual(done["processing_status"], "ended")
        self.assertEqual(self.a_results(done["results_url"])["a"]["type"], "canceled")

    def test_bad_anthropic_batches_are_refused(self) -> None:
        bad_id = {"requests": [{"custom_id": "has space", "params": anthropic_tool_body("x", SOLVER_SCHEMA)}]}
        self.assertEqual(call(self.port, "POST", "/anthropic/v1/messages/batches", bad_id, ANTHROPIC_HEADERS).status, 400)
        streamed = {"requests": [{"custom_id": "a", "params": dict(anthropic_tool_body("x", SOLVER_SCHEMA), stream=True)}]}
        self.assertEqual(call(self.port, "POST", "/anthropic/v1/messages/batches", streamed, ANTHROPIC_HEADERS).status, 400)
        no_version = {k: v for k, v in ANTHROPIC_HEADERS.items() if k != "anthropic-version"}
        ok = {"requests": [{"custom_id": "a", "params": anthropic_tool_body("x", SOLVER_SCHEMA)}]}
        self.assertEqual(call(self.port, "POST", "/anthropic/v1/messages/batches", ok, no_version).status, 400)
        missing = call(self.port, "GET", "/anthropic/v1/messages/batches/msgbatch_nope", headers=ANTHROPIC_HEADERS)
        self.assertEqual(missing.status, 404)

    # --- Gemini ---

    def g_get(self, name: str) -> dict:
        got = call(self.port, "GET", f"/gemini/v1beta/{name}", headers=GEMINI_KEY)
        self.assertEqual(got.status, 200, got.raw)
        return got.json()

    def test_a_gemini_batch_returns_inline_responses_in_input_order(self) -> None:
        created = call(self.port, "POST", GEMINI_CREATE, gemini_batch([("k1", "two plus two"), ("k2", "three")]), GEMINI_KEY)
        self.assertEqual(created.status, 200, created.raw)
        op = created.json()
        self.assertTrue(op["name"].startswith("batches/"))
        self.assertEqual(op["metadata"]["state"], "BATCH_STATE_PENDING")
        self.assertFalse(op["done"])
        done = self.g_get(op["name"])
        self.assertTrue(done["done"])
        self.assertEqual(done["metadata"]["state"], "BATCH_STATE_SUCCEEDED")
        self.assertEqual(done["metadata"]["batchStats"]["successfulRequestCount"], "2")
        responses = done["response"]["inlinedResponses"]["inlinedResponses"]
        self.assertEqual([r["metadata"]["key"] for r in responses], ["k1", "k2"])
        reply = responses[0]["response"]
        solver = json.loads(reply["candidates"][0]["content"]["parts"][0]["text"])
        self.assertEqual(set(solver), {"solution", "reasoning", "confidence"})
        self.assertEqual(reply["usageMetadata"]["promptTokenCount"], 4)

    def test_a_gemini_batch_above_the_inline_limit_runs_from_an_uploaded_file(self) -> None:
        # Three requests of 7 MB each: above the 20 MB inline limit, so they go as a file.
        padding = "x" * 7_000_000
        pairs = [(f"k{i}", f"two plus two {padding}") for i in range(3)]
        lines = [{"key": key, "request": gemini_body(prompt, SOLVER_SCHEMA)} for key, prompt in pairs]
        data = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")
        self.assertGreater(len(data), 20_000_000)
        start = call(self.port, "POST", "/gemini/upload/v1beta/files", {"file": {"displayName": "round"}}, {
            **GEMINI_KEY, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": str(len(data)),
            "X-Goog-Upload-Header-Content-Type": "application/jsonl"})
        self.assertEqual(start.status, 200, start.raw)
        self.assertIn("x-goog-upload-url", start.headers["access-control-expose-headers"])
        upload_path = "/" + start.headers["x-goog-upload-url"].split("/", 3)[3]
        # The declared length is checked.
        short = call(self.port, "POST", upload_path, data[:10], {
            **GEMINI_KEY, "X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"})
        self.assertEqual(short.status, 400, short.raw)
        start = call(self.port, "POST", "/gemini/upload/v1beta/files", {"file": {"displayName": "round"}}, {
            **GEMINI_KEY, "X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": str(len(data))})
        upload_path = "/" + start.headers["x-goog-upload-url"].split("/", 3)[3]
        uploaded = call(self.port, "POST", upload_path, data, {
            **GEMINI_KEY, "X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0",
            "Content-Type": "application/jsonl"})
        self.assertEqual(uploaded.status, 200, uploaded.raw)
        file_name = uploaded.json()["file"]["name"]
        self.assertTrue(file_name.startswith("files/"))
        self.assertEqual(uploaded.json()["file"]["sizeBytes"], str(len(data)))

        created = call(self.port, "POST", GEMINI_CREATE,
                       {"batch": {"displayName": "t", "inputConfig": {"fileName": file_name}}}, GEMINI_KEY)
        self.assertEqual(created.status, 200, created.raw)
        done = self.g_get(created.json()["name"])
        self.assertTrue(done["done"])
        self.assertEqual(done["metadata"]["batchStats"]["successfulRequestCount"], "3")
        self.assertNotIn("inlinedResponses", done["response"])
        responses_file = done["response"]["responsesFile"]
        got = call(self.port, "GET", f"/gemini/download/v1beta/{responses_file}:download?alt=media",
                   headers=GEMINI_KEY)
        self.assertEqual(got.status, 200, got.raw[:300])
        out = [json.loads(line) for line in got.raw.decode("utf-8").splitlines()]
        self.assertEqual([line["key"] for line in out], ["k0", "k1", "k2"])
        solver = json.loads(out[0]["response"]["candidates"][0]["content"]["parts"][0]["text"])
        self.assertEqual(set(solver), {"solution", "reasoning", "confidence"})
        # Words x 1.3: "two plus two" and the padding, 4 words -> 5.2 -> 5.
        self.assertEqual(out[0]["response"]["usageMetadata"]["promptTokenCount"], 5)
        missing = call(self.port, "POST", GEMINI_CREATE,
                       {"batch": {"displayName": "t", "inputConfig": {"fileName": "files/nope"}}}, GEMINI_KEY)
        self.assertEqual(missing.status, 404, missing.raw)

    def test_a_gemini_batch_expires_errors_and_cancels(self) -> None:
        self.configure(turnaround_polls=1, expire=["late one"], error=["broken one"])
        op = call(self.port, "POST", GEMINI_CREATE,
                  gemini_batch([("ok", "fine one"), ("exp", "late one"), ("err", "broken one")]), GEMINI_KEY).json()
        self.assertEqual(self.g_get(op["name"])["metadata"]["state"], "BATCH_STATE_RUNNING")
        done = self.g_get(op["name"])
        self.assertEqual(done["metadata"]["state"], "BATCH_STATE_EXPIRED")
        responses = done["response"]["inlinedResponses"]["inlinedResponses"]
        self.assertEqual([(r["metadata"]["key"], "error" in r) for r in responses], [("ok", False), ("err", True)])
        self.configure(turnaround_polls=5)
        op = call(self.port, "POST", GEMINI_CREATE, gemini_batch([("c", "two plus two")]), GEMINI_KEY).json()
        cancel = call(self.port, "POST", f"/gemini/v1beta/{op['name']}:cancel", b"", GEMINI_KEY)
        self.assertEqual(cancel.status, 200)
        cancelled = self.g_get(op["name"])
        self.assertEqual(cancelled["metadata"]["state"], "BATCH_STATE_CANCELLED")
        self.assertEqual(cancelled["response"]["inlinedResponses"]["inlinedResponses"], [])

    def test_bad_gemini_batches_and_keys_are_refused(self) -> None:
        self.assertEqual(call(self.port, "POST", GEMINI_CREATE, {"batch": {}}, GEMINI_KEY).status, 400)
        dup = gemini_batch([("k", "a"), ("k", "b")])
        self.assertEqual(call(self.port, "POST", GEMINI_CREATE, dup, GEMINI_KEY).status, 400)
        bad_key = call(self.port, "POST", GEMINI_CREATE, gemini_batch([("k", "a")]), {"x-goog-api-key": "bad-key"})
        self.assertEqual(bad_key.status, 400)
        self.assertEqual(call(self.port, "GET", "/gemini/v1beta/batches/nope", headers=GEMINI_KEY).status, 404)


if __name__ == "__main__":
    unittest.main()

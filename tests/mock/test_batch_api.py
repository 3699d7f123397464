"""Self-test of the mock's OpenAI Batch API: `python3 -m unittest tests/mock/test_batch_api.py`.

Expected token counts are worked out by hand (words x 1.3, rounded half up), never read back
from the server's own formula.
"""

from __future__ import annotations

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_mock_provider import SOLVER_SCHEMA, call, openai_body, start_server, stop_server  # noqa: E402

KEY = {"Authorization": "Bearer sk-test"}
BOUNDARY = "test-boundary-1"


def multipart(lines: list[dict], purpose: str = "batch") -> tuple[bytes, dict]:
    jsonl = "".join(json.dumps(line) + "\n" for line in lines)
    body = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.jsonl\"\r\n"
        f"Content-Type: application/jsonl\r\n\r\n{jsonl}\r\n--{BOUNDARY}--\r\n"
    )
    return body.encode("utf-8"), {**KEY, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def line(custom_id: str, prompt: str) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": openai_body(prompt, SOLVER_SCHEMA, model="gpt-4o-mini")}


class BatchApiCase(unittest.TestCase):
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

    def submit(self, lines: list[dict]) -> dict:
        body, headers = multipart(lines)
        upload = call(self.port, "POST", "/openai/v1/files", body, headers)
        self.assertEqual(upload.status, 200, upload.raw)
        self.assertEqual(upload.json()["purpose"], "batch")
        create = call(self.port, "POST", "/openai/v1/batches",
                      {"input_file_id": upload.json()["id"], "endpoint": "/v1/chat/completions",
                       "completion_window": "24h"}, KEY)
        self.assertEqual(create.status, 200, create.raw)
        return create.json()

    def retrieve(self, batch_id: str) -> dict:
        got = call(self.port, "GET", f"/openai/v1/batches/{batch_id}", headers=KEY)
        self.assertEqual(got.status, 200, got.raw)
        return got.json()

    def file_lines(self, file_id: str) -> list[dict]:
        got = call(self.port, "GET", f"/openai/v1/files/{file_id}/content", headers=KEY)
        self.assertEqual(got.status, 200)
        return [json.loads(l) for l in got.raw.decode("utf-8").splitlines() if l.strip()]

    def test_a_batch_runs_each_line_as_the_chat_route_would(self) -> None:
        batch = self.submit([line("a", "two plus two"), line("b", "three times three")])
        self.assertEqual(batch["status"], "validating")
        self.assertEqual(batch["request_counts"], {"total": 2, "completed": 0, "failed": 0})
        done = self.retrieve(batch["id"])
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["request_counts"], {"total": 2, "completed": 2, "failed": 0})
        self.assertIsNone(done["error_file_id"])
        out = {l["custom_id"]: l for l in self.file_lines(done["output_file_id"])}
        self.assertEqual(sorted(out), ["a", "b"])
        reply = out["a"]["response"]
        self.assertEqual(reply["status_code"], 200)
        self.assertIsNone(out["a"]["error"])
        solver = json.loads(reply["body"]["choices"][0]["message"]["content"])
        self.assertEqual(set(solver), {"solution", "reasoning", "confidence"})
        # "two plus two": 3 words -> 3.9 -> 4 prompt tokens.
        self.assertEqual(reply["body"]["usage"]["prompt_tokens"], 4)
        uploads = call(self.port, "GET", "/__mock/batches").json()["uploads"]
        self.assertEqual(uploads, {"a": 1, "b": 1})

    def test_a_batch_waits_its_turnaround_and_reports_expiry_and_errors(self) -> None:
        self.configure(turnaround_polls=2, expire=["late one"], error=["broken one"])
        batch = self.submit([line("ok", "fine one"), line("exp", "late one"), line("err", "broken one")])
        self.assertEqual(self.retrieve(batch["id"])["status"], "in_progress")
        self.assertEqual(self.retrieve(batch["id"])["status"], "in_progress")
        done = self.retrieve(batch["id"])
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["request_counts"], {"total": 3, "completed": 1, "failed": 2})
        errors = {l["custom_id"]: l["error"]["code"] for l in self.file_lines(done["error_file_id"])}
        self.assertEqual(errors, {"exp": "batch_expired", "err": "server_error"})
        self.assertEqual([l["custom_id"] for l in self.file_lines(done["output_file_id"])], ["ok"])
        # Each substring is used once: the same prompts run normally next time.
        again = self.submit([line("exp2", "late one"), line("err2", "broken one")])
        for _ in range(2):
            self.assertEqual(self.retrieve(again["id"])["status"], "in_progress")
        self.assertEqual(self.retrieve(again["id"])["request_counts"]["completed"], 2)

    def test_a_cancelled_batch_runs_nothing(self) -> None:
        self.configure(turnaround_polls=5)
        batch = self.submit([line("a", "two plus two")])
        cancelled = call(self.port, "POST", f"/openai/v1/batches/{batch['id']}/cancel", b"", KEY)
        self.assertEqual(cancelled.json()["status"], "cancelled")
        done = self.retrieve(batch["id"])
        self.assertEqual(done["status"], "cancelled")
        self.assertIsNone(done["output_file_id"])

    def test_bad_uploads_and_keys_are_refused(self) -> None:
        body, headers = multipart([line("a", "x")], purpose="fine-tune")
        self.assertEqual(call(self.port, "POST", "/openai/v1/files", body, headers).status, 400)
        body, headers = multipart([line("a", "x"), line("a", "y")])
        self.assertEqual(call(self.port, "POST", "/openai/v1/files", body, headers).status, 400)
        body, headers = multipart([line("a", "x")])
        bad = {**headers, "Authorization": "Bearer bad-key"}
        self.assertEqual(call(self.port, "POST", "/openai/v1/files", body, bad).status, 401)
        missing = call(self.port, "GET", "/openai/v1/batches/batch_nope", headers=KEY)
        self.assertEqual(missing.status, 404)


if __name__ == "__main__":
    unittest.main()

"""The TRL files Trialogue writes load with Hugging Face `datasets` and have the columns of
TRL's "Dataset formats and types" (TRL v0.24.0,
https://huggingface.co/docs/trl/v0.24.0/dataset_formats):

- conversational prompt-completion: `prompt` and `completion`, lists of {role, content};
- conversational language modelling: `messages`;
- conversational preference with an explicit prompt: `prompt`, `chosen`, `rejected`;
- conversational unpaired preference: `prompt`, `completion`, `label` (bool).

The files come from `cargo run --example training-sample`, which runs the real loop against a
scripted model and writes every format through the exporter the page uses. `datasets` is pinned
in scripts/test-requirements.txt and runs offline (HF_DATASETS_OFFLINE, HF_HUB_OFFLINE).
"""

import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

import subprocess  # noqa: E402
import tempfile  # noqa: E402
import unittest  # noqa: E402

import datasets  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

MESSAGE = {"role": datasets.Value("string"), "content": datasets.Value("string")}


def messages_feature(feature):
    """The {role, content} fields of a list-of-messages feature, whatever `datasets` calls lists."""
    inner = getattr(feature, "feature", None)
    if inner is None and isinstance(feature, list) and feature:
        inner = feature[0]
    return dict(inner) if isinstance(inner, (dict, datasets.Features)) else None


class TrlFilesLoad(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cache = tempfile.TemporaryDirectory()
        run = subprocess.run(
            ["cargo", "run", "--quiet", "--example", "training-sample", "--", cls.tmp.name],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise RuntimeError(f"training-sample failed: {run.stderr}")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        cls.cache.cleanup()

    def load(self, name):
        files = {
            split: os.path.join(self.tmp.name, name, f"{split}.jsonl")
            for split in ("train", "validation", "test")
        }
        # Empty splits are left out: `datasets` cannot infer columns from an empty file.
        files = {s: p for s, p in files.items() if os.path.getsize(p) > 0}
        self.assertIn("train", files, name)
        return datasets.load_dataset("json", data_files=files, cache_dir=self.cache.name)["train"]

    def assert_messages(self, ds, column, roles=None):
        self.assertEqual(messages_feature(ds.features[column]), MESSAGE, column)
        for row in ds:
            self.assertTrue(row[column], column)
            for m in row[column]:
                self.assertIn(m["role"], roles or ("system", "user", "assistant"))
                self.assertTrue(m["content"].strip())

    def test_sft_prompt_completion(self):
        ds = self.load("trl-sft")
        self.assertLessEqual({"prompt", "completion"}, set(ds.column_names))
        self.assert_messages(ds, "prompt", ("system", "user"))
        self.assert_messages(ds, "completion", ("assistant",))
        self.assertGreater(len(ds), 0)

    def test_sft_messages_end_with_the_answer(self):
        ds = self.load("trl-sft-messages")
        self.assertIn("messages", ds.column_names)
        self.assertNotIn("prompt", ds.column_names)
        self.assert_messages(ds, "messages")
        for row in ds:
            self.assertEqual(row["messages"][-1]["role"], "assistant")

    def test_preference_has_prompt_chosen_rejected(self):
        ds = self.load("trl-preference")
        self.assertLessEqual({"prompt", "chosen", "rejected"}, set(ds.column_names))
        self.assert_messages(ds, "prompt", ("system", "user"))
        self.assert_messages(ds, "chosen", ("assistant",))
        self.assert_messages(ds, "rejected", ("assistant",))
        for row in ds:
            self.assertNotEqual(row["chosen"], row["rejected"])
        kinds = sorted(row["provenance"]["pairing"] for row in ds)
        self.assertEqual(kinds, ["across_runs", "within_run"])

    def test_unpaired_has_a_boolean_label(self):
        ds = self.load("trl-unpaired")
        self.assertLessEqual({"prompt", "completion", "label"}, set(ds.column_names))
        self.assertEqual(ds.features["label"], datasets.Value("bool"))
        self.assertEqual(sorted(ds["label"]), [False, False, True, True])

    def test_critic_rows_are_unpaired_preference_rows(self):
        ds = self.load("critic")
        self.assertLessEqual({"prompt", "completion", "label"}, set(ds.column_names))
        self.assertEqual(ds.features["label"], datasets.Value("bool"))
        self.assert_messages(ds, "completion", ("assistant",))

    def test_reward_rows_carry_a_reward_in_unit_range(self):
        ds = self.load("reward")
        self.assertLessEqual({"prompt", "completion", "reward", "rewards"}, set(ds.column_names))
        self.assertEqual(ds.features["reward"], datasets.Value("float64"))
        self.assertTrue(all(0.0 <= r <= 1.0 for r in ds["reward"]))


if __name__ == "__main__":
    unittest.main()

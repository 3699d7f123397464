"""The math-verify side of the answer-checking differential test (the Trialogue side is
tests/native/answer/differential.rs): the pinned math-verify must still give the verdicts the
fixtures record, so that the disagreement tables and figures cannot silently rot. Offline:
math-verify is installed in .venv from scripts/test-requirements.txt.

    .venv/bin/python -m unittest discover -s tests/math_verify -p 'test_*.py'
"""

import unittest

import harness


class MathVerifyVerdicts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.quiet()
        cls.cases = harness.load_cases()
        cls.recorded = harness.load_json(harness.MATH_VERIFY_VERDICTS)
        cls.now = {c["id"]: harness.math_verify_grade(c["ground_truth"], c["solution"]) for c in cls.cases}

    def test_every_case_has_a_recorded_verdict(self):
        self.assertEqual(set(self.recorded), {c["id"] for c in self.cases})

    def test_math_verify_gives_the_recorded_verdicts(self):
        changed = {i: (self.recorded[i], v) for i, v in self.now.items() if self.recorded.get(i) != v}
        self.assertEqual(changed, {}, "math-verify's verdict changed (recorded, now); rerun compare.py --write")

    def test_the_disagreement_table_records_math_verify_verdicts(self):
        for row in harness.load_json(harness.DISAGREEMENTS):
            with self.subTest(row["id"]):
                self.assertEqual(row["math_verify"], self.now[row["id"]])
                self.assertNotEqual(row["trialogue"], row["math_verify"])
                self.assertIn(row["right"], ("trialogue", "math-verify", "unclear"))
                self.assertTrue(row["why"].strip())

    def test_math_verify_accuracy_is_the_recorded_figure_and_behind_trialogue(self):
        figures = harness.load_json(harness.FIGURES)["differential"]
        right, clear = harness.accuracy(self.now, self.cases)
        self.assertEqual((right, clear), (figures["math_verify_right"], figures["clear"]))
        self.assertGreater(figures["trialogue_right"], right)


class MathVerifyOwnSuite(unittest.TestCase):
    """The fixture of math-verify's own tests is transcribed right: math-verify, called as
    each test calls it, gives every expected verdict."""

    def test_math_verify_passes_its_own_cases_as_transcribed(self):
        harness.quiet()
        suite = harness.load_json(harness.SUITE)["cases"]
        self.assertEqual(len(suite), harness.load_json(harness.FIGURES)["suite"]["cases"])
        wrong = [
            c["id"]
            for c in suite
            if harness.math_verify_grade(c["gold"], c["prediction"], c["options"]) != c["expected"]
        ]
        self.assertEqual(wrong, [])


if __name__ == "__main__":
    unittest.main()

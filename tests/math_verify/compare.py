#!/usr/bin/env python3
"""Runs math-verify and Trialogue's checker over the differential cases and math-verify's own
suite, and prints both sides' figures and every disagreement, so the tables in
tests/fixtures/answers/ can be reviewed and updated by hand (the judgement of who is right in a
disagreement is a person's, never this script's).

    .venv/bin/python tests/math_verify/compare.py          # report
    .venv/bin/python tests/math_verify/compare.py --write  # also rewrite
        math_verify_verdicts.json (math-verify's verdicts, for the offline tests)

Trialogue's side comes from `cargo run --release --example grade_answers`.
"""

import json
import subprocess
import sys
import tempfile

import harness


def trialogue_verdicts(rows):
    """{id: correct} from the Rust checker over rows of {id, solution, ground_truth}."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
        path = f.name
    out = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "--example", "grade_answers", "--", path],
        cwd=harness.ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {v["id"]: v["correct"] for v in map(json.loads, out.splitlines())}


def main(write: bool):
    harness.quiet()
    cases = harness.load_cases()
    math_verify = {c["id"]: harness.math_verify_grade(c["ground_truth"], c["solution"]) for c in cases}
    if write:
        harness.MATH_VERIFY_VERDICTS.write_text(json.dumps(math_verify, indent=1, sort_keys=True) + "\n")
    trialogue = trialogue_verdicts(cases)
    t_right, clear = harness.accuracy(trialogue, cases)
    m_right, _ = harness.accuracy(math_verify, cases)
    print(f"differential cases: {len(cases)}, {clear} with a clear verdict")
    print(f"  Trialogue right on {t_right}/{clear} ({100 * t_right / clear:.1f} %)")
    print(f"  math-verify right on {m_right}/{clear} ({100 * m_right / clear:.1f} %)")
    table = {row["id"]: row for row in harness.load_json(harness.DISAGREEMENTS)}
    by_id = {c["id"]: c for c in cases}
    for case_id in sorted(set(table) | {i for i in trialogue if trialogue[i] != math_verify[i]}):
        row = table.get(case_id)
        now = (trialogue[case_id], math_verify[case_id])
        if row is None:
            print(f"  NEW disagreement {case_id}: Trialogue {now[0]}, math-verify {now[1]}, "
                  f"intended {by_id[case_id]['intended']}: {by_id[case_id]['why']}")
        elif (row["trialogue"], row["math_verify"]) != now:
            print(f"  CHANGED {case_id}: table says {row['trialogue']}/{row['math_verify']}, now {now}")

    suite = harness.load_json(harness.SUITE)["cases"]
    rows = [{"id": c["id"], "solution": c["prediction"], "ground_truth": c["gold"]} for c in suite]
    trialogue = trialogue_verdicts(rows)
    agree = [c for c in suite if trialogue[c["id"]] == c["expected"]]
    marked = [c for c in suite if c["marked"]]
    agree_marked = [c for c in marked if trialogue[c["id"]] == c["expected"]]
    print(f"math-verify's suite: Trialogue agrees on {len(agree)}/{len(suite)} "
          f"({100 * len(agree) / len(suite):.1f} %), where the prediction marks its answer "
          f"{len(agree_marked)}/{len(marked)} ({100 * len(agree_marked) / len(marked):.1f} %)")
    misses = {row["id"] for row in harness.load_json(harness.SUITE_MISSES)}
    for c in suite:
        missed = trialogue[c["id"]] != c["expected"]
        if missed and c["id"] not in misses:
            print(f"  NEW miss {c['id']}: expected {c['expected']}; gold {c['gold'][-60:]!r} "
                  f"prediction {c['prediction'][-60:]!r}")
        if not missed and c["id"] in misses:
            print(f"  FIXED {c['id']}: no longer a miss")


if __name__ == "__main__":
    main("--write" in sys.argv[1:])

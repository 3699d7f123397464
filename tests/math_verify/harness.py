"""What the math-verify differential test and its maintenance script share: the fixtures'
paths, how math-verify grades a case, and how accuracy is counted."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures/answers"
CASES = FIXTURES / "differential/cases.jsonl"
MATH_VERIFY_VERDICTS = FIXTURES / "differential/math_verify_verdicts.json"
DISAGREEMENTS = FIXTURES / "differential/disagreements.json"
FIGURES = FIXTURES / "differential/figures.json"
SUITE = FIXTURES / "math_verify_suite.json"
SUITE_MISSES = FIXTURES / "suite_misses.json"


def load_cases():
    with CASES.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def load_json(path):
    with path.open() as f:
        return json.load(f)


def quiet():
    """math-verify logs every expression it cannot parse; the tests only want verdicts."""
    import logging

    for name in ("math_verify", "math_verify.parser", "math_verify.grader", "latex2sympy2_extended"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def delimited(gold: str) -> str:
    """A bare LaTeX ground truth in `$…$`: math-verify reads LaTeX only inside a math
    environment (its README), so MATH-500's bare `answer` strings are wrapped before parsing."""
    unescaped = gold.replace("\\$", "")
    if any(mark in unescaped for mark in ("$", "\\(", "\\[", "\\boxed")):
        return gold
    return f"${gold}$"


def math_verify_grade(gold: str, prediction: str, options=None) -> bool:
    """math-verify's verdict, called the way its own tests call it (`options` from the suite
    fixture) or, without options, the way its README grades a model's output against a
    MATH-500 answer: the answer in `$…$`, both parsed with the default extraction, then
    verify(gold, prediction)."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    if options is None:
        return bool(verify(parse(delimited(gold)), parse(prediction)))
    if options["harness"] == "parse_verify":
        return bool(verify(parse(gold), parse(prediction)))
    targets = [
        LatexExtractionConfig(boxed_match_priority=0) if kind == "latex" else ExprExtractionConfig()
        for kind in options["match_types"]
    ]
    return bool(
        verify(
            parse(gold, targets),
            parse(prediction, targets),
            float_rounding=options["precision"],
            strict=options["strict"],
            allow_set_relation_comp=options["allow_set_relation_comp"],
        )
    )


def accuracy(verdicts: dict, cases) -> tuple:
    """(right, clear): verdicts that equal the intended one, among cases with a clear verdict."""
    clear = [c for c in cases if c["intended"] is not None]
    right = sum(verdicts[c["id"]] == c["intended"] for c in clear)
    return right, len(clear)

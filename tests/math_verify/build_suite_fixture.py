#!/usr/bin/env python3
"""Writes tests/fixtures/answers/math_verify_suite.json from math-verify's own test files.

Run once by hand when the pinned math-verify changes, never by the tests:

    pip download math-verify==0.9.0 --no-deps --no-binary :all: -d /tmp/mv
    tar xzf /tmp/mv/math_verify-0.9.0.tar.gz -C /tmp/mv
    python3 tests/math_verify/build_suite_fixture.py /tmp/mv/math_verify-0.9.0/tests

It reads the test files as Python syntax (never imports or runs them) and keeps every
(gold, prediction, expected verdict) pair they grade, with the file, line and test function
the pair comes from and the options that test grades it with. Tests that grade something other
than a pair of texts (string-choice extraction, parser configuration, timeouts, error
propagation, sympy objects) have no pair and are left out.
"""

import ast
import json
import math
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "fixtures/answers/math_verify_suite.json"

# compare_strings' defaults in tests/test_all.py.
COMPARE_DEFAULTS = {
    "match_types": ["latex", "expr"],
    "precision": 6,
    "strict": True,
    "allow_set_relation_comp": False,
}

# A prediction "marks its answer" when it boxes it, names it ("answer is", "answer:",
# "Answer $…$", "final answer"), or is nothing but the answer: one line with at most two
# words of prose outside its formulas. Decided from the text alone.
MARKER = re.compile(r"\\boxed|\\fbox|answer\s*(is\b|:|=|\$|\\[(\[])|final answer", re.IGNORECASE)
FORMULA = re.compile(r"\$\$.*?\$\$|\$.*?\$|\\\(.*?\\\)|\\\[.*?\\\]|\\[a-zA-Z]+", re.DOTALL)


def marks_its_answer(prediction: str) -> bool:
    if MARKER.search(prediction):
        return True
    text = prediction.strip()
    prose = re.findall(r"[A-Za-z]{2,}", FORMULA.sub(" ", text))
    return "\n" not in text and len(prose) <= 2


def literal(node):
    """The value of a literal node; f-strings over `math` are evaluated with `math` only."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        return eval(compile(ast.Expression(node), "<case>", "eval"), {"math": math})  # noqa: S307


def call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")


def grading_call(function: ast.FunctionDef):
    """The call that grades the pair in a test function: compare_strings(...) or verify(...)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and call_name(node) in ("compare_strings", "verify"):
            return node
    return None


def options_of(call: ast.Call, params: dict) -> dict:
    """The grading options of a call, with parameter names resolved from the case."""
    if call_name(call) == "verify":
        # verify(parse(gold), parse(pred)) with parse's and verify's defaults.
        return {"harness": "parse_verify", "precision": 6, "strict": True}
    options = dict(COMPARE_DEFAULTS)
    for keyword in call.keywords:
        value = keyword.value
        if isinstance(value, ast.Name):
            options[keyword.arg] = params[value.id]
        else:
            options[keyword.arg] = literal(value)
    options["harness"] = "compare_strings"
    return options


def parametrized_cases(path: Path, tree: ast.Module):
    for function in [n for n in tree.body if isinstance(n, ast.FunctionDef)]:
        call = grading_call(function)
        for decorator in function.decorator_list:
            if not (isinstance(decorator, ast.Call) and call_name(decorator) == "parametrize"):
                continue
            names = [n.strip() for n in literal(decorator.args[0]).split(",")]
            if "gold" not in names or call is None:
                continue
            for row in decorator.args[1].elts:
                values = [literal(v) for v in row.elts]
                if len(values) != len(names):
                    # A malformed row in the upstream file (pytest would reject it); no pair.
                    print(f"skipping {path.name}:{row.lineno}: {len(values)} values for {names}")
                    continue
                params = dict(zip(names, values))
                expected = params.get("expected", params.get("result"))
                yield {
                    "file": f"tests/{path.name}",
                    "line": row.lineno,
                    "test": function.name,
                    "gold": params["gold"],
                    "prediction": params["pred"],
                    "expected": bool(expected),
                    "options": options_of(call, params),
                }


def direct_cases(path: Path, tree: ast.Module):
    """`assert compare_strings("gold", "pred", ...) == 1` written out in a test body."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Call)):
            continue
        call = node.left
        if call_name(call) != "compare_strings" or len(call.args) < 2:
            continue
        if not all(isinstance(a, ast.Constant) for a in call.args[:2]):
            continue
        yield {
            "file": f"tests/{path.name}",
            "line": call.lineno,
            "test": "assert compare_strings",
            "gold": call.args[0].value,
            "prediction": call.args[1].value,
            "expected": bool(literal(node.comparators[0])),
            "options": options_of(call, {}),
        }


def main(tests_dir: str) -> None:
    cases = []
    for path in sorted(Path(tests_dir).glob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        cases.extend(parametrized_cases(path, tree))
        cases.extend(direct_cases(path, tree))
    for case in cases:
        case["id"] = f"{case['file']}:{case['line']}"
        case["marked"] = marks_its_answer(case["prediction"])
    seen = {}
    for case in cases:
        # Two parametrize rows written on one line get #2, #3, ...
        seen[case["id"]] = seen.get(case["id"], 0) + 1
        if seen[case["id"]] > 1:
            case["id"] += f"#{seen[case['id']]}"
    document = {
        "source": "math-verify 0.9.0, the PyPI sdist math_verify-0.9.0.tar.gz, tests/ "
        "(huggingface/Math-Verify); built by tests/math_verify/build_suite_fixture.py",
        "marked_rule": "the prediction contains \\boxed or \\fbox, says 'answer is', 'answer:', "
        "'Answer' before a formula, or 'final answer', or is one line with at most two words of "
        "prose outside its formulas",
        "cases": cases,
    }
    OUT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases, {sum(c['marked'] for c in cases)} marked -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])

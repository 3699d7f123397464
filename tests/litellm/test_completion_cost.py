"""Differential test: what one call costs in Trialogue against LiteLLM 1.110.2's `completion_cost`.

Run by `./scripts/test` (the suite `litellm-cost`), or by hand:

    .venv/bin/python -m unittest discover -s tests/litellm -p 'test_*.py'   # the tests
    .venv/bin/python tests/litellm/test_completion_cost.py --update         # rewrite the table

Cases: a seeded sample of the chat models of LiteLLM's own price table (the copy inside the pinned
package, byte-identical to the one `public/pricing.json` is generated from), each with usages in
the shapes LiteLLM's adapters produce (OpenAI's cached and reasoning tokens, Anthropic's cache
writes, prompts past the long-context thresholds and exactly at them), at three instants that
fall inside and outside DeepSeek's off-peak windows; plus names LiteLLM does not map (a newer
dated snapshot, OpenRouter's `openrouter/<vendor>/<model>`). LiteLLM prices each case through
`completion_cost`; Trialogue prices it through the app's own path (the shipped
`public/pricing.json`, `Pricer`, `cost_at`) in `examples/price-usages.rs`.

Every disagreement is put in a class with the side judged right (`CLASSES`). The test fails when
a disagreement falls in no class, when one falls in a class where LiteLLM is right (Trialogue
must agree there), or when the table `tests/fixtures/pricing/litellm_disagreements.md` is not
what this run finds (a new or a vanished disagreement: look, then `--update`).

LiteLLM runs offline: `LITELLM_LOCAL_MODEL_COST_MAP=True` makes it read its bundled price map,
and every socket connection and DNS look-up in this process is refused and recorded, so that a
request it would make is a test failure rather than a silent download.
"""

import functools
import importlib.metadata
import json
import os
import random
import socket
import subprocess
import sys
import unittest
from datetime import datetime, timezone

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TABLE_MD = os.path.join(ROOT, "tests", "fixtures", "pricing", "litellm_disagreements.md")
ASSET = os.path.join(ROOT, "public", "pricing.json")
LITELLM_VERSION = "1.110.2"

# --- No network: installed before LiteLLM is imported, so nothing it does at import escapes. --
NETWORK_ATTEMPTS = []


def _refuse(what):
    def refuse(*args, **kwargs):
        NETWORK_ATTEMPTS.append(f"{what}{args[1:2] if what == 'connect' else args[:1]}")
        raise OSError(f"the LiteLLM differential test makes no network request ({what})")

    return refuse


socket.socket.connect = _refuse("connect")
socket.socket.connect_ex = _refuse("connect")
socket.create_connection = _refuse("create_connection")
socket.getaddrinfo = _refuse("getaddrinfo")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import litellm  # noqa: E402
from litellm import ModelResponse, Usage  # noqa: E402
from litellm._internal_context import pinned_billing_time  # noqa: E402
from litellm.llms.anthropic.chat.transformation import AnthropicConfig  # noqa: E402

litellm.suppress_debug_info = True
BUNDLED_TABLE = os.path.join(os.path.dirname(litellm.__file__), "model_prices_and_context_window_backup.json")

# Providers whose cost path in LiteLLM starts a sign-in (a device-code request) before it prices
# anything: with the network refused they raise, so they are left out of the sample.
SIGN_IN_PROVIDERS = frozenset({"github_copilot", "chatgpt", "gigachat"})

SEED = 11102
SAMPLE_SIZE = 320
# Relative tolerance: both sides add the same products in a different order.
REL_TOL = 1e-9

# Wednesday 02:30 UTC is inside DeepSeek's peak hours, Wednesday 12:00 and Saturday 08:00 are
# off-peak (https://api-docs.deepseek.com/quick_start/pricing, as LiteLLM's table encodes it).
INSTANTS = [
    datetime(2026, 3, 4, 2, 30, tzinfo=timezone.utc),
    datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc),
    datetime(2026, 3, 7, 8, 0, tzinfo=timezone.utc),
]


# --- Usages, as LiteLLM's adapters build them, and the same call in Trialogue's `Usage`. -------
def openai_usage(prompt, completion, cached=0, reasoning=0):
    """An OpenAI Chat Completions usage as LiteLLM keeps it."""
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        prompt_tokens_details={"cached_tokens": cached} if cached else None,
        completion_tokens_details={"reasoning_tokens": reasoning} if reasoning else None,
    )


def anthropic_usage(uncached, cache_write, cache_read, output):
    """An Anthropic Messages usage (5-minute cache writes) through LiteLLM's own adapter."""
    raw = {
        "input_tokens": uncached,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_write, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output,
    }
    return AnthropicConfig().calculate_usage(usage_object=raw, reasoning_content=None)


def trialogue_usage(u):
    """LiteLLM's usage in Trialogue's convention: input counts cached tokens, output reasoning."""
    details = u.prompt_tokens_details
    completion_details = u.completion_tokens_details
    return {
        "input_tokens": u.prompt_tokens,
        "output_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens,
        "cache_read_tokens": (getattr(details, "cached_tokens", 0) or 0) if details else 0,
        "cache_write_tokens": (getattr(details, "cache_creation_tokens", 0) or 0) if details else 0,
        "reasoning_tokens": (getattr(completion_details, "reasoning_tokens", 0) or 0) if completion_details else 0,
    }


def thresholds(entry):
    """The prompt sizes at which an entry's long-context prices start (its `_above_<N>k_tokens`
    keys and the upper ends of its `tiered_pricing` ranges)."""
    found = set()
    for key in entry:
        if key.startswith(("input_cost_per_token_above_", "output_cost_per_token_above_")) and key.endswith(
            "k_tokens"
        ):
            number = key.rsplit("_above_", 1)[1][: -len("k_tokens")]
            if number.isdigit():
                found.add(int(number) * 1000)
    for tier in entry.get("tiered_pricing") or []:
        bounds = tier.get("range") if isinstance(tier, dict) else None
        if isinstance(bounds, list) and len(bounds) == 2 and bounds[0] > 0:
            found.add(int(bounds[0]))
    return sorted(found)


def shapes(entry):
    """(name, LiteLLM usage) for one model."""
    out = [
        ("plain", openai_usage(1_200, 300)),
        ("cached", openai_usage(6_000, 250, cached=4_096)),
        ("cache-write", anthropic_usage(1_500, 3_000, 2_000, 180)),
        ("reasoning", openai_usage(900, 2_400, reasoning=1_800)),
        ("long", openai_usage(300_000, 1_500, cached=100_000, reasoning=500)),
    ]
    for threshold in thresholds(entry)[:1]:
        out.append((f"at-{threshold // 1000}k", openai_usage(threshold, 400)))
    return out


# --- The sample. --------------------------------------------------------------------------------
def load_table():
    with open(BUNDLED_TABLE, encoding="utf-8") as f:
        return json.load(f)


def chat_entry(table, key):
    """The entry LiteLLM serves for `key` (an alias serves its target) if it is a chat model
    priced per token, else None."""
    entry = table.get(key)
    if not isinstance(entry, dict):
        return None
    target = entry.get("alias_of")
    if isinstance(target, str):
        entry = table.get(target)
        if not isinstance(entry, dict) or "alias_of" in entry:
            return None
    if entry.get("mode") not in ("chat", "responses"):
        return None
    if entry.get("input_cost_per_token") is None and not entry.get("tiered_pricing"):
        return None
    if entry.get("litellm_provider") in SIGN_IN_PROVIDERS:
        return None
    return entry


def name_variants(key, entry):
    """Names a user writes that LiteLLM's table does not list: a newer dated snapshot of an
    OpenAI or Anthropic model, and the model through OpenRouter."""
    provider = entry.get("litellm_provider")
    bare = key.split("/", 1)[1] if key.startswith(f"{provider}/") else key
    if "/" in bare or ":" in bare or bare[-8:].isdigit():
        return []
    out = []
    if provider == "openai" and not bare[-10:-6].isdigit():
        out.append(("dated", f"{bare}-2099-12-31"))
    if provider == "anthropic":
        out.append(("dated", f"{bare}-20991231"))
    vendor = {"openai": "openai", "anthropic": "anthropic", "gemini": "google"}.get(provider)
    if vendor:
        out.append(("openrouter", f"openrouter/{vendor}/{bare}"))
    return out


def litellm_provider(kind, entry):
    """The provider a LiteLLM user names beside the model: the entry's own, or OpenRouter."""
    return "openrouter" if kind == "openrouter" else entry.get("litellm_provider")


# Groups of entries whose pricing has a rule of its own: the sample draws from each on top of the
# whole table, so that every rule is exercised whatever the seed.
GROUPS = {
    "alias": lambda raw, entry: "alias_of" in raw,
    "tiered_pricing": lambda raw, entry: bool(entry.get("tiered_pricing")),
    "xai": lambda raw, entry: entry.get("litellm_provider") == "xai" and bool(thresholds(entry)),
    "fireworks_ai": lambda raw, entry: entry.get("litellm_provider") == "fireworks_ai",
    "off_peak_pricing": lambda raw, entry: "off_peak_pricing" in entry,
    "batches": lambda raw, entry: "input_cost_per_token_batches" in entry,
}
PER_GROUP = 6


def sample_keys(table):
    """The seeded sample: SAMPLE_SIZE keys of the whole table and PER_GROUP of each group."""
    keys = sorted(k for k in table if chat_entry(table, k) is not None)
    rng = random.Random(SEED)
    chosen = set(rng.sample(keys, SAMPLE_SIZE))
    for rule in GROUPS.values():
        members = [k for k in keys if rule(table[k], chat_entry(table, k))]
        chosen.update(rng.sample(members, min(PER_GROUP, len(members))))
    return sorted(chosen)


def cases():
    """Every case: (id, kind, the table key it comes from, the model string, usage, instant)."""
    table = load_table()
    out = []
    for key in sample_keys(table):
        entry = chat_entry(table, key)
        for n, (shape, usage) in enumerate(shapes(entry)):
            out.append((f"{key} [{shape}]", "table", key, key, usage, INSTANTS[n % len(INSTANTS)]))
        if "alias_of" in table[key]:
            continue
        for kind, name in name_variants(key, entry):
            if name not in table:
                out.append((f"{name} [plain]", kind, key, name, openai_usage(1_200, 300), INSTANTS[0]))
    return table, out


# --- Both sides. --------------------------------------------------------------------------------
def litellm_cost(model, provider, usage, instant):
    response = ModelResponse(model=model, usage=usage)
    try:
        with pinned_billing_time(instant):
            return litellm.completion_cost(
                completion_response=response, model=model, custom_llm_provider=provider
            )
    except Exception as e:  # noqa: BLE001 - an unmapped model raises; that is an answer too
        return f"{type(e).__name__}"


def trialogue_costs(all_cases):
    lines = "".join(
        json.dumps(
            {
                "id": case_id,
                "model": model,
                "usage": trialogue_usage(usage),
                "at": instant.isoformat(),
            }
        )
        + "\n"
        for case_id, _, _, model, usage, instant in all_cases
    )
    run = subprocess.run(
        ["cargo", "run", "--quiet", "--example", "price-usages", "--", ASSET],
        cwd=ROOT,
        input=lines,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"examples/price-usages failed:\n{run.stderr}")
    return {r["id"]: r for r in map(json.loads, run.stdout.splitlines())}


def agree(ours, theirs):
    if not isinstance(theirs, float) and not isinstance(theirs, int):
        return ours is None
    if ours is None:
        return False
    return abs(ours - theirs) <= REL_TOL * max(abs(ours), abs(theirs)) or abs(ours - theirs) < 1e-15


# --- Classes of disagreement, and who is right in each. ------------------------------------------
LITELLM = "LiteLLM"
TRIALOGUE = "Trialogue"

# name: (the side judged right, why). Where LiteLLM is right, Trialogue must agree: a case in
# such a class fails the test. Where Trialogue is right, the cases are listed in the table.
CLASSES = {
    "alias": (
        LITELLM,
        "LiteLLM declares the name an alias of another entry (`alias_of`, e.g. `*-latest`) and "
        "prices it as that entry; the import keeps aliases.",
    ),
    "tiered_pricing": (
        LITELLM,
        "The entry prices by `tiered_pricing` ranges (Alibaba Model Studio and the like: the "
        "whole request at the range its prompt falls in); the import reads the ranges.",
    ),
    "xai_threshold": (
        LITELLM,
        "xAI bills its long-context rate from a prompt of exactly the threshold on; the tier "
        "rule is per provider.",
    ),
    "fireworks_cache_read": (
        LITELLM,
        "Fireworks bills cached prompt tokens at half the input price where the table lists no "
        "cache-read price.",
    ),
    "off_peak": (
        LITELLM,
        "DeepSeek's off-peak prices apply by the call's own time; the core prices each call at "
        "its timestamp.",
    ),
    "unmapped_dated_name": (
        TRIALOGUE,
        "A dated snapshot newer than the table: LiteLLM prices it at $0 or refuses it, so a "
        "budget never stops. A provider bills a dated snapshot as its model until the table "
        "lists it apart, so Trialogue prices it as the undated entry and the UI names that "
        "entry.",
    ),
    "openrouter_upstream": (
        TRIALOGUE,
        "`openrouter/<vendor>/<model>` that the table does not list: LiteLLM prices it at $0 "
        "or refuses it. OpenRouter passes the upstream provider's price through "
        "(https://openrouter.ai/docs/faq), so Trialogue prices it as the upstream model and "
        "the UI names that entry.",
    ),
    "perplexity_long_context": (
        TRIALOGUE,
        "LiteLLM's Perplexity cost path reads only the flat rates and drops the entry's own "
        "`_above_272k_tokens` rates; Trialogue bills a prompt past the threshold at the rates "
        "the entry lists, as for every other provider.",
    ),
}


def classify(kind, key, raw, entry, shape):
    """The class of a disagreeing case, from what makes its pricing special."""
    if kind == "dated":
        return "unmapped_dated_name"
    if kind == "openrouter":
        return "openrouter_upstream"
    provider = entry.get("litellm_provider")
    if provider == "perplexity" and (shape == "long" or shape.startswith("at-")):
        return "perplexity_long_context"
    if "alias_of" in raw:
        return "alias"
    if entry.get("tiered_pricing"):
        return "tiered_pricing"
    if provider == "xai" and shape.startswith("at-"):
        return "xai_threshold"
    if provider == "fireworks_ai":
        return "fireworks_cache_read"
    if "off_peak_pricing" in entry:
        return "off_peak"
    return "unclassified"


def run_comparison():
    table, all_cases = cases()
    ours = trialogue_costs(all_cases)
    rows = []
    for case_id, kind, key, model, usage, instant in all_cases:
        theirs = litellm_cost(model, litellm_provider(kind, chat_entry(table, key)), usage, instant)
        mine = ours[case_id]
        if agree(mine["usd"], theirs):
            rows.append((case_id, None, mine, theirs))
            continue
        shape = case_id.rsplit(" [", 1)[1].rstrip("]")
        cls = classify(kind, key, table[key], chat_entry(table, key), shape)
        rows.append((case_id, cls, mine, theirs))
    return rows


def usd(value):
    if isinstance(value, (int, float)):
        return f"${value:.6g}"
    return "unknown" if value is None else f"error ({value})"


def render(rows):
    """The disagreement table, as committed in tests/fixtures/pricing/litellm_disagreements.md."""
    total = len(rows)
    agreed = sum(1 for r in rows if r[1] is None)
    by_class = {}
    for case_id, cls, mine, theirs in rows:
        if cls is not None:
            by_class.setdefault(cls, []).append((case_id, mine, theirs))
    lines = [
        f"# Trialogue's cost of one call against LiteLLM {LITELLM_VERSION}'s `completion_cost`",
        "",
        "Written by `tests/litellm/test_completion_cost.py --update`; `./scripts/test` fails when a",
        "run finds anything else (the cases and the method are in that file's docstring).",
        "",
        f"Agreement: {agreed} of {total} cases ({100 * agreed / total:.1f} %).",
        "",
        "## Classes of disagreement",
        "",
        "| class | right | cases | why |",
        "|---|---|---|---|",
    ]
    for name, (side, why) in CLASSES.items():
        lines.append(f"| `{name}` | {side} | {len(by_class.get(name, []))} | {why} |")
    if "unclassified" in by_class:
        lines.append(f"| `unclassified` | ? | {len(by_class['unclassified'])} | not judged yet |")
    lines += [
        "",
        "Where LiteLLM is right, Trialogue agrees on every case: a disagreement in such a class",
        "fails the test.",
        "",
        "## Cases",
        "",
        "| case | class | LiteLLM | Trialogue | Trialogue's price |",
        "|---|---|---|---|---|",
    ]
    for cls, cases_ in sorted(by_class.items()):
        for case_id, mine, theirs in cases_:
            lines.append(
                f"| `{case_id}` | `{cls}` | {usd(theirs)} | {usd(mine['usd'])} | {mine['source'] or '-'} |"
            )
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=None)
def comparison():
    return tuple(run_comparison())


class CompletionCostTest(unittest.TestCase):
    def test_litellm_is_the_pinned_release(self):
        self.assertEqual(importlib.metadata.version("litellm"), LITELLM_VERSION)

    def test_no_network_request_is_made(self):
        comparison()
        self.assertEqual(NETWORK_ATTEMPTS, [])

    def test_trialogue_agrees_wherever_litellm_is_right(self):
        wrong = [
            f"{case_id} ({cls}): LiteLLM {usd(theirs)}, Trialogue {usd(mine['usd'])}"
            for case_id, cls, mine, theirs in comparison()
            if cls is not None and CLASSES.get(cls, (None,))[0] != TRIALOGUE
        ]
        self.assertEqual(wrong, [], "disagreements in no class or where LiteLLM is right")

    def test_every_rule_is_in_the_sample(self):
        table = load_table()
        keys = sample_keys(table)
        for group, rule in GROUPS.items():
            self.assertTrue(
                any(rule(table[k], chat_entry(table, k)) for k in keys), f"no {group} entry sampled"
            )

    def test_the_committed_table_is_what_this_run_finds(self):
        with open(TABLE_MD, encoding="utf-8") as f:
            committed = f.read()
        self.assertEqual(
            render(comparison()),
            committed,
            "the disagreements changed: look at them, judge any new class in CLASSES, then run "
            "`.venv/bin/python tests/litellm/test_completion_cost.py --update`",
        )

    def test_the_shipped_table_is_generated_from_the_pinned_litellm(self):
        run = subprocess.run(
            ["cargo", "run", "--quiet", "--example", "gen-pricing", "--", BUNDLED_TABLE]
            + ["--version", LITELLM_VERSION, "-o", "-"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(ASSET, encoding="utf-8") as f:
            self.assertTrue(
                run.stdout == f.read(),
                "public/pricing.json is not what scripts/gen-pricing writes: run scripts/gen-pricing",
            )


if __name__ == "__main__":
    if "--update" in sys.argv:
        with open(TABLE_MD, "w", encoding="utf-8") as f:
            f.write(render(comparison()))
        print(f"wrote {os.path.relpath(TABLE_MD, ROOT)}")
    else:
        unittest.main()

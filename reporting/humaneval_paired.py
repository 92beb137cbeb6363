"""HumanEval per checkpoint against the base model, problem by problem (no Lightning).

``humaneval/iter_N.jsonl`` (written by ``callbacks.humaneval_eval``) holds one verdict per problem.
Pass rates alone hide how many problems changed: 94 → 84 passed can be 10 lost or 19 lost and 9
gained. This pairs each checkpoint with the first one measured (the base model), counts problems
lost and gained, gives the exact two-sided sign test on them, and says how the lost ones failed.
"""

from __future__ import annotations

import glob
import os
import re
from collections import Counter
from math import comb

from storage.atomic import read_rows


def sign_test_p(lost: int, gained: int) -> float:
    """Exact two-sided sign test of lost vs gained problems (the discordant pairs).

    >>> round(sign_test_p(19, 9), 3), sign_test_p(0, 0), round(sign_test_p(5, 0), 4)
    (0.087, 1.0, 0.0625)
    """
    n = lost + gained
    if n == 0:
        return 1.0
    tail = sum(comb(n, i) for i in range(min(lost, gained) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def load_verdicts(run_dir: str) -> dict[int, dict[str, dict]]:
    """``{iteration: {task_id: row}}`` from ``RUN/humaneval/iter_N.jsonl``."""
    out = {}
    for path in glob.glob(os.path.join(run_dir, "humaneval", "iter_*.jsonl")):
        match = re.fullmatch(r"iter_(\d+)\.jsonl", os.path.basename(path))
        if match:
            out[int(match.group(1))] = {r["task_id"]: r for r in read_rows(path)}
    return dict(sorted(out.items()))


def paired_rows(verdicts: dict[int, dict[str, dict]]) -> list[dict]:
    """One entry per measured iteration: passed, total, and against the first: lost, gained, p."""
    if not verdicts:
        return []
    first_it, first = next(iter(verdicts.items()))
    rows = []
    for it, rows_by_task in verdicts.items():
        shared = sorted(set(first) & set(rows_by_task))
        lost = [t for t in shared if first[t]["passed"] and not rows_by_task[t]["passed"]]
        gained = [t for t in shared if not first[t]["passed"] and rows_by_task[t]["passed"]]
        rows.append({"iteration": it, "against": first_it, "total": len(rows_by_task),
                     "passed": sum(bool(r["passed"]) for r in rows_by_task.values()), "paired": len(shared),
                     "lost": len(lost), "gained": len(gained), "p": sign_test_p(len(lost), len(gained)),
                     "lost_as": dict(Counter(rows_by_task[t].get("status", "?") for t in lost).most_common())})
    return rows


def paired_table(run_dir: str) -> str:
    """Markdown: HumanEval per iteration, paired with the first measurement ('' if none)."""
    rows = paired_rows(load_verdicts(run_dir))
    if not rows:
        return ""
    lines = [f"| iteration | passed | pass@1 | lost / gained vs it {rows[0]['against']} | sign test p | lost ones now |",
             "|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        as_text = ", ".join(f"{k} {v}" for k, v in r["lost_as"].items()) or "-"
        first = r["iteration"] == r["against"]
        lines.append(f"| {r['iteration']} | {r['passed']}/{r['total']} | {100 * r['passed'] / r['total']:.1f}% | "
                     + ("- | - | - |" if first else f"{r['lost']} / {r['gained']} | {r['p']:.3f} | {as_text} |"))
    return "\n".join(lines)

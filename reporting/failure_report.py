"""Markdown tables of why samples failed, from a run's ``samples/`` files (no Lightning).

    python -m reporting.report RUN_DIR --failures [--iteration N] [--phase harvest|eval]

One table per iteration and phase (evaluation: per split and mode): a line per family and
difficulty, a column per cause (``pass`` first, then by count), then one example per cause: the
start of the reply and the first failing test.
"""

from __future__ import annotations

import json
import re

from verify.failures import cause_of, examples, failure_table
from reporting.samples_file import find_samples
from storage.atomic import read_rows


def _ordered_causes(rows: list[dict]) -> list[str]:
    """``pass`` first, then the causes by count (most first), ties by name."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[cause_of(row)] = counts.get(cause_of(row), 0) + 1
    return ["pass"] + sorted((c for c in counts if c != "pass"), key=lambda c: (-counts[c], c))


def cause_table(rows: list[dict]) -> str:
    """Family x difficulty x cause counts, with an ``all`` line.

    >>> print(cause_table([{"family": "rpn", "difficulty": 2, "passed": True},
    ...                    {"family": "rpn", "difficulty": 2, "passed": False, "cause": "timeout"}]))
    | family | difficulty | pass | timeout |
    |---|---|---:|---:|
    | rpn | d2 | 1 | 1 |
    | all | | 1 | 1 |
    """
    causes, table = _ordered_causes(rows), failure_table(rows)
    lines = ["| family | difficulty | " + " | ".join(causes) + " |", "|---|---|" + "---:|" * len(causes)]
    for (family, difficulty), counts in table.items():
        lines.append(f"| {family} | d{difficulty} | " + " | ".join(str(counts.get(c, 0)) for c in causes) + " |")
    totals = [sum(counts.get(c, 0) for counts in table.values()) for c in causes]
    lines.append("| all | | " + " | ".join(map(str, totals)) + " |")
    return "\n".join(lines)


def _inline(value, limit: int = 200, as_json: bool = True) -> str:
    """A value (as JSON, or as the text it is) in inline code, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False) if as_json else str(value)
    text = text if len(text) <= limit else text[:limit] + "..."
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _fenced(text: str) -> str:
    """A code block whose fence is longer than any backtick run in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def examples_markdown(rows: list[dict]) -> str:
    """One example per failure cause, in the table's order."""
    chosen, parts = examples(rows), []
    for cause in _ordered_causes(rows)[1:]:
        example = chosen[cause]
        test = example["test"]
        if test:
            where = (f"first failing test (#{test['index']}): args {_inline(test['args'])}, "
                     f"expected {_inline(test['expected'])}, got {_inline(test['got'])}")
        else:
            where = f"detail: {_inline(example['detail'], as_json=False)}" if example["detail"] else "no test ran"
        parts.append(f"**{cause}**: `{example['problem_id']}` ({example['family']}, d{example['difficulty']})\n\n"
                     f"{_fenced(example['reply'])}\n\n{where}")
    return "\n\n".join(parts)


def _groups(phase: str, rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """Evaluation rows per (split, mode), in the file's order; harvest rows as one group."""
    if phase != "eval":
        return [(phase, rows)]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row.get("split"), row.get("mode")), []).append(row)
    return [(f"eval {split} ({mode})", group) for (split, mode), group in groups.items()]


def failures_report(run_dir: str, iteration: int | None = None, phase: str | None = None) -> str | None:
    """The markdown of the chosen samples files; None without a ``samples/`` folder, '' when no
    file matches ``iteration`` / ``phase``."""
    found = find_samples(run_dir)
    if found is None:
        return None
    parts = []
    for it, ph, path in found:
        if (iteration is not None and it != iteration) or (phase is not None and ph != phase):
            continue
        for title, rows in _groups(ph, read_rows(path)):
            parts += [f"### Iteration {it}, {title}: failure causes ({len(rows)} samples)", cause_table(rows)]
            if any(cause_of(r) != "pass" for r in rows):
                parts += [f"#### Iteration {it}, {title}: one example per cause", examples_markdown(rows)]
    return "\n\n".join(parts) + "\n" if parts else ""

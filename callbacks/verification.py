"""From model replies to verified samples: extract the code block, run it in the sandbox."""

from __future__ import annotations

from sandbox import verify_batch
from tasks import extract_code


def verify_replies(problems: list, replies: list[list[str]], timeout_s: float | None = None) -> list[dict]:
    """One row per reply: problem fields, the extracted code, the sandbox status and ``passed``.

    A reply without a code block gets status ``no_code`` without reaching the sandbox.
    """
    rows, jobs, job_rows = [], [], []
    for problem, problem_replies in zip(problems, replies):
        for index, reply in enumerate(problem_replies):
            code = extract_code(reply)
            row = {"problem_id": problem.id, "family": problem.family, "difficulty": problem.difficulty,
                   "sample": index, "code": code or "", "status": "no_code", "passed": False}
            rows.append(row)
            if code:
                jobs.append((code, problem.entry_point, problem.tests))
                job_rows.append(row)
    for row, verdict in zip(job_rows, verify_batch(jobs, timeout_s=timeout_s) if jobs else []):
        row["status"] = verdict.status
        row["passed"] = bool(verdict.passed)
    return rows


def status_counts(rows: list[dict]) -> dict[str, int]:
    """How many samples ended in each verdict status.

    >>> status_counts([{"status": "pass"}, {"status": "timeout"}, {"status": "pass"}])
    {'pass': 2, 'timeout': 1}
    """
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return dict(sorted(counts.items()))


def solved_by_problem(problems: list, rows: list[dict]) -> list[dict]:
    """Per problem: n samples, c correct, with family and difficulty (input order kept)."""
    table = {p.id: {"problem_id": p.id, "family": p.family, "difficulty": p.difficulty, "n": 0, "c": 0}
             for p in problems}
    for row in rows:
        entry = table[row["problem_id"]]
        entry["n"] += 1
        entry["c"] += int(row["passed"])
    return list(table.values())

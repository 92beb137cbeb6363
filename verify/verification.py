"""From model replies to verified samples: extract the code block, run it in the sandbox.

One function, :func:`verify_replies`, serves both kinds of problem: the procedural families
(hidden input/output tests, compared in the trainer) and HumanEval (the task's own ``check``
assertions, run in the sandbox). What differs between them is one :class:`Mode`.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from verify.failures import classify
from sandbox import verify_assertions_batch, verify_batch
from tasks import extract_code
from tasks.humaneval import HumanEvalProblem, assemble_program

REPLY_CHARS = 1500  # of each raw reply kept in a row (the samples files, the failure report)


@dataclass(frozen=True)
class Mode:
    """How one kind of problem reaches the sandbox, and what its rows carry."""

    fields: Callable[[Any], dict]      # the problem's own fields in each of its rows
    job: Callable[[Any, str], tuple]   # (problem, extracted code) -> one job for ``run``
    run: Callable[..., list]           # the sandbox's batch call: run(jobs, timeout_s=...) -> verdicts
    keep_entry_point: bool             # extraction keeps the entry point (and what it needs) only
    causes: bool                       # rows get a failure ``cause`` (verify.failures)


PROCEDURAL = Mode(
    fields=lambda p: {"problem_id": p.id, "family": p.family, "difficulty": p.difficulty},
    job=lambda p, code: (code, p.entry_point, p.tests),
    run=verify_batch,
    keep_entry_point=True, causes=True)
HUMANEVAL = Mode(
    fields=lambda p: {"task_id": p.task_id},
    job=lambda p, code: (assemble_program(p, code), p.test, p.entry_point),
    run=verify_assertions_batch,
    keep_entry_point=False, causes=False)


def mode_of(problems: list) -> Mode:
    """The :class:`Mode` of a list of problems, which must all be of one kind."""
    kinds = {isinstance(p, HumanEvalProblem) for p in problems}
    if len(kinds) > 1:
        raise ValueError("verify_replies: HumanEval and procedural problems in one call")
    return HUMANEVAL if kinds == {True} else PROCEDURAL


def verify_replies(problems: list, replies: list[list[str]], timeout_s: float | None = None) -> list[dict]:
    """One row per reply: the problem's fields (``problem_id``, ``family``, ``difficulty``; or
    HumanEval's ``task_id``), ``sample``, the extracted ``code``, the sandbox ``status``,
    ``passed`` and ``detail``, the ``reply`` (cut to 1500 characters) and, for procedural
    problems, its failure ``cause`` and, when known, the ``failing_test`` (:mod:`verify.failures`).

    A reply without a code block gets status ``no_code`` without reaching the sandbox.
    """
    mode = mode_of(problems)
    rows, jobs, job_rows, sources = [], [], [], []
    for problem, problem_replies in zip(problems, replies):
        for index, reply in enumerate(problem_replies):
            code = extract_code(reply, entry_point=problem.entry_point if mode.keep_entry_point else None)
            row = dict(mode.fields(problem), sample=index, code=code or "", status="no_code", passed=False,
                       detail="", reply=reply[:REPLY_CHARS])
            rows.append(row)
            sources.append((problem, reply))
            if code:
                jobs.append(mode.job(problem, code))
                job_rows.append(row)
    for row, verdict in zip(job_rows, mode.run(jobs, timeout_s=timeout_s) if jobs else []):
        row.update(status=verdict.status, passed=bool(verdict.passed), detail=verdict.detail)
    if mode.causes:
        for row, (problem, reply) in zip(rows, sources):
            found = classify(problem, reply, row["code"], row["status"], row["detail"])
            row["cause"] = found["cause"]
            if found["test"] is not None:
                row["failing_test"] = found["test"]
    return rows


class BackgroundVerifier:
    """Verifies batches of replies on a background thread while the caller samples the next batch.

    The sandbox runs candidates in its own worker processes, so the thread mostly waits on them;
    sampling goes on meanwhile. ``submit(indices, replies)`` takes the positions (in ``problems``)
    of a finished batch; ``rows(replies)`` waits for the submitted work, verifies whatever was never
    submitted (a sampler without the per-batch hook) and returns the rows in problem order, the
    same rows :func:`verify_replies` gives. An error in the background re-raises from ``rows``.
    """

    def __init__(self, problems: list, timeout_s: float | None = None):
        self.problems, self.timeout_s = problems, timeout_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify")
        self._batches: list[tuple[list[int], list[int], Future]] = []  # (indices, replies per index, rows)

    def submit(self, indices: list[int], replies: list[list[str]]) -> None:
        future = self._executor.submit(verify_replies, [self.problems[i] for i in indices], replies, self.timeout_s)
        self._batches.append((list(indices), [len(r) for r in replies], future))

    def rows(self, replies: list[list[str]]) -> list[dict]:
        submitted = {i for indices, _, _ in self._batches for i in indices}
        missing = [i for i in range(len(self.problems)) if i not in submitted]
        if missing:
            self.submit(missing, [replies[i] for i in missing])
        per_problem: dict[int, list[dict]] = {}
        for indices, counts, future in self._batches:
            chunk, start = future.result(), 0
            for i, count in zip(indices, counts):
                per_problem[i], start = chunk[start : start + count], start + count
        return [row for i in range(len(self.problems)) for row in per_problem[i]]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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

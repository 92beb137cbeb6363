"""Sampling-based evaluation: greedy pass@1 and sampled pass@k on held-out problems."""

from __future__ import annotations

import time

import lightning as L

from callbacks import iteration_record
from verify.failures import cause_counts
from verify.intervals import mean_interval, wilson
from verify.pass_at_k import mean_by, pass_at_k
from reporting.progress import progress_bar
from callbacks.distributed import sample_and_verify
from reporting.samples_file import write_samples
from verify.verification import solved_by_problem, status_counts
from settings.errors import ConfigError
from settings.sampling import SamplingArgs


class EvaluationCallback(iteration_record.OncePerIteration, L.Callback):
    """Evaluates the policy before training (iteration 0) and after every outer iteration.

    ``SPLIT/pass@1`` is the greedy solve rate. With ``num_samples = n > 0`` it also reports
    ``SPLIT/pass@k`` for each k <= n, the unbiased estimator of Chen et al. (2021). Each figure is
    also broken down by family (``SPLIT/pass@1/rpn``) and by difficulty (``SPLIT/pass@1/d5``).
    95% intervals: ``SPLIT/pass@1_low``/``_high`` (greedy, Wilson over problems) and, with samples,
    ``SPLIT/pass@1_sampled`` (mean over problems of c/n, written whatever the greedy setting) with
    ``SPLIT/pass@1_sampled_low``/``_high`` (Wilson over problems, conservative). Failure causes
    of the greedy replies (the sampled ones without greedy) go to ``SPLIT/failures/<cause>``; every
    reply's verdict to ``samples/iter_N.eval.jsonl`` (with ``split`` and ``mode``).

    Args:
        splits: which problem splits to evaluate (``val``, ``test``, ``train``, ``ood``).
        greedy: compute greedy pass@1.
        num_samples: samples per problem for pass@k (0: none).
        k: the k values of pass@k (each <= num_samples).
        temperature: temperature of the pass@k samples.
        top_p: nucleus mass of the pass@k samples.
        max_new_tokens: token budget of one reply.
        batch_size: sequences generated together.
        timeout_s: sandbox time limit per candidate (null: the sandbox default).
        every_n_iterations: evaluate only on iterations divisible by this (iteration 0 always).
        split_every: per split, evaluate it only on iterations divisible by this number (iteration 0
            and the last, ``trainer.max_epochs``, always), e.g. ``{test: 5, ood: 5}``; other
            splits follow ``every_n_iterations``.
        seed: sampling seed (combined with the iteration number).
        progress: show progress bars.
    """

    feeds_metrics_row = True

    def __init__(
        self,
        splits: list[str] | None = None,
        greedy: bool = True,
        num_samples: int = 0,
        k: list[int] | None = None,
        temperature: float = 0.8,
        top_p: float = 0.95,
        max_new_tokens: int = 384,
        batch_size: int = 16,
        timeout_s: float | None = None,
        every_n_iterations: int = 1,
        split_every: dict[str, int] | None = None,
        seed: int = 0,
        progress: bool = True,
    ):
        self.splits = list(splits or ["val", "test"])
        self.k = list(k or ([1] if num_samples else []))
        self.split_every = dict(split_every or {})
        _check_eval_args(self.splits, greedy, num_samples, self.k, every_n_iterations, self.split_every)
        self.greedy_args = SamplingArgs(1, 0.0, 1.0, max_new_tokens, batch_size, timeout_s, seed, owner="evaluation")
        self.sampled_args = (SamplingArgs(num_samples, temperature, top_p, max_new_tokens, batch_size, timeout_s, seed,
                                          owner="evaluation", count_field="num_samples") if num_samples else None)
        self.greedy, self.num_samples = greedy, num_samples
        self.every, self.progress = every_n_iterations, progress

    @property
    def max_new_tokens(self) -> int:
        return self.greedy_args.max_new_tokens

    def on_fit_start(self, trainer, pl_module) -> None:
        if self.due(0):  # not resumed: evaluate the untrained policy (iteration 0)
            self._evaluate(trainer, pl_module, 0)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._evaluate(trainer, pl_module, iteration_record.closing_iteration(trainer))

    def _evaluate(self, trainer, pl_module, iteration: int) -> None:
        if not self.due(iteration) or (iteration % self.every and iteration != 0):
            return
        start = time.perf_counter()
        values = {"iteration": iteration}
        groups = [(split, problems) for split in self.splits
                  if self._split_due(split, iteration, trainer.max_epochs)
                  and (problems := trainer.datamodule.problems(split))]
        show = self.progress and trainer.is_global_zero
        greedy = self._run_splits(trainer, pl_module, groups, self.greedy_args, iteration, "greedy", show) \
            if self.greedy else {}
        sampled = (self._run_splits(trainer, pl_module, groups, self.sampled_args, iteration, "sampled", show)
                   if self.sampled_args else {})
        write_samples(trainer, iteration, "eval", _tagged_rows({"greedy": greedy, "sampled": sampled}))
        per_problem = iteration_record.current(trainer).per_problem
        for split, problems in groups:
            values.update(self._split_metrics(split, problems, greedy.get(split), sampled.get(split), per_problem))
        values["time/eval_s"] = time.perf_counter() - start
        iteration_record.add(trainer, values)
        self.done(iteration)

    def _split_due(self, split: str, iteration: int, last: int | None) -> bool:
        every = self.split_every.get(split, 1)
        return iteration == 0 or iteration == last or iteration % every == 0

    def _split_metrics(self, split, problems, greedy_rows, sampled_rows, per_problem: dict) -> dict:
        """The row values of one split; its greedy per-problem table goes to ``per_problem[split]``."""
        out: dict = {}
        if greedy_rows is not None:
            table = [dict(p, solved=float(p["c"] > 0)) for p in solved_by_problem(problems, greedy_rows)]
            out.update(_grouped(table, "solved", f"{split}/pass@1"))
            out[f"{split}/solved"] = int(sum(p["solved"] for p in table))
            out[f"{split}/problems"] = len(problems)
            out[f"{split}/pass@1_low"], out[f"{split}/pass@1_high"] = wilson(out[f"{split}/solved"], len(table))
            out[f"{split}/statuses"] = status_counts(greedy_rows)
            out[f"{split}/samples_text"] = [(r["code"] or "(no code extracted) " + r.get("reply", ""))[:600]
                                            for r in greedy_rows[:3]]
            per_problem[split] = table
        if sampled_rows is not None:
            table = solved_by_problem(problems, sampled_rows)
            for k in self.k:
                scored = [dict(p, score=pass_at_k(p["n"], p["c"], k)) for p in table]
                name = f"{split}/pass@{k}" + ("_sampled" if k == 1 and self.greedy else "")
                out.update(_grouped(scored, "score", name))
            per_problem = [pass_at_k(p["n"], p["c"], 1) for p in table if p["n"]]  # c/n
            out[f"{split}/pass@1_sampled"] = sum(per_problem) / max(1, len(per_problem))
            low, high = mean_interval(per_problem)
            out[f"{split}/pass@1_sampled_low"], out[f"{split}/pass@1_sampled_high"] = low, high
        out.update(cause_counts(greedy_rows if greedy_rows is not None else sampled_rows or [], split))
        return out

    def _run_splits(self, trainer, pl_module, groups, args, iteration, desc, show) -> dict[str, list]:
        """Rows per split from one sampling call over the problems of all splits.

        Decoding all splits together keeps the batches full: run one split at a time and each
        small split (6 problems) pays a whole reply's worth of nearly empty decoding steps.
        """
        problems = [p for _, split_problems in groups for p in split_problems]
        if len({p.id for p in problems}) < len(problems):  # a problem in two splits: keep them apart
            return {split: self._run(trainer, pl_module, ps, args, iteration, f"{split} {desc}", show)
                    for split, ps in groups}
        label = f"{desc} ({', '.join(split for split, _ in groups)})"
        rows = self._run(trainer, pl_module, problems, args, iteration, label, show)
        split_of = {p.id: split for split, ps in groups for p in ps}
        out: dict[str, list] = {split: [] for split, _ in groups}
        for row in rows:
            out[split_of[row["problem_id"]]].append(row)
        return out

    def _run(self, trainer, pl_module, problems, args, iteration, desc, show) -> list[dict]:
        with progress_bar(len(problems), f"eval {iteration}: {desc}", show) as update:
            return sample_and_verify(trainer, pl_module, problems, args, iteration, desc, update)



def _tagged_rows(by_mode: dict[str, dict[str, list]]) -> list[dict]:
    """Every evaluation row with its ``split`` and ``mode`` (greedy, sampled), for the samples file."""
    return [dict(row, split=split, mode=mode)
            for mode, by_split in by_mode.items() for split, rows in by_split.items() for row in rows]


def _grouped(table: list[dict], value: str, name: str) -> dict:
    out = {name: mean_by(table, value)["all"]}
    out.update({f"{name}/{g}": v for g, v in mean_by(table, value, "family").items()})
    out.update({f"{name}/d{g}": v for g, v in mean_by(table, value, "difficulty").items()})
    return out


def _check_eval_args(splits, greedy, num_samples, k, every, split_every) -> None:
    allowed = ("train", "val", "test", "ood")
    bad = [s for s in splits if s not in allowed]
    if bad or not splits:
        raise ConfigError(f"evaluation.splits = {splits!r} is invalid: must be a non-empty list from {allowed}")
    if not greedy and not num_samples:
        raise ConfigError("evaluation: greedy is false and num_samples is 0, so nothing would be evaluated")
    if not isinstance(num_samples, int) or num_samples < 0:
        raise ConfigError(f"evaluation.num_samples = {num_samples!r} is invalid: must be an integer >= 0")
    too_big = [x for x in k if not isinstance(x, int) or x < 1 or x > num_samples]
    if too_big:
        raise ConfigError(f"evaluation.k = {k!r} is invalid: each k must be in 1..num_samples ({num_samples})")
    if not isinstance(every, int) or every < 1:
        raise ConfigError(f"evaluation.every_n_iterations = {every!r} is invalid: must be an integer >= 1")
    for split, n in split_every.items():
        if split not in splits:
            raise ConfigError(f"evaluation.split_every names {split!r}, which is not in evaluation.splits {splits!r}")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"evaluation.split_every.{split} = {n!r} is invalid: must be an integer >= 1")

"""Harvesting: sample on the train problems, verify, keep the distinct correct solutions."""

from __future__ import annotations

import json
import os
import time

import lightning as L

from callbacks import faults, iteration_record
from callbacks.checks import check_sampling_args
from callbacks.failures import cause_counts
from callbacks.progress import progress_bar
from tasks.jsonl import read_rows, write_json_atomic, write_rows_atomic
from callbacks.selection import select_solutions
from callbacks.distributed import sample_and_verify
from callbacks.samples_file import write_samples
from callbacks.verification import solved_by_problem, status_counts


class HarvestCallback(L.Callback):
    """Gathers the training set of the next outer iteration.

    Runs at fit start (iteration 0, before any training) and after every training epoch. Writes
    every sample's verdict to ``samples/iter_N.harvest.jsonl``, then ``solutions/iter_N.jsonl``,
    and hands the solutions to the datamodule; failure causes are counted in
    ``harvest/failures/<cause>``. A harvest file that
    exists but was never trained on (crash before the checkpoint) is reused, not resampled.

    Args:
        samples_per_problem: replies sampled per train problem (k).
        temperature: sampling temperature (> 0).
        top_p: nucleus sampling mass in (0, 1].
        max_new_tokens: token budget of one reply.
        max_solutions_per_problem: distinct verified solutions kept per problem.
        batch_size: sequences generated together.
        timeout_s: sandbox time limit per candidate (null: the sandbox default).
        seed: sampling seed (combined with the iteration number).
        progress: show progress bars.
        final_harvest: also harvest after the last training epoch. Its solve rate is the last
            iteration's train accuracy, but nothing trains on it; false saves that sampling
            (the last row then has val/test accuracy only).
    """

    feeds_metrics_row = True

    def __init__(
        self,
        samples_per_problem: int = 4,
        temperature: float = 0.8,
        top_p: float = 0.95,
        max_new_tokens: int = 384,
        max_solutions_per_problem: int = 2,
        batch_size: int = 16,
        timeout_s: float | None = None,
        seed: int = 0,
        progress: bool = True,
        final_harvest: bool = True,
    ):
        check_sampling_args("harvest", samples_per_problem, temperature, top_p, max_new_tokens, batch_size, timeout_s)
        if max_solutions_per_problem < 1:
            raise ValueError(f"harvest.max_solutions_per_problem = {max_solutions_per_problem} is invalid: must be >= 1")
        self.samples_per_problem = samples_per_problem
        self.temperature = temperature
        self.top_p = top_p
        self.max_new_tokens = max_new_tokens
        self.max_solutions_per_problem = max_solutions_per_problem
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        self.seed = seed
        self.progress = progress
        self.final_harvest = final_harvest

    def setup(self, trainer, pl_module, stage: str) -> None:
        if trainer.reload_dataloaders_every_n_epochs != 1:
            raise ValueError(
                "trainer.reload_dataloaders_every_n_epochs must be 1: each outer iteration trains on a new harvest "
                f"(got {trainer.reload_dataloaders_every_n_epochs})"
            )

    def on_fit_start(self, trainer, pl_module) -> None:
        # Loop state (current_epoch) is restored only after on_fit_start; a resumed run already
        # holds the harvest of its next iteration in the datamodule state.
        if not trainer.datamodule.harvest:
            self._harvest(trainer, pl_module, 0)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        last = trainer.max_epochs is not None and trainer.current_epoch + 1 >= trainer.max_epochs
        if last and not self.final_harvest:
            return
        self._harvest(trainer, pl_module, trainer.current_epoch + 1)

    def _harvest(self, trainer, pl_module, iteration: int) -> None:
        datamodule = trainer.datamodule
        if datamodule.has_harvest(iteration):
            return
        path = os.path.join(trainer.default_root_dir, "solutions", f"iter_{iteration}.jsonl")
        stats_path = path.replace(".jsonl", ".stats.json")
        stored = None
        if trainer.is_global_zero and os.path.exists(path) and os.path.exists(stats_path):
            stored = (read_rows(path), dict(_read_json(stats_path), **{"harvest/reused_file": 1}))
        stored = trainer.strategy.broadcast(stored)  # every rank takes rank 0's decision
        if stored is not None:
            records, stats = stored
        else:
            records, stats, rows = self._sample_and_verify(trainer, pl_module, datamodule, iteration)
            write_samples(trainer, iteration, "harvest", rows)
            if trainer.is_global_zero:
                write_json_atomic(stats_path, stats)
                faults.point("harvest_stats_written")
                write_rows_atomic(path, records)
        datamodule.set_harvest(iteration, records)
        iteration_record.add(trainer, {"iteration": iteration, **stats})
        faults.point("harvest_done")

    def _sample_and_verify(self, trainer, pl_module, datamodule, iteration: int):
        start = time.perf_counter()
        problems = datamodule.problems("train")
        show = self.progress and trainer.is_global_zero
        with progress_bar(len(problems), f"harvest {iteration}: sampling", show) as update:
            sample_kwargs = dict(
                n=self.samples_per_problem, temperature=self.temperature, top_p=self.top_p,
                max_new_tokens=self.max_new_tokens, batch_size=self.batch_size,
                seed=iteration_record.phase_seed(self.seed, iteration, "harvest"),
            )
            rows = sample_and_verify(trainer, pl_module, problems, sample_kwargs, self.timeout_s, update)
        kept = select_solutions(rows, self.max_solutions_per_problem)
        records = [_solution_record(r, iteration, "model") for r in kept]
        if iteration == 0:
            records += [dict(r, iteration=0) for r in datamodule.warm_start_records()]
        per_problem = solved_by_problem(problems, rows)
        stats = {
            "harvest/solve_rate": sum(p["c"] > 0 for p in per_problem) / max(1, len(per_problem)),
            "harvest/sample_accuracy": sum(r["passed"] for r in rows) / max(1, len(rows)),
            "harvest/solutions": len(records),
            "harvest/warm_start_solutions": sum(r["source"] != "model" for r in records),
            "harvest/statuses": status_counts(rows),
            **cause_counts(rows, "harvest"),
            "harvest/difficulty_min": datamodule.train_range()[0],
            "harvest/difficulty_max": datamodule.train_range()[1],
            **breakdown(per_problem),
            "time/harvest_s": time.perf_counter() - start,
        }
        return records, stats, rows


def breakdown(per_problem: list[dict]) -> dict:
    """Sample accuracy (pass@1 estimate c/n) and solve rate per family and per difficulty."""
    stats = {}
    for key, name in (("family", "{}"), ("difficulty", "d{}")):
        groups: dict = {}
        for p in per_problem:
            groups.setdefault(name.format(p[key]), []).append(p)
        for label, group in sorted(groups.items()):
            stats[f"harvest/sample_accuracy/{label}"] = sum(p["c"] for p in group) / max(1, sum(p["n"] for p in group))
            stats[f"harvest/solve_rate/{label}"] = sum(p["c"] > 0 for p in group) / len(group)
    return stats


def _solution_record(row: dict, iteration: int, source: str) -> dict:
    keys = ("problem_id", "family", "difficulty", "code")
    return {"iteration": iteration, **{k: row[k] for k in keys}, "source": source}


def _read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)

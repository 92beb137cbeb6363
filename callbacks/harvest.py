"""Harvesting: sample on the train problems, verify, keep the distinct correct solutions."""

from __future__ import annotations

import dataclasses
import json
import os
import time

import lightning as L

from callbacks import faults, harvest_plan, iteration_record
from settings.errors import require
from settings.sampling import SamplingArgs
from verify.failures import cause_counts
from reporting.progress import progress_bar
from storage.atomic import read_rows, write_json_atomic, write_rows_atomic
from verify.selection import select_solutions
from callbacks.distributed import sample_and_verify
from reporting.samples_file import write_samples
from verify.verification import solved_by_problem, status_counts


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
        adaptive_budget: spend ``sample_budget`` samples where they teach: ``first_samples`` for
            every problem, then ``first_samples`` more at a time for the least-sampled problems
            with no correct sample yet, up to ``max_samples_per_problem`` each. False: every
            problem gets ``samples_per_problem``.
        sample_budget: samples per harvest under ``adaptive_budget`` (null: ``samples_per_problem``
            x problems, the uniform plan's compute). Hinted retries count against it.
        first_samples: samples per problem in the adaptive plan's first round and in each later one.
        max_samples_per_problem: the adaptive plan's cap per problem.
        retry_failed: after the first round, one hinted attempt (``retry_samples`` replies) for
            each problem whose samples all failed: its prompt adds the failing attempt and the
            hidden test it failed (input, expected output, what it returned or raised; never the
            reference). A retry that passes every hidden test is kept (``source: retry``) and
            trained on the original, hint-free prompt.
        retry_samples: replies per hinted retry.
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
        adaptive_budget: bool = False,
        sample_budget: int | None = None,
        first_samples: int = 2,
        max_samples_per_problem: int = 16,
        retry_failed: bool = False,
        retry_samples: int = 1,
    ):
        self.sampling = SamplingArgs(samples_per_problem, temperature, top_p, max_new_tokens, batch_size, timeout_s,
                                     seed, owner="harvest")
        if max_solutions_per_problem < 1:
            raise ValueError(f"harvest.max_solutions_per_problem = {max_solutions_per_problem} is invalid: must be >= 1")
        check_plan_args(sample_budget, first_samples, max_samples_per_problem, retry_samples, temperature)
        self.adaptive_budget, self.sample_budget = adaptive_budget, sample_budget
        self.first_samples, self.max_samples_per_problem = first_samples, max_samples_per_problem
        self.retry_failed, self.retry_samples = retry_failed, retry_samples
        self.max_solutions_per_problem = max_solutions_per_problem
        self.progress = progress
        self.final_harvest = final_harvest

    @property
    def samples_per_problem(self) -> int:
        return self.sampling.n

    @property
    def max_new_tokens(self) -> int:
        return self.sampling.max_new_tokens

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
        last = trainer.max_epochs is not None and iteration_record.closing_iteration(trainer) >= trainer.max_epochs
        if last and not self.final_harvest:
            return
        self._harvest(trainer, pl_module, iteration_record.closing_iteration(trainer))

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
        problems = datamodule.train_problems(iteration)
        first = self.first_samples if self.adaptive_budget else self.samples_per_problem
        rows = self._round(trainer, pl_module, problems, first, iteration, "harvest")
        retries = self._retry(trainer, pl_module, problems, rows, iteration) if self.retry_failed else []
        rows += retries
        if self.adaptive_budget:
            rows += self._adaptive_rounds(trainer, pl_module, problems, rows, iteration)
        kept = select_solutions(rows, self.max_solutions_per_problem)
        records = [_solution_record(r, iteration, r.get("source", "model")) for r in kept]
        if iteration == 0:
            records += [dict(r, iteration=0) for r in datamodule.warm_start_records()]
        per_problem = solved_by_problem(problems, rows)
        stats = {
            iteration_record.HARVEST_SOLVE_RATE: sum(p["c"] > 0 for p in per_problem) / max(1, len(per_problem)),
            "harvest/sample_accuracy": sum(r["passed"] for r in rows) / max(1, len(rows)),
            "harvest/solutions": len(records),
            "harvest/warm_start_solutions": sum(r["source"] == "warm_start_reference" for r in records),
            "harvest/statuses": status_counts(rows),
            **cause_counts(rows, "harvest"),
            "harvest/difficulty_min": datamodule.train_range()[0],
            "harvest/difficulty_max": datamodule.train_range()[1],
            **breakdown(per_problem),
            **spending(rows, retries),
            "time/harvest_s": time.perf_counter() - start,
        }
        return records, stats, rows

    def _round(self, trainer, pl_module, problems, n: int, iteration: int, phase: str) -> list[dict]:
        """``n`` samples for each of ``problems`` (their ``prompt`` as given), verified."""
        show = self.progress and trainer.is_global_zero
        with progress_bar(len(problems), f"harvest {iteration}: {phase.replace('harvest', 'sampling', 1)}",
                          show) as update:
            return sample_and_verify(trainer, pl_module, problems, self.sampling.replace(n=n), iteration, phase, update)

    def _retry(self, trainer, pl_module, problems, rows, iteration: int) -> list[dict]:
        """One hinted attempt for each problem whose samples all failed (rows marked ``retry``)."""
        drawn = harvest_plan.counts(rows)
        by_problem: dict[str, list[dict]] = {}
        for row in rows:
            by_problem.setdefault(row["problem_id"], []).append(row)
        hinted = []
        for p in problems:
            hint = harvest_plan.hint_prompt(p, by_problem.get(p.id, [])) if drawn.get(p.id, (0, 1))[1] == 0 else None
            if hint is not None:
                hinted.append(dataclasses.replace(p, prompt=hint))
        if self.adaptive_budget:  # retries are paid from the budget
            hinted = hinted[: max(0, self._budget(problems) - len(rows)) // self.retry_samples]
        retries = self._round(trainer, pl_module, hinted, self.retry_samples, iteration, "harvest/retry") if hinted else []
        faults.point("retry_sampled")
        return [dict(r, source="retry") for r in harvest_plan.renumber(retries, drawn)]

    def _adaptive_rounds(self, trainer, pl_module, problems, rows, iteration: int) -> list[dict]:
        """Further rounds of ``first_samples`` for unsolved problems, while the budget lasts."""
        extra: list[dict] = []
        by_id = {p.id: p for p in problems}
        for round_index in range(1, self.max_samples_per_problem + 1):
            drawn = harvest_plan.counts(rows + extra)
            chosen = harvest_plan.next_round(list(by_id), drawn, self.first_samples, self.max_samples_per_problem,
                                             self._budget(problems) - len(rows) - len(extra))
            if not chosen:
                break
            got = self._round(trainer, pl_module, [by_id[i] for i in chosen], self.first_samples, iteration,
                              f"harvest/round{round_index}")
            extra += harvest_plan.renumber(got, drawn)
        return extra

    def _budget(self, problems) -> int:
        return self.sample_budget if self.sample_budget is not None else self.samples_per_problem * len(problems)


def spending(rows: list[dict], retries: list[dict]) -> dict:
    """How the harvest's samples were spent: in all, per family, and on hinted retries."""
    stats = {"harvest/samples_drawn": len(rows), "harvest/retry_attempts": len(retries),
             "harvest/retry_solutions": len({r["problem_id"] for r in retries if r["passed"]})}
    for row in rows:
        key = f"harvest/samples_drawn/{row['family']}"
        stats[key] = stats.get(key, 0) + 1
    return stats


def check_plan_args(sample_budget, first_samples, max_samples_per_problem, retry_samples, temperature) -> None:
    require(sample_budget is None or (isinstance(sample_budget, int) and sample_budget >= 1), "harvest.sample_budget",
            sample_budget, "null or an integer >= 1")
    require(isinstance(first_samples, int) and first_samples >= 1, "harvest.first_samples", first_samples,
            "an integer >= 1")
    require(isinstance(max_samples_per_problem, int) and max_samples_per_problem >= first_samples,
            "harvest.max_samples_per_problem", max_samples_per_problem, f">= harvest.first_samples ({first_samples})")
    require(isinstance(retry_samples, int) and retry_samples >= 1, "harvest.retry_samples", retry_samples,
            "an integer >= 1")
    require(temperature > 0 or (first_samples == 1 and retry_samples == 1), "harvest.temperature", temperature,
            "> 0 when more than one sample per problem is drawn (0 means greedy)")


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

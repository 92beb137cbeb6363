"""Per held-out problem: the outer iteration at which greedy decoding first solved it."""

from __future__ import annotations

import os

import lightning as L
from lightning.pytorch.utilities import rank_zero_info

from callbacks import iteration_record
from storage.atomic import write_json_atomic



def update_record(record: dict, table: list[dict], iteration: int) -> dict:
    """Fold one greedy evaluation (``table``: rows with problem_id, family, difficulty, solved)
    into ``record`` ({problem_id: {family, difficulty, first_solved, solved_now}}), in place.

    Returns the counts of this iteration: ``first_solved_this_iter`` (solved for the first time),
    ``never_solved`` (not solved at any iteration so far), ``forgotten`` (solved before, not now).

    >>> rec = {}
    >>> update_record(rec, [{"problem_id": "a", "family": "rpn", "difficulty": 2, "solved": 0.0},
    ...                     {"problem_id": "b", "family": "rpn", "difficulty": 3, "solved": 1.0}], 0)
    {'first_solved_this_iter': 1, 'never_solved': 1, 'forgotten': 0}
    >>> update_record(rec, [{"problem_id": "a", "family": "rpn", "difficulty": 2, "solved": 1.0},
    ...                     {"problem_id": "b", "family": "rpn", "difficulty": 3, "solved": 0.0}], 1)
    {'first_solved_this_iter': 1, 'never_solved': 0, 'forgotten': 1}
    >>> rec["a"]
    {'family': 'rpn', 'difficulty': 2, 'first_solved': 1, 'solved_now': True}
    """
    new = 0
    for row in table:
        entry = record.setdefault(row["problem_id"], {"family": row["family"], "difficulty": row["difficulty"],
                                                      "first_solved": None, "solved_now": False})
        entry["solved_now"] = bool(row["solved"])
        if entry["solved_now"] and entry["first_solved"] is None:
            entry["first_solved"] = iteration
            new += 1
    return {
        "first_solved_this_iter": new,
        "never_solved": sum(e["first_solved"] is None for e in record.values()),
        "forgotten": sum(e["first_solved"] is not None and not e["solved_now"] for e in record.values()),
    }


def summary_line(counts: dict[str, dict]) -> str:
    """The one-line summary printed after an evaluation.

    >>> summary_line({"val": {"first_solved_this_iter": 2, "never_solved": 5, "forgotten": 1},
    ...               "test": {"first_solved_this_iter": 0, "never_solved": 7, "forgotten": 0}})
    'newly solved: 2 val, 0 test; still unsolved: 5 val, 7 test; forgotten: 1 val, 0 test'
    """
    def part(key):
        return ", ".join(f"{c[key]} {split}" for split, c in counts.items())

    return (f"newly solved: {part('first_solved_this_iter')}; still unsolved: {part('never_solved')}; "
            f"forgotten: {part('forgotten')}")


class ProblemRecord(iteration_record.OncePerIteration, L.Callback):
    """Writes ``problem_record.json``: for each evaluated split and problem, the iteration at
    which greedy decoding first solved it (null: never so far) and whether it is solved now.

    Adds ``SPLIT/first_solved_this_iter``, ``SPLIT/never_solved`` and ``SPLIT/forgotten``
    (solved at an earlier iteration, not now) to the iteration's row. Reads the greedy results
    EvaluationCallback puts in the row, so it must be listed after EvaluationCallback.
    """

    feeds_metrics_row = True
    listed_after = ("EvaluationCallback",)  # reads its per-problem results

    def __init__(self):
        self.records: dict[str, dict] = {}   # split -> problem_id -> entry

    def on_fit_start(self, trainer, pl_module) -> None:
        if iteration_record.current(trainer).iteration == 0 and self.due(0):
            self._update(trainer, 0)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        iteration = iteration_record.closing_iteration(trainer)
        if self.due(iteration):
            self._update(trainer, iteration)

    def _update(self, trainer, iteration: int) -> None:
        tables = iteration_record.current(trainer).per_problem
        if not tables:  # not evaluated this iteration (EvaluationCallback.every_n_iterations)
            return
        counts = {split: update_record(self.records.setdefault(split, {}), table, iteration)
                  for split, table in tables.items()}
        iteration_record.add(trainer, {f"{split}/{k}": v for split, c in counts.items() for k, v in c.items()})
        self.done(iteration)
        if trainer.is_global_zero:
            write_json_atomic(os.path.join(trainer.default_root_dir, "problem_record.json"), self.records)
        rank_zero_info(f"iteration {iteration}: {summary_line(counts)}")

    def extra_state(self) -> dict:
        return {"records": self.records}

    def load_extra_state(self, state: dict) -> None:
        self.records = state.get("records", {})

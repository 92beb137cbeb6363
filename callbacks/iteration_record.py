"""What one outer iteration gathers, owned in one place: ``IterationRecord``.

Harvest, training, evaluation and the readers of evaluation add to the open record of the
trainer; ``MetricsCallback`` writes its ``row`` to ``metrics.jsonl`` and starts the next one.
Callbacks need not know each other: what they share is typed here, and the order they must run
in is declared on them (``feeds_metrics_row``, ``reads_metrics_file``, ``listed_after``) and
checked where the config is parsed (``callbacks.order``).
"""

from __future__ import annotations

import dataclasses

_ATTR = "_expert_iteration_record"
HARVEST_SOLVE_RATE = "harvest/solve_rate"  # the row key the harvest writes and others read


@dataclasses.dataclass
class IterationRecord:
    """The open record of an outer iteration.

    ``row``: the flat values of ``metrics.jsonl`` and TensorBoard (``iteration``, ``val/pass@1`` ...).
    ``per_problem``: per evaluated split, the greedy result of each problem (``id``, ``family``,
    ``difficulty``, ``c``, ``n``, ``solved``), for per-problem records; never written to the row.
    """

    row: dict = dataclasses.field(default_factory=dict)
    per_problem: dict[str, list[dict]] = dataclasses.field(default_factory=dict)

    @property
    def iteration(self) -> int | None:
        return self.row.get("iteration")

    @property
    def harvest_solve_rate(self) -> float | None:
        """The share of this iteration's train problems with a verified solution (None: no harvest)."""
        return self.row.get(HARVEST_SOLVE_RATE)


def current(trainer) -> IterationRecord:
    """The open record (created empty on first use)."""
    rec = getattr(trainer, _ATTR, None)
    if rec is None:
        rec = IterationRecord()
        setattr(trainer, _ATTR, rec)
    return rec


def record(trainer) -> dict:
    """The open record's row."""
    return current(trainer).row


def add(trainer, values: dict) -> None:
    current(trainer).row.update(values)


def take(trainer) -> dict:
    """Return the open record's row and start a new record."""
    row = current(trainer).row
    setattr(trainer, _ATTR, IterationRecord())
    return row


def closing_iteration(trainer) -> int:
    """The outer iteration an epoch's end closes: epoch ``e`` trains iteration ``e + 1``."""
    return trainer.current_epoch + 1


class OncePerIteration:
    """The "already done for iteration i" guard with its resume state, for callbacks that act at
    fit start (iteration 0) and at each epoch end, and must not act twice after a resume.

    Subclasses call ``due(i)`` before acting and ``done(i)`` after; extra resume state goes in
    ``extra_state()`` / ``load_extra_state(state)``.
    """

    last_iteration: int = -1

    def due(self, iteration: int) -> bool:
        return iteration > self.last_iteration

    def done(self, iteration: int) -> None:
        self.last_iteration = iteration

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def state_dict(self) -> dict:
        return {"last_iteration": self.last_iteration, **self.extra_state()}

    def load_state_dict(self, state: dict) -> None:
        self.last_iteration = state.get("last_iteration", -1)
        self.load_extra_state(state)

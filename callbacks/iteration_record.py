"""The row of ``metrics.jsonl`` being gathered for the current outer iteration.

Harvest, evaluation and training each add their numbers; ``MetricsCallback`` writes the row.
The row lives on the trainer so callbacks need not know each other.
"""

from __future__ import annotations

import random

_ATTR = "_expert_iteration_record"


def record(trainer) -> dict:
    """The open row (created empty on first use)."""
    row = getattr(trainer, _ATTR, None)
    if row is None:
        row = {}
        setattr(trainer, _ATTR, row)
    return row


def add(trainer, values: dict) -> None:
    record(trainer).update(values)


def take(trainer) -> dict:
    """Return the open row and start a new one."""
    row = record(trainer)
    setattr(trainer, _ATTR, {})
    return row


def phase_seed(seed: int, iteration: int, phase: str) -> int:
    """A sampling seed for one phase of one iteration, the same across resumes.

    >>> phase_seed(0, 3, "harvest") == phase_seed(0, 3, "harvest") != phase_seed(0, 3, "val")
    True
    """
    return random.Random(f"{seed}:{iteration}:{phase}").randrange(2**31)

"""Every sample's verdict, per iteration and phase: ``samples/iter_N.{harvest,eval}.jsonl``.

One row per reply (problem, sample index, raw reply cut to 1500 characters, code, status, detail,
cause, first failing test; evaluation rows also carry ``split`` and ``mode`` = greedy/sampled).
Written atomically by global rank zero. No Lightning here.
"""

from __future__ import annotations

import os
import re

from storage.atomic import write_rows_atomic

FOLDER = "samples"
PHASES = ("harvest", "eval")
_NAME = re.compile(r"^iter_(\d+)\.(harvest|eval)\.jsonl$")


def samples_path(root: str, iteration: int, phase: str) -> str:
    """The samples file of one iteration's phase (``harvest`` or ``eval``).

    >>> samples_path("runs/x", 3, "eval")
    'runs/x/samples/iter_3.eval.jsonl'
    """
    return os.path.join(root, FOLDER, f"iter_{iteration}.{phase}.jsonl")


def write_samples(trainer, iteration: int, phase: str, rows: list[dict]) -> None:
    """Write one phase's rows on global rank zero (nothing without a ``default_root_dir``)."""
    root = getattr(trainer, "default_root_dir", None)
    if trainer.is_global_zero and root:
        write_rows_atomic(samples_path(root, iteration, phase), (dict(r, iteration=iteration) for r in rows))


def find_samples(root: str) -> list[tuple[int, str, str]] | None:
    """(iteration, phase, path) of every samples file of a run, in order; None without the folder."""
    folder = os.path.join(root, FOLDER)
    if not os.path.isdir(folder):
        return None
    found = [(int(m[1]), m[2], os.path.join(folder, name)) for name in os.listdir(folder) if (m := _NAME.match(name))]
    return sorted(found, key=lambda item: (item[0], PHASES.index(item[1])))

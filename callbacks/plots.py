"""PlotCallback: the run's accuracy curves (``reporting.plots``) redrawn after every outer iteration."""

from __future__ import annotations

import os

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn

from callbacks import iteration_record
from reporting.plots import plot_run


class PlotCallback(L.Callback):
    """Redraws ``plots/accuracy.png`` (train, val, test accuracy against outer iteration and
    optimizer step; jumps flagged by JumpDetector as red lines) and ``plots/families.png`` (val
    pass@1 per family) after each row of ``metrics.jsonl`` is written. A plotting error is
    reported as a warning and never stops the run; ``python -m reporting.plots RUN_DIR`` redraws.

    Args:
        every_n_iterations: redraw after rows whose iteration is divisible by this (and at fit start).
    """

    reads_metrics_file = True

    def __init__(self, every_n_iterations: int = 1):
        if not isinstance(every_n_iterations, int) or every_n_iterations < 1:
            raise ValueError(f"plots.every_n_iterations = {every_n_iterations!r} is invalid: must be an integer >= 1")
        self.every = every_n_iterations

    def on_fit_start(self, trainer, pl_module) -> None:
        self._draw(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if iteration_record.closing_iteration(trainer) % self.every == 0:
            self._draw(trainer)

    def _draw(self, trainer) -> None:
        if not trainer.is_global_zero or not os.path.exists(os.path.join(trainer.default_root_dir, "metrics.jsonl")):
            return
        try:
            plot_run(trainer.default_root_dir)
        except Exception as err:  # a figure is never worth a lost run
            rank_zero_warn(f"PlotCallback: could not draw the plots: {type(err).__name__}: {err}")

"""One row per outer iteration in ``metrics.jsonl``, the same numbers in TensorBoard, a table."""

from __future__ import annotations

import os
import time

import lightning as L

from callbacks import iteration_record
from tasks.jsonl import append_row, read_rows, write_rows_atomic
from callbacks.summary import format_row, header


class MetricsCallback(L.Callback):
    """Writes the iteration's row once harvest and evaluation have added to it.

    Rows are appended with fsync. On resume, rows of iterations after the checkpoint (written
    by a run that crashed before its next checkpoint) are dropped, so no iteration appears twice.
    A fresh run refuses a folder that already holds trained iterations.

    Args:
        print_table: print a summary line per iteration.
    """

    def __init__(self, print_table: bool = True):
        self.print_table = print_table
        self.epoch_start = self.last_batch_end = None
        self.losses: list[float] = []

    def setup(self, trainer, pl_module, stage: str) -> None:
        order_around_metrics(trainer.callbacks, self)

    def on_fit_start(self, trainer, pl_module) -> None:
        if trainer.is_global_zero and trainer.ckpt_path is None:
            self._reconcile_file(trainer, resumed_epoch=None)
        self._flush(trainer, pl_module)

    def on_train_start(self, trainer, pl_module) -> None:
        # current_epoch is restored from the checkpoint only after on_fit_start
        if trainer.is_global_zero and trainer.ckpt_path is not None:
            self._reconcile_file(trainer, resumed_epoch=trainer.current_epoch)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.epoch_start = self.last_batch_end = time.perf_counter()
        self.losses = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.last_batch_end = time.perf_counter()
        if isinstance(outputs, dict) and "loss" in outputs:
            self.losses.append(float(outputs["loss"]))

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        iteration_record.add(trainer, {
            # set here too: an iteration with neither harvest nor evaluation still gets its row
            "iteration": trainer.current_epoch + 1,
            "train/loss_mean": sum(self.losses) / len(self.losses) if self.losses else None,
            "train/steps": len(self.losses),
            # up to the last batch: harvest and evaluation at the epoch's end are timed apart
            "time/train_s": (self.last_batch_end - self.epoch_start) if self.epoch_start else None,
            **getattr(trainer.datamodule, "last_counts", {}),
        })
        self._flush(trainer, pl_module)

    def _path(self, trainer) -> str:
        return os.path.join(trainer.default_root_dir, "metrics.jsonl")

    def _reconcile_file(self, trainer, resumed_epoch: int | None) -> None:
        """Drop rows the checkpoint does not know of; refuse to start afresh over trained rows."""
        path = self._path(trainer)
        rows = read_rows(path)
        fresh = resumed_epoch is None
        if fresh and any(r.get("iteration", 0) > 0 for r in rows):
            raise RuntimeError(
                f"{trainer.default_root_dir} already holds a run with trained iterations ({path}); "
                "resume it with --ckpt_path last, or pick a new --trainer.default_root_dir"
            )
        keep = [r for r in rows if not fresh and r.get("iteration", 0) <= resumed_epoch]
        if len(keep) != len(rows):
            write_rows_atomic(path, keep)

    def _flush(self, trainer, pl_module) -> None:
        row = iteration_record.take(trainer)
        if "iteration" not in row:
            return
        row = {k: v for k, v in row.items() if not k.startswith("_")}  # "_" keys: in-memory only
        row.update(global_step=trainer.global_step, wall_time=time.time())
        if trainer.is_global_zero:
            append_row(self._path(trainer), row)
            _log_to_tensorboard(trainer, row)
            if self.print_table:
                if row["iteration"] == 0 or not getattr(self, "_printed_header", False):
                    print(header(row))
                    self._printed_header = True
                print(format_row(row))


def order_around_metrics(callbacks: list, metrics) -> None:
    """Put callbacks that add to the row (``feeds_metrics_row = True``) before ``metrics`` and
    those that read ``metrics.jsonl`` (``reads_metrics_file = True``) after it, keeping the
    configured order otherwise. Lightning runs checkpoint callbacks after all of these."""
    if metrics not in callbacks:
        return
    feeders = [c for c in callbacks if getattr(c, "feeds_metrics_row", False)]
    readers = [c for c in callbacks if getattr(c, "reads_metrics_file", False)]
    others = [c for c in callbacks if c is not metrics and c not in feeders and c not in readers]
    callbacks[:] = feeders + [metrics] + readers + others


def _log_to_tensorboard(trainer, row: dict) -> None:
    for logger in trainer.loggers:
        scalars = {k: float(v) for k, v in row.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and "/" in k}
        logger.log_metrics(scalars, step=trainer.global_step)
        experiment = getattr(logger, "experiment", None)
        if hasattr(experiment, "add_text"):
            for key, texts in row.items():
                if key.endswith("samples_text"):
                    body = "\n\n".join(f"```\n{t}\n```" for t in texts)
                    experiment.add_text(key, body or "(no code)", global_step=row["iteration"])

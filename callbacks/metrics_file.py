"""One row per outer iteration in ``metrics.jsonl``, the same numbers in TensorBoard, a table."""

from __future__ import annotations

import os
import sys
import time

import lightning as L
from tqdm.auto import tqdm

from callbacks import iteration_record
from callbacks.order import check_callback_order
from storage.atomic import append_row, read_rows, write_rows_atomic
from reporting.summary import format_row, header


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
        self.kls: list[float] = []

    def setup(self, trainer, pl_module, stage: str) -> None:
        check_callback_order(list(trainer.callbacks))  # also checked before loading by cli.preflight

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
        self.losses, self.kls = [], []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.last_batch_end = time.perf_counter()
        if isinstance(outputs, dict) and "loss" in outputs:
            # "ce": the cross-entropy when the objective adds a KL term (PolicyModule.kl_to_base)
            self.losses.append(float(outputs.get("ce", outputs["loss"])))
            if "kl" in outputs:
                self.kls.append(float(outputs["kl"]))

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        iteration_record.add(trainer, {
            # set here too: an iteration with neither harvest nor evaluation still gets its row
            "iteration": iteration_record.closing_iteration(trainer),
            "train/loss_mean": sum(self.losses) / len(self.losses) if self.losses else None,
            "train/steps": len(self.losses),
            **({"train/kl_mean": sum(self.kls) / len(self.kls)} if self.kls else {}),
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
        if len(keep) != len(rows):  # (a torn last line is dropped by append_row)
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
                lines = [format_row(row)]
                if row["iteration"] == 0 or not getattr(self, "_printed_header", False):
                    lines.insert(0, header(row))
                    self._printed_header = True
                print_lines(lines)


def print_lines(lines: list[str]) -> None:
    """Print table lines past any progress bar (``tqdm.write``), in one write, flushed. When the table
    and the bars go to the same log file, start on a fresh line: a bar's last state ends in a
    carriage return, and the table would be glued to it."""
    text = "\n".join(lines)
    tqdm.write("\n" + text if _bars_share_the_log() else text, file=sys.stdout)
    sys.stdout.flush()


def _bars_share_the_log() -> bool:
    try:
        out, err = os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno())
        return not sys.stderr.isatty() and (out.st_dev, out.st_ino) == (err.st_dev, err.st_ino)
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return False


def _log_to_tensorboard(trainer, row: dict) -> None:
    """Each scalar twice: against the global step (``val/pass@1``) and against the outer iteration
    (``iteration/val/pass@1``, step = iteration), so accuracy can be plotted per iteration."""
    for logger in trainer.loggers:
        scalars = {k: float(v) for k, v in row.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and "/" in k}
        logger.log_metrics(scalars, step=trainer.global_step)
        logger.log_metrics({f"iteration/{k}": v for k, v in scalars.items()}, step=row["iteration"])
        experiment = getattr(logger, "experiment", None)
        if hasattr(experiment, "add_text"):
            for key, texts in row.items():
                if key.endswith("samples_text"):
                    body = "\n\n".join(f"```\n{t}\n```" for t in texts)
                    experiment.add_text(key, body or "(no samples)", global_step=row["iteration"])

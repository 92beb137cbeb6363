"""Grokking watch: flag a sudden rise of validation accuracy over its recent plateau."""

from __future__ import annotations

import os
import shutil

import lightning as L
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from callbacks import iteration_record
from callbacks.adapters import adapter_norm, save_adapter
from storage.atomic import staged_dir


def detect_jump(history: list[float], value: float, margin: float, window: int) -> bool:
    """True when ``value`` exceeds the highest of the last ``window`` values by at least ``margin``.

    The plateau level is the *maximum* of the window, not its mean: a steady climb (each value a
    little above the last) or a single noisy peak inside the plateau is not a jump; only a value
    clearly above everything seen recently is. No jump before ``window`` values exist.

    >>> detect_jump([0.10, 0.12, 0.10], 0.30, margin=0.15, window=3)
    True
    >>> detect_jump([0.10, 0.20, 0.30], 0.40, margin=0.15, window=3)   # a steady climb
    False
    >>> detect_jump([0.10, 0.10], 0.50, margin=0.15, window=3)         # plateau not seen yet
    False
    >>> detect_jump([0.5, 0.0, 0.0, 0.0], 0.2, margin=0.15, window=3)  # only the last 3 count
    True
    """
    if window < 1 or len(history) < window:
        return False
    return value - max(history[-window:]) >= margin - 1e-12


class JumpDetector(iteration_record.OncePerIteration, L.Callback):
    """Flags the iteration where ``metric`` jumps over its plateau; keeps the adapters around it.

    Adds to each iteration's row: ``grok/jump`` (1 at a flagged iteration, else 0),
    ``grok/plateau`` (the level the jump is measured against), ``grok/train_val_gap``
    (``harvest/solve_rate`` minus ``metric``) and ``grok/adapter_norm`` (L2 norm of the LoRA
    weights). At a jump at iteration i it writes ``jumps/iter_i/before`` (the adapter after
    iteration i-1: a copy of ``adapters/iter_{i-1}``, or the weights it kept in memory) and
    ``jumps/iter_i/after`` (the adapter after iteration i). List it after EvaluationCallback
    (and HarvestCallback, for the gap).

    Args:
        margin: rise over the plateau that counts as a jump (accuracy points, 0.15 = 15 points).
        plateau_window: how many previous measured values form the plateau (its maximum is used).
        metric: the row key to watch.
    """

    feeds_metrics_row = True
    listed_after = ("EvaluationCallback",)  # reads the evaluation results of the row

    def __init__(self, margin: float = 0.15, plateau_window: int = 3, metric: str = "val/pass@1"):
        if not 0 < margin <= 1:
            raise ValueError(f"jump_detector.margin = {margin!r} is invalid: must be in (0, 1]")
        if not isinstance(plateau_window, int) or plateau_window < 1:
            raise ValueError(f"jump_detector.plateau_window = {plateau_window!r} is invalid: must be an integer >= 1")
        self.margin, self.window, self.metric = margin, plateau_window, metric
        self.history: list[list] = []   # [iteration, value] of each measured iteration
        self.jumps: list[int] = []
        self._previous = None           # adapter weights after the last iteration (rank 0, not saved)
        self._warned_missing = False

    def on_fit_start(self, trainer, pl_module) -> None:
        row = iteration_record.record(trainer)
        if row.get("iteration") == 0 and self.due(0):
            self._observe(trainer, pl_module, 0)
        self._remember(trainer, pl_module)  # resumed: the restored adapter is the one "before"

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        iteration = iteration_record.closing_iteration(trainer)
        if self.due(iteration):
            self._observe(trainer, pl_module, iteration)
        self._remember(trainer, pl_module)

    def _observe(self, trainer, pl_module, iteration: int) -> None:
        record = iteration_record.current(trainer)
        row = record.row
        values = {"grok/adapter_norm": adapter_norm(pl_module.model)}
        value = row.get(self.metric)
        if value is None:
            self._warn_missing(iteration)
        else:
            past = [v for _, v in self.history]
            jump = detect_jump(past, value, self.margin, self.window)
            values["grok/jump"] = int(jump)
            values["grok/plateau"] = max(past[-self.window:]) if len(past) >= self.window else None
            if record.harvest_solve_rate is not None:
                values["grok/train_val_gap"] = record.harvest_solve_rate - value
            self.history.append([iteration, value])
            if jump:
                self.jumps.append(iteration)
                self._keep_adapters(trainer, pl_module, iteration, value, values["grok/plateau"])
        iteration_record.add(trainer, values)
        self.done(iteration)

    def _warn_missing(self, iteration: int) -> None:
        if not self._warned_missing:
            rank_zero_warn(f"JumpDetector: {self.metric!r} is not in the row of iteration {iteration} (not evaluated "
                           "this iteration?); jumps are checked only on iterations where it is measured")
            self._warned_missing = True

    def _remember(self, trainer, pl_module) -> None:
        if trainer.is_global_zero:
            self._previous = {n: p.detach().to("cpu", copy=True) for n, p in pl_module.model.named_parameters()
                              if p.requires_grad}

    def _keep_adapters(self, trainer, pl_module, iteration: int, value: float, plateau: float) -> None:
        rank_zero_info(f"JumpDetector: {self.metric} jumped to {value:.3f} at iteration {iteration} "
                       f"(plateau {plateau:.3f}, margin {self.margin})")
        if not trainer.is_global_zero:
            return
        root = trainer.default_root_dir
        folder = os.path.join(root, "jumps", f"iter_{iteration}")
        os.makedirs(folder, exist_ok=True)
        source = os.path.join(root, "adapters", f"iter_{iteration - 1}")
        if os.path.isdir(source):
            _copy_folder(source, os.path.join(folder, "before"))
        elif self._previous is not None:
            _save_from_state(pl_module.model, self._previous, os.path.join(folder, "before"))
        else:
            rank_zero_warn(f"JumpDetector: no adapter of iteration {iteration - 1} ({source} is missing and none "
                           f"was kept in memory); jumps/iter_{iteration}/before not written")
        save_adapter(pl_module.model, folder, iteration, name="after")

    def extra_state(self) -> dict:
        return {"history": self.history, "jumps": self.jumps}

    def load_extra_state(self, state: dict) -> None:
        self.history = [list(h) for h in state.get("history", [])]
        self.jumps = list(state.get("jumps", []))


def _copy_folder(source: str, target: str) -> None:
    """Copy a folder under a temporary name, then rename it into place."""
    with staged_dir(target) as tmp:
        shutil.copytree(source, tmp)


def _save_from_state(peft_model, state: dict, target: str) -> None:
    """Save adapter weights held in memory (full parameter names) as PEFT ``save_pretrained`` output."""
    with staged_dir(target) as tmp:
        peft_model.save_pretrained(tmp, state_dict=state)

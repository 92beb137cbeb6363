"""Saves the LoRA adapter after each outer iteration as plain PEFT ``save_pretrained`` output."""

from __future__ import annotations

import math
import os
import shutil

import lightning as L
import torch

from callbacks import iteration_record
from storage.atomic import staged_dir


class AdapterCheckpoint(L.Callback):
    """Writes ``adapters/iter_N/`` (loadable with ``PeftModel.from_pretrained``).

    Each folder is written under a temporary name and renamed when complete; a non-finite
    adapter is never saved.

    Args:
        every_n_iterations: save on iterations divisible by this.
        keep_last: keep only this many newest adapter folders (0: keep all).
    """

    def __init__(self, every_n_iterations: int = 1, keep_last: int = 0):
        if every_n_iterations < 1 or keep_last < 0:
            raise ValueError(
                f"adapters: every_n_iterations = {every_n_iterations} must be >= 1 and keep_last = {keep_last} >= 0"
            )
        self.every = every_n_iterations
        self.keep_last = keep_last

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        iteration = iteration_record.closing_iteration(trainer)
        if iteration % self.every or not trainer.is_global_zero:
            return
        save_adapter(pl_module.model, os.path.join(trainer.default_root_dir, "adapters"), iteration)
        if self.keep_last:
            prune_adapters(os.path.join(trainer.default_root_dir, "adapters"), self.keep_last)


def save_adapter(peft_model, folder: str, iteration: int, name: str | None = None) -> str:
    """``save_pretrained`` into ``folder/iter_N`` (or ``folder/NAME``), published whole; refuses non-finite weights."""
    for param_name, p in peft_model.named_parameters():
        if p.requires_grad and not torch.isfinite(p).all():
            raise RuntimeError(f"not saving adapter of iteration {iteration}: {param_name} is not finite")
    final = os.path.join(folder, name or f"iter_{iteration}")
    with staged_dir(final) as tmp:
        peft_model.save_pretrained(tmp)
    return final


def prune_adapters(folder: str, keep: int) -> None:
    done = [d for d in os.listdir(folder) if d.startswith("iter_") and not d.endswith(".tmp")]
    done.sort(key=lambda d: int(d.split("_")[1]))
    for d in done[: max(0, len(done) - keep)]:
        shutil.rmtree(os.path.join(folder, d), ignore_errors=True)


def adapter_norm(peft_model) -> float:
    """L2 norm of all trainable (adapter) weights."""
    total = sum(float(p.detach().float().pow(2).sum()) for p in peft_model.parameters() if p.requires_grad)
    return math.sqrt(total)

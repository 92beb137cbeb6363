"""Checkpoints written atomically: a kill during the write never leaves a truncated file."""

from __future__ import annotations

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from callbacks import faults
from storage.atomic import atomic_writer, remove_stale_temps


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` through ``storage.atomic.atomic_writer`` (temp file, fsync, rename)."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        remove_stale_temps(path)  # left by a run killed mid-write
        with atomic_writer(path, binary=True, before_replace=lambda: faults.point("checkpoint_written")) as f:
            torch.save(checkpoint, f)
        faults.point("checkpoint_done")

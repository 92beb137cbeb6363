"""Checkpoints written atomically: a kill during the write never leaves a truncated file."""

from __future__ import annotations

import glob
import os

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from callbacks import faults


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to a temp file in the same folder, fsync, then rename over the target."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        for stale in glob.glob(glob.escape(path) + ".tmp-*"):  # left by a run killed mid-write
            os.unlink(stale)
        tmp = f"{path}.tmp-{os.getpid()}"
        try:
            with open(tmp, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            faults.point("checkpoint_written")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        faults.point("checkpoint_done")

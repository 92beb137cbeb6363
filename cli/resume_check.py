"""``--ckpt_path``, checked before the model loads: a readable checkpoint of the same run.

``last`` with no checkpoint is refused, except in a folder whose run was stopped before its
first checkpoint (no trained iteration yet): that run starts again from the beginning, with a note.

The checkpoint's model, LoRA and problem settings must equal the config's; every difference is
named. Settings of training alone (learning rate, weight decay, batch size, max length, harvest
window, passes per iteration, dtype) may change on resume.
"""

from __future__ import annotations

import os
import pickle
import sys
import zipfile

from lightning.pytorch.utilities import rank_zero_only

from settings.errors import ConfigError
from storage.atomic import read_rows

MODEL_KEYS = ("model", "lora_rank", "lora_alpha", "lora_dropout", "target_modules", "system_prompt")
DATA_KEYS = ("families", "train_size", "val_size", "test_size", "ood_size", "difficulty_min", "difficulty_max",
             "seed", "curriculum_step", "fresh_train", "ood_difficulty_min")
FRESH = "start fresh instead by leaving out --ckpt_path"


def resolve(ckpt_path, trainer) -> str | None:
    """The checkpoint file ``--ckpt_path`` names (``last``: the newest ``last*.ckpt`` of the run)."""
    if ckpt_path is None:
        return None
    ckpt_path = os.fspath(ckpt_path)
    if ckpt_path == "last":
        from lightning.pytorch.callbacks import ModelCheckpoint

        folders, found = set(), set()
        for callback in trainer.checkpoint_callbacks:
            if isinstance(callback, ModelCheckpoint):
                folders.add(callback.dirpath or trainer.default_root_dir)
                found |= {p for p in callback._find_last_checkpoints(trainer) if os.path.isfile(p)}
        if not found and unfinished_first_iteration(trainer.default_root_dir):
            if rank_zero_only.rank == 0:
                print(f"note: --ckpt_path last: no checkpoint yet in {', '.join(sorted(map(str, folders)))}; the run "
                      f"in {trainer.default_root_dir} stopped before its first outer iteration finished, so it "
                      "starts from the beginning (reusing the harvest files it wrote)", file=sys.stderr, flush=True)
            return None
        if not found:
            raise ConfigError(
                f"--ckpt_path last: there is no checkpoint in {', '.join(sorted(map(str, folders))) or 'this run'}, "
                "so there is nothing to resume (no outer iteration of a run in this --trainer.default_root_dir "
                "finished)", fix=f"{FRESH}, or give the folder of the run to resume with --trainer.default_root_dir")
        return max(found, key=os.path.getmtime)
    if not os.path.exists(ckpt_path):
        raise ConfigError(f"--ckpt_path {ckpt_path!r} does not exist",
                          fix=f"give an existing checkpoint file or --ckpt_path last; {FRESH}")
    if os.path.isdir(ckpt_path):
        raise ConfigError(f"--ckpt_path {ckpt_path!r} is a folder, not a checkpoint file",
                          fix=f"give the file (e.g. {os.path.join(ckpt_path, 'last.ckpt')}) or --ckpt_path last")
    return ckpt_path


def unfinished_first_iteration(root: str) -> bool:
    """The folder holds a run killed before its first checkpoint: its files, but no trained iteration."""
    if not any(os.path.exists(os.path.join(root, p)) for p in ("metrics.jsonl", "train.jsonl", "solutions")):
        return False
    try:
        rows = read_rows(os.path.join(root, "metrics.jsonl"))
        return not any(isinstance(r, dict) and r.get("iteration", 0) > 0 for r in rows)
    except (ValueError, TypeError):
        return True  # damaged: named by run_folder.check_run_files, next


def read(path: str, weights_only: bool | None) -> dict:
    """The checkpoint's contents; a truncated file or one that is not a Lightning checkpoint is refused."""
    import torch

    fix = f"resume from an intact checkpoint (a complete run keeps checkpoints/last.ckpt), or {FRESH}"
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=weights_only is not False)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, ValueError, OSError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "Weights only load failed" in str(err):
            fix = "if the file is yours and trusted, add --weights_only=false"
        raise ConfigError(f"--ckpt_path {path!r} cannot be read: it is truncated or not a checkpoint ({reason})",
                          fix=fix) from err
    if not isinstance(checkpoint, dict) or not {"state_dict", "epoch"} <= set(checkpoint):
        raise ConfigError(f"--ckpt_path {path!r} is not a Lightning checkpoint (no state_dict and epoch)", fix=fix)
    return checkpoint


def differences(checkpoint: dict, model, data) -> list[str]:
    """``field: checkpoint X, config Y`` for each model/LoRA/data setting that differs."""
    from lightning_modules.policy import DEFAULT_TARGETS
    from models.tiny import TINY_MODEL_NAME
    from tasks import FAMILIES

    saved_model = dict(checkpoint.get("hyper_parameters") or {})
    saved_data = dict(checkpoint.get("datamodule_hyper_parameters") or {})
    defaults = {"target_modules": list(DEFAULT_TARGETS), "families": list(FAMILIES)}
    keys = MODEL_KEYS + (("seed",) if model.hparams.model == TINY_MODEL_NAME else ())
    out = []
    for section, saved, now, names in (("model", saved_model, model.hparams, keys),
                                       ("data", saved_data, data.hparams, DATA_KEYS)):
        for key in names:
            if key not in saved or key not in now:
                continue  # an older checkpoint without this setting
            old, new = (defaults.get(key) if v is None else v for v in (saved[key], now[key]))
            if _norm(old) != _norm(new):
                out.append(f"{section}.{key}: checkpoint {old!r}, config {new!r}")
    return out


def _norm(value):
    return list(value) if isinstance(value, tuple) else value


def check_resume(ckpt_path, trainer, model, data, weights_only=None) -> dict | None:
    """Resolve, read and compare the checkpoint; returns it (None for a fresh run)."""
    path = resolve(ckpt_path, trainer)
    if path is None:
        return None
    checkpoint = read(path, weights_only)
    diffs = differences(checkpoint, model, data)
    if diffs:
        config = os.path.join(trainer.default_root_dir, "config.yaml")
        raise ConfigError(
            f"--ckpt_path {ckpt_path} ({path}) was saved with other settings than this config:\n  "
            + "\n  ".join(diffs),
            fix="a resumed run keeps its model, LoRA and problem settings: set these back (the run's config is "
                f"{config}), or start a new run with another --trainer.default_root_dir")
    return checkpoint

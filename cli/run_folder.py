"""Checks of the run folder before anything is loaded or written: writable, intact, the same run.

Only reads. A fresh run refuses a folder with trained iterations or with problem files of other
data settings; every run (fresh or resumed) reads the files it keeps (``metrics.jsonl``, the
problem splits, ``solutions/``) end to end and names damage by file and line (a truncated last
line is dropped with a warning, as ``storage.atomic.read_rows`` does).
"""

from __future__ import annotations

import glob
import json
import os

from settings.errors import ConfigError
from storage.atomic import read_rows
from tasks.jsonl import load_jsonl

SPLIT_FILES = ("train", "val", "test", "ood")
SUBFOLDERS = ("solutions", "samples", "checkpoints", "adapters", "tensorboard", "train", "plots", "jumps",
              "humaneval")
DAMAGE_FIX = ("restore the file from a copy, or remove the damaged line (a cut-off last line is dropped by "
              "itself); or start a new run with another --trainer.default_root_dir")


def writable(path: str) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


def check_writable(root: str) -> None:
    """The folder (or, if it does not exist yet, the nearest existing parent) and what it holds."""
    fix = "make it writable, or choose another --trainer.default_root_dir"
    if os.path.exists(root) and not os.path.isdir(root):
        raise ConfigError(f"trainer.default_root_dir = {root!r} is a file; it must be a folder (or not exist)",
                          field="trainer.default_root_dir")
    if not os.path.exists(root):
        parent = os.path.dirname(os.path.abspath(root))
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent) or not writable(parent):
            raise ConfigError(f"trainer.default_root_dir = {root!r} cannot be created: {parent} is not a "
                              "writable folder", fix=fix)
        return
    targets = [root] + [os.path.join(root, d) for d in SUBFOLDERS if os.path.isdir(os.path.join(root, d))]
    targets += [p for p in (os.path.join(root, "metrics.jsonl"),) if os.path.exists(p)]
    for path in targets:
        if not (writable(path) if os.path.isdir(path) else os.access(path, os.W_OK)):
            raise ConfigError(f"trainer.default_root_dir = {root!r} is read-only: {path} cannot be written",
                              fix=fix)


def _rows(path: str, required: dict[str, type]) -> list[dict]:
    """Rows of ``path``, each a JSON object with ``required`` keys of those types."""
    def parse(row):
        if not isinstance(row, dict):
            raise ValueError(f"a JSON object expected, got {type(row).__name__}")
        wrong = [k for k, t in required.items() if not isinstance(row.get(k), t)]
        if wrong:
            raise ValueError(f"missing or wrong {', '.join(wrong)}")
        return row

    try:
        return read_rows(path, parse=parse)
    except ValueError as err:
        raise ConfigError(f"the run folder is damaged: {err}", fix=DAMAGE_FIX) from err


def check_run_files(root: str) -> list[dict]:
    """Read every file the run keeps, end to end; returns the rows of ``metrics.jsonl``."""
    metrics = _rows(os.path.join(root, "metrics.jsonl"), {"iteration": int})
    for path in sorted(glob.glob(os.path.join(glob.escape(root), "solutions", "iter_*.jsonl"))):
        _rows(path, {"problem_id": str, "code": str})
    for path in sorted(glob.glob(os.path.join(glob.escape(root), "solutions", "iter_*.stats.json"))):
        try:
            with open(path, encoding="utf-8") as f:
                if not isinstance(json.load(f), dict):
                    raise ValueError("a JSON object expected")
        except (ValueError, UnicodeDecodeError) as err:
            raise ConfigError(f"the run folder is damaged: {path}: {err}",
                              fix=f"remove {path} (the harvest of that iteration is then sampled again)") from err
    for path in _problem_files(root):
        try:
            load_jsonl(path)
        except ValueError as err:
            raise ConfigError(f"the run folder is damaged: {err}", fix=DAMAGE_FIX) from err
    return metrics


def _problem_files(root: str) -> list[str]:
    escaped = glob.escape(root)
    paths = [os.path.join(root, f"{s}.jsonl") for s in SPLIT_FILES]
    paths += glob.glob(os.path.join(escaped, "train_level*.jsonl"))
    paths += glob.glob(os.path.join(escaped, "train", "iter_*.jsonl"))
    return sorted(p for p in paths if os.path.isfile(p))


def check_fresh_start(root: str, metrics: list[dict]) -> None:
    """A fresh run (no --ckpt_path) must not start over a run with trained iterations."""
    if any(r.get("iteration", 0) > 0 for r in metrics):
        raise ConfigError(
            f"{root} already holds a run with trained iterations ({os.path.join(root, 'metrics.jsonl')}); "
            "a fresh run would mix with it",
            fix="resume it with --ckpt_path last, or pick a new --trainer.default_root_dir")


def check_split_files(root: str, data) -> None:
    """Problem files already in the folder must be the ones this config's data settings build."""
    present = [s for s in SPLIT_FILES if os.path.isfile(os.path.join(root, f"{s}.jsonl"))]
    if not present:
        return
    from tasks import build_splits

    h = data.hparams
    built = build_splits(train_size=h.train_size, val_size=h.val_size, test_size=h.test_size, families=h.families,
                         difficulty_min=h.difficulty_min, difficulty_max=h.difficulty_max, seed=h.seed,
                         ood_size=h.ood_size, ood_difficulty_min=h.ood_difficulty_min)
    for split in present:
        path = os.path.join(root, f"{split}.jsonl")
        if split in built and [p.id for p in load_jsonl(path)] != [p.id for p in built[split]]:
            raise ConfigError(
                f"{path} holds other problems than this config builds: the data.* settings (families, sizes, "
                "difficulties, seed) differ from those of the run in this folder",
                fix=f"restore the run's data settings (see {os.path.join(root, 'config.yaml')}), or use a new "
                    "--trainer.default_root_dir")

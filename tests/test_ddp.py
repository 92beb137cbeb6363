"""The smoke config under DDP with two CPU processes writes one consistent set of outputs.

Each rank samples and verifies its own half of the problems; the rows are gathered so both ranks
train on the same harvest and count accuracies over all problems; only rank 0 writes files.
"""

import json
import os
import subprocess
import sys

from tests.loop_helpers import SMOKE, metrics_rows, solution_rows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DDP = ["--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu"]


def run_ddp(root, *extra):
    cmd = [sys.executable, "main.py", "fit", "--config", SMOKE, f"--trainer.default_root_dir={root}",
           "--trainer.enable_progress_bar=false", *DDP, *extra]
    env = {k: v for k, v in os.environ.items() if k != "EXPERT_ITER_FAULT"}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def test_ddp_two_processes_one_consistent_run_and_resume(tmp_path):
    root = str(tmp_path / "ddp")
    first = run_ddp(root, "--trainer.max_epochs=1")
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_ddp(root, "--trainer.max_epochs=2", "--ckpt_path=last")
    assert second.returncode == 0, second.stderr[-3000:]

    rows = metrics_rows(root)
    assert [r["iteration"] for r in rows] == [0, 1, 2]  # one file, one row per iteration
    with open(os.path.join(root, "train.jsonl")) as f:
        n_train = sum(1 for _ in f)
    for row in rows:
        assert row["val/problems"] == 3 and row["test/problems"] == 3  # all problems, not one rank's half
        assert sum(row["val/statuses"].values()) == 3
        assert sum(row["harvest/statuses"].values()) == n_train * 2  # 2 samples per train problem
    warm = solution_rows(root, 0)
    ids = [r["problem_id"] for r in warm]
    assert len(ids) == len(set(ids)) == 4  # no duplicated solution rows
    # batch_size is per device: 4 examples over 2 ranks with batch 2 -> 1 step per iteration
    assert rows[1]["train/steps"] == 1 and rows[2]["train/steps"] == 1
    assert os.listdir(os.path.join(root, "tensorboard")) == ["run"]
    assert os.listdir(os.path.join(root, "checkpoints")) == ["last.ckpt"]
    with open(os.path.join(root, "solutions", "iter_2.stats.json")) as f:
        assert json.load(f)["harvest/solutions"] == 0

"""kill -9 at five points of an outer iteration; --ckpt_path last then ends exactly where an
uninterrupted run with the same seed ends: same metrics rows (none twice, none lost), same
harvests, same adapter weights.

Kill points are reached deterministically through the test-only EXPERT_ITER_FAULT hook
(callbacks/faults.py). The smoke config samples 3 times per iteration (harvest, then one greedy and
one sampled evaluation call over val and test), so ``sampled:7`` is the harvest of iteration 2.
"""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from tests.loop_helpers import SMOKE, metrics_rows, smoke_variant, solution_rows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KILL_POINTS = [
    "sampled:7",                # (a) during sampling of iteration 2's harvest
    "harvest_stats_written:3",   # (b) while iteration 2's solutions are being written
    "harvest_done:3",            # (c) after the harvest, before the checkpoint
    "checkpoint_written:2",      # (d) during the checkpoint write (temp file, not yet renamed)
    "checkpoint_done:2",         # (e) right after the checkpoint
]


def run_main(root, *extra, fault=None, config=SMOKE):
    env = {k: v for k, v in os.environ.items() if k != "EXPERT_ITER_FAULT"}
    if fault:
        env["EXPERT_ITER_FAULT"] = fault
    cmd = [sys.executable, "main.py", "fit", "--config", config, f"--trainer.default_root_dir={root}",
           "--trainer.enable_progress_bar=false", "--trainer.max_epochs=3", *extra]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def adapter(root):
    return torch.load(os.path.join(root, "checkpoints", "last.ckpt"), weights_only=False)["state_dict"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("straight"))
    done = run_main(root)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


@pytest.mark.parametrize("fault", KILL_POINTS)
def test_kill_then_resume_matches_uninterrupted(fault, straight, tmp_path):
    root = str(tmp_path / "run")
    killed = run_main(root, fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    resumed = run_main(root, "--ckpt_path=last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(straight, root)


def test_kill_during_retries_with_fresh_problems_resumes_the_same(tmp_path):
    """Fresh train problems each iteration and hinted retries: killed in iteration 1's retries."""
    config = smoke_variant(str(tmp_path), retry_failed=True, adaptive_budget=True, sample_budget=24,
                           first_samples=1, max_samples_per_problem=4)
    extra = ("--data.fresh_train=true",)
    straight_root, root = str(tmp_path / "straight"), str(tmp_path / "run")
    assert run_main(straight_root, *extra, config=config).returncode == 0
    killed = run_main(root, *extra, config=config, fault="retry_sampled:2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    resumed = run_main(root, *extra, "--ckpt_path=last", config=config)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(straight_root, root)
    for i in range(4):
        assert open(os.path.join(root, "train", f"iter_{i}.jsonl")).read() == \
            open(os.path.join(straight_root, "train", f"iter_{i}.jsonl")).read()
    rows = metrics_rows(root)
    assert all(r["harvest/retry_attempts"] > 0 and r["harvest/samples_drawn"] == 24 for r in rows), rows
    with open(os.path.join(root, "solutions", "iter_0.stats.json")) as f:
        assert json.load(f)["harvest/retry_attempts"] > 0


def assert_same_run(straight, root):
    a, b = metrics_rows(straight), metrics_rows(root)
    assert [r["iteration"] for r in b] == [0, 1, 2, 3]
    for ra, rb in zip(a, b):
        for key in ("global_step", "val/pass@1", "test/pass@1", "harvest/solutions", "train/steps"):
            assert ra.get(key) == rb.get(key), (key, ra["iteration"])
    for i in range(4):
        assert solution_rows(straight, i) == solution_rows(root, i)
    wa, wb = adapter(straight), adapter(root)
    assert wa.keys() == wb.keys() and all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)
    leftovers = [f for f in os.listdir(os.path.join(root, "checkpoints")) if ".tmp" in f]
    assert not leftovers


def test_sigterm_ends_with_a_clean_checkpoint(straight, tmp_path):
    root = str(tmp_path / "run")
    # SIGTERM while iteration 2's harvest is being sampled: the iteration completes, is
    # checkpointed, and the run stops before training further.
    stopped = run_main(root, fault="sampled:7:term")
    assert stopped.returncode == 143, stopped.stderr[-3000:]
    assert "--ckpt_path last" in stopped.stderr
    ckpt = torch.load(os.path.join(root, "checkpoints", "last.ckpt"), weights_only=False)
    assert ckpt["epoch"] == 1  # epochs 0 and 1 done: iterations 1 and 2 complete
    assert [r["iteration"] for r in metrics_rows(root)] == [0, 1, 2]
    resumed = run_main(root, "--ckpt_path=last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert metrics_rows(root) and [r["iteration"] for r in metrics_rows(root)] == [0, 1, 2, 3]
    for i in range(4):
        assert solution_rows(straight, i) == solution_rows(root, i)


def test_resume_without_checkpoint_but_with_outputs_refuses(straight, tmp_path):
    import shutil

    root = str(tmp_path / "run")
    shutil.copytree(straight, root)
    os.unlink(os.path.join(root, "checkpoints", "last.ckpt"))
    refused = run_main(root, "--ckpt_path=last")
    assert refused.returncode == 2
    assert "--ckpt_path last: there is no checkpoint" in refused.stderr and "nothing to resume" in refused.stderr
    assert [r["iteration"] for r in metrics_rows(root)] == [0, 1, 2, 3]

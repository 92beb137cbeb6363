"""The smoke config end to end through the CLI, and resume with --ckpt_path last.

Two runs share this module: ``straight`` (3 iterations in one go) and ``resumed`` (2 iterations,
then resumed to 3). Everything is checked on them, so the tiny loop runs only three times.
"""

import os

import pytest
import torch
from peft import PeftModel

from models.tiny import load_tiny
from tests.loop_helpers import metrics_rows, run_smoke, solution_rows


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("straight"))
    run_smoke(root, "--trainer.max_epochs=3")
    return root


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("resumed"))
    run_smoke(root, "--trainer.max_epochs=2")
    run_smoke(root, "--trainer.max_epochs=3", "--ckpt_path=last")
    return root


def test_smoke_run_writes_every_file(straight):
    for name in ("config.yaml", "train.jsonl", "val.jsonl", "test.jsonl", "metrics.jsonl", "checkpoints/last.ckpt"):
        assert os.path.isfile(os.path.join(straight, name)), name
    rows = metrics_rows(straight)
    assert [r["iteration"] for r in rows] == [0, 1, 2, 3]
    assert all("val/pass@1" in r and "test/pass@1" in r and "harvest/solve_rate" in r for r in rows)
    assert rows[1]["train/steps"] > 0 and rows[1]["train/loss_mean"] > 0
    warm = solution_rows(straight, 0)
    assert len(warm) == 4 and {r["source"] for r in warm} == {"warm_start_reference"}
    assert sorted(os.listdir(os.path.join(straight, "adapters"))) == ["iter_1", "iter_2", "iter_3"]
    assert os.listdir(os.path.join(straight, "tensorboard")) == ["run"]


def test_checkpoint_holds_adapter_only(straight):
    ckpt = torch.load(os.path.join(straight, "checkpoints", "last.ckpt"), weights_only=False)
    keys = list(ckpt["state_dict"])
    assert keys and all("lora_" in k for k in keys)
    assert ckpt["ExpertIterationDataModule"]["harvest"].keys() == {"0", "1", "2", "3"}
    assert os.path.getsize(os.path.join(straight, "checkpoints", "last.ckpt")) < 2_000_000


def test_saved_adapter_loads_with_plain_peft(straight):
    base, _ = load_tiny(seed=0)
    model = PeftModel.from_pretrained(base, os.path.join(straight, "adapters", "iter_3"))
    ckpt = torch.load(os.path.join(straight, "checkpoints", "last.ckpt"), weights_only=False)
    name = next(k for k in ckpt["state_dict"] if "lora_B" in k)
    loaded = dict(model.named_parameters())[name.removeprefix("model.")]
    assert torch.equal(loaded, ckpt["state_dict"][name])
    assert loaded.abs().sum() > 0  # trained: lora_B starts at zero


def test_resume_matches_uninterrupted_run(straight, resumed):
    a, b = metrics_rows(straight), metrics_rows(resumed)
    assert [r["iteration"] for r in b] == [0, 1, 2, 3]  # no iteration twice, none lost
    for ra, rb in zip(a, b):
        assert ra["global_step"] == rb["global_step"]
        if ra["iteration"] > 0:
            assert ra["train/loss_mean"] == pytest.approx(rb["train/loss_mean"], rel=1e-5)
        assert ra["val/pass@1"] == rb["val/pass@1"]
    for i in range(4):
        assert solution_rows(straight, i) == solution_rows(resumed, i)
    assert os.listdir(os.path.join(resumed, "tensorboard")) == ["run"]
    ta = torch.load(os.path.join(straight, "checkpoints", "last.ckpt"), weights_only=False)["state_dict"]
    tb = torch.load(os.path.join(resumed, "checkpoints", "last.ckpt"), weights_only=False)["state_dict"]
    assert all(torch.allclose(ta[k], tb[k], atol=1e-6) for k in ta)


def test_fresh_run_refuses_folder_with_trained_iterations(resumed):
    with pytest.raises(RuntimeError, match="--ckpt_path last"):
        run_smoke(resumed, "--trainer.max_epochs=4")
    assert [r["iteration"] for r in metrics_rows(resumed)] == [0, 1, 2, 3]  # nothing lost

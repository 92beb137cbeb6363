"""Bad configs are rejected before any model loads, with a message naming the field and range."""

import copy
import math
import os

import pytest
import yaml

from main import cli_main
from tests.loop_helpers import SMOKE

with open(SMOKE) as f:
    BASE = yaml.safe_load(f)


def harvest(cfg):
    return cfg["trainer"]["callbacks"][0]["init_args"]


def evaluation(cfg):
    return cfg["trainer"]["callbacks"][1]["init_args"]


CASES = [
    ("harvest samples < 1", lambda c: harvest(c).update(samples_per_problem=0), "harvest.samples_per_problem"),
    ("temperature < 0", lambda c: harvest(c).update(temperature=-0.5), "harvest.temperature"),
    ("timeout <= 0", lambda c: harvest(c).update(timeout_s=0), "harvest.timeout_s"),
    ("top_p > 1", lambda c: harvest(c).update(top_p=1.5), "harvest.top_p"),
    ("k > num_samples", lambda c: evaluation(c).update(k=[1, 5]), "evaluation.k"),
    ("unknown split", lambda c: evaluation(c).update(splits=["dev"]), "evaluation.splits"),
    ("LoRA rank 0", lambda c: c["model"].update(lora_rank=0), "model.lora_rank"),
    ("target modules absent", lambda c: c["model"].update(target_modules=["query_key_value"]), "model.target_modules"),
    ("learning rate NaN", lambda c: c["model"].update(learning_rate=math.nan), "model.learning_rate"),
    ("learning rate <= 0", lambda c: c["model"].update(learning_rate=0.0), "model.learning_rate"),
    ("dropout 1", lambda c: c["model"].update(lora_dropout=1.0), "model.lora_dropout"),
    ("unknown dtype", lambda c: c["model"].update(dtype="int8"), "model.dtype"),
    ("model name of no kind", lambda c: c["model"].update(model="./no/such/folder"), "no/such/folder"),
    ("unknown family", lambda c: c["data"].update(families=["sudoku"]), "data.families"),
    ("difficulty above 10", lambda c: c["data"].update(difficulty_max=11), "data.difficulty_max"),
    ("difficulty below 1", lambda c: c["data"].update(difficulty_min=0), "data.difficulty_min"),
    ("min above max", lambda c: c["data"].update(difficulty_min=3, difficulty_max=2), "data.difficulty_min"),
    ("empty train split", lambda c: c["data"].update(train_size=0), "data.train_size"),
    ("no evaluation problems", lambda c: c["data"].update(val_size=0, test_size=0), "data.val_size + data.test_size"),
    ("warm start > train", lambda c: c["data"].update(warm_start_problems=99), "data.warm_start_problems"),
    ("harvest window", lambda c: c["data"].update(harvest_window="some"), "data.harvest_window"),
]


@pytest.mark.parametrize("name,mutate,field", CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_rejected_naming_the_field(name, mutate, field, tmp_path, monkeypatch):
    cfg = copy.deepcopy(BASE)
    mutate(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    loaded = []
    monkeypatch.setattr("lightning_modules.policy.load_tiny", lambda *a, **k: loaded.append(1))
    with pytest.raises((ValueError, RuntimeError)) as err:
        cli_main(["fit", "--config", str(path), f"--trainer.default_root_dir={tmp_path / 'run'}"])
    assert field in str(err.value)
    assert not loaded  # rejected before the model loads
    assert not os.path.exists(tmp_path / "run" / "metrics.jsonl")


def test_output_folder_that_is_a_file(tmp_path):
    target = tmp_path / "run"
    target.write_text("not a folder")
    with pytest.raises(ValueError, match="default_root_dir .* is a file"):
        cli_main(["fit", "--config", SMOKE, f"--trainer.default_root_dir={target}"])
    assert target.read_text() == "not a folder"


def test_unreadable_config_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SystemExit, match="nope.yaml"):
        cli_main(["fit", "--config", str(missing)])


def test_config_that_is_not_yaml(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed\n")
    with pytest.raises(SystemExit, match="broken.yaml.*line 2"):
        cli_main(["fit", f"--config={broken}"])

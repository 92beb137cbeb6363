"""Bad configs are refused before any model loads: one message naming the field, exit code 2."""

import math

import pytest

from tests.bad_input_helpers import config_file, evaluation, expect_refusal, harvest
from tests.loop_helpers import SMOKE

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
def test_bad_config_is_rejected_naming_the_field(name, mutate, field, tmp_path, monkeypatch, capsys):
    path = config_file(tmp_path, mutate)
    err = expect_refusal(["--config", path], tmp_path / "run", monkeypatch, capsys, field)
    assert "\nfix: " in err  # and how to repair it
    assert not (tmp_path / "run").exists()


def test_output_folder_that_is_a_file(tmp_path, monkeypatch, capsys):
    target = tmp_path / "run"
    target.write_text("not a folder")
    expect_refusal(["--config", SMOKE], target, monkeypatch, capsys, "default_root_dir", "is a file")
    assert target.read_text() == "not a folder"


def test_unreadable_config_file(tmp_path, monkeypatch, capsys):
    expect_refusal(["--config", str(tmp_path / "nope.yaml")], tmp_path / "run", monkeypatch, capsys, "nope.yaml")


def test_config_that_is_not_yaml(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed\n")
    expect_refusal([f"--config={broken}"], tmp_path / "run", monkeypatch, capsys, "broken.yaml", "line 2")


def test_refusal_is_still_a_value_error_in_process(tmp_path):
    """Callers of cli_main that catch ValueError/RuntimeError keep working; str() is the message."""
    from main import cli_main

    with pytest.raises(ValueError, match="model.lora_rank = 0"):
        cli_main(["fit", "--config", SMOKE, "--model.lora_rank=0", f"--trainer.default_root_dir={tmp_path}"])
    with pytest.raises(RuntimeError, match="model.lora_rank = 0"):
        cli_main(["fit", "--config", SMOKE, "--model.lora_rank=0", f"--trainer.default_root_dir={tmp_path}"])

"""Every shipped config parses and instantiates (no model is loaded)."""

import glob
import os

import pytest

from main import cli_main

CONFIGS = sorted(glob.glob(os.path.join(os.path.dirname(os.path.dirname(__file__)), "configs", "*.yaml")))


def test_there_are_configs():
    names = {os.path.basename(c) for c in CONFIGS}
    assert {"smoke.yaml", "seed_reproduction.yaml", "grokking.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_config_parses_and_instantiates(path, tmp_path):
    with open(path) as f:
        first = f.readline()
    assert first.startswith("# Run:") and "main.py fit --config configs/" in first
    cli = cli_main(["--config", path, f"--trainer.default_root_dir={tmp_path}"], run=False)
    assert cli.model.model is None  # nothing loaded yet
    assert cli.trainer.reload_dataloaders_every_n_epochs == 1


def _parsed(cli) -> dict:
    """The parsed config as a plain dict, without the --config entries themselves."""
    import yaml

    config = yaml.safe_load(cli.parser.dump(cli.config, skip_none=False))
    config.pop("config", None)
    return config


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_included_parts_merge_as_the_composed_dict(path, tmp_path):
    """LightningCLI's merge of the parts (one --config each) equals cli.config_file.composed_config,
    the dict tests and tools use, and every shipped config is composed from parts/."""
    import yaml

    from cli.config_file import INCLUDE, composed_config, read_config_file

    assert read_config_file(path).get(INCLUDE), f"{path} does not include its parts"
    flat = tmp_path / "flat.yaml"
    flat.write_text(yaml.safe_dump(composed_config(path)))
    root = f"--trainer.default_root_dir={tmp_path}"
    assert _parsed(cli_main(["--config", path, root], run=False)) == _parsed(cli_main(["--config", str(flat), root], run=False))


def _write(folder, name, text) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_include_is_relative_to_the_file_nested_and_later_keys_win(tmp_path):
    from cli.config_file import composed_config, expand_includes

    _write(tmp_path, "parts/a.yaml", "model:\n  lora_rank: 4\n  lora_alpha: 8\ntrainer:\n  callbacks: [x, y]\n")
    _write(tmp_path, "parts/b.yaml", "include: a.yaml\nmodel:\n  lora_rank: 6\n")
    top = _write(tmp_path, "exp/top.yaml", "include: [../parts/b.yaml]\nmodel:\n  lora_alpha: 12\ntrainer:\n  callbacks: [z]\n")
    assert composed_config(top) == {"model": {"lora_rank": 6, "lora_alpha": 12}, "trainer": {"callbacks": ["z"]}}
    args = expand_includes(["fit", "--config", top, "--model.lora_rank=2"])
    assert args[0] == "fit" and args[-1] == "--model.lora_rank=2"
    assert len(args) == 8 and args[1:-1:2] == ["--config"] * 3
    assert args[2].endswith(os.path.join("parts", "a.yaml"))
    assert "lora_rank: 6" in args[4] and "include" not in args[4]  # b.yaml's own keys, without its include
    assert "lora_alpha: 12" in args[6] and "include" not in args[6]
    # The processes of a DDP launch start again from this argv: expanding it again changes nothing.
    assert expand_includes(args) == args


def test_a_file_without_include_is_passed_through(tmp_path):
    from cli.config_file import expand_includes

    plain = _write(tmp_path, "plain.yaml", "model:\n  lora_rank: 4\n")
    assert expand_includes(["fit", f"--config={plain}", "-c", plain]) == ["fit", "--config", plain, "--config", plain]


@pytest.mark.parametrize("files, needles", [
    ({"top.yaml": "include: [missing.yaml]\n"}, ["missing.yaml", "cannot be used"]),
    ({"top.yaml": "include: [a.yaml]\n", "a.yaml": "include: [top.yaml]\n"}, ["includes itself", "top.yaml"]),
    ({"top.yaml": "include: {a: 1}\n"}, ["include = {'a': 1} is invalid"]),
    ({"top.yaml": "include: []\n"}, ["include = [] is invalid"]),
    ({"top.yaml": "include: [a.yaml]\n", "a.yaml": "model:\n  lora_rank: 4\n  lora_rank: 8\n"},
     ["a.yaml", "gives the key 'lora_rank' twice"]),
], ids=["missing part", "cycle", "not a list", "empty", "duplicate key in a part"])
def test_bad_include_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys, files, needles):
    from tests.bad_input_helpers import expect_refusal

    for name, text in files.items():
        _write(tmp_path, name, text)
    expect_refusal(["--config", str(tmp_path / "top.yaml")], tmp_path / "run", monkeypatch, capsys, *needles)

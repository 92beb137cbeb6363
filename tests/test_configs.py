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

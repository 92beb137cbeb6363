"""Helpers of the bad-input tests: run the CLI in-process, expect a refusal, compare folders."""

from __future__ import annotations

import copy
import hashlib
import os

import pytest
import yaml

from cli.config_file import composed_config
from main import cli_main  # imported at collection: Lightning's log handler then keeps a stream that stays open
from tests.loop_helpers import QUIET, SMOKE

BASE = composed_config(SMOKE)  # the smoke config with its included parts, as one dict


class ModelLoaded(BaseException):
    """Raised by the patched model loader: a refusal must come before it (BaseException: never caught)."""


def snapshot(folder) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` by relative path ({} if it does not exist)."""
    out = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def forbid_model_loading(monkeypatch) -> None:
    def load(*args, **kwargs):
        raise ModelLoaded("the model started loading")

    monkeypatch.setattr("lightning_modules.policy.load_tiny", load)
    monkeypatch.setattr("models.source.load_pretrained", load)


def expect_refusal(args: list[str], root, monkeypatch, capsys, *needles: str) -> str:
    """Run ``main.py fit ARGS`` in-process: exit code 2, no model loaded, ``root`` byte-identical,
    one ``error:`` message on stderr holding every needle and no traceback. Returns stderr."""
    forbid_model_loading(monkeypatch)
    before = snapshot(root)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        cli_main(["fit", *args, f"--trainer.default_root_dir={root}", *QUIET])
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert snapshot(root) == before
    assert err.count("error:") == 1 and "Traceback" not in err and "usage:" not in err, err
    assert "Does not validate against any of the Union subtypes" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def config_file(folder, mutate) -> str:
    """A copy of the smoke config changed by ``mutate(config)``; returns its path."""
    config = copy.deepcopy(BASE)
    mutate(config)
    path = os.path.join(folder, "config_under_test.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(config, f)
    return path


def harvest(config) -> dict:
    return config["trainer"]["callbacks"][0]["init_args"]


def evaluation(config) -> dict:
    return config["trainer"]["callbacks"][1]["init_args"]

"""Shared helpers of the loop tests: run the smoke config through the CLI, read a run's files."""

from __future__ import annotations

import json
import os

SMOKE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "smoke.yaml")
QUIET = ["--trainer.enable_progress_bar=false"]


def run_smoke(root: str, *extra: str):
    from main import cli_main

    return cli_main(["fit", "--config", SMOKE, f"--trainer.default_root_dir={root}", *QUIET, *extra])


def metrics_rows(root: str) -> list[dict]:
    with open(os.path.join(root, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def solution_rows(root: str, iteration: int) -> list[dict]:
    with open(os.path.join(root, "solutions", f"iter_{iteration}.jsonl")) as f:
        return [json.loads(line) for line in f]


def smoke_variant(folder: str, **harvest_args) -> str:
    """A copy of the smoke config whose HarvestCallback takes ``harvest_args``; returns its path."""
    import yaml

    from cli.config_file import composed_config

    config = composed_config(SMOKE)
    harvest = next(c for c in config["trainer"]["callbacks"] if c["class_path"].endswith("HarvestCallback"))
    harvest["init_args"].update(harvest_args)
    path = os.path.join(folder, "smoke_variant.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(config, f)
    return path

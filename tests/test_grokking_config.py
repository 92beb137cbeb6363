"""The callbacks snippet of docs/GROKKING.md parses and instantiates through LightningCLI."""

import os
import re

import yaml

from callbacks.humaneval_eval import HumanEvalCallback
from callbacks.jump_detector import JumpDetector
from callbacks.plots import PlotCallback
from callbacks.problem_record import ProblemRecord
from cli.config_file import composed_config
from main import cli_main
from tests.loop_helpers import SMOKE

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "GROKKING.md")


def doc_callbacks() -> list[dict]:
    """The YAML block that follows the ``grokking-callbacks`` marker in docs/GROKKING.md."""
    with open(DOC) as f:
        text = f.read()
    match = re.search(r"<!-- grokking-callbacks.*?-->\s*```yaml\n(.*?)```", text, re.S)
    assert match, "docs/GROKKING.md lost its grokking-callbacks YAML block"
    return yaml.safe_load(match.group(1))


def test_doc_snippet_instantiates_with_the_smoke_config(tmp_path):
    config = composed_config(SMOKE)
    config["trainer"]["callbacks"] += doc_callbacks()
    path = tmp_path / "grokking_smoke.yaml"
    path.write_text(yaml.safe_dump(config))
    cli = cli_main(["--config", str(path), f"--trainer.default_root_dir={tmp_path}"], run=False)
    kinds = [type(c) for c in cli.trainer.callbacks]
    for kind in (JumpDetector, ProblemRecord, HumanEvalCallback, PlotCallback):
        assert kinds.count(kind) == 1, kind
    detector = next(c for c in cli.trainer.callbacks if isinstance(c, JumpDetector))
    assert (detector.margin, detector.window, detector.metric) == (0.15, 3, "val/pass@1")

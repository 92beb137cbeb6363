"""Refused before the model loads, by class of bad input: typos, wrapped errors, settings that were
accepted and silently wrong, settings that failed only after loading, absurd sizes, a read-only
folder. Each: one message (no traceback), exit code 2, no model loaded, the folder unchanged."""

import glob
import os
import subprocess
import sys

import pytest
import yaml

from cli import workload
from cli.config_file import composed_config
from tests.bad_input_helpers import (ModelLoaded, config_file, evaluation, expect_refusal, forbid_model_loading,
                                     harvest)
from tests.loop_helpers import QUIET, SMOKE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _drop_class_path_letter(config):
    config["trainer"]["callbacks"][0]["class_path"] = "callbacks.harvest.HarvestCalback"


def _typo_in_data(config):
    config["data"]["trian_size"] = config["data"].pop("train_size")


TYPOS = [  # (name, command line, config change, what the message names)
    ("option on the command line", ["--data.trian_size=3"], None, "--data.trian_size"),
    ("value of the wrong type", ["--data.train_size=abc"], None, "data.train_size"),
    ("key in the config file", [], _typo_in_data, "data.trian_size"),
    ("callback argument", [], lambda c: harvest(c).update(samples_per_prolbem=2), "samples_per_prolbem"),
    ("class path", [], _drop_class_path_letter, "HarvestCalback"),
]


@pytest.mark.parametrize("name,extra,mutate,needle", TYPOS, ids=[t[0] for t in TYPOS])
def test_typo(name, extra, mutate, needle, tmp_path, monkeypatch, capsys):
    path = config_file(tmp_path, mutate or (lambda c: None))
    expect_refusal(["--config", path, *extra], tmp_path / "run", monkeypatch, capsys, needle, "fix: ")


WRAPPED = [  # refused with the right message, once buried under a jsonargparse/Lightning traceback
    ("lora_alpha 0", ["--model.lora_alpha=0"], None, "model.lora_alpha = 0 is invalid"),
    ("family typo", ["--data.families=[arithmetc]"], None, "data.families = ['arithmetc'] is invalid"),
    ("top_p 0 in init_args", [], lambda c: harvest(c).update(top_p=0), "harvest.top_p = 0.0 is invalid"),
]

SILENTLY_WRONG = [  # accepted before, and wrong
    ("evaluation max_new_tokens 0", [], lambda c: evaluation(c).update(max_new_tokens=0, num_samples=0, k=None),
     "evaluation.max_new_tokens = 0"),
    ("families []", ["--data.families=[]"], None, "data.families = [] is invalid"),
]

AFTER_LOADING = [  # refused before, but only once the model had loaded
    ("ood split without ood problems", [], lambda c: evaluation(c).update(splits=["val", "ood"]), "data.ood_size = 0"),
    ("accumulate_grad_batches 0", ["--trainer.accumulate_grad_batches=0"], None,
     "trainer.accumulate_grad_batches = 0"),
    ("reload_dataloaders 2", ["--trainer.reload_dataloaders_every_n_epochs=2"], None,
     "trainer.reload_dataloaders_every_n_epochs = 2"),
]

SIZES = [  # legal, absurd: refused with the bound named and the way to lift it
    ("val_size 50000", ["--data.val_size=50000"], None, "data.val_size = 50,000 is beyond the sanity bound"),
    ("samples_per_problem 20000", [], lambda c: harvest(c).update(samples_per_problem=20000),
     "harvest.samples_per_problem = 20,000 is beyond"),
    ("max_new_tokens 100000", [], lambda c: evaluation(c).update(max_new_tokens=100000),
     "evaluation.max_new_tokens = 100,000 is beyond"),
    ("total sequences", ["--data.val_size=9500", "--data.test_size=9500"], lambda c: evaluation(c).update(
        num_samples=10, k=[1]), "sequences per outer iteration (harvest + evaluation) = 209,012"),
]


@pytest.mark.parametrize("name,extra,mutate,needle", WRAPPED + SILENTLY_WRONG + AFTER_LOADING + SIZES,
                         ids=[t[0] for t in WRAPPED + SILENTLY_WRONG + AFTER_LOADING + SIZES])
def test_refused_before_loading(name, extra, mutate, needle, tmp_path, monkeypatch, capsys):
    path = config_file(tmp_path, mutate or (lambda c: None))
    err = expect_refusal(["--config", path, *extra], tmp_path / "run", monkeypatch, capsys, needle, "fix: ")
    if name in dict((s[0], 1) for s in SIZES):
        assert workload.ALLOW_LARGE_ENV in err and "work per outer iteration" in err


def test_sizes_of_every_shipped_config_are_within_the_bounds(tmp_path):
    from main import cli_main

    for path in sorted(glob.glob(os.path.join(ROOT, "configs", "*.yaml"))):
        cli = cli_main(["--config", path, f"--trainer.default_root_dir={tmp_path}"], run=False)
        callbacks = list(cli.trainer.callbacks)
        work = workload.estimate(callbacks, cli.datamodule)
        workload.check_bounds(callbacks, cli.datamodule, work)
        assert sum(n for _, n, _, _ in work) * 20 < workload.MAX_SEQUENCES, path


def test_allow_large_lifts_the_bounds(tmp_path, monkeypatch, capsys):
    forbid_model_loading(monkeypatch)
    monkeypatch.setenv(workload.ALLOW_LARGE_ENV, "1")
    from main import cli_main

    with pytest.raises(ModelLoaded):  # past every check, to the model
        cli_main(["fit", "--config", config_file(tmp_path, lambda c: harvest(c).update(samples_per_problem=2000)),
                  f"--trainer.default_root_dir={tmp_path / 'run'}", *QUIET])
    assert "harvest 12,000 (6 train problems x 2000 samples" in capsys.readouterr().out


def test_the_estimate_is_printed_before_loading(tmp_path, monkeypatch, capsys):
    forbid_model_loading(monkeypatch)
    from main import cli_main

    with pytest.raises(ModelLoaded):
        cli_main(["fit", "--config", SMOKE, f"--trainer.default_root_dir={tmp_path / 'run'}", *QUIET])
    out = capsys.readouterr().out
    assert "work per outer iteration: 30 sequences to sample: harvest 12 (6 train problems x 2 samples" in out
    assert "evaluation 18 (6 val/test problems x (greedy + 2 samples)" in out


def test_yaml_key_given_twice(tmp_path, monkeypatch, capsys):
    text = yaml.safe_dump(composed_config(SMOKE), sort_keys=False).replace("  lora_rank: 4\n", "  lora_rank: 4\n  lora_rank: 8\n")
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    line = text.splitlines().index("  lora_rank: 8") + 1
    expect_refusal(["--config", str(path)], tmp_path / "run", monkeypatch, capsys,
                   "gives the key 'lora_rank' twice", f"lines {line - 1} and {line}")


def test_read_only_output_folder(tmp_path, monkeypatch, capsys):
    root = tmp_path / "run"
    (root / "solutions").mkdir(parents=True)
    (root / "solutions" / "iter_0.jsonl").write_text("")
    os.chmod(root / "solutions", 0o555)
    if os.geteuid() == 0:  # root writes anywhere: pretend, as a read-only mount would answer
        import cli.run_folder as run_folder

        real = run_folder.writable
        monkeypatch.setattr(run_folder, "writable", lambda p: not p.endswith("solutions") and real(p))
    try:
        expect_refusal(["--config", SMOKE], root, monkeypatch, capsys, "is read-only", "solutions cannot be written")
    finally:
        os.chmod(root / "solutions", 0o755)


def test_traceback_only_when_asked(tmp_path, monkeypatch, capsys):
    from main import cli_main

    monkeypatch.setenv("EXPERT_ITER_TRACEBACK", "1")
    with pytest.raises(SystemExit) as stop:
        cli_main(["fit", "--config", SMOKE, "--model.lora_rank=0", f"--trainer.default_root_dir={tmp_path}"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" in err and "error: model.lora_rank = 0" in err


def test_exit_code_and_stderr_of_the_real_command(tmp_path):
    """The one subprocess: the exit status and the whole stderr, as a shell sees them."""
    done = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "fit", "--config", SMOKE,
                           "--model.lora_alpha=0", f"--trainer.default_root_dir={tmp_path / 'run'}"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if "Seed set" not in line]
    assert lines[0] == "error: model.lora_alpha = 0 is invalid: must be a number > 0"
    assert lines[1].startswith("fix: change model.lora_alpha") and len(lines) == 3, done.stderr
    assert not (tmp_path / "run").exists()


def test_missing_humaneval_data_is_refused_before_loading(tmp_path, monkeypatch, capsys):
    def add_humaneval(config):
        config["trainer"]["callbacks"].insert(2, {"class_path": "callbacks.humaneval_eval.HumanEvalCallback",
                                                  "init_args": {"limit": 2, "max_new_tokens": 8}})

    monkeypatch.setattr("tasks.humaneval.data_path", lambda: str(tmp_path / "HumanEval.jsonl.gz"))
    path = config_file(tmp_path, add_humaneval)
    expect_refusal(["--config", path], tmp_path / "run", monkeypatch, capsys, "HumanEval problems cannot be loaded",
                   "HumanEval.jsonl.gz")


def test_table_starts_on_a_fresh_line_when_it_shares_a_log_with_progress_bars(tmp_path):
    """Progress bars end in a carriage return; a table line must not be glued to the last one."""
    log = tmp_path / "log.txt"
    code = ("import sys, tqdm; bar = tqdm.tqdm(total=2, file=sys.stderr); bar.update(1); "
            "from callbacks.metrics_file import print_lines; print_lines(['iter harvest', '   0   16.7%'])")
    with open(log, "w") as f:
        subprocess.run([sys.executable, "-c", code], stdout=f, stderr=f, cwd=ROOT, timeout=300, check=True)
    lines = log.read_text().split("\n")
    assert "iter harvest" in lines and "   0   16.7%" in lines  # whole lines: no bar glued before them

"""Bad resumes and damaged run folders, on a copy of one trained smoke run (1 outer iteration):
refused before the model loads with the difference or the damage named, the folder unchanged;
a full disk while writing leaves the previous files intact; what TensorBoard gets."""

import errno
import os
import shutil

import pytest
import torch

from tests.bad_input_helpers import (ModelLoaded, cli_main, config_file, evaluation, expect_refusal,
                                     forbid_model_loading, harvest, snapshot)
from tests.loop_helpers import QUIET, metrics_rows

SMALL = {}  # "config": the smoke config at a fraction of its work, which every run here uses


def _shrink(config):
    config["data"].update(train_size=3, val_size=1, test_size=1, warm_start_problems=2)
    harvest(config).update(max_new_tokens=8)
    evaluation(config).update(max_new_tokens=8, num_samples=0, k=None)


def run_small(root, *extra):
    cli_main(["fit", "--config", SMALL["config"], f"--trainer.default_root_dir={root}", *QUIET, *extra])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    SMALL["config"] = config_file(folder, _shrink)
    root = str(folder / "run")
    run_small(root, "--trainer.max_epochs=1")
    return root


@pytest.fixture
def run(trained, tmp_path):
    """A fresh copy of the trained run."""
    root = str(tmp_path / "run")
    shutil.copytree(trained, root)
    return root


def refuse(root, monkeypatch, capsys, *extra_and_needles):
    extra = [a for a in extra_and_needles if a.startswith("--")]
    needles = [a for a in extra_and_needles if not a.startswith("--")]
    return expect_refusal(["--config", SMALL["config"], *extra], root, monkeypatch, capsys, *needles)


CHANGED = [
    ("lora rank", ["--model.lora_rank=8"], ["model.lora_rank: checkpoint 4, config 8"]),
    ("target modules", ["--model.target_modules=[q_proj,v_proj]"], ["model.target_modules: checkpoint"]),
    ("rank and alpha", ["--model.lora_rank=8", "--model.lora_alpha=16"], ["model.lora_rank", "model.lora_alpha"]),
    ("data", ["--data.train_size=7", "--data.families=[rpn]"], ["data.train_size: checkpoint 3, config 7",
                                                                 "data.families: checkpoint"]),
]


@pytest.mark.parametrize("name,extra,needles", CHANGED, ids=[c[0] for c in CHANGED])
def test_resume_with_other_settings_names_every_difference(name, extra, needles, run, monkeypatch, capsys):
    refuse(run, monkeypatch, capsys, "--ckpt_path=last", *extra, *needles, "config.yaml")


def test_old_checkpoint_without_newer_settings_is_compared_on_what_it_holds(run, monkeypatch, capsys):
    """An old run folder: its checkpoint predates some settings; only those it holds are compared."""
    path = os.path.join(run, "checkpoints", "last.ckpt")
    checkpoint = torch.load(path, weights_only=True)
    del checkpoint["hyper_parameters"]["system_prompt"], checkpoint["datamodule_hyper_parameters"]["fresh_train"]
    torch.save(checkpoint, path)
    err = refuse(run, monkeypatch, capsys, "--ckpt_path=last", "--model.lora_rank=8", "--model.system_prompt=Hi",
                 "--data.fresh_train=true", "model.lora_rank: checkpoint 4, config 8")
    assert "system_prompt" not in err and "fresh_train" not in err


def _truncated(root):
    path = os.path.join(root, "checkpoints", "last.ckpt")
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    return path


def _text_file(root):
    path = os.path.join(os.path.dirname(root), "notes.ckpt")
    open(path, "w").write("not a checkpoint\n")
    return path


def _list_in_torch_file(root):
    path = os.path.join(os.path.dirname(root), "list.ckpt")
    torch.save([1, 2, 3], path)
    return path


CHECKPOINTS = [
    ("missing", lambda root: os.path.join(root, "nope.ckpt"), "does not exist"),
    ("a folder", lambda root: os.path.join(root, "checkpoints"), "is a folder, not a checkpoint file"),
    ("truncated last.ckpt", _truncated, "cannot be read: it is truncated or not a checkpoint"),
    ("text file", _text_file, "cannot be read: it is truncated or not a checkpoint"),
    ("not a Lightning checkpoint", _list_in_torch_file, "is not a Lightning checkpoint"),
]


@pytest.mark.parametrize("name,make,needle", CHECKPOINTS, ids=[c[0] for c in CHECKPOINTS])
def test_bad_ckpt_path_is_named_before_loading(name, make, needle, run, monkeypatch, capsys):
    path = make(run)
    ckpt = "last" if name == "truncated last.ckpt" else path
    refuse(run, monkeypatch, capsys, f"--ckpt_path={ckpt}", needle, os.path.basename(path))


def test_last_without_a_checkpoint_is_refused(run, tmp_path, monkeypatch, capsys):
    shutil.rmtree(os.path.join(run, "checkpoints"))  # trained iterations, but no checkpoint
    refuse(run, monkeypatch, capsys, "--ckpt_path=last", "no checkpoint in", "leaving out --ckpt_path")
    os.makedirs(tmp_path / "empty")  # a typo in --trainer.default_root_dir, say
    refuse(str(tmp_path / "empty"), monkeypatch, capsys, "--ckpt_path=last", "nothing to resume")


def test_last_before_the_first_checkpoint_starts_over_with_a_note(run, monkeypatch, capsys):
    """A run killed during its first iteration has no checkpoint yet: it starts again, and says so."""
    shutil.rmtree(os.path.join(run, "checkpoints"))
    for name in ("solutions/iter_1.jsonl", "solutions/iter_1.stats.json"):
        os.remove(os.path.join(run, name))
    rows = open(os.path.join(run, "metrics.jsonl")).readlines()
    open(os.path.join(run, "metrics.jsonl"), "w").write(rows[0])
    forbid_model_loading(monkeypatch)
    with pytest.raises(ModelLoaded):
        run_small(run, "--ckpt_path=last")
    assert "note: --ckpt_path last: no checkpoint yet" in capsys.readouterr().err


def _garble(relative, line_number, text="{garbled"):
    def damage(root):
        path = os.path.join(root, relative)
        lines = open(path).read().splitlines(keepends=True)
        lines[line_number - 1] = text + "\n"
        open(path, "w").write("".join(lines))
    return damage


DAMAGE = [
    ("solutions middle line", _garble("solutions/iter_0.jsonl", 2), "solutions/iter_0.jsonl:2"),
    ("solutions row without code", _garble("solutions/iter_0.jsonl", 1, '{"problem_id": "x"}'),
     "solutions/iter_0.jsonl:1"),
    ("metrics first line", _garble("metrics.jsonl", 1), "metrics.jsonl:1"),
    ("train split", _garble("train.jsonl", 3), "train.jsonl:3"),
    ("val split wrong fields", _garble("val.jsonl", 1, '{"id": 1}'), "val.jsonl:1"),
    ("stats", _garble("solutions/iter_0.stats.json", 1), "iter_0.stats.json"),
]


@pytest.mark.parametrize("resume", [True, False], ids=["resume", "fresh restart"])
@pytest.mark.parametrize("name,damage,needle", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damaged_run_files_are_named_by_file_and_line(name, damage, needle, resume, run, monkeypatch, capsys):
    damage(run)
    refuse(run, monkeypatch, capsys, *(["--ckpt_path=last"] if resume else []), "the run folder is damaged", needle)


def test_fresh_run_over_trained_iterations_is_refused_before_loading(run, monkeypatch, capsys):
    refuse(run, monkeypatch, capsys, "already holds a run with trained iterations", "resume it with --ckpt_path last")


def test_fresh_run_with_other_data_settings_is_refused(tmp_path, trained, monkeypatch, capsys):
    root = tmp_path / "splits_only"
    root.mkdir()
    for name in ("train.jsonl", "val.jsonl", "test.jsonl"):
        shutil.copy(os.path.join(trained, name), root / name)
    refuse(str(root), monkeypatch, capsys, "--data.seed=1", "train.jsonl holds other problems", "data.*")


def test_truncated_last_line_is_dropped_with_a_warning_and_the_run_goes_on(run):
    """A torn last metrics row: dropped with a warning, and rewritten away before the next row is
    appended (else the new row would be glued to the torn one: damage in the middle)."""
    with open(os.path.join(run, "metrics.jsonl"), "a") as f:
        f.write('{"iteration": 2, "val/pa')
    with pytest.warns(UserWarning, match="metrics.jsonl:3: dropped a truncated last line"):
        run_small(run, "--trainer.max_epochs=2", "--ckpt_path=last")
    assert [r["iteration"] for r in metrics_rows(run)] == [0, 1, 2]


def resume(root):
    run_small(root, "--trainer.max_epochs=2", "--ckpt_path=last")


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_while_writing_the_checkpoint_keeps_the_previous_one(run, monkeypatch, capsys):
    before = snapshot(os.path.join(run, "checkpoints"))

    def save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a checkpoint")
        _enospc()

    monkeypatch.setattr("callbacks.checkpoint_io.torch.save", save)
    with pytest.raises(SystemExit) as stop:
        resume(run)
    err = capsys.readouterr().err
    assert stop.value.code == 1 and "Traceback" not in err
    assert "No space left on device" in err and "--ckpt_path last" in err and run in err
    assert snapshot(os.path.join(run, "checkpoints")) == before  # no temp file left, last.ckpt intact


def test_full_disk_while_writing_a_harvest_keeps_the_previous_files(run, monkeypatch, capsys):
    kept = {k: v for k, v in snapshot(run).items() if k.startswith(("solutions", "checkpoints", "metrics"))}
    real_fsync = os.fsync

    def fsync(fd):
        if "/solutions/" in os.readlink(f"/proc/self/fd/{fd}"):
            _enospc()
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(SystemExit) as stop:
        resume(run)
    monkeypatch.setattr(os, "fsync", real_fsync)
    err = capsys.readouterr().err
    assert stop.value.code == 1 and "No space left on device" in err and "intact" in err
    after = snapshot(run)
    assert all(after.get(k) == v for k, v in kept.items())
    assert not [k for k in after if k.startswith("solutions") and k not in kept]  # nothing half-written


def test_tensorboard_per_iteration_scalars_no_hp_metric_and_replies_shown(trained):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(os.path.join(trained, "tensorboard", "run"), size_guidance={"tensors": 0})
    events.Reload()
    scalars = events.Tags()["scalars"]
    assert "iteration/val/pass@1" in scalars and "hp_metric" not in scalars
    assert [e.step for e in events.Scalars("iteration/val/pass@1")] == [0, 1]
    texts = [t for t in events.Tags()["tensors"] if t.startswith("val/samples_text")]
    body = events.Tensors(texts[0])[0].tensor_proto.string_val[0].decode()
    assert "(no code extracted)" in body  # the tiny random model writes no code block: its reply is shown

"""Pure parts of the grokking tools: jump rule, plots from rows, first-solved bookkeeping, state."""

import doctest
import importlib
import json
import os
from types import SimpleNamespace

import pytest
import torch

from callbacks import iteration_record
from callbacks.evaluation import EvaluationCallback
from callbacks.jump_detector import JumpDetector, detect_jump
from callbacks.metrics_file import MetricsCallback
from callbacks.order import check_callback_order
from reporting.plots import families, main as plots_main, plot_metrics, points
from callbacks.problem_record import ProblemRecord, update_record

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["callbacks.jump_detector", "reporting.plots", "callbacks.problem_record",
                                  "callbacks.humaneval_eval", "verify.humaneval"])
def test_doctests(name):
    assert doctest.testmod(importlib.import_module(name)).failed == 0


@pytest.mark.parametrize("history, value, margin, window, expected", [
    ([0.2, 0.2, 0.2], 0.35, 0.15, 3, True),      # exactly the margin counts
    ([0.2, 0.2, 0.2], 0.34, 0.15, 3, False),
    ([0.2, 0.5, 0.2], 0.6, 0.15, 3, False),      # measured against the plateau's maximum
    ([0.9, 0.2, 0.2], 0.4, 0.15, 2, True),       # values older than the window do not count
    ([0.2], 0.9, 0.15, 3, False),                # no plateau yet
    ([], 0.9, 0.15, 1, False),
    ([0.5, 0.5, 0.5], 0.2, 0.15, 3, False),      # a drop is not a jump
])
def test_detect_jump(history, value, margin, window, expected):
    assert detect_jump(history, value, margin, window) is expected


def test_jump_detector_rejects_bad_arguments():
    with pytest.raises(ValueError, match="margin"):
        JumpDetector(margin=0)
    with pytest.raises(ValueError, match="plateau_window"):
        JumpDetector(plateau_window=0)


def _rows():
    rows = []
    for i in range(6):
        row = {"iteration": i, "global_step": 5 * i, "harvest/solve_rate": 0.1 * i, "val/pass@1": 0.2 + 0.1 * (i > 3),
               "val/pass@1/rpn": 0.25, "val/pass@1/caesar": None if i == 2 else 0.5, "val/pass@1/d3": 0.1,
               "grok/jump": int(i == 4)}
        if i != 1:
            row["test/pass@1"] = 0.3  # a missing value leaves a gap
        rows.append(row)
    return rows


@pytest.mark.parametrize("rows", [_rows(), _rows()[:1], [], [{"iteration": 0, "global_step": 0}]],
                         ids=["six", "single", "empty", "no-accuracies"])
def test_plot_metrics_writes_png_files(rows, tmp_path):
    paths = plot_metrics(rows, str(tmp_path / "plots"))
    assert [os.path.basename(p) for p in paths] == ["accuracy.png", "families.png", "intervals.png"]
    for path in paths:
        with open(path, "rb") as f:
            assert f.read(8) == PNG
        assert os.path.getsize(path) > 5000
    assert sorted(os.listdir(tmp_path / "plots")) == ["accuracy.png", "families.png", "intervals.png"]  # no temps


def test_points_and_families_skip_missing_values():
    rows = _rows()
    assert points(rows, "iteration", "test/pass@1")[0] == [0, 2, 3, 4, 5]
    assert points(rows, "iteration", "val/pass@1/caesar")[0] == [0, 1, 3, 4, 5]
    assert families(rows) == ["caesar", "rpn"]


def test_plots_cli_redraws_a_run_folder(tmp_path, capsys):
    with open(tmp_path / "metrics.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in _rows())
    plots_main([str(tmp_path)])
    assert capsys.readouterr().out.split() == [str(tmp_path / "plots" / "accuracy.png"),
                                               str(tmp_path / "plots" / "families.png"),
                                               str(tmp_path / "plots" / "intervals.png")]
    with pytest.raises(FileNotFoundError, match="metrics.jsonl"):
        plots_main([str(tmp_path / "nothing")])


def test_first_solved_bookkeeping():
    record = {}
    table = [{"problem_id": p, "family": "rpn", "difficulty": 1, "solved": 0.0} for p in "abc"]
    assert update_record(record, table, 0) == {"first_solved_this_iter": 0, "never_solved": 3, "forgotten": 0}
    table[0]["solved"] = table[1]["solved"] = 1.0
    assert update_record(record, table, 1) == {"first_solved_this_iter": 2, "never_solved": 1, "forgotten": 0}
    table[0]["solved"] = 0.0
    assert update_record(record, table, 2) == {"first_solved_this_iter": 0, "never_solved": 1, "forgotten": 1}
    table[0]["solved"] = 1.0
    assert update_record(record, table, 3) == {"first_solved_this_iter": 0, "never_solved": 1, "forgotten": 0}
    assert {p: (e["first_solved"], e["solved_now"]) for p, e in record.items()} == {
        "a": (1, True), "b": (1, True), "c": (None, False)}


def test_readers_of_evaluation_must_be_listed_after_it():
    evaluation, record, detector = EvaluationCallback(progress=False), ProblemRecord(), JumpDetector()
    with pytest.raises(ValueError, match=r"ProblemRecord \(#1\) must be listed after EvaluationCallback \(#2\)"):
        check_callback_order([record, evaluation])
    check_callback_order([evaluation, detector, record])


def test_row_feeders_before_metrics_and_file_readers_after():
    from callbacks.curriculum import CurriculumCallback
    from callbacks.harvest import HarvestCallback
    from callbacks.plots import PlotCallback

    metrics, plots, evaluation = MetricsCallback(), PlotCallback(), EvaluationCallback(progress=False)
    with pytest.raises(ValueError, match=r"EvaluationCallback \(#2\) must be listed before MetricsCallback"):
        check_callback_order([metrics, evaluation])
    with pytest.raises(ValueError, match=r"PlotCallback \(#1\) must be listed after MetricsCallback"):
        check_callback_order([plots, metrics])
    with pytest.raises(ValueError, match="CurriculumCallback needs HarvestCallback"):
        check_callback_order([CurriculumCallback(), metrics])
    check_callback_order([HarvestCallback(progress=False), CurriculumCallback(), evaluation, metrics, plots])


def _fake(callbacks, row):
    trainer = SimpleNamespace(callbacks=callbacks, is_global_zero=True, current_epoch=0, default_root_dir="/nonexistent")
    iteration_record.add(trainer, row)
    model = torch.nn.Linear(2, 2)
    return trainer, SimpleNamespace(model=model)


def test_jump_detector_state_round_trip_continues_where_it_stopped():
    detector = JumpDetector(margin=0.2, plateau_window=2)
    detector.load_state_dict({"history": [[0, 0.1], [1, 0.1], [2, 0.15]], "jumps": [], "last_iteration": 2})
    restored = JumpDetector(margin=0.2, plateau_window=2)
    restored.load_state_dict(json.loads(json.dumps(detector.state_dict())))  # plain data in the checkpoint
    assert restored.state_dict() == detector.state_dict()
    trainer, module = _fake([restored], {})  # resumed: no evaluation at fit start
    restored.on_fit_start(trainer, module)
    assert iteration_record.take(trainer) == {} and restored.last_iteration == 2
    trainer.current_epoch = 2  # iteration 3: plateau = max(0.1, 0.15), and 0.2 - 0.15 < margin
    iteration_record.add(trainer, {"iteration": 3, "val/pass@1": 0.2, "harvest/solve_rate": 0.5})
    restored.on_train_epoch_end(trainer, module)
    row = iteration_record.take(trainer)
    assert row["grok/jump"] == 0 and row["grok/plateau"] == 0.15
    assert row["grok/train_val_gap"] == pytest.approx(0.3) and row["grok/adapter_norm"] > 0
    assert restored.state_dict()["history"][-1] == [3, 0.2] and restored.last_iteration == 3


def test_problem_record_state_round_trip():
    record = ProblemRecord()
    table = [{"problem_id": "a", "family": "rpn", "difficulty": 1, "solved": 1.0}]
    update_record(record.records.setdefault("val", {}), table, 4)
    record.last_iteration = 4
    restored = ProblemRecord()
    restored.load_state_dict(json.loads(json.dumps(record.state_dict())))
    assert restored.records == record.records and restored.last_iteration == 4
    trainer, module = _fake([EvaluationCallback(progress=False), restored], {})
    restored.on_fit_start(trainer, module)  # resumed: nothing recorded twice
    assert restored.records["val"]["a"]["first_solved"] == 4 and iteration_record.take(trainer) == {}

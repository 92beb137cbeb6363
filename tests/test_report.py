"""Markdown tables of a run's metrics."""

import pytest

from reporting.report import breakdown_table, main, overall_table, report
from storage.atomic import append_row, write_rows_atomic

ROWS = [
    {"iteration": 0, "harvest/sample_accuracy": 0.25, "harvest/solve_rate": 0.5, "harvest/solutions": 3,
     "harvest/sample_accuracy/rpn": 0.5, "harvest/sample_accuracy/caesar": 0.0, "harvest/sample_accuracy/d1": 0.25,
     "val/pass@1": 0.2, "val/solved": 1, "val/problems": 5, "val/pass@1/rpn": 1.0, "val/pass@1/d2": 0.2,
     "test/pass@1": 0.0, "test/solved": 0, "test/problems": 5, "time/harvest_s": 12.4, "time/eval_s": 3.0},
    {"iteration": 1, "harvest/sample_accuracy": 0.5, "harvest/solve_rate": 0.75, "harvest/solutions": 4,
     "harvest/sample_accuracy/rpn": 1.0, "harvest/sample_accuracy/caesar": 0.25, "harvest/sample_accuracy/d1": 0.5,
     "val/pass@1": 0.4, "val/solved": 2, "val/problems": 5, "val/pass@1/rpn": 0.5, "val/pass@1/d2": 0.4,
     "test/pass@1": 0.2, "test/solved": 1, "test/problems": 5, "train/examples": 3, "train/loss_mean": 0.51234,
     "time/harvest_s": 10.0, "time/train_s": 5.5, "time/eval_s": 2.9},
]


def test_overall_table_has_one_line_per_iteration_with_counts():
    lines = overall_table(ROWS).splitlines()
    assert len(lines) == 4 and lines[0].count("|") == lines[1].count("|") == lines[2].count("|")
    assert lines[2].startswith("| 0 | 25.0% | 50.0% | 20.0% (1/5) | - | 0.0% (0/5) | - | 3 | - | - | 12 | - | 3 |")
    assert "| 0.512 |" in lines[3] and "| 6 |" in lines[3]  # loss, train seconds (5.5 rounds to 6)


def test_breakdowns_split_families_from_difficulties():
    fam = breakdown_table(ROWS, "harvest/sample_accuracy/", "family").splitlines()
    assert fam[0] == "| family | it 0 | it 1 |"
    assert fam[2:] == ["| caesar | 0.0% | 25.0% |", "| rpn | 50.0% | 100.0% |"]
    diff = breakdown_table(ROWS, "val/pass@1/", "difficulty").splitlines()
    assert diff[2:] == ["| d2 | 20.0% | 40.0% |"]


def test_report_and_command_line(tmp_path, capsys):
    text = report(ROWS)
    assert "### Train (harvest sample accuracy) by family" in text and "### Test pass@1 by family" not in text
    for row in ROWS:
        append_row(tmp_path / "metrics.jsonl", row)
    assert main([str(tmp_path)]) == text and capsys.readouterr().out == text


def test_intervals_appear_beside_greedy_and_sampled_pass_at_1():
    row = dict(ROWS[0], **{"val/pass@1_low": 0.036, "val/pass@1_high": 0.624, "val/pass@1_sampled": 0.3,
                           "val/pass@1_sampled_low": 0.1, "val/pass@1_sampled_high": 0.5})
    lines = overall_table([row]).splitlines()
    assert "val pass@1 [95% CI] | val pass@1 sampled [95% CI]" in lines[0]
    assert "| 20.0% (1/5) [3.6, 62.4] | 30.0% [10.0, 50.0] | 0.0% (0/5) | - |" in lines[2]


def _sample(family, difficulty, cause, **extra):
    return {"problem_id": f"{family}-d{difficulty}", "family": family, "difficulty": difficulty,
            "passed": cause == "pass", "cause": cause, "reply": f"reply for {cause}", **extra}


HARVEST = [_sample("rpn", 1, "pass"), _sample("rpn", 1, "wrong_type", failing_test={
               "index": 0, "args": ["1 2 +"], "expected": 3, "got": "3"}),
           _sample("rpn", 2, "wrong_type"), _sample("caesar", 1, "unclosed_block", reply="```python\ndef f(")]
EVAL = [_sample("rpn", 1, "pass", split="val", mode="greedy"),
        _sample("rpn", 1, "timeout", split="val", mode="sampled", detail="deadline of 5 s exceeded")]


def _run_with_samples(root):
    for row in ROWS:
        append_row(root / "metrics.jsonl", row)
    write_rows_atomic(root / "samples" / "iter_0.harvest.jsonl", [dict(r, iteration=0) for r in HARVEST])
    write_rows_atomic(root / "samples" / "iter_1.eval.jsonl", [dict(r, iteration=1) for r in EVAL])


def test_failures_table_and_examples(tmp_path, capsys):
    _run_with_samples(tmp_path)
    text = main([str(tmp_path), "--failures", "--iteration", "0"])
    assert capsys.readouterr().out == text
    assert "### Iteration 0, harvest: failure causes (4 samples)" in text and "Iteration 1" not in text
    assert "| family | difficulty | pass | wrong_type | unclosed_block |" in text  # pass, then by count
    assert "| rpn | d1 | 1 | 1 | 0 |" in text and "| caesar | d1 | 0 | 0 | 1 |" in text
    assert "| all | | 1 | 2 | 1 |" in text
    assert ('**wrong_type**: `rpn-d1` (rpn, d1)\n\n```text\nreply for wrong_type\n```\n\n'
            'first failing test (#0): args `["1 2 +"]`, expected `3`, got `"3"`') in text
    assert "````text\n```python\ndef f(\n````" in text  # a fence longer than the reply's own


def test_failures_of_every_iteration_and_one_phase(tmp_path):
    _run_with_samples(tmp_path)
    text = main([str(tmp_path), "--failures"])
    assert text.index("Iteration 0, harvest") < text.index("Iteration 1, eval val (greedy)") \
        < text.index("Iteration 1, eval val (sampled)")
    assert "detail: `deadline of 5 s exceeded`" in text
    assert "harvest" not in main([str(tmp_path), "--failures", "--phase", "eval"])
    assert main([str(tmp_path)]) == report(ROWS)  # without --failures: the metrics tables


def test_failures_without_samples_folder_is_a_clear_error(tmp_path, capsys):
    for row in ROWS:
        append_row(tmp_path / "metrics.jsonl", row)
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path), "--failures"])
    assert stop.value.code == 2 and "samples does not exist" in capsys.readouterr().err
    _run_with_samples(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path), "--failures", "--iteration", "7"])
    assert stop.value.code == 2 and "no samples file for iteration=7" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path), "--iteration", "0"])
    assert stop.value.code == 2

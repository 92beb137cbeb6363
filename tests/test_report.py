"""Markdown tables of a run's metrics."""

from callbacks.report import breakdown_table, main, overall_table, report
from tasks.jsonl import append_row

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
    assert lines[2].startswith("| 0 | 25.0% | 50.0% | 20.0% (1/5) | 0.0% (0/5) | 3 | - | - | 12 | - | 3 |")
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

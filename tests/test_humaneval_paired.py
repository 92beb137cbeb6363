"""HumanEval checkpoints paired with the base model: lost, gained, the sign test, the report flag."""

import json
import os

import pytest

from reporting.humaneval_paired import paired_rows, sign_test_p
from reporting.report import main as report_main


def _write(run_dir, iteration, verdicts):
    folder = os.path.join(run_dir, "humaneval")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"iter_{iteration}.jsonl"), "w") as f:
        for task, (passed, status) in verdicts.items():
            f.write(json.dumps({"task_id": task, "passed": passed, "status": status}) + "\n")


def test_sign_test_matches_the_binomial_tail():
    # 2 * P(X <= 1) for X ~ Bin(6, 1/2) = 2 * 7/64
    assert sign_test_p(1, 5) == pytest.approx(14 / 64)
    assert sign_test_p(5, 1) == sign_test_p(1, 5)
    assert sign_test_p(3, 3) == 1.0


def test_pairs_each_checkpoint_with_the_first(tmp_path):
    run = str(tmp_path)
    _write(run, 0, {"a": (True, "pass"), "b": (True, "pass"), "c": (False, "wrong_answer"), "d": (True, "pass")})
    _write(run, 10, {"a": (False, "syntax_error"), "b": (False, "wrong_answer"), "c": (True, "pass"), "d": (True, "pass")})
    _write(run, 5, {"a": (True, "pass"), "b": (True, "pass"), "c": (False, "wrong_answer"), "d": (False, "timeout")})
    from reporting.humaneval_paired import load_verdicts

    rows = paired_rows(load_verdicts(run))
    assert [r["iteration"] for r in rows] == [0, 5, 10]  # numeric order, not file order
    last = rows[-1]
    assert (last["passed"], last["lost"], last["gained"]) == (2, 2, 1)
    assert last["lost_as"] == {"syntax_error": 1, "wrong_answer": 1}
    assert last["p"] == pytest.approx(sign_test_p(2, 1))
    assert (rows[1]["lost"], rows[1]["gained"], rows[1]["lost_as"]) == (1, 0, {"timeout": 1})

    text = report_main([run, "--humaneval"])
    assert "| 10 | 2/4 | 50.0% | 2 / 1 |" in text


def test_report_flag_refuses_a_run_without_humaneval(tmp_path):
    with pytest.raises(SystemExit, match="no iter_N.jsonl"):
        report_main([str(tmp_path), "--humaneval"])


def test_doctests():
    import doctest

    import reporting.humaneval_paired as module

    assert doctest.testmod(module).failed == 0

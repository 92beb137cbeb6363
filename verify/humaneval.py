"""HumanEval through the sandbox: one greedy reply per problem, its verdict, pass@1 (no Lightning)."""

from __future__ import annotations

from typing import Callable

from tasks.humaneval import HumanEvalProblem, build_prompt, load_problems
from verify.verification import status_counts, verify_replies


def humaneval_rows(sample_fn: Callable, problems: list[HumanEvalProblem], max_new_tokens: int = 512,
                   batch_size: int = 16, timeout_s: float | None = 10.0, seed: int = 0,
                   progress: Callable[[int], None] | None = None) -> list[dict]:
    """One greedy reply per problem, checked in the sandbox's assertion mode.

    ``sample_fn(prompts, n=1, temperature=0.0, top_p=1.0, max_new_tokens=..., batch_size=...,
    seed=...)`` returns one list of replies per prompt (``PolicyModule.sample`` does). The rows
    are :func:`verify.verification.verify_replies`'s: ``task_id``, ``status`` (a sandbox status,
    or ``no_code``), ``passed``, ``code``, ``detail``, the ``reply``.
    """
    if not problems:
        return []
    kwargs = dict(n=1, temperature=0.0, top_p=1.0, max_new_tokens=max_new_tokens, batch_size=batch_size, seed=seed)
    if progress is not None:
        kwargs["progress"] = progress
    replies = sample_fn([build_prompt(p) for p in problems], **kwargs)
    return verify_replies(problems, [r[:1] for r in replies], timeout_s=timeout_s)


def summarize(rows: list[dict]) -> dict:
    """pass@1, counts and verdict statuses of HumanEval rows.

    >>> summarize([{"passed": True, "status": "pass"}, {"passed": False, "status": "no_code"}])["pass@1"]
    0.5
    """
    passed = sum(bool(r["passed"]) for r in rows)
    return {"pass@1": passed / len(rows) if rows else 0.0, "passed": passed, "total": len(rows),
            "statuses": status_counts(rows)}


def evaluate_humaneval(sample_fn: Callable, problems: list[HumanEvalProblem] | None = None, limit: int | None = None,
                       max_new_tokens: int = 512, batch_size: int = 16, timeout_s: float | None = 10.0,
                       seed: int = 0, progress: Callable[[int], None] | None = None) -> dict:
    """Greedy HumanEval pass@1 of ``sample_fn`` (see ``humaneval_rows``), for scripts.

    ``problems`` defaults to the installed package's problems (the first ``limit``). Returns
    ``{"pass@1", "passed", "total", "statuses", "per_problem": rows}``.
    """
    problems = problems if problems is not None else load_problems(limit)
    rows = humaneval_rows(sample_fn, problems, max_new_tokens, batch_size, timeout_s, seed, progress)
    return dict(summarize(rows), per_problem=rows)

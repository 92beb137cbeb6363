"""How a harvest spends its samples: the adaptive budget and the hinted retry. Pure functions.

Expert iteration learns only from problems the policy solves sometimes. Uniform k samples per
problem spends as much on a problem solved 4 of 4 times as on one never solved. The adaptive plan
draws a few samples for every problem, then more, a few at a time, only for problems with no
correct sample yet, up to a cap, until the budget is spent. A hinted retry (STaR's
rationalization, for code) asks once more for a problem whose samples all failed, showing the
failing attempt and the hidden test it failed (never the reference solution); a retry that passes
every hidden test is trained on the original, hint-free prompt.
"""

from __future__ import annotations

from tasks.families._common import call_text

HINT_CODE_CHARS = 1500


def counts(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """Per problem id: (samples drawn, samples correct).

    >>> counts([{"problem_id": "a", "passed": True}, {"problem_id": "a", "passed": False}])
    {'a': (2, 1)}
    """
    out: dict[str, tuple[int, int]] = {}
    for row in rows:
        n, c = out.get(row["problem_id"], (0, 0))
        out[row["problem_id"]] = (n + 1, c + int(bool(row["passed"])))
    return out


def next_round(problem_ids: list[str], drawn: dict[str, tuple[int, int]], step: int, cap: int,
               budget_left: int) -> list[str]:
    """The problems that get ``step`` more samples: unsolved, under ``cap``, least-sampled first,
    as many as ``budget_left`` pays for (input order breaks ties, so the plan is deterministic).

    >>> next_round(["a", "b", "c"], {"a": (2, 1), "b": (2, 0), "c": (4, 0)}, 2, 8, 4)
    ['b', 'c']
    >>> next_round(["a", "b"], {"a": (2, 0), "b": (8, 0)}, 2, 8, 1)
    []
    """
    open_ = [pid for pid in problem_ids if drawn.get(pid, (0, 0))[1] == 0 and drawn.get(pid, (0, 0))[0] < cap]
    open_.sort(key=lambda pid: drawn.get(pid, (0, 0))[0])  # stable: ties keep input order
    return open_[: max(0, budget_left // step)]


def renumber(rows: list[dict], drawn: dict[str, tuple[int, int]]) -> list[dict]:
    """A later round's rows with sample indices continuing after those already drawn."""
    return [dict(r, sample=r["sample"] + drawn.get(r["problem_id"], (0, 0))[0]) for r in rows]


def hint_prompt(problem, rows: list[dict]) -> str | None:
    """The retry prompt for a problem whose samples all failed, from its most telling failure:
    one with a failing hidden test if any, else one with code, else the first reply (which had no
    code block). None without any sample.

    >>> from types import SimpleNamespace as P
    >>> p = P(prompt="Write f.", entry_point="f")
    >>> row = {"code": "def f(x):\\n    return x", "cause": "wrong_answer:edge",
    ...        "failing_test": {"args": [2], "expected": 4, "got": 2}}
    >>> print(hint_prompt(p, [row]).split("\\n\\n", 1)[1])
    Your previous attempt:
    ```python
    def f(x):
        return x
    ```
    It fails this hidden test: `f(2)` must return 4, but it returned 2.
    <BLANKLINE>
    Reply with only the corrected function `f` in a single ```python code block.
    >>> "no ```python code block" in hint_prompt(p, [{"code": "", "cause": "no_code", "reply": "Sure!"}])
    True
    """
    if not rows:
        return None
    with_code = [r for r in rows if r.get("code")]
    row = next((r for r in with_code if r.get("failing_test")), with_code[0] if with_code else rows[0])
    if row.get("code"):
        attempt = f"Your previous attempt:\n```python\n{row['code'][:HINT_CODE_CHARS]}\n```"
    else:
        reply = (row.get("reply") or "").replace("`", "'")[: HINT_CODE_CHARS // 3]
        attempt = f"Your previous reply:\n{reply}\nIt contained no ```python code block with the function."
    return (f"{problem.prompt}\n\n{attempt}\n{_what_went_wrong(problem.entry_point, row)}\n\n"
            f"Reply with only the corrected function `{problem.entry_point}` in a single ```python code block.")


def _what_went_wrong(entry_point: str, row: dict) -> str:
    test = row.get("failing_test")
    if not test and not row.get("code"):
        return "Write the complete function this time."
    if not test:
        cause, detail = row.get("cause") or row.get("status"), (row.get("detail") or "")[:200]
        if cause == "wrong_name":
            return f"It defines no function named `{entry_point}`."
        if cause == "syntax_error":
            return f"It does not compile: {detail}."
        return f"It failed: {cause}" + (f" ({detail})." if detail else ".")
    call = call_text(entry_point, test.get("args", []))
    got = test.get("got")
    if str(row.get("cause", "")).startswith("exception"):
        return f"It fails this hidden test: `{call}` must return {test.get('expected')!r}, but it raised {got}."
    return f"It fails this hidden test: `{call}` must return {test.get('expected')!r}, but it returned {got!r}."

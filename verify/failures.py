"""Why a sample failed: one cause per verified reply, and tables of causes. Pure functions.

Causes (``classify``), roughly in the order the pipeline meets them:

- ``pass``; ``no_code`` (no code block, extraction failed), ``unclosed_block`` (the reply opened a
  fence and never closed it: cut off by the token budget);
- ``syntax_error``; ``wrong_name`` (no function with the entry point's name);
  ``load_error:<Exc>`` (an exception while the module ran, before any test);
- ``wrong_arity`` (a test raised a ``TypeError``, and the entry point's ``def`` cannot take the
  tests' positional arguments or the message says ``f() takes 1 positional argument ...``);
  ``exception:<Exc>`` (a test raised);
- ``timeout``; ``wrong_type`` (a wrong answer of another type than expected: ``True`` vs ``1``,
  ``1.0`` vs ``1``, ``None`` vs ``0``, ``"3"`` vs ``3``, a list vs a string, ...);
  ``wrong_answer:edge`` / ``wrong_answer:random`` (a wrong value of the right type in one of the
  problem's first ``edge_tests`` hand-picked tests / in a random one; ``wrong_answer`` when the
  test is unknown);
- any other sandbox status as itself (``memory``, ``crash``, ``output_limit``, ``bad_output``,
  ``early_exit``, ``sandbox_error``, ``empty``).
"""

from __future__ import annotations

import ast
import json
import re

CORE_CAUSES = ("no_code", "unclosed_block", "syntax_error", "wrong_name", "wrong_arity", "timeout",
               "wrong_type", "wrong_answer:edge", "wrong_answer:random")
_FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_TEST_DETAIL = re.compile(r"^test (\d+): (.*)$", re.S)
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*): ?(.*)$", re.S)
_ARITY_MESSAGE = re.compile(r"positional argument")


def classify(problem, reply: str, code: str, status: str, detail: str) -> dict:
    """The cause of one sample's verdict and its first failing test (None when unknown).

    ``test`` is ``{"index", "args", "expected", "got"}``: ``index`` counts from 0 in
    ``problem.tests``; ``got`` is the returned value (its JSON text when the sandbox cut it short)
    or the exception text. Never raises: an unexpected input gives the status as the cause.

    >>> from types import SimpleNamespace as P
    >>> p = P(entry_point="f", tests=[P(args=[1], expected=2)], edge_tests=1)
    >>> classify(p, "```python\\ndef f(x):\\n    return 1\\n```", "def f(x):\\n    return 1",
    ...          "wrong_answer", "test 1: got 1")
    {'cause': 'wrong_answer:edge', 'test': {'index': 0, 'args': [1], 'expected': 2, 'got': 1}}
    >>> classify(p, "```python\\ndef f(x):\\n    return (", "", "no_code", "")["cause"]
    'unclosed_block'
    """
    try:
        return _classify(problem, reply or "", code or "", status, detail or "")
    except Exception:  # a report must never stop a run
        return {"cause": str(status), "test": None}


def _classify(problem, reply: str, code: str, status: str, detail: str) -> dict:
    if status == "no_code":
        return _cause("unclosed_block" if _unclosed_fence(reply) else "no_code")
    if status in ("pass", "syntax_error", "timeout"):
        return _cause(status)
    if status == "no_function":
        return _cause("wrong_name")
    if detail.startswith("while loading:"):
        return _cause("load_error:" + _exception_name(detail[len("while loading:"):].strip()))
    index, rest = _test_detail(detail)
    if status == "wrong_answer":
        return _wrong_answer(problem, index, rest)
    if status == "runtime_error":
        return _exception(problem, code, index, rest)
    return _cause(status, _failing_test(problem, index, rest))


def _cause(cause: str, test: dict | None = None) -> dict:
    return {"cause": cause, "test": test}


def _unclosed_fence(reply: str) -> bool:
    """True when the reply has an odd number of fence lines (one was opened and never closed).

    >>> _unclosed_fence("```python\\nx = 1\\n```\\n```python\\ny = (")
    True
    >>> _unclosed_fence("```python\\nx = 1\\n```")
    False
    """
    return sum(bool(_FENCE_LINE.match(line)) for line in reply.splitlines()) % 2 == 1


def _test_detail(detail: str) -> tuple[int | None, str]:
    """("test 3: got 5") -> (2, "got 5"): the 0-based failing test and the rest of the detail."""
    match = _TEST_DETAIL.match(detail)
    return (int(match[1]) - 1, match[2]) if match else (None, detail)


def _exception_name(text: str) -> str:
    match = _EXCEPTION.match(text)
    return match[1] if match else "unknown"


def _failing_test(problem, index: int | None, got) -> dict | None:
    tests = getattr(problem, "tests", None) or []
    if index is None or not 0 <= index < len(tests):
        return None
    return {"index": index, "args": list(tests[index].args), "expected": tests[index].expected, "got": got}


def _exception(problem, code: str, index: int | None, text: str) -> dict:
    name = _exception_name(text)
    test = _failing_test(problem, index, text)
    entry_point = str(getattr(problem, "entry_point", ""))
    about_entry = bool(_ARITY_MESSAGE.search(text)) and f"{entry_point}()" in text
    if name == "TypeError" and (about_entry or not _arity_fits(problem, code)):
        return _cause("wrong_arity", test)
    return _cause("exception:" + name, test)


def _arity_fits(problem, code: str) -> bool:
    """Whether the last top-level ``def`` of the entry point accepts the tests' positional args
    (True when it cannot be told: no tests, code that does not parse, no such ``def``).

    >>> from types import SimpleNamespace as P
    >>> p = P(entry_point="f", tests=[P(args=[1, 2], expected=3)])
    >>> [_arity_fits(p, c) for c in ("def f(a, b): pass", "def f(a): pass", "def f(*a): pass",
    ...                              "def f(a, b, c=0): pass", "def f(a, b, *, c): pass")]
    [True, False, True, True, False]
    """
    tests = getattr(problem, "tests", None) or []
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return True
    defs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name == getattr(problem, "entry_point", None)]
    if not tests or not defs:
        return True
    args, count = defs[-1].args, len(tests[0].args)
    positional = len(args.posonlyargs) + len(args.args)
    required_keywords = sum(default is None for default in args.kw_defaults)
    return (positional - len(args.defaults) <= count and (args.vararg is not None or count <= positional)
            and required_keywords == 0)


def _wrong_answer(problem, index: int | None, text: str) -> dict:
    raw = text[len("got "):] if text.startswith("got ") else text
    try:
        got = json.loads(raw)
        kind = _kind(got)
    except ValueError:  # cut short by the sandbox: judge the type from the first character
        got, kind = raw, _kind_of_text(raw)
    test = _failing_test(problem, index, got)
    if test is None:
        return _cause("wrong_answer")
    if kind is not None and kind != _kind(test["expected"]):
        return _cause("wrong_type", test)
    edge = index < (getattr(problem, "edge_tests", 0) or 0)
    return _cause("wrong_answer:edge" if edge else "wrong_answer:random", test)


def _kind(value) -> str:
    """The exact type of a JSON value as the sandbox compares it (wire forms of big ints, special
    floats and dicts included; tuples are lists).

    >>> [_kind(v) for v in (True, 1, 1.0, None, "1", [1], {"$i": "0x1"}, {"$d": []})]
    ['bool', 'int', 'float', 'null', 'str', 'list', 'int', 'dict']
    """
    if isinstance(value, dict) and len(value) == 1:
        wire = {"$i": "int", "$f": "float", "$d": "dict"}.get(next(iter(value)))
        if wire:
            return wire
    names = {bool: "bool", int: "int", float: "float", str: "str", list: "list", tuple: "list", dict: "dict"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _kind_of_text(text: str) -> str | None:
    first = text[:1]
    kinds = {'"': "str", "[": "list", "{": "dict", "t": "bool", "f": "bool", "n": "null"}
    return kinds.get(first)


def cause_of(row: dict) -> str:
    """A row's cause (rows written before causes existed: their status)."""
    return "pass" if row.get("passed") else str(row.get("cause") or row.get("status", "unknown"))


def failure_table(rows: list[dict]) -> dict[tuple, dict[str, int]]:
    """{(family, difficulty): {cause: count}} over sample rows, ``pass`` counted as a cause.

    >>> failure_table([{"family": "rpn", "difficulty": 1, "passed": True},
    ...                {"family": "rpn", "difficulty": 1, "passed": False, "cause": "timeout"}])
    {('rpn', 1): {'pass': 1, 'timeout': 1}}
    """
    table: dict[tuple, dict[str, int]] = {}
    for row in rows:
        counts = table.setdefault((row.get("family"), row.get("difficulty")), {})
        cause = cause_of(row)
        counts[cause] = counts.get(cause, 0) + 1
    return {key: dict(sorted(counts.items())) for key, counts in sorted(table.items(), key=str)}


def cause_counts(rows: list[dict], prefix: str) -> dict[str, int]:
    """Numeric metrics ``PREFIX/failures/<cause>`` (``:`` becomes ``_``); the core causes always
    appear (0 when absent), so their curves do not break off.

    >>> counts = cause_counts([{"passed": False, "cause": "exception:KeyError"}], "val")
    >>> counts["val/failures/exception_KeyError"], counts["val/failures/timeout"]
    (1, 0)
    """
    counts = {cause: 0 for cause in CORE_CAUSES}
    for row in rows:
        if not row.get("passed"):
            counts[cause_of(row)] = counts.get(cause_of(row), 0) + 1
    return {f"{prefix}/failures/{cause.replace(':', '_')}": n for cause, n in sorted(counts.items())}


def examples(rows: list[dict], reply_chars: int = 400) -> dict[str, dict]:
    """One example per failure cause (the first row met): problem, short reply, first failing test.

    >>> chosen = examples([{"problem_id": "p", "passed": False, "cause": "no_code", "reply": "x" * 500}])
    >>> len(chosen["no_code"]["reply"])  # 400 characters and "..."
    403
    """
    chosen: dict[str, dict] = {}
    for row in rows:
        cause = cause_of(row)
        if cause == "pass" or cause in chosen:
            continue
        reply = str(row.get("reply", ""))
        chosen[cause] = {"problem_id": row.get("problem_id"), "family": row.get("family"),
                         "difficulty": row.get("difficulty"), "detail": row.get("detail", ""),
                         "reply": reply if len(reply) <= reply_chars else reply[:reply_chars] + "...",
                         "test": row.get("failing_test")}
    return chosen

"""Failure causes: one per verdict, from literal replies and sandbox details, and their tables."""

import doctest
import importlib

import pytest

from verify.failures import cause_counts, classify, examples, failure_table
from tasks.problem import Problem, TestCase

PROBLEM = Problem(id="p-d1-x", family="rpn", difficulty=1, prompt="", entry_point="solve",
                  tests=[TestCase(["1 2 +"], 3), TestCase(["2 2 *"], 4), TestCase(["9 3 /"], 3)], edge_tests=1)
CODE = "def solve(expr):\n    return 0"
REPLY = f"```python\n{CODE}\n```"

CASES = [
    # (status, detail, reply, code, cause)
    ("pass", "", REPLY, CODE, "pass"),
    ("no_code", "", "I would use a stack.", "", "no_code"),
    ("no_code", "", "```python\ndef solve(expr):\n    stack = [", "", "unclosed_block"),
    ("no_code", "", "```python\nx = 1\n```\nand\n```python\ndef solve(", "", "unclosed_block"),
    ("syntax_error", "SyntaxError: invalid syntax", REPLY, "def solve(:", "syntax_error"),
    ("no_function", "no callable with the entry point name", REPLY, "def answer(expr): pass", "wrong_name"),
    ("runtime_error", "while loading: NameError: name 'foo' is not defined", REPLY, "foo()", "load_error:NameError"),
    ("memory", "while loading: MemoryError: ", REPLY, "x = [0] * 10**12", "load_error:MemoryError"),
    ("runtime_error", "test 1: TypeError: solve() takes 0 positional arguments but 1 was given", REPLY,
     "def solve():\n    return 3", "wrong_arity"),
    ("runtime_error", "test 1: TypeError: unsupported operand", REPLY, "def solve(a, b):\n    return a + b",
     "wrong_arity"),  # the def needs two arguments, the tests pass one
    ("runtime_error", "test 1: TypeError: unsupported operand type(s) for +: 'int' and 'str'", REPLY, CODE,
     "exception:TypeError"),
    ("runtime_error", "test 2: ZeroDivisionError: division by zero", REPLY, CODE, "exception:ZeroDivisionError"),
    ("timeout", "deadline of 5 s exceeded", REPLY, CODE, "timeout"),
    ("wrong_answer", "test 1: got true", REPLY, CODE, "wrong_type"),  # True is not 3
    ("wrong_answer", "test 1: got null", REPLY, CODE, "wrong_type"),
    ("wrong_answer", 'test 2: got "4"', REPLY, CODE, "wrong_type"),
    ("wrong_answer", "test 3: got 3.0", REPLY, CODE, "wrong_type"),  # a float where an int is expected
    ("wrong_answer", "test 2: got [4]", REPLY, CODE, "wrong_type"),
    ("wrong_answer", "test 1: got 5", REPLY, CODE, "wrong_answer:edge"),
    ("wrong_answer", "test 3: got 0", REPLY, CODE, "wrong_answer:random"),
    ("wrong_answer", 'test 3: got "' + "x" * 96 + "...", REPLY, CODE, "wrong_type"),  # cut short: a string
    ("crash", "killed by SIGSEGV", REPLY, CODE, "crash"),
    ("output_limit", "test 2: return value too large", REPLY, CODE, "output_limit"),
    ("bad_output", "test 1: set is not plain data", REPLY, CODE, "bad_output"),
    ("early_exit", "process ended (exit code 0) before test 1/3", REPLY, CODE, "early_exit"),
    ("sandbox_error", "worker died", REPLY, CODE, "sandbox_error"),
    ("empty", "", "```python\n\n```", "", "empty"),
]


@pytest.mark.parametrize("status, detail, reply, code, cause", CASES)
def test_each_cause(status, detail, reply, code, cause):
    assert classify(PROBLEM, reply, code, status, detail)["cause"] == cause


def test_the_first_failing_test_is_reported():
    assert classify(PROBLEM, REPLY, CODE, "wrong_answer", "test 3: got 0")["test"] == {
        "index": 2, "args": ["9 3 /"], "expected": 3, "got": 0}
    raised = classify(PROBLEM, REPLY, CODE, "runtime_error", "test 2: ZeroDivisionError: division by zero")["test"]
    assert raised == {"index": 1, "args": ["2 2 *"], "expected": 4, "got": "ZeroDivisionError: division by zero"}
    assert classify(PROBLEM, REPLY, CODE, "output_limit", "test 2: return value too large")["test"]["index"] == 1
    assert classify(PROBLEM, REPLY, CODE, "timeout", "deadline of 5 s exceeded")["test"] is None


def test_true_against_an_int_is_a_wrong_type_and_one_against_true_too():
    flags = Problem(id="b", family="parentheses", difficulty=1, prompt="", entry_point="f",
                    tests=[TestCase(["()"], True)])
    assert classify(flags, REPLY, CODE, "wrong_answer", "test 1: got 1")["cause"] == "wrong_type"
    assert classify(flags, REPLY, CODE, "wrong_answer", "test 1: got false")["cause"] == "wrong_answer:random"


@pytest.mark.parametrize("detail", ["", "test x: got", "test 99: got 1", "test 1: got {", "garbage", None])
def test_strange_details_never_raise(detail):
    found = classify(PROBLEM, REPLY, CODE, "wrong_answer", detail)
    assert found["cause"].startswith("wrong_") and set(found) == {"cause", "test"}
    assert classify(None, None, None, "runtime_error", detail)["cause"].startswith("exception:")


ROWS = [
    {"problem_id": "a", "family": "rpn", "difficulty": 1, "passed": True, "cause": "pass"},
    {"problem_id": "a", "family": "rpn", "difficulty": 1, "passed": False, "cause": "timeout", "reply": "r1"},
    {"problem_id": "b", "family": "rpn", "difficulty": 2, "passed": False, "cause": "timeout", "reply": "r2"},
    {"problem_id": "c", "family": "caesar", "difficulty": 1, "passed": False, "cause": "wrong_answer:edge",
     "reply": "y" * 1000, "failing_test": {"index": 0, "args": ["a"], "expected": "b", "got": "c"}},
    {"problem_id": "d", "family": "caesar", "difficulty": 1, "passed": False, "status": "no_code"},  # old row
]


def test_failure_table_counts_causes_per_family_and_difficulty():
    assert failure_table(ROWS) == {("caesar", 1): {"no_code": 1, "wrong_answer:edge": 1},
                                   ("rpn", 1): {"pass": 1, "timeout": 1}, ("rpn", 2): {"timeout": 1}}


def test_one_short_example_per_cause():
    chosen = examples(ROWS)
    assert sorted(chosen) == ["no_code", "timeout", "wrong_answer:edge"]
    assert chosen["timeout"]["problem_id"] == "a" and chosen["timeout"]["reply"] == "r1"
    assert len(chosen["wrong_answer:edge"]["reply"]) == 403 and chosen["wrong_answer:edge"]["test"]["got"] == "c"


def test_cause_counts_are_tensorboard_safe_numbers():
    counts = cause_counts(ROWS, "harvest")
    assert counts["harvest/failures/timeout"] == 2 and counts["harvest/failures/wrong_answer_edge"] == 1
    assert counts["harvest/failures/wrong_type"] == 0 and "harvest/failures/pass" not in counts
    assert all(":" not in key and isinstance(n, int) for key, n in counts.items())


def test_verified_rows_carry_detail_reply_and_cause():
    from verify.verification import verify_replies

    problem = Problem(id="q", family="rpn", difficulty=1, prompt="", entry_point="solve",
                      tests=[TestCase(["1 2 +"], 3)], edge_tests=1)
    replies = [["```python\ndef solve(e):\n    return 3\n```", "```python\ndef solve(e):\n    return '3'\n```",
                "```python\ndef solve(e):\n    return 1 / 0\n```", "no code", "```python\ndef solve(e):\n"]]
    rows = verify_replies([problem], replies, timeout_s=5)
    assert [r["cause"] for r in rows] == ["pass", "wrong_type", "exception:ZeroDivisionError", "no_code",
                                          "syntax_error"]
    assert rows[1]["detail"] == 'test 1: got "3"' and rows[1]["failing_test"]["got"] == "3"
    assert rows[0]["reply"] == replies[0][0] and "failing_test" not in rows[0]


@pytest.mark.parametrize("name", ["verify.failures", "reporting.failure_report", "reporting.samples_file"])
def test_doctests(name):
    assert doctest.testmod(importlib.import_module(name)).failed == 0

"""Every verdict status is produced where it should be; batches keep their order."""
import pytest

import sandbox
from sandbox import STATUSES, Verdict, verify, verify_assertions, verify_batch

ADD = "def add(a, b):\n    return a + b\n"
ADD_TESTS = [{"args": [1, 2], "expected": 3}, {"args": [-4, 4], "expected": 0},
             {"args": [10 ** 30, 1], "expected": 10 ** 30 + 1}]


class Case:  # tests may be objects with .args / .expected, too
    def __init__(self, args, expected):
        self.args, self.expected = args, expected


def one(code, tests=None, entry="add", timeout_s=None):
    return verify(code, entry, ADD_TESTS if tests is None else tests, timeout_s=timeout_s)


def test_pass_and_fields():
    v = one(ADD)
    assert v.passed and v.status == "pass" and v.detail == ""
    assert (v.tests_passed, v.tests_total) == (3, 3)
    assert isinstance(v, Verdict)


def test_tests_as_objects():
    assert verify(ADD, "add", [Case([2, 3], 5), Case([0, 0], 0)]).passed


@pytest.mark.parametrize("code,status", [
    ("def add(a, b):\n    return a - b\n", "wrong_answer"),
    ("def add(a, b)\n    return a + b\n", "syntax_error"),
    ("def add(a, b):\n\treturn a +\n", "syntax_error"),
    ("x = 1\n", "no_function"),
    ("add = 5\n", "no_function"),
    ("def other(a, b):\n    return a + b\n", "no_function"),
    ("raise ValueError('at import')\n", "runtime_error"),
    ("def add(a, b):\n    return a / 0\n", "runtime_error"),
    ("def add(a, b):\n    while True:\n        pass\n", "timeout"),
    ("def add(a, b):\n    return len(bytearray(1 << 34))\n", "memory"),
    ("x = bytearray(1 << 34)\n", "memory"),
    ("import ctypes\ndef add(a, b):\n    return ctypes.string_at(0)\n", "crash"),
    ("import os, signal\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGABRT)\n", "crash"),
    ("def add(a, b):\n    while True:\n        print('x' * 1000)\n", "output_limit"),
    ("def add(a, b):\n    return [0] * (4 << 20)\n", "output_limit"),
    ("def add(a, b):\n    return {a, b}\n", "bad_output"),
    ("def add(a, b):\n    return (x for x in [a])\n", "bad_output"),
    ("def add(a, b):\n    return object()\n", "bad_output"),
    ("import sys\nsys.exit(0)\n", "early_exit"),
    ("import os\ndef add(a, b):\n    os._exit(0)\n", "early_exit"),
    ("def add(a, b):\n    raise SystemExit(0)\n", "early_exit"),
    ("", "empty"),
    ("   \n\n", "empty"),
    (None, "empty"),
])
def test_statuses(code, status):
    v = one(code, timeout_s=1.0)
    assert v.status == status, v
    assert not v.passed
    assert status in STATUSES


def test_status_list_is_documented():
    import os
    doc = open(os.path.join(os.path.dirname(sandbox.__file__), "verdict.py")).read()
    root = os.path.dirname(os.path.dirname(os.path.abspath(sandbox.__file__)))
    md = open(os.path.join(root, "docs", "SANDBOX.md")).read()
    for s in STATUSES:
        assert "``%s``" % s in doc, s
        assert "`%s`" % s in md, s


@pytest.mark.parametrize("code,status", [
    (b"\xff\xfe\x00garbage", "syntax_error"),              # binary, not UTF-8
    (b"def add(a, b):\n    return a + b\n", "pass"),       # bytes that are UTF-8 text
    ("def add(a, b):\n    return a + b\n\x00", "syntax_error"),  # NUL byte
    ("x = " + "(" * 5000 + ")" * 5000 + "\n", "syntax_error"),  # too deeply nested for the parser
    ("# " + "x" * (300 << 10) + "\n" + ADD, "syntax_error"),   # enormous
    ("Sure! Here is the function you asked for.", "syntax_error"),  # prose, not Python
    ("def add(a, b):\n    return '\udcff'\n", "syntax_error"),  # lone surrogate: not valid source
    (12345, "syntax_error"),
])
def test_odd_model_output_gives_a_verdict(code, status):
    assert one(code).status == status


def test_invalid_entry_point():
    assert verify(ADD, "add; import os", ADD_TESTS).status == "no_function"
    assert verify(ADD, "", ADD_TESTS).status == "no_function"


def test_first_failing_test_decides_and_counts():
    code = "def add(a, b):\n    if a == -4:\n        raise KeyError('boom')\n    return a + b\n"
    v = one(code)
    assert v.status == "runtime_error" and "KeyError" in v.detail and "test 2" in v.detail
    assert (v.tests_passed, v.tests_total) == (2, 3)


def test_timeout_counts_finished_tests():
    code = "import time\ndef add(a, b):\n    if a == 10 ** 30:\n        time.sleep(50)\n    return a + b\n"
    v = one(code, timeout_s=0.6)
    assert v.status == "timeout" and v.tests_passed == 2
    assert v.elapsed_s < 3


def test_noisy_and_slowish_correct_solutions_pass():
    noisy = ("import sys\ndef add(a, b):\n    for i in range(2000):\n        print('debug', i, a, b)\n"
             "        print('warn', i, file=sys.stderr)\n    return a + b\n")
    assert one(noisy).passed
    slowish = "import time\ndef add(a, b):\n    time.sleep(0.1)\n    return a + b\n"
    v = one(slowish)  # 0.3 s in all, well under the default deadline
    assert v.passed, v


def test_arguments_are_fresh_for_every_test():
    code = "def f(xs):\n    xs.append(1)\n    return len(xs)\n"
    tests = [{"args": [[]], "expected": 1}] * 3
    assert verify(code, "f", tests).passed


def test_candidate_can_use_stdlib_and_its_own_temp_dir():
    code = ("import os, re, collections, heapq, itertools, functools, string, fractions, json\n"
            "def f(s):\n    with open('scratch.txt', 'w') as fh:\n        fh.write(s)\n"
            "    return open('scratch.txt').read() + str(len(re.findall('a', s)))\n")
    assert verify(code, "f", [{"args": ["banana"], "expected": "banana3"}]).passed


def test_batch_keeps_order_and_mixes_statuses():
    items = []
    want = []
    for i in range(60):
        kind = i % 4
        if kind == 0:
            items.append((ADD, "add", [{"args": [i, 1], "expected": i + 1}])); want.append("pass")
        elif kind == 1:
            items.append(("def add(a, b):\n    return a * b\n", "add", [{"args": [i, 3], "expected": i + 3}]))
            want.append("wrong_answer" if i * 3 != i + 3 else "pass")
        elif kind == 2:
            items.append(("def add(a, b)\n", "add", [{"args": [i, 1], "expected": i + 1}])); want.append("syntax_error")
        else:
            items.append((None, "add", [{"args": [i, 1], "expected": i + 1}])); want.append("empty")
    got = verify_batch(items)
    assert [v.status for v in got] == want
    assert verify_batch([]) == []
    assert [v.status for v in verify_batch(items[:8], workers=1)] == want[:8]


def test_bad_tests_are_the_callers_error():
    with pytest.raises(ValueError):
        verify(ADD, "add", [{"args": [1, 2], "expected": {1, 2}}])
    with pytest.raises(ValueError):
        verify(ADD, "add", [{"args": [object()], "expected": 1}])


def test_assertion_mode():
    test_code = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(0, 0) == 0\n"
    assert verify_assertions(ADD, test_code, "add").passed
    assert verify_assertions("def add(a, b):\n    return a * b\n", test_code, "add").status == "wrong_answer"
    assert verify_assertions("def add(a, b):\n    return a.x\n", test_code, "add").status == "runtime_error"
    assert verify_assertions("def add(a, b):\n    while 1: pass\n", test_code, "add", timeout_s=0.5).status == "timeout"
    assert verify_assertions("import os\nos._exit(0)\n", test_code, "add").status == "early_exit"
    assert verify_assertions("def add(a, b):\n    return a + b\n", test_code, "sub").status == "no_function"
    assert verify_assertions("def add(a, b)\n", test_code, "add").status == "syntax_error"
    assert verify_assertions(None, test_code, "add").status == "empty"
    v = sandbox.verify_assertions_batch([(ADD, test_code, "add")] * 3 + [("def add(a, b):\n    return 0\n", test_code, "add")])
    assert [x.status for x in v] == ["pass"] * 3 + ["wrong_answer"]

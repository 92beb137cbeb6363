"""extract_code on real-looking chat replies."""
import time

import pytest

from tasks import extract_code
from tasks.extract import sanitize

CODE = "def add(a, b):\n    return a + b"

CASES = {
    "plain python block": (f"```python\n{CODE}\n```", CODE),
    "prose around": (f"Sure! Here is the function:\n\n```python\n{CODE}\n```\n\nIt adds two numbers.",
                     CODE),
    "py tag and capitals": (f"```Py\n{CODE}\n```", CODE),
    "Python tag": (f"Solution:\n```Python\n{CODE}\n```", CODE),
    "python3 tag": (f"```python3\n{CODE}\n```", CODE),
    "crlf line endings": (f"Here you go:\n```python\n{CODE}\n```\nDone.".replace("\n", "\r\n"),
                          CODE),
    "missing closing fence": (f"Here is my answer:\n```python\n{CODE}\n", CODE),
    "first python block wins": (f"```python\n{CODE}\n```\nOr with tests:\n```python\nprint(1)\n```",
                                CODE),
    "python block preferred over earlier untagged": (
        f"Input format:\n```\n2 3\n```\nCode:\n```python\n{CODE}\n```", CODE),
    "untagged block when no python block": (f"Answer:\n```\n{CODE}\n```", CODE),
    "untagged sample input skipped for untagged code": (
        f"Input:\n```\n2 3 +\n```\nCode:\n```\n{CODE}\n```", CODE),
    "cut-off python block beats earlier sample output": (
        f"Expected output:\n```\n[1, 2]\n```\n```python\n{CODE}\n", CODE),
    "indented fence in a list": (
        "1. Write the function:\n\n    ```python\n    def add(a, b):\n        return a + b\n    ```\n",
        CODE),
    "bash block is not code, python is": (
        f"Run:\n```bash\npip install nothing\n```\nThen:\n```python\n{CODE}\n```", CODE),
    "tilde fence": (f"~~~python\n{CODE}\n~~~", CODE),
    "closing fence with trailing spaces": (f"```python\n{CODE}\n```   \nbye", CODE),
    "longer fence with inner backticks": (
        "````python\ndef f():\n    return '```'\n````", "def f():\n    return '```'"),
    "bare code without fences": (f"{CODE}\n", CODE),
    "think-style preamble": (
        "<think>The task wants addition; watch for edge cases.</think>\n"
        f"```python\n{CODE}\n```", CODE),
    "qwen style with explanation and example usage": (
        "To solve this problem, we iterate over the string.\n\n```python\n"
        "def rle(s):\n    out = []\n    for ch in s:\n        out.append(ch)\n    return ''.join(out)\n"
        "```\n\n### Explanation\n- We loop.\n\n```python\nprint(rle('aab'))\n```\n",
        "def rle(s):\n    out = []\n    for ch in s:\n        out.append(ch)\n    return ''.join(out)"),
}

NO_CODE = {
    "prose only": "I'm sorry, I cannot help with that.",
    "empty reply": "",
    "empty python block": "```python\n```\nOops.",
    "only a shell block": "```bash\nls -la\n```",
    "prose that mentions def": "You should def-initely use a loop here.",
}


@pytest.mark.parametrize("name", CASES)
def test_extracts_code(name):
    reply, expected = CASES[name]
    assert extract_code(reply) == expected


@pytest.mark.parametrize("name", NO_CODE)
def test_no_code_gives_none(name):
    assert extract_code(NO_CODE[name]) is None


def test_extracted_code_compiles():
    for reply, _ in CASES.values():
        compile(extract_code(reply), "<reply>", "exec")


# --- sanitize: the reply's own test code goes, the solution stays -----------------------------

RPN = ("def rpn(expr):\n    # a stack of operands\n    stack = []\n    for tok in expr.split():\n"
       "        if tok in OPS:\n            b, a = stack.pop(), stack.pop()\n"
       "            stack.append(OPS[tok](a, b))\n        else:\n            stack.append(int(tok))\n"
       "    return stack[-1]")
OPS = "import operator\n\nOPS = {'+': operator.add, '*': operator.mul}\n\n"


def fenced(code):
    return f"Here is the solution:\n```python\n{code}\n```\nIt uses a stack."


TRAILING = {
    "print calls": "\n\nprint(rpn('1 2 +'))\nprint(rpn('2 3 *'))",
    "asserts": "\n\n# Test cases\nassert rpn('1 2 +') == 3\nassert rpn('2 3 *') == 6",
    "bare example call": "\n\nrpn('1 2 +')",
    "main block": "\n\nif __name__ == '__main__':\n    print(rpn('1 2 +'))",
    "call-valued assignment": "\n\nresult = rpn('1 2 +')\nprint(result)",
    "test loop": "\n\nfor e in ['1 2 +', '2 x *']:\n    print(e, rpn(e))",
    "module docstring": "\n\n\"\"\"Example: rpn('1 2 +') == 3\"\"\"",
    "wrong example that would crash at import": "\n\nprint(rpn('1 +'))",
}


@pytest.mark.parametrize("name", TRAILING)
def test_trailing_test_code_dropped(name):
    assert extract_code(fenced(OPS + RPN + TRAILING[name]), entry_point="rpn") == OPS.strip() + "\n\n" + RPN


@pytest.mark.parametrize("cut", [1, 5, 12, 20])
def test_reply_cut_inside_trailing_test_code_gives_the_function(cut):
    tests = ("\n\n# Example usage\nif __name__ == '__main__':\n    print(rpn('1 2 +'))\n"
             "    print(rpn('3 4 *'))")
    reply = "```python\n" + OPS + RPN + tests[:len(tests) - cut]      # no closing fence: cut off
    code = extract_code(reply, entry_point="rpn")
    assert code == OPS.strip() + "\n\n" + RPN
    compile(code, "<reply>", "exec")


def test_reply_cut_mid_line_of_a_trailing_print():
    reply = "```python\ndef add(a, b):\n    return a + b\n\nprint(add(1, 2))\nprint(add(3, "
    assert extract_code(reply) == CODE
    assert extract_code(reply, entry_point="add") == CODE


@pytest.mark.parametrize("entry_point", ["add", None])
def test_reply_cut_inside_the_function_stays_unchanged(entry_point):
    code = "def add(a, b):\n    if a:\n        return a + b\n    else:\n        return (b +"
    assert extract_code(f"```python\n{code}", entry_point=entry_point) == code
    with pytest.raises(SyntaxError):
        compile(code, "<reply>", "exec")


def test_cut_inside_entry_point_does_not_fall_back_to_an_earlier_helper():
    code = "def helper(x):\n    return x * 2\n\ndef solve(x):\n    return helper(x"
    assert sanitize(code, "solve") == code


def test_imports_constants_and_helpers_kept():
    code = ("from typing import List\nimport re\n\nPAT = re.compile(r'\\d+')\nLIMIT: int = 10\n\n\n"
            "def numbers(s: str) -> List[int]:\n    return [int(m) for m in PAT.findall(s)][:LIMIT]\n\n\n"
            "def total(s: str) -> int:\n    return sum(numbers(s))")
    assert extract_code(fenced(code + "\n\nprint(total('a1b22'))"), entry_point="total") == code


def test_constant_computed_by_a_helper_kept_when_a_def_reads_it():
    code = ("def build():\n    return {i: i * i for i in range(10)}\n\nSQUARES = build()\n\n"
            "def square(n):\n    result = SQUARES[n]\n    return result")
    reply = fenced(code + "\n\nresult = square(3)\nprint(result)")
    assert extract_code(reply, entry_point="square") == code   # `result` is local to square


def test_assignment_reading_dropped_names_dropped():
    code = "def add(a, b):\n    return a + b"
    assert sanitize(code + "\nfor i in range(3):\n    last = add(i, i)\nsummary = last + 1") == code


def test_decorator_and_comments_kept():
    code = ("from functools import lru_cache\n\n\n@lru_cache(maxsize=None)\ndef fib(n):\n"
            "    # base cases\n    if n < 2:\n        return n  # fib(0)=0, fib(1)=1\n"
            "    return fib(n - 1) + fib(n - 2)")
    assert extract_code(fenced(code + "\n\nprint(fib(10))"), entry_point="fib") == code


def test_class_and_setrecursionlimit_kept():
    code = ("import sys\nsys.setrecursionlimit(10000)\n\n\nclass Node:\n    def __init__(self, v):\n"
            "        self.v = v\n\n\ndef depth(n):\n    return 0 if n is None else 1")
    assert sanitize(code + "\n\nroot = Node(1)\nprint(depth(root))", "depth") == code


def test_semicolon_line_split():
    assert sanitize("import re; PAT = re.compile('a'); print(PAT)\ndef f(s):\n    return PAT.match(s)") \
        == "import re; PAT = re.compile('a')\n\ndef f(s):\n    return PAT.match(s)"


def test_exec_defines_entry_point_and_runs_nothing(capsys):
    reply = fenced(OPS + RPN + "\n\nprint('loaded')\nassert rpn('1 2 +') == 4\nrpn('1 +')")
    namespace = {}
    exec(compile(extract_code(reply, entry_point="rpn"), "<reply>", "exec"), namespace)
    assert capsys.readouterr().out == ""
    assert namespace["rpn"]("2 3 * 4 +") == 10


def test_bare_reply_without_fences_sanitized():
    assert extract_code(f"{CODE}\n\nprint(add(1, 2))\n", entry_point="add") == CODE
    assert extract_code(f"{CODE}\n") == CODE


@pytest.mark.parametrize("code", [
    "print(sum(map(int, input().split())))",       # a script: no function, left alone
    "    return sorted(l)",                          # a HumanEval body completion
    "",
    "def f(:\n",
    "x = (" * 200,
])
def test_sanitize_leaves_code_without_functions_alone(code):
    assert sanitize(code) == code


def test_sanitize_is_bounded_on_long_unparsable_code():
    assert sanitize(CODE + "\n" + "x = (\n" * 100, "add") == CODE
    hopeless = CODE + "\n" + "x = (\n" * 2000       # more cuts than it tries: left alone
    start = time.perf_counter()
    assert sanitize(hopeless, "add") == hopeless
    assert time.perf_counter() - start < 5

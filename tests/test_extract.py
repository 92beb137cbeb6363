"""extract_code on real-looking chat replies."""
import pytest

from tasks import extract_code

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

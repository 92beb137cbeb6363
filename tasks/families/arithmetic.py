"""Family `arithmetic`: evaluate an infix integer expression given as a string.

Spec axes: function name, operators (+ - always, * and / usually), precedence (standard or
strictly left to right), division rounding (floor or truncation), division by zero (return None,
evaluates to 0, or never occurs), unary minus allowed, spaces between tokens, result for "" (or
never empty).

Ladder: difficulty 1 is the canonical task at its smallest (single-digit literals, `+` and `-`
from left to right, no parentheses, tokens separated by single spaces, never empty); each step up
may add one twist, in the order of `TWISTS` (`*` with the usual precedence, multi-digit literals,
parentheses, ...).
"""
from __future__ import annotations

import re

from tasks.families._common import (climb, division_rules, empty_rule, fill_random, fill_template,
                                     floor_division, int_divide, reference_empty,
                                     render_statement, safe_division, sample_division,
                                     sample_operators)

NAME = "arithmetic"
SUMMARY = "evaluate an infix integer expression string"
NAMES = ("evaluate", "calc", "eval_expr", "compute", "evaluate_expression", "calculate")


def sample_spec(rng, difficulty: int) -> dict:
    """Draw a spec; keys that do not apply (e.g. division without `/`) are None."""
    ops = sample_operators(rng)
    spec = {"entry_point": rng.choice(NAMES), "operators": ops}
    spec["precedence"] = (("standard" if rng.random() < 0.7 else "left_to_right")
                          if ("*" in ops or "/" in ops) else None)
    spec.update(sample_division(rng, ops))
    spec["unary_minus"] = rng.random() < 0.5
    spec["spaces"] = rng.random() < 0.5
    spec["empty"] = rng.choice([0, None])
    spec.update(multi_digit=True, parentheses=True)  # the full task; the ladder may take them away
    return climb(spec, difficulty, TWISTS)


def _standard_precedence(spec: dict) -> None:
    spec["precedence"] = "standard" if ("*" in spec["operators"] or "/" in spec["operators"]) else None


def _without(op: str):
    def undo(spec: dict) -> None:
        spec["operators"] = spec["operators"].replace(op, "")
        if op == "/":
            spec.update(division=None, div_zero=None)
    return undo


def _plain_division(spec: dict) -> None:
    floor_division(spec)
    safe_division(spec)


TWISTS = [
    ("times", _without("*")),                                       # `*`, with precedence
    ("multi_digit", lambda s: s.update(multi_digit=False)),        # canonical: literals 0-9
    ("parentheses", lambda s: s.update(parentheses=False)),
    ("spaces", lambda s: s.update(spaces="single")),                # canonical: '7 - 2 - 3'
    ("division", _without("/")),                                    # `/` rounding like `//`
    ("unary_minus", lambda s: s.update(unary_minus=False)),
    ("empty", lambda s: s.update(empty="never")),
    ("division_rules", _plain_division),                            # truncation, x/0
    ("left_to_right", _standard_precedence),
]


_REFERENCE = '''
LEVELS = __LEVELS__
DIVISION = __DIVISION__
DIV_ZERO = __DIV_ZERO__
EMPTY = __EMPTY__


def _tokenize(expr):
    tokens, i = [], 0
    while i < len(expr):
        if expr[i].isdigit():
            j = i
            while j < len(expr) and expr[j].isdigit():
                j += 1
            tokens.append(int(expr[i:j]))
            i = j
        else:
            if not expr[i].isspace():
                tokens.append(expr[i])
            i += 1
    return tokens


def _apply(op, a, b):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        if DIV_ZERO == "zero":
            return 0
        raise ZeroDivisionError
    if DIVISION == "floor":
        return a // b
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def _parse_level(tokens, pos, level):
    if level == len(LEVELS):
        return _parse_unary(tokens, pos)
    value, pos = _parse_level(tokens, pos, level + 1)
    while pos < len(tokens) and isinstance(tokens[pos], str) and tokens[pos] in LEVELS[level]:
        right, next_pos = _parse_level(tokens, pos + 1, level + 1)
        value, pos = _apply(tokens[pos], value, right), next_pos
    return value, pos


def _parse_unary(tokens, pos):
    if tokens[pos] == "-":
        value, pos = _parse_unary(tokens, pos + 1)
        return -value, pos
    if tokens[pos] == "(":
        value, pos = _parse_level(tokens, pos + 1, 0)
        return value, pos + 1
    return tokens[pos], pos + 1


def __NAME__(expr):
    tokens = _tokenize(expr)
    if not tokens:
        return EMPTY
    try:
        return _parse_level(tokens, 0, 0)[0]
    except ZeroDivisionError:
        return None
'''


def reference_source(spec: dict) -> str:
    """Recursive-descent solution specialised to the spec."""
    if spec["precedence"] == "left_to_right":
        levels = ["+-*/"]
    else:
        levels = ["+-", "*/"]
    return fill_template(_REFERENCE, NAME=spec["entry_point"], LEVELS=levels,
                         DIVISION=spec["division"], DIV_ZERO=spec["div_zero"], EMPTY=reference_empty(spec))


def _to_postfix(tokens: list[str], spec: dict) -> list[str]:
    """Shunting-yard; unary minus becomes the prefix operator "neg"."""
    rank = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3}
    if spec["precedence"] == "left_to_right":
        rank.update({"*": 1, "/": 1})
    out, stack, prev = [], [], None
    for tok in tokens:
        if tok.isdigit():
            out.append(tok)
        elif tok == "(":
            stack.append(tok)
        elif tok == ")":
            while stack[-1] != "(":
                out.append(stack.pop())
            stack.pop()
        elif tok == "-" and (prev is None or prev in "+-*/("):
            stack.append("neg")
        else:
            while stack and stack[-1] != "(" and rank[stack[-1]] >= rank[tok]:
                out.append(stack.pop())
            stack.append(tok)
        prev = tok
    return out + stack[::-1]


def solve(spec: dict, expr: str):
    """Independent solver (shunting-yard then a stack machine).

    Raises ZeroDivisionError for a division by zero when the spec says it never happens.

    >>> spec = {"precedence": "standard", "division": "trunc", "div_zero": "none", "empty": 0}
    >>> solve(spec, "(1-8)/2"), solve(spec, "2+3*-4"), solve(spec, "1/0"), solve(spec, "")
    (-3, -10, None, 0)
    """
    tokens = re.findall(r"\d+|[-+*/()]", expr)
    if not tokens:
        return spec["empty"]
    stack: list[int] = []
    try:
        for tok in _to_postfix(tokens, spec):
            if tok.isdigit():
                stack.append(int(tok))
            elif tok == "neg":
                stack.append(-stack.pop())
            else:
                b, a = stack.pop(), stack.pop()
                stack.append(_binary(tok, a, b, spec))
    except ZeroDivisionError:
        if spec["div_zero"] == "never":
            raise
        return None
    return stack[0]


def _binary(op: str, a: int, b: int, spec: dict) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0 and spec["div_zero"] == "zero":
        return 0
    if b == 0:
        raise ZeroDivisionError
    return int_divide(a, b, spec["division"])


def _random_tokens(rng, spec: dict, size: int, depth: int, hi: int) -> list[str]:
    """A random expression with about `size` numbers and parentheses nested up to `depth`."""
    tokens: list[str] = []
    remaining = size
    while remaining > 0:
        if tokens:
            tokens.append(rng.choice(spec["operators"]))
        if depth > 0 and remaining >= 2 and rng.random() < 0.4:
            k = rng.randint(2, remaining)
            operand = ["("] + _random_tokens(rng, spec, k, depth - 1, hi) + [")"]
        else:
            k, operand = 1, [str(rng.randint(0, hi))]
        if spec["unary_minus"] and rng.random() < 0.2:
            operand = ["-"] + operand
        tokens += operand
        remaining -= k
    return tokens


def _render(rng, spec: dict, tokens: list[str]) -> str:
    if spec["spaces"] == "single":
        return " ".join(tokens)
    if not spec["spaces"]:
        return "".join(tokens)
    return "".join(tok + " " * rng.choice([0, 0, 1, 1, 2]) for tok in tokens).strip()


def _edge_cases(spec: dict) -> list[str]:
    ops = spec["operators"]
    cases = ([] if spec["empty"] == "never" else [""]) + ["42", "((7))", "7-2-3", "10-(4-1)"]
    if "*" in ops:
        cases += ["2+3*4", "2*3+4", "2*(3+4)"]
    if "/" in ops:
        cases += ["(1-8)/2", "7/(1-3)", "(3-10)/4", "7/2", "64/4/2", "1+6/2"]
        if "*" in ops:
            cases += ["3+8/2*3"]
        if spec["div_zero"] != "never":
            cases += ["9/0", "1+(4/(2-2))*0"]
    if spec["unary_minus"]:
        cases += ["-3-4", "-(2+3)-1", "4--3"] + (["-7/2"] if "/" in ops else [])
    if spec["spaces"] is True:
        cases += [" 1 +  2 "] + ([] if spec["empty"] == "never" else ["   "])
    if not spec.get("multi_digit", True):
        cases = [c for c in cases if not re.search(r"\d\d", c)]
    if not spec.get("parentheses", True):
        cases = [c for c in cases if "(" not in c]
    if not spec.get("multi_digit", True):
        cases += ["8", "9-3+2"] + (["3+4*2", "9-2*3"] if "*" in spec["operators"] else [])
    if spec["spaces"] == "single":
        cases = [_spaced(c) for c in cases]
    return cases


def _spaced(expr: str) -> str:
    """``expr`` with its tokens separated by single spaces: '10-(4-1)' -> '10 - ( 4 - 1 )'."""
    return " ".join(re.findall(r"\d+|\S", expr))


def sample_inputs(rng, spec: dict, difficulty: int,
                  edge_cases: bool = True) -> list[list]:
    """Edge cases plus random expressions; size, depth and magnitude grow with difficulty."""
    def make_one():
        size = rng.randint(2, 2 + difficulty) + difficulty // 2
        depth = difficulty // 3 + 1 if spec.get("parentheses", True) else 0
        hi = 10 ** (1 + difficulty // 4) if spec.get("multi_digit", True) else 9
        tokens = _random_tokens(rng, spec, size, depth, hi)
        expr = _render(rng, spec, tokens)
        try:
            solve(spec, expr)
        except ZeroDivisionError:
            return None
        return [expr]
    edge = [[e] for e in _edge_cases(spec)] if edge_cases else []
    return fill_random(edge, make_one, difficulty)


def prompt(spec: dict, examples: list[tuple[list, object]]) -> str:
    """Task text with every rule of the spec spelled out."""
    name, ops = spec["entry_point"], spec["operators"]
    literals = ("non-negative integer literals" if spec.get("multi_digit", True)
                else "single-digit non-negative integer literals (0 to 9)")
    brackets = " and parentheses ( )" if spec.get("parentheses", True) else " (no parentheses)"
    show = _spaced if spec["spaces"] == "single" else (lambda text: text)
    rules = [f"The string holds {literals}, the binary operators {' '.join(ops)}{brackets}; "
             "it is always well formed."]
    if spec["precedence"] == "standard":
        rules.append("Usual precedence: * and / bind tighter than + and -; operators of equal "
                     f"precedence are applied left to right ({show('7-2-3')} is 2).")
    elif spec["precedence"] == "left_to_right":
        rules.append("No operator precedence: all binary operators are applied strictly from left "
                     f"to right ({show('2+3*4')} is 20). Parentheses still group.")
    else:
        rules.append(f"Operators are applied left to right ({show('7-2-3')} is 2).")
    rules += division_rules(spec)
    if spec["unary_minus"]:
        rules.append("A - at the start, right after ( or right after an operator is a unary minus; "
                     "it negates the number or parenthesised group right after it and binds "
                     "tighter than every binary operator (4--3 is 7).")
    rules.append({True: "Spaces may appear anywhere between tokens; ignore them.",
                  False: "The string contains no spaces.",
                  "single": "Tokens (" + ("numbers, operators and parentheses" if spec.get("parentheses", True)
                                         else "numbers and operators") + ") are separated by single spaces, "
                            "e.g. '7 - 2 - 3'."}[spec["spaces"]])
    empty_desc = "an empty string or one of only spaces" if spec["spaces"] is True else "the empty string"
    rules += empty_rule(spec, f"{empty_desc} (no tokens at all)")
    returns = "int | None" if spec["empty"] is None or spec["div_zero"] == "none" else "int"
    return render_statement(f"def {name}(expr: str) -> {returns}",
                         "Write a Python function that evaluates an integer arithmetic expression "
                         "given as a string.", rules, examples, name)

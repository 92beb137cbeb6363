"""Family `rpn`: evaluate a Reverse Polish Notation string.

Spec axes: function name, operators, token separator (space, comma or semicolon), division
rounding, division by zero, negative literals such as "-3", malformed input (return None or never
occurs), result for "" (or never empty).

Ladder: difficulty 1 is the canonical task (space-separated, `+ - *`, non-negative literals,
well-formed and non-empty input); each step up may add one twist, in the order of `TWISTS`.
"""
from __future__ import annotations

from tasks.families._common import (climb, division_rules, empty_rule, fill_random, fill_template,
                                     floor_division, int_divide, no_division, reference_empty,
                                     render_statement, safe_division, sample_division,
                                     sample_operators)

NAME = "rpn"
SUMMARY = "evaluate a Reverse Polish Notation string"
NAMES = ("eval_rpn", "evaluate_rpn", "rpn", "postfix_eval", "calc_rpn", "evaluate_postfix")
SEPARATORS = (" ", ",", ";")


def sample_spec(rng, difficulty: int) -> dict:
    """Draw a spec; division keys are None without `/`."""
    ops = sample_operators(rng)
    spec = {"entry_point": rng.choice(NAMES), "operators": ops,
            "separator": rng.choice(SEPARATORS)}
    spec.update(sample_division(rng, ops))
    spec["negative_literals"] = rng.random() < 0.5
    spec["malformed"] = rng.choice(["none", "never"])
    spec["empty"] = rng.choice([0, None])
    return climb(spec, difficulty, TWISTS)


TWISTS = [
    ("division", no_division),                                      # `/` rounding like `//`
    ("negative_literals", lambda s: s.update(negative_literals=False)),
    ("empty", lambda s: s.update(empty="never")),
    ("truncation", floor_division),
    ("division_by_zero", safe_division),
    ("malformed", lambda s: s.update(malformed="never")),
    ("separator", lambda s: s.update(separator=" ")),
]


_REFERENCE = '''
SEPARATOR = __SEPARATOR__
DIVISION = __DIVISION__
DIV_ZERO = __DIV_ZERO__
EMPTY = __EMPTY__


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


def __NAME__(text):
    if text == "":
        return EMPTY
    stack = []
    for token in text.split(SEPARATOR):
        if token in ("+", "-", "*", "/"):
            if len(stack) < 2:
                return None
            b = stack.pop()
            a = stack.pop()
            try:
                stack.append(_apply(token, a, b))
            except ZeroDivisionError:
                return None
        else:
            stack.append(int(token))
    return stack[0] if len(stack) == 1 else None
'''


def reference_source(spec: dict) -> str:
    """Stack-machine solution specialised to the spec."""
    return fill_template(_REFERENCE, NAME=spec["entry_point"], SEPARATOR=spec["separator"],
                         DIVISION=spec["division"], DIV_ZERO=spec["div_zero"], EMPTY=reference_empty(spec))


class _Malformed(Exception):
    pass


def _value(tokens: list[str], spec: dict) -> int:
    """Evaluate the expression that ends at the last token, consuming it (right to left)."""
    if not tokens:
        raise _Malformed
    token = tokens.pop()
    if token not in ("+", "-", "*", "/"):
        return int(token)
    b = _value(tokens, spec)
    a = _value(tokens, spec)
    if token == "+":
        return a + b
    if token == "-":
        return a - b
    if token == "*":
        return a * b
    if b == 0:
        if spec["div_zero"] == "zero":
            return 0
        raise ZeroDivisionError
    return int_divide(a, b, spec["division"])


def solve(spec: dict, text: str):
    """Independent solver: builds the expression from the right end, recursively.

    >>> spec = {"separator": ",", "division": "floor", "div_zero": "none", "empty": None}
    >>> solve(spec, "1,8,-,2,/"), solve(spec, "1,+"), solve(spec, "3,0,/"), solve(spec, "")
    (-4, None, None, None)
    """
    if text == "":
        return spec["empty"]
    tokens = text.split(spec["separator"])
    try:
        value = _value(tokens, spec)
    except _Malformed:
        return None
    except ZeroDivisionError:
        if spec["div_zero"] == "never":
            raise
        return None
    return value if not tokens else None


def _random_tokens(rng, spec: dict, size: int, hi: int) -> list[str]:
    """Postfix tokens of a random expression tree with `size` numbers."""
    if size == 1:
        value = rng.randint(0, hi)
        if spec["negative_literals"] and rng.random() < 0.3:
            value = -value if value else -1
        return [str(value)]
    k = rng.randint(1, size - 1)
    left = _random_tokens(rng, spec, k, hi)
    right = _random_tokens(rng, spec, size - k, hi)
    return left + right + [rng.choice(spec["operators"])]


def _break(rng, tokens: list[str]) -> list[str]:
    """Make a well-formed token list malformed (drop a number or add a token)."""
    tokens = list(tokens)
    if rng.random() < 0.5:
        tokens.insert(rng.randint(0, len(tokens)), rng.choice(["+", "-", "7"]))
    else:
        numbers = [i for i, t in enumerate(tokens) if t not in ("+", "-", "*", "/")]
        del tokens[rng.choice(numbers)]
    return tokens


def _edge_cases(spec: dict) -> list[list[str]]:
    ops = spec["operators"]
    cases = [["5"], ["0"], ["3", "4", "-"], ["10", "2", "3", "-", "-"]]
    if spec["empty"] != "never":
        cases.insert(0, [])
    if "*" in ops:
        cases += [["2", "3", "4", "*", "+"], ["2", "3", "+", "4", "*"]]
    if "/" in ops:
        cases += [["7", "2", "/"], ["1", "8", "-", "2", "/"], ["7", "1", "3", "-", "/"],
                  ["2", "7", "/"], ["64", "4", "/", "2", "/"]]
        if spec["div_zero"] != "never":
            cases += [["9", "0", "/"], ["1", "4", "2", "2", "-", "/", "0", "*", "+"]]
    if spec["negative_literals"]:
        cases += [["-3", "4", "+"], ["5", "-2", "-"]] + ([["-7", "2", "/"]] if "/" in ops else [])
    if spec["malformed"] == "none":
        cases += [["1", "+"], ["1", "2"], ["+"], ["4", "5", "6", "+"]]
    return cases


def sample_inputs(rng, spec: dict, difficulty: int,
                  edge_cases: bool = True) -> list[list]:
    """Edge cases plus random postfix strings; length and magnitude grow with difficulty."""
    sep = spec["separator"]

    def make_one():
        size = rng.randint(2, 3 + 2 * difficulty)
        tokens = _random_tokens(rng, spec, size, 10 ** (1 + difficulty // 4))
        if spec["malformed"] == "none" and rng.random() < 0.2:
            tokens = _break(rng, tokens)
        try:
            solve(spec, sep.join(tokens))
        except ZeroDivisionError:
            return None
        return [sep.join(tokens)]
    edge = [[sep.join(c)] for c in _edge_cases(spec)] if edge_cases else []
    return fill_random(edge, make_one, difficulty)


def prompt(spec: dict, examples: list[tuple[list, object]]) -> str:
    """Task text with every rule of the spec spelled out."""
    name, sep = spec["entry_point"], spec["separator"]
    sep_name = {" ": "a single space", ",": "a single comma", ";": "a single semicolon"}[sep]
    rules = [f"Tokens are separated by {sep_name} ({sep!r}), with no other whitespace.",
             "A token is an integer literal or one of the binary operators "
             f"{' '.join(spec['operators'])}.",
             "An operator pops b (top of the stack), then a, and pushes its own result: "
             + ", ".join(f"'{op}' pushes a {op} b" if op != "/" else "'/' pushes a divided by b"
                         for op in spec["operators"])
             + f" (so {sep.join(['3', '4', '-'])!r} is -1"
             + (f" and {sep.join(['3', '4', '*'])!r} is 12)." if "*" in spec["operators"] else ").")]
    if spec["negative_literals"]:
        rules.append("Integer literals may be negative, like '-3'; a lone '-' is the operator.")
    else:
        rules.append("Integer literals are non-negative.")
    rules += division_rules(spec)
    if spec["malformed"] == "none":
        rules.append("If the expression is malformed (an operator finds fewer than two values, or "
                     "more than one value is left at the end), return None.")
    else:
        rules.append("Inputs are always well-formed expressions"
                     + (", apart from the empty string." if spec["empty"] != "never" else "."))
    rules += empty_rule(spec)
    maybe_none = spec["empty"] is None or spec["div_zero"] == "none" or spec["malformed"] == "none"
    return render_statement(f"def {name}(text: str) -> {'int | None' if maybe_none else 'int'}",
                         "Write a Python function that evaluates an integer expression written in "
                         "Reverse Polish (postfix) Notation.", rules, examples, name)

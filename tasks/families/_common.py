"""Helpers shared by the families: prompt layout, source templates, input dedup, the ladder."""
from __future__ import annotations

import json
import textwrap
from typing import Callable, Iterable

MIN_TESTS = 10
MAX_TESTS = 30


def render_statement(signature: str, task: str, rules: list[str], examples: list[tuple[list, object]],
                  entry_point: str) -> str:
    """The prompt text: task, signature, rules, worked examples and the answer format.

    >>> p = render_statement("def f(s: str) -> int", "Count.", ["Be exact."], [(["ab"], 2)], "f")
    >>> "f('ab')" in p and "```python" in p
    True
    """
    lines = [task, "", "Signature:", f"    {signature}:", "", "Rules:"]
    lines += [f"- {rule}" for rule in rules]
    if examples:
        lines += ["", "Examples:"]
        for args, expected in examples:
            lines.append(f"    >>> {call_text(entry_point, args)}")
            lines.append(f"    {expected!r}")
    lines += ["", answer_format(entry_point)]
    return "\n".join(lines)


def climb(spec: dict, difficulty: int, twists: list[tuple[str, Callable[[dict], None]]]) -> dict:
    """The difficulty ladder: keep the first ``difficulty - 1`` twists as drawn, undo the rest.

    ``twists`` lists a family's departures from its canonical task, easiest first, each as
    ``(name, undo)`` where ``undo(spec)`` sets the canonical value in place. Difficulty 1 is the
    canonical task; each step up lets one more twist be drawn (it may still come out canonical);
    from ``len(twists) + 1`` on the whole spec space is reachable, as drawn.

    >>> undo = [("loud", lambda s: s.update(loud=False)), ("fast", lambda s: s.update(fast=False))]
    >>> [climb({"loud": True, "fast": True}, d, undo) for d in (1, 2, 3)]
    [{'loud': False, 'fast': False}, {'loud': True, 'fast': False}, {'loud': True, 'fast': True}]
    """
    for _, undo in twists[max(0, difficulty - 1):]:
        undo(spec)
    return spec


def renamed(name: str, old: tuple, new: tuple) -> str:
    """The name in ``new`` at the position of ``name`` in ``old`` (deterministic re-naming when a
    twist that picks the name list, e.g. a direction, is undone).

    >>> renamed("b", ("a", "b", "c"), ("x", "y"))
    'y'
    """
    return new[old.index(name) % len(new)] if name in old else name


def answer_format(entry_point: str) -> str:
    """The prompt's last paragraph: the function alone, nothing around it.

    Replies that restate the spec as a docstring and append their own example calls waste the
    token budget, and a budget that cuts them turns a complete function into a syntax error.
    """
    return (f"Reply with only the function `{entry_point}` (plus any helpers it needs) in a single "
            "```python code block. Use only the standard library. Do not add a docstring, "
            "comments, example calls, tests or prints.")


def canonical_direction(canonical: str, names: dict) -> Callable[[dict], None]:
    """Ladder undo for a ``direction`` twist: set ``canonical``, renaming the entry point.

    >>> undo = canonical_direction("encode", {"encode": ("enc",), "decode": ("dec",)})
    >>> spec = {"direction": "decode", "entry_point": "dec"}; undo(spec); spec
    {'direction': 'encode', 'entry_point': 'enc'}
    """
    def undo(spec: dict) -> None:
        if spec["direction"] != canonical:
            spec.update(entry_point=renamed(spec["entry_point"], names[spec["direction"]], names[canonical]),
                        direction=canonical)
    return undo


def call_text(entry_point: str, args: list) -> str:
    """Source text of a call.

    >>> call_text("f", ["a", 1])
    "f('a', 1)"
    """
    return f"{entry_point}({', '.join(repr(a) for a in args)})"


def fill_template(template: str, **values: object) -> str:
    """Dedent `template` and replace each `__KEY__` by `repr(value)` (or the raw name for NAME).

    >>> fill_template("def __NAME__():\\n    return __X__\\n", NAME="f", X=[1])
    'def f():\\n    return [1]\\n'
    """
    text = textwrap.dedent(template).lstrip("\n")
    for key, value in values.items():
        text = text.replace(f"__{key}__", value if key == "NAME" else repr(value))
    return text


def dedupe(inputs: Iterable[list]) -> list[list]:
    """Drop repeated argument lists, keeping first occurrences in order.

    >>> dedupe([["a"], ["b"], ["a"]])
    [['a'], ['b']]
    """
    seen, out = set(), []
    for args in inputs:
        key = json.dumps(args)
        if key not in seen:
            seen.add(key)
            out.append(list(args))
    return out


def target_count(difficulty: int) -> int:
    """Number of hidden tests for a difficulty: 12 at 1 up to 30 at 10.

    >>> [target_count(d) for d in (1, 10)]
    [12, 30]
    """
    return min(MAX_TESTS, 10 + 2 * difficulty)


class Cases(list):
    """Argument lists whose first ``edge`` entries are hand-picked edge cases."""

    edge = 0


def fill_random(edge: list[list], make_one, difficulty: int, max_tries: int = 400) -> list[list]:
    """Edge cases first, then distinct random cases from `make_one()` up to the target count.

    At least `3 + difficulty // 2` random cases are added (within the cap of 30), so that
    problems differ even when a spec's edge cases alone would reach the target.

    `make_one` returns an argument list, or None to skip (e.g. a rejected sample). The result's
    ``edge`` attribute counts the leading edge cases.
    """
    cases = Cases(dedupe(edge)[:MAX_TESTS])
    cases.edge = len(cases)
    seen = {json.dumps(c) for c in cases}
    goal = min(MAX_TESTS, max(target_count(difficulty), len(cases) + 3 + difficulty // 2))
    for _ in range(max_tries):
        if len(cases) >= goal:
            break
        args = make_one()
        if args is not None and json.dumps(args) not in seen:
            seen.add(json.dumps(args))
            cases.append(args)
    return cases


def int_divide(a: int, b: int, mode: str) -> int:
    """Integer division, `mode` "floor" (like `//`) or "trunc" (toward zero).

    >>> int_divide(-7, 2, "floor"), int_divide(-7, 2, "trunc")
    (-4, -3)
    """
    if mode == "floor":
        return a // b
    quotient = abs(a) // abs(b)
    return -quotient if (a < 0) != (b < 0) else quotient


def division_rules(spec: dict, symbol: str = "/") -> list[str]:
    """Prompt rules for the `division` and `div_zero` spec keys (none when there is no `/`)."""
    if spec.get("division") is None:
        return []
    if spec["division"] == "floor":
        rules = [f"`{symbol}` is integer division rounded toward negative infinity (floor), "
                 "like Python's `//`: -7 / 2 is -4."]
    else:
        rules = [f"`{symbol}` is integer division rounded toward zero (truncation): "
                 "-7 / 2 is -3 and 7 / -2 is -3."]
    zero = {
        "none": "If a division by zero happens anywhere in the evaluation, return None.",
        "zero": "Division by zero does not fail: x / 0 evaluates to 0 and evaluation continues.",
        "never": "Inputs never divide by zero.",
    }
    return rules + [zero[spec["div_zero"]]]


def sample_operators(rng) -> str:
    """`+` and `-` always, `*` and `/` usually."""
    return "+-" + ("*" if rng.random() < 0.8 else "") + ("/" if rng.random() < 0.7 else "")


def empty_rule(spec: dict, what: str = "the empty string ''") -> list[str]:
    """The prompt rule for the ``empty`` spec key ("never": the input is never empty)."""
    if spec["empty"] == "never":
        return ["The input is never empty."]
    return [f"For {what}, return {spec['empty']!r}."]


def reference_empty(spec: dict):
    """The ``empty`` value a reference source returns for "" (unreachable when "never")."""
    return None if spec["empty"] == "never" else spec["empty"]


def no_division(spec: dict) -> None:
    """Ladder undo: the canonical operators ``+ - *`` (no ``/``, so no division keys)."""
    spec.update(operators="+-*", division=None, div_zero=None)


def floor_division(spec: dict) -> None:
    """Ladder undo: ``/`` (when present) rounds like ``//``."""
    if spec["division"] is not None:
        spec["division"] = "floor"


def safe_division(spec: dict) -> None:
    """Ladder undo: inputs never divide by zero."""
    if spec["div_zero"] is not None:
        spec["div_zero"] = "never"


def sample_division(rng, operators: str) -> dict:
    """The `division` and `div_zero` spec keys; None when `/` is not an operator."""
    if "/" not in operators:
        return {"division": None, "div_zero": None}
    return {"division": rng.choice(["floor", "trunc"]),
            "div_zero": rng.choice(["none", "zero", "never"])}

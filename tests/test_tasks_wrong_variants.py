"""Deliberately wrong solutions must fail at least one hidden test of every problem they apply to.

Each variant turns a problem into a wrong source string (with the problem's entry point), or
returns None when the mistake cannot show on that problem (e.g. floor vs truncation when the spec
has no division). Variants are either the reference of a spec changed on one axis, or the
reference source with one line broken.
"""
import itertools

import pytest

from tasks import FAMILIES, make_problem
from tasks.families import FAMILY_MODULES
from tests.test_tasks_families import failures

FLIP = {"floor": "trunc", "trunc": "floor", "none": "zero", "zero": "none", "standard":
        "left_to_right", "left_to_right": "standard",
        "count_first": "letter_first", "letter_first": "count_first", "write": "omit",
        "omit": "write", "minus": "none", "keep": "drop", "drop": "keep", "preserve": "lower",
        "lower": "upper", "upper": "preserve", "encrypt": "decrypt", "decrypt": "encrypt"}


def axis(key, when=lambda spec: True):
    """Wrong variant: the reference for the spec with `key` flipped (if it applies)."""
    def variant(p):
        value = p.spec[key]
        if value in (None, "never") or not when(p.spec):
            return None
        module = FAMILY_MODULES[p.family]
        return module.reference_source({**p.spec, key: FLIP[value]})
    variant.__name__ = f"flip_{key}"
    return variant


def respec(name, change, when=lambda spec: True):
    """Wrong variant: the reference for `change(spec)`, a spec with one deliberate slip."""
    def variant(p):
        return FAMILY_MODULES[p.family].reference_source(change(dict(p.spec))) if when(p.spec) else None
    variant.__name__ = name
    return variant


def edit(name, old, new, when=lambda spec: True):
    """Wrong variant: the reference source with `old` replaced by `new`."""
    def variant(p):
        assert old in p.reference, f"{name}: {old!r} not in the reference any more"
        return p.reference.replace(old, new) if when(p.spec) else None
    variant.__name__ = name
    return variant


def empty_flipped(spec):
    """The other answer for the empty input, of the same type where the family needs one."""
    other = {0: None, None: 0, True: False, False: True, -1: 0}
    if spec.get("mode") == "depth":
        other[0] = -1
    return {**spec, "empty": other[spec["empty"]]}


WRONG_EMPTY = respec("wrong_empty_result", empty_flipped, lambda s: s["empty"] != "never")
VARIANTS = {
    "arithmetic": [
        axis("division"), axis("precedence"), WRONG_EMPTY, axis("div_zero"),
        edit("right_associative", "_parse_level(tokens, pos + 1, level + 1)",
             "_parse_level(tokens, pos + 1, level)"),
        edit("unary_minus_ignored", "return -value, pos", "return value, pos",
             lambda s: s["unary_minus"]),
    ],
    "rpn": [
        axis("division"), WRONG_EMPTY, axis("div_zero"),
        edit("operands_swapped", "_apply(token, a, b)", "_apply(token, b, a)"),
        edit("leftovers_ignored", "return stack[0] if len(stack) == 1 else None",
             "return stack[-1] if stack else None", lambda s: s["malformed"] == "none"),
        respec("wrong_separator", lambda s: {**s, "separator": " " if s["separator"] != " " else ","}),
    ],
    "parentheses": [
        WRONG_EMPTY,
        respec("one_kind_ignored", lambda s: {**s, "kinds": s["kinds"][1:]}),
        respec("foreign_bracket_counted", lambda s: {**s, "kinds": s["kinds"] + [
            p for p in ("()", "[]", "{}", "<>") if p[0] in s["ignored"]][:1]},
            lambda s: any(p in s["ignored"] for p in "([{<")),
        edit("kinds_not_matched", "stack.pop() != ch", "not stack.pop()",
             lambda s: len(s["kinds"]) > 1),
        edit("depth_off_by_one", "deepest = max(deepest, len(stack))",
             "deepest = max(deepest, len(stack) - 1)", lambda s: s["mode"] == "depth"),
    ],
    "run_length": [
        axis("order"), axis("ones", lambda s: s["direction"] == "encode"),
        respec("needless_split", lambda s: {**s, "max_run": 9},
               lambda s: s["direction"] == "encode" and s["max_run"] is None),
        respec("no_split", lambda s: {**s, "max_run": None}, lambda s: s["max_run"]),
        edit("missing_count_is_zero", 'int(digits or "1")', 'int(digits or "0")',
             lambda s: s["direction"] == "decode" and s["ones"] == "omit"),
        edit("single_digit_counts", 'int(digits or "1")', 'int(digits[-1:] or "1")',
             lambda s: s["direction"] == "decode" and s["multi_digit"]),
    ],
    "base_convert": [
        axis("negative", lambda s: s["direction"] == "to_base" and not s.get("negabase")),
        respec("positive_base", lambda s: {**s, "negabase": False}, lambda s: s.get("negabase")),
        respec("base_off_by_one", lambda s: {**s, "base": s["base"] - 1, "digits": s["digits"][:-1]},
               lambda s: s["base"] > 2),
        respec("wrong_width", lambda s: {**s, "width": 4 if s["width"] != 4 else 0},
               lambda s: s["direction"] == "to_base"),
        respec("case_swapped", lambda s: {**s, "digits": s["digits"].swapcase()},
               lambda s: s["digits"] != s["digits"].swapcase()),
        edit("little_endian_write", "out = DIGITS[r] + out", "out = out + DIGITS[r]",
             lambda s: s["direction"] == "to_base"),
        edit("little_endian_read", "for ch in s:", "for ch in reversed(s):",
             lambda s: s["direction"] == "from_base"),
    ],
    "caesar": [
        # ROT13 is its own inverse: direction only shows on rotated digits.
        axis("direction", lambda s: s["shift"] != 13 or s["digits"] == "rotate"),
        axis("case"), axis("others"),
        respec("shift_off_by_one", lambda s: {**s, "shift": s["shift"] % 25 + 1}),
        respec("digits_wrong", lambda s: {**s, "digits": "rotate" if s["digits"] != "rotate" else "keep"},
               lambda s: s["shift"] % 10),
        edit("mod_25", "% 26", "% 25"),
    ],
}


def test_every_family_has_at_least_two_wrong_variants():
    assert set(VARIANTS) == set(FAMILIES)
    assert all(len(v) >= 2 for v in VARIANTS.values())


@pytest.mark.parametrize("family", FAMILIES)
def test_wrong_variants_fail_a_hidden_test(family):
    used = {v.__name__: 0 for v in VARIANTS[family]}
    for difficulty, seed in itertools.product(range(1, 11), range(5)):
        problem = make_problem(family, difficulty, seed)
        for variant in VARIANTS[family]:
            source = variant(problem)
            if source is None:
                continue
            assert source != problem.reference
            assert failures(source, problem), (variant.__name__, problem.spec)
            used[variant.__name__] += 1
    assert all(n >= 3 for n in used.values()), used  # no variant is vacuous

"""Family `base_convert`: write an integer in base b, or read one back.

Spec axes: function name, direction (to/from base), base (2-36), digit alphabet (0-9 then
lowercase, 0-9 then uppercase, or a scrambled set of letters), negative numbers (minus sign,
return None, or never given), minimum width with zero-digit padding when writing, and from
difficulty 6 on a negative base (-b: digit k is worth d * (-b)**k, and negative numbers need no
sign, `negative` "native").

Ladder: difficulty 1 is the canonical task (write a non-negative integer in base b with the
digits 0-9a-z, no padding); each step up may add one twist, in the order of `TWISTS`. The four
twists of the original spec space are all drawn from difficulty 5; the negative base, drawn for
half the problems from difficulty 6, goes beyond it, so that difficulty still means something
above 5 (before it, the 0.5B solved difficulty 10 as often as 5: docs/RESULTS.md, 2026-12-07).
"""
from __future__ import annotations

import string

from tasks.families._common import (canonical_direction, climb, fill_random, fill_template,
                                     render_statement)

NAME = "base_convert"
SUMMARY = "convert an integer to or from a base-b string with a given digit alphabet"
NAMES = {"to_base": ("to_base", "int_to_base", "encode_number", "format_base"),
         "from_base": ("from_base", "base_to_int", "decode_number", "parse_base")}
BASES = (2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 16, 20, 36)
STANDARD = string.digits + string.ascii_lowercase


def sample_spec(rng, difficulty: int) -> dict:
    """Draw a spec. `digits[i]` is the character for digit value i."""
    direction = rng.choice(["to_base", "from_base"])
    base = rng.choice(BASES)
    style = rng.choice(["lower", "upper", "letters"] if base <= 26 else ["lower", "upper"])
    if style == "letters":
        digits = "".join(rng.sample(string.ascii_lowercase, base))
    else:
        digits = STANDARD[:base] if style == "lower" else STANDARD[:base].upper()
    negative = rng.choice(["minus", "none", "never"] if direction == "to_base"
                          else ["minus", "never"])
    width = rng.choice([0, 0, 4, 6, 8]) if direction == "to_base" else 0
    spec = {"entry_point": rng.choice(NAMES[direction]), "direction": direction, "base": base,
            "digits": digits, "negative": negative, "width": width}
    if difficulty >= NEGABASE_FROM:  # drawn only where allowed, so that lower rungs keep their problems
        _set_negabase(spec, rng.random() < 0.5)
    return climb(spec, difficulty, TWISTS)


def _set_negabase(spec: dict, on: bool) -> None:
    """Switch the negative base on or off; with it, a negative number is written without a sign.
    Off, the key is absent, so specs below difficulty 6 (and their problem ids) are as they were
    before the negative base existed."""
    if on:
        spec["negabase"] = True
        if spec["negative"] != "never":
            spec["negative"] = "native"
        return
    spec.pop("negabase", None)
    if spec["negative"] == "native":
        spec["negative"] = "minus"


TWISTS = [
    ("from_base", canonical_direction("to_base", NAMES)),
    ("negative", lambda s: s.update(negative="never")),
    ("width", lambda s: s.update(width=0)),
    ("alphabet", lambda s: s.update(digits=STANDARD[:s["base"]])),
    ("negabase", lambda s: _set_negabase(s, False)),                 # beyond the original spec space
]
NEGABASE_FROM = [name for name, _ in TWISTS].index("negabase") + 2  # the difficulty where it joins (6)


_REFERENCE = '''
BASE = __BASE__
NEGABASE = __NEGABASE__
DIGITS = __DIGITS__
NEGATIVE = __NEGATIVE__
WIDTH = __WIDTH__


def _to_base(n):
    if n < 0 and NEGATIVE == "none":
        return None
    sign = "-" if n < 0 and not NEGABASE else ""
    if not NEGABASE:
        n = abs(n)
    out = ""
    while True:
        n, r = divmod(n, -BASE if NEGABASE else BASE)
        if r < 0:
            n, r = n + 1, r + BASE
        out = DIGITS[r] + out
        if n == 0:
            break
    while len(out) < WIDTH:
        out = DIGITS[0] + out
    return sign + out


def _from_base(s):
    sign = 1
    if s.startswith("-"):
        sign, s = -1, s[1:]
    value = 0
    for ch in s:
        value = value * (-BASE if NEGABASE else BASE) + DIGITS.index(ch)
    return sign * value


def __NAME__(x):
    return __IMPL__(x)
'''


def reference_source(spec: dict) -> str:
    """divmod-loop solution specialised to the spec."""
    impl = "_to_base" if spec["direction"] == "to_base" else "_from_base"
    return fill_template(_REFERENCE, NAME=spec["entry_point"], BASE=spec["base"],
                         NEGABASE=spec.get("negabase", False), DIGITS=spec["digits"], NEGATIVE=spec["negative"],
                         WIDTH=spec["width"]).replace("__IMPL__", impl)


def to_base(spec: dict, n: int):
    """Independent writer (recursive).

    >>> to_base({"base": 16, "digits": "0123456789ABCDEF", "negative": "minus", "width": 4}, -255)
    '-00FF'
    >>> [to_base({"base": 2, "digits": "01", "negative": "native", "width": 0, "negabase": True}, n) for n in (2, -3)]
    ['110', '1101']
    """
    if spec.get("negabase"):
        return _to_negabase(spec, n).rjust(spec["width"], spec["digits"][0])
    if n < 0:
        return None if spec["negative"] == "none" else "-" + to_base(spec, -n)
    base, digits = spec["base"], spec["digits"]
    text = digits[n] if n < base else to_base({**spec, "width": 0}, n // base) + digits[n % base]
    return text.rjust(spec["width"], digits[0])


def _to_negabase(spec: dict, n: int) -> str:
    """Digits of n in base -b, recursively: the last digit is n mod b, the rest is (n - d) / -b."""
    base, digits = spec["base"], spec["digits"]
    d = n % base
    rest = (n - d) // -base
    return (_to_negabase(spec, rest) if rest else "") + digits[d]


def from_base(spec: dict, s: str) -> int:
    """Independent reader (positional sum).

    >>> from_base({"base": 3, "digits": "xyz"}, "-zyx")
    -21
    """
    if s.startswith("-"):
        return -from_base(spec, s[1:])
    values = {ch: i for i, ch in enumerate(spec["digits"])}
    radix = -spec["base"] if spec.get("negabase") else spec["base"]
    return sum(values[ch] * radix ** k for k, ch in enumerate(reversed(s)))


def solve(spec: dict, x):
    """Convert according to `spec["direction"]`."""
    return to_base(spec, x) if spec["direction"] == "to_base" else from_base(spec, x)


def _random_number(rng, spec: dict, difficulty: int) -> int:
    n = rng.randint(0, spec["base"] ** rng.randint(1, 2 + 2 * difficulty))
    return -n if spec["negative"] != "never" and rng.random() < (0.5 if spec.get("negabase") else 0.3) else n


def _edge_numbers(spec: dict) -> list[int]:
    b = spec["base"]
    cases = [0, 1, b - 1, b, b + 1, b * b - 1, b * b, 10, 35 % b + b * 7, 255, 1000, b ** 6 - 1]
    if spec.get("negabase"):
        cases[3:3] = [2, 3]
    if spec["negative"] != "never":
        cases += [-1, -b, -(b * b + b - 1), -1000]
    return cases


def sample_inputs(rng, spec: dict, difficulty: int,
                  edge_cases: bool = True) -> list[list]:
    """Numbers when writing; base-b strings (made by the writer) when reading."""
    def as_input(n: int) -> list:
        if spec["direction"] == "to_base":
            return [n]
        padded = {**spec, "width": rng.choice([0, 0, 0, 5])}
        return [to_base(padded, n)]

    edge = [as_input(n) for n in _edge_numbers(spec)] if edge_cases else []
    return fill_random(edge, lambda: as_input(_random_number(rng, spec, difficulty)),
                       difficulty)


def prompt(spec: dict, examples: list[tuple[list, object]]) -> str:
    """Task text with every rule of the spec spelled out."""
    name, digits = spec["entry_point"], spec["digits"]
    base = -spec["base"] if spec.get("negabase") else spec["base"]
    shown = ", ".join(f"{i}={ch!r}" for i, ch in enumerate(digits))
    rules = [f"Base {base}. The digit characters, by value, are exactly: {shown}.",
             "Digits are written most significant first."]
    if spec.get("negabase"):
        b = spec["base"]
        rules.append(f"The base is negative: the digit with value d in position k (k = 0 for the last "
                     f"digit) is worth d * ({base})**k, so the two-digit string for values 1, 0 "
                     f"stands for {base} and the three-digit string for 1, 0, 0 for {b * b}.")
    if spec["direction"] == "to_base":
        task = f"Write a Python function that writes an integer in base {base}."
        sig = "n: int) -> str"
        rules.append("No leading zero digits, except that 0 is written as the single digit for 0."
                     if not spec["width"] else
                     f"Pad with the digit for 0 on the left to at least {spec['width']} digits "
                     "(longer results are not cut).")
        negative = {"minus": "A negative number is written as '-' followed by the digits of its "
                             "absolute value" + (" (the sign is not counted in the width)."
                                                 if spec["width"] else "."),
                    "none": "For a negative number return None.",
                    "never": "n is never negative.",
                    "native": "Negative numbers need no sign: every integer has exactly one "
                              "representation, and no '-' is ever written."}
        if spec["negative"] == "none":
            sig = "n: int) -> str | None"
    else:
        task = f"Write a Python function that reads an integer written in base {base}."
        sig = "s: str) -> int"
        rules.append("The string may have leading digits for 0; it is never empty.")
        negative = {"minus": "A leading '-' means the number is negative.",
                    "never": "There is never a sign; the number is non-negative.",
                    "native": "There is never a sign; the value may still be negative."}
    rules.append(negative[spec["negative"]])
    return render_statement(f"def {name}({sig}", task, rules, examples, name)

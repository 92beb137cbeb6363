"""Family `caesar`: shift letters (and maybe digits) of a text by a fixed amount.

Spec axes: function name, shift (1-25), direction (forward to encrypt, backward to decrypt),
output case (preserve, lower, upper), digits (keep, rotate mod 10, drop), other characters
(keep or drop).

Ladder: difficulty 1 is the canonical task (encrypt: shift letters forward, case kept, every
other character unchanged); each step up may add one twist, in the order of `TWISTS`.
"""
from __future__ import annotations

import string

from tasks.families._common import (canonical_direction, climb, fill_random, fill_template,
                                     render_statement)

NAME = "caesar"
SUMMARY = "Caesar-shift the letters (and maybe digits) of a text"
NAMES = {"encrypt": ("caesar_encrypt", "encrypt", "shift_text", "encode"),
         "decrypt": ("caesar_decrypt", "decrypt", "unshift_text", "decode")}
PUNCTUATION = " .,!?-:'"


def sample_spec(rng, difficulty: int) -> dict:
    """Draw a spec (digits never "rotate" by a multiple of 10, which would leave them as is)."""
    direction = rng.choice(["encrypt", "decrypt"])
    shift = rng.randint(1, 25)
    digit_modes = ["keep", "rotate", "drop"] if shift % 10 else ["keep", "drop"]  # rotate 10 = keep
    spec = {"entry_point": rng.choice(NAMES[direction]), "direction": direction, "shift": shift,
            "case": rng.choice(["preserve", "lower", "upper"]), "digits": rng.choice(digit_modes),
            "others": rng.choice(["keep", "drop"])}
    return climb(spec, difficulty, TWISTS)


TWISTS = [
    ("decrypt", canonical_direction("encrypt", NAMES)),
    ("others_dropped", lambda s: s.update(others="keep")),
    ("case", lambda s: s.update(case="preserve")),
    ("digits", lambda s: s.update(digits="keep")),
]


_REFERENCE = '''
SHIFT = __SHIFT__
CASE = __CASE__
DIGITS = __DIGITS__
OTHERS = __OTHERS__


def _shift_char(ch):
    if "a" <= ch.lower() <= "z":
        start = ord("a") if ch.islower() else ord("A")
        out = chr(start + (ord(ch) - start + SHIFT) % 26)
        if CASE == "lower":
            return out.lower()
        if CASE == "upper":
            return out.upper()
        return out
    if "0" <= ch <= "9":
        if DIGITS == "keep":
            return ch
        if DIGITS == "drop":
            return ""
        return str((int(ch) + SHIFT) % 10)
    return ch if OTHERS == "keep" else ""


def __NAME__(text):
    return "".join(_shift_char(ch) for ch in text)
'''


def reference_source(spec: dict) -> str:
    """Character-loop solution specialised to the spec (a decrypt shift is negated)."""
    shift = spec["shift"] if spec["direction"] == "encrypt" else -spec["shift"]
    return fill_template(_REFERENCE, NAME=spec["entry_point"], SHIFT=shift, CASE=spec["case"],
                         DIGITS=spec["digits"], OTHERS=spec["others"])


def solve(spec: dict, text: str) -> str:
    """Independent solver built on `str.maketrans`.

    >>> spec = {"direction": "decrypt", "shift": 3, "case": "preserve", "digits": "rotate",
    ...         "others": "drop"}
    >>> solve(spec, "Dde, 12!")
    'Aab89'
    """
    k = spec["shift"] if spec["direction"] == "encrypt" else 26 - spec["shift"]
    low, up, dig = string.ascii_lowercase, string.ascii_uppercase, string.digits
    table = {**str.maketrans(low + up, low[k:] + low[:k] + up[k:] + up[:k])}
    d = spec["shift"] % 10 if spec["direction"] == "encrypt" else -spec["shift"] % 10
    if spec["digits"] == "rotate":
        table.update(str.maketrans(dig, dig[d:] + dig[:d]))
    elif spec["digits"] == "drop":
        table.update(str.maketrans("", "", dig))
    if spec["others"] == "drop":
        table.update({ord(ch): None for ch in set(text) if not ch.isascii() or not ch.isalnum()})
    out = text.translate(table)
    return {"preserve": out, "lower": out.lower(), "upper": out.upper()}[spec["case"]]


def _random_text(rng, difficulty: int) -> str:
    words = []
    for _ in range(rng.randint(1, 1 + 2 * difficulty)):
        pool = rng.choice([string.ascii_lowercase] * 3 + [string.ascii_letters, string.digits])
        words.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
        words.append(rng.choice(PUNCTUATION))
    return "".join(words[:-1])


EDGE = ["", "a", "z", "Z", "xyz", "ABC", "Hello, World!", "abc XYZ", "2024", "9 to 5",
        "a1b2c3", "Zebra-42?", "...", "The quick brown fox jumps over the lazy dog"]


def sample_inputs(rng, spec: dict, difficulty: int,
                  edge_cases: bool = True) -> list[list]:
    """Edge texts plus random mixtures of letters, digits, spaces and punctuation."""
    edge = [[t] for t in EDGE] if edge_cases else []
    return fill_random(edge, lambda: [_random_text(rng, difficulty)], difficulty)


def prompt(spec: dict, examples: list[tuple[list, object]]) -> str:
    """Task text with every rule of the spec spelled out."""
    name, k = spec["entry_point"], spec["shift"]
    way = "forward" if spec["direction"] == "encrypt" else "backward"
    verb = "encrypts" if spec["direction"] == "encrypt" else "decrypts"
    rules = [f"Shift every ASCII letter {k} places {way} in the alphabet, wrapping around "
             f"({'z' if way == 'forward' else 'a'} wraps to "
             f"{'abcdefghijklmnopqrstuvwxyz'[(25 + k) % 26 if way == 'forward' else -k]})."]
    case = {"preserve": "Letters keep their case.",
            "lower": "The result is all lowercase (shift first, then lowercase).",
            "upper": "The result is all uppercase (shift first, then uppercase)."}
    rules.append(case[spec["case"]])
    rules.append({"keep": "Digits stay unchanged.",
                  "rotate": f"Digits are shifted {k} places {way} among 0-9, wrapping around "
                            f"(so {'9' if way == 'forward' else '0'} becomes "
                            f"{(9 + k) % 10 if way == 'forward' else -k % 10}).",
                  "drop": "Digits are removed."}[spec["digits"]])
    rules.append("Every other character (spaces, punctuation) is "
                 + ("kept unchanged." if spec["others"] == "keep" else "removed."))
    return render_statement(f"def {name}(text: str) -> str",
                         f"Write a Python function that {verb} a text with a Caesar shift.",
                         rules, examples, name)

"""Family `run_length`: run-length encode or decode a string of letters.

Spec axes: function name, direction (encode/decode), group order (count before or after the
letter), whether a count of 1 is written or omitted, maximum run per group when encoding (none or
9), letters used (lowercase only or mixed case, which are distinct), counts of several digits
(always, except at difficulty 1).

Ladder: difficulty 1 is the canonical task at its smallest (decode non-empty lowercase text
written count then letter, counts of 1 written, every count one digit: "3a1b" -> "aaab"); each step
up may add one twist, in the order of `TWISTS` (counts of several digits, encoding, letter before
count, the empty input, ...). The 0.5B model decodes count-first groups far more often than it
encodes (docs/RESULTS.md, 2026-12-04), and more often with one-digit counts (2026-12-07).
"""
from __future__ import annotations

import itertools
import re
import string

from tasks.families._common import (canonical_direction, climb, fill_random, fill_template,
                                     render_statement)

NAME = "run_length"
SUMMARY = "run-length encode or decode a string of letters"
NAMES = {"encode": ("rle_encode", "encode_runs", "compress", "run_length_encode"),
         "decode": ("rle_decode", "decode_runs", "expand", "run_length_decode")}


def sample_spec(rng, difficulty: int) -> dict:
    """Draw a spec; `max_run` only applies to encoding (None when decoding)."""
    direction = rng.choice(["encode", "decode"])
    spec = {"entry_point": rng.choice(NAMES[direction]), "direction": direction,
            "order": rng.choice(["count_first", "letter_first"]),
            "ones": rng.choice(["write", "omit"]),
            "max_run": rng.choice([None, 9]) if direction == "encode" else None,
            "letters": rng.choice([string.ascii_lowercase, string.ascii_letters]),
            "empty_input": True, "multi_digit": True}  # the full task; the ladder may take them away
    return climb(spec, difficulty, TWISTS)


def _decoding(spec: dict) -> None:
    """Undo of "encode": decode (which has no run limit)."""
    canonical_direction("decode", NAMES)(spec)
    spec["max_run"] = None


TWISTS = [
    ("multi_digit", lambda s: s.update(multi_digit=False)),        # canonical: counts 1-9
    ("encode", _decoding),                                          # canonical: decode '3a2b'
    ("letter_first", lambda s: s.update(order="count_first")),
    ("empty_input", lambda s: s.update(empty_input=False)),        # canonical: never ""
    ("mixed_case", lambda s: s.update(letters=string.ascii_lowercase)),
    ("ones_omitted", lambda s: s.update(ones="write")),
    ("max_run", lambda s: s.update(max_run=None)),
]


_REFERENCE = '''
ORDER = __ORDER__
ONES = __ONES__
MAX_RUN = __MAX_RUN__


def _group(count, letter):
    text = "" if (count == 1 and ONES == "omit") else str(count)
    return text + letter if ORDER == "count_first" else letter + text


def _encode(s):
    out = []
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        run = j - i
        while run > 0:
            size = run if MAX_RUN is None else min(run, MAX_RUN)
            out.append(_group(size, s[i]))
            run -= size
        i = j
    return "".join(out)


def _decode(s):
    out = []
    digits = ""
    pending = None
    for ch in s + "$":
        if ch.isdigit():
            digits += ch
            continue
        if ORDER == "count_first":
            if ch != "$":
                out.append(ch * int(digits or "1"))
        elif pending is not None:
            out.append(pending * int(digits or "1"))
        pending = ch
        digits = ""
    return "".join(out)


def __NAME__(s):
    return __IMPL__(s)
'''


def reference_source(spec: dict) -> str:
    """Loop-based solution specialised to the spec."""
    impl = "_encode" if spec["direction"] == "encode" else "_decode"
    return fill_template(_REFERENCE, NAME=spec["entry_point"], ORDER=spec["order"],
                         ONES=spec["ones"], MAX_RUN=spec["max_run"]).replace("__IMPL__", impl)


def encode(spec: dict, s: str) -> str:
    """Independent encoder (itertools.groupby).

    >>> encode({"order": "count_first", "ones": "omit", "max_run": 9}, "abbb" + "c" * 12)
    'a3b9c3c'
    """
    groups = []
    for letter, run in itertools.groupby(s):
        count = len(list(run))
        step = spec["max_run"] or count
        sizes = [step] * (count // step) + ([count % step] if count % step else [])
        for size in sizes:
            number = "" if size == 1 and spec["ones"] == "omit" else str(size)
            groups.append(number + letter if spec["order"] == "count_first" else letter + number)
    return "".join(groups)


def decode(spec: dict, s: str) -> str:
    """Independent decoder (regular expression).

    >>> decode({"order": "letter_first"}, "a12bc2")
    'aaaaaaaaaaaabcc'
    """
    if spec["order"] == "count_first":
        return "".join(letter * int(n or 1) for n, letter in re.findall(r"(\d*)(\D)", s))
    return "".join(letter * int(n or 1) for letter, n in re.findall(r"(\D)(\d*)", s))


def solve(spec: dict, s: str) -> str:
    """Encode or decode according to `spec["direction"]`."""
    return encode(spec, s) if spec["direction"] == "encode" else decode(spec, s)


def _random_text(rng, letters: str, difficulty: int) -> str:
    """Runs of random letters; run lengths and the number of runs grow with difficulty."""
    alphabet = rng.sample(letters, min(len(letters), rng.randint(2, 3 + difficulty)))
    runs = []
    for _ in range(rng.randint(1, 2 + 2 * difficulty)):
        letter = rng.choice(alphabet)
        length = rng.choice([1, 1, 2, rng.randint(1, 3 + 2 * difficulty)])
        runs.append(letter * length)
    return "".join(runs)


def _edge_texts(spec: dict) -> list[str]:
    cases = ([""] if spec.get("empty_input", True) else []) + ["a", "ab", "aab", "abb", "zzzz", "abcabc", "a" * 9, "b" * 10, "c" * 12,
             "x" * 19 + "y", "q" * 27]
    if spec["letters"] != string.ascii_lowercase:
        cases += ["aA", "AAaaA", "ZZz"]
    if not spec.get("multi_digit", True):
        cases = [c for c in cases if max((len(list(run)) for _, run in itertools.groupby(c)), default=0) <= 9]
    return cases


def sample_inputs(rng, spec: dict, difficulty: int,
                  edge_cases: bool = True) -> list[list]:
    """Plain texts when encoding; encoded texts (made by the encoder) when decoding.

    Decoding inputs are sometimes encoded with runs split at 9 ('9a3a'); edge cases never are,
    so multi-digit counts are always tested.
    """
    def as_input(text: str, max_run=None) -> list:
        if spec["direction"] == "encode":
            return [text]
        return [encode({**spec, "max_run": max_run}, text)]

    edge = [as_input(t) for t in _edge_texts(spec)] if edge_cases else []
    single = not spec.get("multi_digit", True)
    return fill_random(edge, lambda: as_input(_random_text(rng, spec["letters"], difficulty),
                                              9 if single or rng.random() >= 0.7 else None), difficulty)


def _format_rules(spec: dict) -> list[str]:
    order = ("the count comes before the letter (e.g. '3a')" if spec["order"] == "count_first"
             else "the letter comes before the count (e.g. 'a3')")
    one = "'1a'" if spec["order"] == "count_first" else "'a1'"
    ones = (f"a count of 1 is written like any other count ({one})" if spec["ones"] == "write"
            else "a count of 1 is omitted: a letter with no count stands for one letter")
    letters = ("lowercase ASCII letters" if spec["letters"] == string.ascii_lowercase else
               "ASCII letters; upper and lower case are different letters "
               "('a' and 'A' never merge)")
    digits = " and may have several digits." if not spec["max_run"] else "."
    if not spec.get("multi_digit", True):
        digits = ": a single digit from 1 to 9."
    if spec["direction"] == "decode":
        example = "'3a'" if spec["order"] == "count_first" else "'a3'"
        return [f"Decoded texts consist of {letters}.",
                f"The input is a sequence of groups; each group is a letter and its count: {order}; "
                f"{ones}. Counts are written in decimal{digits}",
                f"Each group stands for its letter repeated count times ({example} stands for 'aaa')."]
    return [f"Texts consist of {letters}.",
            "A run is a maximal block of the same letter; each run becomes one group: "
            f"{order}; {ones}. Counts are written in decimal{digits}"]


def prompt(spec: dict, examples: list[tuple[list, object]]) -> str:
    """Task text with every rule of the spec spelled out."""
    name = spec["entry_point"]
    rules = _format_rules(spec)
    if spec["direction"] == "encode":
        task = "Write a Python function that run-length encodes a string."
        if spec["max_run"]:
            rules.append(f"A group never counts more than {spec['max_run']} letters: a longer run "
                         f"is split into groups of {spec['max_run']} followed by the remainder "
                         "(e.g. 12 a's give the groups for 9 and then 3).")
        rules.append("Return the groups concatenated; " + ("the empty string encodes to ''."
                     if spec.get("empty_input", True) else "the input is never empty."))
    else:
        task = "Write a Python function that decodes a run-length encoded string."
        rules.append("Return the decoded text; " + ("'' decodes to ''. " if spec.get("empty_input", True)
                     else "the input is never empty. ") + "Inputs are always valid "
                     "encodings (adjacent groups may repeat the same letter).")
    return render_statement(f"def {name}(s: str) -> str", task, rules, examples, name)

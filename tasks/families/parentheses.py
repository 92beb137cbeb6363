"""Family `parentheses`: is a bracket string balanced (or how deep is it)?

Spec axes: function name, which bracket pairs count (1-4 of () [] {} <>), which other characters
appear and must be ignored (letters, spaces, and bracket characters that do NOT count here),
answer mode (bool "balanced?" or max nesting depth / -1), result for the empty string.

Ladder: difficulty 1 is the canonical task at its smallest (round parentheses only, balanced ->
bool, "" is balanced); each step up may add one twist, in the order of `TWISTS` (other bracket
sets, the usual `()[]{}` among them; ignored filler; ...). The 0.5B model checks one kind well and
rarely compares kinds (docs/RESULTS.md, 2026-12-04).
"""
from __future__ import annotations

import re

from tasks.families._common import climb, fill_random, fill_template, render_statement, renamed

NAME = "parentheses"
SUMMARY = "decide whether a bracket string is balanced, or measure its nesting depth"
NAMES_BOOL = ("is_balanced", "balanced", "check_brackets", "brackets_ok", "valid_brackets")
NAMES_DEPTH = ("max_depth", "nesting_depth", "bracket_depth", "depth_of")
PAIRS = ("()", "[]", "{}", "<>")
FILLERS = ("ab", "xyz", " ", "a1 ", "+-*")


def sample_spec(rng, difficulty: int) -> dict:
    """Draw a spec. `ignored` lists characters that may appear and are not brackets."""
    kinds = sorted(rng.sample(PAIRS, rng.randint(1, 4)), key=PAIRS.index)
    foreign = "".join(p for p in PAIRS if p not in kinds) if rng.random() < 0.5 else ""
    filler = rng.choice(FILLERS) if rng.random() < 0.5 else ""
    mode = "bool" if rng.random() < 0.65 else "depth"
    names = NAMES_BOOL if mode == "bool" else NAMES_DEPTH
    empty = rng.choice([True, False]) if mode == "bool" else rng.choice([0, -1])
    spec = {"entry_point": rng.choice(names), "kinds": kinds, "ignored": foreign + filler,
            "mode": mode, "empty": empty}
    return climb(spec, difficulty, TWISTS)


def _bool_mode(spec: dict) -> None:
    if spec["mode"] == "depth":
        spec.update(mode="bool", empty=True,
                    entry_point=renamed(spec["entry_point"], NAMES_DEPTH, NAMES_BOOL))


BRACKETS = "".join(PAIRS)
TWISTS = [
    ("kinds", lambda s: s.update(kinds=["()"])),                    # canonical: '(' and ')' only
    ("filler", lambda s: s.update(ignored="".join(c for c in s["ignored"] if c in BRACKETS))),
    ("depth", _bool_mode),
    ("foreign_brackets", lambda s: s.update(ignored="".join(c for c in s["ignored"] if c not in BRACKETS))),
    ("empty", lambda s: s.update(empty=True if s["mode"] == "bool" else 0)),
]


_REFERENCE = '''
PAIRS = __PAIRS__
EMPTY = __EMPTY__
MODE = __MODE__


def __NAME__(s):
    if s == "":
        return EMPTY
    closer_of = {p[0]: p[1] for p in PAIRS}
    closers = {p[1] for p in PAIRS}
    stack = []
    deepest = 0
    for ch in s:
        if ch in closer_of:
            stack.append(closer_of[ch])
            deepest = max(deepest, len(stack))
        elif ch in closers:
            if not stack or stack.pop() != ch:
                return False if MODE == "bool" else -1
    if stack:
        return False if MODE == "bool" else -1
    return True if MODE == "bool" else deepest
'''


def reference_source(spec: dict) -> str:
    """Stack-based solution specialised to the spec."""
    return fill_template(_REFERENCE, NAME=spec["entry_point"], PAIRS=spec["kinds"],
                         EMPTY=spec["empty"], MODE=spec["mode"])


def solve(spec: dict, s: str):
    """Independent solver: repeatedly delete adjacent matching pairs.

    >>> spec = {"kinds": ["()", "[]"], "mode": "bool", "empty": False}
    >>> solve(spec, "([x]{)"), solve(spec, "([)]"), solve(spec, "")
    (True, False, False)
    >>> solve({"kinds": ["()"], "mode": "depth", "empty": 0}, "(()())")
    2
    """
    if s == "":
        return spec["empty"]
    brackets = "".join(spec["kinds"])
    text = "".join(ch for ch in s if ch in brackets)
    innermost = re.compile("|".join(re.escape(pair) for pair in spec["kinds"]))
    depth = 0
    while innermost.search(text):  # one pass strips one nesting level
        depth, text = depth + 1, innermost.sub("", text)
    if spec["mode"] == "bool":
        return text == ""
    return depth if text == "" else -1


def _balanced(rng, kinds: list[str], pairs: int, depth: int) -> str:
    """A random balanced string with `pairs` pairs nested at most `depth` deep."""
    if pairs == 0:
        return ""
    inside = rng.randint(0, pairs - 1) if depth > 1 else 0
    kind = rng.choice(kinds)
    head = kind[0] + _balanced(rng, kinds, inside, depth - 1) + kind[1]
    return head + _balanced(rng, kinds, pairs - 1 - inside, depth)


def _corrupt(rng, s: str, kinds: list[str]) -> str:
    """Break a balanced string: change a kind, drop, insert or swap a character."""
    chars = list(s)
    i = rng.randrange(len(chars))
    choice = rng.randrange(4)
    if choice == 0 and len(kinds) > 1:
        pair = next(p for p in kinds if chars[i] in p)
        other = rng.choice([p for p in kinds if p != pair])
        chars[i] = other[pair.index(chars[i])]
    elif choice <= 1:
        del chars[i]
    elif choice == 2:
        chars.insert(rng.randint(0, len(chars)), rng.choice("".join(kinds)))
    else:
        j = rng.randrange(len(chars))
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def _sprinkle(rng, s: str, ignored: str, rate: float) -> str:
    """Insert ignored characters at random positions."""
    if not ignored:
        return s
    out = []
    for ch in s + "\0":
        while rng.random() < rate:
            out.append(rng.choice(ignored))
        out.append(ch)
    return "".join(out[:-1])


def _edge_cases(spec: dict) -> list[str]:
    kinds, ignored = spec["kinds"], spec["ignored"]
    first = kinds[0]
    all_nested = "".join(p[0] for p in kinds) + "".join(p[1] for p in reversed(kinds))
    cases = ["", first, first[0], first[1], first[::-1], first * 2, all_nested, "".join(kinds)]
    for pair in kinds:  # each kind alone is checked: one open bracket of it left unclosed
        cases.append("".join(kinds) + pair[0])
    if len(kinds) > 1:
        a, b = kinds[0], kinds[1]
        cases += [a[0] + b[1], a[0] + b[0] + a[1] + b[1], b[0] + a[0] + a[1] + b[1]]
    for ch in ignored:  # ignored characters must not count as brackets
        if ch in "()[]{}<>":
            cases.append(first[0] + ch + first[1])
    if ignored:
        cases += [ignored, first[0] + ignored[::-1] + first[1] + ignored]
    return cases


def sample_inputs(rng, spec: dict, difficulty: int,
                  edge_cases: bool = True) -> list[list]:
    """Edge cases plus random strings; length and nesting depth grow with difficulty."""
    kinds = spec["kinds"]

    def make_one():
        pairs = rng.randint(1, 2 + 3 * difficulty)
        s = _balanced(rng, kinds, pairs, rng.randint(1, 1 + difficulty))
        if rng.random() < 0.5:
            s = _corrupt(rng, s, kinds)
        return [_sprinkle(rng, s, spec["ignored"], 0.25)]
    edge = [[c] for c in _edge_cases(spec)] if edge_cases else []
    return fill_random(edge, make_one, difficulty)


def prompt(spec: dict, examples: list[tuple[list, object]]) -> str:
    """Task text with every rule of the spec spelled out."""
    name, kinds = spec["entry_point"], spec["kinds"]
    listed = ", ".join(f"'{p[0]}' closed by '{p[1]}'" for p in kinds)
    rules = [f"The bracket pairs are exactly: {listed}.",
             "A string is balanced when every opening bracket is closed by the matching closing "
             "bracket of the same pair, in the right (nested) order, and no closing bracket is "
             "left without its opening bracket."]
    if spec["ignored"]:
        shown = " ".join(repr(c) for c in spec["ignored"])
        rules.append(f"Any other character is ignored. Inputs may contain {shown}: these are NOT "
                     "brackets here, whatever they look like.")
    else:
        rules.append("Inputs contain only these bracket characters.")
    if spec["mode"] == "bool":
        task, returns = "Write a Python function that decides whether a string is balanced.", "bool"
        rules.append("Return True if the string is balanced, otherwise False.")
    else:
        task, returns = "Write a Python function that measures bracket nesting depth.", "int"
        rules.append("If the string is balanced, return the maximum nesting depth (number of "
                     "brackets open at the same time; 0 when there are none); otherwise return -1.")
    rules.append(f"Special case: for the empty string '' return {spec['empty']!r} "
                 "(a non-empty string without brackets follows the rules above).")
    return render_statement(f"def {name}(s: str) -> {returns}", task, rules, examples, name)

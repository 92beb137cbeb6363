"""The difficulty ladder: difficulty 1 is each family's canonical task, each step adds one twist."""
import copy
import re

import pytest

from tasks import FAMILIES, make_problem
from tasks.families import FAMILY_MODULES

SEEDS = range(40)


def active_twists(family: str, spec: dict) -> list[str]:
    """The twists whose undo would change this spec (those drawn away from canonical)."""
    active = []
    for name, undo in FAMILY_MODULES[family].TWISTS:
        undone = copy.deepcopy(spec)
        undo(undone)
        if undone != spec:
            active.append(name)
    return active


@pytest.mark.parametrize("family", FAMILIES)
def test_difficulty_1_is_canonical_for_every_seed(family):
    specs = [make_problem(family, 1, seed).spec for seed in SEEDS]
    assert all(active_twists(family, s) == [] for s in specs)
    assert len({s["entry_point"] for s in specs}) >= 2  # names still vary


@pytest.mark.parametrize("family", FAMILIES)
def test_each_step_adds_at_most_one_twist_in_order(family):
    names = [name for name, _ in FAMILY_MODULES[family].TWISTS]
    for difficulty in range(1, 11):
        allowed = set(names[: difficulty - 1])
        for seed in SEEDS:
            assert set(active_twists(family, make_problem(family, difficulty, seed).spec)) <= allowed


@pytest.mark.parametrize("family", FAMILIES)
def test_every_twist_is_drawn_from_its_step_on(family):
    twists = FAMILY_MODULES[family].TWISTS
    assert 4 <= len(twists) <= 9  # full variety by difficulty 10 at the latest
    for step, (name, _) in enumerate(twists, start=2):
        seen = sum(name in active_twists(family, make_problem(family, step, seed).spec) for seed in SEEDS)
        assert seen >= 3, (name, step, seen)


def test_canonical_prompts_ask_for_the_function_alone():
    for family in FAMILIES:
        p = make_problem(family, 1, 0)
        assert "Do not add a docstring" in p.prompt and f"`{p.entry_point}`" in p.prompt


def test_arithmetic_starts_with_single_spaced_tokens_and_keeps_the_other_spacings():
    """Difficulty 1-4 separate every token by one space ('7 - 2 - 3'); from 5 on no spaces and
    free spacing are drawn, as before the ladder."""
    for seed in range(10):
        p = make_problem("arithmetic", 1, seed)
        assert p.spec["spaces"] == "single" and "separated by single spaces" in p.prompt
        for t in p.tests:
            expr = t.args[0]
            assert expr.split(" ") == [c for c in expr if c != " "], expr  # one-character tokens, one space apart
    later = {make_problem("arithmetic", 6, seed).spec["spaces"] for seed in range(30)}
    assert later == {True, False}


def test_parentheses_start_with_round_ones_then_any_bracket_sets():
    assert all(make_problem("parentheses", 1, s).spec["kinds"] == ["()"] for s in SEEDS)
    assert all(set("".join(t.args[0] for t in make_problem("parentheses", 1, s).tests)) <= set("()")
               for s in range(10))
    later = {tuple(make_problem("parentheses", 2, s).spec["kinds"]) for s in SEEDS}
    assert len(later) >= 5 and ("()", "[]", "{}") in later


def test_rpn_prompt_says_what_each_operator_pushes():
    p = make_problem("rpn", 1, 0)
    assert "'+' pushes a + b, '-' pushes a - b, '*' pushes a * b" in p.prompt


def test_run_length_decoding_is_described_as_decoding():
    """A decode prompt that described the runs of the text made the 0.5B write encoders."""
    spec = next(p.spec for p in (make_problem("run_length", 9, s) for s in SEEDS) if p.spec["direction"] == "decode")
    text = FAMILY_MODULES["run_length"].prompt(spec, [])
    assert "The input is a sequence of groups" in text and "stands for" in text


def test_run_length_starts_with_single_digit_counts_then_allows_longer_runs():
    """Difficulty 1 decodes groups whose counts are one digit ('3a1b'); from difficulty 2 on the
    multi-digit edge cases ('10b', '27q') come back, for decoding and encoding alike."""
    for seed in range(10):
        p = make_problem("run_length", 1, seed)
        assert p.spec["multi_digit"] is False and "a single digit from 1 to 9" in p.prompt
        counts = [int(n) for t in p.tests for n in re.findall(r"\d+", t.args[0])]
        assert counts and all(1 <= n <= 9 for n in counts), counts
    later = [make_problem("run_length", 2, seed) for seed in range(10)]
    assert all(p.spec["multi_digit"] and "may have several digits" in p.prompt for p in later)
    assert all(any(re.search(r"\d\d", t.args[0]) for t in p.tests) for p in later)


def test_base_convert_goes_beyond_its_spec_space_with_a_negative_base_from_difficulty_6():
    """The four original twists are all drawn by difficulty 5; above it a negative base (digit k
    worth d * (-b)**k, negatives without a sign) keeps the ladder climbing. Lower rungs keep
    their problems: their specs have no `negabase` key at all."""
    base_convert = FAMILY_MODULES["base_convert"]
    assert all("negabase" not in make_problem("base_convert", d, s).spec for d in range(1, 6) for s in SEEDS)
    drawn = [make_problem("base_convert", 8, s) for s in SEEDS]
    negative = [p for p in drawn if p.spec.get("negabase")]
    assert 0.25 <= len(negative) / len(drawn) <= 0.75
    for p in negative:
        assert f"Base -{p.spec['base']}." in p.prompt and "is worth d * (-" in p.prompt
        assert p.spec["negative"] in ("native", "never")
        if p.spec["negative"] == "native" and p.spec["direction"] == "to_base":
            assert "no '-' is ever written" in p.prompt
            assert any(t.args[0] < 0 and "-" not in t.expected for t in p.tests)
    spec = {"base": 2, "digits": "01", "negative": "native", "width": 0, "negabase": True}
    for n in range(-40, 41):
        text = base_convert.to_base(spec, n)
        assert "-" not in text and base_convert.from_base(spec, text) == n

"""The difficulty ladder: difficulty 1 is each family's canonical task, each step adds one twist."""
import copy

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

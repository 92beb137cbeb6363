"""Train/val/test (and optional out-of-distribution) problem sets with no shared problems."""
from __future__ import annotations

from typing import Sequence

from tasks.generate import FAMILIES, check_difficulty, check_family, make_problem
from tasks.problem import Problem
from tasks.seeding import derive_seed

MAX_ATTEMPTS = 200


def build_splits(train_size: int, val_size: int, test_size: int, families: Sequence[str] | None,
                 difficulty_min: int, difficulty_max: int, seed: int, ood_size: int = 0,
                 ood_difficulty_min: int | None = None,
                 ood_difficulty_max: int | None = None) -> dict[str, list[Problem]]:
    """Build the splits; families round-robin, difficulties spread over the range.

    No id and no (spec, tests) content appears twice, within or across splits: a colliding draw
    is replaced by a fresh seed. The "ood" split (only when `ood_size > 0`) uses difficulties
    `ood_difficulty_min..ood_difficulty_max` (default: `difficulty_max + 1 .. 10`).
    `families=None` means all of `FAMILIES`.

    >>> s = build_splits(4, 2, 2, ["rpn", "caesar"], 1, 3, seed=0)
    >>> [len(s[k]) for k in ("train", "val", "test")], [p.family for p in s["train"]]
    ([4, 2, 2], ['rpn', 'caesar', 'rpn', 'caesar'])
    """
    families = list(FAMILIES if families is None else families)
    ood_range = _check_args(train_size, val_size, test_size, families, difficulty_min,
                            difficulty_max, ood_size, ood_difficulty_min, ood_difficulty_max)
    plan = [("train", train_size, difficulty_min, difficulty_max),
            ("val", val_size, difficulty_min, difficulty_max),
            ("test", test_size, difficulty_min, difficulty_max)]
    if ood_size > 0:
        plan.append(("ood", ood_size, *ood_range))
    seen: set[str] = set()
    return {name: _build_one(name, size, families, lo, hi, seed, seen)
            for name, size, lo, hi in plan}


def _build_one(name: str, size: int, families: list[str], lo: int, hi: int, seed: int,
               seen: set[str]) -> list[Problem]:
    span = hi - lo + 1
    problems = []
    for i in range(size):
        family_index, round_index = i % len(families), i // len(families)
        family = families[family_index]
        difficulty = lo + (round_index + family_index) % span
        for attempt in range(MAX_ATTEMPTS):
            problem = make_problem(family, difficulty, derive_seed(seed, name, i, attempt))
            keys = (problem.id, problem.content_key())
            if not seen.intersection(keys):
                seen.update(keys)
                problems.append(problem)
                break
        else:
            raise RuntimeError(f"could not draw a new {family} problem at difficulty {difficulty} "
                               f"for split {name!r} after {MAX_ATTEMPTS} attempts")
    return problems


def _check_args(train_size, val_size, test_size, families, difficulty_min, difficulty_max,
                ood_size, ood_min, ood_max) -> tuple[int, int]:
    """Validate; returns the ood difficulty range (with defaults filled in)."""
    for field, value in (("train_size", train_size), ("val_size", val_size),
                         ("test_size", test_size), ("ood_size", ood_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{field}={value!r} is invalid; allowed values: integers >= 0")
    if not families:
        raise ValueError(f"families is empty; allowed values: a non-empty list of {FAMILIES}")
    for family in families:
        check_family(family)
    check_difficulty(difficulty_min, "difficulty_min")
    check_difficulty(difficulty_max, "difficulty_max")
    if difficulty_min > difficulty_max:
        raise ValueError(f"difficulty_min={difficulty_min} is above "
                         f"difficulty_max={difficulty_max}")
    if ood_size == 0:
        return (0, 0)
    ood_min = difficulty_max + 1 if ood_min is None else ood_min
    ood_max = 10 if ood_max is None else ood_max
    if difficulty_max == 10 and ood_min > 10:
        raise ValueError("ood_size > 0 needs difficulty_max < 10 so that harder problems exist")
    check_difficulty(ood_min, "ood_difficulty_min")
    check_difficulty(ood_max, "ood_difficulty_max")
    if ood_min <= difficulty_max:
        raise ValueError(f"ood_difficulty_min={ood_min} must be above the training range "
                         f"(difficulty_max={difficulty_max})")
    if ood_min > ood_max:
        raise ValueError(f"ood_difficulty_min={ood_min} is above ood_difficulty_max={ood_max}")
    return (ood_min, ood_max)


def build_extra_split(name: str, size: int, families: Sequence[str] | None, difficulty_min: int,
                      difficulty_max: int, seed: int, avoid: Sequence[Problem]) -> list[Problem]:
    """A further split (e.g. a curriculum's harder train set) sharing nothing with ``avoid``.

    >>> base = build_splits(2, 2, 2, ["rpn"], 1, 2, seed=0)
    >>> extra = build_extra_split("train_level1", 2, ["rpn"], 2, 3, 0, [p for s in base.values() for p in s])
    >>> [p.difficulty for p in extra], {p.id for p in extra} & {p.id for s in base.values() for p in s}
    ([2, 3], set())
    """
    families = list(FAMILIES if families is None else families)
    _check_args(size, 0, 0, families, difficulty_min, difficulty_max, 0, None, None)
    seen: set[str] = set()
    for problem in avoid:
        seen.update((problem.id, problem.content_key()))
    return _build_one(name, size, families, difficulty_min, difficulty_max, seed, seen)

"""build_splits: sizes, balance, disjointness, determinism, ood range, argument checks."""
import collections

import pytest

import tasks.splits as splits_module
from tasks import FAMILIES, build_splits


def small(**overrides):
    args = dict(train_size=24, val_size=12, test_size=12, families=list(FAMILIES),
                difficulty_min=1, difficulty_max=4, seed=7)
    return build_splits(**{**args, **overrides})


def test_sizes_balance_and_difficulty_spread():
    splits = small()
    assert {k: len(v) for k, v in splits.items()} == {"train": 24, "val": 12, "test": 12}
    counts = collections.Counter(p.family for p in splits["train"])
    assert set(counts.values()) == {4}
    for family in FAMILIES:
        levels = {p.difficulty for p in splits["train"] if p.family == family}
        assert levels == {1, 2, 3, 4}
    assert all(1 <= p.difficulty <= 4 for s in splits.values() for p in s)


def test_no_shared_ids_or_contents_within_or_across_splits():
    splits = small(train_size=60, difficulty_max=1)  # easy level: collisions are likeliest
    everything = [p for s in splits.values() for p in s]
    assert len({p.id for p in everything}) == len(everything)
    assert len({p.content_key() for p in everything}) == len(everything)


def test_collisions_are_resampled(monkeypatch):
    real = splits_module.make_problem
    calls = []

    def few_distinct(family, difficulty, seed):  # only 40 distinct problems exist
        calls.append(seed)
        return real(family, difficulty, seed % 40)

    monkeypatch.setattr(splits_module, "make_problem", few_distinct)
    splits = build_splits(20, 5, 5, ["rpn"], 2, 2, seed=3)
    problems = [p for s in splits.values() for p in s]
    assert len({p.content_key() for p in problems}) == len({p.id for p in problems}) == 30
    assert len(calls) > 30  # some draws collided and were replaced


def test_impossible_sizes_raise(monkeypatch):
    real = splits_module.make_problem
    monkeypatch.setattr(splits_module, "make_problem", lambda f, d, s: real(f, d, s % 2))
    with pytest.raises(RuntimeError, match="could not draw"):
        build_splits(3, 0, 0, ["rpn"], 2, 2, seed=0)


def test_deterministic():
    a, b = small(), small()
    assert {k: [p.id for p in v] for k, v in a.items()} == {k: [p.id for p in v] for k, v in b.items()}
    c = small(seed=8)
    assert [p.id for p in c["train"]] != [p.id for p in a["train"]]


def test_ood_split_is_harder():
    splits = small(ood_size=6)
    assert len(splits["ood"]) == 6
    assert all(5 <= p.difficulty <= 10 for p in splits["ood"])
    custom = small(ood_size=4, ood_difficulty_min=9, ood_difficulty_max=10)
    assert {p.difficulty for p in custom["ood"]} <= {9, 10}
    assert "ood" not in small()


def test_families_none_means_all():
    splits = build_splits(len(FAMILIES), 0, 0, None, 2, 2, seed=0)
    assert [p.family for p in splits["train"]] == list(FAMILIES)


@pytest.mark.parametrize("overrides, match", [
    (dict(train_size=-1), "train_size"),
    (dict(val_size=1.5), "val_size"),
    (dict(families=[]), "families"),
    (dict(families=["rpn", "sudoku"]), "sudoku"),
    (dict(difficulty_min=0), "difficulty_min"),
    (dict(difficulty_max=11), "difficulty_max"),
    (dict(difficulty_min=5, difficulty_max=3), "difficulty_min=5"),
    (dict(ood_size=2, ood_difficulty_min=3), "ood_difficulty_min=3"),
    (dict(ood_size=2, difficulty_max=10), "difficulty_max < 10"),
    (dict(ood_size=2, ood_difficulty_min=8, ood_difficulty_max=6), "ood_difficulty_max=6"),
    (dict(ood_size=-2), "ood_size"),
])
def test_bad_arguments(overrides, match):
    with pytest.raises(ValueError, match=match):
        small(**overrides)

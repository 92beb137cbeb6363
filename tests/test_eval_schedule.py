"""Per-split evaluation schedule (split_every) and the ood difficulty range."""

import pytest

from callbacks.evaluation import EvaluationCallback
from datamodules.expert_iteration import ExpertIterationDataModule


def test_split_every_evaluates_a_split_at_zero_its_multiples_and_the_last_iteration():
    cb = EvaluationCallback(splits=["val", "test"], split_every={"test": 5})
    due = [i for i in range(11) if cb._split_due("test", i, last=10)]
    assert due == [0, 5, 10]
    assert [i for i in range(8) if cb._split_due("test", i, last=7)] == [0, 5, 7]
    assert all(cb._split_due("val", i, last=10) for i in range(11))


@pytest.mark.parametrize("split_every, message", [
    ({"ood": 5}, "not in evaluation.splits"),
    ({"test": 0}, "split_every.test = 0"),
    ({"test": True}, "split_every.test = True"),
])
def test_split_every_refuses_bad_values(split_every, message):
    with pytest.raises(ValueError, match=message):
        EvaluationCallback(splits=["val", "test"], split_every=split_every)


def test_ood_difficulty_min_sets_the_ood_range():
    dm = ExpertIterationDataModule(train_size=2, val_size=2, test_size=0, ood_size=6, difficulty_min=1,
                                   difficulty_max=3, ood_difficulty_min=8)
    dm.setup()
    assert {p.difficulty for p in dm.problems("ood")} <= {8, 9, 10}
    assert {p.difficulty for p in dm.problems("val")} <= {1, 2, 3}


@pytest.mark.parametrize("value", [3, 11, 2.5])
def test_ood_difficulty_min_must_lie_above_the_training_range(value):
    with pytest.raises(ValueError, match="data.ood_difficulty_min"):
        ExpertIterationDataModule(difficulty_max=3, ood_size=4, ood_difficulty_min=value)

"""data.fresh_train: a new, disjoint set of train problems for every outer iteration."""
import itertools
import os

from datamodules.expert_iteration import ExpertIterationDataModule
from tasks import load_jsonl
from tests.loop_helpers import run_smoke


def _data(**overrides):
    args = dict(train_size=6, val_size=3, test_size=3, difficulty_min=1, difficulty_max=2, seed=3,
                fresh_train=True)
    data = ExpertIterationDataModule(**{**args, **overrides})
    data.setup()
    return data


def _keys(problems):
    return {p.id for p in problems} | {p.content_key() for p in problems}


def test_each_iteration_draws_new_problems_apart_from_every_split():
    data = _data()
    draws = [data.train_problems(i) for i in range(4)]
    held_out = _keys(data.problems("val") + data.problems("test"))
    assert all(len(d) == 6 for d in draws)
    for a, b in itertools.combinations(draws, 2):
        assert not _keys(a) & _keys(b)
    assert all(not _keys(d) & held_out for d in draws)
    assert [p.id for p in draws[0]] == [p.id for p in data.splits["train"]]


def test_draws_are_deterministic_and_survive_a_resume():
    first = _data()
    first.train_problems(2)
    first.raise_difficulty()  # iteration 3 is drawn one level up
    ids = {i: [p.id for p in first.train_problems(i)] for i in range(4)}
    assert all(p.difficulty >= 2 for p in first.train_problems(3))
    resumed = _data()
    resumed.load_state_dict(first.state_dict())
    assert {i: [p.id for p in resumed.train_problems(i)] for i in range(4)} == ids
    assert [p.id for p in _data(fresh_train=False).train_problems(5)] == ids[0]  # fixed set: always the same


def test_smoke_run_writes_disjoint_train_files(tmp_path):
    root = str(tmp_path / "run")
    run_smoke(root, "--data.fresh_train=true", "--trainer.max_epochs=3")
    files = sorted(os.listdir(os.path.join(root, "train")))
    assert files == [f"iter_{i}.jsonl" for i in range(4)]
    draws = [load_jsonl(os.path.join(root, "train", name)) for name in files]
    for a, b in itertools.combinations(draws, 2):
        assert not {p.id for p in a} & {p.id for p in b}
    held_out = {p.id for name in ("val", "test") for p in load_jsonl(os.path.join(root, f"{name}.jsonl"))}
    assert all(not {p.id for p in d} & held_out for d in draws)

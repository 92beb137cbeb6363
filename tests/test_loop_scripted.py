"""A scripted policy (known-correct and known-wrong replies) makes harvest and evaluation exact."""

import os
from types import SimpleNamespace

import lightning as L

from callbacks import iteration_record
from callbacks.evaluation import EvaluationCallback
from callbacks.harvest import HarvestCallback
from callbacks.metrics_file import MetricsCallback
from datamodules.expert_iteration import ExpertIterationDataModule
from lightning_modules.policy import PolicyModule
from tests.loop_helpers import metrics_rows, solution_rows

WRONG = "```python\ndef nothing():\n    return None\n```"


class ScriptedPolicy(PolicyModule):
    """Replies with the reference solution to problems whose index is even, else wrong code."""

    def __init__(self, problems, **kwargs):
        super().__init__(**kwargs)
        self.by_prompt = {p.prompt: (i, p) for i, p in enumerate(problems)}

    def sample(self, problem_prompts, n=1, **kwargs):
        replies = []
        for prompt in problem_prompts:
            index, problem = self.by_prompt[prompt]
            good = f"Here you go:\n```python\n{problem.reference}\n```\nDone."
            replies.append([good if index % 2 == 0 else WRONG for _ in range(n)])
        return replies


def scripted_data(train: int, val: int, test: int, difficulty_max: int):
    """A set-up data module (batch size 2) and its problems, train then val then test."""
    data = ExpertIterationDataModule(train_size=train, val_size=val, test_size=test, difficulty_max=difficulty_max,
                                     batch_size=2, max_length=4096)
    data.setup()
    return data, data.problems("train") + data.problems("val") + data.problems("test")


def test_harvest_training_set_and_evaluation_follow_the_verdicts(tmp_path):
    root = str(tmp_path)
    data, problems = scripted_data(6, 4, 4, 3)
    policy = ScriptedPolicy(problems, lora_rank=2, learning_rate=1e-3)
    callbacks = [
        HarvestCallback(samples_per_problem=3, max_solutions_per_problem=1, progress=False),
        EvaluationCallback(num_samples=2, k=[1, 2], progress=False),
        MetricsCallback(print_table=False),
    ]
    trainer = L.Trainer(default_root_dir=root, max_epochs=1, reload_dataloaders_every_n_epochs=1, callbacks=callbacks,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False, limit_val_batches=0)
    trainer.fit(policy, datamodule=data)

    train = data.problems("train")
    expected_ids = [p.id for i, p in enumerate(train) if i % 2 == 0]
    harvest = solution_rows(root, 0)
    assert [r["problem_id"] for r in harvest] == expected_ids  # deduplicated: one per problem
    assert all(r["code"].strip() == train[i * 2].reference.strip() for i, r in enumerate(harvest))
    assert [r["problem_id"] for r in data.training_records(0)] == expected_ids

    row = metrics_rows(root)[0]
    assert row["harvest/solve_rate"] == 0.5
    assert row["harvest/statuses"] == {"no_function": 9, "pass": 9}
    for key, values in (("family", {p.family for p in train}), ("difficulty", {p.difficulty for p in train})):
        for value in values:
            group = [i for i, p in enumerate(train) if getattr(p, key) == value]
            label = value if key == "family" else f"d{value}"
            solved = sum(i % 2 == 0 for i in group) / len(group)
            assert row[f"harvest/solve_rate/{label}"] == solved
            assert row[f"harvest/sample_accuracy/{label}"] == solved  # all 3 samples pass or all fail
    val_index = {p.id: i for i, p in enumerate(problems)}
    val_expected = sum(val_index[p.id] % 2 == 0 for p in data.problems("val")) / 4
    assert row["val/pass@1"] == val_expected
    assert row["val/pass@2"] == val_expected
    assert metrics_rows(root)[1]["train/steps"] == 2  # 3 solutions, batch size 2
    assert metrics_rows(root)[1]["train/examples"] == 3


class RecordingScriptedPolicy(ScriptedPolicy):
    def __init__(self, problems, **kwargs):
        super().__init__(problems, **kwargs)
        self.calls = []

    def sample(self, problem_prompts, n=1, **kwargs):
        self.calls.append((len(problem_prompts), n, kwargs.get("temperature")))
        return super().sample(problem_prompts, n=n, **kwargs)


def test_evaluation_samples_all_splits_in_one_call_per_mode(tmp_path):
    data, problems = scripted_data(6, 4, 3, 3)
    policy = RecordingScriptedPolicy(problems, lora_rank=2, learning_rate=1e-3)
    evaluation = EvaluationCallback(splits=["train", "val", "test"], num_samples=2, k=[1, 2], progress=False)
    trainer = SimpleNamespace(datamodule=data, is_global_zero=True, global_rank=0, world_size=1, max_epochs=None)
    evaluation._evaluate(trainer, policy, 0)
    # one greedy call and one sampled call, each over all 13 problems of the three splits
    assert policy.calls == [(13, 1, 0.0), (13, 2, 0.8)]
    row = iteration_record.record(trainer)
    index = {p.id: i for i, p in enumerate(problems)}
    for split, size in (("train", 6), ("val", 4), ("test", 3)):
        expected = sum(index[p.id] % 2 == 0 for p in data.problems(split))
        assert row[f"{split}/problems"] == size
        assert row[f"{split}/solved"] == expected
        assert row[f"{split}/pass@1"] == expected / size
        assert row[f"{split}/pass@2"] == expected / size


class SlowScriptedPolicy(ScriptedPolicy):
    """Sampling that takes SAMPLE_S seconds of the clock the phase timers read, without sleeping:
    the test then holds on a loaded machine too (a real sleep made training look slow there)."""
    SAMPLE_S = 100.0
    offset = 0.0

    def sample(self, problem_prompts, n=1, **kwargs):
        SlowScriptedPolicy.offset += self.SAMPLE_S
        return super().sample(problem_prompts, n=n, **kwargs)


def test_phase_times_do_not_overlap(tmp_path, monkeypatch):
    import time

    real = time.perf_counter
    monkeypatch.setattr(SlowScriptedPolicy, "offset", 0.0)
    monkeypatch.setattr(time, "perf_counter", lambda: real() + SlowScriptedPolicy.offset)
    data, problems = scripted_data(2, 1, 1, 2)
    callbacks = [HarvestCallback(samples_per_problem=1, temperature=1.0, progress=False),
                 MetricsCallback(print_table=False)]
    trainer = L.Trainer(default_root_dir=str(tmp_path), max_epochs=1, reload_dataloaders_every_n_epochs=1,
                        callbacks=callbacks, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        limit_val_batches=0)
    trainer.fit(SlowScriptedPolicy(problems, lora_rank=2), datamodule=data)
    row = metrics_rows(str(tmp_path))[1]
    assert row["time/harvest_s"] >= SlowScriptedPolicy.SAMPLE_S
    assert row["time/train_s"] < SlowScriptedPolicy.SAMPLE_S  # the epoch-end harvest is not counted as training


def small_run(root: str, max_epochs: int, callbacks: list) -> None:
    """A scripted run on 4/2/2 problems (difficulty 1-2) with the given callbacks and the metrics file."""
    data, problems = scripted_data(4, 2, 2, 2)
    scripted = ScriptedPolicy(problems, lora_rank=2, learning_rate=1e-3)
    L.Trainer(default_root_dir=root, max_epochs=max_epochs, reload_dataloaders_every_n_epochs=1, logger=False,
              callbacks=[*callbacks, MetricsCallback(print_table=False)], enable_checkpointing=False,
              enable_progress_bar=False, limit_val_batches=0).fit(scripted, datamodule=data)


def test_final_harvest_can_be_skipped(tmp_path):
    root = str(tmp_path)
    small_run(root, 2, [HarvestCallback(samples_per_problem=2, progress=False, final_harvest=False),
                        EvaluationCallback(num_samples=1, k=[1], progress=False)])
    rows = metrics_rows(root)
    assert [r["iteration"] for r in rows] == [0, 1, 2]
    assert all("harvest/solve_rate" in r for r in rows[:2]) and "harvest/solve_rate" not in rows[2]
    assert "val/pass@1" in rows[2] and rows[2]["train/steps"] > 0
    assert sorted(os.listdir(os.path.join(root, "solutions"))) == [
        "iter_0.jsonl", "iter_0.stats.json", "iter_1.jsonl", "iter_1.stats.json"]


def test_an_iteration_without_harvest_or_evaluation_still_gets_its_training_row(tmp_path):
    root = str(tmp_path)
    small_run(root, 1, [HarvestCallback(samples_per_problem=1, progress=False, final_harvest=False),
                        EvaluationCallback(every_n_iterations=2, progress=False)])
    rows = metrics_rows(root)
    assert [r["iteration"] for r in rows] == [0, 1]
    assert "val/pass@1" not in rows[1] and "harvest/solve_rate" not in rows[1]
    assert rows[1]["train/steps"] == 1 and rows[1]["time/train_s"] > 0  # 2 solutions, batch size 2

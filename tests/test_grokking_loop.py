"""The grokking callbacks in one short scripted-policy run of the real loop (tiny model, 2 iterations).

The policy answers half of the problems correctly at iterations 0 and 1 and all of them at
iteration 2, so validation accuracy jumps at iteration 2 and every number below is exact.
"""

import json
import os

import lightning as L
import pytest
from safetensors.torch import load_file

from callbacks.adapters import AdapterCheckpoint
from callbacks.evaluation import EvaluationCallback
from callbacks.harvest import HarvestCallback
from callbacks.humaneval_eval import HumanEvalCallback
from callbacks.jump_detector import JumpDetector, _save_from_state
from callbacks.metrics_file import MetricsCallback
from callbacks.plots import PlotCallback
from callbacks.problem_record import ProblemRecord
from datamodules.expert_iteration import ExpertIterationDataModule
from lightning_modules.policy import PolicyModule
from tasks.humaneval import build_prompt, load_problems
from tests.loop_helpers import metrics_rows

WRONG = "```python\ndef nothing():\n    return None\n```"
ADAPTER = "adapter_model.safetensors"


class JumpingPolicy(PolicyModule):
    """Reference solutions to even-indexed problems in epoch 0, to every problem from epoch 1 on.
    HumanEval: canonical solutions to even-indexed problems, always."""

    def __init__(self, problems, humaneval_problems, **kwargs):
        super().__init__(**kwargs)
        self.by_prompt = {p.prompt: (i, p.reference) for i, p in enumerate(problems)}
        self.humaneval = {build_prompt(p): (i, p.prompt + p.canonical_solution) for i, p in enumerate(humaneval_problems)}
        self.by_prompt.update(self.humaneval)

    def sample(self, problem_prompts, n=1, **kwargs):
        solve_all = self.trainer.current_epoch >= 1 and problem_prompts[0] not in self.humaneval
        replies = []
        for prompt in problem_prompts:
            index, code = self.by_prompt[prompt]
            good = f"```python\n{code}\n```"
            replies.append([good if solve_all or index % 2 == 0 else WRONG for _ in range(n)])
        return replies


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("grokking"))
    data = ExpertIterationDataModule(train_size=4, val_size=4, test_size=4, difficulty_max=2, batch_size=2,
                                     max_length=4096)
    data.setup()
    problems = data.problems("train") + data.problems("val") + data.problems("test")
    policy = JumpingPolicy(problems, load_problems(limit=4), lora_rank=2, learning_rate=1e-2)
    detector = JumpDetector(margin=0.3, plateau_window=2)
    callbacks = [
        HarvestCallback(samples_per_problem=1, temperature=1.0, max_solutions_per_problem=1, progress=False),
        EvaluationCallback(progress=False),
        detector,
        ProblemRecord(),
        HumanEvalCallback(every_n_iterations=2, limit=4, progress=False),
        MetricsCallback(print_table=False),
        PlotCallback(),  # reads metrics.jsonl: listed after MetricsCallback (callbacks.order checks it)
        AdapterCheckpoint(),
    ]
    trainer = L.Trainer(default_root_dir=root, max_epochs=2, reload_dataloaders_every_n_epochs=1, callbacks=callbacks,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False, limit_val_batches=0)
    trainer.fit(policy, datamodule=data)
    return root, data, policy, detector


def test_rows_carry_the_grokking_numbers(run):
    root, data, _, _ = run
    rows = metrics_rows(root)
    assert [r["iteration"] for r in rows] == [0, 1, 2]
    val_even = sum(problem_index(data, p) % 2 == 0 for p in data.problems("val")) / 4
    assert [r["val/pass@1"] for r in rows] == [val_even, val_even, 1.0]
    assert [r["grok/jump"] for r in rows] == [0, 0, 1]
    assert [r["grok/plateau"] for r in rows] == [None, None, val_even]
    for r in rows:
        assert r["grok/train_val_gap"] == pytest.approx(r["harvest/solve_rate"] - r["val/pass@1"])
        assert r["grok/adapter_norm"] > 0
    assert rows[2]["grok/adapter_norm"] != rows[0]["grok/adapter_norm"]  # training moved the adapter
    assert [r.get("humaneval/pass@1") for r in rows] == [0.5, None, 0.5]  # iterations 0 and 2 only
    assert rows[0]["humaneval/statuses"] == {"pass": 2, "wrong_answer": 2}  # WRONG taken as a body
    assert not any(k.startswith("_") for r in rows for k in r)


def problem_index(data, problem):
    order = data.problems("train") + data.problems("val") + data.problems("test")
    return [p.id for p in order].index(problem.id)


def test_problem_record_file_and_counts(run):
    root, data, _, _ = run
    with open(os.path.join(root, "problem_record.json")) as f:
        record = json.load(f)
    assert set(record) == {"val", "test"}
    for split in ("val", "test"):
        problems = data.problems(split)
        assert set(record[split]) == {p.id for p in problems}
        for p in problems:
            entry = record[split][p.id]
            assert entry["first_solved"] == (0 if problem_index(data, p) % 2 == 0 else 2)
            assert entry["solved_now"] is True and (entry["family"], entry["difficulty"]) == (p.family, p.difficulty)
    rows = metrics_rows(root)
    odd = sum(problem_index(data, p) % 2 for p in data.problems("val"))
    assert [r["val/first_solved_this_iter"] for r in rows] == [4 - odd, 0, odd]
    assert [r["val/never_solved"] for r in rows] == [odd, odd, 0]
    assert all(r["test/forgotten"] == 0 for r in rows)


def test_adapters_around_the_jump_are_kept(run):
    root, _, policy, detector = run
    assert detector.jumps == [2] and sorted(os.listdir(os.path.join(root, "jumps"))) == ["iter_2"]
    before = load_file(os.path.join(root, "jumps", "iter_2", "before", ADAPTER))
    after = load_file(os.path.join(root, "jumps", "iter_2", "after", ADAPTER))
    assert _same(before, load_file(os.path.join(root, "adapters", "iter_1", ADAPTER)))
    assert _same(after, load_file(os.path.join(root, "adapters", "iter_2", ADAPTER)))
    assert not _same(before, after)
    # without adapters/iter_{i-1} the detector saves the weights it kept in memory (here: after iteration 2)
    _save_from_state(policy.model, detector._previous, os.path.join(root, "from_memory"))
    assert _same(load_file(os.path.join(root, "from_memory", ADAPTER)), after)


def _same(a, b):
    return a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


def test_plots_are_drawn(run):
    root = run[0]
    for name in ("accuracy.png", "families.png"):
        assert os.path.getsize(os.path.join(root, "plots", name)) > 5000
    assert [n for n in os.listdir(os.path.join(root, "plots")) if n.startswith(".tmp")] == []


def test_humaneval_verdicts_are_written(run):
    root = run[0]
    assert sorted(os.listdir(os.path.join(root, "humaneval"))) == ["iter_0.jsonl", "iter_2.jsonl"]
    with open(os.path.join(root, "humaneval", "iter_2.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    assert [(r["task_id"], r["passed"]) for r in rows] == [
        ("HumanEval/0", True), ("HumanEval/1", False), ("HumanEval/2", True), ("HumanEval/3", False)]

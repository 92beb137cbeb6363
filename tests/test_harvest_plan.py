"""The harvest's sample plan: adaptive budget and hinted retries, with a scripted policy."""
import doctest
from types import SimpleNamespace

import pytest

from callbacks import harvest_plan, iteration_record
from callbacks.harvest import HarvestCallback
from tests.test_loop_scripted import WRONG, ScriptedPolicy, scripted_data


class RetrySolver(ScriptedPolicy):
    """Even-indexed problems are solved outright; the others only when the prompt has a hint."""

    def __init__(self, problems, **kwargs):
        super().__init__(problems, **kwargs)
        self.prompts_seen: list[str] = []

    def sample(self, problem_prompts, n=1, **kwargs):
        self.prompts_seen += problem_prompts
        out = []
        for prompt in problem_prompts:
            original = prompt.split("\n\nYour previous attempt:")[0]
            index, problem = self.by_prompt[original]
            good = f"```python\n{problem.reference}\n```"
            out.append([good if index % 2 == 0 or original != prompt else WRONG] * n)
        return out


def _harvest(callback, policy, data, root):
    trainer = SimpleNamespace(datamodule=data, is_global_zero=True, global_rank=0, world_size=1,
                              default_root_dir=root, strategy=SimpleNamespace(broadcast=lambda obj: obj))
    callback._harvest(trainer, policy, 0)
    return iteration_record.record(trainer)


def test_doctests():
    assert doctest.testmod(harvest_plan).failed == 0


def test_adaptive_budget_spends_the_uniform_compute_on_unsolved_problems(tmp_path):
    data, problems = scripted_data(8, 1, 1, 2)
    callback = HarvestCallback(samples_per_problem=4, adaptive_budget=True, first_samples=2,
                               max_samples_per_problem=8, progress=False)
    row = _harvest(callback, ScriptedPolicy(problems, lora_rank=2), data, str(tmp_path))
    assert row["harvest/samples_drawn"] == 4 * 8  # the same compute as 4 samples each
    drawn = harvest_plan.counts([r for r in _samples(tmp_path)])
    solved = [p.id for i, p in enumerate(data.train_problems(0)) if i % 2 == 0]
    assert all(drawn[pid] == (2, 2) for pid in solved)               # solved at once: no more samples
    assert all(n == 6 and c == 0 for pid, (n, c) in drawn.items() if pid not in solved)
    assert sum(row[f"harvest/samples_drawn/{f}"] for f in {p.family for p in problems}) == 32


def test_hinted_retry_is_kept_and_trained_on_the_hint_free_prompt(tmp_path):
    data, problems = scripted_data(4, 1, 1, 2)
    policy = RetrySolver(problems, lora_rank=2)
    callback = HarvestCallback(samples_per_problem=2, retry_failed=True, max_solutions_per_problem=1, progress=False)
    row = _harvest(callback, policy, data, str(tmp_path))
    assert row["harvest/retry_attempts"] == 2 and row["harvest/retry_solutions"] == 2
    assert row["harvest/solve_rate"] == 1.0
    hints = [p for p in policy.prompts_seen if "Your previous attempt" in p]
    assert len(hints) == 2 and all("defines no function named" in h and "def nothing" in h for h in hints)
    records = data.harvest[0]
    assert sorted(r["source"] for r in records) == ["model", "model", "retry", "retry"]
    policy.configure_model()
    retry_ids = {r["problem_id"] for r in records if r["source"] == "retry"}
    text = _training_text(policy, data, retry_ids)
    assert text and all("Your previous attempt" not in t for t in text)
    by_id = {p.id: p for p in data.train_problems(0)}
    assert all(any(by_id[pid].prompt in t for t in text) for pid in retry_ids)


def _training_text(policy, data, problem_ids):
    data.connect(policy.prompt_format)  # as PolicyModule.configure_model does inside Trainer.fit
    records = [r for r in data.harvest[0] if r["problem_id"] in problem_ids]
    return [policy.tokenizer.decode(e["input_ids"]) for e in data._encode(records)]


def _samples(tmp_path):
    from reporting.samples_file import samples_path
    from storage.atomic import read_rows
    return read_rows(samples_path(str(tmp_path), 0, "harvest"))


@pytest.mark.parametrize("kwargs, field", [
    ({"first_samples": 0}, "harvest.first_samples"),
    ({"first_samples": 4, "max_samples_per_problem": 2}, "harvest.max_samples_per_problem"),
    ({"sample_budget": 0}, "harvest.sample_budget"),
    ({"retry_samples": 0}, "harvest.retry_samples"),
])
def test_bad_plan_settings_are_refused(kwargs, field):
    with pytest.raises(ValueError, match=field):
        HarvestCallback(**kwargs)

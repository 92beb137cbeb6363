"""95% intervals: Wilson for greedy pass@1 and, over problems, for sampled pass@1; where they are written."""

import doctest
import os
from types import SimpleNamespace

import pytest

from callbacks import iteration_record
from verify import intervals
from callbacks.evaluation import EvaluationCallback
from callbacks.harvest import HarvestCallback
from verify.intervals import mean_interval, wilson
from reporting.samples_file import samples_path
from reporting.summary import format_row, header
from storage.atomic import read_rows
from tests.test_loop_scripted import ScriptedPolicy, scripted_data


def test_wilson_known_values():
    assert wilson(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson(5, 10) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert wilson(10, 10) == (pytest.approx(0.7225, abs=1e-4), 1.0)
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_mean_interval_contains_the_mean_and_never_collapses():
    values = [0.0, 0.25, 1.0, 0.5, 0.0, 0.75, 1.0, 0.0]
    low, high = mean_interval(values)
    assert 0.0 <= low < sum(values) / len(values) < high <= 1.0
    zero_low, zero_high = mean_interval([0.0] * 60)  # 0 of 60: not certainty about 0%
    assert zero_low == 0.0 and 0.05 < zero_high < 0.07
    assert mean_interval([]) == (0.0, 1.0)
    wide, narrow = mean_interval([0.5] * 10), mean_interval([0.5] * 100)
    assert wide[1] - wide[0] > narrow[1] - narrow[0]


def test_doctests():
    assert doctest.testmod(intervals).failed == 0


def _trainer(data, root):
    return SimpleNamespace(datamodule=data, is_global_zero=True, global_rank=0, world_size=1, default_root_dir=root,
                           max_epochs=None, strategy=SimpleNamespace(broadcast=lambda obj: obj))


@pytest.mark.parametrize("greedy, k", [(True, [1, 2]), (False, [2])])
def test_evaluation_writes_intervals_failure_counts_and_samples(tmp_path, greedy, k):
    data, problems = scripted_data(2, 4, 3, 2)
    trainer = _trainer(data, str(tmp_path))
    EvaluationCallback(greedy=greedy, num_samples=2, k=k, progress=False)._evaluate(
        trainer, ScriptedPolicy(problems, lora_rank=2), 0)
    row = iteration_record.record(trainer)
    index = {p.id: i for i, p in enumerate(problems)}
    for split, size in (("val", 4), ("test", 3)):
        solved = sum(index[p.id] % 2 == 0 for p in data.problems(split))
        assert row[f"{split}/pass@1_sampled"] == solved / size  # all or none of a problem's samples pass
        low, high = mean_interval([float(index[p.id] % 2 == 0) for p in data.problems(split)])
        assert (row[f"{split}/pass@1_sampled_low"], row[f"{split}/pass@1_sampled_high"]) == (low, high)
        assert ((row.get(f"{split}/pass@1_low"), row.get(f"{split}/pass@1_high")) == wilson(solved, size)) == greedy
        assert row[f"{split}/failures/wrong_name"] == (size - solved) * (1 if greedy else 2)
    samples = read_rows(samples_path(str(tmp_path), 0, "eval"))
    assert len(samples) == 7 * (3 if greedy else 2)
    assert {(r["split"], r["mode"]) for r in samples} >= {("val", "sampled"), ("test", "sampled")}
    assert all(r["iteration"] == 0 and r["cause"] in ("pass", "wrong_name") for r in samples)
    assert "val@1s" in header() and "±" in format_row(row)


def test_harvest_writes_its_samples_and_failure_counts(tmp_path):
    data, problems = scripted_data(4, 1, 1, 2)
    trainer = _trainer(data, str(tmp_path))
    HarvestCallback(samples_per_problem=2, progress=False)._harvest(trainer, ScriptedPolicy(problems, lora_rank=2), 0)
    row = iteration_record.record(trainer)
    assert row["harvest/failures/wrong_name"] == 4 and row["harvest/failures/timeout"] == 0
    samples = read_rows(samples_path(str(tmp_path), 0, "harvest"))
    assert [r["cause"] for r in samples] == ["pass", "pass", "wrong_name", "wrong_name"] * 2
    assert samples[2]["reply"].startswith("```python\ndef nothing") and samples[2]["detail"]
    assert os.path.exists(os.path.join(str(tmp_path), "solutions", "iter_0.jsonl"))

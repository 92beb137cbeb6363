"""The machine's measured sampling rate, kept across runs, turns the work estimate into a rough time."""

from cli.workload import describe
from models import cpu_perf


def test_rate_accumulates_per_model_and_dtype(tmp_path):
    cache = str(tmp_path)
    assert cpu_perf.sampling_seconds_per_sequence(cache, "m", "auto") is None
    cpu_perf.record_sampling(cache, "m", "auto", 100, 50.0)
    cpu_perf.record_sampling(cache, "m", "auto", 100, 150.0)
    cpu_perf.record_sampling(cache, "m", "fp32", 10, 100.0)
    assert cpu_perf.sampling_seconds_per_sequence(cache, "m", "auto") == 1.0
    assert cpu_perf.sampling_seconds_per_sequence(cache, "m", "fp32") == 10.0
    cpu_perf.record_sampling(cache, "m", "auto", 0, 5.0)  # nothing sampled: not recorded
    assert cpu_perf.sampling_seconds_per_sequence(cache, "m", "auto") == 1.0


def test_describe_adds_a_rough_time_only_with_a_measured_rate():
    work = [("harvest", 240, "60 train problems x 4 samples", 320), ("evaluation", 180, "60 val", 320)]
    assert "min of sampling" not in describe(work)
    text = describe(work, 0.5)
    assert text.startswith("work per outer iteration: 420 sequences") and "about 4 min of sampling" in text

"""The training and GPU benchmarks: bound arithmetic, a tiny-model run, a clean skip without a GPU."""

import json
import os
import subprocess
import sys
import time

import pytest
import torch

from benchmarks import gpu, training

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADLINE_KEYS = {"metric", "value", "unit", "baseline", "ratio", "machine", "cpu", "dtype"}


def test_lora_bound_is_f_over_4n():
    assert training.lora_bound_tokens_per_s(4e11, 5e8) == pytest.approx(200.0)
    assert training.lora_bound_tokens_per_s(6e11, 5e8, factor=6) == pytest.approx(200.0)
    with pytest.raises(ValueError):
        training.lora_bound_tokens_per_s(0.0, 5e8)


def test_matmul_flops_and_padding_fraction():
    assert training.matmul_flops(2048, 1.0) == pytest.approx(2 * 2048**3)
    mask = torch.tensor([[1, 1, 1, 1], [0, 1, 1, 1]])
    batches = [{"attention_mask": mask}, {"attention_mask": torch.ones(1, 4)}]
    assert training.padding_fraction(batches) == pytest.approx(1 / 12)


def test_flop_param_count_skips_untied_embedding_and_lora():
    from lightning_modules.policy import PolicyModule

    policy = PolicyModule(lora_rank=4)
    policy.configure_model()
    base = policy.model.get_base_model()
    everything = sum(p.numel() for n, p in base.named_parameters() if "lora_" not in n)
    embed = base.get_input_embeddings().weight.numel()  # the tiny model's head is not tied
    assert training.flop_param_count(policy.model) == everything - embed


def test_gpu_bound_arithmetic():
    config = gpu.qwen_config()
    assert config.hidden_size == 1536 and config.num_hidden_layers == 28 and config.vocab_size == 151936
    kv = gpu.kv_bytes_per_token(config, 2)
    assert kv == 2 * 28 * 2 * 128 * 2
    weights, bandwidth = 3.0e9, 3.0e12
    b64 = gpu.decode_bound_tokens_per_s(64, weights, kv, 384, bandwidth)
    assert b64 == pytest.approx(64 * bandwidth / (weights + 64 * 384 * kv))
    # More rows share each weight read, so the bound grows with the batch, but less than linearly.
    b256 = gpu.decode_bound_tokens_per_s(256, weights, kv, 384, bandwidth)
    assert b64 < b256 < 4 * b64
    assert gpu.mfu(1000.0, 1e9, 8e12) == pytest.approx(0.5)


def test_gpu_budget_interrupts_an_overrun():
    budget = gpu.Budget(seconds=1.2)
    with pytest.raises(TimeoutError):
        with budget.limit():
            time.sleep(5)
    with pytest.raises(TimeoutError):  # nothing left: refuses at once
        with budget.limit(reserve=5):
            pass


def test_training_benchmark_tiny_model(capsys):
    result = training.main(["--model", "tiny-random-qwen2", "--steps", "2", "--warmup", "1", "--batch-size", "2",
                            "--matmul-size", "512"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == result
    assert HEADLINE_KEYS | {"padding_fraction", "model"} <= set(result)
    assert result["metric"] == "lora_training_throughput" and result["unit"] == "tokens/s"
    assert result["value"] > 0 and result["baseline"] > 0
    assert result["ratio"] == pytest.approx(result["value"] / result["baseline"], rel=0.02)
    assert 0 <= result["padding_fraction"] < 0.10
    assert result["model"] == "tiny-random-qwen2"


def test_gpu_benchmark_skips_cleanly_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the script would run for real")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gpu.py")], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["skipped"] is True and "GPU" in result["reason"]
    assert result["metric"] == "gpu_sampling_throughput_b64" and HEADLINE_KEYS <= set(result)


def test_gpu_benchmark_smoke_runs_every_path(capsys):
    result = gpu.main(["--smoke"])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    assert result["smoke"] is True and "errors" not in result, result.get("errors")
    for variant in ("batched", "shared-prefix", "static+compile"):
        assert result[f"{variant}_b8_tokens_per_s"] > 0
    assert result["value"] > 0 and result["baseline"] > 0 and result["b16_tokens_per_s"] > 0
    assert result["train_tokens_per_s"] > 0 and 0 < result["train_mfu"]


def test_nucleus_benchmark_reports_a_same_run_ratio(capsys):
    from benchmarks import nucleus

    result = nucleus.main(["--rows", "8", "--vocab", "5000", "--flat-rows", "2", "--reps", "1"])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    assert HEADLINE_KEYS <= set(result) and result["value"] > 0 and result["baseline"] > 0


def test_decode_step_benchmark_compares_caches_on_the_same_logits(capsys):
    from benchmarks import decode_step

    result = decode_step.main(["--model", "tiny-random-qwen2", "--batch", "16", "--context", "12", "--steps", "3"])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    assert HEADLINE_KEYS <= set(result) and result["same_logits"] is True
    assert result["value"] > 0 and result["baseline"] > 0 and result["compute_floor_ms"] > 0


def test_iteration_benchmark_config_skips_the_work_after_the_timed_training(tmp_path):
    import yaml

    from benchmarks import iteration

    with open(iteration.benchmark_config(str(tmp_path))) as f:
        config = yaml.safe_load(f)
    callbacks = {c["class_path"].rsplit(".", 1)[-1]: c.get("init_args", {}) for c in config["trainer"]["callbacks"]}
    assert config["include"] and all(os.path.isfile(part) for part in config["include"])  # found from tmp_path
    assert callbacks["HarvestCallback"]["final_harvest"] is False
    assert callbacks["EvaluationCallback"]["every_n_iterations"] == 2


@pytest.mark.parametrize("name", ["early_stop", "continuous"])
def test_greedy_reply_benchmarks_compare_identical_replies(name, capsys):
    import importlib

    bench = importlib.import_module(f"benchmarks.{name}")
    result = bench.main(["--model", "tiny-random-qwen2", "--problems", "5", "--batch-size", "2",
                         "--max-new-tokens", "12"])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    assert HEADLINE_KEYS <= set(result) and result["identical"] == "5/5" and result["value"] > 0

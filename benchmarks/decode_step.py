"""Where a decoding step's time goes, and the KV cache that appends in place against ``DynamicCache``.

    .venv/bin/python benchmarks/decode_step.py [--model qwen2.5-coder-0.5b-instruct] [--batch 128] [--context 640]

``--batch`` rows (``--batch / 8`` prompts of random tokens, 8 samples each, as in sampling, left-padded
to ``--context`` with lengths from half of it up, so attention gets a padding mask as in sampling)
take greedy decoding steps with the adapter merged. Baseline: ``DynamicCache``, which
appends each step's keys and values with ``torch.cat`` (a copy of the whole cache per layer).
Ours: ``generation.kv_cache.preallocated_cache``, which writes them into spare room. Both give
the same logits (checked). Then one profiled set of steps shows the share of each operator, and
the roofline lines put the step against the measured matmul rate and against the memory it must
read (every weight once plus the KV cache, at the measured read bandwidth). The last line is the JSON headline
(ratio = baseline step time / our step time).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from transformers import DynamicCache  # noqa: E402

from benchmarks.gpu import decode_step_bytes, kv_bytes_per_token  # noqa: E402
from benchmarks.headline import device_name, dtype_name, emit  # noqa: E402
from benchmarks.training import flop_param_count, measure_matmul_flops, significant  # noqa: E402
from generation import decoding  # noqa: E402
from generation.kv_cache import preallocated_cache  # noqa: E402
from lightning_modules.merging import merged_adapter  # noqa: E402
from lightning_modules.policy import PolicyModule  # noqa: E402


def left_padding_mask(rows: int, context: int, generator: torch.Generator) -> torch.Tensor:
    """Attention mask of ``rows`` left-padded prompts, lengths drawn from [context / 2, context]
    (the longest is ``context``), as a batch of sampling prompts has.

    >>> m = left_padding_mask(3, 8, torch.Generator().manual_seed(0))
    >>> m.shape, int(m.sum(1).max()), bool((m.cumsum(1)[:, -1] == m.sum(1)).all())
    (torch.Size([3, 8]), 8, True)
    """
    lengths = torch.randint(context // 2, context + 1, (rows,), generator=generator)
    lengths[0] = context
    return (torch.arange(context)[None, :] >= (context - lengths)[:, None]).long()


def read_bandwidth(megabytes: int = 1024, reps: int = 3) -> float:
    """Best bytes/s of summing a ``megabytes`` bf16 tensor (reads it once; too big for any cache)."""
    x = torch.ones(megabytes * 2**19, dtype=torch.bfloat16)
    best = float("inf")
    for _ in range(reps + 1):
        start = time.perf_counter()
        x.sum()
        best = min(best, time.perf_counter() - start)
    return x.numel() * x.element_size() / best


def step_times(model, prompts: torch.Tensor, samples: int, make_cache, steps: int, profiler=None,
               mask: torch.Tensor | None = None):
    """Median seconds per greedy step (after 2 warm-up steps) and the last logits.

    With ``profiler`` (a ``torch.profiler.profile``), the timed steps run inside it (not the prefill).
    """
    name = decoding.cache_kwarg(model)
    decoding.contiguous_head(model)  # as prefill_step does
    mask = torch.ones_like(prompts) if mask is None else mask
    logits, cache = decoding.forward_step(model, prompts, mask, (mask.cumsum(-1) - 1).clamp(min=0), make_cache(), name)
    cache.batch_repeat_interleave(samples)
    mask, logits = mask.repeat_interleave(samples, 0), logits.repeat_interleave(samples, 0)
    times = []
    for i in range(steps + 2):
        if i == 2 and profiler is not None:
            profiler.start()
        start = time.perf_counter()
        mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
        chosen = logits.argmax(-1, keepdim=True)
        logits, cache = decoding.forward_step(model, chosen, mask, mask.sum(-1, keepdim=True) - 1, cache, name)
        times.append(time.perf_counter() - start)
    if profiler is not None:
        profiler.stop()
    times = sorted(times[2:])
    return times[len(times) // 2], logits


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--context", type=int, default=640)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)
    samples = 8 if args.batch % 8 == 0 else 1

    policy = PolicyModule(model=args.model, lora_rank=16)
    policy.configure_model()
    model = policy.model.eval()
    config = decoding.base_of(model).config
    gen = torch.Generator().manual_seed(0)
    high = min(10000, config.vocab_size)
    prompts = torch.randint(high // 10, high, (args.batch // samples, args.context), generator=gen)
    mask = left_padding_mask(prompts.shape[0], args.context, gen)
    dtype = next(model.parameters()).dtype  # the floor at the dtype the model runs in (bf16 on bf16 CPUs)
    flops = measure_matmul_flops(dtype, "cpu")
    with torch.inference_mode(), merged_adapter(model):
        base_s, base_logits = step_times(model, prompts, samples, lambda: DynamicCache(config=config), args.steps, mask=mask)
        ours_s, ours_logits = step_times(model, prompts, samples, lambda: preallocated_cache(config), args.steps, mask=mask)
        same = torch.equal(base_logits, ours_logits)
        from torch.profiler import ProfilerActivity, profile

        prof = profile(activities=[ProfilerActivity.CPU])
        step_times(model, prompts, samples, lambda: preallocated_cache(config), 3, profiler=prof, mask=mask)
    table = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in table)
    print(f"{args.model}, {args.batch} rows, context {args.context}, {dtype_name(dtype)}, "
          f"{torch.get_num_threads()} threads, on {device_name()}")
    print(f"{'variant':<46}{'ms per step':>12}")
    print(f"{'baseline: DynamicCache (torch.cat per step)':<46}{base_s * 1e3:>12.0f}")
    print(f"{'ours: preallocated cache (in-place append)':<46}{ours_s * 1e3:>12.0f}")
    print(f"same logits: {same}")
    print("share of CPU time in 3 profiled steps (ours):")
    for e in sorted(table, key=lambda e: -e.self_cpu_time_total)[:6]:
        print(f"  {e.key:<52}{100 * e.self_cpu_time_total / total:>6.1f}%")
    n = flop_param_count(model)  # every matmul weight once, the output layer included
    floor = 2 * n * args.batch / flops
    print(f"matmul rate F = {flops / 1e9:.1f} GFLOP/s ({dtype_name(dtype)}); "
          f"2 x {n / 1e6:.0f}M FLOP per row-token, so the step's "
          f"compute floor is {floor * 1e3:.0f} ms ({floor / ours_s:.0%} of our step)")
    bandwidth = read_bandwidth()
    size = torch.finfo(dtype).bits // 8
    moved = decode_step_bytes(args.batch, n * size, kv_bytes_per_token(config, size), args.context)
    memory_floor = moved / bandwidth
    print(f"read bandwidth {bandwidth / 1e9:.1f} GB/s; a step reads {moved / 1e9:.2f} GB (weights once, KV cache "
          f"of {args.batch} x {args.context}), so its memory floor is {memory_floor * 1e3:.0f} ms "
          f"({memory_floor / ours_s:.0%} of our step)")
    result = {"metric": "decode_step_ms", "value": significant(ours_s * 1e3), "unit": "ms",
              "baseline": significant(base_s * 1e3), "ratio": round(base_s / ours_s, 3), "same_logits": same,
              "rows": args.batch, "context": args.context, "compute_floor_ms": significant(floor * 1e3),
              "memory_floor_ms": significant(memory_floor * 1e3), "of_compute_floor": round(floor / ours_s, 3),
              "read_gb_per_s": significant(bandwidth / 1e9),
              "model": args.model}
    return emit(result, dtype)


if __name__ == "__main__":
    main()

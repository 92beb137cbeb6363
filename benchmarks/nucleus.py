"""Top-p sampling step: our candidate nucleus against the full-vocabulary sort, same process.

    .venv/bin/python benchmarks/nucleus.py [--rows 128] [--vocab 151936] [--reps 5]

Baseline: what ``generate`` does per step (temperature, sort of the whole vocabulary, cumulative
softmax, mask, softmax, multinomial over the vocabulary); this is ``top_p_filter`` followed by a
draw. Ours: ``decoding.next_tokens`` (the nucleus found among the 64 most likely tokens, with
the exact full path for rows whose nucleus may be larger). Logits are synthetic but shaped like a
code model's: a few likely tokens over a Gaussian background; ``--flat-rows`` of them are flat,
so the fallback path is timed too. The last line is the JSON headline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from benchmarks.headline import device_name, emit  # noqa: E402
from generation.decoding import next_tokens, top_p_filter  # noqa: E402


def best_of(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=151936)
    parser.add_argument("--flat-rows", type=int, default=4)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(args.rows, args.vocab, generator=gen) * 2
    likely = torch.randint(0, args.vocab, (args.rows, 4), generator=gen)
    logits.scatter_add_(1, likely, torch.rand(args.rows, 4, generator=gen) * 6 + 18)
    logits[: args.flat_rows] = torch.randn(args.flat_rows, args.vocab, generator=gen) * 0.5

    def baseline():
        return torch.multinomial(top_p_filter(logits / 0.8, 0.95).softmax(-1), num_samples=1)

    t_base = best_of(baseline, args.reps)
    t_ours = best_of(lambda: next_tokens(logits, 0.8, 0.95), args.reps)
    print(f"{args.rows} rows x {args.vocab} tokens ({args.flat_rows} flat rows), temperature 0.8, top-p 0.95, "
          f"on {device_name()}, {torch.get_num_threads()} threads")
    print(f"{'variant':<40}{'ms per step':>12}")
    print(f"{'baseline: full sort + draw':<40}{1000 * t_base:>12.1f}")
    print(f"{'ours: 64 candidates (+ exact fallback)':<40}{1000 * t_ours:>12.1f}")
    result = {"metric": "top_p_sampling_step", "value": round(1000 * t_ours, 1), "unit": "ms",
              "baseline": round(1000 * t_base, 1), "ratio": round(t_base / t_ours, 1), "rows": args.rows}
    return emit(result, logits.dtype)


if __name__ == "__main__":
    main()

"""Sampling throughput of our sampler against a naive baseline, in the same process.

    .venv/bin/python benchmarks/sampling.py [--model qwen2.5-coder-0.5b-instruct] [--problems 4] [--k 8]

Baseline: ``model.generate`` on the unmerged PEFT model, one problem at a time, k separate calls
(batch 1). Ours: ``sample_replies`` (prompts batched with left padding, each prompt's KV cache
shared by its k samples) with the adapter merged into the weights, as ``PolicyModule.sample``
does; the unmerged variant is shown too. Both generate a fixed number of tokens (no early stop), so tokens/s
compare like for like. Also reports the adapter's overhead: our sampler on the PEFT model vs the
bare base model. The last line is the JSON headline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from benchmarks.headline import device_name, emit  # noqa: E402
from lightning_modules.merging import merged_adapter  # noqa: E402
from lightning_modules.policy import PolicyModule  # noqa: E402
from generation.sampling import sample_replies  # noqa: E402
from tasks import build_splits  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def naive(model, tok, prompts, k, tokens):
    """One problem at a time, k separate batch-1 ``generate`` calls."""
    for prompt in prompts:
        enc = tok([prompt], return_tensors="pt").to(model.device)
        for _ in range(k):
            model.generate(**enc, do_sample=True, temperature=0.8, top_p=0.95, top_k=0, max_new_tokens=tokens,
                           min_new_tokens=tokens, pad_token_id=tok.pad_token_id)


def ours(model, tok, prompts, k, tokens, batch_size):
    return sample_replies(model, tok, prompts, n=k, temperature=0.8, top_p=0.95, max_new_tokens=tokens,
                          batch_size=batch_size, stop_at_fence=False, min_new_tokens=tokens)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--problems", type=int, default=4)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=48, help="new tokens per sample (fixed)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    policy = PolicyModule(model=args.model, lora_rank=16)
    policy.configure_model()
    model, tok = policy.model, policy.tokenizer
    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    problems = build_splits(args.problems, 0, 1, None, 2, 4, seed=0)["train"]
    prompts = [policy.render(p.prompt) for p in problems]
    total = args.problems * args.k * args.tokens

    _, t_naive = timed(lambda: naive(model, tok, prompts, args.k, args.tokens))
    _, t_unmerged = timed(lambda: ours(model, tok, prompts, args.k, args.tokens, args.batch_size))
    with merged_adapter(model):
        _, t_ours = timed(lambda: ours(model, tok, prompts, args.k, args.tokens, args.batch_size))
    with model.disable_adapter():
        _, t_base = timed(lambda: ours(model, tok, prompts, args.k, args.tokens, args.batch_size))

    rows = [("naive: PEFT, batch 1, k calls", t_naive),
            ("batched, shared prefix, adapter unmerged", t_unmerged),
            ("ours: batched, shared prefix, merged", t_ours),
            ("ours on the bare base model", t_base)]
    print(f"{args.model}: {args.problems} problems x k={args.k} x {args.tokens} tokens on {device_name()}")
    print(f"{'variant':<40}{'seconds':>10}{'tokens/s':>12}")
    for name, seconds in rows:
        print(f"{name:<40}{seconds:>10.1f}{total / seconds:>12.1f}")
    print(f"adapter overhead: merged {t_ours / t_base:.2f}x, unmerged {t_unmerged / t_base:.2f}x the base model's time")
    result = {"metric": "sampling_throughput", "value": round(total / t_ours, 1), "unit": "tokens/s",
              "baseline": round(total / t_naive, 1), "ratio": round(t_naive / t_ours, 2),
              "adapter_overhead": round(t_ours / t_base, 3), "adapter_overhead_unmerged": round(t_unmerged / t_base, 3), "model": args.model, "k": args.k}
    return emit(result, model)


if __name__ == "__main__":
    main()

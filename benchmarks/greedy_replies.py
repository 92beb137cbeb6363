"""Shared by the benchmarks that time two decoders on the same greedy replies to real problems
(``early_stop.py``, ``continuous.py``): arguments, model and prompts, and the report."""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.headline import device_name, emit
from lightning_modules.policy import PolicyModule
from tasks import build_splits


def parse_args(doc: str, argv, problems: int, batch_size: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--problems", type=int, default=problems)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--max-new-tokens", type=int, default=320)
    parser.add_argument("--difficulty", type=int, nargs=2, default=[1, 3])
    return parser.parse_args(argv)


def model_and_prompts(args, seed: int):
    """The policy's model (eval mode, on the GPU if there is one), tokenizer and rendered prompts
    of ``args.problems`` training problems."""
    policy = PolicyModule(model=args.model, lora_rank=16)
    policy.configure_model()
    model = policy.model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    problems = build_splits(args.problems, 0, 1, None, *args.difficulty, seed=seed)["train"]
    return model, policy.tokenizer, [policy.render(p.prompt) for p in problems]


def timed(label: str, run) -> tuple[str, list, float]:
    """``(label, run(), seconds it took)``."""
    start = time.perf_counter()
    replies = run()
    return label, replies, time.perf_counter() - start


def report(args, tokenizer, metric: str, baseline: tuple[str, list, float], ours: tuple[str, list, float],
           model) -> dict:
    """Print the comparison of two variants' (label, replies, seconds); return the JSON headline."""
    (base_label, base_replies, t_base), (our_label, our_replies, t_ours) = baseline, ours
    lengths = [len(tokenizer(r[0], add_special_tokens=False)["input_ids"]) for r in our_replies]
    same = sum(a == b for a, b in zip(our_replies, base_replies))
    tokens = sum(lengths)
    print(f"{args.model}: {args.problems} problems, greedy, batch size {args.batch_size}, "
          f"budget {args.max_new_tokens} tokens, on {device_name()}")
    print(f"reply tokens: total {tokens}, mean {tokens / len(lengths):.0f}, max {max(lengths)}; "
          f"identical replies {same}/{len(our_replies)}")
    print(f"{'variant':<48}{'seconds':>10}{'reply tokens/s':>16}")
    for label, seconds in ((base_label, t_base), (our_label, t_ours)):
        print(f"{label:<48}{seconds:>10.1f}{tokens / seconds:>16.1f}")
    result = {"metric": metric, "value": round(tokens / t_ours, 1), "unit": "tokens/s",
              "baseline": round(tokens / t_base, 1), "ratio": round(t_base / t_ours, 2),
              "identical": f"{same}/{len(our_replies)}", "model": args.model}
    return emit(result, model)

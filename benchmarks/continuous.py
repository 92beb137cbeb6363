"""Continuous batching against fixed batches, on real replies.

    .venv/bin/python benchmarks/continuous.py [--model qwen2.5-coder-0.5b-instruct] [--problems 24] [--batch-size 8]

Greedy replies (so both variants write the same text) to real training problems, stopping at the
closed code fence or end of sequence, adapter merged as in ``PolicyModule.sample``. Baseline: fixed
batches of ``--batch-size`` prompts decoded one after another (a finished row leaves its batch, but
its place stays empty until the whole batch is done: the sampler before continuous batching).
Ours: one ``sample_replies`` call, where the next prompt takes a finished row's place. Prompts are
sorted by length in both. The last line is the JSON headline (ratio = baseline seconds / ours).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from benchmarks.training import device_name  # noqa: E402
from lightning_modules.merging import merged_adapter  # noqa: E402
from lightning_modules.policy import PolicyModule  # noqa: E402
from lightning_modules.sampling import sample_replies  # noqa: E402
from tasks import build_splits  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--problems", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=320)
    parser.add_argument("--difficulty", type=int, nargs=2, default=[1, 3])
    args = parser.parse_args(argv)

    policy = PolicyModule(model=args.model, lora_rank=16)
    policy.configure_model()
    model, tok = policy.model, policy.tokenizer
    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    problems = build_splits(args.problems, 0, 1, None, *args.difficulty, seed=2)["train"]
    prompts = sorted((policy.render(p.prompt) for p in problems), key=len)
    common = dict(n=1, temperature=0.0, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    with merged_adapter(model):
        start = time.perf_counter()
        fixed = [reply for i in range(0, len(prompts), args.batch_size)
                 for reply in sample_replies(model, tok, prompts[i : i + args.batch_size], **common)]
        t_fixed = time.perf_counter() - start
        start = time.perf_counter()
        ours = sample_replies(model, tok, prompts, **common)
        t_ours = time.perf_counter() - start
    lengths = [len(tok(r[0], add_special_tokens=False)["input_ids"]) for r in ours]
    same = sum(a == b for a, b in zip(ours, fixed))
    tokens = sum(lengths)
    print(f"{args.model}: {args.problems} problems, greedy, at most {args.batch_size} rows, "
          f"budget {args.max_new_tokens} tokens, on {device_name()}")
    print(f"reply tokens: total {tokens}, mean {tokens / len(lengths):.0f}, max {max(lengths)}; "
          f"identical replies {same}/{len(ours)}")
    print(f"{'variant':<44}{'seconds':>10}{'reply tokens/s':>16}")
    print(f"{'fixed batches (a finished row stays empty)':<44}{t_fixed:>10.1f}{tokens / t_fixed:>16.1f}")
    print(f"{'ours: continuous (the next prompt joins)':<44}{t_ours:>10.1f}{tokens / t_ours:>16.1f}")
    result = {"metric": "continuous_batching_tokens_per_s", "value": round(tokens / t_ours, 1), "unit": "tokens/s",
              "baseline": round(tokens / t_fixed, 1), "ratio": round(t_fixed / t_ours, 2),
              "identical": f"{same}/{len(ours)}", "machine": device_name(), "model": args.model}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

"""Finished rows leaving the batch: our decode loop against ``generate`` on real replies.

    .venv/bin/python benchmarks/early_stop.py [--model qwen2.5-coder-0.5b-instruct] [--problems 16]

Greedy replies (so both variants write the same text) to real training problems, stopping at the
closed code fence or end of sequence, ``--batch-size`` sequences decoded together, adapter merged
as in ``PolicyModule.sample``. Baseline: ``model.generate`` with the same shared prompt
processing and fence stop, where a finished row stays in the batch until the last row finishes.
Ours: ``lightning_modules.continuous.decode``, where a finished row leaves the batch at once.
The last line is the JSON headline (ratio = baseline seconds / our seconds).
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
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=320)
    parser.add_argument("--difficulty", type=int, nargs=2, default=[1, 3])
    args = parser.parse_args(argv)

    policy = PolicyModule(model=args.model, lora_rank=16)
    policy.configure_model()
    model, tok = policy.model, policy.tokenizer
    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    problems = build_splits(args.problems, 0, 1, None, *args.difficulty, seed=0)["train"]
    prompts = [policy.render(p.prompt) for p in problems]
    common = dict(n=1, temperature=0.0, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    with merged_adapter(model):
        start = time.perf_counter()
        baseline = sample_replies(model, tok, prompts, **common, output_scores=False)  # a kwarg: generate
        t_base = time.perf_counter() - start
        start = time.perf_counter()
        ours = sample_replies(model, tok, prompts, **common)
        t_ours = time.perf_counter() - start
    lengths = [len(tok(r[0], add_special_tokens=False)["input_ids"]) for r in ours]
    same = sum(a == b for a, b in zip(ours, baseline))
    tokens = sum(lengths)
    print(f"{args.model}: {args.problems} problems, greedy, batch {args.batch_size}, "
          f"budget {args.max_new_tokens} tokens, on {device_name()}")
    print(f"reply tokens: total {tokens}, mean {tokens / len(lengths):.0f}, max {max(lengths)}; "
          f"identical replies {same}/{len(ours)}")
    print(f"{'variant':<44}{'seconds':>10}{'reply tokens/s':>16}")
    print(f"{'generate (finished rows stay in the batch)':<44}{t_base:>10.1f}{tokens / t_base:>16.1f}")
    print(f"{'ours (finished rows leave the batch)':<44}{t_ours:>10.1f}{tokens / t_ours:>16.1f}")
    result = {"metric": "greedy_reply_tokens_per_s", "value": round(tokens / t_ours, 1), "unit": "tokens/s",
              "baseline": round(tokens / t_base, 1), "ratio": round(t_base / t_ours, 2),
              "identical": f"{same}/{len(ours)}", "machine": device_name(), "model": args.model}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

"""HumanEval pass@1 (greedy) of a base model through our prompting, sampling and sandbox.

    .venv/bin/python scripts/humaneval_base.py [--model qwen2.5-coder-0.5b-instruct] [--limit N] [--out F]

Compares with the published figure (Qwen2.5-Coder report: 61.6 for 0.5B-Instruct, 70.7 for 1.5B):
a large gap points at our prompt, code extraction or dequantized weights. Writes the per-problem
verdicts to --out (JSON) so the gap can be inspected.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from callbacks.humaneval_eval import evaluate_humaneval  # noqa: E402
from callbacks.progress import progress_bar  # noqa: E402
from lightning_modules.policy import PolicyModule  # noqa: E402
from tasks.humaneval import load_problems  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--limit", type=int, default=None, help="first N problems (default: all 164)")
    parser.add_argument("--start", type=int, default=0, help="skip the first S problems (run halves apart)")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--out", default=None, help="write per-problem results here (JSON)")
    args = parser.parse_args(argv)

    policy = PolicyModule(model=args.model)
    policy.configure_model()
    problems = load_problems()[args.start:]
    problems = problems[: args.limit] if args.limit else problems
    start = time.perf_counter()
    with policy.model.disable_adapter(), progress_bar(len(problems), "humaneval", True) as update:
        result = evaluate_humaneval(policy.sample, problems, max_new_tokens=args.max_new_tokens,
                                    batch_size=args.batch_size, progress=update)
    seconds = time.perf_counter() - start
    summary = {k: result[k] for k in ("pass@1", "passed", "total", "statuses")}
    summary.update(start=args.start, model=args.model, seconds=round(seconds, 1), max_new_tokens=args.max_new_tokens)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(summary, per_problem=result["per_problem"]), f, indent=1)
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()

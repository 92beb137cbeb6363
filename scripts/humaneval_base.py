"""HumanEval pass@1 (greedy) of a base model through our prompting, sampling and sandbox.

    .venv/bin/python scripts/humaneval_base.py [--model qwen2.5-coder-0.5b-instruct] [--limit N]
        [--out humaneval_0.5b.jsonl]

Compares with the published figure (Qwen2.5-Coder report: 61.6 for 0.5B-Instruct, 70.7 for 1.5B):
a large gap points at our prompt, code extraction or dequantized weights. Each problem's verdict
is appended to --out (JSONL, fsynced) as soon as its batch is checked; running the same command
again skips the problems already in the file, so a killed run loses at most one batch. The
summary (last line, JSON) covers every selected problem found in the file.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from verify.humaneval import humaneval_rows, summarize  # noqa: E402
from reporting.progress import progress_bar  # noqa: E402
from tasks.humaneval import load_problems  # noqa: E402
from storage.atomic import append_row, read_rows  # noqa: E402


def load_policy(model: str):
    from lightning_modules.policy import PolicyModule

    policy = PolicyModule(model=model)
    policy.configure_model()
    return policy


def run(sample_fn, problems, out: str, max_new_tokens: int, batch_size: int, progress=None) -> list[dict]:
    """Rows for ``problems``: those already in ``out`` are reused, the rest sampled and appended."""
    done = {r["task_id"]: r for r in read_rows(out)}
    todo = [p for p in problems if p.task_id not in done]
    if progress is not None and len(todo) < len(problems):
        progress(len(problems) - len(todo))
    for start in range(0, len(todo), batch_size):
        for row in humaneval_rows(sample_fn, todo[start : start + batch_size], max_new_tokens, batch_size,
                                  progress=progress):
            append_row(out, dict(row, max_new_tokens=max_new_tokens))
            done[row["task_id"]] = row
    return [done[p.task_id] for p in problems]


def main(argv=None, policy=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--limit", type=int, default=None, help="first N problems (default: all 164)")
    parser.add_argument("--start", type=int, default=0, help="skip the first S problems (run halves apart)")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--out", default="humaneval_results.jsonl",
                        help="per-problem verdicts (JSONL), appended as they come; reused on a rerun")
    args = parser.parse_args(argv)

    problems = load_problems()[args.start:]
    problems = problems[: args.limit] if args.limit else problems
    stale = [r for r in read_rows(args.out) if r.get("max_new_tokens") != args.max_new_tokens]
    if stale:
        raise SystemExit(f"{args.out} holds {len(stale)} rows made with another --max-new-tokens "
                         f"({stale[0].get('max_new_tokens')}); use another --out")
    policy = policy or load_policy(args.model)
    start = time.perf_counter()
    with policy.model.disable_adapter(), progress_bar(len(problems), "humaneval", True) as update:
        rows = run(policy.sample, problems, args.out, args.max_new_tokens, args.batch_size, update)
    summary = dict(summarize(rows), start=args.start, model=args.model, seconds=round(time.perf_counter() - start, 1),
                   max_new_tokens=args.max_new_tokens, out=args.out)
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()

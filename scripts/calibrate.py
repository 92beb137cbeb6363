"""Calibrate the difficulty ladder on a real model: how often it solves each family x difficulty.

    .venv/bin/python scripts/calibrate.py [--model qwen2.5-coder-0.5b-instruct] [--k 8]
        [--problems 8] [--difficulties 1,2,3,5,7,9] [--families all]
        [--samples runs/calibration/samples.jsonl] [--out docs/calibration.json]

Samples ``k`` replies for ``--problems`` fresh problems per cell (seeds apart from every run's
splits), verifies each in the sandbox and appends one row per reply to ``--samples`` (JSONL,
fsynced) as soon as its prompt finishes; running the same command again skips the problems
already there, so a killed run loses at most the prompts in flight. After sampling it writes
``--out`` (``{"model", "k", "cpu", "date", "cells": [{"family", "difficulty", "problems",
"any_of_k", "mean_pass"}]}``) and the markdown table ``--md``. The last line is a JSON summary.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from reporting.progress import progress_bar  # noqa: E402
from verify.verification import verify_replies  # noqa: E402
from tasks import FAMILIES, make_problem  # noqa: E402
from storage.atomic import append_row, read_rows, write_json_atomic, write_text_atomic  # noqa: E402

SEED_BASE = 7_000_000  # calibration problems: seeds no split builder uses
ROW_KEYS = ("problem_id", "family", "difficulty", "sample", "status", "passed", "cause", "detail", "reply")


def cpu_name() -> str:
    """The CPU model and whether it has bf16 matrix instructions (labels every figure)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return "unknown CPU"
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                 "unknown CPU")
    flags = [flag for flag in ("amx_bf16", "avx512_bf16") if flag in text]
    return f"{model}, {os.cpu_count()} cores" + (f", {'+'.join(flags)}" if flags else ", no bf16 instructions")


def cell_problems(families, difficulties, count: int) -> list:
    return [make_problem(f, d, SEED_BASE + 1000 * d + i) for d in difficulties for f in families for i in range(count)]


def summarize(problems, rows: list[dict], k: int) -> list[dict]:
    """One entry per (family, difficulty): problems, any_of_k (solved by some sample), mean_pass."""
    by_problem: dict[str, list[bool]] = {}
    for row in rows:
        by_problem.setdefault(row["problem_id"], []).append(bool(row["passed"]))
    cells: dict[tuple, list[list[bool]]] = {}
    for p in problems:
        if len(by_problem.get(p.id, [])) >= k:
            cells.setdefault((p.family, p.difficulty), []).append(by_problem[p.id][:k])
    return [{"family": f, "difficulty": d, "problems": len(v),
             "any_of_k": round(sum(any(s) for s in v) / len(v), 4),
             "mean_pass": round(sum(sum(s) / len(s) for s in v) / len(v), 4)}
            for (f, d), v in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def markdown(report: dict) -> str:
    """The table of docs/CALIBRATION.md: mean pass (any of k) per family x difficulty."""
    cells = report["cells"]
    families = sorted({c["family"] for c in cells})
    difficulties = sorted({c["difficulty"] for c in cells})
    table = {(c["family"], c["difficulty"]): c for c in cells}
    lines = [f"# Calibration of the difficulty ladder\n\nModel `{report['model']}`, k = {report['k']} samples "
             f"per problem (T {report['temperature']}, top-p {report['top_p']}, {report['max_new_tokens']} new "
             f"tokens), {report['problems_per_cell']} problems per cell; {report['cpu']}; {report['date']}.\n",
             f"Command: `{report['command']}`\n",
             "Each cell: mean pass rate over samples (sampled pass@1), then in brackets the share of "
             "problems solved by at least one of the k samples.\n",
             "| family | " + " | ".join(f"d{d}" for d in difficulties) + " |",
             "|---|" + "---:|" * len(difficulties)]
    for family in families + ["**all**"]:
        values = []
        for d in difficulties:
            group = [c for c in cells if c["difficulty"] == d and family in (c["family"], "**all**")]
            if family != "**all**" and (family, d) not in table:
                values.append("-")
                continue
            n = sum(c["problems"] for c in group)
            mean = sum(c["mean_pass"] * c["problems"] for c in group) / n
            anyk = sum(c["any_of_k"] * c["problems"] for c in group) / n
            values.append(f"{100 * mean:.0f}% ({100 * anyk:.0f}%)")
        lines.append(f"| {family} | " + " | ".join(values) + " |")
    return "\n".join(lines) + "\n"


def load_policy(model: str, dtype: str):
    from lightning_modules.policy import PolicyModule

    policy = PolicyModule(model=model, dtype=dtype)
    policy.configure_model()
    return policy


def sample_missing(policy, todo: list, args, out: str) -> None:
    """Sample and verify ``todo``, appending each prompt's rows as soon as it finishes."""
    with progress_bar(len(todo), "calibration", True) as update:
        def finished(indices: list[int], replies: list[list[str]]) -> None:
            problems = [todo[i] for i in indices]
            for row in verify_replies(problems, replies, timeout_s=None):
                append_row(out, {key: row.get(key) for key in ROW_KEYS})
        policy.sample([p.prompt for p in todo], n=args.k, temperature=args.temperature, top_p=args.top_p,
                      max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, seed=args.seed,
                      on_replies=finished, progress=update)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--problems", type=int, default=8, help="problems per family x difficulty cell")
    parser.add_argument("--difficulties", default="1,2,3,5,7,9")
    parser.add_argument("--families", default="all")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--max-new-tokens", type=int, default=320)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", default="runs/calibration/samples.jsonl", help="per-sample rows (JSONL), resumable")
    parser.add_argument("--out", default="docs/calibration.json")
    parser.add_argument("--md", default="docs/CALIBRATION.md")
    args = parser.parse_args(argv)
    args.families = list(FAMILIES) if args.families == "all" else args.families.split(",")
    args.difficulties = [int(d) for d in args.difficulties.split(",")]
    if args.k < 1 or args.problems < 1:
        parser.error("--k and --problems must be >= 1")
    return args


def main(argv=None, policy=None) -> dict:
    args = parse_args(argv)
    problems = cell_problems(args.families, args.difficulties, args.problems)
    os.makedirs(os.path.dirname(os.path.abspath(args.samples)), exist_ok=True)
    done = {r["problem_id"] for r in read_rows(args.samples)}
    todo = [p for p in problems if p.id not in done]
    start = time.perf_counter()
    if todo:
        sample_missing(policy or load_policy(args.model, args.dtype), todo, args, args.samples)
    cells = summarize(problems, read_rows(args.samples), args.k)
    report = {"model": args.model, "k": args.k, "cpu": cpu_name(), "date": datetime.date.today().isoformat(),
              "temperature": args.temperature, "top_p": args.top_p, "max_new_tokens": args.max_new_tokens,
              "problems_per_cell": args.problems, "command": "python scripts/calibrate.py " + " ".join(argv or sys.argv[1:]),
              "cells": cells}
    write_json_atomic(args.out, report)
    write_text_atomic(args.md, markdown(report))
    summary = {"cells": len(cells), "sampled_problems": len(todo), "seconds": round(time.perf_counter() - start, 1),
               "out": args.out}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()

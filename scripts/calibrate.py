"""Calibrate the difficulty ladder on a real model: how often it solves each family x difficulty.

    .venv/bin/python scripts/calibrate.py [--model qwen2.5-coder-0.5b-instruct] [--k 8]
        [--problems 16] [--difficulties 1,2,3,5,7,8,9,10] [--families all]
        [--samples runs/calibration/samples.jsonl] [--out docs/calibration.json]

Samples ``k`` replies for ``--problems`` fresh problems per cell (seeds apart from every run's
splits), verifies each in the sandbox and appends one row per reply to ``--samples`` (JSONL,
fsynced) as soon as its prompt finishes; running the same command again skips the problems
already there, so a killed run loses at most the prompts in flight. A row counts only while its
problem's prompt is the one it was sampled with (``prompt_sha``): after a prompt change the
problem is sampled again. After sampling it writes ``--out`` (``{"model", "k", "cpu", "date",
"cells": [{"family", "difficulty", "problems", "any_of_k", "mean_pass", "date", "cpu"}]}``) and
the markdown table ``--md``. Cells of an existing ``--out`` outside this command's families x
difficulties are kept with their own date (so one family's row can be recalibrated alone); the
settings must then be the same. The last line is a JSON summary.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.cpu_perf import cpu_description as cpu_name  # noqa: E402  (the label of every figure)
from reporting.progress import progress_bar  # noqa: E402
from verify.verification import verify_replies  # noqa: E402
from tasks import FAMILIES, make_problem  # noqa: E402
from storage.atomic import append_row, read_rows, write_json_atomic, write_text_atomic  # noqa: E402

SEED_BASE = 7_000_000  # calibration problems: seeds no split builder uses
ROW_KEYS = ("problem_id", "prompt_sha", "family", "difficulty", "sample", "status", "passed", "cause", "detail",
            "reply")
SETTINGS = ("model", "k", "temperature", "top_p", "max_new_tokens", "problems_per_cell")


def cell_problems(families, difficulties, count: int) -> list:
    return [make_problem(f, d, SEED_BASE + 1000 * d + i) for d in difficulties for f in families for i in range(count)]


def prompt_sha(problem) -> str:
    """Which prompt a sample answered: rows of an older wording of the same problem do not count."""
    return hashlib.sha256(problem.prompt.encode("utf-8")).hexdigest()[:16]


def summarize(problems, rows: list[dict], k: int) -> list[dict]:
    """One entry per (family, difficulty): problems, any_of_k (solved by some sample), mean_pass.
    Only rows sampled from the problem's current prompt count."""
    current = {p.id: prompt_sha(p) for p in problems}
    by_problem: dict[str, list[bool]] = {}
    for row in rows:
        if row.get("prompt_sha") == current.get(row["problem_id"]):
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
             *[f"Cells sampled earlier, kept with their own date: `{e['command']}` ({e['date']}; {e['cpu']}).\n"
               for e in report.get("earlier", [])],
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
                row["prompt_sha"] = prompt_sha(next(p for p in problems if p.id == row["problem_id"]))
                append_row(out, {key: row.get(key) for key in ROW_KEYS})
        policy.sample([p.prompt for p in todo], n=args.k, temperature=args.temperature, top_p=args.top_p,
                      max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, seed=args.seed,
                      on_replies=finished, progress=update)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--problems", type=int, default=16, help="problems per family x difficulty cell")
    parser.add_argument("--difficulties", default="1,2,3,5,7,8,9,10")
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


def kept_cells(path: str, args) -> tuple[list[dict], list[dict]]:
    """Cells of an existing ``--out`` that this command does not recompute, and the provenance of
    the commands that sampled them. Exits with one message, before any sampling, when the file
    is unreadable or was written with other settings."""
    if not os.path.exists(path):
        return [], []
    try:
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
        cells = [c for c in old["cells"] if (c["family"], c["difficulty"]) not in
                 {(f, d) for f in args.families for d in args.difficulties}]
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"calibrate: {path} is not a calibration file ({type(e).__name__}: {e}); "
                 "move it away or choose another --out")
    if not cells:
        return [], []
    ours = settings(args)
    differ = [f"{key} {old.get(key)!r} there, {ours[key]!r} here" for key in SETTINGS if old.get(key) != ours[key]]
    if differ:
        sys.exit(f"calibrate: {path} keeps cells sampled with other settings ({'; '.join(differ)}); "
                 "use the same settings or another --out and --md")
    for c in cells:
        c.setdefault("date", old.get("date"))
        c.setdefault("cpu", old.get("cpu"))
    earlier = {(e["date"], e["command"]): e for e in old.get("earlier", [])}
    earlier[(old.get("date"), old.get("command"))] = {k: old.get(k) for k in ("date", "cpu", "command")}
    dated = {(c["date"], c["cpu"]) for c in cells}
    return cells, [e for e in earlier.values() if (e["date"], e["cpu"]) in dated]


def settings(args) -> dict:
    return {"model": args.model, "k": args.k, "temperature": args.temperature, "top_p": args.top_p,
            "max_new_tokens": args.max_new_tokens, "problems_per_cell": args.problems}


def main(argv=None, policy=None) -> dict:
    args = parse_args(argv)
    kept, earlier = kept_cells(args.out, args)
    problems = cell_problems(args.families, args.difficulties, args.problems)
    os.makedirs(os.path.dirname(os.path.abspath(args.samples)), exist_ok=True)
    done = {(r["problem_id"], r.get("prompt_sha")) for r in read_rows(args.samples)}
    todo = [p for p in problems if (p.id, prompt_sha(p)) not in done]
    start = time.perf_counter()
    if todo:
        sample_missing(policy or load_policy(args.model, args.dtype), todo, args, args.samples)
    today, cpu = datetime.date.today().isoformat(), cpu_name()
    cells = [dict(c, date=today, cpu=cpu) for c in summarize(problems, read_rows(args.samples), args.k)]
    cells = sorted(cells + kept, key=lambda c: (c["difficulty"], c["family"]))
    command = " ".join(["python scripts/calibrate.py", *(sys.argv[1:] if argv is None else argv)])
    report = {**settings(args), "cpu": cpu, "date": today, "command": command, "earlier": earlier, "cells": cells}
    write_json_atomic(args.out, report)
    write_text_atomic(args.md, markdown(report))
    summary = {"cells": len(cells), "kept_cells": len(kept), "sampled_problems": len(todo),
               "seconds": round(time.perf_counter() - start, 1), "out": args.out}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()

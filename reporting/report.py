"""Markdown tables of a run's accuracy and phase times, from its metrics.jsonl (no Lightning).

    python -m reporting.report RUN_DIR     # prints the tables; paste into a results page
    python -m reporting.report RUN_DIR --failures [--iteration N] [--phase harvest|eval]
                                           # why samples failed (reporting.failure_report)
    python -m reporting.report RUN_DIR --humaneval
                                           # HumanEval per checkpoint, paired with the base model

Train accuracy is the harvest's: ``sample accuracy`` (correct samples / samples, the sampled
pass@1 estimate) and ``solve rate`` (problems with at least one correct sample of k). Val and
test accuracy are the evaluation's pass@1 (greedy when the run evaluates greedily) with its 95%
Wilson interval over problems, and the sampled pass@1 (mean of c/n) with its (conservative) Wilson interval over problems.
"""

from __future__ import annotations

import argparse
import os
import sys

from reporting.failure_report import failures_report
from reporting.humaneval_paired import paired_table
from reporting.samples_file import PHASES
from storage.atomic import read_rows


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _secs(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def _groups(rows: list[dict], prefix: str) -> tuple[list[str], list[str]]:
    """(families, difficulties) with a ``prefix<name>`` key in some row, e.g. prefix ``val/pass@1/``."""
    names = {k[len(prefix):] for r in rows for k in r if k.startswith(prefix) and "/" not in k[len(prefix):]}
    difficulties = sorted((n for n in names if n[:1] == "d" and n[1:].isdigit()), key=lambda n: int(n[1:]))
    return sorted(names - set(difficulties)), difficulties


def _interval(r: dict, key: str) -> str:
    """`` [lo, hi]`` in percent from ``KEY_low``/``KEY_high`` ('' when the row has none)."""
    low, high = r.get(key + "_low"), r.get(key + "_high")
    return "" if low is None or high is None else f" [{100 * low:.1f}, {100 * high:.1f}]"


def _accuracy_cells(r: dict, split: str) -> str:
    """pass@1 with its counts and interval, then sampled pass@1 with its interval."""
    greedy = f"{_pct(r.get(split + '/pass@1'))} ({r.get(split + '/solved', '-')}/{r.get(split + '/problems', '-')})"
    sampled = r.get(split + "/pass@1_sampled")
    sampled_cell = "-" if sampled is None else _pct(sampled) + _interval(r, split + "/pass@1_sampled")
    return f"{greedy}{_interval(r, split + '/pass@1')} | {sampled_cell}"


def overall_table(rows: list[dict]) -> str:
    """One line per iteration: train (harvest), val and test accuracy with 95% intervals, data and
    phase seconds."""
    head = ("| iteration | train sample acc. | train solve rate | val pass@1 [95% CI] | val pass@1 sampled [95% CI] "
            "| test pass@1 [95% CI] | test pass@1 sampled [95% CI] | solutions kept | trained on | train loss "
            "| harvest s | train s | eval s |")
    lines = [head, "|" + "---:|" * 13]
    for r in rows:
        loss = r.get("train/loss_mean")
        lines.append(
            f"| {r['iteration']} | {_pct(r.get('harvest/sample_accuracy'))} | {_pct(r.get('harvest/solve_rate'))} "
            f"| {_accuracy_cells(r, 'val')} | {_accuracy_cells(r, 'test')} | {r.get('harvest/solutions', '-')} "
            f"| {r.get('train/examples', '-')} | {'-' if loss is None else f'{loss:.3f}'} "
            f"| {_secs(r.get('time/harvest_s'))} | {_secs(r.get('time/train_s'))} | {_secs(r.get('time/eval_s'))} |")
    return "\n".join(lines)


def held_out_table(rows: list[dict]) -> str:
    """Iterations with an out-of-distribution or HumanEval measurement: pass@1 with intervals."""
    measured = [r for r in rows if r.get("ood/pass@1") is not None or r.get("humaneval/pass@1") is not None]
    if not measured:
        return ""
    lines = ["| iteration | ood pass@1 [95% CI] | ood pass@1 sampled [95% CI] | HumanEval pass@1 (passed/total) |",
             "|---:|---:|---:|---:|"]
    for r in measured:
        he = r.get("humaneval/pass@1")
        he_cell = "-" if he is None else f"{_pct(he)} ({r.get('humaneval/passed', '-')}/{r.get('humaneval/problems', '-')})"
        ood = _accuracy_cells(r, "ood") if r.get("ood/pass@1") is not None else "- | -"
        lines.append(f"| {r['iteration']} | {ood} | {he_cell} |")
    return "\n".join(lines)


def breakdown_table(rows: list[dict], prefix: str, kind: str) -> str:
    """``kind`` = "family" or "difficulty": one line per group, one column per iteration."""
    families, difficulties = _groups(rows, prefix)
    groups = families if kind == "family" else difficulties
    lines = [f"| {kind} | " + " | ".join(f"it {r['iteration']}" for r in rows) + " |",
             "|---|" + "---:|" * len(rows)]
    for group in groups:
        lines.append(f"| {group} | " + " | ".join(_pct(r.get(prefix + group)) for r in rows) + " |")
    return "\n".join(lines)


SECTIONS = (
    ("harvest/sample_accuracy/", "Train (harvest sample accuracy)"),
    ("val/pass@1/", "Val pass@1"),
    ("test/pass@1/", "Test pass@1"),
)


def report(rows: list[dict]) -> str:
    """All tables of one run as markdown."""
    parts = ["### Per iteration", overall_table(rows)]
    held_out = held_out_table(rows)
    if held_out:
        parts += ["### Out of distribution and HumanEval", held_out]
    for kind in ("family", "difficulty"):
        for prefix, title in SECTIONS:
            if any(k.startswith(prefix) for r in rows for k in r):
                parts += [f"### {title} by {kind}", breakdown_table(rows, prefix, kind)]
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--failures", action="store_true",
                        help="failure causes per family and difficulty, from the run's samples/ files")
    parser.add_argument("--humaneval", action="store_true",
                        help="HumanEval problems lost and gained against the base model, from humaneval/iter_N.jsonl")
    parser.add_argument("--iteration", type=int, help="with --failures: only this iteration (default: all)")
    parser.add_argument("--phase", choices=PHASES, help="with --failures: only this phase (default: both)")
    args = parser.parse_args(argv)
    if not args.failures and (args.iteration is not None or args.phase is not None):
        parser.error("--iteration and --phase go with --failures")
    if args.failures and args.humaneval:
        parser.error("--failures and --humaneval are separate reports: give one")
    if args.humaneval:
        text = _humaneval_text(args.run_dir)
    else:
        text = _failures_text(args) if args.failures else _metrics_text(args.run_dir)
    print(text, end="")
    return text


def _metrics_text(run_dir: str) -> str:
    path = os.path.join(run_dir, "metrics.jsonl")
    rows = read_rows(path)
    if not rows:
        raise SystemExit(f"{path} has no rows (or does not exist): nothing to report")
    return report(rows)


def _humaneval_text(run_dir: str) -> str:
    text = paired_table(run_dir)
    if not text:
        raise SystemExit(f"{os.path.join(run_dir, 'humaneval')} has no iter_N.jsonl: this run measured no HumanEval")
    return text + "\n"


def _failures_text(args) -> str:
    text = failures_report(args.run_dir, args.iteration, args.phase)
    folder = os.path.join(args.run_dir, "samples")
    if text is None:
        print(f"{folder} does not exist: this run recorded no per-sample verdicts (runs made before "
              "samples/iter_N.{harvest,eval}.jsonl existed), so there are no failure causes to report",
              file=sys.stderr)
        raise SystemExit(2)
    if not text:
        print(f"{folder} has no samples file for iteration={args.iteration} phase={args.phase}", file=sys.stderr)
        raise SystemExit(2)
    return text


if __name__ == "__main__":
    main()

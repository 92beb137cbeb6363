"""Markdown tables of a run's accuracy and phase times, from its metrics.jsonl (no Lightning).

    python -m callbacks.report RUN_DIR     # prints the tables; paste into a results page

Train accuracy is the harvest's: ``sample accuracy`` (correct samples / samples, the sampled
pass@1 estimate) and ``solve rate`` (problems with at least one correct sample of k). Val and
test accuracy are the evaluation's pass@1 (greedy when the run evaluates greedily).
"""

from __future__ import annotations

import argparse
import os

from tasks.jsonl import read_rows


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _secs(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def _groups(rows: list[dict], prefix: str) -> tuple[list[str], list[str]]:
    """(families, difficulties) with a ``prefix<name>`` key in some row, e.g. prefix ``val/pass@1/``."""
    names = {k[len(prefix):] for r in rows for k in r if k.startswith(prefix) and "/" not in k[len(prefix):]}
    difficulties = sorted((n for n in names if n[:1] == "d" and n[1:].isdigit()), key=lambda n: int(n[1:]))
    return sorted(names - set(difficulties)), difficulties


def overall_table(rows: list[dict]) -> str:
    """One line per iteration: train (harvest), val and test accuracy, data and phase seconds."""
    head = ("| iteration | train sample acc. | train solve rate | val pass@1 | test pass@1 | solutions kept "
            "| trained on | train loss | harvest s | train s | eval s |")
    lines = [head, "|" + "---:|" * 11]
    for r in rows:
        val = f"{_pct(r.get('val/pass@1'))} ({r.get('val/solved', '-')}/{r.get('val/problems', '-')})"
        test = f"{_pct(r.get('test/pass@1'))} ({r.get('test/solved', '-')}/{r.get('test/problems', '-')})"
        loss = r.get("train/loss_mean")
        lines.append(
            f"| {r['iteration']} | {_pct(r.get('harvest/sample_accuracy'))} | {_pct(r.get('harvest/solve_rate'))} "
            f"| {val} | {test} | {r.get('harvest/solutions', '-')} | {r.get('train/examples', '-')} "
            f"| {'-' if loss is None else f'{loss:.3f}'} | {_secs(r.get('time/harvest_s'))} "
            f"| {_secs(r.get('time/train_s'))} | {_secs(r.get('time/eval_s'))} |")
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
    for kind in ("family", "difficulty"):
        for prefix, title in SECTIONS:
            if any(k.startswith(prefix) for r in rows for k in r):
                parts += [f"### {title} by {kind}", breakdown_table(rows, prefix, kind)]
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    args = parser.parse_args(argv)
    path = os.path.join(args.run_dir, "metrics.jsonl")
    rows = read_rows(path)
    if not rows:
        raise SystemExit(f"{path} has no rows (or does not exist): nothing to report")
    text = report(rows)
    print(text, end="")
    return text


if __name__ == "__main__":
    main()

"""Accuracy curves of a run as PNG files, regenerated after every outer iteration.

    python -m reporting.plots RUN_DIR      # (re)draw RUN_DIR/plots/*.png from RUN_DIR/metrics.jsonl
"""

from __future__ import annotations

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from storage.atomic import atomic_writer, read_rows  # noqa: E402

# (row key, legend label, line style); a series is drawn only if some row has a number for it
SERIES = (
    ("harvest/solve_rate", "train (harvest solve rate)", dict(color="tab:blue", linestyle="--")),
    ("harvest/sample_accuracy", "train (harvest sample accuracy)", dict(color="tab:cyan", linestyle="--")),
    ("val/pass@1", "val pass@1 (greedy)", dict(color="tab:orange")),
    ("test/pass@1", "test pass@1 (greedy)", dict(color="tab:green")),
    ("ood/pass@1", "ood pass@1 (greedy)", dict(color="tab:red")),
    ("humaneval/pass@1", "HumanEval pass@1", dict(color="tab:purple", linestyle=":")),
)
FAMILY_PREFIX = "val/pass@1/"


def points(rows: list[dict], x_key: str, y_key: str) -> tuple[list, list]:
    """The (x, y) pairs of rows where both are numbers (missing values leave a gap, not a zero).

    >>> points([{"iteration": 0, "v": 0.5}, {"iteration": 1}, {"iteration": 2, "v": None}], "iteration", "v")
    ([0], [0.5])
    """
    pairs = [(r.get(x_key), r.get(y_key)) for r in rows]
    pairs = [(x, y) for x, y in pairs if _number(x) and _number(y)]
    return [x for x, _ in pairs], [y for _, y in pairs]


def families(rows: list[dict]) -> list[str]:
    """Family names with a per-family val pass@1 (not the per-difficulty ``d5`` keys).

    >>> families([{"val/pass@1/rpn": 0.5, "val/pass@1/d3": 0.1, "val/pass@1/caesar": 0.0}])
    ['caesar', 'rpn']
    """
    names = {k[len(FAMILY_PREFIX):] for r in rows for k in r if k.startswith(FAMILY_PREFIX)}
    return sorted(n for n in names if "/" not in n and not (n[:1] == "d" and n[1:].isdigit()))


def plot_metrics(rows: list[dict], out_dir: str) -> list[str]:
    """Write ``accuracy.png`` and ``families.png`` into ``out_dir``; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    return [_accuracy_figure(rows, os.path.join(out_dir, "accuracy.png")),
            _families_figure(rows, os.path.join(out_dir, "families.png")),
            intervals_figure(rows, os.path.join(out_dir, "intervals.png"))]


# (split, label, color) of the interval figure: greedy pass@1 with its 95% interval as error bars
INTERVAL_SPLITS = (("val", "val", "tab:orange"), ("test", "test", "tab:green"), ("ood", "ood", "tab:red"))


def intervals_figure(rows: list[dict], path: str) -> str:
    """Val sampled pass@1 with its 95% band, greedy pass@1 of val/test/ood with 95% error bars,
    HumanEval pass@1: the accuracy plot of a run of record."""
    fig, ax = plt.subplots(figsize=(9, 5.2))
    key = "val/pass@1_sampled"
    band = [(r["iteration"], r[key], r.get(key + "_low"), r.get(key + "_high")) for r in rows
            if _number(r.get(key)) and _number(r.get("iteration"))]
    if band:
        xs, ys, low, high = zip(*band)
        ax.plot(xs, ys, color="tab:orange", linewidth=2, marker="o", markersize=4, label="val pass@1 sampled (95% band)")
        if all(_number(v) for v in low + high):
            ax.fill_between(xs, low, high, color="tab:orange", alpha=0.18)
    for i, (split, label, color) in enumerate(INTERVAL_SPLITS):
        key = f"{split}/pass@1"
        pts = [(r["iteration"], r[key], r.get(key + "_low"), r.get(key + "_high")) for r in rows
               if _number(r.get(key)) and _number(r.get("iteration"))]
        if not pts:
            continue
        x = [p[0] + 0.08 * (i - 1) for p in pts]  # side by side at shared iterations
        y = [p[1] for p in pts]
        err = [[max(0.0, p[1] - (p[2] if p[2] is not None else p[1])) for p in pts],
               [max(0.0, (p[3] if p[3] is not None else p[1]) - p[1]) for p in pts]]
        ax.errorbar(x, y, yerr=err, fmt="o" if split != "val" else "s", color=color, capsize=3, markersize=4,
                    linestyle=":" if split == "val" else "none", label=f"{label} pass@1 greedy (95% CI)")
    xs, ys = points(rows, "iteration", "humaneval/pass@1")
    if xs:
        ax.plot(xs, ys, "D", color="tab:purple", markersize=7, label="HumanEval pass@1 (greedy, 164)")
    _decorate(ax, _title(rows, "Accuracy with 95% intervals"), "outer iteration")
    ax.set_ylabel("fraction solved")
    return _save(fig, path)


def _accuracy_figure(rows: list[dict], path: str) -> str:
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    for ax, x_key, x_label in ((axes[0], "iteration", "outer iteration"), (axes[1], "global_step", "optimizer step")):
        for key, label, style in SERIES:
            xs, ys = points(rows, x_key, key)
            if xs:
                ax.plot(xs, ys, marker="o", markersize=4, label=label, **style)
        _mark_jumps(ax, rows, x_key)
        _decorate(ax, f"Accuracy vs {x_label}", x_label)
    axes[0].set_ylabel("fraction solved")
    fig.suptitle(_title(rows, "Expert iteration: train, val and test accuracy"))
    return _save(fig, path)


def _families_figure(rows: list[dict], path: str) -> str:
    fig, ax = plt.subplots(figsize=(8, 4.8))
    colors = plt.get_cmap("tab10")
    for i, family in enumerate(families(rows)):
        xs, ys = points(rows, "iteration", FAMILY_PREFIX + family)
        ax.plot(xs, ys, marker="o", markersize=4, label=family, color=colors(i % 10))
    xs, ys = points(rows, "iteration", "val/pass@1")
    if xs:
        ax.plot(xs, ys, color="black", linewidth=2.5, alpha=0.6, label="all families")
    _mark_jumps(ax, rows, "iteration")
    _decorate(ax, _title(rows, "Validation pass@1 (greedy) per problem family"), "outer iteration")
    ax.set_ylabel("fraction solved")
    return _save(fig, path)


def _mark_jumps(ax, rows: list[dict], x_key: str) -> None:
    xs = [r[x_key] for r in rows if r.get("grok/jump") == 1 and _number(r.get(x_key))]
    for i, x in enumerate(xs):
        ax.axvline(x, color="crimson", alpha=0.5, linewidth=1.5, label="jump detected" if i == 0 else None)


def _decorate(ax, title: str, x_label: str) -> None:
    ax.set_title(title)
    ax.set_xlabel(x_label)
    ax.set_ylim(-0.03, 1.03)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # iterations and steps are whole numbers
    low, high = ax.get_xlim()
    if high - low < 2:  # a single point: give it some room
        ax.set_xlim(low - 1, high + 1)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes, color="gray")


def _title(rows: list[dict], text: str) -> str:
    last = max((r["iteration"] for r in rows if _number(r.get("iteration"))), default=None)
    return text if last is None else f"{text} (up to iteration {last})"


def _save(fig, path: str) -> str:
    """Save as PNG atomically (temp file, fsync, rename over ``path``)."""
    fig.tight_layout()
    try:
        with atomic_writer(path, binary=True) as f:
            fig.savefig(f, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == x


def plot_run(run_dir: str) -> list[str]:
    """Redraw ``RUN_DIR/plots/`` from ``RUN_DIR/metrics.jsonl``."""
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no metrics file at {path}: is {run_dir} a run folder?")
    return plot_metrics(read_rows(path), os.path.join(run_dir, "plots"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Draw RUN_DIR/plots/*.png from RUN_DIR/metrics.jsonl.")
    parser.add_argument("run_dir", help="the run folder (--trainer.default_root_dir of the run)")
    for path in plot_run(parser.parse_args(argv).run_dir):
        print(path)


if __name__ == "__main__":
    main()

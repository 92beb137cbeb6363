"""The short table printed after each outer iteration. Pure functions."""

from __future__ import annotations

COLUMNS = (
    ("iter", "iteration", "{:>4}"),
    ("harvest", "harvest/solve_rate", "{:>7.1%}"),
    ("sols", "harvest/solutions", "{:>5}"),
    ("loss", "train/loss_mean", "{:>7.4f}"),
    ("val@1", "val/pass@1", "{:>6.1%}"),
    ("val@1s", "val/pass@1_sampled", "{:>10±}"),  # sampled pass@1 ± half its 95% interval, in %
    ("test@1", "test/pass@1", "{:>6.1%}"),
    ("new", "val/first_solved_this_iter", "{:>4}"),
    ("jump", "grok/jump", "{:>4}"),
    ("harv_s", "time/harvest_s", "{:>7.1f}"),
    ("eval_s", "time/eval_s", "{:>7.1f}"),
    ("train_s", "time/train_s", "{:>7.1f}"),
)


def header(row: dict | None = None) -> str:
    """Column titles matching ``format_row``.

    >>> header().split()[:3]
    ['iter', 'harvest', 'sols']
    """
    return " ".join(title.rjust(_width(fmt)) for title, _, fmt in COLUMNS)


def _width(fmt: str) -> int:
    """The field width of a ``{:>W...}`` format.

    >>> _width("{:>7.1%}"), _width("{:>10±}")
    (7, 10)
    """
    return int(fmt[3:].split(".")[0].rstrip("}").rstrip("±"))


def _cell(fmt: str, row: dict, key: str) -> str:
    """One value; ``±`` formats show ``KEY`` in percent and half the width of the interval
    ``KEY_low``..``KEY_high`` (the value alone when the interval is missing).

    >>> _cell("{:>10±}", {"a": 0.125, "a_low": 0.05, "a_high": 0.2}, "a")
    '  12.5±7.5'
    """
    value = row.get(key)
    if value is None:
        return "-".rjust(_width(fmt))
    if not fmt.endswith("±}"):
        return fmt.format(value)
    low, high = row.get(key + "_low"), row.get(key + "_high")
    text = f"{100 * value:.1f}" + ("" if low is None or high is None else f"±{50 * (high - low):.1f}")
    return text.rjust(_width(fmt))


def format_row(row: dict) -> str:
    """One line of the table; missing values show as ``-``.

    >>> format_row({"iteration": 2, "val/pass@1": 0.5}).split()[:2]
    ['2', '-']
    """
    return " ".join(_cell(fmt, row, key) for _, key, fmt in COLUMNS)

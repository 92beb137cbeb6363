"""The short table printed after each outer iteration. Pure functions."""

from __future__ import annotations

COLUMNS = (
    ("iter", "iteration", "{:>4}"),
    ("harvest", "harvest/solve_rate", "{:>7.1%}"),
    ("sols", "harvest/solutions", "{:>5}"),
    ("loss", "train/loss_mean", "{:>7.4f}"),
    ("val@1", "val/pass@1", "{:>6.1%}"),
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

    >>> _width("{:>7.1%}")
    7
    """
    return int(fmt[3:].split(".")[0].rstrip("}"))


def format_row(row: dict) -> str:
    """One line of the table; missing values show as ``-``.

    >>> format_row({"iteration": 2, "val/pass@1": 0.5}).split()[:2]
    ['2', '-']
    """
    values = dict(row)
    return " ".join(
        fmt.format(values[key]) if values.get(key) is not None else "-".rjust(_width(fmt))
        for _, key, fmt in COLUMNS
    )

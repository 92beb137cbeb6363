"""The order of ``trainer.callbacks`` that matters, checked once before the run starts.

Lightning calls callbacks in their listed order (checkpoint callbacks last). A callback that adds
to the iteration's row (``feeds_metrics_row``) must come before ``MetricsCallback``, which writes
the row; one that reads ``metrics.jsonl`` (``reads_metrics_file``) after it; one that reads what
another adds names it in ``listed_after``, or in ``requires`` if it cannot work without it (then it
must be present, and before it).
"""

from __future__ import annotations

from settings.errors import ConfigError


def check_callback_order(callbacks: list) -> None:
    """Refuse an order in which a callback would read what has not been written yet."""
    names = [type(c).__name__ for c in callbacks]
    position: dict[str, int] = {}
    for i, name in enumerate(names):
        position.setdefault(name, i)
    metrics = position.get("MetricsCallback")
    for i, (name, callback) in enumerate(zip(names, callbacks)):
        required = list(getattr(callback, "requires", ()))
        missing = [n for n in required if n not in position]
        if missing:
            raise ConfigError(f"trainer.callbacks: {name} needs {missing[0]}, which is not in the list",
                              field="trainer.callbacks", fix=f"add {missing[0]} before {name}, or remove {name}")
        if getattr(callback, "feeds_metrics_row", False) and metrics is not None and metrics < i:
            raise _misplaced(name, i, "before", "MetricsCallback", metrics, "it adds to the row MetricsCallback writes")
        needs = required + list(getattr(callback, "listed_after", ()))
        needs += ["MetricsCallback"] if getattr(callback, "reads_metrics_file", False) else []
        late = [n for n in needs if n in position and position[n] > i]
        if late:
            raise _misplaced(name, i, "after", late[0], position[late[0]], f"it reads what {late[0]} writes")


def _misplaced(name: str, at: int, where: str, other: str, other_at: int, why: str) -> ConfigError:
    return ConfigError(
        f"trainer.callbacks: {name} (#{at + 1}) must be listed {where} {other} (#{other_at + 1}): {why}",
        field="trainer.callbacks", fix=f"move {name} {where} {other} in the trainer.callbacks list of the config")

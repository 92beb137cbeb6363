"""The order of ``trainer.callbacks`` that matters, checked once before the run starts.

Lightning calls callbacks in their listed order (checkpoint callbacks last). A callback that adds
to the iteration's row (``feeds_metrics_row``) must come before ``MetricsCallback``, which writes
the row; one that reads ``metrics.jsonl`` (``reads_metrics_file``) after it; one that reads what
another adds names it in ``listed_after`` (and in ``requires`` if it cannot work without it).
"""

from __future__ import annotations

from settings.errors import ConfigError


def check_callback_order(callbacks: list) -> None:
    """Refuse an order in which a callback would read what has not been written yet."""
    names = [type(c).__name__ for c in callbacks]
    position = {}
    for i, name in enumerate(names):
        position.setdefault(name, i)
    for i, callback in enumerate(callbacks):
        name = names[i]
        missing = [n for n in getattr(callback, "requires", ()) if n not in position]
        if missing:
            raise ConfigError(f"trainer.callbacks: {name} needs {missing[0]}, which is not in the list",
                              field="trainer.callbacks", fix=f"add {missing[0]} before {name}, or remove {name}")
        needs = list(getattr(callback, "listed_after", ()))
        if getattr(callback, "reads_metrics_file", False):
            needs.append("MetricsCallback")
        late = [n for n in needs if n in position and position[n] > i]
        if getattr(callback, "feeds_metrics_row", False) and position.get("MetricsCallback", i + 1) < i:
            raise _misplaced(name, i, "before", "MetricsCallback", position["MetricsCallback"],
                             "it adds to the row MetricsCallback writes")
        if late:
            raise _misplaced(name, i, "after", late[0], position[late[0]], f"it reads what {late[0]} writes")


def _misplaced(name: str, at: int, where: str, other: str, other_at: int, why: str) -> ConfigError:
    return ConfigError(
        f"trainer.callbacks: {name} (#{at + 1}) must be listed {where} {other} (#{other_at + 1}): {why}",
        field="trainer.callbacks", fix=f"move {name} {where} {other} in the trainer.callbacks list of the config")

"""Refusing a setting: one error type that names the field, what is allowed and how to fix it."""

from __future__ import annotations

import math


class ConfigError(ValueError):
    """A refused setting. ``field`` names the config key (when one does), ``fix`` says how to repair it.

    main.py prints the message (and the fix) without a traceback and exits with code 2.
    """

    def __init__(self, message: str, field: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.field, self.fix = field, fix


def require(condition: bool, field: str, value, allowed: str) -> None:
    """Raise ``ConfigError`` (a ``ValueError``) naming ``field``, its bad ``value`` and what is ``allowed``.

    >>> require(True, "model.lora_rank", 8, ">= 1")
    >>> require(False, "model.lora_rank", 0, ">= 1")
    Traceback (most recent call last):
    ...
    settings.errors.ConfigError: model.lora_rank = 0 is invalid: must be >= 1
    """
    if not condition:
        raise ConfigError(f"{field} = {value!r} is invalid: must be {allowed}", field=field)


def finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)

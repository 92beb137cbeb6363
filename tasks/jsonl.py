"""Problem files: one problem per line, written atomically, read back tolerantly (``storage.atomic``)."""
from __future__ import annotations

import os
from typing import Iterable

from storage.atomic import read_rows, write_rows_atomic
from tasks.problem import Problem


def save_jsonl(problems: Iterable[Problem], path: str | os.PathLike) -> None:
    """Write one problem per line, atomically."""
    write_rows_atomic(path, (p.to_dict() for p in problems), sort_keys=True)


def load_jsonl(path: str | os.PathLike) -> list[Problem]:
    """Read problems back (see ``read_rows`` for damaged files); a missing file is an error."""
    if not os.path.exists(os.fspath(path)):
        raise FileNotFoundError(f"no problem file at {os.fspath(path)}")
    return read_rows(path, parse=Problem.from_dict)

"""Problems to and from JSON Lines files (written atomically)."""
from __future__ import annotations

import json
import os
import tempfile
import warnings
from typing import Iterable

from tasks.problem import Problem


def save_jsonl(problems: Iterable[Problem], path: str | os.PathLike) -> None:
    """Write one problem per line; a reader never sees a half-written file.

    The data goes to a temporary file in the same folder, is flushed and fsynced, then
    `os.replace`d over `path`.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for problem in problems:
                f.write(json.dumps(problem.to_dict(), sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_jsonl(path: str | os.PathLike) -> list[Problem]:
    """Read problems back. Blank lines are skipped.

    A last line that is cut short (no trailing newline, not valid JSON) is dropped with a warning;
    any other bad line raises ValueError naming the file and the line number.
    """
    path = os.fspath(path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    problems = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            problems.append(Problem.from_dict(json.loads(line)))
        except (json.JSONDecodeError, ValueError, KeyError, TypeError) as err:
            truncated_tail = number == len(lines) and not text.endswith("\n")
            if truncated_tail and isinstance(err, json.JSONDecodeError):
                warnings.warn(f"{path}:{number}: dropped a truncated last line", stacklevel=2)
                continue
            raise ValueError(f"{path}:{number}: bad problem record: {err}") from err
    return problems

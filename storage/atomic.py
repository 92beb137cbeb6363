"""Crash-safe files: atomic whole-file writes, fsync'd appends, tolerant JSON Lines reads.

Every file a run writes goes through ``atomic_writer`` (temp file beside the target, fsync,
rename, fsync of the folder) or ``append_row``; a finished folder is published with
``publish_dir``. A crash at any point leaves the old file or the complete new one.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from typing import Iterable


@contextmanager
def atomic_writer(path: str | os.PathLike, binary: bool = False, before_replace=None):
    """Open a temp file beside ``path``; on success fsync it and rename it over ``path``.

    A crash at any point leaves either the old file or the complete new one, never a part (a
    killed writer may leave its ``.tmp-*`` file; ``remove_stale_temps`` clears them).
    ``before_replace()`` runs between the fsync and the rename (a fault-injection point).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def remove_stale_temps(path: str | os.PathLike) -> None:
    """Remove temp files ``atomic_writer`` left beside ``path`` when a writer was killed."""
    import glob

    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    for stale in glob.glob(os.path.join(glob.escape(folder), ".tmp-*" + os.path.splitext(os.fspath(path))[1])):
        os.unlink(stale)


def write_rows_atomic(path: str | os.PathLike, rows: Iterable[dict], sort_keys: bool = False) -> None:
    """Write all rows at once; a reader never sees a half-written file."""
    with atomic_writer(path) as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=sort_keys, ensure_ascii=False) + "\n")


def write_json_atomic(path: str | os.PathLike, data) -> None:
    """Write one JSON document atomically."""
    with atomic_writer(path) as f:
        json.dump(data, f, indent=1, ensure_ascii=False)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically."""
    with atomic_writer(path) as f:
        f.write(text)


def append_row(path: str | os.PathLike, row: dict) -> None:
    """Append one row and fsync, so a crash loses at most the row being written. A last line cut
    short by an earlier crash is dropped first (as ``read_rows`` drops it): the new row would be
    glued to it."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    drop_torn_tail(path)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def drop_torn_tail(path: str | os.PathLike) -> bool:
    """Cut the file back to its last newline when its last line was cut short; True if it was."""
    try:
        f = open(path, "r+b")
    except FileNotFoundError:
        return False
    with f:
        end = f.seek(0, os.SEEK_END)
        if end == 0 or (f.seek(end - 1), f.read(1))[1] == b"\n":
            return False
        position = end
        while position > 0:
            start = max(0, position - 65536)
            f.seek(start)
            newline = f.read(position - start).rfind(b"\n")
            if newline >= 0:
                position = start + newline + 1
                break
            position = start
        f.truncate(position)
        f.flush()
        os.fsync(f.fileno())
        return True


def read_rows(path: str | os.PathLike, parse=None) -> list:
    """Rows of ``path`` ([] if it does not exist), each passed through ``parse`` if given.

    Blank lines are skipped. A last line that is cut short (no trailing newline, not valid
    JSON: a write killed midway) is dropped with a warning; any other bad line raises
    ValueError naming the file and the line number.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            rows.append(parse(data) if parse else data)
        except (json.JSONDecodeError, ValueError, KeyError, TypeError) as err:
            truncated_tail = number == len(lines) and not text.endswith("\n")
            if truncated_tail and isinstance(err, json.JSONDecodeError):
                warnings.warn(f"{path}:{number}: dropped a truncated last line", stacklevel=2)
                continue
            raise ValueError(f"{path}:{number}: bad record: {err}") from err
    return rows


@contextmanager
def staged_dir(final: str | os.PathLike):
    """Yield a temp folder beside ``final``; on success it replaces ``final`` (then the parent is
    fsync'd), on failure it is removed and ``final`` is left as it was."""
    final = os.fspath(final)
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        yield tmp
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(os.path.dirname(os.path.abspath(final)))


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""Progress bars for sampling and verification (rank 0 only)."""

from __future__ import annotations

from contextlib import contextmanager

from tqdm.auto import tqdm


@contextmanager
def progress_bar(total: int, desc: str, enabled: bool):
    """Yields an ``update(n)`` function; a no-op when ``enabled`` is False."""
    if not enabled:
        yield lambda n: None
        return
    bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)
    try:
        yield bar.update
    finally:
        bar.close()

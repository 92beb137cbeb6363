"""Test-only fault injection: kill the process at a named point, deterministically.

Set ``EXPERT_ITER_FAULT=POINT:N`` to SIGKILL the process the N-th time ``POINT`` is reached
(``POINT:N:term`` sends SIGTERM instead, as a scheduler preempting the job would).
Points: ``sampled`` (replies sampled, nothing written), ``retry_sampled`` (a harvest's hinted
retries sampled, nothing written), ``harvest_stats_written`` (stats file
written, solutions file not yet), ``harvest_done`` (harvest in memory and on disk, checkpoint not
yet written), ``checkpoint_written`` (checkpoint bytes in a temp file, not yet renamed),
``checkpoint_done`` (checkpoint renamed into place). Unset (the default), this does nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "EXPERT_ITER_FAULT"
_counts: dict[str, int] = {}


def point(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    target, _, rest = spec.partition(":")
    if target != name:
        return
    nth, _, action = rest.partition(":")
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGTERM if action == "term" else signal.SIGKILL)

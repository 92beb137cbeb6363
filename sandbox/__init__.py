"""Run untrusted, model-written code against test cases and return verdicts.

    from sandbox import verify, verify_batch, verify_assertions, Verdict, SandboxPool
    v = verify(code, entry_point, tests, timeout_s=None)
    v.passed, v.status, v.detail, v.tests_passed, v.tests_total

Candidates never run in the caller's process: a module-wide ``SandboxPool`` of worker processes
(clean ``python -I -S``, inside Linux namespaces where available) is created on first use, reused,
re-created after fork() and closed at exit. See ``docs/SANDBOX.md`` and ``sandbox/verdict.py``.

This package must not import torch, lightning or tasks.
"""
from __future__ import annotations

import os
import threading

from .codec import NotPlainData, equal
from .errors import SandboxError, SandboxSelfCheckError
from .isolation import detect_isolation
from .pool import DEFAULT_TIMEOUT_S, SandboxPool
from .verdict import STATUSES, Verdict

__all__ = [
    "verify", "verify_batch", "verify_assertions", "verify_assertions_batch", "get_pool", "shutdown",
    "Verdict", "STATUSES", "SandboxPool", "SandboxError", "SandboxSelfCheckError", "NotPlainData",
    "detect_isolation", "equal", "DEFAULT_TIMEOUT_S",
]

_default_pool: SandboxPool | None = None
_default_lock = threading.Lock()


def get_pool() -> SandboxPool:
    """The module-wide pool, started (with its self-check) on first use."""
    global _default_pool
    with _default_lock:
        p = _default_pool
        if p is None or p.closed or p._pid != os.getpid():
            _default_pool = p = SandboxPool()
        return p


def shutdown() -> None:
    """Stop the module-wide pool's workers (also done automatically at exit)."""
    global _default_pool
    with _default_lock:
        if _default_pool is not None and _default_pool._pid == os.getpid():
            _default_pool.close()
        _default_pool = None


def verify(code, entry_point, tests, timeout_s=None) -> Verdict:
    """Verify one candidate. ``tests``: objects with ``.args`` (list) and ``.expected``, or dicts
    ``{"args": [...], "expected": ...}``. ``timeout_s`` bounds the whole candidate (all tests)."""
    return get_pool().verify(code, entry_point, tests, timeout_s=timeout_s)


def verify_batch(items, timeout_s=None, workers=None) -> list[Verdict]:
    """Verify many ``(code, entry_point, tests)`` in parallel; verdicts in the same order."""
    return get_pool().verify_batch(list(items), timeout_s=timeout_s, workers=workers)


def verify_assertions(code, test_code, entry_point, timeout_s=None) -> Verdict:
    """HumanEval-style check: run ``code``, then ``test_code`` (defines ``check(candidate)``), then
    ``check(<entry_point>)`` in the same namespace and sandbox. Pass if it returns."""
    return get_pool().verify_assertions(code, test_code, entry_point, timeout_s=timeout_s)


def verify_assertions_batch(items, timeout_s=None, workers=None) -> list[Verdict]:
    """Many ``(code, test_code, entry_point)`` in parallel; verdicts in the same order."""
    return get_pool().verify_assertions_batch(list(items), timeout_s=timeout_s, workers=workers)

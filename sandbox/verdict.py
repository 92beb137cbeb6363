"""Verdicts: the result of verifying one candidate.

Statuses (``Verdict.status``); only ``"pass"`` has ``passed == True``:

- ``pass``          every test ran, and every output equals its expected value (exact type and value,
                    see ``sandbox.codec``); in assertion mode: ``check(candidate)`` returned.
- ``wrong_answer``  the first failing test returned a plain-data value that differs from the expected
                    one (assertion mode: an ``AssertionError`` was raised).
- ``syntax_error``  the code does not compile (also: NUL bytes, code that is not text, code larger
                    than ``max_code_bytes``).
- ``no_function``   the code ran but defines no callable named ``entry_point`` (or the name is invalid).
- ``runtime_error`` an exception was raised while loading the code or by the first failing test.
- ``timeout``       the wall-clock deadline for the whole candidate (all tests) passed, or the CPU-time
                    limit (SIGXCPU) killed it.
- ``memory``        ``MemoryError`` (the address-space limit) at load time or in the first failing test.
- ``crash``         the candidate process was killed by a signal (segfault, abort, SIGXFSZ from the
                    file-size limit, a SIGKILL it sent itself, ...) before finishing.
- ``output_limit``  stdout+stderr exceeded ``output_limit`` bytes, or the result channel exceeded
                    ``result_limit`` bytes (e.g. a gigantic return value).
- ``bad_output``    the first failing test returned something that is not plain data of exact builtin
                    types (subclasses, rigged ``__eq__`` objects, generators, sets, ...), nested too
                    deep, or the result channel held something the harness never writes (tampering).
- ``early_exit``    the candidate ended the process or raised ``SystemExit`` before all results were
                    written (``sys.exit(0)``, ``os._exit(0)``, ``exit()``, killing itself quietly).
- ``empty``         no code at all (``None``, empty or whitespace only); nothing was run.
- ``sandbox_error`` infrastructure failure (a worker died or hung, a malformed reply); not the
                    candidate's fault as far as the sandbox can tell, but never a pass.
"""
from __future__ import annotations

from dataclasses import dataclass

STATUSES = (
    "pass",
    "wrong_answer",
    "syntax_error",
    "no_function",
    "runtime_error",
    "timeout",
    "memory",
    "crash",
    "output_limit",
    "bad_output",
    "early_exit",
    "empty",
    "sandbox_error",
)


@dataclass(frozen=True)
class Verdict:
    """Outcome of one candidate. ``passed`` is True only for status ``"pass"``."""

    status: str
    detail: str = ""
    tests_passed: int = 0
    tests_total: int = 0
    elapsed_s: float = 0.0

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError("unknown verdict status %r" % (self.status,))

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict:
        return {"passed": self.passed, "status": self.status, "detail": self.detail,
                "tests_passed": self.tests_passed, "tests_total": self.tests_total,
                "elapsed_s": round(self.elapsed_s, 6)}

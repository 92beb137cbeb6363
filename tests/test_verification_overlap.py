"""Verification runs on a background thread while sampling goes on, and gives the same rows."""

import threading

import pytest

import verify.verification as verification
from tasks import build_splits

WRONG = "```python\ndef nothing():\n    return None\n```"


def test_batches_are_verified_while_the_next_is_sampled(monkeypatch):
    problems = build_splits(4, 0, 1, None, 1, 2, seed=0)["train"]
    replies = [[f"```python\n{p.reference}\n```", WRONG] if i != 1 else [WRONG, "no code here"]
               for i, p in enumerate(problems)]
    started, real = threading.Event(), verification.verify_replies

    def spy(batch_problems, batch_replies, timeout_s):
        started.set()
        return real(batch_problems, batch_replies, timeout_s)

    monkeypatch.setattr(verification, "verify_replies", spy)
    with verification.BackgroundVerifier(problems) as verifier:
        verifier.submit([0, 1], replies[:2])
        # still "sampling": the first batch's verification must start without the caller waiting for it
        assert started.wait(timeout=60)
        verifier.submit([3], replies[3:])
        rows = verifier.rows(replies)  # problem 2 was never submitted: verified here
    assert rows == real(problems, replies)
    assert [r["passed"] for r in rows] == [True, False, False, False, True, False, True, False]


def test_a_failure_in_the_background_reaches_the_caller(monkeypatch):
    problems = build_splits(2, 0, 1, None, 1, 2, seed=0)["train"]

    def broken(*args):
        raise RuntimeError("sandbox down")

    monkeypatch.setattr(verification, "verify_replies", broken)
    with verification.BackgroundVerifier(problems) as verifier:
        verifier.submit([0, 1], [["x"], ["y"]])
        with pytest.raises(RuntimeError, match="sandbox down"):
            verifier.rows([["x"], ["y"]])

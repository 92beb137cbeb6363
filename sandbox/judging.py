"""Verdicts from a worker's reply: plain data compared with expected values only the trainer holds.

Nothing here trusts the reply: a message that does not decode, comes out of order or forges the
per-request nonce makes the verdict ``bad_output``; a strange reply never raises.
"""
from __future__ import annotations

import json
import signal

from .codec import NotPlainData, canon_equal, canon_output, decode_line
from .verdict import Verdict


def _sig_name(sig):
    try:
        return signal.Signals(sig).name
    except Exception:
        return "signal %s" % sig


def _short(s, n=160):
    s = str(s)
    return s if len(s) <= n else s[: n - 3] + "..."


def judge(job, resp, nonce) -> Verdict:
    """The verdict of one job (``mode`` "call" or "assert") from the worker's reply ``resp``."""
    try:
        if job["mode"] == "call":
            return _judge_call(job, resp, nonce)
        return _judge_assert(job, resp, nonce)
    except Exception as e:  # never let a strange reply raise in the trainer
        return Verdict("sandbox_error", _short("judging failed: %s: %s" % (type(e).__name__, e)),
                       0, len(job.get("exps", [None])))


def _stage_verdict(m, total, elapsed):
    k = m.get("k")
    name, d = _short(m.get("e", ""), 60), _short(m.get("d", ""), 120)
    if k == "syntax_error":
        return Verdict("syntax_error", "%s: %s" % (name, d), 0, total, elapsed)
    if k == "no_function":
        return Verdict("no_function", "no callable with the entry point name", 0, total, elapsed)
    if k == "test_error":
        return Verdict("runtime_error", "test code does not compile: %s: %s" % (name, d), 0, total, elapsed)
    # load_error
    return Verdict(_exc_status(name), "while loading: %s: %s" % (name, d), 0, total, elapsed)


def _exc_status(name):
    if name == "MemoryError":
        return "memory"
    if name == "SystemExit":
        return "early_exit"
    return "runtime_error"


def _process_verdict(resp, total, passed, elapsed, timeout):
    """Verdicts decided by how the process ended, before looking at results. None if it ended well."""
    if resp.get("error"):
        return Verdict("sandbox_error", _short(resp["error"]), passed, total, elapsed)
    killed = resp.get("killed")
    if killed == "timeout":
        return Verdict("timeout", "deadline of %.3g s exceeded" % timeout, passed, total, elapsed)
    if killed in ("output_limit", "result_limit"):
        what = "stdout/stderr" if killed == "output_limit" else "result channel"
        return Verdict("output_limit", "%s exceeded its limit" % what, passed, total, elapsed)
    return None


def _signal_verdict(resp, total, passed, elapsed):
    sig = resp.get("signal")
    if sig is None:
        return None
    if sig == signal.SIGXCPU:
        return Verdict("timeout", "CPU time limit (SIGXCPU)", passed, total, elapsed)
    extra = " (file size limit)" if sig == signal.SIGXFSZ else ""
    return Verdict("crash", "killed by %s%s" % (_sig_name(sig), extra), passed, total, elapsed)


def _messages(resp) -> tuple[list[dict], str | None]:
    """The reply's result-channel lines that decode to plain data, and the first decoding error
    (tampering) if any line does not."""
    out, tamper = [], None
    for line in resp.get("lines") or []:
        try:
            out.append(decode_line(line))
        except NotPlainData as e:
            tamper = tamper or str(e)
    return out, tamper


def _ending_verdict(resp, stage, tamper, total, passed, elapsed, timeout):
    """The verdict decided before per-test results count, in order of precedence: the sandbox's
    own failure or a limit, a load-stage failure, a fatal signal, tampering. None if none applies."""
    v = _process_verdict(resp, total, passed, elapsed, timeout)
    if v:
        return v
    if stage is not None:
        return _stage_verdict(stage, total, elapsed)
    v = _signal_verdict(resp, total, passed, elapsed)
    if v:
        return v
    if tamper:
        return Verdict("bad_output", "result channel tampered with: %s" % _short(tamper, 100), passed, total, elapsed)
    return None


def _call_outcome(m, expected):
    """The outcome of result message ``m`` for a test expecting ``expected``; None if malformed."""
    if "v" in m:
        try:
            c = canon_output(m["v"])
            return ("ok", c, canon_equal(c, expected), m["v"])
        except NotPlainData as e:
            return ("bad", str(e))
    if "e" in m:
        return ("exc", str(m["e"]), str(m.get("d", "")))
    if "bad" in m:
        return ("bad", str(m["bad"]))
    if "big" in m:
        return ("big",)
    return None


def _outcomes_verdict(outcomes, ended, code, passed, n, elapsed) -> Verdict:
    """The verdict from the per-test outcomes, in test order, when no ending verdict applies."""
    for i, o in enumerate(outcomes):
        if o is None:
            if code in (121, 122, 123, 124) and not any(outcomes):
                return Verdict("sandbox_error", "candidate process setup failed (exit %s)" % code, passed, n, elapsed)
            return Verdict("early_exit", "process ended (exit code %s) before test %d/%d" % (code, i + 1, n),
                           passed, n, elapsed)
        if o[0] == "exc":
            return Verdict(_exc_status(o[1]), "test %d: %s: %s" % (i + 1, _short(o[1], 60), _short(o[2], 100)),
                           passed, n, elapsed)
        if o[0] == "big":
            return Verdict("output_limit", "test %d: return value too large" % (i + 1,), passed, n, elapsed)
        if o[0] == "bad":
            return Verdict("bad_output", "test %d: %s" % (i + 1, _short(o[1], 120)), passed, n, elapsed)
        if not o[2]:
            return Verdict("wrong_answer", "test %d: got %s" % (i + 1, _short(json.dumps(o[3]), 100)),
                           passed, n, elapsed)
    if not ended or code != 0:
        return Verdict("early_exit", "process ended (exit code %s) without the end marker" % code, passed, n, elapsed)
    return Verdict("pass", "", passed, n, elapsed)


def _judge_call(job, resp, nonce) -> Verdict:
    exps = job["exps"]
    n = len(exps)
    elapsed = float(resp.get("elapsed") or 0.0)
    outcomes = [None] * n
    stage = None
    ended = False
    messages, tamper = _messages(resp)
    for m in messages:
        k = m.get("k")
        if k == "r" and not ended and stage is None:
            i = m.get("i")
            if type(i) is not int or not 0 <= i < n or outcomes[i] is not None:
                tamper = tamper or "unexpected result index"
                continue
            outcomes[i] = _call_outcome(m, exps[i])
            if outcomes[i] is None:
                tamper = tamper or "malformed result"
        elif k in ("syntax_error", "load_error", "no_function") and stage is None and not any(outcomes):
            stage = m
        elif k == "end" and not ended:
            if m.get("n") != nonce:
                tamper = tamper or "forged end marker"
            ended = True
        else:
            tamper = tamper or "unexpected message %r" % (_short(k, 30),)
    passed = sum(1 for o in outcomes if o is not None and o[0] == "ok" and o[2])
    v = _ending_verdict(resp, stage if tamper is None else None, tamper, n, passed, elapsed, job["timeout"])
    if v:
        return v
    return _outcomes_verdict(outcomes, ended, resp.get("exit"), passed, n, elapsed)


def _judge_assert(job, resp, nonce) -> Verdict:
    elapsed = float(resp.get("elapsed") or 0.0)
    stage = None
    ok = ended = False
    exc = None
    messages, tamper = _messages(resp)
    for m in messages:
        k = m.get("k")
        if k in ("syntax_error", "load_error", "no_function", "test_error") and stage is None:
            stage = m
        elif k == "r" and exc is None and m.get("i") == 0 and "e" in m:
            exc = (str(m["e"]), str(m.get("d", "")))
        elif k == "ok" and not ok:
            ok = m.get("n") == nonce
            if not ok:
                tamper = tamper or "forged ok marker"
        elif k == "end" and not ended:
            ended = m.get("n") == nonce
            if not ended:
                tamper = tamper or "forged end marker"
        else:
            tamper = tamper or "unexpected message"
    v = _ending_verdict(resp, stage, tamper, 1, 0, elapsed, job["timeout"])
    if v:
        return v
    if exc is not None:
        name, d = exc
        status = "wrong_answer" if name == "AssertionError" else _exc_status(name)
        return Verdict(status, "%s: %s" % (_short(name, 60), _short(d, 100)), 0, 1, elapsed)
    code = resp.get("exit")
    if ok and ended and code == 0:
        return Verdict("pass", "", 1, 1, elapsed)
    return Verdict("early_exit", "process ended (exit code %s) before check() finished" % code, 0, 1, elapsed)

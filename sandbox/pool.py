"""Trainer-side pool of sandbox workers.

The trainer never runs candidate code. It starts a few worker processes (``sandbox/worker.py`` run by a
clean ``python -I -S -B``, never importing torch), each inside its own Linux namespaces when the
kernel allows it, sends them requests over pipes, enforces an outer watchdog, and turns the plain
data that comes back into ``Verdict`` objects by comparing with expected values that only this
process holds.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections import deque

from .codec import NotPlainData, canon_expected, encode_args
from .errors import SandboxError, SandboxSelfCheckError
from .isolation import detect_isolation
from .judging import _short, judge
from .verdict import Verdict
from .workers import Worker

DEFAULT_TIMEOUT_S = 3.0
_ENTRY_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class SandboxPool:
    """A pool of sandbox workers. Thread-safe (calls are serialised); not shared across fork().

    Parameters set the per-candidate limits: ``memory_mb`` (RLIMIT_AS), ``fsize_mb`` (largest file),
    ``nofile`` (open files), ``nproc`` (processes+threads of the sandbox uid, only when running as
    root), ``output_limit`` (bytes of stdout+stderr), ``result_limit`` (bytes on the result channel),
    ``tmpfs_mb`` (size of the jail's writable tmpfs), ``max_code_bytes`` (larger code is rejected
    without running), ``timeout_s`` (default wall-clock deadline for a whole candidate).
    """

    def __init__(self, size: int | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 memory_mb: int = 512, fsize_mb: int = 16, nofile: int = 64, nproc: int = 8,
                 output_limit: int = 1 << 20, result_limit: int = 4 << 20, tmpfs_mb: int = 64,
                 max_code_bytes: int = 256 << 10, uid: int = 65534, gid: int = 65534,
                 isolation: str = "auto", self_check: bool = True, pipeline: int = 2,
                 python: str | None = None):
        if size is None:
            try:
                size = len(os.sched_getaffinity(0))
            except Exception:
                size = os.cpu_count() or 1
        self.size = max(1, int(size))
        self.timeout_s = float(timeout_s)
        self.max_code_bytes = int(max_code_bytes)
        self.uid, self.gid = int(uid), int(gid)
        self.pipeline = max(1, int(pipeline))
        self.python = python or sys.executable
        self._limits = {"memory_mb": int(memory_mb), "fsize_mb": int(fsize_mb), "nofile": int(nofile),
                        "nproc": int(nproc), "output_limit": int(output_limit),
                        "result_limit": int(result_limit), "tmpfs_mb": int(tmpfs_mb)}
        self.isolation = detect_isolation(isolation)
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._workers: list[Worker] = []
        self._seq = 0
        self.closed = False
        self.restarts = 0
        _live_pools.add(self)
        try:
            self._ensure_workers(self.size)
            if self_check:
                self.self_check()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ public API
    def verify(self, code, entry_point, tests, timeout_s=None) -> Verdict:
        return self.verify_batch([(code, entry_point, tests)], timeout_s=timeout_s)[0]

    def verify_batch(self, items, timeout_s=None, workers=None) -> list[Verdict]:
        jobs = [self._prepare_call(code, entry, tests, timeout_s) for code, entry, tests in items]
        return self._execute(jobs, workers)

    def verify_assertions(self, code, test_code, entry_point, timeout_s=None) -> Verdict:
        return self.verify_assertions_batch([(code, test_code, entry_point)], timeout_s=timeout_s)[0]

    def verify_assertions_batch(self, items, timeout_s=None, workers=None) -> list[Verdict]:
        jobs = [self._prepare_assert(code, test, entry, timeout_s) for code, test, entry in items]
        return self._execute(jobs, workers)

    def describe(self) -> dict:
        """What protection is active (from the first worker's hello)."""
        h = self._workers[0].hello if self._workers else {}
        return {"mode": self.isolation["mode"], "net_namespace": self.isolation["netns"],
                "pid_namespace": bool(h.get("pid1")), "jail": bool(h.get("jail")),
                "drop_uid": bool(h.get("drop_uid")), "uid": self.uid if h.get("drop_uid") else None,
                "workers": len(self._workers), "limits": dict(self._limits),
                "notes": list(h.get("notes", []))}

    def close(self):
        with self._lock:
            self.closed = True
            if os.getpid() != self._pid:
                self._workers = []
                return
            for w in self._workers:
                w.close()
            self._workers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ self-check
    def self_check(self):
        """Known-good code must pass and known-bad code must fail with the expected status."""
        mem = self._limits["memory_mb"] << 20
        t = 0.3
        cases = [
            ("def f(a, b):\n    return a + b\n", "f", [([1, 2], 3), ([-5, 5], 0), (["a", "b"], "ab")], "pass", None),
            ("import math, re, collections, json, hashlib, fractions, decimal, itertools\n"
             "def f(n):\n    buf = bytearray(n)\n    return len(buf) + int(math.sqrt(16))\n",
             "f", [([16 << 20], (16 << 20) + 4)], "pass", None),
            ("def f(a, b):\n    return a - b\n", "f", [([1, 2], 3)], "wrong_answer", None),
            ("def f():\n    while True:\n        pass\n", "f", [([], 0)], "timeout", t),
            ("def f():\n    return len(bytearray(%d))\n" % (mem + (64 << 20)), "f", [([], 0)], "memory", None),
            ("def f(:\n", "f", [([], 0)], "syntax_error", None),
            ("def f():\n    return 1 // 0\n", "f", [([], 0)], "runtime_error", None),
        ]
        jobs = []
        for w in range(len(self._workers)):
            for code, entry, tests, _, timeout in cases:
                jobs.append(self._prepare_call(code, entry, [{"args": a, "expected": e} for a, e in tests],
                                               timeout or 5.0))
        verdicts = self._execute(jobs, None)
        bad = []
        for k, v in enumerate(verdicts):
            want = cases[k % len(cases)][3]
            if v.status != want:
                bad.append("case %d: expected %s, got %s (%s)" % (k % len(cases), want, v.status, v.detail))
        if bad:
            raise SandboxSelfCheckError(
                "sandbox self-check failed with limits %s, isolation %s: %s"
                % (self._limits, self.isolation["mode"], "; ".join(bad[:4])))

    # ------------------------------------------------------------------ preparation
    def _timeout(self, timeout_s):
        t = self.timeout_s if timeout_s is None else float(timeout_s)
        if not t > 0:
            raise ValueError("timeout_s must be positive")
        return t

    def _check_code(self, code):
        """Returns (code_str, None) or (None, Verdict) for input that is not worth running."""
        if code is None:
            return None, Verdict("empty", "no code")
        if isinstance(code, (bytes, bytearray)):
            try:
                code = bytes(code).decode("utf-8")
            except UnicodeDecodeError:
                return None, Verdict("syntax_error", "code is not UTF-8 text")
        if not isinstance(code, str):
            return None, Verdict("syntax_error", "code is not text (%s)" % type(code).__name__)
        if not code.strip():
            return None, Verdict("empty", "empty code")
        if len(code) > self.max_code_bytes:
            return None, Verdict("syntax_error", "code too large (%d chars > %d)" % (len(code), self.max_code_bytes))
        return code, None

    @staticmethod
    def _entry_ok(entry):
        return (isinstance(entry, str) and 0 < len(entry) <= 200 and not entry[0].isdigit()
                and set(entry) <= _ENTRY_OK)

    def _prepare_call(self, code, entry, tests, timeout_s):
        timeout = self._timeout(timeout_s)
        args, exps = [], []
        for t in tests:
            if isinstance(t, dict):
                a, e = t["args"], t["expected"]
            else:
                a, e = t.args, t.expected
            args.append(encode_args(a))
            exps.append(canon_expected(e))  # raises NotPlainData for unusable expected values
        code, early = self._check_code(code)
        job = {"mode": "call", "timeout": timeout, "exps": exps}
        if early is None and not self._entry_ok(entry):
            early = Verdict("no_function", "invalid entry point name %r" % (_short(entry, 60),))
        if early is not None:
            job["verdict"] = Verdict(early.status, early.detail, 0, len(exps))
            return job
        job["req"] = {"mode": "call", "code": code, "entry": entry, "args": args, "timeout": timeout,
                      "result_limit": self._limits["result_limit"]}
        return job

    def _prepare_assert(self, code, test_code, entry, timeout_s):
        timeout = self._timeout(timeout_s)
        if not isinstance(test_code, str):
            raise TypeError("test_code must be a str")
        code, early = self._check_code(code)
        job = {"mode": "assert", "timeout": timeout}
        if early is None and not self._entry_ok(entry):
            early = Verdict("no_function", "invalid entry point name %r" % (_short(entry, 60),))
        if early is not None:
            job["verdict"] = Verdict(early.status, early.detail, 0, 1)
            return job
        job["req"] = {"mode": "assert", "code": code, "test": test_code, "entry": entry,
                      "timeout": timeout}
        return job

    # ------------------------------------------------------------------ execution
    @staticmethod
    def _sweep_stale_dirs():
        """Remove worker folders left by processes that died without closing their pool."""
        base = tempfile.gettempdir()
        try:
            names = os.listdir(base)
        except OSError:
            return
        for name in names:
            parts = name.split("-")
            if len(parts) < 4 or parts[0] != "sbx" or not parts[1].startswith("w") or not parts[2].isdigit():
                continue
            pid = int(parts[2])
            if pid == os.getpid():
                continue
            try:
                os.kill(pid, 0)
                continue  # owner still alive
            except ProcessLookupError:
                pass
            except OSError:
                continue
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)

    def _ensure_workers(self, n):
        if not self._workers:
            self._sweep_stale_dirs()
        while len(self._workers) < n:
            self._workers.append(Worker(self, len(self._workers)))

    def _check_owner(self):
        if self.closed:
            raise SandboxError("this SandboxPool is closed")
        if os.getpid() != self._pid:
            raise SandboxError("a SandboxPool cannot be used after fork(); make a new one")

    def _execute(self, jobs, workers):
        out = [None] * len(jobs)
        todo = []
        for i, job in enumerate(jobs):
            if "verdict" in job:
                out[i] = job["verdict"]
            else:
                todo.append(i)
        if not todo:
            return out
        with self._lock:
            self._check_owner()
            n = self.size if workers is None else max(1, int(workers))
            n = min(n, len(todo))
            self._ensure_workers(n)
            responses = self._dispatch([jobs[i] for i in todo], self._workers[:n])
        for i, (resp, nonce) in zip(todo, responses):
            out[i] = judge(jobs[i], resp, nonce)
        return out

    def _restart(self, w):
        w.kill()
        self.restarts += 1
        nw = Worker(self, w.index)
        self._workers[w.index] = nw
        return nw

    def _dispatch(self, jobs, workers):
        """Send requests to workers (pipelined), collect raw responses in order."""
        results = [None] * len(jobs)
        pending = deque(range(len(jobs)))
        workers = list(workers)
        for w in workers:
            if not w.alive():
                workers[workers.index(w)] = self._restart(w)
        grace = 2.0

        def fail_head(w, why):
            j, rid, nonce = w.inflight.popleft()
            results[j] = ({"error": why, "lines": []}, nonce)
            for item in reversed(w.inflight):
                pending.appendleft(item[0])
            w.inflight.clear()
            return self._restart(w)

        while pending or any(w.inflight for w in workers):
            now = time.monotonic()
            self._queue_requests(jobs, workers, pending, now)
            rlist = [w.out_fd for w in workers if w.inflight]
            wlist = [w.in_fd for w in workers if w.wbuf]
            wait = self._select_wait(jobs, workers, now, grace)
            try:
                r, wr, _ = select.select(rlist, wlist, [], wait)
            except InterruptedError:
                continue
            for idx, w in enumerate(workers):
                workers[idx] = self._service_worker(w, r, wr, results, fail_head)
            self._watchdog(jobs, workers, grace, fail_head)
        return results

    def _queue_requests(self, jobs, workers, pending, now):
        """Append pending requests to the workers' write buffers, up to ``pipeline`` in flight each."""
        for w in workers:
            while pending and len(w.inflight) < self.pipeline:
                j = pending.popleft()
                self._seq += 1
                nonce = os.urandom(8).hex()
                req = dict(jobs[j]["req"], id=self._seq, nonce=nonce)
                w.wbuf += (json.dumps(req) + "\n").encode()
                if not w.inflight:
                    w.head_since = now
                w.inflight.append((j, self._seq, nonce))

    @staticmethod
    def _select_wait(jobs, workers, now, grace):
        """Seconds select() may wait: at most 1, and no later than the first watchdog deadline."""
        wait = 1.0
        for w in workers:
            if w.inflight:
                lim = w.head_since + jobs[w.inflight[0][0]]["timeout"] + grace - now
                wait = min(wait, max(0.0, lim))
        return wait

    @staticmethod
    def _service_worker(w, r, wr, results, fail_head):
        """Do the I/O select() found ready for one worker; returns it, or its replacement if it failed."""
        if w.in_fd in wr and w.wbuf:
            try:
                n = os.write(w.in_fd, w.wbuf)
                del w.wbuf[:n]
            except BlockingIOError:
                pass
            except (BrokenPipeError, OSError):
                w.wbuf.clear()
                return fail_head(w, "sandbox worker died (broken pipe)")
        if w.out_fd in r:
            data = os.read(w.out_fd, 1 << 20)
            if not data:
                w.wbuf.clear()
                return fail_head(w, "sandbox worker died while running this candidate")
            w.rbuf += data
            while b"\n" in w.rbuf and w.inflight:
                line, w.rbuf = w.rbuf.split(b"\n", 1)
                j, rid, nonce = w.inflight[0]
                try:
                    resp = json.loads(line)
                    ok = isinstance(resp, dict) and resp.get("id") == rid
                except ValueError:
                    ok = False
                if not ok:
                    return fail_head(w, "malformed reply from sandbox worker")
                w.inflight.popleft()
                results[j] = (resp, nonce)
                w.head_since = time.monotonic()
        return w

    @staticmethod
    def _watchdog(jobs, workers, grace, fail_head):
        """Fail the head request of every worker that went past its deadline plus grace."""
        now = time.monotonic()
        for idx, w in enumerate(workers):
            if w.inflight:
                lim = w.head_since + jobs[w.inflight[0][0]]["timeout"] + grace
                if now > lim:
                    w.wbuf.clear()
                    workers[idx] = fail_head(w, "sandbox worker unresponsive (watchdog)")

# ---------------------------------------------------------------------- module-wide default pool
_live_pools: "weakref.WeakSet[SandboxPool]" = weakref.WeakSet()


@atexit.register
def _close_all_pools():
    for p in list(_live_pools):
        try:
            p.close()
        except Exception:
            pass

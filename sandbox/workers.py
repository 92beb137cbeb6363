"""One sandbox worker process, as the trainer's pool sees it: start-up handshake, pipes, kill."""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections import deque

from .errors import SandboxError

WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")


class Worker:
    def __init__(self, pool: "SandboxPool", index: int):
        self.pool = pool
        self.index = index
        self.dir = tempfile.mkdtemp(prefix="sbx-w%d-%d-" % (index, os.getpid()))
        os.chmod(self.dir, 0o711)
        base = os.path.join(self.dir, "root")
        os.mkdir(base, 0o711)
        iso = pool.isolation
        cfg = dict(pool._limits, uid=pool.uid, gid=pool.gid, drop_uid=iso["drop_uid"],
                   jail=iso["jail"], base_dir=base, preload=True)
        cmd = list(iso["unshare"] or []) + [pool.python, "-I", "-S", "-B", WORKER_SCRIPT,
                                             json.dumps(cfg)]
        self.errlog = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.errlog, env={}, cwd=self.dir, close_fds=True,
                                     start_new_session=True)  # Ctrl-C in the trainer does not hit it
        self.in_fd = self.proc.stdin.fileno()
        self.out_fd = self.proc.stdout.fileno()
        os.set_blocking(self.in_fd, False)
        self.rbuf = b""
        self.wbuf = bytearray()
        self.inflight = deque()  # (job index, request id)
        self.head_since = None
        self.hello = self._read_hello(timeout=30.0)

    def _read_hello(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.rbuf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise SandboxError("sandbox worker did not start in %.0f s" % timeout)
            r, _, _ = select.select([self.out_fd], [], [], left)
            if r:
                data = os.read(self.out_fd, 1 << 16)
                if not data:
                    err = self._stderr_tail()
                    self.kill()
                    raise SandboxError("sandbox worker exited at start-up: %s" % err)
                self.rbuf += data
        line, self.rbuf = self.rbuf.split(b"\n", 1)
        hello = json.loads(line)
        if not hello.get("hello"):
            self.kill()
            raise SandboxError("bad hello from sandbox worker: %r" % (hello,))
        return hello

    def _stderr_tail(self):
        try:
            with open(os.path.join(self.dir, "stderr.log"), "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return "?"

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        try:
            self.proc.kill()  # kills `unshare`; --kill-child then SIGKILLs the namespace's PID 1
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except Exception:
            pass
        for f in (self.proc.stdin, self.proc.stdout, self.errlog):
            try:
                f.close()
            except Exception:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def close(self):
        try:
            self.proc.stdin.close()  # EOF: the worker exits on its own
        except Exception:
            pass
        try:
            self.proc.wait(timeout=2)
        except Exception:
            pass
        self.kill()

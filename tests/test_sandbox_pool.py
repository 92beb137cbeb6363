"""The worker pool: recovery from dead or hung workers, the self-check, fallback isolation, hygiene."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import sandbox
from sandbox import SandboxError, SandboxPool, SandboxSelfCheckError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OK = ("def f(x):\n    return x + 1\n", "f", [{"args": [1], "expected": 2}])


def _worker_python_pid(w):
    """Host pid of the worker's python (a child of `unshare`, or the process itself)."""
    pid = w.proc.pid
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as fh:
            kids = [int(k) for k in fh.read().split()]
    except OSError:
        kids = []
    return kids[0] if kids else pid


def test_package_imports_nothing_heavy():
    code = ("import sys, sandbox\nbad = [m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'lightning', 'tasks', 'numpy', 'transformers')]\nassert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    src = open(os.path.join(ROOT, "sandbox", "worker.py")).read()
    assert "import sandbox" not in src and "from sandbox" not in src and "from ." not in src


def test_default_pool_reports_its_isolation():
    d = sandbox.get_pool().describe()
    assert d["workers"] >= 1
    if os.geteuid() == 0 and d["mode"] == "namespaces":
        assert d["net_namespace"] and d["pid_namespace"] and d["jail"] and d["drop_uid"]


def test_self_check_fails_loudly_when_memory_is_too_low():
    with pytest.raises(SandboxSelfCheckError) as e:
        SandboxPool(size=1, memory_mb=20)
    assert "self-check" in str(e.value)


def test_killed_worker_is_replaced_between_calls():
    with SandboxPool(size=1, self_check=False) as pool:
        assert pool.verify(*OK).passed
        pool._workers[0].proc.kill()
        pool._workers[0].proc.wait()
        assert pool.verify(*OK).passed
        assert pool.restarts == 1


def test_worker_dying_mid_candidate_gives_a_verdict_and_the_pool_survives():
    with SandboxPool(size=1, self_check=False) as pool:
        w = pool._workers[0]
        killer = threading.Timer(0.5, w.proc.kill)
        killer.start()
        v = pool.verify("import time\ndef f(x):\n    time.sleep(5)\n", "f", [{"args": [1], "expected": 2}],
                        timeout_s=4)
        killer.join()
        assert v.status == "sandbox_error" and not v.passed, v
        assert [x.status for x in pool.verify_batch([OK] * 4)] == ["pass"] * 4


def test_hung_worker_hits_the_watchdog():
    with SandboxPool(size=1, self_check=False) as pool:
        pid = _worker_python_pid(pool._workers[0])
        os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        v = pool.verify(*OK, timeout_s=0.3)
        assert v.status == "sandbox_error" and "watchdog" in v.detail, v
        assert time.monotonic() - t0 < 10
        assert pool.verify(*OK).passed


def test_closed_pool_refuses_work():
    pool = SandboxPool(size=1, self_check=False)
    pool.close()
    with pytest.raises(SandboxError):
        pool.verify(*OK)


def test_pool_after_fork_gets_a_fresh_default_pool():
    sandbox.get_pool()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            ok = sandbox.verify(*OK).passed
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    got = os.read(r, 1)
    os.waitpid(pid, 0)
    assert got == b"1"
    assert sandbox.verify(*OK).passed  # the parent's pool is untouched


def test_fallback_without_namespaces(tmp_path):
    """isolation='none': rlimits, uid drop (as root), process-group + uid kill. No jail, no netns."""
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    escapee = ("import os, time\ndef f(x):\n    if os.fork() == 0:\n        os.setsid()\n"
               "        if os.fork() == 0:\n            time.sleep(1.0)\n"
               "            open('%s/escaped.txt', 'w').write('x')\n        os._exit(0)\n    return x + 1\n" % open_dir)
    os.environ["SBX_FALLBACK_SECRET"] = "s3cret"
    try:
        with SandboxPool(size=1, isolation="none") as pool:
            d = pool.describe()
            assert d["mode"] == "none" and not d["jail"] and not d["pid_namespace"]
            assert pool.verify(*OK).passed
            assert pool.verify("def f(x):\n    while 1: pass\n", "f", [{"args": [1], "expected": 2}],
                               timeout_s=0.5).status == "timeout"
            assert pool.verify(escapee, "f", [{"args": [1], "expected": 2}]).passed
            env = pool.verify("import os\ndef f(x):\n    return os.environ.get('SBX_FALLBACK_SECRET')\n",
                              "f", [{"args": [1], "expected": "s3cret"}])
            assert env.status == "wrong_answer"
            if os.geteuid() == 0:
                v = pool.verify("def f(x):\n    open('%s/precious', 'w').write('x')\n" % tmp_path,
                                "f", [{"args": [1], "expected": None}])
                assert v.status == "runtime_error" and "Permission" in v.detail, v
            time.sleep(1.5)
            assert not (open_dir / "escaped.txt").exists()
    finally:
        os.environ.pop("SBX_FALLBACK_SECRET", None)


@pytest.mark.skipif(os.geteuid() != 0 or not sandbox.detect_isolation()["unshare"],
                    reason="needs root and unshare")
def test_leftover_process_check_would_see_a_stray_process():
    from test_sandbox_adversarial import _leftover_processes
    # a process of the sandbox uid below our tree, like an escaped candidate would be
    p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "30"])
    try:
        time.sleep(0.2)
        assert any(pid == p.pid for pid, _ in _leftover_processes())
    finally:
        p.kill()
        p.wait()

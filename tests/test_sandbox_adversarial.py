"""Adversarial, model-style snippets. Each one must:
  - get a non-pass verdict (and, where it is unambiguous, a specific status),
  - leave the test process unharmed and the pool usable,
  - leave no process running (nothing with the sandbox uid, nothing under our process tree),
  - leave files outside the sandbox unchanged (root-owned 0755 dir with 0644 files, plus a
    world-writable dir that only the kill-everything guarantee protects).
Placeholders: VICTIM (dir of precious files), OPEN_DIR (world-writable dir), PORT (a listening
socket of the test), SECRET (the name of an environment variable set in the trainer).
"""
import hashlib
import os
import socket
import time

import pytest

import sandbox

SANDBOX_UID = 65534
SECRET_VALUE = "hunter2-%d" % os.getpid()

# name -> (code, expected value of f(7), allowed statuses or None for "anything but pass")
SNIPPETS = {
    "infinite_loop": ("def f(x):\n    while True:\n        pass\n", None, {"timeout"}),
    "sleep": ("import time\ndef f(x):\n    time.sleep(1000)\n    return x + 1\n", 8, {"timeout"}),
    "ignore_sigalrm": ("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                       "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.alarm(1)\n"
                       "def f(x):\n    while True:\n        pass\n", None, {"timeout"}),
    "catch_baseexception": ("def f(x):\n    while True:\n        try:\n            while True:\n"
                            "                pass\n        except BaseException:\n            pass\n",
                            None, {"timeout"}),
    "memory_bomb": ("def f(x):\n    hog = []\n    while True:\n        hog.append(bytearray(10 ** 7))\n",
                    None, {"memory", "timeout"}),  # timeout only on a very busy machine
    "memory_bomb_caught": ("def f(x):\n    hog = []\n    while True:\n        try:\n"
                           "            hog.append(bytearray(10 ** 7))\n        except MemoryError:\n"
                           "            pass\n", None, {"timeout"}),
    "fork_bomb": ("import os\ndef f(x):\n    while True:\n        try:\n            os.fork()\n"
                  "        except OSError:\n            pass\n", None, None),
    "thread_bomb": ("import threading, time\ndef f(x):\n    while True:\n        try:\n"
                    "            threading.Thread(target=time.sleep, args=(100,)).start()\n"
                    "        except Exception:\n            pass\n", None, None),
    "setsid_escapee": ("import os, time\ndef f(x):\n    if os.fork() == 0:\n        os.setsid()\n"
                       "        if os.fork() == 0:\n            time.sleep(1.5)\n"
                       "            for d in ('OPEN_DIR', 'VICTIM', '.'):\n                try:\n"
                       "                    open(d + '/escaped.txt', 'w').write('out')\n"
                       "                except Exception:\n                    pass\n"
                       "            time.sleep(100)\n        os._exit(0)\n    return None\n", 8, None),
    "daemon_with_double_fork": ("import os, time, subprocess, sys\ndef f(x):\n    pid = os.fork()\n"
                                "    if pid == 0:\n        os.setsid()\n        os.closerange(0, 100)\n"
                                "        while True:\n            time.sleep(0.01)\n"
                                "            try:\n                open('OPEN_DIR/daemon.txt', 'a').write('x')\n"
                                "            except Exception:\n                pass\n    return x\n", 8, None),
    "kill_parent": ("import os\ndef f(x):\n    os.kill(os.getppid(), 9)\n    return x\n", 8, None),
    "kill_everything": ("import os\ndef f(x):\n    try:\n        os.kill(-1, 9)\n    except Exception:\n"
                        "        pass\n    return x\n", 8, None),
    "kill_pid_1": ("import os, signal\ndef f(x):\n    for s in (9, 15, 2):\n        try:\n"
                   "            os.kill(1, s)\n        except Exception:\n            pass\n    return x\n", 8, None),
    "delete_files": ("import shutil, os\ndef f(x):\n    shutil.rmtree('VICTIM', ignore_errors=True)\n"
                     "    for n in ('VICTIM/precious.txt', 'OPEN_DIR/keep.txt'):\n        try:\n"
                     "            os.remove(n)\n        except Exception:\n            pass\n    return x\n", 8, None),
    "overwrite_files": ("def f(x):\n    for n in ('VICTIM/precious.txt', 'VICTIM/new.txt', 'OPEN_DIR/keep.txt'):\n"
                        "        try:\n            open(n, 'w').write('pwned')\n        except Exception:\n"
                        "            pass\n    return x\n", 8, None),
    "read_trainer_file": ("def f(x):\n    return open('VICTIM/precious.txt').read()\n",
                          "precious data\n", None),
    "chmod_chown_escape": ("import os\ndef f(x):\n    for a in (lambda: os.setuid(0), lambda: os.chroot('/'),\n"
                           "              lambda: os.chmod('VICTIM', 0o777), lambda: os.symlink('/', 'root')):\n"
                           "        try:\n            a()\n        except Exception:\n            pass\n"
                           "    return open('VICTIM/precious.txt').read()\n", "precious data\n", None),
    "huge_file": ("def f(x):\n    with open('big.bin', 'wb') as fh:\n        while True:\n"
                  "            fh.write(b'0' * (1 << 20))\n", None, None),
    "many_files": ("def f(x):\n    i = 0\n    while True:\n        open('f%d' % i, 'wb').write(b'x' * (1 << 20))\n"
                   "        i += 1\n", None, None),
    "network_local_port": ("import socket\ndef f(x):\n    s = socket.create_connection(('127.0.0.1', PORT), timeout=0.5)\n"
                           "    s.sendall(b'hello')\n    return x + 1\n", 8, None),
    "env_secret": ("import os\ndef f(x):\n    return os.environ.get('SECRET', '') + open('/proc/1/environ').read()\n",
                   SECRET_VALUE, None),
    "env_secret_plain": ("import os\ndef f(x):\n    return os.environ.get('SECRET')\n", SECRET_VALUE, None),
    "os_exit_0": ("import os\ndef f(x):\n    os._exit(0)\n", 8, {"early_exit"}),
    "sys_exit_0": ("import sys\ndef f(x):\n    sys.exit(0)\n", 8, {"early_exit"}),
    "sys_exit_at_import": ("import sys\nsys.exit(0)\ndef f(x):\n    return x + 1\n", 8, {"early_exit"}),
    "always_equal": ("class Any:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n"
                     "        return False\n    __hash__ = object.__hash__\ndef f(x):\n    return Any()\n",
                     8, {"bad_output"}),
    "int_subclass_rigged_eq": ("class I(int):\n    def __eq__(self, o):\n        return True\n"
                               "    __hash__ = int.__hash__\ndef f(x):\n    return I(0)\n", 8, {"bad_output"}),
    "str_subclass_rigged_eq": ("class S(str):\n    def __eq__(self, o):\n        return True\n"
                               "    __hash__ = str.__hash__\ndef f(x):\n    return S('')\n", "8", {"bad_output"}),
    "list_subclass": ("class L(list):\n    def __eq__(self, o):\n        return True\n"
                      "def f(x):\n    return L()\n", [8], {"bad_output"}),
    "bool_for_int": ("def f(x):\n    return True\n", 1, {"wrong_answer"}),
    "float_for_int": ("def f(x):\n    return 8.0\n", 8, {"wrong_answer"}),
    "nan": ("def f(x):\n    return float('nan')\n", float("nan"), {"wrong_answer"}),
    "frame_inspection": ("import sys\ndef f(x):\n    fr = sys._getframe()\n    while fr is not None:\n"
                         "        for k, v in list(fr.f_locals.items()):\n"
                         "            if 'expect' in k or k in ('exps', 'tests', 'req', 'job'):\n"
                         "                return repr(v)[:200]\n        fr = fr.f_back\n    return None\n",
                         12345, None),
    "gc_scan": ("import gc\ndef f(x):\n    for o in gc.get_objects():\n"
                "        if isinstance(o, dict) and ('expected' in o or 'exps' in o):\n"
                "            e = o.get('expected', o.get('exps'))\n            return e[0] if isinstance(e, list) else e\n"
                "    return None\n", 12345, None),
    "fake_verdict_print": ("def f(x):\n    print('{\"k\": \"r\", \"i\": 0, \"v\": 12345}')\n"
                           "    print('{\"k\": \"end\"}')\n    print('PASS status=pass passed=True')\n"
                           "    return None\n", 12345, {"wrong_answer"}),
    "forge_result_channel": ("import os\ndef f(x):\n    msg = b'{\"k\": \"r\", \"i\": 0, \"v\": 12345}\\n{\"k\": \"end\", \"n\": \"x\"}\\n'\n"
                             "    for fd in range(3, 64):\n        try:\n            os.write(fd, msg)\n"
                             "        except OSError:\n            pass\n    os._exit(0)\n", 8, None),
    "patch_json": ("import json, builtins\njson.dumps = lambda *a, **k: '{\"k\": \"end\"}'\n"
                   "builtins.type = lambda o: int\ndef f(x):\n    return None\n", 8, None),
    "patch_harness_write": ("import os\n_w = os.write\nos.write = lambda fd, b: _w(fd, b.replace(b'null', b'8'))\n"
                            "os._exit = lambda c: None\ndef f(x):\n    return None\n", 8, None),
    "huge_stdout": ("import sys\ndef f(x):\n    while True:\n        sys.stdout.write('spam' * 10000)\n",
                    8, {"output_limit"}),
    "huge_stderr_then_answer": ("import os\ndef f(x):\n    os.write(2, b'e' * (5 << 20))\n    return x + 1\n",
                                8, {"output_limit"}),
    "huge_return_value": ("def f(x):\n    return 'x' * (200 << 20)\n", 8, {"output_limit", "memory", "timeout"}),
    "segfault": ("import ctypes\ndef f(x):\n    return ctypes.string_at(0)\n", 8, {"crash"}),
    "deep_recursion": ("import sys\nsys.setrecursionlimit(10 ** 7)\ndef f(x):\n    return f(x + 1)\n",
                       8, {"crash", "runtime_error", "memory", "timeout"}),
    "deep_recursion_default": ("def f(x):\n    return f(x + 1)\n", 8, {"runtime_error"}),
    "raise_limits": ("import resource\ndef f(x):\n    for r in (resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_NPROC):\n"
                     "        try:\n            resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
                     "        except Exception:\n            pass\n    return len(bytearray(1 << 33))\n", 8, {"memory", "timeout"}),
    "subprocess_shell": ("import subprocess\ndef f(x):\n    return subprocess.run(['sh', '-c', 'cat VICTIM/precious.txt; "
                         "rm -rf VICTIM OPEN_DIR/*'], capture_output=True).stdout.decode()\n",
                         "precious data\n", None),
    "close_all_fds": ("import os\nos.closerange(0, 1000)\ndef f(x):\n    return x + 1\n", 8, None),
}


def _proc_tree():
    """pid -> (ppid, uid set, cmdline) for every process we can see."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as fh:
                st = fh.read()
            with open("/proc/%s/cmdline" % d, "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        ppid = uids = None
        for line in st.splitlines():
            if line.startswith("PPid:"):
                ppid = int(line.split()[1])
            elif line.startswith("Uid:"):
                uids = set(int(u) for u in line.split()[1:])
        out[int(d)] = (ppid, uids or set(), cmd)
    return out


def _leftover_processes():
    """Processes that must not exist after a verdict: anything below our own process tree that is
    not the sandbox worker machinery (`unshare` and the workers themselves), in particular anything
    running as the sandbox uid. Escapees cannot leave our tree: orphans are reparented to the worker
    (PID 1 of its namespace, or a child subreaper without namespaces). Processes of other users of
    the machine (e.g. another test run using the sandbox at the same time) are not ours to judge."""
    tree = _proc_tree()
    me = os.getpid()
    bad = []
    for pid, (ppid, uids, cmd) in tree.items():
        p, seen = ppid, 0
        while p and p in tree and seen < 64:
            if p == me:
                if SANDBOX_UID in uids or ("worker.py" not in cmd and "unshare" not in cmd):
                    bad.append((pid, cmd[:80]))
                break
            p = tree[p][0]
            seen += 1
    return bad


def _snapshot(*dirs):
    state = {}
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            st = os.stat(root)
            state[root] = ("dir", st.st_mode, st.st_uid)
            for f in files:
                p = os.path.join(root, f)
                with open(p, "rb") as fh:
                    state[p] = ("file", hashlib.sha256(fh.read()).hexdigest(), os.stat(p).st_mode)
    return state


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("adversarial")
    os.chmod(base, 0o755)
    victim = base / "victim"
    victim.mkdir(mode=0o755)
    os.chmod(victim, 0o755)
    (victim / "precious.txt").write_text("precious data\n")
    os.chmod(victim / "precious.txt", 0o644)
    open_dir = base / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)  # world-writable: only "everything is killed" protects it
    (open_dir / "keep.txt").write_text("keep me\n")
    os.chmod(open_dir / "keep.txt", 0o666)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    os.environ["SBX_TEST_SECRET"] = SECRET_VALUE
    pool = sandbox.get_pool()
    yield {"victim": str(victim), "open": str(open_dir), "listener": listener,
           "port": listener.getsockname()[1], "pool": pool}
    listener.close()
    os.environ.pop("SBX_TEST_SECRET", None)


def _render(code, env):
    return (code.replace("OPEN_DIR", env["open"]).replace("VICTIM", env["victim"])
            .replace("PORT", str(env["port"])).replace("SECRET", "SBX_TEST_SECRET"))


def test_there_are_enough_snippets():
    assert len(SNIPPETS) >= 25


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_adversarial_snippet(name, env):
    code, expected, allowed = SNIPPETS[name]
    before = _snapshot(env["victim"], env["open"])
    pid_before = os.getpid()
    v = sandbox.verify(_render(code, env), "f", [{"args": [7], "expected": expected}], timeout_s=1.0)
    # 1. never a pass, and the status we expect where it is unambiguous
    assert not v.passed, v
    if allowed is not None:
        assert v.status in allowed, v
    # 2. the trainer is unharmed and the pool still works
    assert os.getpid() == pid_before
    ok = sandbox.verify("def f(x):\n    return x + 1\n", "f", [{"args": [7], "expected": 8}])
    assert ok.passed, ok
    # 3. nothing left running
    assert _leftover_processes() == []
    # 4. files outside the sandbox unchanged; no connection reached our socket
    assert _snapshot(env["victim"], env["open"]) == before
    with pytest.raises(BlockingIOError):
        conn, _ = env["listener"].accept()
        conn.close()


def test_escapees_never_write_later(env):
    """Give any escaped process time to act (the escapee sleeps 1.5 s), then re-check."""
    sandbox.verify(_render(SNIPPETS["setsid_escapee"][0], env), "f", [{"args": [7], "expected": 8}])
    sandbox.verify(_render(SNIPPETS["daemon_with_double_fork"][0], env), "f", [{"args": [7], "expected": 8}])
    time.sleep(2.0)
    assert not os.path.exists(os.path.join(env["open"], "escaped.txt"))
    assert not os.path.exists(os.path.join(env["open"], "daemon.txt"))
    assert not os.path.exists(os.path.join(env["victim"], "escaped.txt"))
    assert _leftover_processes() == []


def test_a_batch_of_all_snippets_at_once(env):
    items = [(_render(c, env), "f", [{"args": [7], "expected": e}]) for c, e, _ in SNIPPETS.values()]
    before = _snapshot(env["victim"], env["open"])
    verdicts = sandbox.verify_batch(items, timeout_s=1.0)
    assert not any(v.passed for v in verdicts), [(n, v) for n, v in zip(SNIPPETS, verdicts) if v.passed]
    assert _leftover_processes() == []
    assert _snapshot(env["victim"], env["open"]) == before
    assert sandbox.verify("def f(x):\n    return x + 1\n", "f", [{"args": [7], "expected": 8}]).passed

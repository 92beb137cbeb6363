"""Sandbox worker: a long-lived process that forks one child per candidate.

This file is run as a *script* (``python -I -S -B worker.py CONFIG_JSON``), usually as the first
process (PID 1) of fresh Linux namespaces made by ``unshare --net --pid --mount --ipc --uts``.
It must stay self-contained: standard library only, never imports the ``sandbox`` package, torch
or anything from site-packages.

Protocol with the trainer-side pool (one JSON object per line):
  worker -> pool, once:  {"hello": 1, "pid": .., "pid1": bool, "jail": bool, "drop_uid": bool, "notes": [..]}
  pool -> worker:        {"id": n, "mode": "call"|"assert", "code": str, "entry": str,
                          "args": [wire-encoded argument list, ...]   (mode "call"),
                          "test": str                                  (mode "assert"),
                          "timeout": seconds, "nonce": str}
  worker -> pool:        {"id": n, "lines": [raw result lines from the child], "exit": int|null,
                          "signal": int|null, "killed": null|"timeout"|"output_limit"|"result_limit",
                          "out_bytes": int, "elapsed": seconds, "error": str|null}

The worker never sees expected values: it only forwards what the child wrote on its result pipe.
The trainer-side pool compares outputs with the expected values it alone holds.
"""
import json
import os
import resource
import select
import signal
import sys
import time

try:
    import fcntl as _fcntl
except ImportError:  # pragma: no cover
    _fcntl = None

# Modules imported once in the worker so that candidates get them instantly after fork. Every
# preloaded module makes each fork dearer (more pages to copy), so the list is short when the jail
# (a read-only view of the stdlib) lets candidates import the rest themselves. Without the jail, a
# candidate running as an unprivileged uid may not be able to read the stdlib (e.g. under a 0700
# home), so a longer list is preloaded there.
PRELOAD = (
    "math", "re", "collections", "itertools", "functools", "heapq", "bisect", "string", "typing",
    "operator",
)
PRELOAD_NO_JAIL = PRELOAD + (
    "cmath", "collections.abc", "fractions", "decimal", "random", "statistics", "copy", "datetime",
    "hashlib", "array", "dataclasses", "enum", "textwrap", "unicodedata", "struct", "numbers", "io",
    "contextlib", "abc", "types", "string", "json.decoder", "ctypes",
)

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

_libc = None


def _prctl(option, arg):
    if _libc is None:
        return -1
    try:
        return _libc.prctl(option, arg, 0, 0, 0)
    except Exception:
        return -1


# --------------------------------------------------------------------------- wire codec
class _Bad(Exception):
    pass


_INT_LIMIT = 1 << 63


class _TooBig(Exception):
    pass


def wire_encode(x, depth=0, budget=None):
    """Plain data -> JSON-able structure, by *exact* builtin type (subclasses are rejected).

    ``budget`` (a one-item list) is decremented per element / per 8 characters; _TooBig when spent.
    """
    if depth > 100:
        raise _Bad("nested deeper than 100")
    if budget is not None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooBig()
    t = type(x)
    if t is str:
        if budget is not None:
            budget[0] -= len(x) >> 3
            if budget[0] < 0:
                raise _TooBig()
        return x
    if x is None or t is bool:
        return x
    if t is int:
        if -_INT_LIMIT < x < _INT_LIMIT:
            return x
        if budget is not None:
            budget[0] -= x.bit_length() >> 6
        return {"$i": hex(x)}
    if t is float:
        if x != x:
            return {"$f": "nan"}
        if x in (float("inf"), float("-inf")):
            return {"$f": "inf" if x > 0 else "-inf"}
        return x
    if t is list or t is tuple:
        if budget is not None and len(x) > budget[0]:
            raise _TooBig()
        return [wire_encode(v, depth + 1, budget) for v in x]
    if t is dict:
        if budget is not None and 2 * len(x) > budget[0]:
            raise _TooBig()
        return {"$d": [[wire_encode(k, depth + 1, budget), wire_encode(v, depth + 1, budget)]
                       for k, v in x.items()]}
    raise _Bad("unsupported type %s" % (t.__name__,))


def _hashable(x):
    if type(x) is list:
        return tuple(_hashable(v) for v in x)
    return x


def wire_decode(x):
    """Inverse of wire_encode (tuples come back as lists). Used for arguments, which are trusted."""
    if type(x) is list:
        return [wire_decode(v) for v in x]
    if type(x) is dict:
        if "$i" in x:
            return int(x["$i"], 16)
        if "$f" in x:
            return float(x["$f"])
        if "$d" in x:
            return {_hashable(wire_decode(k)): wire_decode(v) for k, v in x["$d"]}
        raise ValueError("bad wire object")
    return x


# --------------------------------------------------------------------------- the child
def _exc_info(e):
    try:
        name = type(e).__name__
        if type(name) is not str:
            name = "?"
    except BaseException:
        name = "?"
    try:
        msg = str(e)
        if type(msg) is not str:
            msg = ""
        msg = msg[:200]
    except BaseException:
        msg = "<unprintable>"
    return name[:80], msg


def _make_emit(res_fd, _write, _dumps):
    """The harness's writer of result lines, built on functions bound before the candidate runs."""

    def emit(obj):
        # One line per message, written at once: what was written before a hang still counts.
        data = (_dumps(obj, ensure_ascii=True) + "\n").encode("ascii")
        while data:
            n = _write(res_fd, data)
            data = data[n:]

    return emit


def _harness_compile(req, mode, code, emit, _exit):
    """Compile the candidate (and, in mode "assert", the test code); on failure report it and exit."""
    try:
        code_obj = compile(code, "<candidate>", "exec", dont_inherit=True)
    except BaseException as e:  # SyntaxError, ValueError (NUL bytes), MemoryError, RecursionError...
        name, msg = _exc_info(e)
        emit({"k": "syntax_error", "e": name, "d": msg})
        _exit(0)
    test_obj = None
    if mode == "assert":
        try:
            test_obj = compile(req["test"], "<test>", "exec", dont_inherit=True)
        except BaseException as e:
            name, msg = _exc_info(e)
            emit({"k": "test_error", "e": name, "d": msg})
            _exit(0)
    return code_obj, test_obj


def _encode_result(out, i, budget, emit):
    """Wire-encode test i's return value: (True, encoded), or report why not and (False, None)."""
    try:
        enc = wire_encode(out, 0, [budget])
    except _TooBig:
        emit({"k": "r", "i": i, "big": 1})
        return False, None
    except _Bad as b:
        emit({"k": "r", "i": i, "bad": str(b)[:200]})
        return False, None
    except BaseException as e:  # RecursionError, MemoryError
        name, _ = _exc_info(e)
        emit({"k": "r", "i": i, "bad": "not serialisable (%s)" % name})
        return False, None
    return True, enc


def _emit_value(emit, i, enc, _os_exit):
    """Send test i's encoded value; if even that fails, report it as not serialisable."""
    try:
        emit({"k": "r", "i": i, "v": enc})
    except BaseException as e:
        name, _ = _exc_info(e)
        try:
            emit({"k": "r", "i": i, "bad": "not serialisable (%s)" % name})
        except BaseException:
            _os_exit(3)


def _child_harness(req, res_fd):
    """Runs inside the sandboxed child. Never returns."""
    _write = os.write
    _dumps = json.dumps
    _os_exit = os._exit
    emit = _make_emit(res_fd, _write, _dumps)
    _exit = _os_exit

    import builtins
    mode = req["mode"]
    code = req["code"]
    entry = req["entry"]
    code_obj, test_obj = _harness_compile(req, mode, code, emit, _exit)
    ns = {"__name__": "__candidate__", "__builtins__": builtins}
    try:
        exec(code_obj, ns)
    except BaseException as e:
        name, msg = _exc_info(e)
        emit({"k": "load_error", "e": name, "d": msg})
        _exit(0)
    fn = ns.get(entry) if type(entry) is str else None
    if fn is None or not callable(fn):
        emit({"k": "no_function"})
        _exit(0)

    if mode == "assert":
        try:
            exec(test_obj, ns)
            check = ns["check"]
            check(fn)
        except BaseException as e:
            name, msg = _exc_info(e)
            emit({"k": "r", "i": 0, "e": name, "d": msg})
        else:
            emit({"k": "ok", "n": req["nonce"]})
        emit({"k": "end", "n": req["nonce"]})
        _exit(0)

    budget = max(1000, req.get("result_limit", 4 << 20) // 16)  # elements per test output
    for i, a in enumerate(req["args"]):
        args = wire_decode(a)  # fresh objects for every test: mutations do not leak between tests
        try:
            out = fn(*args)
        except BaseException as e:
            name, msg = _exc_info(e)
            out = e = None
            emit({"k": "r", "i": i, "e": name, "d": msg})
            continue
        ok, enc = _encode_result(out, i, budget, emit)
        if not ok:
            continue
        out = None
        _emit_value(emit, i, enc, _os_exit)
        enc = None
    emit({"k": "end", "n": req["nonce"]})
    _exit(0)


def _child_main(cfg, state, req, res_w, out_w, cdir_inside):
    """Set up isolation in the forked child, then hand over to the harness. Never returns."""
    try:
        os.setsid()
        os.dup2(state["devnull"], 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        os.dup2(res_w, 3)
        os.closerange(4, 1 << 16)  # drops the worker's channel to the trainer and everything else
        if state["jail"]:
            os.chroot(state["jail_root"])
        os.chdir(cdir_inside)

        mem = cfg["memory_mb"] * (1 << 20)
        cpu = max(1, int(req["timeout"] + 1.999))
        limits = [
            (resource.RLIMIT_AS, mem, mem),
            (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_FSIZE, cfg["fsize_mb"] * (1 << 20), cfg["fsize_mb"] * (1 << 20)),
            (resource.RLIMIT_NOFILE, cfg["nofile"], cfg["nofile"]),
            (resource.RLIMIT_CORE, 0, 0),
        ]
        if state["drop_uid"]:  # RLIMIT_NPROC counts per uid: only meaningful for our own uid
            limits.append((resource.RLIMIT_NPROC, cfg["nproc"], cfg["nproc"]))
        for what, soft, hard in limits:
            resource.setrlimit(what, (soft, hard))
        if state["drop_uid"]:
            os.setgroups([])
            os.setgid(cfg["gid"])
            os.setuid(cfg["uid"])
            if os.getuid() != cfg["uid"] or os.geteuid() != cfg["uid"]:
                os._exit(121)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(PR_SET_DUMPABLE, 0)
        os.environ.clear()
        sys.argv[:] = ["candidate"]
        sys.stdout = sys.stderr = state["stdout"]  # made once in the worker; fd 1 is our pipe now
        sys.stdin = state["stdin"]
        del state, cfg
    except BaseException:
        os._exit(122)
    try:
        _child_harness(req, 3)
    finally:
        os._exit(123)


# --------------------------------------------------------------------------- the worker
def _jail_bind_sources():
    """The system folders and sys.path entries to bind read-only into the jail (may overlap)."""
    binds = []
    for top in ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin"):
        binds.append(top)
    for p in sys.path:
        if p and os.path.isdir(p):
            binds.append(os.path.realpath(p))
    return binds


def _jail_devices(root, mount, notes):
    """Bind the harmless device nodes (null, zero, urandom, random) into the jail's /dev."""
    os.makedirs(root + "/dev", mode=0o755, exist_ok=True)
    for dev in ("null", "zero", "urandom", "random"):
        try:
            open(root + "/dev/" + dev, "w").close()
            mount("--bind", "/dev/" + dev, root + "/dev/" + dev)
        except Exception as e:
            notes.append("dev %s: %s" % (dev, e))


def _setup_jail(cfg, notes):
    """Private tmpfs root with read-only binds of the stdlib and system libraries (mount namespace).

    Returns the jail root path or None when the mount namespace does not allow it.
    """
    import subprocess
    root = cfg["base_dir"]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}

    def mount(*args):
        r = subprocess.run(["mount", *args], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise OSError("mount %s: %s" % (" ".join(args), r.stderr.strip()))

    try:
        # Mounts made here must not leak to the host, whatever the propagation default is.
        mount("--make-rprivate", "/")
        mount("-t", "tmpfs", "-o", "size=%dm,mode=0755,nosuid,nodev" % cfg["tmpfs_mb"], "tmpfs", root)
    except Exception as e:
        notes.append("no jail: %s" % (e,))
        return None

    def ensure_parent(path):
        os.makedirs(os.path.dirname(root + path), mode=0o755, exist_ok=True)

    binds = _jail_bind_sources()
    done = set()
    for src in binds:
        if src in done or not os.path.lexists(src):
            continue
        if any(src.startswith(d + "/") for d in done):
            continue
        done.add(src)
        ensure_parent(src)
        if os.path.islink(src):
            os.symlink(os.readlink(src), root + src)
            continue
        try:
            os.makedirs(root + src, mode=0o755, exist_ok=True)
            mount("--bind", src, root + src)
            mount("-o", "remount,bind,ro,nosuid,nodev", root + src)
        except Exception as e:
            notes.append("bind %s failed: %s" % (src, e))
            try:
                subprocess.run(["umount", root + src], env=env, capture_output=True)
            except Exception:
                pass
    _jail_devices(root, mount, notes)
    os.makedirs(root + "/tmp", mode=0o711, exist_ok=True)
    os.chmod(root + "/tmp", 0o711)
    return root


def _kill_everything(state, pid, statuses):
    """Kill the candidate and everything it started; reap. Records exit statuses by pid."""
    deadline = time.monotonic() + 5.0
    while True:
        if state["pid1"]:
            # As PID 1 of our own namespace, kill(-1) reaches every other process in it (the
            # candidate, its children, setsid escapees), never the worker itself.
            try:
                os.kill(-1, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if state["drop_uid"]:
                # setsid escapees: kill every process of the sandbox uid (we are its only user).
                h = os.fork()
                if h == 0:
                    try:
                        os.setgid(state["gid"])
                        os.setuid(state["uid"])
                        os.kill(-1, signal.SIGKILL)
                    except BaseException:
                        pass
                    os._exit(0)
                try:
                    os.waitpid(h, 0)
                except ChildProcessError:
                    pass
        # reap everything that is ours (PID 1 / subreaper: orphans come to us)
        reaped = False
        while True:
            try:
                p, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if p == 0:
                break
            statuses[p] = st
            reaped = True
        if time.monotonic() > deadline:
            return
        if not reaped:
            time.sleep(0.0005)


def _rmtree(path):
    try:
        os.rmdir(path)  # the common case: the candidate wrote nothing
        return
    except OSError:
        pass
    import shutil
    shutil.rmtree(path, ignore_errors=True)
    if os.path.exists(path):  # e.g. a read-only directory made by the candidate
        for d, subdirs, files in os.walk(path):
            for s in subdirs:
                try:
                    os.chmod(os.path.join(d, s), 0o700)
                except OSError:
                    pass
        shutil.rmtree(path, ignore_errors=True)


def _make_candidate_dir(cfg, state):
    """A fresh folder for the next candidate: (path seen by the worker, path seen by the child)."""
    state["seq"] += 1
    name = "c%d" % state["seq"]
    if state["jail"]:
        cdir_inside = "/tmp/" + name
        cdir = state["jail_root"] + cdir_inside
    else:
        cdir = os.path.join(state["tmp_base"], name)
        cdir_inside = cdir
    os.mkdir(cdir, 0o700)
    if state["drop_uid"]:
        os.chown(cdir, cfg["uid"], cfg["gid"])
    return cdir, cdir_inside


def _open_pidfd(pid):
    """A pidfd for the child (readable once it exits), or None where unavailable."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _wait_child(cfg, pid, pidfd, deadline, res_r, out_r, statuses):
    """Wait until the child exits, the deadline passes or a limit is hit, draining its pipes.

    Returns (killed, result-channel bytes, stdout+stderr byte count); records the child's wait
    status in ``statuses`` when it is reaped here.
    """
    res_buf = bytearray()
    out_bytes = 0
    killed = None
    open_fds = [res_r, out_r]

    def drain():
        nonlocal out_bytes
        for fd in list(open_fds):
            while True:
                try:
                    data = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                if not data:
                    open_fds.remove(fd)
                    break
                if fd == res_r:
                    res_buf.extend(data)
                    if len(res_buf) > cfg["result_limit"]:
                        return "result_limit"
                else:
                    out_bytes += len(data)
                    if out_bytes > cfg["output_limit"]:
                        return "output_limit"
        return None

    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            killed = "timeout"
            break
        exited = False
        if pidfd is not None:
            try:
                exited = bool(select.select([pidfd], [], [], min(remaining, 0.02))[0])
            except InterruptedError:
                pass
        else:
            time.sleep(min(remaining, 0.002))
            p, st = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                statuses[pid] = st
                exited = True
        killed = drain()
        if killed or exited:
            break
    return killed, res_buf, out_bytes


def _reap_and_clean(state, pid, statuses, fds, pidfd, cdir):
    """Kill and reap the child and all it started, close its pipes and pidfd, remove its folder."""
    _kill_everything(state, pid, statuses)
    if pid not in statuses:
        try:
            _, st = os.waitpid(pid, 0)
            statuses[pid] = st
        except ChildProcessError:
            pass
    for fd in fds:
        os.close(fd)
    if pidfd is not None:
        os.close(pidfd)
    _rmtree(cdir)


def _exit_status(st):
    """(exit code, signal number) from a wait status; None for what does not apply."""
    exit_code = sig = None
    if st is not None:
        if os.WIFEXITED(st):
            exit_code = os.WEXITSTATUS(st)
        elif os.WIFSIGNALED(st):
            sig = os.WTERMSIG(st)
    return exit_code, sig


def _result_lines(killed, res_buf):
    """The child's result-channel lines (none when it went past the result limit)."""
    if killed in ("result_limit",):
        lines = []
    else:
        lines = bytes(res_buf).decode("utf-8", "replace").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
    return lines


def run_one(cfg, state, req):
    t0 = time.monotonic()
    timeout = float(req["timeout"])
    cdir, cdir_inside = _make_candidate_dir(cfg, state)

    res_r, res_w = os.pipe2(os.O_CLOEXEC)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        try:
            _child_main(cfg, state, req, res_w, out_w, cdir_inside)
        finally:
            os._exit(124)
    os.close(res_w)
    os.close(out_w)
    pidfd = _open_pidfd(pid)

    deadline = t0 + timeout
    statuses = {}
    # The pipes are drained on a timer (and once the child has exited) rather than on every write:
    # waking the worker for each result line or print() costs more than a typical test. Big pipe
    # buffers keep the child from blocking in between.
    for fd in (res_r, out_r):
        os.set_blocking(fd, False)
        if _fcntl is not None:
            try:
                _fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ
            except OSError:
                pass
    killed, res_buf, out_bytes = _wait_child(cfg, pid, pidfd, deadline, res_r, out_r, statuses)
    _reap_and_clean(state, pid, statuses, (res_r, out_r), pidfd, cdir)
    exit_code, sig = _exit_status(statuses.get(pid))
    lines = _result_lines(killed, res_buf)
    return {"id": req.get("id"), "lines": lines, "exit": exit_code, "signal": sig, "killed": killed,
            "out_bytes": out_bytes, "elapsed": time.monotonic() - t0, "error": None}


def _setup_stdio():
    """Keep private copies of the protocol pipes and point fds 0 and 1 at /dev/null.

    Returns (request fd, response fd, /dev/null fd).
    """
    req_fd = os.dup(0)
    resp_fd = os.dup(1)
    os.set_inheritable(req_fd, False)
    os.set_inheritable(resp_fd, False)
    devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # stray prints in the worker cannot corrupt the protocol
    return req_fd, resp_fd, devnull


def _default_signals():
    """Give SIGINT, SIGTERM and SIGALRM their default dispositions."""
    # Signal dispositions are inherited by every child: set them once here. (SIGXFSZ and SIGPIPE
    # stay ignored as Python sets them: writes past the file-size limit raise OSError.)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except Exception:
            pass


def _setup_workspace(cfg, state, notes):
    """Build the jail when asked and possible; otherwise candidates' folders go under base_dir."""
    if cfg.get("jail"):
        # Mounts are made by a short-lived helper (same mount namespace) so that the modules it
        # needs (subprocess & co.) never enter the worker's memory, which every fork copies.
        r, w = os.pipe()
        helper = os.fork()
        if helper == 0:
            try:
                os.close(r)
                hnotes = []
                root = _setup_jail(cfg, hnotes)
                os.write(w, json.dumps({"root": root, "notes": hnotes}).encode())
            finally:
                os._exit(0)
        os.close(w)
        data = b""
        while True:
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            data += chunk
        os.close(r)
        os.waitpid(helper, 0)
        try:
            res = json.loads(data)
        except ValueError:
            res = {"root": None, "notes": ["jail helper failed"]}
        notes.extend(res["notes"])
        if res["root"]:
            state["jail"] = True
            state["jail_root"] = res["root"]
    if not state["jail"]:
        state["tmp_base"] = cfg["base_dir"]
        os.chmod(state["tmp_base"], 0o711)


def _preload(cfg, full, notes):
    """Import the preloaded modules (the longer list without a full jail) unless turned off."""
    for m in ((PRELOAD if full else PRELOAD_NO_JAIL) if cfg.get("preload", True) else ()):
        try:
            __import__(m)
        except Exception as e:
            notes.append("preload %s: %s" % (m, e))


def _load_libc(pid1, notes):
    """Load libc through ctypes for prctl; become a child subreaper unless PID 1."""
    global _libc
    try:
        import ctypes
        _libc = ctypes.CDLL(None, use_errno=True)
    except Exception as e:
        notes.append("no libc via ctypes: %s" % (e,))
    if not pid1:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)


def _warm_up():
    """Build lazily made interpreter state once, then freeze the heap for cheaper forks."""
    # Warm up what every child uses, so that lazily built interpreter state (the compiler's AST
    # types, json's encoder, ...) is made once here instead of in every child (~2 ms each).
    warm = {}
    exec(compile('import math\ndef _w(a, *b, **c):\n    """doc"""\n    x = [i * 2.5 for i in range(a)]\n'
                 '    return {"k": (x, f"{a}", None, True)} if a else lambda: 0\n', "<warm>", "exec"), warm)
    json.dumps({"k": "r", "i": 0, "v": wire_encode(warm["_w"](3))}, ensure_ascii=True).encode("ascii")
    wire_decode(json.loads(json.dumps(wire_encode([1, "a", [2.5, None], {"k": True}, 10 ** 30]))))
    try:
        raise ValueError("warm")
    except ValueError as e:
        _exc_info(e)
    del warm
    import gc
    gc.collect()
    gc.freeze()  # fewer copy-on-write page faults in the forked children


def main():
    cfg = json.loads(sys.argv[1])
    notes = []
    req_fd, resp_fd, devnull = _setup_stdio()
    _default_signals()
    pid1 = os.getpid() == 1
    drop_uid = bool(cfg["drop_uid"]) and os.geteuid() == 0
    state = {"devnull": devnull, "pid1": pid1, "drop_uid": drop_uid, "uid": cfg["uid"],
             "gid": cfg["gid"], "jail": False, "jail_root": None, "seq": 0, "tmp_base": None,
             "stdout": open(1, "w", closefd=False, encoding="utf-8", errors="replace"),
             "stdin": open(0, "r", closefd=False, encoding="utf-8", errors="replace")}
    _setup_workspace(cfg, state, notes)
    full = state["jail"] and pid1
    _preload(cfg, full, notes)
    if not full:
        # prctl (no-new-privs, parent-death signal, not dumpable, subreaper) matters when there is
        # no PID namespace + nosuid jail to give the same guarantees; it needs ctypes.
        _load_libc(pid1, notes)
    _warm_up()

    def send(obj):
        data = (json.dumps(obj) + "\n").encode()
        while data:
            n = os.write(resp_fd, data)
            data = data[n:]

    send({"hello": 1, "pid": os.getpid(), "pid1": pid1, "jail": state["jail"], "drop_uid": drop_uid,
          "notes": notes})
    buf = b""
    try:
        while True:
            chunk = os.read(req_fd, 1 << 20)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not line.strip():
                    continue
                req = None
                try:
                    req = json.loads(line)
                    resp = run_one(cfg, state, req)
                except Exception as e:  # infrastructure failure: report, keep serving
                    resp = {"id": req.get("id") if isinstance(req, dict) else None, "lines": [],
                            "exit": None, "signal": None, "killed": None, "out_bytes": 0,
                            "elapsed": 0.0, "error": "%s: %s" % (type(e).__name__, e)}
                send(resp)
    finally:
        _kill_everything(state, 0, {}) if pid1 else None


if __name__ == "__main__":
    main()

"""What process isolation this machine allows (Linux namespaces via ``unshare``, or none)."""
from __future__ import annotations

import os
import shutil
import subprocess

from .errors import SandboxError

_NS_FLAGS = ["--net", "--pid", "--mount", "--ipc", "--uts"]


def _try_unshare(prefix):
    unshare = shutil.which("unshare")
    if not unshare:
        return None
    cmd = [unshare, *prefix, "--fork", "--kill-child", "true"]
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10, env={})
    except Exception:
        return None
    return [unshare, *prefix, "--fork", "--kill-child"] if r.returncode == 0 else None


_ISOLATION_CACHE = {}


def detect_isolation(mode: str = "auto") -> dict:
    """What this machine allows. ``mode``: "auto" (best available), "namespaces" (require
    namespaces, raise otherwise) or "none" (rlimits, uid drop when root, process-group kill)."""
    if mode in _ISOLATION_CACHE:
        return dict(_ISOLATION_CACHE[mode])
    if mode not in ("auto", "namespaces", "none"):
        raise ValueError("isolation must be 'auto', 'namespaces' or 'none'")
    root = os.geteuid() == 0
    info = {"mode": "none", "unshare": None, "jail": False, "drop_uid": root, "netns": False,
            "pidns": False}
    if mode != "none":
        if root:
            attempts = [("namespaces", _NS_FLAGS, True), ("namespaces-nomount", ["--net", "--pid"], False)]
        else:
            attempts = [("userns", ["--user", "--map-root-user", *_NS_FLAGS], True),
                        ("userns-nomount", ["--user", "--map-root-user", "--net", "--pid"], False)]
        for name, flags, jail in attempts:
            cmd = _try_unshare(flags)
            if cmd:
                info.update(mode=name, unshare=cmd, jail=jail, netns=True, pidns=True,
                            drop_uid=root)
                break
        if mode == "namespaces" and info["unshare"] is None:
            raise SandboxError("isolation='namespaces' requested but `unshare` with net/pid "
                               "namespaces does not work here")
    _ISOLATION_CACHE[mode] = dict(info)
    return info

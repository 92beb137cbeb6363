"""Sharding sampling work across ranks and gathering the verified rows back (DDP).

Every rank samples and verifies its own slice of the problems; the rows are gathered so that
every rank sees all of them in the same order (so all ranks train on the same harvest and log the
same accuracies). With one process these are no-ops.
"""

from __future__ import annotations

import time

import torch.distributed as dist

from callbacks import faults
from models import cpu_perf
from models.tiny import TINY_MODEL_NAME


def shard(items: list, rank: int, world_size: int) -> list:
    """The slice of ``items`` this rank works on (round-robin, so difficulties stay mixed).

    >>> shard(list(range(7)), 1, 3)
    [1, 4]
    """
    return items[rank::world_size]


def gather_rows(rows: list[dict], world_size: int) -> list[dict]:
    """All ranks' rows on every rank (a list of plain dicts)."""
    if world_size == 1 or not (dist.is_available() and dist.is_initialized()):
        return rows
    parts: list = [None] * world_size
    dist.all_gather_object(parts, rows)
    return [row for part in parts for row in part]


def in_problem_order(rows: list[dict], problems: list) -> list[dict]:
    """Rows sorted by the problems' order, then by sample index (deterministic for any sharding)."""
    position = {p.id: i for i, p in enumerate(problems)}
    return sorted(rows, key=lambda r: (position[r["problem_id"]], r["sample"]))


def sample_and_verify(trainer, pl_module, problems: list, sampling, iteration: int, phase: str,
                      progress) -> list[dict]:
    """Sample on this rank's shard with ``sampling`` (a ``SamplingArgs``; the seed of ``phase`` of
    ``iteration``), verify, gather: rows for all ``problems`` on every rank."""
    from verify.verification import BackgroundVerifier

    mine = shard(problems, trainer.global_rank, trainer.world_size)
    start = time.perf_counter()
    with BackgroundVerifier(mine, sampling.timeout_s) as verifier:  # each batch verified while the next is sampled
        replies = (pl_module.sample([p.prompt for p in mine], progress=progress, on_replies=verifier.submit,
                                    **sampling.sample_kwargs(iteration, phase)) if mine else [])
        faults.point("sampled")
        rows = verifier.rows(replies)
    _record_rate(trainer, pl_module, len(mine) * sampling.n, time.perf_counter() - start)
    return in_problem_order(gather_rows(rows, trainer.world_size), problems)


def _record_rate(trainer, pl_module, sequences: int, seconds: float) -> None:
    """Keep this machine's sampling rate for the real model (the run-work estimate reads it)."""
    hparams = getattr(pl_module, "hparams", {})
    model = hparams.get("model") if hasattr(hparams, "get") else None
    if not trainer.is_global_zero or not isinstance(model, str) or model == TINY_MODEL_NAME:
        return
    from models.source import default_cache_dir

    try:
        cpu_perf.record_sampling(default_cache_dir(), model, str(hparams.get("dtype")), sequences, seconds)
    except OSError:  # a read-only cache only loses the estimate
        pass

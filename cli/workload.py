"""The work one outer iteration asks for, from the config alone, and the sanity bounds on it.

Printed before the model loads. Sizes far beyond any shipped config (a typo such as
``--data.val_size=50000``) are refused with the bound named; ``EXPERT_ITER_ALLOW_LARGE=1`` lifts
every bound. The largest shipped config (``configs/grokking.yaml``) samples about 2,000
sequences per iteration.
"""

from __future__ import annotations

import os

from settings.errors import ConfigError

ALLOW_LARGE_ENV = "EXPERT_ITER_ALLOW_LARGE"
HUMANEVAL_PROBLEMS = 164
MAX_PROBLEMS = 10_000  # per split
MAX_SAMPLES_PER_PROBLEM = 1_000
MAX_NEW_TOKENS = 16_384
MAX_SEQUENCES = 200_000  # per outer iteration, harvest + evaluation + HumanEval


def split_sizes(data) -> dict[str, int]:
    h = data.hparams
    return {"train": h.train_size, "val": h.val_size, "test": h.test_size, "ood": h.ood_size}


def harvest_work(callback, train_size: int) -> tuple[int, str]:
    """(sequences, how they add up) of one harvest; with hinted retries, their most."""
    if callback.adaptive_budget:
        budget = callback.sample_budget or callback.samples_per_problem * train_size
        return budget, f"adaptive budget of {budget} samples over {train_size} train problems"
    total = train_size * callback.samples_per_problem
    how = f"{train_size} train problems x {callback.samples_per_problem} samples"
    if callback.retry_failed:
        total += train_size * callback.retry_samples
        how += f" + at most {train_size} x {callback.retry_samples} hinted retries"
    return total, how


def evaluation_work(callback, sizes: dict[str, int]) -> tuple[int, str]:
    """At most (an iteration where every split is due); splits on their own schedule are named."""
    problems = sum(sizes[s] for s in callback.splits)
    per_problem = int(callback.greedy) + callback.num_samples
    modes = " + ".join(m for m in ("greedy" if callback.greedy else "",
                                   f"{callback.num_samples} samples" if callback.num_samples else "") if m)
    every = f", every {callback.every} iterations" if callback.every > 1 else ""
    every += "".join(f", {s} every {n}" for s, n in callback.split_every.items() if n > 1)
    return problems * per_problem, f"{problems:,} {'/'.join(callback.splits)} problems x ({modes}){every}"


def estimate(callbacks: list, data) -> list[tuple[str, int, str, int]]:
    """(phase, sequences, how, max_new_tokens) for each sampling callback, per outer iteration."""
    sizes = split_sizes(data)
    work = []
    for c in callbacks:
        kind = owner(c)
        if kind == "harvest":
            work.append(("harvest", *harvest_work(c, sizes["train"]), c.max_new_tokens))
        elif kind == "evaluation":
            work.append(("evaluation", *evaluation_work(c, sizes), c.max_new_tokens))
        elif kind == "humaneval":
            n = c.limit or HUMANEVAL_PROBLEMS
            work.append(("humaneval", n, f"{n} problems, greedy, every {c.every} iterations", c.max_new_tokens))
    return work


def describe(work: list[tuple[str, int, str, int]], seconds_per_sequence: float | None = None) -> str:
    """The work line printed before loading; with a rate measured on this machine, a rough time."""
    total = sum(n for _, n, _, _ in work)
    parts = "; ".join(f"{phase} {n:,} ({how}, up to {tokens} new tokens each)" for phase, n, how, tokens in work)
    text = f"work per outer iteration: {total:,} sequences to sample: {parts or 'none'}"
    if seconds_per_sequence:
        text += (f"; at most about {total * seconds_per_sequence / 60:.0f} min of sampling per iteration on this "
                 f"machine ({seconds_per_sequence:.2f} s per sequence measured in earlier runs here; training extra)")
    return text


def measured_rate(model) -> float | None:
    """Seconds per sampled sequence of this model and dtype measured on this machine, if any."""
    from models import cpu_perf
    from models.source import default_cache_dir

    hparams = getattr(model, "hparams", {})
    name, dtype = hparams.get("model"), hparams.get("dtype")
    return cpu_perf.sampling_seconds_per_sequence(default_cache_dir(), name, str(dtype)) if name else None


def check_bounds(callbacks: list, data, work: list[tuple[str, int, str, int]]) -> None:
    """Refuse sizes beyond the sanity bounds, naming the field and the bound."""
    if os.environ.get(ALLOW_LARGE_ENV) == "1":
        return
    checks = [(f"data.{split}_size", n, MAX_PROBLEMS) for split, n in split_sizes(data).items()]
    for c in callbacks:
        kind = owner(c)
        if kind is None:
            continue
        counts = ["samples_per_problem", "num_samples", "retry_samples"]
        counts += ["max_samples_per_problem"] if getattr(c, "adaptive_budget", False) else []
        checks += [(f"{kind}.{a}", getattr(c, a), MAX_SAMPLES_PER_PROBLEM) for a in counts if hasattr(c, a)]
        checks.append((f"{kind}.max_new_tokens", c.max_new_tokens, MAX_NEW_TOKENS))
    checks.append(("sequences per outer iteration (harvest + evaluation)", sum(n for _, n, _, _ in work),
                   MAX_SEQUENCES))
    for field, value, bound in checks:
        if value > bound:
            raise ConfigError(
                f"{field} = {value:,} is beyond the sanity bound of {bound:,} (a typo?); {describe(work)}",
                field=field if "." in field else None,
                fix=f"use a smaller value, or set {ALLOW_LARGE_ENV}=1 in the environment if you mean it")


def owner(callback) -> str | None:
    """``harvest``, ``evaluation`` or ``humaneval`` for those callbacks (and subclasses), else None."""
    names = {"HarvestCallback": "harvest", "EvaluationCallback": "evaluation", "HumanEvalCallback": "humaneval"}
    return next((names[k.__name__] for k in type(callback).__mro__ if k.__name__ in names), None)

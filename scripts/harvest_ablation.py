"""What the adaptive budget and hinted retries are worth: one harvest per plan, same problems.

    .venv/bin/python scripts/harvest_ablation.py [--model qwen2.5-coder-0.5b-instruct]
        [--problems 36] [--difficulty-min 1] [--difficulty-max 3] [--k 4] [--out runs/ablation]

Each plan harvests the same train problems with the real policy (base model, no adapter) at the
same sampling compute, ``k`` x problems samples: ``uniform`` (k each), ``adaptive``
(``harvest.adaptive_budget``), ``adaptive+retry`` (and ``harvest.retry_failed``), ``uniform+retry``
(k each plus one hinted retry per unsolved problem: more compute, shown for the retries' own
yield). It drives ``HarvestCallback`` through a stand-in trainer (one process, no training), so
the numbers are those the loop would get. Each plan's stats go to ``OUT/PLAN.stats.json`` (a plan
already there is not sampled again) and its samples to ``OUT/PLAN/samples/``; the last line is a
JSON summary.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from callbacks.harvest import HarvestCallback  # noqa: E402
from reporting.samples_file import write_samples  # noqa: E402
from datamodules.expert_iteration import ExpertIterationDataModule  # noqa: E402
from scripts.calibrate import cpu_name, load_policy  # noqa: E402
from storage.atomic import write_json_atomic  # noqa: E402

PLANS = {
    "uniform": {},
    "adaptive": {"adaptive_budget": True},
    "adaptive+retry": {"adaptive_budget": True, "retry_failed": True},
    "uniform+retry": {"retry_failed": True},
}


def run_plan(name: str, policy, data, args) -> dict:
    path = os.path.join(args.out, f"{name}.stats.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    callback = HarvestCallback(samples_per_problem=args.k, temperature=0.8, top_p=0.95, max_new_tokens=320,
                               batch_size=128, first_samples=args.first, max_samples_per_problem=4 * args.k,
                               progress=True, **PLANS[name])
    trainer = SimpleNamespace(datamodule=data, is_global_zero=True, global_rank=0, world_size=1,
                              default_root_dir=os.path.join(args.out, name),
                              strategy=SimpleNamespace(broadcast=lambda obj: obj))
    _, stats, rows = callback._sample_and_verify(trainer, policy, data, 0)
    write_samples(trainer, 0, "harvest", rows)  # OUT/PLAN/samples/: python -m reporting.report OUT/PLAN --failures
    write_json_atomic(path, stats)
    return stats


def table(results: dict[str, dict], families: list[str]) -> str:
    """Markdown: per plan, samples drawn and solve rate overall and per family."""
    lines = ["| plan | samples | retries (solved) | solve rate | " + " | ".join(families) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(families)]
    for name, s in results.items():
        per_family = " | ".join(f"{100 * s.get(f'harvest/solve_rate/{f}', 0):.0f}%" for f in families)
        lines.append(f"| {name} | {s['harvest/samples_drawn']} | {s['harvest/retry_attempts']} "
                     f"({s['harvest/retry_solutions']}) | {100 * s['harvest/solve_rate']:.1f}% | {per_family} |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--problems", type=int, default=36)
    parser.add_argument("--difficulty-min", type=int, default=1)
    parser.add_argument("--difficulty-max", type=int, default=3)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--first", type=int, default=2, help="adaptive plan: samples per round")
    parser.add_argument("--plans", default=",".join(PLANS))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", default="runs/ablation")
    args = parser.parse_args(argv)
    data = ExpertIterationDataModule(train_size=args.problems, val_size=1, test_size=0, seed=args.seed,
                                     difficulty_min=args.difficulty_min, difficulty_max=args.difficulty_max)
    data.setup()
    policy = None
    results = {}
    for name in args.plans.split(","):
        if policy is None and not os.path.exists(os.path.join(args.out, f"{name}.stats.json")):
            policy = load_policy(args.model, "auto")
        results[name] = run_plan(name, policy, data, args)
    families = sorted({p.family for p in data.train_problems(0)})
    print(f"{cpu_name()}; {args.problems} problems at difficulty {args.difficulty_min}-{args.difficulty_max}, "
          f"k = {args.k}\n\n{table(results, families)}")
    summary = {name: {"solve_rate": s["harvest/solve_rate"], "samples": s["harvest/samples_drawn"]}
               for name, s in results.items()}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()

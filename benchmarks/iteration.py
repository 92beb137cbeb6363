"""One reference-sized outer iteration on the real model, seconds per phase.

    .venv/bin/python benchmarks/iteration.py [--model qwen2.5-coder-0.5b-instruct] [--root runs/bench_iteration]

The reference report's iteration: evaluation on 30 problems (18 train + 6 val + 6 test, greedy),
a harvest on the 18 train problems, and LoRA training on what was harvested; it spent about
5 + 5 + 4 minutes (840 s). This runs the same shape through ``main.py`` (configs/seed_reproduction.yaml
with the model swapped in, no harvest or evaluation after the training) for one outer iteration
and reads the phase times from metrics.jsonl.
The report trained on 9 verified solutions; the 0.5B model solves few of these difficulty 3-7
problems, so by default the reference solutions of 9 train problems join the harvest
(``--train-solutions``), and training does the report's amount of work.
The baseline is the report's figure (a different machine and model size), so the ratio is
indicative; the phase table is the measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

REPORT_SECONDS = {"evaluation": 300.0, "harvest": 300.0, "training": 232.0}


def phase_seconds(rows: list[dict]) -> dict:
    """Seconds per phase summed over the rows of one run's metrics.jsonl.

    >>> phase_seconds([{"time/eval_s": 2.0, "time/harvest_s": 3.0}, {"time/train_s": 1.5, "time/eval_s": 1.0}])
    {'evaluation': 3.0, 'harvest': 3.0, 'training': 1.5}
    """
    keys = {"evaluation": "time/eval_s", "harvest": "time/harvest_s", "training": "time/train_s"}
    return {phase: sum(r.get(key) or 0.0 for r in rows) for phase, key in keys.items()}


def benchmark_config(root: str) -> str:
    """configs/seed_reproduction.yaml without the work that follows the one timed iteration.

    After the training epoch the loop would harvest and evaluate again (iteration 1); the
    benchmark stops at the training, so the final harvest is off and evaluation runs only at
    iteration 0. Returns the path of the written config.
    """
    import yaml

    configs = os.path.join(ROOT, "configs")
    with open(os.path.join(configs, "seed_reproduction.yaml")) as f:
        config = yaml.safe_load(f)
    # parts are named relative to the config's folder; the copy is written elsewhere
    config["include"] = [os.path.join(configs, part) for part in config.get("include", [])]
    for callback in config["trainer"]["callbacks"]:
        name = callback["class_path"].rsplit(".", 1)[-1]
        if name == "HarvestCallback":
            callback.setdefault("init_args", {})["final_harvest"] = False
        elif name == "EvaluationCallback":
            callback.setdefault("init_args", {})["every_n_iterations"] = 2
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, "benchmark_config.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    return path


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--root", default=os.path.join(ROOT, "runs", "bench_iteration"))
    parser.add_argument("--train-solutions", type=int, default=9,
                        help="reference solutions added to the harvest so training has the report's 9 "
                             "solutions to work on even when the model solves none (0: only its own)")
    args = parser.parse_args(argv)
    from main import cli_main

    shutil.rmtree(args.root, ignore_errors=True)
    config = benchmark_config(args.root)
    start = time.perf_counter()
    cli = cli_main(["fit", "--config", config,
                    f"--model.model={args.model}", f"--trainer.default_root_dir={args.root}", "--trainer.max_epochs=1",
                    f"--data.warm_start_problems={args.train_solutions}", "--trainer.enable_progress_bar=false"])
    wall = time.perf_counter() - start
    with open(os.path.join(args.root, "metrics.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    # One reference iteration = the baseline evaluation + the first harvest + one training epoch.
    phases = phase_seconds(rows[:1] + [{"time/train_s": rows[1].get("time/train_s")}])
    ours = sum(phases.values())
    baseline = sum(REPORT_SECONDS.values())
    print(f"{'phase':<12}{'ours (s)':>10}{'report (s)':>12}")
    for phase, seconds in phases.items():
        print(f"{phase:<12}{seconds:>10.1f}{REPORT_SECONDS[phase]:>12.1f}")
    print(f"{'total':<12}{ours:>10.1f}{baseline:>12.1f}   (whole command incl. loading: {wall:.0f} s)")
    from benchmarks.headline import emit

    result = {"metric": "reference_iteration_seconds", "value": round(ours, 1), "unit": "s",
              "baseline": baseline, "ratio": round(baseline / ours, 2),
              "model": args.model, "phases": {k: round(v, 1) for k, v in phases.items()},
              "solutions": rows[0].get("harvest/solutions")}
    return emit(result, cli.model.model)  # the policy's model, as the run trained and sampled it


if __name__ == "__main__":
    main()

"""Everything checked after the config is parsed and the classes built, before the model loads.

Nothing here writes: a refused run leaves its folder byte-identical. The order: settings that
only make sense together, the work of one iteration against sanity bounds (then printed), the
output folder, ``--ckpt_path`` against the config, the run's files end to end.
"""

from __future__ import annotations

from lightning.pytorch.utilities import rank_zero_only

from callbacks.order import check_callback_order
from cli import resume_check, run_folder, workload
from settings.errors import ConfigError, require
from tasks import FAMILIES


def check_together(trainer, data, raw_data) -> None:
    """Cross-field checks: settings valid one by one but not in this combination."""
    families = getattr(raw_data, "families", None) if raw_data is not None else None
    require(families is None or len(families) > 0, "data.families", families,
            f"null (all families) or a non-empty list drawn from {list(FAMILIES)}; [] would silently mean all")
    accumulate = trainer.accumulate_grad_batches
    require(isinstance(accumulate, int) and accumulate >= 1, "trainer.accumulate_grad_batches", accumulate,
            "an integer >= 1")
    require(trainer.reload_dataloaders_every_n_epochs == 1, "trainer.reload_dataloaders_every_n_epochs",
            trainer.reload_dataloaders_every_n_epochs, "1: each outer iteration trains on a new harvest")
    for callback in trainer.callbacks:
        if workload.owner(callback) == "evaluation" and "ood" in callback.splits and data.hparams.ood_size == 0:
            raise ConfigError(
                f"evaluation.splits = {callback.splits!r} includes 'ood' but data.ood_size = 0, so there are no "
                "out-of-distribution problems to evaluate", field="evaluation.splits",
                fix="set data.ood_size >= 1 (with data.difficulty_max < 10), or drop 'ood' from the "
                    "EvaluationCallback's splits")


def load_humaneval(callbacks: list) -> None:
    """HumanEvalCallback's problems, loaded now (its ``setup`` keeps them) so a missing data file is
    refused before the model loads."""
    for callback in callbacks:
        if workload.owner(callback) == "humaneval" and callback.problems is None:
            from tasks.humaneval import load_problems

            try:
                callback.problems = load_problems(callback.limit)
            except (OSError, ImportError, ValueError, KeyError) as err:
                raise ConfigError(f"HumanEvalCallback: the HumanEval problems cannot be loaded: {err}",
                                  fix="install the pinned requirements.txt, or remove the HumanEvalCallback") from err


def run(trainer, model, data, config) -> None:
    """All pre-load checks of ``fit``; ``config`` is the parsed ``fit`` section (a Namespace)."""
    check_together(trainer, data, config.get("data"))
    callbacks = list(trainer.callbacks)
    check_callback_order(callbacks)
    work = workload.estimate(callbacks, data)
    workload.check_bounds(callbacks, data, work)
    root = trainer.default_root_dir
    run_folder.check_writable(root)
    checkpoint = resume_check.check_resume(config.get("ckpt_path"), trainer, model, data,
                                           config.get("weights_only"))
    metrics = run_folder.check_run_files(root)
    if checkpoint is None:
        run_folder.check_fresh_start(root, metrics)
    run_folder.check_split_files(root, data)
    load_humaneval(callbacks)
    if rank_zero_only.rank == 0:
        print(workload.describe(work, workload.measured_rate(model)), flush=True)

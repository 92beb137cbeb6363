"""Curriculum: harder training problems once the policy solves most of the current ones."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.utilities import rank_zero_info

from callbacks import iteration_record


class CurriculumCallback(L.Callback):
    """Raises the train difficulty range when the harvest solve rate reaches a threshold.

    After each iteration's harvest, if ``harvest/solve_rate >= threshold`` the datamodule draws a
    new set of train problems ``data.curriculum_step`` difficulties higher (val/test stay fixed),
    used from the next harvest on. Each row of ``metrics.jsonl`` says which range its harvest used
    (``harvest/difficulty_min``, ``harvest/difficulty_max``) and whether it raised the range
    (``curriculum/raised``). Listed after ``HarvestCallback`` (checked when the run starts).

    Args:
        threshold: harvest solve rate in (0, 1] that moves training to the next level.
    """

    feeds_metrics_row = True
    requires = ("HarvestCallback",)  # reads the harvest's solve rate: present, and listed before

    def __init__(self, threshold: float = 0.8):
        if not 0 < threshold <= 1:
            raise ValueError(f"curriculum.threshold = {threshold!r} is invalid: must be in (0, 1]")
        self.threshold = threshold

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        rate = iteration_record.current(trainer).harvest_solve_rate
        if rate is None:
            return  # nothing harvested at this iteration's end (the last one, with final_harvest: false)
        raised = rate >= self.threshold and trainer.datamodule.raise_difficulty()
        iteration_record.add(trainer, {"curriculum/raised": int(bool(raised)),
                                       "curriculum/level": trainer.datamodule.level})
        if raised:
            lo, hi = trainer.datamodule.train_range()
            rank_zero_info(f"curriculum: harvest solve rate {rate:.0%} >= "
                           f"{self.threshold:.0%}; train difficulty is now {lo}-{hi}")

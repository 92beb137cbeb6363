"""Checks of the data settings, run when the config is parsed (before any model loads)."""

from __future__ import annotations

from settings.errors import is_int, require
from tasks import FAMILIES


def check_data_args(families, train_size, val_size, test_size, ood_size, difficulty_min, difficulty_max,
                    batch_size, max_length, harvest_window, passes_per_iteration, warm_start_problems,
                    curriculum_step=1, ood_difficulty_min=None) -> None:
    require(len(families) > 0, "data.families", families, f"a non-empty list drawn from {list(FAMILIES)}")
    unknown = [f for f in families if f not in FAMILIES]
    require(not unknown, "data.families", unknown, f"names from {list(FAMILIES)}")
    require(is_int(train_size) and train_size >= 1, "data.train_size", train_size, "an integer >= 1")
    for field, value in (("val_size", val_size), ("test_size", test_size), ("ood_size", ood_size)):
        require(is_int(value) and value >= 0, f"data.{field}", value, "an integer >= 0")
    require(val_size + test_size >= 1, "data.val_size + data.test_size", val_size + test_size, ">= 1")
    for field, value in (("difficulty_min", difficulty_min), ("difficulty_max", difficulty_max)):
        require(is_int(value) and 1 <= value <= 10, f"data.{field}", value, "an integer in 1..10")
    require(difficulty_min <= difficulty_max, "data.difficulty_min", difficulty_min,
            f"<= data.difficulty_max ({difficulty_max})")
    require(ood_size == 0 or difficulty_max < 10, "data.ood_size", ood_size,
            "0 when data.difficulty_max is 10 (no harder difficulties are left)")
    require(ood_difficulty_min is None or (is_int(ood_difficulty_min) and difficulty_max < ood_difficulty_min <= 10),
            "data.ood_difficulty_min", ood_difficulty_min, f"null or an integer in {difficulty_max + 1}..10 "
            f"(above data.difficulty_max)")
    require(is_int(batch_size) and batch_size >= 1, "data.batch_size", batch_size, "an integer >= 1")
    require(is_int(max_length) and max_length >= 16, "data.max_length", max_length, "an integer >= 16")
    require(harvest_window in ("all", "latest"), "data.harvest_window", harvest_window, "'all' or 'latest'")
    require(is_int(passes_per_iteration) and passes_per_iteration >= 1, "data.passes_per_iteration",
            passes_per_iteration, "an integer >= 1")
    require(is_int(warm_start_problems) and 0 <= warm_start_problems <= train_size, "data.warm_start_problems",
            warm_start_problems, f"an integer in 0..train_size ({train_size})")
    require(is_int(curriculum_step) and curriculum_step >= 1, "data.curriculum_step", curriculum_step, "an integer >= 1")

"""Problem splits, the harvest buffer, and the training set of each outer iteration."""

from __future__ import annotations

import os

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn
from torch.utils.data import DataLoader

from datamodules.data_args import check_data_args
from datamodules.training_data import LengthGroupedSampler, PairDataset, make_collate
from tasks import FAMILIES, build_splits, load_jsonl, save_jsonl
from tasks.splits import build_extra_split

SPLITS = ("train", "val", "test", "ood")


class ExpertIterationDataModule(L.LightningDataModule):
    """Builds the problem splits and serves the verified solutions as training data.

    One outer iteration is one Lightning epoch: epoch ``i`` trains on the harvest of iteration
    ``i`` (gathered before it), and the harvest of iteration ``i + 1`` is gathered at its end.

    Args:
        families: problem families to draw from (default: all).
        train_size: number of training problems (harvest is sampled on these).
        val_size: number of validation problems.
        test_size: number of test problems.
        ood_size: number of out-of-distribution problems, at difficulties above the training range.
        ood_difficulty_min: lowest difficulty of the ood problems (null: ``difficulty_max + 1``).
            Above ``difficulty_max``; with a curriculum, set it above where training will climb.
        difficulty_min: lowest difficulty of train/val/test problems (1..10).
        difficulty_max: highest difficulty of train/val/test problems (1..10).
        seed: seed of the problem splits.
        batch_size: training examples per batch (per device).
        max_length: longest training example in tokens; longer ones are dropped and counted.
        harvest_window: ``all`` trains on every harvest so far, ``latest`` on the newest only.
        passes_per_iteration: how many times each iteration goes over its training set.
        warm_start_problems: WARM START, for smoke tests only: seed the first harvest with the
            reference solutions of this many train problems (labelled ``warm_start_reference``).
        curriculum_step: how far ``CurriculumCallback`` shifts the train difficulty range each
            time it raises it (a new set of train problems is drawn at each level).
        fresh_train: draw a new set of ``train_size`` train problems for every outer iteration
            (deterministic from ``seed`` and the iteration, never a val/test/ood problem nor one
            drawn for an earlier iteration), at the curriculum's current difficulty range; the
            problems of iteration N are written to ``train/iter_N.jsonl``. False: one fixed set.
    """

    def __init__(
        self,
        families: list[str] | None = None,
        train_size: int = 60,
        val_size: int = 30,
        test_size: int = 30,
        ood_size: int = 0,
        difficulty_min: int = 1,
        difficulty_max: int = 5,
        seed: int = 0,
        batch_size: int = 4,
        max_length: int = 1024,
        harvest_window: str = "all",
        passes_per_iteration: int = 1,
        warm_start_problems: int = 0,
        curriculum_step: int = 1,
        fresh_train: bool = False,
        ood_difficulty_min: int | None = None,
    ):
        super().__init__()
        families = list(families or FAMILIES)
        check_data_args(families, train_size, val_size, test_size, ood_size, difficulty_min, difficulty_max,
                        batch_size, max_length, harvest_window, passes_per_iteration, warm_start_problems,
                        curriculum_step, ood_difficulty_min)
        self.save_hyperparameters()
        self.hparams.families = families
        self.splits: dict[str, list] = {}
        self.harvest: dict[int, list[dict]] = {}
        self.level = 0  # curriculum level: how many times the train range was raised
        self._train_levels: dict[int, list] = {}
        self._fresh: dict[int, list] = {}  # fresh_train: iteration -> its problems
        self.level_of_iteration: dict[int, int] = {}  # fresh_train: the curriculum level of each draw
        self.last_counts: dict[str, int] = {}
        self.prompt_format = None  # set by connect()

    # ----- problems -------------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        h = self.hparams
        self.splits = build_splits(
            train_size=h.train_size, val_size=h.val_size, test_size=h.test_size, families=h.families,
            difficulty_min=h.difficulty_min, difficulty_max=h.difficulty_max, seed=h.seed,
            ood_size=h.ood_size, ood_difficulty_min=h.ood_difficulty_min,
        )
        if self.trainer is not None and self.trainer.is_global_zero:
            self._write_or_check_splits(self.trainer.default_root_dir)

    def _write_or_check_splits(self, run_dir: str) -> None:
        os.makedirs(run_dir, exist_ok=True)
        for name, problems in self.splits.items():
            self._write_or_check(os.path.join(run_dir, f"{name}.jsonl"), problems)

    @staticmethod
    def _write_or_check(path: str, problems: list) -> None:
        if os.path.exists(path):
            stored = [p.id for p in load_jsonl(path)]
            if stored != [p.id for p in problems]:
                raise ValueError(
                    f"{path} holds other problems than this config builds (data.* settings changed?); "
                    "use a new --trainer.default_root_dir or restore the original data settings"
                )
        else:
            save_jsonl(problems, path)

    def problems(self, split: str) -> list:
        if not self.splits:
            self.setup()
        if split == "train":
            return self.train_problems(max(self.level_of_iteration, default=0))
        if split not in self.splits:
            raise KeyError(f"no split {split!r}; have {sorted(self.splits)}")
        return self.splits[split]

    def train_problems(self, iteration: int) -> list:
        """The train problems the harvest of ``iteration`` samples on."""
        if not self.splits:
            self.setup()
        if not self.hparams.fresh_train:
            return self._train_at(self.level)
        if iteration not in self._fresh:
            for earlier in range(iteration):  # every earlier draw is avoided, so it must exist
                self._fresh_draw(earlier)
            self._fresh_draw(iteration)
        return self._fresh[iteration]

    def _fresh_draw(self, iteration: int) -> None:
        if iteration in self._fresh:
            return
        level = self.level_of_iteration.setdefault(iteration, self.level)
        if iteration == 0 and level == 0:
            problems = self.splits["train"]
        else:
            avoid = [p for name in self.splits for p in self.splits[name]]
            avoid += [p for i in sorted(self._fresh) for p in self._fresh[i]]
            problems = build_extra_split(f"train_iter{iteration}", self.hparams.train_size, self.hparams.families,
                                         *self.train_range(level), self.hparams.seed, avoid)
        self._fresh[iteration] = problems
        if self.trainer is not None and self.trainer.is_global_zero:
            self._write_or_check(os.path.join(self.trainer.default_root_dir, "train", f"iter_{iteration}.jsonl"),
                                 problems)

    # ----- curriculum ---------------------------------------------------------------------
    def train_range(self, level: int | None = None) -> tuple[int, int]:
        """Difficulty range of the train problems at a curriculum level (capped at 10)."""
        shift = self.hparams.curriculum_step * (self.level if level is None else level)
        lo, hi = self.hparams.difficulty_min + shift, self.hparams.difficulty_max + shift
        return min(lo, 10), min(hi, 10)

    def raise_difficulty(self) -> bool:
        """Move to the next curriculum level (new, harder train problems); False at the top."""
        if self.train_range() == self.train_range(self.level + 1):
            return False
        self.level += 1
        if self.hparams.fresh_train:  # the next iteration's draw takes the new range
            return True
        problems = self._train_at(self.level)
        if self.trainer is not None and self.trainer.is_global_zero:
            save_jsonl(problems, os.path.join(self.trainer.default_root_dir, f"train_level{self.level}.jsonl"))
        return True

    def _train_at(self, level: int) -> list:
        if level == 0:
            return self.splits["train"]
        if level not in self._train_levels:
            lo, hi = self.train_range(level)
            avoid = [p for name in self.splits for p in self.splits[name]]
            avoid += [p for lv in sorted(self._train_levels) for p in self._train_levels[lv]]
            self._train_levels[level] = build_extra_split(
                f"train_level{level}", self.hparams.train_size, self.hparams.families, lo, hi,
                self.hparams.seed, avoid)
        return self._train_levels[level]

    # ----- harvest buffer -------------------------------------------------------------------
    def set_harvest(self, iteration: int, records: list[dict]) -> None:
        self.harvest[iteration] = list(records)

    def has_harvest(self, iteration: int) -> bool:
        return iteration in self.harvest

    def warm_start_records(self) -> list[dict]:
        """Reference solutions of the first ``warm_start_problems`` train problems (smoke runs)."""
        chosen = self._train_at(0)[: self.hparams.warm_start_problems]
        return [
            {"problem_id": p.id, "family": p.family, "difficulty": p.difficulty, "code": p.reference,
             "source": "warm_start_reference"}
            for p in chosen
        ]

    def training_records(self, iteration: int) -> list[dict]:
        if self.hparams.harvest_window == "latest":
            return list(self.harvest.get(iteration, []))
        return [r for i in sorted(self.harvest) if i <= iteration for r in self.harvest[i]]

    # ----- training data --------------------------------------------------------------------
    def train_dataloader(self) -> DataLoader:
        iteration = self.trainer.current_epoch if self.trainer is not None else 0
        records = self.training_records(iteration)
        examples = self._encode(records)
        if len(examples) < len(records):
            rank_zero_warn(f"iteration {iteration}: {len(records) - len(examples)} of {len(records)} solutions are "
                           f"longer than data.max_length={self.hparams.max_length} tokens and were left out")
        self.last_counts = {"train/examples": len(examples), "train/dropped_too_long": len(records) - len(examples)}
        examples = examples * self.hparams.passes_per_iteration
        dataset = PairDataset(examples)
        lengths = [len(e.get("input_ids", ())) for e in dataset.examples]
        sampler = LengthGroupedSampler(lengths, self.hparams.batch_size, seed=self.hparams.seed * 100003 + iteration)
        return DataLoader(dataset, batch_size=self.hparams.batch_size, sampler=sampler,
                          collate_fn=make_collate(self._format().pad_id))

    def connect(self, prompt_format) -> None:
        """Take the policy's ``PromptFormat`` (tokenizer, system prompt, render, answer, label masking);
        ``PolicyModule.configure_model`` hands it over once the tokenizer is loaded."""
        self.prompt_format = prompt_format

    def _format(self):
        if self.prompt_format is None:
            raise RuntimeError("the datamodule has no prompt format: PolicyModule.configure_model connects it "
                               "(call datamodule.connect(policy.prompt_format) when training outside Trainer.fit)")
        return self.prompt_format

    def _encode(self, records: list[dict]) -> list[dict]:
        prompt_format = self._format()
        levels = [0] if self.hparams.fresh_train else range(self.level + 1)
        by_id = {p.id: p for level in levels for p in self._train_at(level)}
        by_id.update({p.id: p for problems in self._fresh.values() for p in problems})
        examples = []
        for r in records:
            ex = prompt_format.encode(by_id[r["problem_id"]].prompt, r["code"], self.hparams.max_length)
            if ex is not None:
                examples.append(ex)
        return examples

    # ----- resume ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"harvest": {str(i): recs for i, recs in self.harvest.items()}, "level": self.level,
                "level_of_iteration": {str(i): lv for i, lv in self.level_of_iteration.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.harvest = {int(i): list(recs) for i, recs in state.get("harvest", {}).items()}
        self.level = int(state.get("level", 0))
        self.level_of_iteration = {int(i): int(lv) for i, lv in state.get("level_of_iteration", {}).items()}
        self._fresh = {}  # drawn again, identically, from the seed and the levels

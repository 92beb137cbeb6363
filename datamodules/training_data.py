"""Tokenised (prompt, verified solution) pairs with the prompt masked out of the loss."""

from __future__ import annotations

import random
from typing import Callable

import torch
from torch.utils.data import Dataset, Sampler

from lightning_modules.prompting import IGNORE_INDEX


class PairDataset(Dataset):
    """Encoded examples; an empty harvest becomes one ``{"empty": True}`` item (no update)."""

    def __init__(self, examples: list[dict]):
        self.examples = examples or [{"empty": True}]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict:
        return self.examples[i]


def make_collate(pad_id: int) -> Callable[[list[dict]], dict]:
    """Right-pad a batch; padding is masked from attention and loss."""

    def collate(items: list[dict]) -> dict:
        items = [it for it in items if not it.get("empty")]
        if not items:
            return {"empty": True}
        width = max(len(it["input_ids"]) for it in items)
        ids = torch.full((len(items), width), pad_id, dtype=torch.long)
        labels = torch.full((len(items), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(items), width), dtype=torch.long)
        for row, it in enumerate(items):
            n = len(it["input_ids"])
            ids[row, :n] = torch.tensor(it["input_ids"])
            labels[row, :n] = torch.tensor(it["labels"])
            mask[row, :n] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    return collate


class LengthGroupedSampler(Sampler[int]):
    """Shuffled order in which neighbours have similar lengths, so batches carry little padding.

    Indices are shuffled, cut into windows of ``batch_size * group``, sorted by length within each
    window, split into batches, and the batches shuffled again. Deterministic for ``seed``.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int, group: int = 16):
        self.lengths = lengths
        self.batch_size = batch_size
        self.seed = seed
        self.group = group

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        rng = random.Random(self.seed)
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        window = self.batch_size * self.group
        batches = []
        for start in range(0, len(order), window):
            chunk = sorted(order[start : start + window], key=lambda i: self.lengths[i])
            batches += [chunk[j : j + self.batch_size] for j in range(0, len(chunk), self.batch_size)]
        rng.shuffle(batches)
        return iter([i for batch in batches for i in batch])

"""Continuous batching: finished rows leave the batch and waiting prompts take their place (no Lightning).

Decoding prompts one fixed batch after another leaves each batch with a tail of steps where few rows
are still writing: a step's fixed cost (reading every weight) is paid for a handful of rows, and the
next batch waits. Here a row leaves the batch as soon as it finishes (end of sequence, closed code
fence, token budget), and once enough rows are free the next prompts are prefilled and their rows
join the running batch (their KV cache left-padded to its length, ``kv_cache.add_rows``), so the
batch stays full until the prompts run out. Each prompt is prefilled once and its KV cache repeated
for its ``n`` samples.

Sampling follows ``generate``'s order (temperature, then top-p, then one draw per row); greedy
decoding gives the same tokens as ``generate`` up to floating-point differences of batch shape.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

import torch

from generation.decoding import FenceTracker, cache_kwarg, eos_ids, forward_step, next_tokens, prefill_step
from generation.kv_cache import PreallocatedLayer, add_rows, trim_padding


def encode_prompts(model, tokenizer, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded token ids and attention mask of rendered prompts, on the model's device."""
    device = next(model.parameters()).device
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    return enc["input_ids"].to(device), enc["attention_mask"].to(device)


class _Batch:
    """The rows being decoded: the KV cache, attention mask and next-token logits, and per row the
    prompt, the sample and the number of tokens written so far."""

    def __init__(self):
        self.cache = self.mask = self.logits = None
        self.prompt: list[int] = []
        self.sample: list[int] = []
        self.steps: list[int] = []

    def __len__(self) -> int:
        return len(self.prompt)

    def can_join(self) -> bool:
        return self.cache is None or all(isinstance(layer, PreallocatedLayer) for layer in self.cache.layers)

    def join(self, cache, mask, logits, prompts: list[int], n: int) -> None:
        if self.cache is None:
            self.cache, self.mask, self.logits = cache, mask, logits
        else:
            self.mask = add_rows(self.cache, self.mask, cache, mask)
            self.logits = torch.cat([self.logits, logits], dim=0)
        for p in prompts:
            self.prompt += [p] * n
            self.sample += list(range(n))
            self.steps += [0] * n

    def keep(self, rows: list[int]) -> None:
        if not rows:
            self.__init__()
            return
        if len(rows) < len(self):
            index = torch.tensor(rows, device=self.mask.device)
            self.cache.batch_select_indices(index)
            self.mask = self.mask[index]  # the logits are replaced by the next forward step
            self.prompt = [self.prompt[i] for i in rows]
            self.sample = [self.sample[i] for i in rows]
            self.steps = [self.steps[i] for i in rows]
        self.mask = trim_padding(self.cache, self.mask) if self.can_join() else self.mask


def _admit(model, tokenizer, prompts: list[str], pending: deque, batch: _Batch, n: int, max_rows: int,
           admit_together: int) -> None:
    """Prefill waiting prompts into the batch once there is room for enough of them."""
    room = (max_rows - len(batch)) // n
    if not pending or room < min(admit_together, len(pending)) or (len(batch) and not batch.can_join()):
        return
    chosen = [pending.popleft() for _ in range(min(room, len(pending)))]
    ids, mask = encode_prompts(model, tokenizer, [prompts[p] for p in chosen])
    logits, cache = prefill_step(model, ids, mask)
    if n > 1:
        cache.batch_repeat_interleave(n)
        logits, mask = logits.repeat_interleave(n, dim=0), mask.repeat_interleave(n, dim=0)
    batch.join(cache, mask, logits, chosen, n)


def _forbid_stops(batch: _Batch, stops: torch.Tensor, min_new_tokens: int) -> None:
    """Rows younger than ``min_new_tokens`` may not draw an end-of-sequence token."""
    young = [b for b, steps in enumerate(batch.steps) if steps < min_new_tokens]
    if young:
        batch.logits[torch.tensor(young, device=stops.device).unsqueeze(1), stops.unsqueeze(0)] = float("-inf")


def decode(model, tokenizer, prompts: list[str], n: int, temperature: float, top_p: float, max_new_tokens: int,
           max_rows: int, stop_at_fence: bool = True, min_new_tokens: int = 0,
           on_prompt_done: Callable[[int, list[str]], None] | None = None) -> list[list[str]]:
    """``n`` replies to each rendered prompt, at most ``max_rows`` sequences decoded together.

    Prompts are admitted in the order given (sort them by length for less padding). As soon as a
    prompt's ``n`` replies are finished, ``on_prompt_done(index, replies)`` is called.
    """
    if max_new_tokens < 1:
        return [[""] * n for _ in prompts]
    name = cache_kwarg(model)
    stop_set = eos_ids(model, tokenizer)
    stops = torch.tensor(sorted(stop_set), dtype=torch.long, device=next(model.parameters()).device)
    max_rows = max(max_rows, n)
    admit_together = max(1, (max_rows // 4) // n)  # prompts prefilled in one go, so prefill stays batched
    pending = deque(range(len(prompts)))
    tokens = [[[] for _ in range(n)] for _ in prompts]
    unfinished = [n] * len(prompts)
    fences = FenceTracker(len(prompts) * n)
    pieces: dict[int, str] = {}  # token id -> its text, decoded once
    replies: list[list[str]] = [[] for _ in prompts]
    batch = _Batch()
    while pending or len(batch):
        _admit(model, tokenizer, prompts, pending, batch, n, max_rows, admit_together)
        if min_new_tokens and len(stops):
            _forbid_stops(batch, stops, min_new_tokens)
        drawn = next_tokens(batch.logits, temperature, top_p).tolist()
        keep = []
        for b, token in enumerate(drawn):
            p, s, steps = batch.prompt[b], batch.sample[b], batch.steps[b]
            done = steps >= min_new_tokens and token in stop_set
            if not done:
                tokens[p][s].append(token)
                if stop_at_fence and steps >= min_new_tokens:
                    if token not in pieces:
                        pieces[token] = tokenizer.decode([token])
                    done = fences.append(p * n + s, pieces[token])
                done = done or steps + 1 >= max_new_tokens
            if not done:
                keep.append(b)
                continue
            unfinished[p] -= 1
            if not unfinished[p]:
                replies[p] = tokenizer.batch_decode(tokens[p], skip_special_tokens=True)
                if on_prompt_done is not None:
                    on_prompt_done(p, replies[p])
        batch.keep(keep)
        if not keep:
            continue
        batch.steps = [steps + 1 for steps in batch.steps]
        batch.mask = torch.cat([batch.mask, batch.mask.new_ones(len(batch), 1)], dim=1)
        step_ids = torch.tensor([drawn[b] for b in keep], device=batch.mask.device).unsqueeze(1)
        batch.logits, batch.cache = forward_step(model, step_ids, batch.mask, batch.mask.sum(-1, keepdim=True) - 1,
                                                 batch.cache, name)
    return replies

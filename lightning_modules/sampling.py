"""Batched sampling of chat replies from a causal LM (no Lightning)."""

from __future__ import annotations

import inspect
from typing import Callable

import torch
from transformers import DynamicCache, StoppingCriteria, StoppingCriteriaList

FENCE = "```"


class FenceStop(StoppingCriteria):
    """Marks a row finished once its reply has opened and closed a code fence.

    Finished rows stop being extended by ``generate`` (they receive padding), so a batch ends as
    soon as every reply's code block is closed instead of running to the token budget.
    """

    def __init__(self, tokenizer, prompt_length: int):
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.texts: list[str] = []
        self.fences: list[int] = []

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        if not self.texts:
            self.texts = [""] * input_ids.shape[0]
            self.fences = [0] * input_ids.shape[0]
        last = input_ids[:, -1].tolist()
        done = []
        for row, token in enumerate(last):
            done.append(self._append(row, self.tokenizer.decode([token])))
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    def _append(self, row: int, piece: str) -> bool:
        start = max(0, len(self.texts[row]) - len(FENCE) + 1)
        self.texts[row] += piece
        self.fences[row] += self.texts[row].count(FENCE, start)
        return self.fences[row] >= 2


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def sample_replies(
    model,
    tokenizer,
    prompts: list[str],
    n: int = 1,
    temperature: float = 0.0,
    top_p: float = 1.0,
    max_new_tokens: int = 256,
    batch_size: int = 16,
    seed: int = 0,
    stop_at_fence: bool = True,
    progress: Callable[[int], None] | None = None,
    **generate_kwargs,
) -> list[list[str]]:
    """Sample ``n`` replies for each rendered prompt; returns one list of replies per prompt.

    ``temperature == 0`` means greedy decoding (then ``n`` must be 1). Sampling runs under the
    given seed inside a forked RNG, so the caller's random state is untouched and the same
    weights, prompts and seed give the same replies. Extra keyword arguments go to ``generate``.
    """
    if temperature == 0 and n != 1:
        raise ValueError(f"greedy decoding (temperature=0) gives one reply per prompt, got n={n}")
    per_batch = max(1, batch_size // n)
    replies: list[list[str]] = []
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=_devices(model)), torch.inference_mode():
            torch.manual_seed(seed)
            for _, chunk in _batches(prompts, per_batch):
                replies.extend(_generate_chunk(model, tokenizer, chunk, n, temperature, top_p, max_new_tokens,
                                               stop_at_fence, **generate_kwargs))
                if progress is not None:
                    progress(len(chunk))
    finally:
        model.train(was_training)
    return replies


def _devices(model) -> list:
    device = next(model.parameters()).device
    return [device] if device.type == "cuda" else []


def _generate_chunk(model, tokenizer, prompts, n, temperature, top_p, max_new_tokens, stop_at_fence, **extra):
    device = next(model.parameters()).device
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    ids, mask = enc["input_ids"].to(device), enc["attention_mask"].to(device)
    prompt_length = ids.shape[1]
    kwargs = dict(max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **extra)
    if temperature > 0:
        kwargs.update(do_sample=True, temperature=temperature, top_p=top_p, top_k=0)
    else:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    if stop_at_fence:
        kwargs["stopping_criteria"] = StoppingCriteriaList([FenceStop(tokenizer, prompt_length)])
    if n > 1 and prompt_length > 1:
        # Process each prompt once and share its KV cache between its n samples.
        cache = prefill(model, ids[:, :-1], mask[:, :-1])
        cache.batch_repeat_interleave(n)
        ids, mask = ids.repeat_interleave(n, dim=0), mask.repeat_interleave(n, dim=0)
        out = model.generate(input_ids=ids, attention_mask=mask, **{_cache_kwarg(model): cache}, **kwargs)
    else:
        out = model.generate(input_ids=ids, attention_mask=mask, num_return_sequences=n, **kwargs)
    texts = tokenizer.batch_decode(out[:, prompt_length:], skip_special_tokens=True)
    return [texts[i * n : (i + 1) * n] for i in range(len(prompts))]


def prefill(model, ids: torch.Tensor, mask: torch.Tensor) -> DynamicCache:
    """KV cache of left-padded prompts, with the positions ``generate`` would give them."""
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    name = _cache_kwarg(model)
    out = model(input_ids=ids, attention_mask=mask, position_ids=position_ids, use_cache=True, logits_to_keep=1,
                **{name: DynamicCache(config=_config(model))})
    return getattr(out, name)


def _cache_kwarg(model) -> str:
    """``cache`` in transformers >= 5.2x, ``past_key_values`` before (older images on GPU machines)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def _config(model):
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.config

"""Batched sampling of chat replies from a causal LM (no Lightning).

By default replies come from :func:`generation.continuous.decode`, which processes each
prompt once, shares its KV cache between its ``n`` samples, drops every row from the batch as
soon as it finishes and fills the freed rows with the next prompts (continuous batching). Extra
``generate`` keyword arguments (e.g. ``cache_implementation``) select Hugging Face ``generate``
instead, in fixed batches with the same prompt sharing and fence stop.
"""

from __future__ import annotations

from typing import Callable

import torch
from transformers import DynamicCache, StoppingCriteria, StoppingCriteriaList

from generation.continuous import decode, encode_prompts
from generation.decoding import FENCE, FenceTracker, cache_kwarg, contiguous_head, prefill_step

__all__ = ["FENCE", "FenceStop", "sample_replies", "prefill"]


class FenceStop(StoppingCriteria):
    """For ``generate``: marks a row finished once its reply has opened and closed a code fence.

    ``generate`` keeps finished rows in the batch (they receive padding), so they still cost
    compute until the last row finishes; the default decode loop removes them instead.
    """

    def __init__(self, tokenizer, prompt_length: int):
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.tracker: FenceTracker | None = None

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        if self.tracker is None:
            self.tracker = FenceTracker(input_ids.shape[0])
        done = [self.tracker.append(row, self.tokenizer.decode([token]))
                for row, token in enumerate(input_ids[:, -1].tolist())]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


DECODERS = ("continuous", "generate")


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
    min_new_tokens: int = 0,
    on_replies: Callable[[list[int], list[list[str]]], None] | None = None,
    decoder: str = "continuous",
    generate_kwargs: dict | None = None,
) -> list[list[str]]:
    """Sample ``n`` replies for each rendered prompt; returns one list of replies per prompt.

    ``temperature == 0`` means greedy decoding (then ``n`` must be 1). ``batch_size`` is the most
    sequences (prompts x n) decoded together. Sampling runs under the given seed inside a forked
    RNG, so the caller's random state is untouched and the same weights, prompts and seed give the
    same replies. ``decoder`` picks the decoding loop: ``continuous`` (``generation.continuous``,
    the fast one every run uses) or ``generate`` (transformers' ``model.generate`` in fixed
    batches: the reference that tests and benchmarks compare against; ``generate_kwargs`` go to it).
    ``on_replies(indices, replies)`` is called as replies finish (each prompt, or each batch on the
    ``generate`` path) with the positions of their prompts in ``prompts`` (e.g. to verify them while
    sampling goes on).
    """
    _check_call(decoder, generate_kwargs, temperature, n)
    # Prompts of similar length decode side by side (less left padding); replies return in input order.
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]) if isinstance(prompts[i], str) else 0)
    replies: list[list[str]] = [[] for _ in prompts]
    was_training = model.training
    model.eval()
    contiguous_head(model)  # the generate path's prefill too
    try:
        with torch.random.fork_rng(devices=_devices(model)), torch.inference_mode():
            torch.manual_seed(seed)
            if decoder == "generate":
                for _, index in _batches(order, max(1, batch_size // n)):
                    chunk = [prompts[i] for i in index]
                    out = _generate_chunk(model, tokenizer, chunk, n, temperature, top_p, max_new_tokens,
                                          stop_at_fence, min_new_tokens=min_new_tokens, **(generate_kwargs or {}))
                    for i, reply in zip(index, out):
                        replies[i] = reply
                    _report(index, out, on_replies, progress)
            else:
                def done(position: int, texts: list[str]) -> None:
                    replies[order[position]] = texts
                    _report([order[position]], [texts], on_replies, progress)

                decode(model, tokenizer, [prompts[i] for i in order], n, temperature, top_p, max_new_tokens,
                       batch_size, stop_at_fence, min_new_tokens, on_prompt_done=done)
    finally:
        model.train(was_training)
    return replies


def _check_call(decoder: str, generate_kwargs: dict | None, temperature: float, n: int) -> None:
    if decoder not in DECODERS:
        raise ValueError(f"decoder = {decoder!r} is invalid: must be one of {DECODERS}")
    if generate_kwargs and decoder != "generate":
        raise ValueError("generate_kwargs go with decoder='generate'")
    if temperature == 0 and n != 1:
        raise ValueError(f"greedy decoding (temperature=0) gives one reply per prompt, got n={n}")


def _report(index: list[int], out: list[list[str]], on_replies, progress) -> None:
    if on_replies is not None:
        on_replies(list(index), out)
    if progress is not None:
        progress(len(index))


def _devices(model) -> list:
    device = next(model.parameters()).device
    return [device] if device.type == "cuda" else []


def _generate_chunk(model, tokenizer, prompts, n, temperature, top_p, max_new_tokens, stop_at_fence, **extra):
    ids, mask = encode_prompts(model, tokenizer, prompts)
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
        out = model.generate(input_ids=ids, attention_mask=mask, **{cache_kwarg(model): cache}, **kwargs)
    else:
        out = model.generate(input_ids=ids, attention_mask=mask, num_return_sequences=n, **kwargs)
    texts = tokenizer.batch_decode(out[:, prompt_length:], skip_special_tokens=True)
    return [texts[i * n : (i + 1) * n] for i in range(len(prompts))]


def prefill(model, ids: torch.Tensor, mask: torch.Tensor) -> DynamicCache:
    """KV cache of left-padded prompts, with the positions ``generate`` would give them."""
    return prefill_step(model, ids, mask)[1]

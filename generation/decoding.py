"""The pieces of a decoding step (no Lightning): prefill, one forward step, the next-token draw,
end-of-sequence ids and the code-fence stop. The loop that uses them is ``continuous.decode``.

Sampling follows ``generate``'s order (temperature, then top-p over the sorted distribution,
then one multinomial draw), and greedy decoding gives the same tokens as ``generate``.
"""

from __future__ import annotations

import torch

from generation.kv_cache import preallocated_cache

FENCE = "```"


class FenceTracker:
    """Per-row reply text, and whether the reply has opened and closed a code fence."""

    def __init__(self, rows: int):
        self.texts = [""] * rows
        self.fences = [0] * rows

    def append(self, row: int, piece: str) -> bool:
        start = max(0, len(self.texts[row]) - len(FENCE) + 1)
        self.texts[row] += piece
        self.fences[row] += self.texts[row].count(FENCE, start)
        return self.fences[row] >= 2


def base_of(model):
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def eos_ids(model, tokenizer) -> set[int]:
    """End-of-sequence ids from the generation config (Qwen's chat models list two) and the tokenizer."""
    ids: set[int] = set()
    for value in (getattr(base_of(model).generation_config, "eos_token_id", None),
                  getattr(tokenizer, "eos_token_id", None)):
        if isinstance(value, int):
            ids.add(value)
        elif value is not None:
            ids.update(int(v) for v in value)
    return ids


def cache_kwarg(model) -> str:
    """``cache`` in transformers >= 5.2x, ``past_key_values`` before (older images on GPU machines)."""
    import inspect

    return "cache" if "cache" in inspect.signature(base_of(model).forward).parameters else "past_key_values"


def contiguous_head(model) -> None:
    """Make the output head's input contiguous (once per model; idempotent).

    With ``logits_to_keep=1`` the head gets ``hidden[:, -1:, :]`` of a prefill, a strided view.
    torch's CPU ``linear`` then runs it as a batched matmul over the head weight expanded to the
    batch: a copy of ``rows x 151,936 x 896`` (2.2 GB for 8 prompts in bf16, 4.4 s instead of
    17 ms), and at 128 prompts (35 GB) the allocation fails, after which torch turns oneDNN off
    for the rest of the process and every bf16 matmul falls back to a reference kernel (~50x
    slower). Seen on 2026-12-03 (AMD EPYC Zen 5, bf16); the fix costs one copy of the last rows.
    """
    head = base_of(model).get_output_embeddings()
    if head is not None and not getattr(head, "_contiguous_input", False):
        head.register_forward_pre_hook(lambda module, args: tuple(a.contiguous() if torch.is_tensor(a) else a
                                                                  for a in args))
        head._contiguous_input = True


def check_onednn() -> None:
    """Re-enable oneDNN if torch turned it off after a failed allocation (it says so only once)."""
    if torch.backends.mkldnn.is_available() and not torch.backends.mkldnn.enabled:
        import warnings

        warnings.warn("torch had turned oneDNN off (after a failed allocation in a matmul); turned it back on, "
                      "as every CPU matmul would otherwise run ~50x slower", RuntimeWarning, stacklevel=2)
        torch.backends.mkldnn.enabled = True


def forward_step(model, ids, mask, position_ids, cache, name: str):
    """Logits of each row's last position, and the updated cache."""
    out = model(input_ids=ids, attention_mask=mask, position_ids=position_ids, use_cache=True, logits_to_keep=1,
                **{name: cache})
    return out.logits[:, -1, :].float(), getattr(out, name)


def prefill_step(model, ids: torch.Tensor, mask: torch.Tensor):
    """Last-position logits and KV cache of left-padded prompts, at the positions ``generate`` gives them."""
    contiguous_head(model)
    check_onednn()
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    return forward_step(model, ids, mask, position_ids, preallocated_cache(base_of(model).config), cache_kwarg(model))


def next_tokens(logits: torch.Tensor, temperature: float, top_p: float, candidates: int = 64) -> torch.Tensor:
    """Greedy argmax (temperature 0), else a draw after temperature and top-p (nucleus) filtering.

    Sorting and drawing over the whole vocabulary (151,936 tokens) costs more than the model's
    forward pass at large batches on a CPU. The nucleus of a code model is almost always a handful
    of tokens, so it is found among the ``candidates`` most likely tokens (``topk`` plus the exact
    normaliser); a row whose nucleus may reach past them takes the full-vocabulary path. The
    distribution drawn from is the same as ``generate``'s (temperature, then top-p).
    """
    if temperature == 0:
        return logits.argmax(-1)
    scores = logits / temperature
    if top_p >= 1.0:
        return torch.multinomial(scores.softmax(-1), num_samples=1).squeeze(1)
    top, index = scores.topk(min(candidates, scores.shape[-1]), dim=-1)  # most likely first
    probs = (top - scores.logsumexp(-1, keepdim=True)).exp()
    keep = (probs.cumsum(-1) - probs) < top_p  # the mass of more likely tokens is below top_p
    keep[:, 0] = True
    wide = keep[:, -1]  # the last candidate is kept: the nucleus may be larger than the candidates
    out = torch.empty(scores.shape[0], dtype=torch.long, device=scores.device)
    narrow = ~wide
    if narrow.any():
        choice = torch.multinomial(probs[narrow].masked_fill(~keep[narrow], 0.0), num_samples=1)
        out[narrow] = index[narrow].gather(1, choice).squeeze(1)
    if wide.any():
        out[wide] = torch.multinomial(top_p_filter(scores[wide], top_p).softmax(-1), num_samples=1).squeeze(1)
    return out


def top_p_filter(scores: torch.Tensor, top_p: float) -> torch.Tensor:
    """Scores outside the smallest set of tokens whose probability reaches ``top_p`` set to -inf."""
    if top_p >= 1.0:
        return scores
    sorted_scores, order = torch.sort(scores, descending=False)
    drop = sorted_scores.softmax(-1).cumsum(-1) <= (1 - top_p)
    drop[:, -1] = False  # always keep the most likely token
    return scores.masked_fill(drop.scatter(1, order, drop), float("-inf"))

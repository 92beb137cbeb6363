"""Causal-LM loss on answer tokens only, with the output layer applied only where it counts.

``model(labels=...)`` projects every position onto the vocabulary (151,936 columns for Qwen2.5)
and then ignores the prompt positions' logits. Here the decoder runs over the whole sequence but
the output layer only over positions whose next token is an answer token, which in our training
data (a ~250-token prompt, a ~150-token answer) skips most of the output layer's work, in the
forward and the backward pass. Same value and gradients as the full computation.

``answer_loss_with_kl`` adds a pull toward the base model (the adapter switched off) on the same
answer positions: KL(base || policy) of the next-token distributions, so the policy learns its
verified answers without drifting from what the base model does everywhere else (forgetting).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from generation.decoding import base_of
from lightning_modules.prompting import IGNORE_INDEX


def _decoder_and_head(model):
    base = base_of(model)
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else None
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    return decoder, head


def _answer_logits(decoder, head, input_ids, attention_mask, keep) -> torch.Tensor:
    """fp32 logits at the positions ``keep`` marks (those whose next token is an answer token)."""
    hidden = decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
    return head(hidden[:, :-1][keep]).float()


def answer_loss(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over positions with ``labels != -100`` (as ``model(labels=...)``)."""
    decoder, head = _decoder_and_head(model)
    if decoder is None or head is None:  # not a decoder + output layer model: the model's own loss
        return model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX
    logits = _answer_logits(decoder, head, input_ids, attention_mask, keep)
    return F.cross_entropy(logits, targets[keep], reduction="mean")


def answer_loss_with_kl(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                        labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(cross-entropy, KL(base || policy)), both means over the answer positions.

    ``model`` is a PEFT model: the base model's distribution comes from the same weights with
    the adapter disabled, without gradients (one extra forward pass, no second copy of the
    model). The KL is over the whole vocabulary: sum_v p_base(v) (log p_base(v) - log p(v)).
    """
    decoder, head = _decoder_and_head(model)
    if decoder is None or head is None or not hasattr(model, "disable_adapter"):
        raise ValueError("the KL-to-base loss needs a PEFT decoder model with an output layer")
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX
    with torch.no_grad(), model.disable_adapter():
        base_logp = F.log_softmax(_answer_logits(decoder, head, input_ids, attention_mask, keep), dim=-1)
    logits = _answer_logits(decoder, head, input_ids, attention_mask, keep)
    ce = F.cross_entropy(logits, targets[keep], reduction="mean")
    kl = F.kl_div(F.log_softmax(logits, dim=-1), base_logp, log_target=True, reduction="batchmean")
    return ce, kl

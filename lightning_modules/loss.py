"""Causal-LM loss on answer tokens only, with the output layer applied only where it counts.

``model(labels=...)`` projects every position onto the vocabulary (151,936 columns for Qwen2.5)
and then ignores the prompt positions' logits. Here the decoder runs over the whole sequence but
the output layer only over positions whose next token is an answer token, which in our training
data (a ~250-token prompt, a ~150-token answer) skips most of the output layer's work, in the
forward and the backward pass. Same value and gradients as the full computation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from generation.decoding import base_of
from lightning_modules.prompting import IGNORE_INDEX


def answer_loss(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over positions with ``labels != -100`` (as ``model(labels=...)``)."""
    base = base_of(model)
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else None
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    if decoder is None or head is None:  # not a decoder + output layer model: the model's own loss
        return model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
    hidden = decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX
    logits = head(hidden[:, :-1][keep]).float()
    return F.cross_entropy(logits, targets[keep], reduction="mean")

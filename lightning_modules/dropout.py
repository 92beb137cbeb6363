"""Dropout on the LoRA inputs with a quarter of the random draws (no Lightning).

PEFT puts an ``nn.Dropout`` before every LoRA branch (seven per layer of Qwen2.5). On a CPU its
Bernoulli mask costs one draw of torch's generator per element, and a LoRA training step of the
0.5B model draws about 250,000 per token: on a 2-core Xeon (AMX, bf16, 2026-12-07) that was
1.3-2 s of a 3-4.5 s step of 1,000-1,400 tokens, more than all the matmuls' floor.
``WordDropout`` draws one 64-bit word per four elements and cuts it into four 15/16-bit fields:
the same Bernoulli(1 - p) keep mask and 1 / (1 - p) scaling, with p rounded to a multiple of
1 / 32768 (0.05 becomes 0.0499878).
"""

from __future__ import annotations

import sys

import torch
from torch import nn

STEPS = 32768  # p is a multiple of 1 / STEPS


def quantised(p: float) -> float:
    """The drop probability ``WordDropout`` uses for ``p``.

    >>> quantised(0.05)
    0.04998779296875
    """
    return round(p * STEPS) / STEPS


def keep_mask(shape, p: float, device=None) -> torch.Tensor:
    """A bool tensor, True with probability 1 - ``quantised(p)`` independently per element.

    ``random_`` fills an int64 with 63 random bits (uniform on [0, 2^63)). Seen as four int16,
    three fields are uniform over all 65,536 values and the most significant one over the
    32,768 values [0, 2^15): each is compared with a threshold that drops the same fraction.
    """
    n = 1
    for size in shape:
        n *= size
    q = round(p * STEPS)
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=device).random_()
    fields = words.view(torch.int16).view(-1, 4)
    full, top = -32768 + 2 * q, q  # drop below these: 2q / 65536 = q / 32768 of each field
    order = [full, full, full, top] if sys.byteorder == "little" else [top, full, full, full]
    thresholds = torch.tensor(order, dtype=torch.int16, device=device)
    return (fields >= thresholds).view(-1)[:n].view(shape)


class WordDropout(nn.Module):
    """``nn.Dropout(p)`` with masks from ``keep_mask`` (p rounded to a multiple of 1 / 32768)."""

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability {p!r} is invalid: must be in [0, 1)")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        scale = 1.0 / (1.0 - quantised(self.p))
        return torch.where(keep_mask(x.shape, self.p, device=x.device), x * scale, 0)  # (x * bool is slower)

    def extra_repr(self) -> str:
        return f"p={self.p} (as {quantised(self.p)})"


def use_word_dropout(model: nn.Module) -> int:
    """Swap every LoRA ``nn.Dropout`` of a PEFT model for ``WordDropout``; returns how many."""
    swapped = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, nn.ModuleDict):
            continue
        for name, layer in list(dropouts.items()):
            if type(layer) is nn.Dropout and layer.p > 0:
                dropouts[name] = WordDropout(layer.p)
                swapped += 1
    return swapped

"""Sampling with the LoRA adapter merged into the base weights, restored exactly afterwards."""

from __future__ import annotations

from contextlib import contextmanager

import torch
from peft.tuners.lora import LoraLayer


@contextmanager
def merged_adapter(peft_model):
    """Merge the adapter for the duration of the block (sampling runs at base-model speed).

    The base weights of the adapted layers are copied first and copied back afterwards, so
    repeated merge/unmerge cycles cannot drift them by rounding.
    """
    layers = [m for m in peft_model.modules() if isinstance(m, LoraLayer) and not m.merged]
    if not layers or any(m.disable_adapters for m in layers):  # nothing to merge, or adapter off
        yield
        return
    backups = [m.get_base_layer().weight.detach().clone() for m in layers]
    peft_model.merge_adapter()
    try:
        yield
    finally:
        peft_model.unmerge_adapter()
        with torch.no_grad():
            for layer, weight in zip(layers, backups):
                layer.get_base_layer().weight.copy_(weight)

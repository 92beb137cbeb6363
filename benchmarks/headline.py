"""The last line of every benchmark: its JSON headline, labelled with the machine and the dtype it ran in.

Every headline carries ``metric``, ``value``, ``unit``, ``baseline`` and ``ratio`` (set by the benchmark),
and, from :func:`emit`, ``machine`` (the GPU's name, else the CPU's; older figures in RESULTS.md are
labelled by it), ``cpu`` (the CPU model, its cores and its bf16 instructions) and ``dtype``.
"""

from __future__ import annotations

import json

import torch

from models.cpu_perf import cpu_description


def device_name() -> str:
    """The GPU's name where there is one, else the CPU's description."""
    return torch.cuda.get_device_name() if torch.cuda.is_available() else cpu_description()


def dtype_name(dtype) -> str:
    """A torch dtype, a model (the dtype of its frozen base weights: LoRA factors left out) or a name
    as a plain string: ``torch.bfloat16`` -> "bfloat16"."""
    if hasattr(dtype, "named_parameters"):
        dtype = next(p for n, p in dtype.named_parameters() if "lora_" not in n).dtype
    return str(dtype).replace("torch.", "")


def emit(result: dict, dtype) -> dict:
    """Add ``machine`` (unless the benchmark set it), ``cpu`` and ``dtype`` (what the benchmark ran its
    model in: a torch dtype, the model, or "none" where no model runs) to ``result``, print it as
    the JSON last line and return it."""
    result.setdefault("machine", device_name())
    result.update(cpu=cpu_description(), dtype=dtype_name(dtype))
    print(json.dumps(result))
    return result

"""A KV cache that writes each new token in place instead of concatenating (no Lightning).

``DynamicCache`` grows with ``torch.cat``: every decoding step copies every layer's whole cache to
append one position, a cost that grows with rows x positions. For the 0.5B model on a 2-core CPU
this made a step 1.59x slower at 128 rows x 640 positions, and made no difference at 64 x 300
(``benchmarks/decode_step.py``, ``benchmarks/RESULTS.md``). Here each layer keeps a buffer with
``reserve`` spare positions and appends by writing into it; attention reads a view of the filled
part. Dropping finished rows or repeating rows for ``n`` samples indexes the whole buffer, so the
spare room survives. The values seen by attention are the same as ``DynamicCache``'s.
"""

from __future__ import annotations

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


class PreallocatedLayer(DynamicLayer):
    """One layer's keys and values in a buffer with spare positions (``[batch, heads, capacity, dim]``)."""

    def __init__(self, reserve: int = 128):
        super().__init__()
        if reserve < 1:
            raise ValueError(f"reserve = {reserve!r} is invalid: must be at least 1 position")
        self.reserve = reserve
        self.key_buffer: torch.Tensor | None = None
        self.value_buffer: torch.Tensor | None = None
        self.length = 0

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        if self.key_buffer is None or end > self.key_buffer.shape[-2]:
            self._grow(end + self.reserve, key_states, value_states)
        self.key_buffer[:, :, self.length : end].copy_(key_states)
        self.value_buffer[:, :, self.length : end].copy_(value_states)
        self.length = end
        self._expose()
        return self.keys, self.values

    def _grow(self, capacity: int, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        def bigger(buffer, like):
            shape = (*like.shape[:2], capacity, like.shape[-1])
            out = like.new_empty(shape)
            if buffer is not None and self.length:
                out[:, :, : self.length].copy_(buffer[:, :, : self.length])
            return out

        self.key_buffer = bigger(self.key_buffer, key_states)
        self.value_buffer = bigger(self.value_buffer, value_states)

    def _expose(self) -> None:
        self.keys = self.key_buffer[:, :, : self.length]
        self.values = self.value_buffer[:, :, : self.length]

    def get_seq_length(self) -> int:
        return self.length

    def reset(self) -> None:
        self.key_buffer = self.value_buffer = None
        self.length = 0
        super().reset()

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove > 0:
            raise ValueError(f"crop({tokens_to_remove}): pass a negative number of positions to remove")
        if tokens_to_remove and self.is_initialized:
            self.length = max(0, self.length + tokens_to_remove)
            self._expose()

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self.length:
            self.key_buffer = self.key_buffer.repeat_interleave(repeats, dim=0)
            self.value_buffer = self.value_buffer.repeat_interleave(repeats, dim=0)
            self._expose()

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.length:
            self.key_buffer = self.key_buffer[indices]
            self.value_buffer = self.value_buffer[indices]
            self._expose()

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        self.batch_select_indices(beam_idx.to(self.key_buffer.device) if self.length else beam_idx)

    def append_rows(self, other: "PreallocatedLayer", length: int) -> None:
        """Add ``other``'s rows after ours, both left-padded (with zeros) to ``length`` positions."""
        def joined(mine, theirs):
            rows = mine.shape[0] + theirs.shape[0]
            out = mine.new_zeros((rows, mine.shape[1], length + self.reserve, mine.shape[-1]))
            out[: mine.shape[0], :, length - self.length : length] = mine[:, :, : self.length]
            out[mine.shape[0] :, :, length - other.length : length] = theirs[:, :, : other.length]
            return out

        self.key_buffer = joined(self.key_buffer, other.key_buffer)
        self.value_buffer = joined(self.value_buffer, other.value_buffer)
        self.length = length
        self._expose()

    def drop_left(self, positions: int) -> None:
        """Forget the first ``positions`` positions of every row (a view: nothing is copied)."""
        self.key_buffer = self.key_buffer[:, :, positions:]
        self.value_buffer = self.value_buffer[:, :, positions:]
        self.length -= positions
        self._expose()


def _layers(cache) -> list[PreallocatedLayer]:
    if not all(isinstance(layer, PreallocatedLayer) for layer in cache.layers):
        raise TypeError("rows can be added or trimmed only in a cache made by preallocated_cache")
    return cache.layers


def add_rows(cache, mask: torch.Tensor, new_cache, new_mask: torch.Tensor) -> torch.Tensor:
    """Append the rows of ``new_cache`` (attention mask ``new_mask``) to ``cache`` (mask ``mask``).

    The shorter side is left-padded with masked positions, as a batch of left-padded prompts is.
    Returns the joined attention mask.
    """
    length = max(mask.shape[1], new_mask.shape[1])
    for layer, new in zip(_layers(cache), _layers(new_cache)):
        layer.append_rows(new, length)
    pad = lambda m: torch.cat([m.new_zeros(m.shape[0], length - m.shape[1]), m], dim=1)  # noqa: E731
    return torch.cat([pad(mask), pad(new_mask)], dim=0)


def trim_padding(cache, mask: torch.Tensor, least: int = 32) -> torch.Tensor:
    """Drop leading positions that are padding in every row (once there are at least ``least``).

    Rows that joined a long-running batch were left-padded to its length; once the rows that
    needed those positions have left, attention need not read them. Returns the trimmed mask.
    """
    lead = int(mask.any(0).int().argmax()) if mask.any() else 0
    if lead < least:
        return mask
    for layer in _layers(cache):
        layer.drop_left(lead)
    return mask[:, lead:]


def preallocated_cache(config, reserve: int = 128) -> DynamicCache:
    """A ``DynamicCache`` for ``config`` whose full-attention layers append in place.

    Layers of other kinds (sliding window, linear attention) keep their own implementation.
    """
    cache = DynamicCache(config=config)
    cache.layers = [PreallocatedLayer(reserve) if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache

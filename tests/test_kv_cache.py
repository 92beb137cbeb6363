"""The preallocated KV cache holds exactly what DynamicCache holds, through growth, row drops and repeats."""

import pytest
import torch
from transformers import DynamicCache, Qwen2Config

from generation.kv_cache import PreallocatedLayer, preallocated_cache

CONFIG = Qwen2Config(vocab_size=300, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)


def test_layer_matches_dynamic_cache_through_growth_repeat_select_and_crop():
    gen = torch.Generator().manual_seed(0)
    ours, theirs = preallocated_cache(CONFIG, reserve=2), DynamicCache()

    def both(method, *args):
        for cache in (ours, theirs):
            getattr(cache, method)(*args)

    def step(batch, positions):
        k, v = torch.randn(batch, 2, positions, 8, generator=gen), torch.randn(batch, 2, positions, 8, generator=gen)
        a, b = ours.update(k, v, 0), theirs.update(k.clone(), v.clone(), 0)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])

    step(3, 5)                    # prefill: 5 positions, 2 spare
    both("batch_repeat_interleave", 2)
    for _ in range(4):            # the third step outgrows the buffer
        step(6, 1)
    both("batch_select_indices", torch.tensor([0, 2, 5]))
    step(3, 1)
    both("crop", -2)
    step(3, 1)
    assert ours.get_seq_length(0) == theirs.get_seq_length(0) == 9
    layer = ours.layers[0]
    assert isinstance(layer, PreallocatedLayer) and layer.key_buffer.shape[2] > layer.length  # room to spare


def test_appending_writes_in_place_without_reallocating():
    layer = PreallocatedLayer(reserve=16)
    layer.update(torch.zeros(2, 1, 4, 8), torch.zeros(2, 1, 4, 8))
    buffer = layer.key_buffer
    for _ in range(16):
        layer.update(torch.ones(2, 1, 1, 8), torch.ones(2, 1, 1, 8))
    assert layer.key_buffer is buffer and layer.keys.data_ptr() == buffer.data_ptr()
    assert layer.keys.shape == (2, 1, 20, 8) and layer.keys[:, :, 4:].eq(1).all()


def test_reserve_must_be_positive():
    with pytest.raises(ValueError, match="reserve"):
        PreallocatedLayer(reserve=0)


def test_added_rows_are_left_padded_to_the_longer_side_whichever_it_is():
    from generation.kv_cache import add_rows, trim_padding

    gen = torch.Generator().manual_seed(1)

    def cache_of(rows, positions):
        cache = preallocated_cache(CONFIG, reserve=3)
        k, v = torch.randn(rows, 2, positions, 8, generator=gen), torch.randn(rows, 2, positions, 8, generator=gen)
        for layer in range(2):
            cache.update(k, v, layer)
        return cache, k, torch.ones(rows, positions, dtype=torch.long)

    for first_len, second_len in ((6, 3), (3, 6)):
        running, k1, m1 = cache_of(2, first_len)
        joining, k2, m2 = cache_of(1, second_len)
        mask = add_rows(running, m1, joining, m2)
        length = max(first_len, second_len)
        expected = torch.zeros(3, 2, length, 8)
        expected[:2, :, length - first_len :] = k1
        expected[2:, :, length - second_len :] = k2
        assert torch.equal(running.layers[1].keys, expected)
        assert mask.tolist() == [[0] * (length - first_len) + [1] * first_len] * 2 + [
            [0] * (length - second_len) + [1] * second_len]
        running.update(torch.ones(3, 2, 1, 8), torch.ones(3, 2, 1, 8), 0)  # appending still works after a join
        assert running.get_seq_length(0) == length + 1

    # once the long rows leave, the positions that are padding in every row are dropped
    running, _, m1 = cache_of(1, 40)
    joining, k2, m2 = cache_of(1, 4)
    mask = add_rows(running, m1, joining, m2)
    running.batch_select_indices(torch.tensor([1]))
    mask = trim_padding(running, mask[1:])
    assert mask.tolist() == [[1, 1, 1, 1]] and torch.equal(running.layers[0].keys, k2)

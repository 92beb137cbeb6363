"""WordDropout: the LoRA-input dropout drawn from 64-bit words (four elements per draw)."""

import pytest
import torch
from torch import nn

from lightning_modules.dropout import WordDropout, keep_mask, quantised, use_word_dropout
from lightning_modules.policy import PolicyModule


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_each_of_the_four_fields_drops_at_the_quantised_rate(p):
    torch.manual_seed(0)
    keep = keep_mask((1000, 1000), p)
    assert keep.dtype == torch.bool and keep.shape == (1000, 1000)
    dropped = (~keep).view(-1, 4).float().mean(0)  # per field of the 64-bit word
    sigma = (quantised(p) * (1 - quantised(p)) / 250_000) ** 0.5
    assert torch.all((dropped - quantised(p)).abs() < 5 * sigma), dropped
    assert not torch.equal(keep, keep_mask((1000, 1000), p))  # a fresh mask per call


def test_odd_sizes_and_a_seeded_generator_repeat():
    torch.manual_seed(3)
    a = keep_mask((7, 3), 0.5)
    torch.manual_seed(3)
    assert torch.equal(a, keep_mask((7, 3), 0.5)) and a.shape == (7, 3)


def test_word_dropout_keeps_the_expectation_and_passes_gradients_where_kept():
    layer = WordDropout(0.25)
    x = torch.ones(400, 500, requires_grad=True)
    layer.eval()
    assert layer(x) is x
    layer.train()
    torch.manual_seed(1)
    y = layer(x)
    scale = 1 / (1 - quantised(0.25))
    kept = y != 0
    assert torch.allclose(y[kept], torch.full_like(y[kept], scale))
    assert abs(float(y.mean()) - 1.0) < 0.01
    y.sum().backward()
    assert torch.equal(x.grad != 0, kept) and torch.allclose(x.grad[kept], torch.full_like(x.grad[kept], scale))
    with pytest.raises(ValueError, match="dropout probability"):
        WordDropout(1.0)


def test_the_policy_uses_word_dropout_on_every_lora_branch():
    policy = PolicyModule(lora_rank=4, lora_dropout=0.1)
    policy.configure_model()
    dropouts = [d for m in policy.model.modules() if isinstance(getattr(m, "lora_dropout", None), nn.ModuleDict)
                for d in m.lora_dropout.values()]
    assert dropouts and all(isinstance(d, WordDropout) and d.p == 0.1 for d in dropouts)
    assert use_word_dropout(policy.model) == 0  # already swapped

    plain = PolicyModule(lora_rank=4, lora_dropout=0.0)
    plain.configure_model()  # p = 0: PEFT puts no dropout there, nothing to swap
    assert not any(isinstance(m, WordDropout) for m in plain.model.modules())

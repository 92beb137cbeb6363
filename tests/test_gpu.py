"""GPU-only checks: skipped cleanly on machines without CUDA (like CI here)."""

import pytest
import torch

from lightning_modules.merging import merged_adapter
from lightning_modules.policy import PolicyModule
from generation.sampling import sample_replies

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_sampling_and_a_training_step_on_cuda():
    policy = PolicyModule(lora_rank=4)
    policy.configure_model()
    policy.to("cuda")
    prompts = [policy.render("abc"), policy.render("a longer prompt " * 3)]
    with merged_adapter(policy.model):
        replies = sample_replies(policy.model, policy.tokenizer, prompts, n=3, temperature=1.0, max_new_tokens=8)
    assert len(replies) == 2 and all(len(r) == 3 for r in replies)
    ids = torch.randint(0, 250, (2, 16), device="cuda")
    loss = policy.training_step({"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}, 0)
    loss.backward()
    assert torch.isfinite(loss)
    assert any(p.grad is not None for n, p in policy.named_parameters() if "lora_" in n)

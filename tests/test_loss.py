"""The answer-only loss equals the model's own causal-LM loss, in value and in gradients."""

import torch

from lightning_modules.loss import answer_loss
from lightning_modules.policy import PolicyModule


def test_answer_loss_matches_full_loss_and_its_gradients():
    policy = PolicyModule(lora_rank=4, lora_dropout=0.0)
    policy.configure_model()
    with torch.no_grad():
        for name, p in policy.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)  # a non-zero adapter, so gradients reach lora_A too
    model = policy.model
    torch.manual_seed(0)
    ids = torch.randint(3, 200, (3, 20))
    mask = torch.ones_like(ids)
    mask[1, :5] = 0  # left padding
    labels = ids.clone()
    labels[:, :12] = -100  # prompt positions
    labels[2, 15:] = -100
    labels[mask == 0] = -100
    trainable = [p for p in model.parameters() if p.requires_grad]

    full = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    full_grads = torch.autograd.grad(full, trainable)
    ours = answer_loss(model, ids, mask, labels)
    our_grads = torch.autograd.grad(ours, trainable)
    assert torch.allclose(ours, full, rtol=1e-5, atol=1e-6)
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(our_grads, full_grads))
    assert any(g.abs().sum() > 0 for g in our_grads)

"""One optimizer step changes the adapter and nothing else."""

import torch

from lightning_modules.policy import PolicyModule


def test_step_changes_adapter_not_base():
    policy = PolicyModule(lora_rank=4, learning_rate=1e-2)
    policy.configure_model()
    policy.configure_model()  # idempotent: no double wrap
    before = {n: p.detach().clone() for n, p in policy.named_parameters()}
    ids = torch.randint(0, 250, (2, 12))
    labels = ids.clone()
    labels[:, :6] = -100
    loss = policy.training_step({"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}, 0)
    opt = policy.configure_optimizers()
    loss.backward()
    opt.step()
    after = dict(policy.named_parameters())
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    trainable = {n for n, p in after.items() if p.requires_grad}
    assert changed and changed <= trainable
    assert all("lora_" in n for n in trainable)
    assert any("lora_B" in n for n in changed)


def test_reset_adapter_restores_base_behaviour():
    policy = PolicyModule(lora_rank=4)
    policy.configure_model()
    ids = torch.randint(0, 250, (1, 8))
    with torch.no_grad():
        base = policy.model(input_ids=ids).logits
        for n, p in policy.named_parameters():
            if "lora_B" in n:
                p.add_(0.5)
        assert not torch.allclose(policy.model(input_ids=ids).logits, base)
        policy.reset_adapter()
        assert torch.allclose(policy.model(input_ids=ids).logits, base)


def test_training_epochs_start_with_every_module_in_train_mode():
    from lightning_modules.policy import PolicyModule

    policy = PolicyModule(lora_rank=2, lora_dropout=0.1)
    policy.configure_model()
    policy.model.eval()  # as from_pretrained leaves a freshly loaded (e.g. resumed) model
    policy.on_train_epoch_start()
    assert all(m.training for m in policy.model.modules())

"""The KL-to-base term: its value, its gradients, and that it keeps the policy near the base model."""

import pytest
import torch
import torch.nn.functional as F

from lightning_modules.loss import answer_loss, answer_loss_with_kl
from lightning_modules.policy import PolicyModule
from settings.errors import ConfigError


def _batch(seed=0):
    torch.manual_seed(seed)
    ids = torch.randint(3, 200, (3, 20))
    mask = torch.ones_like(ids)
    mask[1, :5] = 0  # left padding
    labels = ids.clone()
    labels[:, :12] = -100  # prompt positions
    labels[mask == 0] = -100
    return ids, mask, labels


def _policy(kl_to_base=0.0, lr=1e-2):
    policy = PolicyModule(lora_rank=4, lora_dropout=0.0, learning_rate=lr, kl_to_base=kl_to_base)
    policy.configure_model()
    return policy


def _perturb(policy, scale=0.05):
    with torch.no_grad():
        torch.manual_seed(1)
        for name, p in policy.named_parameters():
            if "lora_B" in name:
                p.normal_(0, scale)


def test_kl_is_zero_for_a_fresh_adapter_and_matches_a_direct_computation():
    policy = _policy()
    ids, mask, labels = _batch()
    ce, kl = answer_loss_with_kl(policy.model, ids, mask, labels)
    assert abs(float(kl.detach())) < 1e-6  # lora_B = 0: the policy is the base model
    assert torch.allclose(ce, answer_loss(policy.model, ids, mask, labels))

    _perturb(policy)
    ce, kl = answer_loss_with_kl(policy.model, ids, mask, labels)
    keep = labels[:, 1:] != -100
    with torch.no_grad():
        with policy.model.disable_adapter():
            base = policy.model(input_ids=ids, attention_mask=mask).logits[:, :-1][keep].float()
        ours = policy.model(input_ids=ids, attention_mask=mask).logits[:, :-1][keep].float()
    p, logp, logq = F.softmax(base, -1), F.log_softmax(base, -1), F.log_softmax(ours, -1)
    direct = (p * (logp - logq)).sum(-1).mean()
    assert float(kl) > 1e-4
    assert torch.allclose(kl, direct, rtol=1e-4, atol=1e-7)
    assert torch.allclose(ce, answer_loss(policy.model, ids, mask, labels))


def test_kl_gradients_reach_the_adapter_only_and_base_stays_intact():
    policy = _policy()
    _perturb(policy)
    ids, mask, labels = _batch()
    trainable = [p for p in policy.model.parameters() if p.requires_grad]
    _, kl = answer_loss_with_kl(policy.model, ids, mask, labels)
    grads = torch.autograd.grad(kl, trainable)
    assert any(g.abs().sum() > 0 for g in grads)
    # disable_adapter is a context: afterwards the adapter is active again
    with torch.no_grad():
        on = policy.model(input_ids=ids).logits
        with policy.model.disable_adapter():
            off = policy.model(input_ids=ids).logits
    assert not torch.allclose(on, off)


def _train(policy, steps=40):
    opt = policy.configure_optimizers()
    ids, mask, labels = _batch()
    for _ in range(steps):
        out = policy.training_step({"input_ids": ids, "attention_mask": mask, "labels": labels}, 0)
        loss = out["loss"] if isinstance(out, dict) else out
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return answer_loss_with_kl(policy.model, ids, mask, labels)


def test_kl_weight_keeps_the_trained_policy_nearer_the_base_model():
    ce_start = float(answer_loss(_policy().model, *_batch()))
    ce_plain, kl_plain = _train(_policy(kl_to_base=0.0))
    # the tiny random model's KL is ~0.03 nats against a cross-entropy of ~5: a large weight
    ce_held, kl_held = _train(_policy(kl_to_base=50.0))
    assert ce_plain < ce_start and ce_held < ce_start  # both learn the answers
    assert float(kl_held) < 0.5 * float(kl_plain)       # the weighted one stays nearer the base
    assert float(ce_held) > float(ce_plain)             # at a price in cross-entropy


def test_training_step_reports_cross_entropy_and_kl_apart():
    policy = _policy(kl_to_base=2.0)
    _perturb(policy)
    ids, mask, labels = _batch()
    out = policy.training_step({"input_ids": ids, "attention_mask": mask, "labels": labels}, 0)
    assert set(out) == {"loss", "ce", "kl"}
    assert torch.allclose(out["loss"].detach(), out["ce"] + 2.0 * out["kl"])


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_bad_kl_weight_is_refused_by_name(bad):
    with pytest.raises(ConfigError, match="model.kl_to_base"):
        PolicyModule(kl_to_base=bad)


def test_smoke_run_with_kl_writes_the_kl_per_iteration(tmp_path):
    from tests.loop_helpers import metrics_rows, run_smoke

    run_smoke(str(tmp_path), "--trainer.max_epochs=2", "--model.kl_to_base=1.0")
    rows = metrics_rows(str(tmp_path))
    assert [r["iteration"] for r in rows] == [0, 1, 2]
    trained = [r for r in rows if r.get("train/steps")]
    assert trained and all(r["train/kl_mean"] >= 0 and r["train/loss_mean"] > 0 for r in trained)
    assert "train/kl_mean" not in rows[0]  # iteration 0 trains nothing

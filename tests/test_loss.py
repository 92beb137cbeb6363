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


def test_head_losses_match_the_logits_path_in_values_and_gradients_across_blocks():
    """The fused head (a block of positions at a time) against full fp32 logits and F's losses."""
    import torch.nn.functional as F

    from lightning_modules.loss import HeadLosses

    torch.manual_seed(0)
    n, d, vocab = 11, 8, 50
    weight = torch.randn(vocab, d)
    hidden = torch.randn(n, d, requires_grad=True)
    base_hidden = torch.randn(n, d)
    targets = torch.randint(0, vocab, (n,))

    logits = hidden @ weight.t()
    base_logp = F.log_softmax(base_hidden @ weight.t(), -1)
    ce_ref = F.cross_entropy(logits, targets)
    kl_ref = F.kl_div(F.log_softmax(logits, -1), base_logp, log_target=True, reduction="batchmean")
    grad_ce_ref = torch.autograd.grad(ce_ref, hidden, retain_graph=True)[0]
    grad_ref = torch.autograd.grad(ce_ref + 0.3 * kl_ref, hidden)[0]
    for block in (4, 11, 64):  # ragged last block, one block, block larger than n
        ce, kl = HeadLosses.apply(hidden, weight, targets, base_hidden, block)
        grad = torch.autograd.grad(ce + 0.3 * kl, hidden)[0]
        assert torch.allclose(ce, ce_ref, rtol=1e-5) and torch.allclose(kl, kl_ref, rtol=1e-4, atol=1e-6)
        assert torch.allclose(grad, grad_ref, rtol=1e-4, atol=1e-6)
    ce_only, kl_zero = HeadLosses.apply(hidden, weight, targets, None, 4)
    assert torch.allclose(ce_only, ce_ref, rtol=1e-5) and float(kl_zero) == 0.0
    assert torch.allclose(torch.autograd.grad(ce_only, hidden)[0], grad_ce_ref, rtol=1e-4, atol=1e-6)


def test_the_policy_model_takes_the_fused_head_path():
    from generation.decoding import base_of
    from lightning_modules.loss import _fused_head

    policy = PolicyModule(lora_rank=4)
    policy.configure_model()
    assert _fused_head(base_of(policy.model).get_output_embeddings())


def test_a_bf16_base_runs_the_lora_branches_in_bf16_and_keeps_fp32_adapter_gradients():
    from peft.tuners.lora import LoraLayer

    from lightning_modules.loss import lora_compute_in_base_dtype

    policy = PolicyModule(lora_rank=4, lora_dropout=0.0)
    policy.configure_model()
    model = policy.model
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    torch.manual_seed(0)
    ids = torch.randint(3, 200, (2, 16))
    mask = torch.ones_like(ids)
    labels = ids.clone()
    labels[:, :8] = -100
    reference = answer_loss(model, ids, mask, labels)  # fp32 base: the context changes nothing
    for p in model.parameters():
        if not p.requires_grad:
            p.data = p.data.to(torch.bfloat16)
    seen = []
    layer = next(m for m in model.modules() if isinstance(m, LoraLayer))
    hook = layer.lora_A["default"].register_forward_hook(lambda m, args, out: seen.append((args[0].dtype, out.dtype)))
    loss = answer_loss(model, ids, mask, labels)
    hook.remove()
    assert seen == [(torch.bfloat16, torch.bfloat16)]  # no fp32 copy of the input, a bf16 matmul
    assert abs(float(loss) - float(reference)) < 0.05 * float(reference)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)
    assert layer.cast_input_dtype_enabled  # PEFT's casting is back on outside the loss
    with lora_compute_in_base_dtype(model):
        assert not layer.cast_input_dtype_enabled

"""Causal-LM loss on answer tokens only, with the output layer applied only where it counts.

``model(labels=...)`` projects every position onto the vocabulary (151,936 columns for Qwen2.5)
and then ignores the prompt positions' logits. Here the decoder runs over the whole sequence but
the output layer only over positions whose next token is an answer token, which in our training
data (a ~250-token prompt, a ~150-token answer) skips most of the output layer's work, in the
forward and the backward pass. Same value and gradients as the full computation.

``answer_loss_with_kl`` adds a pull toward the base model (the adapter switched off) on the same
answer positions: KL(base || policy) of the next-token distributions, so the policy learns its
verified answers without drifting from what the base model does everywhere else (forgetting).

Where the output layer is a plain frozen ``nn.Linear`` (Qwen2.5's tied head), the head, the
softmax, both losses and the gradient with respect to the hidden states are computed together,
a block of positions at a time (``HeadLosses``): the ``positions x 151,936`` fp32 logits, their
log-softmax and their gradients are never held whole. Held whole, they were four fresh ~0.6 GB
buffers per step at 1,000 answer positions, and on a 2-core Xeon (AMX, bf16, 2026-12-07) filling
and freeing them (page faults) cost more than all the model's matmuls of the step.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

import torch
import torch.nn.functional as F

from generation.decoding import base_of
from lightning_modules.prompting import IGNORE_INDEX


@contextmanager
def lora_compute_in_base_dtype(model):
    """Run the LoRA branches in the base model's dtype when that is bf16 (autocast), else as is.

    PEFT keeps the adapter's weights in fp32 and casts every adapted layer's input to fp32 before
    the LoRA matmuls, so a bf16 model's training step spends its time on fp32 copies, fp32 dropout
    and small fp32 matmuls of [positions, 4864] activations. Under bf16 autocast with that cast
    switched off, the branches run in bf16 like the base layers; the adapter's weights stay fp32
    and get fp32 gradients (the usual bf16 mixed precision). fp32 and fp16 models are left alone.
    """
    weight = next((p for p in model.parameters() if not p.requires_grad), None)
    if weight is None or weight.dtype != torch.bfloat16 or not hasattr(model, "peft_config"):
        yield
        return
    from peft.helpers import disable_input_dtype_casting

    with ExitStack() as stack:
        stack.enter_context(torch.autocast(device_type=weight.device.type, dtype=torch.bfloat16))
        stack.enter_context(disable_input_dtype_casting(model))
        yield


def _decoder_and_head(model):
    base = base_of(model)
    decoder = base.get_decoder() if hasattr(base, "get_decoder") else None
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    return decoder, head


def _answer_hidden(decoder, input_ids, attention_mask, keep) -> torch.Tensor:
    """Final hidden states at the positions ``keep`` marks (those whose next token is an answer token)."""
    hidden = decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
    return hidden[:, :-1][keep]


def _answer_logits(decoder, head, input_ids, attention_mask, keep) -> torch.Tensor:
    """fp32 logits at the positions ``keep`` marks."""
    return head(_answer_hidden(decoder, input_ids, attention_mask, keep)).float()


def _fused_head(head) -> bool:
    """Whether ``HeadLosses`` can stand in for ``head``: a bias-free linear layer that is not trained."""
    return type(head) is torch.nn.Linear and head.bias is None and not head.weight.requires_grad


def _log_softmax_block(hidden, weight, logits, log_probs, probs) -> None:
    """Fill ``log_probs`` and ``probs`` (fp32) with the log-softmax and softmax of ``hidden @ weight.T``,
    computed into ``logits`` (the model's dtype, as the head computes it); all buffers are reused."""
    log_probs.copy_(torch.mm(hidden, weight.t(), out=logits))
    log_probs.sub_(log_probs.amax(-1, keepdim=True))
    torch.exp(log_probs, out=probs)
    norm = probs.sum(-1, keepdim=True)
    probs.div_(norm)
    log_probs.sub_(norm.log())


class HeadLosses(torch.autograd.Function):
    """(CE, KL(base || policy)) from hidden states through a frozen output layer, a block at a time.

    ``hidden`` [n, d] are the policy's final hidden states at the answer positions, ``weight``
    [V, d] the output layer, ``targets`` [n] the next tokens, ``base_hidden`` [n, d] the base
    model's hidden states (or None: no KL, returned as 0). Both are means over the n positions,
    as ``F.cross_entropy(reduction="mean")`` and ``F.kl_div(reduction="batchmean")`` on the fp32
    logits. The gradients with respect to ``hidden`` of both losses are computed in the forward
    pass, block by block (softmax - one-hot, and softmax - base softmax, times the weight), and
    the backward only scales them; the weight gets no gradient.
    """

    @staticmethod
    def forward(ctx, hidden, weight, targets, base_hidden, block):
        with torch.autocast(device_type=hidden.device.type, enabled=False):  # its own dtypes (and out=)
            return HeadLosses._forward(ctx, hidden, weight, targets, base_hidden, block)

    @staticmethod
    def _forward(ctx, hidden, weight, targets, base_hidden, block):
        n, vocab = hidden.shape[0], weight.shape[0]
        want_grad = ctx.needs_input_grad[0]
        rows = min(block, max(n, 1))
        logits = hidden.new_empty(rows, vocab)  # in the model's dtype, as the head computes it
        z = torch.empty(rows, vocab, dtype=torch.float32, device=hidden.device)
        p = torch.empty_like(z)
        zb = torch.empty_like(z) if base_hidden is not None else None
        pb = torch.empty_like(z) if base_hidden is not None else None
        grad_ce = torch.empty_like(hidden) if want_grad else None
        grad_kl = torch.empty_like(hidden) if want_grad and base_hidden is not None else None
        ce = torch.zeros((), dtype=torch.float64, device=hidden.device)
        kl = torch.zeros((), dtype=torch.float64, device=hidden.device)
        for start in range(0, n, rows):
            end = min(n, start + rows)
            c = end - start
            zc, pc = z[:c], p[:c]
            _log_softmax_block(hidden[start:end], weight, logits[:c], zc, pc)
            t = targets[start:end, None]
            ce -= zc.gather(1, t).sum(dtype=torch.float64)
            if base_hidden is not None:
                zbc, pbc = zb[:c], pb[:c]
                _log_softmax_block(base_hidden[start:end], weight, logits[:c], zbc, pbc)
                zbc.sub_(zc)  # log p_base - log p
                kl += zbc.mul_(pbc).sum(dtype=torch.float64)  # (zbc is not read again)
                if want_grad:  # d KL / d logits = p - p_base
                    torch.sub(pc, pbc, out=pbc)
                    torch.mm(logits[:c].copy_(pbc), weight, out=grad_kl[start:end])
            if want_grad:  # d CE / d logits = p - one-hot
                pc.scatter_add_(1, t, pc.new_full(t.shape, -1.0))
                torch.mm(logits[:c].copy_(pc), weight, out=grad_ce[start:end])
        scale = 1.0 / max(n, 1)
        ctx.save_for_backward(grad_ce, grad_kl)
        ctx.scale = scale
        return (ce * scale).float(), (kl * scale).float()

    @staticmethod
    def backward(ctx, d_ce, d_kl):
        grad_ce, grad_kl = ctx.saved_tensors
        if grad_ce is None:
            return None, None, None, None, None
        grad = grad_ce * (d_ce * ctx.scale).to(grad_ce.dtype)
        if grad_kl is not None:
            grad = grad + grad_kl * (d_kl * ctx.scale).to(grad_kl.dtype)
        return grad, None, None, None, None


HEAD_BLOCK = 256  # positions per block in HeadLosses (a 151,936-column fp32 block is 156 MB)


def answer_loss(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over positions with ``labels != -100`` (as ``model(labels=...)``)."""
    decoder, head = _decoder_and_head(model)
    if decoder is None or head is None:  # not a decoder + output layer model: the model's own loss
        return model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
    with lora_compute_in_base_dtype(model):
        return _answer_loss(model, decoder, head, input_ids, attention_mask, labels)


def _answer_loss(model, decoder, head, input_ids, attention_mask, labels):
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX
    if _fused_head(head):
        hidden = _answer_hidden(decoder, input_ids, attention_mask, keep)
        return HeadLosses.apply(hidden, head.weight, targets[keep], None, HEAD_BLOCK)[0]
    logits = _answer_logits(decoder, head, input_ids, attention_mask, keep)
    return F.cross_entropy(logits, targets[keep], reduction="mean")


def answer_loss_with_kl(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                        labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(cross-entropy, KL(base || policy)), both means over the answer positions.

    ``model`` is a PEFT model: the base model's distribution comes from the same weights with
    the adapter disabled, without gradients (one extra forward pass, no second copy of the
    model). The KL is over the whole vocabulary: sum_v p_base(v) (log p_base(v) - log p(v)).
    """
    decoder, head = _decoder_and_head(model)
    if decoder is None or head is None or not hasattr(model, "disable_adapter"):
        raise ValueError("the KL-to-base loss needs a PEFT decoder model with an output layer")
    with lora_compute_in_base_dtype(model):
        return _answer_loss_with_kl(model, decoder, head, input_ids, attention_mask, labels)


def _answer_loss_with_kl(model, decoder, head, input_ids, attention_mask, labels):
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX
    if _fused_head(head):
        with torch.no_grad(), model.disable_adapter():
            base_hidden = _answer_hidden(decoder, input_ids, attention_mask, keep)
        hidden = _answer_hidden(decoder, input_ids, attention_mask, keep)
        return HeadLosses.apply(hidden, head.weight, targets[keep], base_hidden, HEAD_BLOCK)
    with torch.no_grad(), model.disable_adapter():
        base_logp = F.log_softmax(_answer_logits(decoder, head, input_ids, attention_mask, keep), dim=-1)
    logits = _answer_logits(decoder, head, input_ids, attention_mask, keep)
    ce = F.cross_entropy(logits, targets[keep], reduction="mean")
    kl = F.kl_div(F.log_softmax(logits, dim=-1), base_logp, log_target=True, reduction="batchmean")
    return ce, kl

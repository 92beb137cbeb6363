"""The sampler: shared-prefix sampling equals plain generation; stopping at the closed fence."""

import torch

from lightning_modules.policy import PolicyModule
from lightning_modules.sampling import FenceStop, _generate_chunk, sample_replies


def tiny_policy():
    policy = PolicyModule(lora_rank=2)
    policy.configure_model()
    with torch.no_grad():
        for name, p in policy.named_parameters():
            if "lora_B" in name:  # a non-zero adapter, so sampling goes through LoRA for real
                p.normal_(0, 0.05)
        # peaked logits: a random model's near-ties would let rounding noise flip greedy choices
        policy.model.get_base_model().lm_head.weight.mul_(30)
    policy.model.eval()  # no LoRA dropout: forward passes must be comparable
    return policy


def test_shared_prefill_matches_plain_generate_with_left_padding():
    policy = tiny_policy()
    prompts = [policy.render("short"), policy.render("a much longer prompt " * 5)]
    shared = _generate_chunk(policy.model, policy.tokenizer, prompts, 3, 0.0, 1.0, 12, False)
    plain = sample_replies(policy.model, policy.tokenizer, prompts, n=1, max_new_tokens=12, stop_at_fence=False)
    assert [s[0] for s in shared] == [p[0] for p in plain]
    assert all(len(set(s)) == 1 for s in shared)  # greedy: all n copies identical


def test_sampling_is_deterministic_for_a_seed_and_leaves_rng_alone():
    policy = tiny_policy()
    prompts = [policy.render("x"), policy.render("y")]
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = sample_replies(policy.model, policy.tokenizer, prompts, n=3, temperature=1.0, max_new_tokens=8, seed=7)
    after = torch.rand(1)
    b = sample_replies(policy.model, policy.tokenizer, prompts, n=3, temperature=1.0, max_new_tokens=8, seed=7)
    assert a == b and len(a) == 2 and all(len(r) == 3 for r in a)
    assert torch.equal(before, after)  # the caller's random stream is untouched


def test_fence_stop_marks_rows_done_after_closing_fence():
    policy = tiny_policy()
    tok = policy.tokenizer
    stop = FenceStop(tok, prompt_length=0)
    text = "Sure:\n```python\ndef f():\n    return 1\n```\nmore"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    done_at = None
    for i in range(1, len(ids) + 1):
        done = stop(torch.tensor([ids[:i], ids[:i]]), None)
        if bool(done[0]) and done_at is None:
            done_at = i
    assert tok.decode(ids[:done_at]).endswith("```") and tok.decode(ids[:done_at]).count("```") == 2


def test_merged_sampling_matches_unmerged_and_restores_base_exactly():
    from lightning_modules.merging import merged_adapter

    policy = tiny_policy()
    prompts = [policy.render("abc"), policy.render("a longer prompt " * 3)]
    base = {n: p.detach().clone() for n, p in policy.named_parameters() if "base_layer" in n}
    plain = sample_replies(policy.model, policy.tokenizer, prompts, n=1, max_new_tokens=10, stop_at_fence=False)
    for _ in range(3):
        with merged_adapter(policy.model):
            merged = sample_replies(policy.model, policy.tokenizer, prompts, n=1, max_new_tokens=10,
                                    stop_at_fence=False)
        assert merged == plain
    after = dict(policy.named_parameters())
    assert all(torch.equal(base[n], after[n]) for n in base)  # no drift, bit for bit

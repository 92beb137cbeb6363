"""The sampler: shared-prefix sampling equals plain generation; stopping at the closed fence."""

import pytest
import torch

from lightning_modules.policy import PolicyModule
from generation.sampling import FenceStop, _generate_chunk, sample_replies


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


def test_decode_loop_matches_generate_greedy_with_padding_and_shared_prompts():
    policy = tiny_policy()
    prompts = [policy.render("short"), policy.render("a much longer prompt " * 5), policy.render("mid size")]
    args = (policy.model, policy.tokenizer, prompts)
    for n in (1, 3):
        ours = sample_replies(*args, n=n, temperature=0.0 if n == 1 else 1e-6, max_new_tokens=12,
                              stop_at_fence=False, batch_size=16)
        hf = sample_replies(*args, n=n, temperature=0.0 if n == 1 else 1e-6, max_new_tokens=12,
                            stop_at_fence=False, batch_size=16, decoder="generate")
        assert ours == hf and all(len(r) == n for r in ours)


def test_finished_rows_leave_the_batch_and_stop_exactly_at_eos():
    policy = tiny_policy()
    tok, model = policy.tokenizer, policy.model
    prompts = [policy.render("first"), policy.render("second prompt, longer " * 3)]
    enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**enc, do_sample=False, max_new_tokens=10, pad_token_id=tok.pad_token_id)
    first = out[0, enc["input_ids"].shape[1]:].tolist()
    at = next(i for i in range(2, 10) if first[i] not in first[:i])
    eos = first[at]  # make this token of the first reply an end-of-sequence token
    gen = model.get_base_model().generation_config
    old_eos = gen.eos_token_id
    batch_rows = []
    hook = model.get_base_model().model.embed_tokens.register_forward_pre_hook(
        lambda module, inputs: batch_rows.append(inputs[0].shape[0]))
    try:
        gen.eos_token_id = [eos]
        ours = sample_replies(model, tok, prompts, n=1, max_new_tokens=10, stop_at_fence=False)
        hook.remove()
        hf = sample_replies(model, tok, prompts, n=1, max_new_tokens=10, stop_at_fence=False, decoder="generate")
    finally:
        gen.eos_token_id = old_eos
        hook.remove()
    assert ours[1] == hf[1]
    assert ours[0][0] == tok.decode(first[:at], skip_special_tokens=True)
    # generate keeps the end token in its text here (a byte token, not a special one); we stop before it
    assert hf[0][0] == tok.decode(first[: at + 1], skip_special_tokens=True)
    assert batch_rows[0] == 2 and batch_rows[-1] == 1  # the finished row stopped costing compute
    assert sum(batch_rows) < 2 * len(batch_rows)


def test_waiting_prompts_join_the_running_batch_and_reply_as_if_alone(monkeypatch):
    import generation.continuous as continuous

    torch.manual_seed(1)  # tiny_policy draws its adapter from the global generator (seed 0: degenerate replies)
    policy = tiny_policy()
    tok, model = policy.tokenizer, policy.model
    prompts = [policy.render("first"), policy.render("second prompt, longer " * 3), policy.render("third one " * 2),
               policy.render("x"), policy.render("fifth and last")]
    replies = []
    for prompt in prompts:
        enc = tok([prompt], return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, do_sample=False, max_new_tokens=12, pad_token_id=tok.pad_token_id)
        replies.append(out[0, enc["input_ids"].shape[1]:].tolist())

    def ends(token):  # where each reply would end if ``token`` ended sequences
        return {r.index(token) if token in r else 12 for r in replies}

    eos = max({t for r in replies for t in r[1:]}, key=lambda t: len(ends(t)))  # replies of many lengths
    assert len(ends(eos)) >= 3
    joins, real_add_rows = [], continuous.add_rows
    monkeypatch.setattr(continuous, "add_rows", lambda *a: joins.append(a[1].shape) or real_add_rows(*a))
    gen = model.get_base_model().generation_config
    old_eos, gen.eos_token_id = gen.eos_token_id, [eos]
    try:
        for n, temperature in ((1, 0.0), (2, 1e-6)):
            common = dict(n=n, temperature=temperature, max_new_tokens=12, stop_at_fence=False)
            alone = [sample_replies(model, tok, [p], **common)[0] for p in prompts]
            joins.clear()
            together = sample_replies(model, tok, prompts, batch_size=2 * n, **common)
            assert together == alone
            assert joins  # rows joined a batch that was still decoding
    finally:
        gen.eos_token_id = old_eos


def test_fence_stop_in_decode_loop_ends_the_reply_at_the_closing_fence():
    from generation.decoding import FenceTracker

    tracker = FenceTracker(1)
    pieces = ["Sure", ":\n``", "`py", "thon\nx = 1\n`", "``", "\nmore"]
    done = [tracker.append(0, p) for p in pieces]
    assert done == [False, False, False, False, True, True]
    assert tracker.texts[0].endswith("```\nmore") and tracker.fences[0] == 2


def test_top_p_filter_matches_transformers_warper():
    from transformers import TopPLogitsWarper

    from generation.decoding import top_p_filter

    torch.manual_seed(0)
    scores = torch.randn(4, 50) * 3
    for p in (0.1, 0.5, 0.95):
        expected = TopPLogitsWarper(top_p=p)(None, scores.clone())
        assert torch.equal(top_p_filter(scores.clone(), p), expected)
    assert torch.equal(top_p_filter(scores, 1.0), scores)


def test_replies_come_back_in_prompt_order_whatever_the_batching():
    policy = tiny_policy()
    prompts = [policy.render("a long prompt " * 6), policy.render("x"), policy.render("medium one " * 2)]
    one_by_one = [sample_replies(policy.model, policy.tokenizer, [p], n=1, max_new_tokens=8,
                                 stop_at_fence=False)[0] for p in prompts]
    together = sample_replies(policy.model, policy.tokenizer, prompts, n=1, max_new_tokens=8, stop_at_fence=False,
                              batch_size=2)
    assert together == one_by_one
    seen = []
    hooked = sample_replies(policy.model, policy.tokenizer, prompts, n=1, max_new_tokens=8, stop_at_fence=False,
                            batch_size=2, on_replies=lambda indices, replies: seen.append((indices, replies)))
    assert hooked == together and len(seen) == 3  # one call per finished prompt
    assert sorted(i for indices, _ in seen for i in indices) == [0, 1, 2]
    assert all(replies == [together[i] for i in indices] for indices, replies in seen)


def test_candidate_nucleus_sampling_draws_from_the_exact_top_p_distribution():
    from generation.decoding import next_tokens, top_p_filter

    torch.manual_seed(0)
    peaked = torch.randn(1, 40) * 4  # its nucleus fits in 8 candidates
    flat = torch.randn(1, 40) * 0.3  # its nucleus does not: the full-vocabulary path
    for logits in (peaked, flat):
        expected = top_p_filter(logits / 0.8, 0.9).softmax(-1)[0]
        draws = next_tokens(logits.repeat(40000, 1), 0.8, 0.9, candidates=8)
        freq = torch.bincount(draws, minlength=40).float() / len(draws)
        assert torch.all(freq[expected == 0] == 0)  # nothing outside the nucleus, ever
        assert torch.allclose(freq, expected, atol=0.01)
    both = torch.cat([peaked, flat]).repeat(3, 1)
    assert next_tokens(both, 0.8, 0.9, candidates=8).shape == (6,)
    assert torch.equal(next_tokens(both, 0.0, 0.9), both.argmax(-1))


def test_prefill_gives_the_output_head_a_contiguous_input():
    """A strided head input makes torch's CPU linear copy the head weight once per row (and, at
    128 prompts, fail and turn oneDNN off for the whole process): prefill must avoid it."""
    import torch

    from generation.decoding import base_of, prefill_step
    from models.tiny import load_tiny

    model, tokenizer = load_tiny(seed=0)
    seen = []
    head = base_of(model).get_output_embeddings()
    ids = tokenizer(["abc def", "a b c d e f g"], return_tensors="pt", padding=True)
    prefill_step(model, ids["input_ids"], ids["attention_mask"])  # installs the fix first
    handle = head.register_forward_pre_hook(lambda m, args: seen.append(args[0].is_contiguous()))
    try:
        with torch.inference_mode():
            logits, _ = prefill_step(model, ids["input_ids"], ids["attention_mask"])
    finally:
        handle.remove()
    assert seen == [True] and logits.shape[0] == 2
    assert torch.backends.mkldnn.enabled


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_merged_weights_equal_peft_merge_bit_for_bit_and_the_original_tensors_come_back(dtype):
    from peft.tuners.lora import LoraLayer

    from lightning_modules.merging import merged_adapter

    policy = tiny_policy()
    model = policy.model
    with torch.no_grad():
        for p in model.parameters():
            if not p.requires_grad:
                p.data = p.data.to(dtype)
    layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    before = [m.get_base_layer().weight.detach().clone() for m in layers]
    storage = [m.get_base_layer().weight.data_ptr() for m in layers]
    ids = torch.randint(3, 100, (2, 9))
    with torch.no_grad():
        unmerged = model(input_ids=ids).logits
    with merged_adapter(model):
        ours = [m.get_base_layer().weight.detach().clone() for m in layers]
        with torch.no_grad():
            merged_logits = model(input_ids=ids).logits
    assert [m.get_base_layer().weight.data_ptr() for m in layers] == storage  # the same tensors back
    assert all(torch.equal(m.get_base_layer().weight, b) for m, b in zip(layers, before))
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, unmerged)  # adapter branch on again
    model.merge_adapter()
    peft = [m.get_base_layer().weight.detach().clone() for m in layers]
    model.unmerge_adapter()
    assert all(torch.equal(a, b) for a, b in zip(ours, peft))
    assert any(not torch.equal(a, b) for a, b in zip(ours, before))  # the adapter is not zero
    tolerance = 1e-4 if dtype == torch.float32 else 0.3  # bf16 logits of magnitude ~10: steps of 0.03-0.06
    assert torch.allclose(merged_logits.float(), unmerged.float(), atol=tolerance)

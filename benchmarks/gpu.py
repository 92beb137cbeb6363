"""GPU throughput: sampling against the memory-bandwidth bound, LoRA training MFU, peak memory.

    python3 benchmarks/gpu.py [--batches 64 256] [--prompt-tokens 256] [--new-tokens 256] [--k 8]
                              [--train-batch 16] [--train-length 512] [--train-steps 8] [--budget-s 420]

Runs offline with no real weights: a randomly initialised model of the Qwen2.5-Coder-1.5B
architecture in bf16 on the GPU (throughput does not depend on the weights' values). Without a
CUDA GPU it prints one JSON line with ``"skipped": true`` and exits 0. ``--smoke`` runs every path
with a tiny model on whatever device there is (CPU included): a check of the script, not a figure.

Sampling: random prompt ids of varied length (3/4 to all of ``--prompt-tokens``), left-padded,
a fixed number of new tokens (min_new_tokens = max_new_tokens), the project's sampling settings
(temperature 0.8, top-p 0.95), always through the project's own ``sample_replies`` (a stand-in
tokenizer hands it the ids). Variants at each batch size:
  * ``batched``: n=1 per prompt, dynamic cache (plain batched ``generate``);
  * ``shared-prefix``: batch/k prompts x k samples, each prompt prefilled once and its KV cache
    repeated (``prefill`` + ``cache.batch_repeat_interleave``), as the loop samples;
  * ``static+compile``: n=1 with ``cache_implementation="static"``; transformers then compiles
    the decode forward (torch.compile, mode reduce-overhead: CUDA graphs). Optional: guarded by
    try/except and the time budget; the first call (compilation) is not timed.
Tokens/s is batch x new tokens over the whole call (prefill included).
Bound per decode step: the weights are read once and the KV cache once, so
``bound tokens/s = batch / ((weight_bytes + kv_bytes_at_avg_len) / copy_bandwidth)`` with the KV
length averaged over the steps (padded prompt width + new/2) and the bandwidth measured here
(device-to-device copy, bytes read + written).

Training: the project's PEFT LoRA setup (``PolicyModule``: r=16 on all 7 projections) and AdamW on
random-token batches (labels on the second half, as answer-only labels), plain loop, warm-up steps
untimed. MFU = 4N x tokens/s / measured bf16 matmul peak: with the base frozen a token costs
2N forward + 2N backward (activation gradients only), the same convention as
``benchmarks/training.py``; attention-score FLOPs are not counted. The last line is the JSON headline.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
import time
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from benchmarks.headline import device_name, emit  # noqa: E402
from benchmarks.training import (  # noqa: E402
    FLOPS_PER_TOKEN_FACTOR,
    flop_param_count,
    measure_matmul_flops,
    sync,
    train_steps,
)

METRIC = "gpu_sampling_throughput_b64"
REAL_MODEL = "Qwen/Qwen2.5-Coder-1.5B-Instruct"  # the architecture copied; nothing is downloaded
GIB = 1024**3


# ----- pure arithmetic (tested) ------------------------------------------------------------
def kv_bytes_per_token(config, dtype_bytes: int = 2) -> int:
    """KV-cache bytes one token position takes over all layers (keys and values).

    >>> from types import SimpleNamespace as C
    >>> kv_bytes_per_token(C(num_hidden_layers=28, num_key_value_heads=2, hidden_size=1536,
    ...                      num_attention_heads=12, head_dim=None))
    28672
    """
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return 2 * config.num_hidden_layers * config.num_key_value_heads * head_dim * dtype_bytes


def decode_step_bytes(batch: int, weight_bytes: float, kv_bytes_token: float, avg_len: float) -> float:
    """Bytes one decoding step reads: the weights once plus every row's KV cache.

    >>> decode_step_bytes(2, 1e9, 1e3, 5e5)
    2000000000.0
    """
    return weight_bytes + batch * avg_len * kv_bytes_token


def decode_bound_tokens_per_s(batch: int, weight_bytes: float, kv_bytes_token: float, avg_len: float,
                              bandwidth: float) -> float:
    """Memory-bandwidth bound of decoding: each step reads ``decode_step_bytes``.

    >>> decode_bound_tokens_per_s(64, 3e9, 0, 0, 3e12)
    64000.0
    >>> decode_bound_tokens_per_s(2, 1e9, 1e3, 5e5, 2e12)
    2000.0
    """
    return batch / (decode_step_bytes(batch, weight_bytes, kv_bytes_token, avg_len) / bandwidth)


def mfu(tokens_per_s: float, n_params: int, peak_flops: float, factor: int = FLOPS_PER_TOKEN_FACTOR) -> float:
    """Model FLOP utilisation with ``factor`` x N FLOPs per token (4: LoRA on a frozen base).

    >>> mfu(1000.0, 1_000_000_000, 8e12)
    0.5
    """
    return factor * n_params * tokens_per_s / peak_flops


# ----- the model ----------------------------------------------------------------------------
def qwen_config(smoke: bool = False):
    """Qwen2.5-Coder-1.5B's architecture (or a tiny one for ``--smoke``)."""
    from transformers import Qwen2Config

    sizes = dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768)
    if smoke:
        sizes = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, vocab_size=512, max_position_embeddings=4096)
    return Qwen2Config(**sizes, tie_word_embeddings=True, rope_theta=1e6, rms_norm_eps=1e-6,
                       bos_token_id=sizes["vocab_size"] - 3, eos_token_id=sizes["vocab_size"] - 1,
                       pad_token_id=sizes["vocab_size"] - 3, use_cache=True)


def random_model(config, dtype: torch.dtype, device, seed: int = 0):
    """A randomly initialised causal LM built directly on ``device`` in ``dtype``."""
    from transformers import Qwen2ForCausalLM

    device = torch.device(device)
    previous = torch.get_default_dtype()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        torch.set_default_dtype(dtype)
        try:
            with device:
                model = Qwen2ForCausalLM(config)
        finally:
            torch.set_default_dtype(previous)
    model.to(dtype)  # in case the constructor ignored the default dtype
    model.generation_config.pad_token_id = config.pad_token_id
    model.generation_config.eos_token_id = config.eos_token_id
    return model.eval()


class IdTokenizer:
    """Stands in for a tokenizer so ``sample_replies`` runs on pre-made token ids.

    A "prompt" is a row index into the left-padded ``ids`` / ``mask``; decoding returns empty text
    (the text is never looked at here).
    """

    padding_side = "left"

    def __init__(self, ids: torch.Tensor, mask: torch.Tensor, pad_token_id: int):
        self.ids, self.mask, self.pad_token_id = ids, mask, pad_token_id

    def __call__(self, rows, return_tensors=None, padding=None, add_special_tokens=None):
        index = torch.tensor(list(rows))
        mask = self.mask[index]
        width = int(mask.sum(1).max())  # what padding=True gives: as wide as the longest row
        return {"input_ids": self.ids[index][:, -width:], "attention_mask": mask[:, -width:]}

    def batch_decode(self, ids, skip_special_tokens=True):
        return [""] * len(ids)


def random_prompts(n: int, length: int, vocab: int, pad_id: int, seed: int = 0):
    """``n`` left-padded prompts of random ids, lengths spread over [3/4 length, length]."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab - 8, (n, length), generator=gen)
    lengths = torch.randint(max(1, 3 * length // 4), length + 1, (n,), generator=gen)
    lengths[0] = length  # the padded width is the full length
    mask = (torch.arange(length)[None, :] >= (length - lengths)[:, None]).long()
    ids[mask == 0] = pad_id
    return ids, mask


# ----- measurements -------------------------------------------------------------------------
def measure_copy_bandwidth(device, nbytes: int = 2 * GIB, reps: int = 10) -> float:
    """Bytes read + written per second by a large device-to-device copy (best of ``reps``)."""
    device = torch.device(device)
    src = torch.empty(nbytes // 2, dtype=torch.bfloat16, device=device).fill_(1.0)
    dst = torch.empty_like(src)
    dst.copy_(src)
    sync(device)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        dst.copy_(src)
        sync(device)
        best = min(best, time.perf_counter() - start)
    del src, dst
    return 2 * nbytes / best


def reset_peak(device) -> None:
    gc.collect()
    if torch.device(device).type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gib(device) -> float | None:
    if torch.device(device).type != "cuda":
        return None
    return round(torch.cuda.max_memory_allocated() / GIB, 2)


class Budget:
    """Wall-clock budget for the optional parts; ``limit`` raises TimeoutError in the main thread."""

    def __init__(self, seconds: float):
        self.start, self.seconds = time.perf_counter(), seconds

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.start)

    @contextlib.contextmanager
    def limit(self, reserve: float = 0.0):
        seconds = int(self.left() - reserve)
        if seconds <= 0:
            raise TimeoutError("time budget spent")
        if not hasattr(signal, "SIGALRM"):
            yield
            return

        def _raise(signum, frame):
            raise TimeoutError(f"over the time budget ({self.seconds:.0f} s)")

        old = signal.signal(signal.SIGALRM, _raise)
        signal.alarm(seconds)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)


def sample_once(model, tok, rows, n, new_tokens, device, **extra) -> float:
    """Seconds for one ``sample_replies`` call over ``rows`` (prompt indices), n samples each."""
    from generation.sampling import sample_replies

    sync(device)
    start = time.perf_counter()
    sample_replies(model, tok, list(rows), n=n, temperature=0.8, top_p=0.95, max_new_tokens=new_tokens,
                   batch_size=len(rows) * n, stop_at_fence=False, min_new_tokens=new_tokens, **extra)
    sync(device)
    return time.perf_counter() - start


def sampling_variant(name, model, tok, batch, k, new_tokens, device, warm_tokens):
    """(seconds, warm-up seconds) of one variant at ``batch`` sequences; the warm-up is untimed."""
    if name == "shared-prefix":
        rows, n, extra = range(batch // k), k, {}
    elif name == "static+compile":
        rows, n, extra = range(batch), 1, {"decoder": "generate", "generate_kwargs": {"cache_implementation": "static"}}
    else:
        rows, n, extra = range(batch), 1, {}
    # A static cache is sized by max_new_tokens: warm up with the same length (that compiles it).
    warm = new_tokens if name == "static+compile" else warm_tokens
    warm_s = sample_once(model, tok, rows, n, warm, device, **extra)
    return sample_once(model, tok, rows, n, new_tokens, device, **extra), warm_s


def run_training(config, dtype, device, args, peak_flops) -> dict:
    """LoRA training tokens/s, MFU and peak memory on a fresh random model."""
    from lightning_modules.policy import PolicyModule

    class RandomInitPolicy(PolicyModule):
        def _load_base(self):
            return random_model(config, dtype, device, seed=1), None

    policy = RandomInitPolicy(model=REAL_MODEL, lora_rank=16)
    policy.configure_model()
    model = policy.model.to(device)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    optimizer = policy.configure_optimizers()
    n_params = flop_param_count(model)
    gen = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(args.train_warmup + args.train_steps):
        ids = torch.randint(0, config.vocab_size - 8, (args.train_batch, args.train_length), generator=gen)
        labels = ids.clone()
        labels[:, : args.train_length // 2] = -100  # answer-only labels: the prompt half is masked
        batches.append({"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels})
    reset_peak(device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # self.log without a Trainer
        train_steps(policy, optimizer, batches[: args.train_warmup], device)
        rows = train_steps(policy, optimizer, batches[args.train_warmup :], device)
    tokens = sum(r["tokens"] for r in rows)
    seconds = sum(r["total_s"] for r in rows)
    tok_s = tokens / seconds
    out = {"train_tokens_per_s": round(tok_s, 1), "train_mfu": float(f"{mfu(tok_s, n_params, peak_flops):.4g}"),
           "train_peak_gib": peak_gib(device), "train_n_params": n_params,
           "train_forward_s": round(sum(r["forward_s"] for r in rows), 3),
           "train_backward_s": round(sum(r["backward_s"] for r in rows), 3),
           "train_optimizer_s": round(sum(r["optimizer_s"] for r in rows), 3),
           "train_loss_last": round(rows[-1]["loss"], 3)}
    del policy, model, optimizer
    reset_peak(device)
    return out


# ----- main ---------------------------------------------------------------------------------
def skipped(reason: str) -> dict:
    return {"metric": METRIC, "value": None, "unit": "tokens/s", "baseline": None, "ratio": None,
            "skipped": True, "reason": reason}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--prompt-tokens", type=int, default=256)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--k", type=int, default=8, help="samples per prompt in the shared-prefix variant")
    parser.add_argument("--train-batch", type=int, default=16)
    parser.add_argument("--train-length", type=int, default=512)
    parser.add_argument("--train-steps", type=int, default=8)
    parser.add_argument("--train-warmup", type=int, default=2)
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--no-compile", action="store_true", help="skip the static-cache + compile variant")
    parser.add_argument("--budget-s", type=float, default=420, help="optional parts stop when this is spent")
    parser.add_argument("--smoke", action="store_true", help="tiny model, any device: checks the script only")
    args = parser.parse_args(argv)

    if not torch.cuda.is_available() and not args.smoke:
        return emit(skipped("no CUDA GPU available (torch.cuda.is_available() is False)"), "none")  # no model ran
    if args.smoke:
        args.batches, args.prompt_tokens, args.new_tokens, args.k = [8, 16], 12, 6, 4
        args.train_batch, args.train_length, args.train_steps, args.train_warmup = 2, 32, 2, 1

    budget = Budget(args.budget_s)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    machine = device_name()
    print(f"device: {machine}, torch {torch.__version__}, dtype {dtype}{' (SMOKE: tiny model)' if args.smoke else ''}")

    bandwidth = measure_copy_bandwidth(device, nbytes=(2 * GIB if device.type == "cuda" else 256 << 20))
    peak = measure_matmul_flops(dtype, device, size=(8192 if device.type == "cuda" else 1024), reps=10)
    print(f"copy bandwidth {bandwidth / 1e9:.0f} GB/s (read + write), {dtype} matmul peak {peak / 1e12:.1f} TFLOP/s")

    config = qwen_config(args.smoke)
    model = random_model(config, dtype, device)
    n_params = flop_param_count(model)
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())  # tied head counted once
    kv_token = kv_bytes_per_token(config, torch.finfo(dtype).bits // 8)
    avg_len = args.prompt_tokens + args.new_tokens / 2
    arch = "tiny smoke model" if args.smoke else "Qwen2.5-Coder-1.5B architecture"
    print(f"model: {arch}, random init, N = {n_params / 1e9:.3f}B, weights "
          f"{weight_bytes / GIB:.2f} GiB, KV {kv_token} bytes/token; prompts {args.prompt_tokens} tokens "
          f"(padded width), {args.new_tokens} new tokens, average KV length {avg_len:.0f}")

    ids, mask = random_prompts(max(args.batches), args.prompt_tokens, config.vocab_size, config.pad_token_id)
    tok = IdTokenizer(ids, mask, config.pad_token_id)
    table, errors, extra = [], {}, {}

    def sample(name: str, batch: int, optional: bool) -> None:
        if name == "shared-prefix" and batch % args.k:
            errors[f"{name}_b{batch}"] = f"skipped: batch {batch} is not a multiple of k={args.k}"
            return
        if optional and budget.left() < 60:
            errors[f"{name}_b{batch}"] = "skipped: time budget spent"
            return
        reset_peak(device)
        try:
            with (budget.limit(reserve=30) if optional else contextlib.nullcontext()):
                seconds, warm_s = sampling_variant(name, model, tok, batch, args.k, args.new_tokens, device,
                                                   warm_tokens=min(8, args.new_tokens))
        except Exception as e:  # noqa: BLE001 - a variant may fail (or time out); report it and go on
            errors[f"{name}_b{batch}"] = f"{type(e).__name__}: {e}"[:300]
            traceback.print_exc(limit=3)
            return
        tokens = batch * args.new_tokens
        bound = decode_bound_tokens_per_s(batch, weight_bytes, kv_token, avg_len, bandwidth)
        table.append({"variant": name, "batch": batch, "seconds": seconds, "warmup_s": warm_s,
                      "tokens_per_s": tokens / seconds, "bound": bound, "ratio": tokens / seconds / bound,
                      "peak_gib": peak_gib(device)})

    # Eager variants first, then training, then the optional compiled variant (compilation is the
    # slowest and least certain part, so it gets what is left of the budget).
    for name in ("batched", "shared-prefix"):
        for batch in args.batches:
            sample(name, batch, optional=False)
    if budget.left() > 60:
        try:
            extra.update(run_training(config, dtype, device, args, peak))
        except Exception as e:  # noqa: BLE001
            errors["training"] = f"{type(e).__name__}: {e}"[:300]
            traceback.print_exc(limit=3)
    else:
        errors["training"] = "skipped: time budget spent"
    if not args.no_compile:
        for batch in args.batches:
            sample("static+compile", batch, optional=True)

    print(f"{'variant':<16}{'batch':>6}{'seconds':>9}{'warm-up s':>10}{'tokens/s':>11}{'bound':>11}{'ratio':>7}"
          f"{'peak GiB':>9}")
    for r in table:
        peak_text = "-" if r["peak_gib"] is None else f"{r['peak_gib']:.2f}"
        print(f"{r['variant']:<16}{r['batch']:>6}{r['seconds']:>9.2f}{r['warmup_s']:>10.1f}{r['tokens_per_s']:>11.0f}"
              f"{r['bound']:>11.0f}{r['ratio']:>7.2f}{peak_text:>9}")
    for key, message in errors.items():
        print(f"{key}: {message}")
    if "train_tokens_per_s" in extra:
        print(f"LoRA training: batch {args.train_batch} x {args.train_length} tokens, {args.train_steps} timed steps: "
              f"{extra['train_tokens_per_s']:.0f} tokens/s, MFU {100 * extra['train_mfu']:.1f}% "
              f"({FLOPS_PER_TOKEN_FACTOR}N FLOPs/token: frozen base, forward 2N + activation-gradient backward 2N), "
              f"peak memory {extra['train_peak_gib']} GiB; forward {extra['train_forward_s']} s, "
              f"backward {extra['train_backward_s']} s, optimizer {extra['train_optimizer_s']} s")

    first = args.batches[0]
    metric = METRIC if args.smoke or first == 64 else f"gpu_sampling_throughput_b{first}"
    result = {"metric": metric, "value": None, "unit": "tokens/s", "baseline": None, "ratio": None, "machine": machine}
    best = {}
    for r in table:
        if r["batch"] not in best or r["tokens_per_s"] > best[r["batch"]]["tokens_per_s"]:
            best[r["batch"]] = r
        result[f"{r['variant']}_b{r['batch']}_tokens_per_s"] = round(r["tokens_per_s"], 1)
    if first in best:
        result.update(value=round(best[first]["tokens_per_s"], 1), baseline=round(best[first]["bound"], 1),
                      ratio=round(best[first]["ratio"], 3), variant=best[first]["variant"])
    for batch, r in best.items():
        if batch != first:
            result.update({f"b{batch}_tokens_per_s": round(r["tokens_per_s"], 1),
                           f"b{batch}_bound": round(r["bound"], 1), f"b{batch}_ratio": round(r["ratio"], 3),
                           f"b{batch}_variant": r["variant"]})
    result.update(extra)
    sampling_peak = max((r["peak_gib"] for r in table if r["peak_gib"] is not None), default=None)
    result.update(copy_bandwidth_gbs=round(bandwidth / 1e9, 1), matmul_peak_tflops=round(peak / 1e12, 1),
                  sampling_peak_gib=sampling_peak,
                  model="smoke-tiny" if args.smoke else "qwen2.5-coder-1.5b architecture, random init",
                  new_tokens=args.new_tokens, prompt_tokens=args.prompt_tokens, flops_per_token="4N",
                  elapsed_s=round(time.perf_counter() - budget.start, 1))
    if errors:
        result["errors"] = errors
    if args.smoke:
        result["smoke"] = True
    return emit(result, dtype)


if __name__ == "__main__":
    main()

"""LoRA training throughput against the F / (4 N) bound, in the same process.

    .venv/bin/python benchmarks/training.py [--model qwen2.5-coder-0.5b-instruct] [--steps 3] [--batch-size 2]
                                            [--warmup 1] [--dtype auto] [--lora-dropout 0.05]
                                            [--gradient-checkpointing]

Data: realistic (prompt, reference solution) pairs from ``tasks`` problems, encoded as the datamodule
does (``PromptFormat.encode``: labels on the answer only), ordered by ``LengthGroupedSampler`` and padded
by ``make_collate``. Tokens/s counts non-padding tokens (prompt and answer: both go through the model).

Bound: F is the matmul rate measured here, in the model's dtype (a large square product, best of a few,
measured before and after training; the higher is used). With the base frozen, a token costs about
2N FLOPs forward and 2N backward (gradients with respect to the activations only; no weight gradients
for the frozen matrices), so training cannot beat F / (4 N) tokens/s. N counts the base model's
parameters that take part in matmuls (the input embedding is a lookup, so it is left out unless it is
tied to the output head). Attention-score FLOPs and the LoRA matrices are left out of 4N; both are
small at these lengths. Gradient checkpointing adds a second forward (6N per token) but the bound is
kept at F / (4 N) so runs compare.

Loop: ``PolicyModule`` (the project's PEFT LoRA setup) + its AdamW, plain Python (no Trainer);
the first ``--warmup`` steps are run but not timed. Each step is timed as forward / backward /
optimizer, and its process CPU time is kept (column ``cpu``: cores busy), so a run on a shared
machine shows itself (the 2-core CPU this was written on gave half the figure while another benchmark
ran). The last line is the JSON headline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from benchmarks.headline import device_name, emit  # noqa: E402
from datamodules.training_data import LengthGroupedSampler, make_collate  # noqa: E402
from lightning_modules.prompting import IGNORE_INDEX, answer_text, encode_pair  # noqa: E402

FLOPS_PER_TOKEN_FACTOR = 4  # frozen base: forward 2N + activation-gradient backward 2N


# ----- pure arithmetic (tested) ------------------------------------------------------------
def lora_bound_tokens_per_s(flops_per_s: float, n_params: int, factor: int = FLOPS_PER_TOKEN_FACTOR) -> float:
    """Tokens/s a LoRA step on a frozen base cannot exceed: F / (4 N).

    >>> lora_bound_tokens_per_s(400e9, 500_000_000)
    200.0
    """
    if flops_per_s <= 0 or n_params <= 0:
        raise ValueError(f"need F > 0 and N > 0, got F={flops_per_s}, N={n_params}")
    return flops_per_s / (factor * n_params)


def matmul_flops(size: int, seconds: float) -> float:
    """FLOP/s of one (size x size) @ (size x size) product that took ``seconds`` (2 size^3 FLOPs).

    >>> matmul_flops(1000, 0.002)
    1000000000000.0
    """
    return 2.0 * size**3 / seconds


def padding_fraction(batches: list[dict]) -> float:
    """Share of the tokens in the padded batches that are padding.

    >>> m = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    >>> padding_fraction([{"attention_mask": m}])
    0.25
    """
    total = sum(b["attention_mask"].numel() for b in batches)
    real = sum(int(b["attention_mask"].sum()) for b in batches)
    return 1.0 - real / total if total else 0.0


def flop_param_count(model) -> int:
    """Parameters of the (frozen) base model that take part in matmuls, counted once.

    LoRA weights are left out; so is the input embedding (a lookup) unless it is tied to the output
    head, whose matmul then uses it.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    embed = base.get_input_embeddings().weight
    head = base.get_output_embeddings()
    tied = head is not None and head.weight is embed
    seen, total = set(), 0
    for name, p in base.named_parameters(remove_duplicate=False):
        if "lora_" in name or id(p) in seen:
            continue
        seen.add(id(p))
        if p is embed and not tied:
            continue
        total += p.numel()
    return total


# ----- machine ------------------------------------------------------------------------------
def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def measure_matmul_flops(dtype: torch.dtype, device, size: int | None = None, reps: int = 5) -> float:
    """Best FLOP/s of a square ``size`` matmul in ``dtype`` on ``device`` (after a warm-up)."""
    device = torch.device(device)
    size = size or (8192 if device.type == "cuda" else 2048)
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, generator=gen, device=device).to(dtype)
    b = torch.randn(size, size, generator=gen, device=device).to(dtype)
    torch.matmul(a, b)
    sync(device)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        torch.matmul(a, b)
        sync(device)
        best = min(best, time.perf_counter() - start)
    return matmul_flops(size, best)


# ----- data ---------------------------------------------------------------------------------
def build_examples(tokenizer, render, count: int, max_length: int, seed: int = 0,
                   difficulty: tuple[int, int] = (3, 7)) -> tuple[list[dict], int]:
    """Encoded (prompt, reference) pairs from ``count`` generated problems; (examples, too_long)."""
    from tasks import build_splits

    problems = build_splits(count, 0, 1, None, difficulty[0], difficulty[1], seed=seed)["train"]
    examples = [encode_pair(tokenizer, render(p.prompt), answer_text(p.reference), max_length) for p in problems]
    kept = [e for e in examples if e is not None]
    return kept, len(examples) - len(kept)


def length_grouped_batches(examples: list[dict], batch_size: int, n_batches: int, pad_id: int,
                           seed: int = 0) -> list[dict]:
    """``n_batches`` padded batches in the datamodule's order (length-grouped, shuffled)."""
    if not examples:
        raise ValueError("no training examples fit max_length")
    passes = -(-n_batches * batch_size // len(examples))  # repeat like passes_per_iteration if short
    pool = examples * max(1, passes)
    order = list(LengthGroupedSampler([len(e["input_ids"]) for e in pool], batch_size, seed=seed))
    collate = make_collate(pad_id)
    batches = [collate([pool[i] for i in order[s : s + batch_size]]) for s in range(0, len(order), batch_size)]
    full = [b for b in batches if b["input_ids"].shape[0] == batch_size] or batches
    return (full * n_batches)[:n_batches]


# ----- the loop -----------------------------------------------------------------------------
def train_steps(policy, optimizer, batches: list[dict], device) -> list[dict]:
    """One optimizer step per batch; seconds of forward, backward and optimizer, and tokens."""
    model = policy.model
    model.train()
    rows = []
    for i, batch in enumerate(batches):
        batch = {k: v.to(device) for k, v in batch.items()}
        tokens = int(batch["attention_mask"].sum())
        sync(device)
        c0, t0 = time.process_time(), time.perf_counter()
        loss = policy.training_step(batch, i)
        sync(device)
        t1 = time.perf_counter()
        if loss is not None:
            loss.backward()
        sync(device)
        t2 = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync(device)
        t3 = time.perf_counter()
        cpu_s = time.process_time() - c0
        rows.append({"tokens": tokens, "answer_tokens": int((batch["labels"] != IGNORE_INDEX).sum()),
                     "width": batch["input_ids"].shape[1], "forward_s": t1 - t0, "backward_s": t2 - t1,
                     "optimizer_s": t3 - t2, "total_s": t3 - t0, "cpu_s": cpu_s,
                     "loss": float(loss.detach()) if loss is not None else float("nan")})
    return rows


def significant(x: float, digits: int = 4) -> float:
    """``x`` to ``digits`` significant figures (tiny test models give ratios far below 0.001)."""
    return float(f"{x:.{digits}g}")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct",
                        help="model name as PolicyModule takes it (tiny-random-qwen2 for a quick check)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"])
    parser.add_argument("--max-length", type=int, default=1536)
    parser.add_argument("--lora-rank", type=int, default=16)
    parser.add_argument("--lora-dropout", type=float, default=0.05, help="PolicyModule's default")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--matmul-size", type=int, default=None, help="square matmul size for F")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.batch_size < 1:
        parser.error("need --steps >= 1, --warmup >= 0, --batch-size >= 1")

    from models import cpu_perf
    from lightning_modules.policy import PolicyModule

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        cpu_perf.configure_cpu()
    policy = PolicyModule(model=args.model, dtype=args.dtype, lora_rank=args.lora_rank,
                          lora_dropout=args.lora_dropout, seed=args.seed)
    policy.configure_model()
    model, tok = policy.model, policy.tokenizer
    model.to(device)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    optimizer = policy.configure_optimizers()
    dtype = next(p for n, p in model.named_parameters() if "lora_" not in n).dtype
    n_params = flop_param_count(model)
    n_lora = sum(p.numel() for p in model.parameters() if p.requires_grad)

    n_batches = args.warmup + args.steps
    examples, too_long = build_examples(tok, policy.render, max(96, 4 * n_batches * args.batch_size),
                                        args.max_length, seed=args.seed)
    batches = length_grouped_batches(examples, args.batch_size, n_batches, tok.pad_token_id, seed=args.seed)
    timed_batches = batches[args.warmup :]
    pad = padding_fraction(timed_batches)

    flops_before = measure_matmul_flops(dtype, device, args.matmul_size)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*self.log.*")  # no Trainer attached: logging is a no-op
        warnings.filterwarnings("ignore", message=".*`self.trainer`.*")
        train_steps(policy, optimizer, batches[: args.warmup], device)
        rows = train_steps(policy, optimizer, timed_batches, device)
    flops_after = measure_matmul_flops(dtype, device, args.matmul_size)
    flops = max(flops_before, flops_after)

    tokens = sum(r["tokens"] for r in rows)
    seconds = sum(r["total_s"] for r in rows)
    tok_s = tokens / seconds
    bound = lora_bound_tokens_per_s(flops, n_params)
    parts = {k: sum(r[k] for r in rows) for k in ("forward_s", "backward_s", "optimizer_s")}
    # Cores this process kept busy while training, per thread it runs: well under 1 means the
    # machine was shared (the bound assumes all threads; so does F, measured in a short burst).
    cpu_share = sum(r["cpu_s"] for r in rows) / seconds / torch.get_num_threads() if device.type == "cpu" else None

    print(f"{args.model} ({dtype}, {'gradient checkpointing' if args.gradient_checkpointing else 'no checkpointing'}) "
          f"on {device_name()}, torch threads {torch.get_num_threads()}")
    print(f"N = {n_params / 1e6:.1f}M base parameters in matmuls (frozen), LoRA r={args.lora_rank}: "
          f"{n_lora / 1e6:.2f}M trainable")
    print(f"data: {len(examples)} examples ({too_long} over {args.max_length} tokens left out), "
          f"batch {args.batch_size}, {args.warmup} warm-up + {args.steps} timed steps, "
          f"padding {100 * pad:.1f}% of timed tokens")
    print(f"matmul F ({dtype}): {flops / 1e9:.1f} GFLOP/s (before {flops_before / 1e9:.1f}, after "
          f"{flops_after / 1e9:.1f}) -> bound F/(4N) = {bound:.1f} tokens/s")
    print(f"{'step':>4}{'width':>7}{'tokens':>8}{'answer':>8}{'fwd_s':>8}{'bwd_s':>8}{'opt_s':>8}{'total_s':>9}"
          f"{'tokens/s':>10}{'cpu':>6}{'loss':>8}")
    for i, r in enumerate(rows):
        print(f"{i + 1:>4}{r['width']:>7}{r['tokens']:>8}{r['answer_tokens']:>8}{r['forward_s']:>8.2f}"
              f"{r['backward_s']:>8.2f}{r['optimizer_s']:>8.3f}{r['total_s']:>9.2f}{r['tokens'] / r['total_s']:>10.1f}"
              f"{r['cpu_s'] / r['total_s']:>6.2f}{r['loss']:>8.3f}")
    print(f"total: {tokens} tokens in {seconds:.1f} s = {tok_s:.1f} tokens/s = {tok_s / bound:.2f} x bound; "
          f"time split forward {parts['forward_s'] / seconds:.0%}, backward {parts['backward_s'] / seconds:.0%}, "
          f"optimizer {parts['optimizer_s'] / seconds:.0%}; achieved {FLOPS_PER_TOKEN_FACTOR}N FLOP/s = "
          f"{FLOPS_PER_TOKEN_FACTOR * n_params * tok_s / 1e9:.1f} GFLOP/s")
    if cpu_share is not None:
        print(f"cpu: {cpu_share:.0%} of {torch.get_num_threads()} threads busy during the timed steps (column 'cpu': "
              f"cores busy); load average {os.getloadavg()[0]:.2f}")
    result = {"metric": "lora_training_throughput", "value": significant(tok_s), "unit": "tokens/s",
              "baseline": significant(bound), "ratio": significant(tok_s / bound),
              "padding_fraction": round(pad, 4), "model": args.model,
              "batch_size": args.batch_size, "steps": args.steps, "matmul_gflops": round(flops / 1e9, 1),
              "n_params": n_params, "gradient_checkpointing": args.gradient_checkpointing,
              "forward_s": round(parts["forward_s"], 3), "backward_s": round(parts["backward_s"], 3),
              "optimizer_s": round(parts["optimizer_s"], 3),
              "cpu_share": None if cpu_share is None else round(cpu_share, 3), "lora_dropout": args.lora_dropout}
    return emit(result, dtype)


if __name__ == "__main__":
    main()

"""Prefill with a strided and with a contiguous input to the output head.

    .venv/bin/python benchmarks/prefill_head.py [--model qwen2.5-coder-0.5b-instruct] [--prompts 8 32]

A prefill asks the model for the last position's logits only (``logits_to_keep=1``), so the head
gets ``hidden[:, -1:, :]``: a strided view of the batch's hidden states. torch's CPU ``linear``
runs a strided 3-D input as a batched matmul over the head weight expanded to every row, copying
``rows x vocabulary x hidden`` values first (2.2 GB for 8 prompts of Qwen2.5 in bf16); at 128
prompts (35 GB) the copy fails, and torch then turns oneDNN off for the rest of the process.
Both with the adapter merged, as sampling runs. Baseline: the head as transformers calls it. Ours: ``generation.decoding.contiguous_head`` (the
same rows, made contiguous first). Same logits (checked). The last line is the JSON headline
(ratio = baseline / ours, at the largest ``--prompts``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from benchmarks.headline import device_name, dtype_name, emit  # noqa: E402
from benchmarks.training import significant  # noqa: E402
from generation import decoding  # noqa: E402
from generation.continuous import encode_prompts  # noqa: E402
from lightning_modules.merging import merged_adapter  # noqa: E402
from lightning_modules.policy import PolicyModule  # noqa: E402
from tasks import build_splits  # noqa: E402


def prefill_seconds(model, ids, mask, reps: int) -> tuple[float, torch.Tensor]:
    """Best of ``reps`` prefills (seconds) and the last logits."""
    best, logits = float("inf"), None
    for _ in range(reps):
        start = time.perf_counter()
        logits, _ = decoding.prefill_step(model, ids, mask)
        best = min(best, time.perf_counter() - start)
    return best, logits


def without_fix(model):
    """Undo ``contiguous_head`` (the hook it installs) and keep prefill from installing it again."""
    head = decoding.base_of(model).get_output_embeddings()
    head._forward_pre_hooks.clear()
    head._contiguous_input = True  # tells contiguous_head it is done


def with_fix(model):
    head = decoding.base_of(model).get_output_embeddings()
    head._contiguous_input = False
    decoding.contiguous_head(model)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--prompts", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args(argv)
    policy = PolicyModule(model=args.model, lora_rank=16)
    policy.configure_model()
    model = policy.model.eval()
    dtype = next(model.parameters()).dtype
    problems = build_splits(train_size=max(args.prompts), val_size=0, test_size=0, families=None, difficulty_min=1,
                            difficulty_max=3, seed=0)["train"]
    print(f"{args.model}, {dtype_name(dtype)}, {torch.get_num_threads()} threads, on {device_name()}")
    print(f"{'prompts':>8}{'tokens':>8}{'strided head s':>16}{'contiguous head s':>19}{'ratio':>8}  same logits")
    rows = []
    with torch.inference_mode(), merged_adapter(model):  # as PolicyModule.sample runs it
        for count in args.prompts:
            ids, mask = encode_prompts(model, policy.tokenizer, [policy.render(p.prompt) for p in problems[:count]])
            without_fix(model)
            base_s, base_logits = prefill_seconds(model, ids, mask, args.reps)
            with_fix(model)
            ours_s, ours_logits = prefill_seconds(model, ids, mask, args.reps)
            same = torch.allclose(base_logits, ours_logits, atol=1e-2, rtol=1e-2)
            rows.append((count, base_s, ours_s, same))
            print(f"{count:>8}{int(mask.sum()):>8}{base_s:>16.2f}{ours_s:>19.2f}{base_s / ours_s:>8.1f}  {same}")
    count, base_s, ours_s, same = rows[-1]
    result = {"metric": "prefill_s", "value": significant(ours_s), "unit": "s", "baseline": significant(base_s),
              "ratio": round(base_s / ours_s, 2), "prompts": count, "same_logits": all(r[3] for r in rows),
              "model": args.model, "onednn_enabled_after": torch.backends.mkldnn.enabled}
    return emit(result, dtype)


if __name__ == "__main__":
    main()

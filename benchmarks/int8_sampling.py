"""An experiment kept for the record: int8 dynamic quantization for CPU sampling (not adopted).

    .venv/bin/python benchmarks/int8_sampling.py [--problems 32] [--difficulty 1 3]

Greedy replies to real training problems from the merged model in fp32 (baseline) and with every
linear layer swapped for ``torch.ao``'s dynamically quantized int8 linear (fbgemm: int8 weights per
output channel, activations quantized per tensor at run time). Reports the speed ratio and what it
costs: how many replies stay identical and how many pass the hidden tests in each precision.
``torch.ao.quantization`` is deprecated in the torch we pin, which is one more reason this stays
an experiment. The last line is the JSON headline (ratio = fp32 seconds / int8 seconds).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from benchmarks.headline import device_name, dtype_name, emit  # noqa: E402
from verify.verification import verify_replies  # noqa: E402
from lightning_modules.merging import merged_adapter  # noqa: E402
from lightning_modules.policy import PolicyModule  # noqa: E402
from generation.sampling import sample_replies  # noqa: E402
from tasks import build_splits  # noqa: E402


def swap_in_int8(model) -> list:
    """Replace each plain ``nn.Linear`` (LoRA's own factors excepted) by a dynamic int8 linear.

    Returns what is needed to put the originals back.
    """
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear
    from torch.ao.quantization import per_channel_dynamic_qconfig

    swapped = []
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if type(child) is torch.nn.Linear and not name.startswith("lora_"):
                child.qconfig = per_channel_dynamic_qconfig
                setattr(module, name, DynamicInt8Linear.from_float(child))
                del child.qconfig
                swapped.append((module, name, child))
    return swapped


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--difficulty", type=int, nargs=2, default=[1, 3])
    parser.add_argument("--max-new-tokens", type=int, default=384)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*quantize_per.*")

    policy = PolicyModule(model=args.model, lora_rank=16)
    policy.configure_model()
    model, tok = policy.model.eval(), policy.tokenizer
    dtype = dtype_name(model)  # the baseline's (int8 layers are swapped in later)
    problems = build_splits(args.problems, 0, 1, None, *args.difficulty, seed=1)["train"]
    prompts = [policy.render(p.prompt) for p in problems]
    common = dict(n=1, temperature=0.0, max_new_tokens=args.max_new_tokens, batch_size=args.problems)
    with merged_adapter(model):
        start = time.perf_counter()
        fp32 = sample_replies(model, tok, prompts, **common)
        t_fp32 = time.perf_counter() - start
        start = time.perf_counter()
        swapped = swap_in_int8(model)
        t_quantize = time.perf_counter() - start
        try:
            start = time.perf_counter()
            int8 = sample_replies(model, tok, prompts, **common)
            t_int8 = time.perf_counter() - start
        finally:
            for module, name, child in swapped:
                setattr(module, name, child)
    passed = {label: sum(r["passed"] for r in verify_replies(problems, replies))
              for label, replies in (("fp32", fp32), ("int8", int8))}
    same = sum(a == b for a, b in zip(fp32, int8))
    print(f"{args.model}: {args.problems} problems (difficulty {args.difficulty[0]}-{args.difficulty[1]}), greedy, "
          f"one batch, on {device_name()}")
    print(f"{'variant':<36}{'seconds':>10}{'passed':>8}")
    print(f"{'fp32 (what the loop samples with)':<36}{t_fp32:>10.1f}{passed['fp32']:>8}")
    print(f"{'int8 dynamic (fbgemm)':<36}{t_int8:>10.1f}{passed['int8']:>8}   (+{t_quantize:.1f} s to quantize)")
    print(f"identical replies: {same}/{len(fp32)}")
    result = {"metric": "int8_sampling_speedup", "value": round(t_int8, 1), "unit": "s", "baseline": round(t_fp32, 1),
              "ratio": round(t_fp32 / t_int8, 2), "identical": f"{same}/{len(fp32)}", "passed_fp32": passed["fp32"],
              "passed_int8": passed["int8"], "quantize_s": round(t_quantize, 1),
              "model": args.model}
    return emit(result, dtype)


if __name__ == "__main__":
    main()

"""Our sampler against other inference engines: same prompts, model, LoRA adapter and dtype (bf16).

    .venv/bin/python benchmarks/engines.py [--problems 32] [--max-new-tokens 320] [--batch-size 32]
        [--adapter DIR] [--ov-model DIR] [--ov-python /work/ovenv/bin/python] [--engines ours,openvino,generate,hf_cb,openvino_llm] [--budget-s 0]

Greedy replies (budget ``--max-new-tokens``, stop at end of sequence or at the closed code fence,
as every run samples) to problems from the task generator (the six families at difficulties 1-3),
rendered with the policy's chat template. The engines:

- ``ours``: ``PolicyModule.sample`` (``generation.continuous``; adapter merged while sampling).
- ``generate``: transformers' ``model.generate`` in fixed left-padded batches of ``--batch-size``
  (``sample_replies(decoder="generate")``: the ``FenceStop`` criterion, adapter merged).
- ``hf_cb``: transformers' own continuous batching (``ContinuousBatchingManager``, what
  ``generate_batch`` runs), on the same merged model; requests stream their tokens and a request
  is cancelled once its reply has closed a code fence (``generate_batch`` has no stop strings).
- ``openvino``: OpenVINO GenAI's ``ContinuousBatchingPipeline`` (the engine behind ``LLMPipeline``
  with a scheduler config) on a model exported without weight compression (``--weight-format fp16``),
  run in a separate interpreter (``--ov-python``: OpenVINO is not a dependency of this project),
  inference precision bf16 and a bf16 KV cache, the adapter applied at load time with
  ``openvino_genai.Adapter`` / ``AdapterConfig`` (alpha = lora_alpha / r, PEFT's scale; mode
  ``--ov-adapter-mode``, ``fuse`` by default: merged into the weights as ours is). Token ids go in
  and come out, so no tokenizer difference can enter; ``step()`` is driven here and a request is
  stopped once its reply has closed a code fence.
- ``openvino_llm``: the same model and adapter through ``LLMPipeline`` (with a ``SchedulerConfig``:
  its continuous-batching backend), one batched ``generate`` call on the rendered texts
  (``apply_chat_template`` off; the prompt tokens are checked against ours). ``LLMPipeline`` has no
  "second fence" rule, so it stops at the stop string ``"\\n```\\n"`` (a closing fence on a line of
  its own) or end of sequence.

The adapter: ``--adapter`` (a PEFT ``save_pretrained`` folder, e.g. ``runs/.../adapters/iter_10``),
or, when none is given or it does not exist, a random LoRA (rank 16, alpha 32, every projection,
``lora_B`` ~ N(0, ``--random-std``), seeded) saved to ``/tmp/engine_adapter``.

Seconds are the decoding call alone (model loading, OpenVINO compilation and the continuous-batching
manager's set-up are reported apart). Tokens are each engine's reply texts re-tokenized, as in the
other reply benchmarks. Replies are compared after cutting each at the end of its closing fence (an
engine that stops a token later writes the same reply). The last line is the JSON headline (ratio:
ours / the fastest other engine, in tokens/s).

Set-up of the OpenVINO side (not part of requirements.txt)::

    python3.11 -m venv /work/ovenv
    /work/ovenv/bin/pip install "optimum-intel[openvino]==2.2.0" "openvino-genai==2026.4.1.0"
    /work/ovenv/bin/optimum-cli export openvino --model <hf folder> --task text-generation-with-past \\
        --weight-format fp16 /work/ov_models/qwen2.5-coder-0.5b-instruct-fp16
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# Nothing heavy at module level: ``--ov-worker`` runs this file in the OpenVINO interpreter.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FENCE = "```"
DEFAULT_REAL_ADAPTER = None  # a random LoRA unless --adapter names a trained one (runs/RUN/adapters/iter_N)
RANDOM_ADAPTER_DIR = "/tmp/engine_adapter"
DEFAULT_OV_MODEL = "/work/ov_models/qwen2.5-coder-0.5b-instruct-fp16"
DEFAULT_OV_PYTHON = "/work/ovenv/bin/python"
SEED_BASE = 8_000_000  # problem seeds no split builder or calibration uses
ENGINES = ("ours", "openvino", "generate", "hf_cb", "openvino_llm")


class Fence:
    """Per-row count of code fences in the reply text so far (``generation.decoding.FenceTracker``)."""

    def __init__(self, rows: int):
        self.texts = [""] * rows
        self.fences = [0] * rows

    def append(self, row: int, piece: str) -> bool:
        start = max(0, len(self.texts[row]) - len(FENCE) + 1)
        self.texts[row] += piece
        self.fences[row] += self.texts[row].count(FENCE, start)
        return self.fences[row] >= 2


def cut_at_fence(text: str) -> str:
    """The reply up to the end of its closing code fence (all of it if it has none)."""
    first = text.find(FENCE)
    if first < 0:
        return text
    second = text.find(FENCE, first + len(FENCE))
    return text if second < 0 else text[: second + len(FENCE)]


# ----- the OpenVINO worker (runs in --ov-python) ------------------------------------------------
def ov_worker(spec_path: str, out_path: str) -> None:
    import numpy as np
    import openvino as ov
    import openvino_genai as og

    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    precision = getattr(ov.Type, spec["precision"])
    props = dict([ov.properties.hint.inference_precision(precision), ov.properties.hint.kv_cache_precision(precision),
                  ov.properties.key_cache_precision(precision), ov.properties.value_cache_precision(precision),
                  ov.properties.hint.dynamic_quantization_group_size(0)])
    adapters, adapter_note = None, "none"
    if spec.get("adapter_file") and spec["adapter_mode"] != "none":
        mode = getattr(og.AdapterConfig.Mode, "MODE_" + spec["adapter_mode"].upper())
        adapters = og.AdapterConfig(og.Adapter(spec["adapter_file"]), float(spec["adapter_alpha"]), mode)
        adapter_note = f"{os.path.basename(spec['adapter_file'])}, alpha {spec['adapter_alpha']}, {mode.name}"
    sched = og.SchedulerConfig()
    sched.max_num_seqs = spec["batch_size"]
    sched.max_num_batched_tokens = spec["max_batch_tokens"]
    sched.cache_size = spec["cache_gb"]
    sched.enable_prefix_caching = False
    sched.dynamic_split_fuse = True

    config = og.GenerationConfig()
    config.max_new_tokens = spec["max_new_tokens"]
    config.do_sample = False
    config.num_return_sequences = 1
    config.stop_token_ids = set(spec["eos"])
    config.eos_token_id = spec["eos"][0]
    config.apply_chat_template = False  # the prompts are rendered already
    capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    result = {"adapter": adapter_note, "versions": {"openvino": ov.get_version(), "openvino_genai": og.__version__},
              "cpu_capabilities": list(capabilities),
              "properties": {k: str(getattr(v, "value", v)) for k, v in props.items()}}
    start = time.perf_counter()
    if spec["variant"] == "llm":
        # LLMPipeline with a scheduler config (its continuous-batching backend), one batched generate
        # call on the rendered texts. It has no "stop at the second fence": the stop string is the
        # closing fence's usual form, a line of its own.
        kwargs = {k: v for k, v in props.items()}
        if adapters is not None:
            kwargs["adapters"] = adapters
        pipe = og.LLMPipeline(spec["model_dir"], "CPU", scheduler_config=sched, **kwargs)
        result["compile_s"] = time.perf_counter() - start
        encoded = pipe.get_tokenizer().encode(spec["texts"], add_special_tokens=False)
        rows, masks = encoded.input_ids.data.tolist(), encoded.attention_mask.data.tolist()
        result["prompt_token_mismatches"] = sum([t for t, m in zip(row, mask) if m] != ids
                                                for row, mask, ids in zip(rows, masks, spec["prompts"]))
        config.stop_strings = {"\n" + FENCE + "\n"}
        config.include_stop_str_in_output = True
        start = time.perf_counter()
        out = pipe.generate(spec["texts"], config)
        result["seconds"] = time.perf_counter() - start
        result["texts"] = list(out.texts)
    else:
        # ContinuousBatchingPipeline driven step by step: token ids in and out, each request stopped
        # once its reply has closed a code fence, as our sampler does.
        pieces = {int(k): v for k, v in spec["pieces"].items()}  # token -> text, the tokens with a backtick
        empty = set(spec["empty_pieces"])  # tokens whose text is empty
        piece = lambda t: pieces.get(t, "" if t in empty else "x")  # noqa: E731 (only fences matter)
        if adapters is not None:
            props["adapters"] = adapters
            if spec["adapter_mode"] not in ("fuse", "static"):
                config.adapters = adapters
        pipe = og.ContinuousBatchingPipeline(spec["model_dir"], sched, "CPU", props)
        result["compile_s"] = time.perf_counter() - start
        prompts = spec["prompts"]
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        tokens: list[list[int]] = [[] for _ in prompts]
        fence = Fence(len(prompts))
        stopped = [False] * len(prompts)
        start = time.perf_counter()
        handles = {i: pipe.add_request(i, ov.Tensor(np.array([prompts[i]], dtype=np.int64)), config) for i in order}
        steps = 0
        while pipe.has_non_finished_requests():
            pipe.step()
            steps += 1
            for i, handle in handles.items():
                if stopped[i] or not handle.can_read():
                    continue
                for out in handle.read().values():  # the tokens written since the last read
                    for token in out.generated_ids:
                        if stopped[i]:
                            break
                        tokens[i].append(token)
                        stopped[i] = fence.append(i, piece(token))
                if stopped[i]:
                    handle.stop()
        result["seconds"] = time.perf_counter() - start
        result.update(tokens=tokens, steps=steps, fence_stops=sum(stopped), generated_ids=sum(map(len, tokens)),
                      statuses=sorted({str(h.get_status()) for h in handles.values()}))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


# ----- the main process (.venv) ------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--difficulty", type=int, nargs=2, default=[1, 3])
    parser.add_argument("--batch-size", type=int, default=32, help="most rows decoded together, every engine")
    parser.add_argument("--max-new-tokens", type=int, default=320)
    parser.add_argument("--adapter", default=DEFAULT_REAL_ADAPTER)
    parser.add_argument("--random-std", type=float, default=2e-3, help="std of lora_B of the random adapter")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--ov-model", default=DEFAULT_OV_MODEL)
    parser.add_argument("--ov-python", default=DEFAULT_OV_PYTHON)
    parser.add_argument("--ov-adapter-mode", default="fuse", choices=["fuse", "dynamic", "static", "static_rank", "auto", "none"],
                        help="none: without the adapter (a check that the adapter changes OpenVINO's replies)")
    parser.add_argument("--ov-precision", default="bf16", choices=["bf16", "f32"], help="inference and KV cache precision")
    parser.add_argument("--ov-max-batch-tokens", type=int, default=2048)
    parser.add_argument("--engine-timeout-s", type=float, default=420,
                        help="hf_cb stops (cancelling what is left) and the OpenVINO worker is killed after this long")
    parser.add_argument("--budget-s", type=float, default=0, help="start no further engine after this many seconds (0: no limit)")
    parser.add_argument("--replies-out", default=None, help="write every engine's replies to this JSON file")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(args.engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines {sorted(unknown)}; choose from {ENGINES}")
    return args


def make_problems(count: int, difficulties: tuple[int, int]):
    from tasks import FAMILIES, make_problem

    levels = list(range(difficulties[0], difficulties[1] + 1))
    return [make_problem(FAMILIES[i % len(FAMILIES)], levels[(i // len(FAMILIES)) % len(levels)], SEED_BASE + i)
            for i in range(count)]


def build_policy(args):
    """The policy with the adapter's weights (PEFT folder), and a note of where they came from."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    from lightning_modules.policy import PolicyModule

    has = lambda d: os.path.isfile(os.path.join(d, "adapter_model.safetensors"))  # noqa: E731
    parent = os.path.dirname(args.adapter.rstrip("/")) if args.adapter else ""
    if args.adapter and not has(args.adapter) and os.path.isdir(parent):
        # e.g. iter_10 not written yet: the latest adapter of that run
        done = sorted((d for d in os.listdir(parent) if d.startswith("iter_") and d[5:].isdigit() and has(os.path.join(parent, d))),
                      key=lambda d: int(d[5:]))
        if done:
            print(f"{args.adapter} not found; using {done[-1]}", flush=True)
            args.adapter = os.path.join(parent, done[-1])
    if args.adapter and has(args.adapter):
        with open(os.path.join(args.adapter, "adapter_config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        targets = cfg["target_modules"]
        policy = PolicyModule(model=args.model, dtype="auto", lora_rank=cfg["r"], lora_alpha=cfg["lora_alpha"],
                              target_modules=sorted(targets) if isinstance(targets, list) else None)
        policy.configure_model()
        state = load_file(os.path.join(args.adapter, "adapter_model.safetensors"))
        loaded = set_peft_model_state_dict(policy.model, state)
        missing = [k for k in loaded.missing_keys if "lora_" in k]
        if loaded.unexpected_keys or missing:
            raise RuntimeError(f"adapter does not fit: unexpected {loaded.unexpected_keys[:3]}, missing {missing[:3]}")
        folder, note = args.adapter, f"{args.adapter} (r {cfg['r']}, alpha {cfg['lora_alpha']}, {len(state)} tensors)"
        scale = cfg["lora_alpha"] / (cfg["r"] ** 0.5 if cfg.get("use_rslora") else cfg["r"])
    else:
        policy = PolicyModule(model=args.model, dtype="auto", lora_rank=16, lora_alpha=32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # lora_A's initialisation
            policy.configure_model()
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for name, param in policy.model.named_parameters():
                if "lora_B" in name:
                    param.copy_(torch.randn(param.shape, generator=gen) * args.random_std)
        policy.model.save_pretrained(RANDOM_ADAPTER_DIR)
        folder, scale = RANDOM_ADAPTER_DIR, 2.0
        note = f"random LoRA r 16, alpha 32, lora_B ~ N(0, {args.random_std}) seed 0 -> {RANDOM_ADAPTER_DIR}"
        if args.adapter:
            note += f" ({args.adapter} not found)"
    policy.model.eval()
    return policy, folder, scale, note


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run_generate(model, tok, prompts, args):
    from generation.sampling import sample_replies
    from lightning_modules.merging import merged_adapter

    with merged_adapter(model):
        replies, seconds = timed(lambda: sample_replies(model, tok, prompts, n=1, temperature=0.0,
                                                        max_new_tokens=args.max_new_tokens,
                                                        batch_size=args.batch_size, decoder="generate"))
    return [r[0] for r in replies], seconds, {}


def run_hf_cb(model, tok, ids, args):
    """transformers' continuous batching on the merged model; a request is cancelled once its fence closes."""
    import torch
    from transformers import ContinuousBatchingConfig, GenerationConfig

    from generation.decoding import base_of, eos_ids
    from lightning_modules.merging import merged_adapter

    lm = base_of(model)
    eos = sorted(eos_ids(model, tok))
    gen_config = GenerationConfig(max_new_tokens=args.max_new_tokens, do_sample=False, eos_token_id=eos,
                                  pad_token_id=tok.pad_token_id)
    longest = max(len(x) for x in ids) + args.max_new_tokens
    page = 256
    blocks = min(len(ids), args.batch_size) * (-(-longest // page) + 1) + 8
    cb_config = ContinuousBatchingConfig(page_size=page, num_blocks=blocks, max_batch_tokens=args.ov_max_batch_tokens,
                                         max_requests_per_batch=args.batch_size, allow_block_sharing=False,
                                         use_cuda_graph=False, use_async_batching=False)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    tokens: list[list[int]] = [[] for _ in ids]
    fence = Fence(len(ids))
    pieces: dict[int, str] = {}
    finished = [False] * len(ids)
    cancelled = 0
    with merged_adapter(model), torch.inference_mode():
        setup_start = time.perf_counter()
        with lm.continuous_batching_context_manager(generation_config=gen_config, continuous_batching_config=cb_config,
                                                    block=True, timeout=60, warmup=False) as manager:
            setup_s = time.perf_counter() - setup_start
            start = time.perf_counter()
            by_id = {}
            for i in order:
                rid = manager.add_request(ids[i], request_id=f"p{i}", max_new_tokens=args.max_new_tokens, streaming=True)
                by_id[rid] = i
            while not all(finished):
                if time.perf_counter() - start > args.engine_timeout_s:
                    for i in range(len(ids)):
                        if not finished[i]:
                            manager.cancel_request(f"p{i}")
                    break
                out = manager.get_result(timeout=1.0)
                if out is None:
                    if not manager.is_running():
                        raise RuntimeError("transformers' continuous batching thread stopped early")
                    continue
                i = by_id.get(out.request_id)
                if i is None or finished[i]:
                    continue
                if out.error:
                    raise RuntimeError(f"request {out.request_id}: {out.error}")
                for token in out.generated_tokens[len(tokens[i]):]:
                    if token in eos:
                        finished[i] = True
                        break
                    tokens[i].append(token)
                    if token not in pieces:
                        pieces[token] = tok.decode([token])
                    if fence.append(i, pieces[token]):
                        finished[i] = True
                        manager.cancel_request(out.request_id)
                        cancelled += 1
                        break
                if out.is_finished():
                    finished[i] = True
            seconds = time.perf_counter() - start
    replies = tok.batch_decode(tokens, skip_special_tokens=True)
    extra = {"setup_s": round(setup_s, 2), "cancelled_at_fence": cancelled, "attn": lm.config._attn_implementation}
    if not all(finished):
        extra["unfinished_at_timeout"] = finished.count(False)
    return replies, seconds, extra


def ov_piece_table(tok) -> tuple[dict[int, str], list[int]]:
    """What the fence check needs of every token's text: those with a backtick, and the empty ones."""
    vocab = max(len(tok), max(tok.get_vocab().values()) + 1)
    texts = tok.batch_decode([[i] for i in range(vocab)])
    return ({i: t for i, t in enumerate(texts) if "`" in t}, [i for i, t in enumerate(texts) if t == ""])


def run_openvino(model, tok, ids, prompts, args, adapter_folder, scale, variant: str):
    from generation.decoding import eos_ids

    if not os.path.isfile(os.path.join(args.ov_model, "openvino_model.xml")):
        raise FileNotFoundError(f"no exported model at {args.ov_model} (see the set-up in this file's docstring)")
    if not os.path.isfile(args.ov_python):
        raise FileNotFoundError(f"no OpenVINO interpreter at {args.ov_python}")
    pieces, empty = ov_piece_table(tok) if variant == "cb" else ({}, [])
    spec = {"variant": variant, "model_dir": args.ov_model, "prompts": ids, "texts": prompts,
            "max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
            "max_batch_tokens": args.ov_max_batch_tokens, "cache_gb": 2, "eos": sorted(eos_ids(model, tok)),
            "pieces": {str(k): v for k, v in pieces.items()}, "empty_pieces": empty,
            "adapter_file": os.path.join(adapter_folder, "adapter_model.safetensors") if adapter_folder else None,
            "adapter_alpha": scale, "adapter_mode": args.ov_adapter_mode, "precision": args.ov_precision}
    with tempfile.TemporaryDirectory(prefix="engines_ov_") as tmp:
        spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump(spec, f)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        start = time.perf_counter()
        proc = subprocess.run([args.ov_python, os.path.abspath(__file__), "--ov-worker", spec_path, out_path],
                              env=env, capture_output=True, text=True, timeout=args.engine_timeout_s + 180)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"OpenVINO worker failed ({proc.returncode}): {proc.stderr[-3000:]}")
        with open(out_path, encoding="utf-8") as f:
            out = json.load(f)
    warnings = [line.strip() for line in (proc.stdout + proc.stderr).splitlines()
                if "warn" in line.lower() or "unused" in line.lower()]
    replies = out["texts"] if variant == "llm" else tok.batch_decode(out["tokens"], skip_special_tokens=True)
    extra = {k: out[k] for k in ("steps", "fence_stops", "generated_ids", "statuses", "prompt_token_mismatches",
                                 "cpu_capabilities") if k in out}
    extra.update(compile_s=round(out["compile_s"], 2), process_s=round(wall, 2), adapter=out["adapter"],
                 versions=out["versions"], properties=out["properties"], warnings=warnings[:10])
    return replies, out["seconds"], extra


def main(argv=None) -> dict:
    args = parse_args(argv)
    sys.path.insert(0, ROOT)
    import torch  # noqa: F401
    import transformers

    from benchmarks.headline import device_name, emit

    problems = make_problems(args.problems, tuple(args.difficulty))
    (policy, adapter_folder, scale, adapter_note), load_s = timed(lambda: build_policy(args))
    model, tok = policy.model, policy.tokenizer
    prompts = [policy.render(p.prompt) for p in problems]
    ids = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    print(f"{args.model} on {device_name()}, dtype {next(model.parameters()).dtype}; transformers "
          f"{transformers.__version__}, torch {torch.__version__}; load {load_s:.1f} s", flush=True)
    print(f"adapter: {adapter_note}", flush=True)
    print(f"{len(problems)} problems ({', '.join(sorted({p.family for p in problems}))}; difficulty "
          f"{args.difficulty[0]}-{args.difficulty[1]}), prompt tokens {sum(map(len, ids))} (max {max(map(len, ids))}), "
          f"greedy, budget {args.max_new_tokens}, batch size {args.batch_size}, stop at eos or closed fence", flush=True)

    results: dict[str, dict] = {}
    began = time.perf_counter()
    for engine in args.engines:
        if args.budget_s and time.perf_counter() - began > args.budget_s:
            print(f"{engine}: skipped (the engines before it took more than --budget-s {args.budget_s:.0f} s)", flush=True)
            results[engine] = {"error": "skipped: time budget"}
            continue
        try:
            if engine == "ours":
                out, seconds = timed(lambda: policy.sample([p.prompt for p in problems], n=1, temperature=0.0, top_p=1.0,
                                                           max_new_tokens=args.max_new_tokens, batch_size=args.batch_size))
                replies, extra = [r[0] for r in out], {}
            elif engine == "generate":
                replies, seconds, extra = run_generate(model, tok, prompts, args)
            elif engine == "hf_cb":
                replies, seconds, extra = run_hf_cb(model, tok, ids, args)
            else:
                variant = "llm" if engine == "openvino_llm" else "cb"
                replies, seconds, extra = run_openvino(model, tok, ids, prompts, args, adapter_folder, scale, variant)
        except Exception as error:  # one engine failing must not lose the others' figures
            print(f"{engine}: FAILED: {type(error).__name__}: {str(error)[-2000:]}", flush=True)
            results[engine] = {"error": f"{type(error).__name__}: {str(error)[-500:]}"}
            continue
        tokens = sum(len(tok(r, add_special_tokens=False)["input_ids"]) for r in replies)
        results[engine] = {"replies": replies, "seconds": seconds, "tokens": tokens, **extra}
        print(f"{engine}: {seconds:.1f} s, {tokens} tokens, {tokens / seconds:.1f} tokens/s {extra or ''}", flush=True)

    def same(a: str, b: str) -> tuple[int, int]:
        ra, rb = results.get(a, {}).get("replies"), results.get(b, {}).get("replies")
        if ra is None or rb is None:
            return (-1, -1)
        return (sum(cut_at_fence(x) == cut_at_fence(y) for x, y in zip(ra, rb)), sum(x == y for x, y in zip(ra, rb)))

    n = len(problems)
    print(f"\n{'engine':<12}{'seconds':>9}{'tokens':>8}{'tokens/s':>10}{'= ours':>8}{'= generate':>12}  notes")
    table = {}
    for engine, r in results.items():
        if "error" in r:
            print(f"{engine:<12}{'failed':>9}  {r['error'][:100]}")
            table[engine] = {"error": r["error"]}
            continue
        vs_ours, vs_gen = same(engine, "ours"), same(engine, "generate")
        notes = {k: v for k, v in r.items() if k not in ("replies", "seconds", "tokens")}
        fmt = lambda m: "-" if m[0] < 0 else f"{m[0]}/{n}"  # noqa: E731
        print(f"{engine:<12}{r['seconds']:>9.1f}{r['tokens']:>8}{r['tokens'] / r['seconds']:>10.1f}"
              f"{fmt(vs_ours):>8}{fmt(vs_gen):>12}  {json.dumps(notes) if notes else ''}")
        table[engine] = {"seconds": round(r["seconds"], 1), "tokens": r["tokens"],
                         "tokens_per_s": round(r["tokens"] / r["seconds"], 1),
                         "same_as_ours": vs_ours[0] if vs_ours[0] >= 0 else None,
                         "same_as_ours_exact": vs_ours[1] if vs_ours[1] >= 0 else None,
                         "same_as_generate": vs_gen[0] if vs_gen[0] >= 0 else None}
    if args.replies_out:
        with open(args.replies_out, "w", encoding="utf-8") as f:
            json.dump({"prompts": prompts, "replies": {e: r.get("replies") for e, r in results.items()}}, f)
    ov_versions = results.get("openvino", {}).get("versions", {})
    others = {e: t["tokens_per_s"] for e, t in table.items() if e != "ours" and "tokens_per_s" in t}
    ours = table.get("ours", {}).get("tokens_per_s")
    best = max(others.values()) if others else None
    result = {"metric": "engine_tokens_per_s", "value": ours, "unit": "tokens/s", "baseline": best,
              "baseline_engine": max(others, key=others.get) if others else None,
              "ratio": round(ours / best, 2) if ours and best else None,
              "model": args.model, "problems": n, "max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
              "adapter": adapter_folder, "transformers": transformers.__version__, **ov_versions, "engines": table}
    return emit(result, model)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--ov-worker":
        ov_worker(sys.argv[2], sys.argv[3])
    else:
        main()

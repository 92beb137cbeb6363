"""Continuous batching against fixed batches, on real replies.

    .venv/bin/python benchmarks/continuous.py [--model qwen2.5-coder-0.5b-instruct] [--problems 24] [--batch-size 8]

Greedy replies (so both variants write the same text) to real training problems, stopping at the
closed code fence or end of sequence, adapter merged as in ``PolicyModule.sample``. Baseline: fixed
batches of ``--batch-size`` prompts decoded one after another (a finished row leaves its batch, but
its place stays empty until the whole batch is done: the sampler before continuous batching).
Ours: one ``sample_replies`` call, where the next prompt takes a finished row's place. Prompts are
sorted by length in both. The last line is the JSON headline (ratio = baseline seconds / ours).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.greedy_replies import model_and_prompts, parse_args, report, timed  # noqa: E402
from lightning_modules.merging import merged_adapter  # noqa: E402
from generation.sampling import sample_replies  # noqa: E402


def main(argv=None) -> dict:
    args = parse_args(__doc__, argv, problems=24, batch_size=8)
    model, tok, prompts = model_and_prompts(args, seed=2)
    prompts.sort(key=len)
    common = dict(n=1, temperature=0.0, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    size = args.batch_size
    with merged_adapter(model):
        fixed = timed("fixed batches (a finished row stays empty)",
                      lambda: [reply for i in range(0, len(prompts), size)
                               for reply in sample_replies(model, tok, prompts[i : i + size], **common)])
        ours = timed("ours: continuous (the next prompt joins)", lambda: sample_replies(model, tok, prompts, **common))
    return report(args, tok, "continuous_batching_tokens_per_s", fixed, ours, model)


if __name__ == "__main__":
    main()

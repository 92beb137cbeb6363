"""Finished rows leaving the batch: our decode loop against ``generate`` on real replies.

    .venv/bin/python benchmarks/early_stop.py [--model qwen2.5-coder-0.5b-instruct] [--problems 16]

Greedy replies (so both variants write the same text) to real training problems, stopping at the
closed code fence or end of sequence, ``--batch-size`` sequences decoded together, adapter merged
as in ``PolicyModule.sample``. Baseline: ``model.generate`` with the same shared prompt
processing and fence stop, where a finished row stays in the batch until the last row finishes.
Ours: ``generation.continuous.decode``, where a finished row leaves the batch at once.
The last line is the JSON headline (ratio = baseline seconds / our seconds).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.greedy_replies import model_and_prompts, parse_args, report, timed  # noqa: E402
from lightning_modules.merging import merged_adapter  # noqa: E402
from generation.sampling import sample_replies  # noqa: E402


def main(argv=None) -> dict:
    args = parse_args(__doc__, argv, problems=16, batch_size=16)
    model, tok, prompts = model_and_prompts(args, seed=0)
    common = dict(n=1, temperature=0.0, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    with merged_adapter(model):
        baseline = timed("generate (finished rows stay in the batch)",  # the reference decoder
                         lambda: sample_replies(model, tok, prompts, **common, decoder="generate"))
        ours = timed("ours (finished rows leave the batch)", lambda: sample_replies(model, tok, prompts, **common))
    return report(args, tok, "greedy_reply_tokens_per_s", baseline, ours, model)


if __name__ == "__main__":
    main()

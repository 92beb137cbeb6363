"""From replies to verdicts: code extraction and sandbox verdict rows, failure causes, solution selection, pass@k and intervals (no Lightning)."""

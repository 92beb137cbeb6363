"""Reading a run folder back: the report, the failure tables, the per-iteration summary, samples files, progress bars (no Lightning)."""

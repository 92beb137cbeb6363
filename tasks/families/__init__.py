"""Registry of problem families; each module has the same small interface.

Every family module defines `NAME`, `SUMMARY`, `sample_spec(rng, difficulty)`,
`reference_source(spec)`, `solve(spec, *args)`, `sample_inputs(rng, spec, difficulty)` and
`prompt(spec, examples)`.
"""
from __future__ import annotations

from tasks.families import arithmetic, base_convert, caesar, parentheses, rpn, run_length

FAMILY_MODULES = {m.NAME: m for m in (arithmetic, rpn, parentheses, run_length, base_convert,
                                      caesar)}

"""`make_problem`: one deterministic problem from (family, difficulty, seed)."""
from __future__ import annotations

import json

from tasks.families import FAMILY_MODULES
from tasks.families._common import MAX_TESTS, MIN_TESTS
from tasks.problem import Problem, TestCase, problem_id
from tasks.seeding import derive_rng

FAMILIES: tuple[str, ...] = tuple(FAMILY_MODULES)
DIFFICULTIES = range(1, 11)


def check_family(family: str) -> None:
    """Raise ValueError unless `family` is a known family name."""
    if family not in FAMILY_MODULES:
        raise ValueError(f"family={family!r} is unknown; allowed values: {', '.join(FAMILIES)}")


def check_difficulty(difficulty: int, field: str = "difficulty") -> None:
    """Raise ValueError unless `difficulty` is an int in 1..10 (bool is refused)."""
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= 10:
        raise ValueError(f"{field}={difficulty!r} is invalid; allowed values: integers 1..10")


def make_problem(family: str, difficulty: int, seed: int) -> Problem:
    """Build the problem for (family, difficulty, seed); same arguments, same problem.

    >>> p = make_problem("rpn", 5, 123)
    >>> p.family, p.difficulty, p.id == make_problem("rpn", 5, 123).id
    ('rpn', 5, True)
    """
    check_family(family)
    check_difficulty(difficulty)
    module = FAMILY_MODULES[family]
    rng = derive_rng(family, difficulty, seed)
    spec = module.sample_spec(rng, difficulty)
    drawn = module.sample_inputs(rng, spec, difficulty)
    inputs = drawn[:MAX_TESTS]
    if len(inputs) < MIN_TESTS:
        raise RuntimeError(f"{family} produced only {len(inputs)} tests for seed {seed}")
    tests = [TestCase(args=args, expected=module.solve(spec, *args)) for args in inputs]
    examples = _examples(module, spec, inputs, derive_rng(family, difficulty, seed, "examples"))
    return Problem(
        id=problem_id(family, difficulty, spec, tests),
        family=family,
        difficulty=difficulty,
        prompt=module.prompt(spec, examples),
        entry_point=spec["entry_point"],
        tests=tests,
        reference=module.reference_source(spec),
        spec=spec,
        edge_tests=min(getattr(drawn, "edge", 0), len(inputs)),
    )


def _examples(module, spec: dict, hidden: list[list], rng) -> list[tuple[list, object]]:
    """Two or three small worked examples, preferably not among the hidden tests, with at least
    two different answers when the pool has them (three balanced strings teach a bracket checker
    nothing about mismatched kinds)."""
    hidden_keys = {json.dumps(args) for args in hidden}
    drawn = module.sample_inputs(rng, spec, 1, edge_cases=False)
    pool = [a for a in drawn if json.dumps(a) not in hidden_keys]
    pool = sorted(pool, key=lambda a: len(json.dumps(a)))[:8] or hidden[:3]
    chosen = rng.sample(pool, min(len(pool), rng.choice([2, 3])))
    shown = [(args, module.solve(spec, *args)) for args in chosen]
    if len({json.dumps(e) for _, e in shown}) == 1:  # all True, say: show one other answer too
        other = next((a for a in pool if json.dumps(module.solve(spec, *a)) != json.dumps(shown[0][1])), None)
        if other is not None:
            shown[-1] = (other, module.solve(spec, *other))
    return shown

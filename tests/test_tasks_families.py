"""Every family: references pass their own tests, solver and reference agree, specs vary."""
import itertools
import json

import pytest

from tasks import FAMILIES, make_problem
from tasks.families import FAMILY_MODULES

SEEDS = range(20)
DIFFICULTIES = range(1, 11)
REQUIRED = {"arithmetic", "rpn", "parentheses"}


def load(source: str, entry_point: str):
    """Exec one of our own trusted reference sources and return its function."""
    namespace: dict = {}
    exec(compile(source, "<reference>", "exec"), namespace)
    return namespace[entry_point]


def failures(source: str, problem) -> list:
    """Tests the source gets wrong (value or type), an exception counting as wrong."""
    try:
        fn = load(source, problem.entry_point)
    except Exception as err:  # a broken source fails everything
        return [repr(err)]
    bad = []
    for test in problem.tests:
        try:
            got = fn(*test.args)
        except Exception as err:
            got = err
        if type(got) is not type(test.expected) or got != test.expected:
            bad.append((test.args, test.expected, got))
    return bad


def test_family_names():
    assert REQUIRED <= set(FAMILIES)
    assert len(FAMILIES) >= 6
    assert set(FAMILIES) == set(FAMILY_MODULES)


@pytest.mark.parametrize("family", FAMILIES)
def test_reference_passes_own_tests_at_every_difficulty(family):
    for difficulty, seed in itertools.product(DIFFICULTIES, SEEDS):
        problem = make_problem(family, difficulty, seed)
        assert failures(problem.reference, problem) == [], (family, difficulty, seed)


@pytest.mark.parametrize("family", FAMILIES)
def test_problem_shape(family):
    for difficulty, seed in itertools.product(DIFFICULTIES, range(5)):
        p = make_problem(family, difficulty, seed)
        assert 10 <= len(p.tests) <= 30
        assert len({json.dumps(t.args) for t in p.tests}) == len(p.tests), "duplicate tests"
        json.dumps([[t.args, t.expected] for t in p.tests])  # plain JSON data
        assert not any(isinstance(v, float) for t in p.tests for v in [t.expected, *t.args])
        assert json.loads(json.dumps(p.spec)) == p.spec
        assert p.entry_point == p.spec["entry_point"] and p.entry_point.isidentifier()
        assert f"def {p.entry_point}(" in p.prompt and "```python" in p.prompt
        assert f"def {p.entry_point}(" in p.reference


@pytest.mark.parametrize("family", FAMILIES)
def test_prompt_examples_are_correct_and_mostly_not_hidden(family):
    hidden_hits = shown = 0
    for seed in range(20):
        p = make_problem(family, 5, seed)
        fn = load(p.reference, p.entry_point)
        examples = p.prompt.split("Examples:\n")[1].split("\n\n")[0].splitlines()
        assert 2 <= len(examples) // 2 <= 3
        for call, expected in zip(examples[::2], examples[1::2]):
            call = call.strip().removeprefix(">>> ")
            assert repr(eval(call, {p.entry_point: fn})) == expected.strip()
            args = eval("[" + call[len(p.entry_point) + 1:-1] + "]")
            hidden_hits += any(t.args == args for t in p.tests)
            shown += 1
    assert hidden_hits <= shown // 10


@pytest.mark.parametrize("family", FAMILIES)
def test_hidden_inputs_grow_with_difficulty(family):
    def size(d):
        return sum(len(json.dumps(t.args)) for s in range(10) for t in make_problem(family, d, s).tests)
    assert size(10) > 2 * size(1)


@pytest.mark.parametrize("family", FAMILIES)
def test_specs_vary_across_seeds(family):
    # difficulty 10: past the ladder, where every twist may be drawn
    specs = {json.dumps(make_problem(family, 10, seed).spec, sort_keys=True) for seed in range(50)}
    names = {make_problem(family, 10, seed).entry_point for seed in range(50)}
    assert len(specs) >= 25 and len(names) >= 3


def _conflicts(family: str, a: dict, b: dict) -> bool:
    """True when two specs ask for different behaviour on inputs both could see."""
    def view(spec):
        v = {k: x for k, x in spec.items() if k != "entry_point" and x not in (None, "never")}
        if family == "arithmetic":
            v.pop("operators", None), v.pop("unary_minus"), v.pop("spaces")
        if family == "rpn":
            v.pop("operators"), v.pop("negative_literals"), v.pop("malformed", None)
        if family == "parentheses":
            v.pop("ignored")
        if family == "run_length":
            v.pop("letters")
            if spec["direction"] == "decode":
                v.pop("ones")
        if family == "caesar" and spec["direction"] == "decrypt":
            v["shift"], v["direction"] = 26 - spec["shift"], "encrypt"
            v["digit_shift"] = -spec["shift"] % 10
        elif family == "caesar":
            v["digit_shift"] = spec["shift"] % 10
        if family == "caesar" and spec["digits"] != "rotate":
            v.pop("digit_shift")
        return v
    va, vb = view(a), view(b)
    return any(va[k] != vb[k] for k in set(va) & set(vb))


@pytest.mark.parametrize("family", FAMILIES)
def test_one_reference_does_not_solve_two_different_specs(family):
    """No single reference solves both of two problems whose specs conflict."""
    problems = [make_problem(family, 10, seed) for seed in range(24)]  # past the ladder
    checked = 0
    for a, b in itertools.combinations(problems, 2):
        if not _conflicts(family, a.spec, b.spec):
            continue
        a_on_b = failures(a.reference + f"\n{b.entry_point} = {a.entry_point}\n", b)
        b_on_a = failures(b.reference + f"\n{a.entry_point} = {b.entry_point}\n", a)
        # One direction may pass when a's domain is a subset (e.g. fewer bracket kinds).
        assert a_on_b or b_on_a, (a.spec, b.spec)
        checked += 1
    assert checked >= 100


@pytest.mark.parametrize("family", FAMILIES)
def test_independent_solver_is_deterministic_and_pure(family):
    module = FAMILY_MODULES[family]
    p = make_problem(family, 7, 3)
    snapshot = json.dumps(p.spec)
    assert [module.solve(p.spec, *t.args) for t in p.tests] == [t.expected for t in p.tests]
    assert json.dumps(p.spec) == snapshot


@pytest.mark.parametrize("family", FAMILIES)
def test_prompt_examples_show_more_than_one_answer(family):
    same = 0
    for difficulty, seed in itertools.product((1, 2, 3), range(20)):
        p = make_problem(family, difficulty, seed)
        shown = p.prompt.split("Examples:\n")[1].split("\n\n")[0].splitlines()[1::2]
        same += len(set(shown)) == 1
    assert same <= 3, same  # three balanced strings teach a bracket checker nothing about kinds

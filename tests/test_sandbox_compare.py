"""Comparison semantics: exact type and value, decided in the trainer process."""
import math

import pytest

from sandbox import NotPlainData, equal, verify
from sandbox.codec import canon_expected, canon_output, decode_line


@pytest.mark.parametrize("out,exp,same", [
    (1, 1, True),
    (True, 1, False),            # bool is not int
    (1, True, False),
    (False, 0, False),
    (1.0, 1, False),             # float is not int
    (1, 1.0, False),
    (0.1 + 0.2, 0.30000000000000004, True),
    (0.1 + 0.2, 0.3, False),     # no tolerance
    (-0.0, 0.0, True),
    (float("nan"), float("nan"), False),  # NaN equals nothing
    ([1, [2, float("nan")]], [1, [2, float("nan")]], False),
    (float("inf"), float("inf"), True),
    (float("-inf"), float("inf"), False),
    ("1", 1, False),
    (None, None, True),
    (None, 0, False),
    ([], None, False),
    ([1, [2, [3]]], [1, [2, [3]]], True),
    ([1, [2, [3]]], [1, [2, [4]]], False),
    ([1, 2], [2, 1], False),
    ((1, 2), [1, 2], True),      # tuples are JSON arrays: same as lists (documented)
    ([(1, "a")], [[1, "a"]], True),
    ({"a": 1, "b": [1]}, {"b": [1], "a": 1}, True),
    ({"a": 1}, {"a": True}, False),
    ({1: "x"}, {"1": "x"}, False),  # int keys stay ints
    ({(1, 2): 3}, {(1, 2): 3}, True),
    (10 ** 40, 10 ** 40, True),   # big ints survive
    (10 ** 40, 10 ** 40 + 1, False),
    (-(2 ** 63), -(2 ** 63), True),
    ("é\u2603\U0001F600", "é\u2603\U0001F600", True),
])
def test_equal(out, exp, same):
    assert equal(out, exp) is same


def test_subclasses_are_not_plain_data():
    class I(int):
        def __eq__(self, o):
            return True
    class S(str):
        pass
    assert equal(I(3), 3) is False
    assert equal(S("a"), "a") is False
    assert equal([I(3)], [3]) is False
    with pytest.raises(NotPlainData):
        canon_expected({1, 2})


def test_untrusted_wire_lines_never_raise_unexpectedly():
    for bad in ["", "[", "{}", "nan", '{"k": NaN}', "[" * 100000 + "]" * 100000, "1" * 10000,
                '{"k":"r","i":0,"v":' + "9" * 5000 + "}"]:
        try:
            m = decode_line(bad)
        except NotPlainData:
            continue
        assert isinstance(m, dict)
    for wire in [{"$i": "zz"}, {"$f": "wat"}, {"$d": [[1]]}, {"x": 1}, {"$d": 5}]:
        with pytest.raises(NotPlainData):
            canon_output(wire)
    deep = []
    cur = deep
    for _ in range(500):
        cur.append([])
        cur = cur[0]
    with pytest.raises(NotPlainData):
        canon_output(deep)


@pytest.mark.parametrize("ret,exp,status", [
    ("True", 1, "wrong_answer"),
    ("1", True, "wrong_answer"),
    ("3.0", 3, "wrong_answer"),
    ("float('nan')", float("nan"), "wrong_answer"),
    ("(1, 2)", [1, 2], "pass"),
    ("[1, [2, 3]]", (1, (2, 3)), "pass"),
    ("{'a': [1, 2.5, None]}", {"a": [1, 2.5, None]}, "pass"),
    ("10 ** 50", 10 ** 50, "pass"),
    ("float('inf')", math.inf, "pass"),
    ("'x' * 10000", "x" * 10000, "pass"),
    ("[[[[]]]]", [[[[]]]], "pass"),
    ("eval('[' * 150 + ']' * 150)", None, "bad_output"),  # deeper than the codec allows
])
def test_comparison_through_the_sandbox(ret, exp, status):
    code = "def f():\n    return %s\n" % ret
    v = verify(code, "f", [{"args": [], "expected": exp}])
    assert v.status == status, v


def test_arguments_keep_their_types():
    code = ("def f(*a):\n    return [type(x).__name__ for x in a]\n")
    args = [1, True, 1.5, "s", None, [1], {"k": 2}, 10 ** 30, float("nan"), {3: 4}]
    exp = ["int", "bool", "float", "str", "NoneType", "list", "dict", "int", "float", "dict"]
    assert verify(code, "f", [{"args": args, "expected": exp}]).passed
    code2 = "def f(d):\n    return sorted(d.keys())\n"
    assert verify(code2, "f", [{"args": [{3: 4, 1: 2}], "expected": [1, 3]}]).passed

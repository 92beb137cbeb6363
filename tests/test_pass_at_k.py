"""The unbiased pass@k estimator against hand-computed values."""

import math

import pytest

from verify.pass_at_k import mean_by, pass_at_k


@pytest.mark.parametrize("n,c,k,expected", [
    (1, 0, 1, 0.0),
    (1, 1, 1, 1.0),
    (10, 3, 1, 0.3),                          # pass@1 is the plain fraction
    (5, 2, 2, 1 - 3 / 10),                    # 1 - C(3,2)/C(5,2)
    (10, 1, 5, 1 - 126 / 252),                # 1 - C(9,5)/C(10,5)
    (20, 5, 10, 1 - math.comb(15, 10) / math.comb(20, 10)),
    (8, 7, 2, 1.0),                           # fewer than k wrong samples: always solved
])
def test_pass_at_k_matches_combinatorial_formula(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError, match="at least 5 samples"):
        pass_at_k(4, 1, 5)
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)


def test_mean_by_groups():
    rows = [{"f": "a", "d": 1, "v": 1.0}, {"f": "a", "d": 2, "v": 0.0}, {"f": "b", "d": 1, "v": 1.0}]
    assert mean_by(rows, "v") == {"all": pytest.approx(2 / 3)}
    assert mean_by(rows, "v", "d") == {"1": 1.0, "2": 0.0}

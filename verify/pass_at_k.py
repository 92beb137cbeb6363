"""The unbiased pass@k estimator (Chen et al. 2021) and grouped accuracy tables. Pure functions."""

from __future__ import annotations

from collections import defaultdict


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c of them correct) is correct.

    1 - C(n-c, k) / C(n, k), computed as a stable product.

    >>> pass_at_k(10, 0, 5)
    0.0
    >>> pass_at_k(10, 10, 1)
    1.0
    >>> round(pass_at_k(5, 1, 1), 6)
    0.2
    >>> round(pass_at_k(4, 2, 2), 6)  # 1 - C(2,2)/C(4,2) = 1 - 1/6
    0.833333
    """
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"need 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per problem, got n={n}")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def mean_by(rows: list[dict], value: str, key: str | None = None) -> dict[str, float]:
    """Mean of ``row[value]`` overall (key None -> {"all": ...}) or per ``row[key]``.

    >>> mean_by([{"f": "a", "v": 1.0}, {"f": "b", "v": 0.0}, {"f": "a", "v": 0.0}], "v", "f")
    {'a': 0.5, 'b': 0.0}
    """
    groups: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        groups["all" if key is None else str(row[key])].append(float(row[value]))
    return {g: sum(vs) / len(vs) for g, vs in sorted(groups.items())}

"""95% intervals for accuracies measured on a few problems. Pure functions, no numpy.

- greedy pass@1 is a proportion (problems solved / problems): the Wilson score interval;
- sampled pass@1 is a mean over problems of c/n (n samples each): the same interval with the
  mean as the proportion and the problems as n (conservative, see ``mean_interval``).
"""

from __future__ import annotations

import math


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` ((0, 1) when n is 0).

    >>> [round(x, 3) for x in wilson(0, 10)]
    [0.0, 0.278]
    >>> [round(x, 3) for x in wilson(5, 10)]
    [0.237, 0.763]
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= n + 1e-9:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: list[float], z: float = 1.96) -> tuple[float, float]:
    """95% interval of the mean of per-problem rates in [0, 1] (sampled pass@1: c/n per problem).

    The Wilson interval with the mean as the proportion and the number of problems as n. A rate
    in [0, 1] with mean p has variance at most p(1 - p), so this is conservative (at least as wide
    as the binomial case of one sample per problem), and unlike a bootstrap it does not collapse
    to a point when every problem scores the same (0 of 60 solved is not certainty about 0%).

    >>> [round(x, 3) for x in mean_interval([0.0] * 10)]
    [0.0, 0.278]
    >>> [round(x, 3) for x in mean_interval([0.25, 0.75])] == [round(x, 3) for x in wilson(1, 2)]
    True
    """
    if not values:
        return 0.0, 1.0
    return wilson(sum(values), len(values), z)

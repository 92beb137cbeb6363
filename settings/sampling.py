"""One sampling phase's settings (harvest, evaluation, HumanEval), checked once when built."""

from __future__ import annotations

import dataclasses
import random

from settings.errors import finite, is_int, require


@dataclasses.dataclass(frozen=True)
class SamplingArgs:
    """``n`` replies per prompt at ``temperature`` (0: greedy) and ``top_p``, up to ``max_new_tokens``
    each, ``batch_size`` sequences decoded together; ``timeout_s`` is the sandbox's limit per
    candidate (None: its default) and ``seed`` the base of each phase's sampling seed.

    Built by a callback from its own config fields; ``owner`` and ``count_field`` name them in
    an error (e.g. ``harvest.samples_per_problem = 0 is invalid: must be an integer >= 1``).
    """

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 384
    batch_size: int = 16
    timeout_s: float | None = None
    seed: int = 0
    owner: str = "sampling"
    count_field: str = "samples_per_problem"

    def __post_init__(self):
        o = self.owner
        require(is_int(self.n) and self.n >= 1, f"{o}.{self.count_field}", self.n, "an integer >= 1")
        require(finite(self.temperature) and self.temperature >= 0, f"{o}.temperature", self.temperature,
                "a number >= 0")
        require(self.temperature > 0 or self.n == 1, f"{o}.temperature", self.temperature,
                "> 0 when more than one sample per problem is drawn (0 means greedy)")
        require(finite(self.top_p) and 0 < self.top_p <= 1, f"{o}.top_p", self.top_p, "in (0, 1]")
        require(is_int(self.max_new_tokens) and self.max_new_tokens >= 1, f"{o}.max_new_tokens",
                self.max_new_tokens, "an integer >= 1 (a reply of 0 tokens holds no code)")
        require(is_int(self.batch_size) and self.batch_size >= 1, f"{o}.batch_size", self.batch_size,
                "an integer >= 1")
        require(self.timeout_s is None or (finite(self.timeout_s) and self.timeout_s > 0), f"{o}.timeout_s",
                self.timeout_s, "null or a number > 0")
        require(is_int(self.seed), f"{o}.seed", self.seed, "an integer")

    def replace(self, **changes) -> "SamplingArgs":
        """A copy with some settings changed (checked again)."""
        return dataclasses.replace(self, **changes)

    def sample_kwargs(self, iteration: int, phase: str) -> dict:
        """Keyword arguments of ``PolicyModule.sample`` for one phase of one iteration."""
        return dict(n=self.n, temperature=self.temperature, top_p=self.top_p, max_new_tokens=self.max_new_tokens,
                    batch_size=self.batch_size, seed=phase_seed(self.seed, iteration, phase))


def phase_seed(seed: int, iteration: int, phase: str) -> int:
    """A sampling seed for one phase of one iteration, the same across resumes.

    >>> phase_seed(0, 3, "harvest") == phase_seed(0, 3, "harvest") != phase_seed(0, 3, "val")
    True
    """
    return random.Random(f"{seed}:{iteration}:{phase}").randrange(2**31)

"""Checks of sampling settings, run when the config is parsed (before any model loads)."""

from __future__ import annotations

from lightning_modules.checks import finite, require


def check_sampling_args(owner, samples, temperature, top_p, max_new_tokens, batch_size, timeout_s) -> None:
    require(isinstance(samples, int) and samples >= 1, f"{owner}.samples_per_problem", samples, "an integer >= 1")
    require(finite(temperature) and temperature >= 0, f"{owner}.temperature", temperature, "a number >= 0")
    require(temperature > 0 or samples == 1, f"{owner}.temperature", temperature,
            "> 0 when more than one sample per problem is drawn (0 means greedy)")
    require(finite(top_p) and 0 < top_p <= 1, f"{owner}.top_p", top_p, "in (0, 1]")
    check_decoding_args(owner, max_new_tokens, batch_size, timeout_s)


def check_decoding_args(owner, max_new_tokens, batch_size, timeout_s) -> None:
    """The settings every reply needs, greedy or sampled."""
    require(isinstance(max_new_tokens, int) and not isinstance(max_new_tokens, bool) and max_new_tokens >= 1,
            f"{owner}.max_new_tokens", max_new_tokens, "an integer >= 1 (a reply of 0 tokens holds no code)")
    require(isinstance(batch_size, int) and batch_size >= 1, f"{owner}.batch_size", batch_size, "an integer >= 1")
    require(timeout_s is None or (finite(timeout_s) and timeout_s > 0), f"{owner}.timeout_s", timeout_s,
            "null or a number > 0")

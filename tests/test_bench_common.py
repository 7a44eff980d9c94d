"""bench/common.py's figures: the benchmarks print them, so they must hold for any number of runs."""

from __future__ import annotations

from bench.common import p95


def test_p95_of_a_single_run_is_that_run() -> None:
    assert p95([4.5]) == 4.5  # `--runs 1` used to crash: statistics.quantiles needs two values


def test_p95_of_many_runs_is_near_their_top() -> None:
    assert 95 <= p95([float(n) for n in range(1, 101)]) <= 96

"""Tests for simdeploy.rules.latency_bins: the layout rows, then the 1% bound against numpy.

The bound under test (DDSketch's, Masson et al. 2019): a value x in [MIN_S, MAX_S) reads
back from its bin within α = 1% of x, so the q-quantile read from a histogram is within 1%
of the exact rank-based quantile (numpy's ``method="inverted_cdf"``).
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simdeploy.rules.latency_bins import (
    ALPHA,
    BIN_VALUES,
    GAMMA,
    MAX_S,
    MIN_S,
    N_BINS,
    OVERFLOW,
    bin_edges,
    bin_index,
    bin_value,
    histogram_of,
    merge,
    quantile,
    quantiles,
    rank,
)

QS = (0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0)
#: Float slack on the 1% bound: a value within one rounding of a bin edge may land in the
#: neighbour bin (log() is not exact), which moves the read-back by ~1e-16 relative.
SLACK = 1e-12
in_range = st.floats(min_value=MIN_S, max_value=MAX_S, exclude_max=True)


def exact(samples: np.ndarray, q: float) -> float:
    return float(np.quantile(samples, q, method="inverted_cdf"))


def test_layout_constants() -> None:
    # γ = 1.01 / 0.99; 115 bins per decade; 0.1 ms .. 1000 s is 7 decades → 806 bins,
    # plus the zero bin and the overflow bin.
    assert math.isclose(GAMMA, 1.0202020202, rel_tol=1e-10)
    assert math.log(10) / math.log(GAMMA) == pytest.approx(115.125, abs=1e-3)
    assert N_BINS == 808 and OVERFLOW == 807
    assert 1000.0 <= MAX_S < 1000.0 * GAMMA
    assert len(BIN_VALUES) == N_BINS


@pytest.mark.parametrize(
    ("latency_s", "k"),
    [
        pytest.param(0.0, 0, id="zero: a warm-up error answers at once"),
        pytest.param(5e-5, 0, id="50 us: below the range"),
        pytest.param(MIN_S, 1, id="0.1 ms: first regular bin"),
        pytest.param(1e-3, 116, id="1 ms"),
        pytest.param(0.05, 311, id="50 ms"),
        pytest.param(1.0, 461, id="1 s"),
        pytest.param(10.0, 576, id="10 s"),
        pytest.param(1000.0, 806, id="1000 s: last regular bin"),
        pytest.param(MAX_S, OVERFLOW, id="end of the range"),
        pytest.param(1e4, OVERFLOW, id="10000 s"),
        pytest.param(math.inf, OVERFLOW, id="inf"),
    ],
)
def test_bin_index_rows(latency_s: float, k: int) -> None:
    assert bin_index(latency_s) == k
    lo, hi = bin_edges(k)
    assert lo <= latency_s < hi or (latency_s == math.inf and hi == math.inf)


def test_50ms_worked_example() -> None:
    # The module docstring's numbers: bin 311 is [49.29 ms, 50.28 ms) and reads 49.78 ms.
    lo, hi = bin_edges(311)
    assert (lo, hi) == (pytest.approx(0.049285, abs=1e-6), pytest.approx(0.050281, abs=1e-6))
    assert bin_value(311) == pytest.approx(0.049778, abs=1e-6)
    assert abs(bin_value(311) - 0.05) / 0.05 == pytest.approx(0.0044, abs=1e-4)


def test_special_bins_read_back() -> None:
    assert bin_value(0) == 0.0
    assert bin_value(OVERFLOW) == MAX_S
    assert bin_edges(0) == (0.0, MIN_S)
    assert bin_edges(OVERFLOW) == (MAX_S, math.inf)


def test_bins_tile_the_range() -> None:
    # Each regular bin starts where the previous ends, and its width is γ - 1 of its start.
    for k in range(1, OVERFLOW):
        lo, hi = bin_edges(k)
        assert lo == pytest.approx(bin_edges(k - 1)[1], rel=1e-12)
        assert hi / lo == pytest.approx(GAMMA, rel=1e-12)
    assert bin_edges(OVERFLOW - 1)[1] == pytest.approx(MAX_S, rel=1e-12)


def test_bin_value_is_alpha_from_both_edges() -> None:
    # 2·lo·hi/(lo+hi) is the one point within α of everything in [lo, hi).
    for k in (1, 116, 311, 461, 806):
        lo, hi = bin_edges(k)
        v = bin_value(k)
        assert (v - lo) / lo == pytest.approx(ALPHA, rel=1e-9)
        assert (hi - v) / hi == pytest.approx(ALPHA, rel=1e-9)


@given(in_range)
def test_every_value_reads_back_within_one_percent(x: float) -> None:
    k = bin_index(x)
    lo, hi = bin_edges(k)
    assert lo * (1 - SLACK) <= x < hi * (1 + SLACK)
    assert abs(bin_value(k) - x) <= ALPHA * x * (1 + SLACK)


@pytest.mark.parametrize(
    ("q", "n", "r"),
    [
        pytest.param(0.5, 100, 50, id="median of 100"),
        pytest.param(0.99, 100, 99, id="p99 of 100"),
        pytest.param(0.999, 100, 100, id="p99.9 of 100: the maximum"),
        pytest.param(0.0, 100, 1, id="q 0: the minimum"),
        pytest.param(1.0, 100, 100, id="q 1: the maximum"),
        pytest.param(0.5, 1, 1, id="one value"),
        pytest.param(0.5, 3, 2, id="median of 3"),
    ],
)
def test_rank_rows(q: float, n: int, r: int) -> None:
    assert rank(q, n) == r
    assert np.quantile(np.arange(1, n + 1), q, method="inverted_cdf") == r


def _samples(name: str) -> np.ndarray:
    rng = np.random.default_rng(7)
    if name == "exponential 40 ms":
        return rng.exponential(0.040, 20_000)
    if name == "lognormal mean 40 ms p99 200 ms":
        sigma = 0.8
        return rng.lognormal(math.log(0.040) - sigma**2 / 2, sigma, 20_000)
    if name == "uniform 1-2 s":
        return rng.uniform(1.0, 2.0, 5_000)
    if name == "bimodal 5 ms and 2 s":
        return np.concatenate([rng.normal(0.005, 0.0005, 9_000), rng.normal(2.0, 0.2, 1_000)])
    if name == "a few values":
        return np.array([0.0123, 0.0456, 0.789, 0.0101, 3.21])
    if name == "one value":
        return np.array([0.25])
    raise AssertionError(name)


@pytest.mark.parametrize(
    "name",
    [
        "exponential 40 ms",
        "lognormal mean 40 ms p99 200 ms",
        "uniform 1-2 s",
        "bimodal 5 ms and 2 s",
        "a few values",
        "one value",
    ],
)
def test_quantiles_within_one_percent_of_numpy(name: str) -> None:
    samples = _samples(name)
    hist = histogram_of(samples)
    assert hist.sum() == len(samples)
    got = quantiles(hist, QS)
    for q, value in zip(QS, got, strict=True):
        truth = exact(samples, q)
        assert abs(value - truth) <= ALPHA * truth * (1 + SLACK), (q, value, truth)


def test_the_old_layout_would_fail_this_bound() -> None:
    # Ten bins per decade reporting the upper edge (the layout this replaced): the median
    # of exponential(40 ms) samples read 10**(k/10) above it, here 8% too high.
    samples = _samples("exponential 40 ms")
    truth = exact(samples, 0.5)
    old = 1e-4 * 10 ** ((int(math.log10(truth / 1e-4) * 10) + 1) / 10)
    assert abs(old - truth) / truth > 0.05
    assert abs(quantile(histogram_of(samples), 0.5) - truth) / truth <= ALPHA  # type: ignore[operator]


@given(
    st.lists(in_range, min_size=1, max_size=200),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_any_sample_any_q_within_one_percent(values: list[float], q: float) -> None:
    samples = np.array(values)
    got = quantile(histogram_of(samples), q)
    truth = exact(samples, q)
    assert got is not None
    assert abs(got - truth) <= ALPHA * truth * (1 + SLACK)


def test_below_and_above_the_range() -> None:
    # Below 0.1 ms reads 0 (absolute error < 0.1 ms); from MAX_S up reads MAX_S.
    assert quantile(histogram_of([0.0, 0.0, 5e-5]), 0.5) == 0.0
    assert quantile(histogram_of([0.05, 5000.0, 5000.0]), 0.99) == MAX_S


def test_empty_histogram_has_no_quantile() -> None:
    assert quantile(np.zeros(N_BINS, dtype=np.int64), 0.5) is None
    rows = quantiles(np.zeros((2, N_BINS), dtype=np.int64), (0.5, 0.99))
    assert rows.shape == (2, 2) and np.isnan(rows).all()


def test_rows_are_read_independently() -> None:
    a, b = histogram_of([0.01] * 10), histogram_of([1.0, 2.0, 3.0])
    rows = quantiles(np.vstack([a, np.zeros(N_BINS, dtype=np.int64), b]), (0.5, 1.0))
    assert rows[0].tolist() == [bin_value(bin_index(0.01))] * 2
    assert np.isnan(rows[1]).all()
    assert rows[2].tolist() == [bin_value(bin_index(2.0)), bin_value(bin_index(3.0))]


def test_merge_is_the_histogram_of_all_values() -> None:
    x, y = _samples("exponential 40 ms"), _samples("uniform 1-2 s")
    merged = merge(histogram_of(x), histogram_of(y))
    assert (merged == histogram_of(np.concatenate([x, y]))).all()
    both = np.concatenate([x, y])
    for q in QS:
        assert abs(quantile(merged, q) - exact(both, q)) <= ALPHA * exact(both, q)  # type: ignore[operator]


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="808 bins"):
        quantiles(np.zeros(70, dtype=np.int64), (0.5,))


@pytest.mark.parametrize("x", [MIN_S, math.nextafter(MIN_S, 1.0), MIN_S * (1 + 1e-15)])
def test_just_above_the_range_start_is_never_the_zero_bin(x: float) -> None:
    assert bin_index(x) == 1
    assert abs(bin_value(1) - x) <= ALPHA * x


@pytest.mark.parametrize("k", [1, 2, 116, 311, 461, 805, 806])
def test_values_at_and_next_to_bin_edges(k: int) -> None:
    # An edge itself and its float neighbours land in one of the two bins it separates,
    # and read back within 1% (plus float slack) either way.
    lo, _ = bin_edges(k)
    for x in (math.nextafter(lo, 0.0), lo, math.nextafter(lo, math.inf)):
        assert bin_index(x) in (k - 1, k) if k > 1 else bin_index(x) in (0, 1)
        if x >= MIN_S:
            assert abs(bin_value(bin_index(x)) - x) <= ALPHA * x * (1 + SLACK)

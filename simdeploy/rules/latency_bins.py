"""Latency histogram layout: logarithmic bins with a 1% relative-error guarantee. Pure.

The layout is DDSketch's (Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable
quantile sketch with relative-error guarantees", VLDB 2019) with a fixed range: bin ``k``
(1 ≤ k ≤ ``N_REGULAR``) holds the latencies in

    [MIN_S · γ^(k-1), MIN_S · γ^k),     γ = (1 + α) / (1 - α),  α = ``ALPHA`` = 0.01,

and reads back as the one value that is within α of every point of the bin, the
harmonic mean of its edges, 2·lo·hi / (lo + hi). So a quantile read from the counts is
within 1% of the true one. Worked numbers: γ = 1.0202…, 115 bins per decade; 0.1 ms to
1000 s is 806 bins; 50 ms falls into bin 311, [49.29 ms, 50.28 ms), which reads 49.78 ms
(0.44% off). Two more bins: bin 0 for [0, ``MIN_S``) reads as 0 (warm-up errors answer at
once; absolute error below 0.1 ms), and ``OVERFLOW`` for ``MAX_S`` (≈ 1002 s) and more
reads as ``MAX_S`` (a lower bound).

The quantile is rank-based, numpy's ``method="inverted_cdf"``: the q-quantile of n values
is the r-th smallest, r = max(1, ⌈q·n⌉). With x that value and ``MIN_S`` ≤ x < ``MAX_S``,
the value read from the histogram is within α·x of x (the bound every reader relies on).

Histograms merge by adding counts: a window's histogram is the sum of its buckets'.
``bin_index`` is on the request hot path: two comparisons, one ``math.log``, a multiply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Relative accuracy: a quantile read back is within ALPHA of the true value.
ALPHA = 0.01
GAMMA = (1.0 + ALPHA) / (1.0 - ALPHA)
MIN_S = 1e-4
#: Regular bins from MIN_S to (at least) 1000 s.
N_REGULAR = math.ceil(math.log(1e3 / MIN_S) / math.log(GAMMA))
#: Lower edge of the overflow bin: the end of the regular range (≈ 1002 s).
MAX_S = MIN_S * GAMMA**N_REGULAR
OVERFLOW = N_REGULAR + 1
#: Bins in one histogram: the zero bin, the regular bins, the overflow bin.
N_BINS = N_REGULAR + 2

# bin_index's arithmetic: k = ⌊(ln x - ln MIN_S) / ln γ⌋ + 1. int() truncates towards 0,
# so a difference rounded to -1e-16 at x = MIN_S still gives bin 1, never the zero bin.
_INV = 1.0 / math.log(GAMMA)
_LN_MIN = math.log(MIN_S)
_log = math.log


def bin_index(latency_s: float) -> int:
    """Bin of a latency (seconds): 0 → 0, 0.1 ms → 1, 1 ms → 116, 50 ms → 311, 1 s → 461,
    2000 s → ``OVERFLOW`` (807); NaN → ``OVERFLOW``."""
    if MIN_S <= latency_s < MAX_S:
        return int((_log(latency_s) - _LN_MIN) * _INV) + 1
    return 0 if latency_s < MIN_S else OVERFLOW


def bin_indices(latencies_s: np.ndarray) -> np.ndarray:
    """:func:`bin_index` of each latency (seconds), vectorised: [0, 0.001, 0.05] → [0, 116, 311]."""
    x = np.asarray(latencies_s, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = ((np.log(np.maximum(x, MIN_S)) - _LN_MIN) * _INV).astype(np.int64) + 1
    k = np.where(x < MIN_S, 0, k)
    return np.where((x >= MAX_S) | np.isnan(x), OVERFLOW, k)


def bin_edges(k: int) -> tuple[float, float]:
    """[lo, hi) of bin ``k`` in seconds; the overflow bin's hi is infinite."""
    if k <= 0:
        return 0.0, MIN_S
    if k >= OVERFLOW:
        return MAX_S, math.inf
    return MIN_S * GAMMA ** (k - 1), MIN_S * GAMMA**k


def bin_value(k: int) -> float:
    """What bin ``k`` reads as (seconds): 2·lo·hi / (lo + hi), within α of all of the bin;
    0 for the zero bin, ``MAX_S`` for the overflow bin."""
    if k <= 0:
        return 0.0
    if k >= OVERFLOW:
        return MAX_S
    lo, hi = bin_edges(k)
    return 2.0 * lo * hi / (lo + hi)


#: ``bin_value`` of every bin, for vectorised reads.
BIN_VALUES: np.ndarray = np.array([bin_value(k) for k in range(N_BINS)])
BIN_VALUES.setflags(write=False)


def rank(q: float, n: int) -> int:
    """1-based rank of the q-quantile of n values (numpy's ``inverted_cdf``): 100 values,
    q 0.5 → 50, q 0.99 → 99, q 0 → 1."""
    return max(1, math.ceil(q * n))


def quantiles(hist: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles (seconds) read from histograms, one per row and q; NaN for an empty row.

    ``hist`` has ``N_BINS`` counts per row (1-D: one histogram). The result has shape
    (rows, len(qs)), or (len(qs),) for 1-D input. Example: 3 counts in bin 311 (50 ms)
    and 1 in the overflow bin → p50 0.04978, p99 1002.4.
    """
    h = np.asarray(hist)
    one = h.ndim == 1
    h2 = h.reshape(1, -1) if one else h
    if h2.shape[1] != N_BINS:
        raise ValueError(f"a latency histogram has {N_BINS} bins, not {h2.shape[1]}")
    cum = np.cumsum(h2, axis=1, dtype=np.int64)
    total = cum[:, -1]
    out = np.empty((h2.shape[0], len(qs)))
    for j, q in enumerate(qs):
        r = np.maximum(1, np.ceil(q * total))
        # The first bin whose cumulative count reaches the rank holds the r-th value.
        k = (cum < r[:, None]).sum(axis=1)
        out[:, j] = np.where(total > 0, BIN_VALUES[np.minimum(k, N_BINS - 1)], np.nan)
    return out[0] if one else out


def quantile(hist: Sequence[int] | np.ndarray, q: float) -> float | None:
    """The q-quantile (seconds) of one histogram, or None when it is empty."""
    v = float(quantiles(np.asarray(hist, dtype=np.int64), (q,))[0])
    return None if math.isnan(v) else v


def merge(*hists: Sequence[int] | np.ndarray) -> np.ndarray:
    """One histogram of the values of all: the counts added bin by bin."""
    out = np.zeros(N_BINS, dtype=np.int64)
    for h in hists:
        out += np.asarray(h, dtype=np.int64)
    return out


def histogram_of(latencies_s: Sequence[float] | np.ndarray) -> np.ndarray:
    """The histogram (int64) of some latencies (for tests and offline use; the recorder
    counts one request at a time with ``bin_index``)."""
    return np.bincount(bin_indices(np.asarray(latencies_s, dtype=float)), minlength=N_BINS)

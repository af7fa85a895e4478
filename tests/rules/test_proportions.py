"""The Wilson score interval, against the closed form's known values (as statsmodels'
``proportion_confint(k, n, method="wilson")`` gives them)."""

from __future__ import annotations

import pytest

from simdeploy.rules.proportions import wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.27753),
        (5, 10, 0.23659, 0.76341),
        (10, 10, 0.72247, 1.0),
        (0, 20, 0.0, 0.16113),
        (1, 20, 0.00888, 0.23613),
        (19, 20, 0.76387, 0.99112),
        (50, 100, 0.40383, 0.59617),
    ],
)
def test_wilson_table(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=1e-5)
    assert hi == pytest.approx(high, abs=1e-5)


def test_wilson_is_symmetric_and_bounded() -> None:
    for n in (1, 7, 40):
        for k in range(n + 1):
            lo, hi = wilson(k, n)
            lo2, hi2 = wilson(n - k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0
            assert lo == pytest.approx(1 - hi2) and hi == pytest.approx(1 - lo2)


@pytest.mark.parametrize(("k", "n"), [(0, 0), (-1, 5), (6, 5)])
def test_wilson_refuses_impossible_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson(k, n)

"""Edge cases and bad input, as documented in docs/methods/ (one test per rule)."""

from __future__ import annotations

import numpy as np
import pytest

from carepath import stats
from carepath.errors import ValidationError


def test_zero_counts():
    p = stats.proportion(0, 50)
    assert p.value == 0 and p.lower == 0 and 0 < p.upper < 1
    r = stats.rate(0, 1000)
    assert r.value == 0 and r.lower == 0 and r.upper > 0 and r.method == "Exact"
    assert stats.isratio(0, 5.0).lower == 0


def test_x_equal_n_gives_upper_one():
    p = stats.proportion(20, 20)
    assert p.upper == 1 and p.lower < 1


def test_x_above_n_is_an_error_for_proportions_only():
    with pytest.raises(ValueError, match=r"x must be <= n .* first at index 1"):
        stats.proportion([1, 5], [2, 4])
    assert stats.rate(250, 220).value > 100_000  # allowed for rates (events per person)


def test_small_counts_switch_method_at_ten():
    assert stats.rate(9, 100).method == "Exact" and stats.rate(10, 100).method == "Byars"
    assert list(stats.rate_methods([9, 10, np.nan])) == ["Exact", "Byars", None]


def test_missing_values_give_nan_not_errors():
    p = stats.proportion([np.nan, 5, 5], [100, np.nan, 100])
    assert np.isnan(p.value[:2]).all() and np.isnan(p.lower[:2]).all() and p.value[2] == 0.05
    r = stats.rate([np.nan, 5], [100, 100])
    assert np.isnan(r.upper[0]) and r.method == "Exact"
    m = stats.mean([1.0, np.nan, 3.0])
    assert np.isnan(m.value)


def test_confidence_one_gives_the_whole_range():
    p = stats.proportion(3, 10, confidence=1)
    assert (p.lower, p.upper) == (0, 1)
    r = stats.rate(30, 100, confidence=1)
    assert r.lower == 0 and np.isinf(r.upper)


def test_dsr_with_fewer_than_ten_events_is_nan():
    x = np.zeros(19)
    x[10] = 9
    ci = stats.dsr(x, np.full(19, 1000.0))
    assert np.isnan(ci.value) and np.isnan(ci.lower)
    x[11] = 1
    assert np.isfinite(stats.dsr(x, np.full(19, 1000.0)).value)


def test_dsr_counts_nan_as_zero_but_not_population():
    x = np.full(19, 10.0)
    x[0] = np.nan
    assert np.isfinite(stats.dsr(x, np.full(19, 1000.0)).value)
    n = np.full(19, 1000.0)
    n[0] = np.nan
    with pytest.raises(ValueError, match="n must be known"):
        stats.dsr(np.full(19, 10.0), n)


def test_dsr_needs_stdpop_for_other_bands():
    with pytest.raises(ValueError, match="stdpop is needed"):
        stats.dsr(np.ones(18), np.ones(18))
    with pytest.raises(ValueError, match="stdpop must have 18"):
        stats.dsr(np.ones(18), np.ones(18), stdpop=np.ones(19))


def test_isr_allows_zero_local_population():
    e = stats.expected_counts([[100.0, 0.0, np.nan]], [0.01, 0.02, 0.03])
    assert e[0] == pytest.approx(1.0)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: stats.proportion(-1, 10), "x must be >= 0"),
    (lambda: stats.rate(1, 0), "n must be > 0"),
    (lambda: stats.rate(1, -5), "n must be > 0"),
    (lambda: stats.proportion(1, 10, confidence=95), "confidence must be a fraction"),
    (lambda: stats.proportion(1, 10, confidence=0), "confidence must be a fraction"),
    (lambda: stats.rate(1, 10, confidence="high"), "confidence must be a number"),
    (lambda: stats.proportion([1, 2, 3], [10, 10]), "mismatched lengths"),
    (lambda: stats.rate(["a"], [10]), "x must be numeric"),
    (lambda: stats.rate(1, 10, multiplier=0), "multiplier must be a positive"),
    (lambda: stats.isratio(5, 0), "expected must be > 0"),
    (lambda: stats.dsr(5, 10), "age-band axis"),
    (lambda: stats.mean([]), "at least one observation"),
    (lambda: stats.funnel_significance([1], [2], statistic="odds"), "statistic must be"),
    (lambda: stats.sii(np.ones((1, 3)), np.ones((1, 3)), se=np.ones((1, 3))), "5-100"),
])
def test_bad_input_names_the_argument_and_rule(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert isinstance(info.value, ValidationError)  # the CLI prints it as one line, exit 2


def test_errors_do_not_echo_values():
    with pytest.raises(ValueError) as info:
        stats.proportion([3, 123457], [10, 99999])
    assert "123457" not in str(info.value)

"""Quantiles, SII/RII and life expectancy against PHEindicatormethods' fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carepath.stats import inequality, lifetable

RTOL = 1e-9
#: Upstream tests compare simulated SII limits with tolerance 0.05 (relative).
SIMULATION_RTOL = 0.05
#: Upstream LE tests round to 4 dp; the expected limits match z = 1.96 to ~5e-6 years.
LE_CI_ATOL = 5e-5


def test_quantiles_match_phe(phe):
    df = phe("quantile.csv")
    good = df[df.Test != "BadPolarity"]
    # NoGrouping pools the Gooddata and GooddataDups rows (491 together), as upstream does.
    for groupset, part in good.groupby("GroupSet", sort=False):
        keys = {"IndSexReg": ["IndSexRef", "ParentCode"], "IndSex": ["IndSexRef"]}.get(groupset)
        labels = part[keys].astype(str).agg("|".join, axis=1).to_numpy() if keys else None
        invert = part.invert.astype(str).str.upper().eq("TRUE").to_numpy()
        got = inequality.quantiles(part.Value.to_numpy(), int(part.nquantiles.iloc[0]),
                                   invert=invert, groups=labels)
        np.testing.assert_array_equal(got, part.expected_quantile.to_numpy())


def test_quantiles_reject_mixed_invert_within_a_group(phe):
    bad = phe("quantile.csv").query("Test == 'BadPolarity'")
    invert = bad.Polarity.astype(str).str.upper().eq("TRUE").to_numpy()
    assert invert.any() and not invert.all()
    with pytest.raises(ValueError, match="invert must be the same"):
        inequality.quantiles(bad.Value.to_numpy(), 7, invert=invert,
                             groups=bad.IndSexRef.to_numpy())


def _sii_blocks(phe):
    df = phe("sii_testdata.csv")
    key = df[["TestDescription", "Area", "Grouping1", "Grouping2"]].astype(str).agg("|".join,
                                                                                   axis=1)
    return [g for _, g in df.groupby(key, sort=False) if pd.notna(g.iloc[0].sii)]


def _sii_args(block):
    rec = int(block.iloc[0].RecordNo)
    transform = rec >= 306
    negative = 131 <= rec <= 150 or 346 <= rec <= 365 or 386 <= rec <= 405
    mult = {True: -1, False: 1}[negative] * (100 if 111 <= rec <= 150 else 1)
    conf = 0.99 if 21 <= rec <= 40 else (0.98 if 406 <= rec <= 425 or 466 <= rec <= 485
                                         else 0.95)
    v = block.Value.to_numpy()
    if block.iloc[0].ValueType == 2 and np.isnan(v).any():
        v = (block.Count / block.Population).to_numpy()
    if not transform and block.StandardError.notna().all():
        err = {"se": block.StandardError.to_numpy()}
    else:
        err = {"lower": block.LowerCL.to_numpy(), "upper": block.UpperCL.to_numpy()}
    return v, {"value_type": int(block.iloc[0].ValueType), "transform": transform,
               "multiplier": mult, "confidence": conf, **err}


def test_sii_point_estimates_match_phe(phe):
    blocks = _sii_blocks(phe)
    assert len(blocks) == 44
    for block in blocks:
        v, kw = _sii_args(block)
        r = inequality.sii(v, block.Population.to_numpy(), repetitions=1000, **kw)
        first = block.iloc[0]
        np.testing.assert_allclose(r.sii, first.sii, rtol=RTOL)
        if pd.notna(first.rii):
            np.testing.assert_allclose(r.rii, first.rii, rtol=RTOL)
        if pd.notna(first.Intercept):
            np.testing.assert_allclose(r.intercept, first.Intercept, rtol=RTOL)


def test_sii_simulated_limits_match_phe(phe):
    for block in _sii_blocks(phe)[:: 4]:  # a spread of cases keeps this test fast
        v, kw = _sii_args(block)
        r = inequality.sii(v, block.Population.to_numpy(), repetitions=20_000, seed=1, **kw)
        first = block.iloc[0]
        if pd.notna(first.sii_lowercl_1):
            np.testing.assert_allclose([r.sii_lower[0], r.sii_upper[0]],
                                       [first.sii_lowercl_1, first.sii_uppercl_1],
                                       rtol=SIMULATION_RTOL)
        if pd.notna(first.rii_lowercl_1):
            np.testing.assert_allclose([r.rii_lower[0], r.rii_upper[0]],
                                       [first.rii_lowercl_1, first.rii_uppercl_1],
                                       rtol=SIMULATION_RTOL)


def test_sii_is_repeatable_with_a_seed(phe):
    block = _sii_blocks(phe)[0]
    v, kw = _sii_args(block)
    one = inequality.sii(v, block.Population.to_numpy(), repetitions=2000, seed=7, **kw)
    two = inequality.sii(v, block.Population.to_numpy(), repetitions=2000, seed=7, **kw)
    assert one.sii_lower[0] == two.sii_lower[0]


def test_life_expectancy_matches_phe(phe):
    inputs = phe("life_expectancy_inputs.csv")
    expected = phe("life_expectancy_expected.csv")
    for (case, area), g in inputs.groupby(["case", "area"], sort=False):
        deaths = np.full(lifetable.LE_BANDS, np.nan)
        pop = np.full(lifetable.LE_BANDS, np.nan)
        pos = [lifetable.LE_START_AGES.index(a) for a in g.startage]
        deaths[pos], pop[pos] = g.deaths, g["pop"]
        r = lifetable.life_expectancy(deaths, pop)
        want = expected[(expected.case == case) & (expected.area == area)]
        want = want.set_index("startage").reindex(lifetable.LE_START_AGES)
        np.testing.assert_allclose(r.value[0], want.value, rtol=RTOL, equal_nan=True)
        np.testing.assert_allclose(r.lower[0], want.lowercl, atol=LE_CI_ATOL, equal_nan=True)
        np.testing.assert_allclose(r.upper[0], want.uppercl, atol=LE_CI_ATOL, equal_nan=True)
        if want.pops_used.notna().any():
            np.testing.assert_array_equal(r.pops_used[0], want.pops_used)
            np.testing.assert_array_equal(r.deaths_used[0], want.dths_used)
        assert (r.suppressed[0] is None) == want.value.notna().any(), case


def test_life_expectancy_rejects_wrong_bands():
    with pytest.raises(ValueError, match="start_ages"):
        lifetable.life_expectancy(np.ones(20), np.ones(20) * 1000, start_ages=range(20))
    with pytest.raises(ValueError, match="shaped"):
        lifetable.life_expectancy(np.ones(19), np.ones(19))


def test_sii_limits_need_enough_repetitions_for_their_confidence():
    """At 99.9% with 1,000 repetitions PHE's lower position round(R(1 - c')) is 0: the
    lower limit read the largest simulated SII, above the SII itself (a check)."""
    from carepath.stats import StatsInputError, inequality

    args = ([[70.0, 72, 74, 76, 78]], [[1000.0] * 5])
    with pytest.raises(StatsInputError, match=r"99.9% confidence needs at least 1,001 rep"):
        inequality.sii(*args, se=[[1.0] * 5], confidence=0.999, repetitions=1000)
    r = inequality.sii(*args, se=[[1.0] * 5], confidence=0.999, repetitions=1001)
    assert r.sii_lower[0] < r.sii[0] < r.sii_upper[0]


@pytest.mark.parametrize(("kw", "said"), [
    ({"value": [[-1.0, 2, 3, 4, 5]], "se": [[0.1] * 5]}, "> 0 for a rate"),
    ({"value": [[1.0, 2, 3, 4, 5]], "lower": [[0.0, 1, 2, 3, 4]],
      "upper": [[2.0, 3, 4, 5, 6]]}, "finite in every quantile"),
])
def test_sii_of_rates_refuses_values_the_log_scale_cannot_take(kw, said):
    from carepath.stats import StatsInputError, inequality

    with pytest.raises(StatsInputError, match=said):
        inequality.sii(population=[[1000.0] * 5], value_type=1, **kw)

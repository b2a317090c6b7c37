"""DSR (Dobson, incl. non-independent events) and ISR/ISRatio against the peer fixtures."""

from __future__ import annotations

import numpy as np
import pytest

from carepath import stats
from carepath.model.codes import AGE_BANDS

RTOL = 1e-9
LEVELS = {"95_0": stats.CONF_95, "99_8": stats.CONF_998}


def _assert(ci, row, tag):
    np.testing.assert_allclose(ci.value, row["value"], rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(ci.lower, row[f"lower{tag}cl"], rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(ci.upper, row[f"upper{tag}cl"], rtol=RTOL, equal_nan=True)


def test_esp2013_matches_peer(phe):
    df = phe("esp2013.csv")
    assert list(df.ageband) == list(AGE_BANDS)
    np.testing.assert_array_equal(stats.ESP2013, df.esp2013)
    assert stats.ESP2013.sum() == 100_000


def test_dsr_matches_phe(phe):
    inputs = phe("dsr_inputs.csv")
    expected = phe("dsr_expected.csv")
    expected = expected[expected.independent_events]
    for row in expected.itertuples(index=False):
        area = inputs[inputs.area == row.area]
        default_std = area.stdpop_name.iloc[0] == "esp2013"
        stdpop = None if default_std else area.stdpop.to_numpy()
        for tag, conf in LEVELS.items():
            if np.isnan(getattr(row, f"lower{tag}cl")) and not np.isnan(row.value):
                continue  # 1976 99.8% limits are wrong upstream and blanked
            ci = stats.dsr(area["count"].to_numpy()[None, :], area["pop"].to_numpy()[None, :],
                           confidence=conf, multiplier=row.multiplier, stdpop=stdpop)
            assert ci.method == "Dobson"
            _assert(ci, row._asdict(), tag)


def test_dsr_vectorised_over_areas(phe):
    inputs = phe("dsr_inputs.csv")
    esp = inputs[inputs.stdpop_name == "esp2013"]
    x = esp.pivot(index="area", columns="ageband", values="count")
    n = esp.pivot(index="area", columns="ageband", values="pop")
    order = list(esp.ageband.iloc[:19])
    both = stats.dsr(x[order].to_numpy(), n[order].to_numpy())
    for i in range(len(x)):
        one = stats.dsr(x[order].to_numpy()[i], n[order].to_numpy()[i])
        np.testing.assert_allclose(both.value[i], one.value, equal_nan=True)


def test_dsr_non_independent_matches_phe(phe):
    inputs = phe("dsr_nonindependent_inputs.csv")
    expected = phe("dsr_expected.csv")
    expected = expected[~expected.independent_events]
    freqs = np.sort(inputs.freq.unique())
    for row in expected.itertuples(index=False):
        area = inputs[inputs.area == row.area]
        persons = area.pivot_table(index="ageband", columns="freq", values="persons",
                                   aggfunc="sum").reindex(columns=freqs)
        pop = area.groupby("ageband")["pop"].first().loc[persons.index].to_numpy()
        for tag, conf in LEVELS.items():
            ci = stats.dsr_non_independent(persons.to_numpy(), pop, freqs, confidence=conf,
                                           multiplier=row.multiplier)
            assert ci.method == row.method
            _assert(ci, row._asdict(), tag)


def _isr_blocks(df):
    areas = list(dict.fromkeys(df.area))
    block = {a: df[df.area == a] for a in areas}
    n = np.stack([block[a]["pop"].to_numpy() for a in areas])
    ref = block[areas[0]]
    ref_rates = ref.refcount.fillna(0).to_numpy() / ref.refpop.to_numpy()
    ref_rate = ref.refcount.sum() / ref.refpop.sum()
    observed = np.array([np.nansum(block[a]["count"]) for a in areas])
    return areas, n, ref_rates, ref_rate, observed


@pytest.mark.parametrize("file", ["isr_inputs.csv", "isr_inputs_zero_pop.csv"])
def test_isr_matches_phe(phe, file):
    expected = phe("isr_expected.csv")
    expected = expected[expected.input_file == file]
    areas, n, ref_rates, ref_rate, observed = _isr_blocks(phe(file))
    e = stats.expected_counts(n, ref_rates)
    for row in expected.itertuples(index=False):
        i = areas.index(row.area)
        assert observed[i] == row.observed
        np.testing.assert_allclose(e[i], row.expected, rtol=RTOL)
        for tag, conf in LEVELS.items():
            if np.isnan(getattr(row, f"lower{tag}cl")):
                continue
            if row.function == "calculate_ISRate":
                ci = stats.israte(observed[i], e[i], ref_rate, confidence=conf,
                                  multiplier=row.multiplier_or_refvalue)
                np.testing.assert_allclose(ref_rate * row.multiplier_or_refvalue, row.ref_rate,
                                           rtol=RTOL)
            else:
                ci = stats.isratio(observed[i], e[i], confidence=conf,
                                   refvalue=row.multiplier_or_refvalue)
            assert ci.method == row.method
            _assert(ci, row._asdict(), tag)


def test_isr_observed_totals_route(phe):
    totals = phe("isr_observed_totals.csv").set_index("area").total_count
    areas, _n, _ref_rates, _, observed = _isr_blocks(phe("isr_inputs.csv"))
    np.testing.assert_array_equal(totals.loc[areas].to_numpy(), observed)


def test_isratio_observed_totals_phstatsmethods(peer):
    keys = ["indicatorid", "year", "sex"]
    inputs = peer("phstatsmethods", "isratio_obs_totals_inputs.csv")
    observed = peer("phstatsmethods", "isratio_obs_totals_observed.csv").set_index(keys)
    expected = peer("phstatsmethods", "isratio_obs_totals_expected.csv").set_index(keys)
    groups = inputs.groupby(keys, sort=False)
    index = list(groups.groups)
    n = np.stack([g["pop"].to_numpy() for _, g in groups])
    ref_rates = np.stack([(g.refcount / g.refpop).to_numpy() for _, g in groups])
    e = stats.expected_counts(n, ref_rates)
    o = observed.loc[index, "observed"].to_numpy()
    ci = stats.isratio(o, e)
    want = expected.loc[index]
    np.testing.assert_allclose(e, want.expected, rtol=RTOL)
    np.testing.assert_allclose(ci.value, want.Value, rtol=RTOL)
    np.testing.assert_allclose(ci.lower, want.lower_95_ci, rtol=RTOL)
    np.testing.assert_allclose(ci.upper, want.upper_95_ci, rtol=RTOL)
    assert ci.method == "Byars" and len(index) == 40

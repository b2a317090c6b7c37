"""The derived anchors still match the real public files they were computed from
(skipped when ../shared/data/public is not present)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from carepath.synth import anchors

PUBLIC_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "public"
pytestmark = pytest.mark.skipif(not PUBLIC_DATA.is_dir(), reason="no public data")


def _q(sql: str):
    return duckdb.connect().execute(sql).fetchall()


def test_england_age_profile_matches_registered_patients():
    rows = _q(f"""SELECT sex, least(CAST(replace("AGE", '+', '') AS INT) // 5, 18) b,
                  sum(NUMBER_OF_PATIENTS) FROM '{PUBLIC_DATA}/gp_registered_patients_2026_08/
gp-reg-pat-sing-age-region-icb-subicb.csv' WHERE ORG_TYPE = 'Comm Region' AND sex <> 'ALL'
                  AND "AGE" <> 'ALL' GROUP BY ALL""".replace("\n", ""))
    real = np.zeros((2, anchors.N_BANDS))
    for sex, band, n in rows:
        real[0 if sex == "MALE" else 1, band] += n
    real /= real.sum()
    ours = anchors.AGE_PROFILE_ENGLAND / anchors.AGE_PROFILE_ENGLAND.sum()
    assert np.abs(real - ours).max() < 0.0015
    assert abs(real[:, 13:].sum() - anchors.SHARE_65_PLUS_ENGLAND) < 0.003


def test_list_size_fit_matches_qof():
    n, mean_log, sd_log, median = _q(
        f"SELECT count(*), avg(ln(PRACTICE_LIST_SIZE)), stddev(ln(PRACTICE_LIST_SIZE)), "
        f"median(PRACTICE_LIST_SIZE) FROM '{PUBLIC_DATA}/qof_2022_23/PREVALENCE_2223.csv' "
        f"WHERE GROUP_CODE = 'CAN' AND PATIENT_LIST_TYPE = 'TOTAL'")[0]
    assert n > 6000
    assert abs(mean_log - anchors.LIST_SIZE_LOG_MEAN) < 0.01
    assert abs(sd_log - anchors.LIST_SIZE_LOG_SD) < 0.01
    assert abs(median - anchors.LIST_SIZE_MEDIAN) < 1


def test_cwt_july_2024_england_figures():
    base = f"{PUBLIC_DATA}/cancer_waiting_times_commissioner/csv_2024_07"
    where = "commissioner_name = 'ALL ENGLISH COMMISSIONERS'"
    fds = _q(f"SELECT try_cast(within_28_days AS DOUBLE) / try_cast(total AS DOUBLE) FROM '{base}/28_day_fds_all_routes.csv' "
             f"WHERE {where}")[0][0]
    d62 = _q(f"SELECT try_cast(within_62_days AS DOUBLE) / try_cast(total AS DOUBLE) FROM '{base}/62_day_all_cancer.csv' WHERE {where} "
             f"AND referral_route = 'Urgent Suspected Cancer'")[0][0]
    d31 = _q(f"SELECT try_cast(within_31_days AS DOUBLE) / try_cast(total AS DOUBLE) FROM '{base}/31_day_all_cancer.csv' WHERE {where} "
             f"AND treatment_stage = 'First Treatment'")[0][0]
    assert abs(fds - anchors.FDS_28_DAY) < 0.001
    assert abs(d62 - anchors.CWT_62_DAY_USC) < 0.001
    assert abs(d31 - anchors.CWT_31_DAY_FIRST) < 0.001


def test_cervical_coverage_matches_dec_2017():
    f = f"{PUBLIC_DATA}/cervical_screening_gp_2017_12/cervical_screening_coverage_gp_dec2017.csv"
    young, old = _q(
        "SELECT sum(try_cast(screened_42m_25_49 AS DOUBLE)) / sum(try_cast(eligible_25_49 AS "
        "DOUBLE)), sum(try_cast(screened_66m_50_64 AS DOUBLE)) / sum(try_cast(eligible_50_64 "
        f"AS DOUBLE)) FROM '{f}'")[0]
    assert abs(young - anchors.SCREENING_COVERAGE["cervical_25_49"]) < 0.001
    assert abs(old - anchors.SCREENING_COVERAGE["cervical_50_64"]) < 0.001


def test_practice_imd_distribution():
    mean, sd = _q(f"SELECT avg(imd_score), stddev(imd_score) FROM "
                  f"'{PUBLIC_DATA}/imd/practice_imd2019_score_DERIVED.csv'")[0]
    assert abs(mean - anchors.IMD_SCORE_MEAN) < 0.1
    assert abs(sd - anchors.IMD_SCORE_SD) < 0.1


def test_palliative_register_prevalence_matches_qof():
    register, lists = _q(
        f"SELECT sum(REGISTER), sum(PRACTICE_LIST_SIZE) FROM "
        f"'{PUBLIC_DATA}/qof_2022_23/PREVALENCE_2223.csv' WHERE GROUP_CODE = 'PC'")[0]
    assert abs(register / lists - anchors.PALLIATIVE_REGISTER_PREVALENCE) < 0.00005

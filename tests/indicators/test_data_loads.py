"""Which loads make computed values out of date: one that changed the table's rows. A load
whose every row was quarantined changed nothing an indicator reads (it marked them out of
date until the next compute), with --replace too: rows whose replacements are quarantined
are kept."""

from __future__ import annotations

from carepath.engine.freshness import out_of_date
from carepath.engine.run import compute
from carepath.indicators.library import builtin
from carepath.ingest import load_files

IDS = ("early_stage_known", "usc_referral_isr")
HEADER = ("tumour_id,patient_id,practice_code,icd10,tumour_group,stage,route,diagnosis_date\n")


def _stale(ws) -> dict:
    lib = builtin()
    with ws.connect(read_only=True) as con:
        return out_of_date(con, {i: lib[i] for i in IDS}, ws.config())


def _load(ws, tmp_path, rows: str, **kw):
    path = tmp_path / f"tumours-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    (res,) = load_files(ws, "tumours", [path], **kw)
    return res


def _computed(small_ws):
    compute(small_ws, [builtin()[i] for i in IDS])
    assert _stale(small_ws) == {}
    return small_ws


def test_a_load_that_quarantined_every_row_leaves_values_current(small_ws, tmp_path):
    ws = _computed(small_ws)
    res = _load(ws, tmp_path, "t99,pt0,P1,C50,breast,9,gp_referral,2023-06-01\n")
    assert (res.rows_loaded, res.rows_quarantined) == (0, 1)
    assert _stale(ws) == {}
    assert {o.status for o in compute(ws, [builtin()[i] for i in IDS])} == {"unchanged"}


def test_a_load_that_added_rows_makes_values_out_of_date(small_ws, tmp_path):
    ws = _computed(small_ws)
    res = _load(ws, tmp_path, "t99,pt0,P1,C50,breast,1,gp_referral,2023-06-01\n")
    assert res.rows_loaded == 1
    assert _stale(ws)["early_stage_known"].reason == "data loaded since into tumours"
    assert "usc_referral_isr" not in _stale(ws)  # reads no tumours


def test_a_replace_that_loaded_nothing_emptied_the_table_so_values_are_out_of_date(
        small_ws, tmp_path):
    ws = _computed(small_ws)
    res = _load(ws, tmp_path, "t99,pt0,P1,C50,breast,9,gp_referral,2023-06-01\n", replace=True)
    assert res.rows_loaded == 0
    with ws.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tumours").fetchone()[0] == 0
    assert _stale(ws)["early_stage_known"].reason == "data loaded since into tumours"


def test_a_reissue_whose_every_row_is_quarantined_changes_nothing(small_ws, tmp_path):
    """`load-source --replace` takes out the rows whose keys a file reissues. With every
    reissued row quarantined it emptied them and the values read as current; now the rows
    whose replacements were quarantined are put back, so the table and its values are as
    they were."""
    from carepath.model.codes import AGE_BANDS
    from carepath.sources._run import Part, run_parts

    ws = _computed(small_ws)
    with ws.connect(read_only=True) as con:
        before = con.execute("SELECT * FROM registered_population ORDER BY ALL").fetchall()
    records = [(i + 2, {"practice_code": "P1", "quarter_start": "2023-04-01", "sex": sex,
                        "age_band": band, "population": "-1"})
               for i, (sex, band) in enumerate((s, b) for s in "MF" for b in AGE_BANDS)]
    reissue = tmp_path / "pop.csv"
    reissue.write_text("x\n", encoding="utf-8")
    (res,) = run_parts(ws, "test", [Part("registered_population", reissue, lambda: records)],
                       replace=True)
    assert res.rows_loaded == 0 and res.rows_quarantined == len(records)
    assert any(f"{len(records)} rows already in registered_population kept" in w
               for w in res.warnings)
    with ws.connect(read_only=True) as con:
        assert con.execute("SELECT * FROM registered_population ORDER BY ALL"
                           ).fetchall() == before
    assert _stale(ws) == {}


def test_info_says_which_values_are_out_of_date_and_why(small_ws, tmp_path):
    """The web pages said so; `carepath info` did not (a new user's walkthrough)."""
    from rich.console import Console

    from carepath.reports.info import render_info

    ws = _computed(small_ws)
    _load(ws, tmp_path, "t99,pt0,P1,C50,breast,1,gp_referral,2023-06-01\n")
    console = Console(record=True, width=200)
    render_info(ws, console)
    text = console.export_text()
    assert "1 indicator(s) out of date" in text
    assert "early_stage_known: data loaded since into tumours" in text

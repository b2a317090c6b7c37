"""Duplicate keys are found the same way wherever the repeat falls: in the same chunk, a
later chunk, another file of the load or a later load (found by a user test: a repeat in a
later chunk of a key whose first row was quarantined loaded unflagged, and a key with an
empty optional part was never found again after its load)."""

from __future__ import annotations

import pytest
from ingest_helpers import rows, write

from carepath.ingest import load_files, loader, readers

HEADER = "event_id,patient_id,event_type,event_date\n"
HNA_HEADER = "event_id,domain,concern,score\n"
DUPLICATE = "duplicate of an earlier row in this load"


def _reasons(ws) -> list[tuple]:
    return rows(ws, "SELECT source, row_number, reason FROM quarantine ORDER BY ALL")


@pytest.mark.parametrize("chunk_rows", [1_000_000, 2])
def test_a_repeat_of_a_quarantined_rows_key_is_a_duplicate_in_any_chunk(ws, tmp_path,
                                                                      monkeypatch, chunk_rows):
    monkeypatch.setattr(loader, "CHUNK_ROWS", chunk_rows)
    if chunk_rows < 5:  # a block of the file per row or two, so the chunks really are small
        monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 48)
    text = HEADER + "E1,P1,hna,2024-01-01\nE2,P1,bogus,2024-01-01\nE3,P1,hna,2024-01-01\n" \
        "E4,P1,hna,2024-01-01\nE2,P1,hna,2024-01-02\n"
    res = load_files(ws, "care_events", [write(tmp_path / "e.csv", text)])[0]
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (5, 3, 2)
    (reason,) = [r[2] for r in _reasons(ws) if r[1] == 6]
    assert reason.startswith(DUPLICATE)
    assert rows(ws, "SELECT event_id FROM care_events ORDER BY 1") == [("E1",), ("E3",),
                                                                       ("E4",)]


def test_a_repeat_in_another_file_of_the_load_is_a_duplicate(ws, tmp_path):
    first = write(tmp_path / "a.csv", HEADER + "F1,P1,hna,2024-01-01\nF2,P1,bogus,2024-01-01\n")
    second = write(tmp_path / "b.csv", HEADER + "F2,P1,hna,2024-01-01\nF3,P1,hna,2024-01-01\n")
    a, b = load_files(ws, "care_events", [first, second])
    assert (a.rows_loaded, b.rows_loaded) == (1, 1)
    (reason,) = [r[2] for r in _reasons(ws) if r[0].endswith("b.csv")]
    assert reason.startswith(DUPLICATE)


def test_a_key_with_an_empty_optional_part_is_found_again(ws, tmp_path):
    """(H1, physical, no concern) loaded twice: an empty part never equalled an empty one."""
    load_files(ws, "hna_concerns", [write(tmp_path / "h1.csv", HNA_HEADER + "H1,physical,,5\n")])
    res = load_files(ws, "hna_concerns", [
        write(tmp_path / "h2.csv", HNA_HEADER + "H1,physical,,7\nH1,physical,Pain,3\n")])[0]
    assert (res.rows_loaded, res.rows_quarantined) == (1, 1)
    assert "already in hna_concerns" in _reasons(ws)[0][2]
    # The whole key is shown, each part named: the first part alone did not find the row.
    assert rows(ws, "SELECT masked_value FROM quarantine") == [
        ("event_id=H1, domain=physical, concern=(empty)",)]
    assert rows(ws, "SELECT count(*) FROM hna_concerns WHERE concern IS NULL") == [(1,)]


def test_rows_without_their_key_are_not_duplicates_of_each_other(ws, tmp_path):
    text = HEADER + ",P1,hna,2024-01-01\n,P1,hna,2024-01-01\n,P1,hna,2024-01-01\n"
    res = load_files(ws, "care_events", [write(tmp_path / "e.csv", text)])[0]
    assert res.rows_quarantined == 3
    reasons = [r[2] for r in _reasons(ws)]
    assert reasons == ["required value missing"] * 3


def test_a_key_with_a_person_in_it_is_shown_masked(ws, tmp_path):
    text = "patient_id,practice_code,entry_date\npabcdef0123456789,A1,2024-01-01\n" \
        "pabcdef0123456789,A1,2024-01-01\n"
    load_files(ws, "eol_register", [write(tmp_path / "r.csv", text)])
    (shown,) = rows(ws, "SELECT masked_value FROM quarantine WHERE reason LIKE 'duplicate%'")
    assert shown == ("patient_id=pab**************, entry_date=2024-01-01",)


"""Determinism, atomic creation, bad input, and the command line."""

from __future__ import annotations

import json

import pytest

from carepath.errors import ValidationError, WorkspaceError
from carepath.model.schema import DATA_TABLES
from carepath.synth import generator
from carepath.synth.generator import SynthOptions, synthesise
from carepath.synth.planted import MANIFEST_NAME


def _fingerprints(ws) -> dict[str, str]:
    """Row count and an order-sensitive hash of each data table's full contents."""
    out = {}
    with ws.connect(read_only=True) as con:
        for t in DATA_TABLES:
            out[t.name] = con.execute(
                f'SELECT count(*) || \':\' || coalesce(sum(hash(rowid, x)::HUGEINT), 0) '
                f'FROM "{t.name}" x').fetchone()[0]
    return out


@pytest.mark.slow
def test_same_seed_gives_identical_tables_and_manifest(tmp_path):
    a = synthesise(tmp_path / "a", SynthOptions(seed=11, years=1))
    b = synthesise(tmp_path / "b", SynthOptions(seed=11, years=1))
    assert _fingerprints(a.workspace) == _fingerprints(b.workspace)
    assert (a.workspace.path / MANIFEST_NAME).read_bytes() == (
        b.workspace.path / MANIFEST_NAME).read_bytes()
    c = synthesise(tmp_path / "c", SynthOptions(seed=12, years=1))
    first = _fingerprints(a.workspace)
    differ = {k for k, v in _fingerprints(c.workspace).items() if v != first[k]}
    assert {"patients", "tumours", "referrals", "deaths"} <= differ


def test_failure_leaves_nothing_behind(tmp_path, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("simulated failure half way")

    monkeypatch.setattr(generator, "surveys", boom)
    target = tmp_path / "ws"
    with pytest.raises(RuntimeError, match="half way"):
        synthesise(target, SynthOptions(years=1))
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_an_existing_empty_directory_empty(tmp_path, monkeypatch):
    monkeypatch.setattr(generator, "screening", lambda *a, **k: 1 / 0)
    target = tmp_path / "ws"
    target.mkdir()
    with pytest.raises(ZeroDivisionError):
        synthesise(target, SynthOptions(years=1))
    assert target.is_dir() and list(target.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["ws"]


def test_write_failure_is_one_clear_error(tmp_path, monkeypatch):
    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(generator, "patients", full)
    with pytest.raises(WorkspaceError, match="No space left") as err:
        synthesise(tmp_path / "ws", SynthOptions(years=1))
    assert err.value.where == str(tmp_path / "ws")
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_non_empty_directory(tmp_path):
    target = tmp_path / "ws"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(WorkspaceError, match="not empty"):
        synthesise(target, SynthOptions(years=1))
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_refuses_a_file(tmp_path):
    target = tmp_path / "ws"
    target.write_text("x")
    with pytest.raises(WorkspaceError, match="not a directory"):
        synthesise(target, SynthOptions(years=1))


@pytest.mark.parametrize(("options", "where"), [
    (SynthOptions(scale="moon"), "--scale"), (SynthOptions(years=0), "--years"),
    (SynthOptions(years=99), "--years"), (SynthOptions(seed=-1), "--seed")])
def test_bad_options_say_what_and_where(tmp_path, options, where):
    with pytest.raises(ValidationError) as err:
        synthesise(tmp_path / "ws", options)
    assert err.value.where == where
    assert not (tmp_path / "ws").exists()


def test_cli_synth_then_info(tmp_path, capsys):
    from carepath.cli import main

    target = tmp_path / "cli"
    main(["synth", "-w", str(target), "--years", "1", "--seed", "5"])
    assert (target / MANIFEST_NAME).is_file()
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    assert manifest["seed"] == 5 and manifest["years"] == 1
    main(["info", "-w", str(target)])
    out = capsys.readouterr().out
    assert "Calibration against published figures" in out
    assert "ok" in out


@pytest.mark.parametrize("args", [["--scale", "moon"], ["--years", "0"]])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, args):
    from carepath.cli import main

    with pytest.raises(SystemExit) as done:
        main(["synth", "-w", str(tmp_path / "ws"), *args])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert not (tmp_path / "ws").exists()

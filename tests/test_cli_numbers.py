"""Numbers on the command line out of their range are refused by the parser, naming the
option, before any work: a negative --seed, --days 0 or --top -3 ended in a numpy or
ValueError traceback (a walkthrough)."""

from __future__ import annotations

import pytest

from carepath.cli import main
from carepath.domain.contracts import EXAMPLES_DIR as CONTRACTS
from carepath.domain.economics.library import EXAMPLES as ECONOMICS


@pytest.mark.parametrize("args, option", [
    (["contract", "simulate", str(CONTRACTS / "wessex_eol_contract.yaml"), "--seed", "-1"],
     "--seed"),
    (["economics", "cba", str(ECONOMICS / "hospice_at_home.yaml"), "--seed", "-1"], "--seed"),
    (["pathway", "gaps", "-w", "nowhere", "--days", "0"], "--days"),
    (["pathway", "gaps", "-w", "nowhere", "--days", "-5"], "--days"),
    (["pathway", "hna", "-w", "nowhere", "--top", "-3"], "--top"),
])
def test_out_of_range_numbers_are_refused_naming_the_option(args, option, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(args)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert f"Invalid value for '{option}'" in err and "not in the range" in err
    assert "Traceback" not in err

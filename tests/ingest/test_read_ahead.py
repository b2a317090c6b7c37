"""The loader reads the next chunk while the database loads this one (``_read_ahead``):
order kept, the reader's errors raised to the loader, and no reader left running."""

import itertools
import threading

import pytest

from carepath.errors import ValidationError
from carepath.ingest.loader import _read_ahead


def _readers_alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "carepath-read-ahead"]


def test_items_come_in_order():
    assert list(_read_ahead(iter(range(50)), 1)) == list(range(50))
    assert not _readers_alive()


def test_a_reader_error_is_raised_after_the_items_before_it():
    def chunks():
        yield "first"
        yield "second"
        raise ValidationError("a row is longer than 16 MB", where="big.csv, after row 3")

    ahead = _read_ahead(chunks(), 1)
    assert [next(ahead), next(ahead)] == ["first", "second"]
    with pytest.raises(ValidationError, match="longer than 16 MB"):
        next(ahead)
    assert not _readers_alive()


def test_a_loader_that_stops_early_stops_the_reader():
    produced = itertools.count()

    def endless():
        yield from produced

    ahead = _read_ahead(endless(), 1)
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()  # what an error in the loader does to the generator
    assert not _readers_alive()
    # The reader stopped at most a couple of items ahead, not at the end of the file.
    assert next(produced) <= 3 + 2 + 1

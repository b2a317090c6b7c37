from hypothesis import given
from hypothesis import strategies as st

from carepath.ingest import nhs_number as nn

NINE_DIGITS = st.text(alphabet="0123456789", min_size=9, max_size=9)


def with_check(nine: str) -> str | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else nine + str(check)


def test_known_valid_and_invalid_numbers():
    assert nn.problem("9434765919") is None
    assert nn.problem("943 476 5919") is None
    assert nn.problem("943-476-5919") is None
    assert nn.problem("9434765918") == "NHS number fails the modulus-11 check"
    assert "9 digits" in nn.problem("943476591")
    assert "other than digits" in nn.problem("94347659X9")
    assert nn.problem("") == "NHS number missing"
    assert nn.problem(None) == "NHS number missing"


@given(NINE_DIGITS)
def test_every_number_with_its_check_digit_passes(nine):
    full = with_check(nine)
    if full is None:  # no valid number has these nine digits
        assert all(not nn.check_digit_ok(nine + str(d)) for d in range(10))
    else:
        assert nn.check_digit_ok(full)


@given(NINE_DIGITS, st.integers(0, 9), st.integers(1, 9))
def test_any_single_digit_error_is_caught(nine, position, delta):
    full = with_check(nine)
    if full is None:
        return
    wrong = full[:position] + str((int(full[position]) + delta) % 10) + full[position + 1:]
    assert not nn.check_digit_ok(wrong)


def test_pseudonym_is_keyed_stable_and_not_the_number():
    a = nn.pseudonym("9434765919", b"k1")
    assert a == nn.pseudonym("9434765919", b"k1")
    assert a != nn.pseudonym("9434765919", b"k2")
    assert a != nn.pseudonym("4010232137", b"k1")
    assert "9434765919" not in a and len(a) == 1 + nn.PSEUDONYM_HEX_CHARS


def test_mask_keeps_three_characters():
    assert nn.mask("9434765919") == "943*******"
    assert nn.mask("ab") == "ab"
    assert nn.mask(None) is None


@given(st.binary(min_size=1, max_size=100), NINE_DIGITS)
def test_fast_pseudonymiser_equals_the_reference_hmac(key, nine):
    full = with_check(nine) or "9434765919"
    assert nn.Pseudonymiser(key).one(full) == nn.pseudonym(full, key)


def test_array_pseudonyms_match_and_invalid_are_null():
    import pyarrow as pa

    values = pa.array(["943 476 5919", "9434765919", "9434765918", None, "", "401-023-2137"])
    out = nn.Pseudonymiser(b"key").array(values).to_pylist()
    assert out[0] == out[1] == nn.pseudonym("9434765919", b"key")
    assert out[2] is None and out[3] is None and out[4] is None
    assert out[5] == nn.pseudonym("4010232137", b"key")


@given(st.lists(st.text(alphabet="0123456789x", min_size=0, max_size=11), max_size=30))
def test_vectorised_check_equals_the_scalar_one(values):
    import pyarrow as pa

    assert nn.valid_mask(pa.array(values, pa.string())).tolist() == [
        nn.check_digit_ok(v) for v in values]

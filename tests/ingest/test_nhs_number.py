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
    elif len(set(full)) == 1:  # 0000000000 passes the check and is nobody
        assert not nn.check_digit_ok(full) and "placeholder" in nn.problem(full)
    else:
        assert nn.check_digit_ok(full)


def test_placeholders_and_other_scripts_digits():
    """Found by an independent check: 0000000000 and 9999999999 loaded as people, a
    superscript digit raised a ValueError, and a full-width number read as not valid."""
    for placeholder in ("0000000000", "9999999999", "1111111111"):
        assert "placeholder" in nn.problem(placeholder)
    assert "other than digits" in nn.problem("943476591\u00b2")  # superscript two
    full_width = "".join(chr(0xFF10 + int(d)) for d in "9434765919")
    assert nn.problem(full_width) is None and nn.normalise(full_width) == "9434765919"


def test_numbers_in_text_are_masked_however_they_are_split():
    for text in ("844   736   2035", "844 - 736 - 2035", "844\u2013736\u20132035",
                 "(844) 736-2035", "x844   736   2035", "line1 / 844 - 736 - 2035"):
        masked = nn.mask_in_text(text)
        assert "736" not in masked and "2035" not in masked, text
    for text in ("01234 567890", "2024-01-15", "ref 12345678901"):  # not ten digits alone
        assert nn.mask_in_text(text) == text


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


def test_mask_keeps_three_characters_and_never_more_than_a_third():
    assert nn.mask("9434765919") == "943*******"
    assert nn.mask("P1") == "**"  # kept whole before: a short id shown unmasked
    assert nn.mask("P123") == "P***"
    assert nn.mask(None) is None


@given(st.text(max_size=40))
def test_a_masked_value_shows_at_most_a_third_of_it(value):
    shown = nn.mask(value)
    assert len(shown) == len(value.strip())
    assert len(shown.rstrip("*")) <= max(len(value.strip()) // 3, 0) or "*" not in shown


# How NHS numbers turned up unmasked inside other columns (a user test).
IN_TEXT = ["100\u00a0000\u00a00427", "NHS1000000427", "100.000.0427", "x-943 476 5919-y",
           "9434765919,9434765919", "9434765919",
           # and by a code review: tabs, doubled spaces, other splits, slashes, underscores
           "943\t476\t5919", "943  476  5919", "9434 765 919", "94347 65919", "943/476/5919",
           "943_476_5919"]


def test_nhs_numbers_inside_text_are_masked_however_written():
    for text in IN_TEXT:
        masked = nn.mask_in_text(text)
        digits = "".join(ch for ch in masked if ch.isdigit())
        assert not any(run in digits for run in ("1000000427", "9434765919")), (text, masked)
        assert "*******" in masked
    kept = "12345678901 and 01234 567890 on 2024-01-01 10:30"  # not ten digits: not masked
    assert nn.mask_in_text(kept) == kept


def test_masking_in_sql_agrees_with_python():
    import duckdb

    from carepath.ingest.validate import shown

    sql = shown("name", "v", False)
    with duckdb.connect() as con:
        for text in [*IN_TEXT, "2024-01-01", "no number here", "９４３４７６５９１９"]:
            assert con.execute(f"SELECT {sql} FROM (SELECT ? AS v)", [text]).fetchone()[0] \
                == nn.mask_in_text(text), text


def test_a_number_grouped_by_no_break_spaces_is_pseudonymised_like_the_plain_one():
    """Refused as 'NHS number not valid' on the fast path (RE2's \\s is ASCII only)."""
    import pyarrow as pa

    got = nn.Pseudonymiser(b"k" * 32).array(
        pa.array(["100\u00a0000\u00a00427", "100\u202f000\u202f0427", "1000000427"]))
    assert got.null_count == 0 and len(set(got.to_pylist())) == 1


def test_a_number_grouped_by_any_unicode_space_is_the_same_person():
    """Thin spaces (U+2009, as a word processor sets a number) were refused on the fast
    path while the exact check accepted them (a bad-input hunt)."""
    import sys
    import unicodedata

    import pyarrow as pa

    spaces = [chr(i) for i in range(sys.maxunicode + 1)
              if unicodedata.category(chr(i)) == "Zs"]
    written = [f"100{s}000{s}0427" for s in spaces]
    got = nn.Pseudonymiser(b"k" * 32).array(pa.array([*written, "1000000427"]))
    assert got.null_count == 0 and len(set(got.to_pylist())) == 1
    assert all(nn.problem(w) is None for w in written)
    assert {nn.mask_in_text(f"NHS {w}") for w in written} == {"NHS 100*******"}


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

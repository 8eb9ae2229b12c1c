"""Money is exact: decimal text in, integer minor units stored, Decimal out."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vosbench.core import money


@pytest.mark.parametrize("text, minor", [
    ("12.50", 125000), ("-0.0001", -1), ("0", 0), ("+3", 30000), (".25", 2500), ("-5.", -50000),
    ("1000.25", 10002500),
])
def test_decimal_text_becomes_minor_units(text, minor):
    assert money.to_minor(text) == minor


def test_whole_ints_and_decimals_are_accepted():
    assert money.to_minor(3) == 30000
    assert money.to_minor(Decimal("0.1")) == 1000


@pytest.mark.parametrize("value, fragment", [
    (0.1, "binary float"), ("1.00001", "more than 4 decimal places"), ("abc", "not a number"),
    ("", "empty"), ("NaN", "not a number"), (True, "binary float"), (Decimal("NaN"), "not a finite amount"),
])
def test_bad_amounts_name_the_problem(value, fragment):
    with pytest.raises(money.MoneyError, match=fragment):
        money.to_minor(value, field="amount")


@pytest.mark.parametrize("text", [
    "1e3", "1E-2", "1e2", "Infinity", "-inf", "NaN", "snan", " 10", "10 ", "1_000", "1_000.25", "١٠", "1,000", "0x10", "--1",
])
def test_only_plain_decimal_text_is_an_amount(text):
    """Amounts are decimal text: an exponent, a blank or a separator is refused, one amount or a column of them."""
    with pytest.raises(money.MoneyError, match="decimal text"):
        money.to_minor(text)
    with pytest.raises(money.MoneyError, match="decimal text"):
        money.column_to_minor(["1.0000", text])
    with pytest.raises(money.MoneyError, match="decimal text"):  # the spelling the column reads without to_minor
        money.column_to_minor([f"{text}.0000" if text[-1:].isdigit() else text])


def test_error_names_the_field():
    with pytest.raises(money.MoneyError, match="^credit_limit:"):
        money.to_minor("x", field="credit_limit")


def test_doubles_from_vos3000_round_half_even_at_the_edge():
    assert money.from_double(0.1) == 1000
    assert money.from_double(0.1 + 0.2) == 3000  # 0.30000000000000004 → 0.3000
    assert money.from_double(1.00005) == 10000  # repr "1.00005", a tie: half-even keeps 1.0000
    assert money.from_double(-2.71828) == -27183
    for huge in (1e300, -9.3e14, 9.3e14):  # past the ledger's ~922 trillion units: refused, never an overflow later
        with pytest.raises(money.MoneyError, match="too large for the ledger"):
            money.from_double(huge)


def test_format_is_exact_unless_told_to_round():
    assert money.format_money(12345678) == "1,234.5678" and money.format_money(12345678, 2) == "1,234.57"
    assert money.format_money(99999999) == "9,999.9999"  # never the 10,000.00 it is just under
    assert [money.format_money(m) for m in (100000000, 123450, 15, 0, -5)] == ["10,000.00", "12.345", "0.0015", "0.00",
                                                                               "-0.0005"]
    assert money.format_money(12345678, 4) == "1,234.5678"
    assert money.format_money(-5, 4, grouping=False) == "-0.0005"


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4, allow_nan=False))
def test_round_trip_is_exact(amount):
    assert money.to_decimal(money.to_minor(amount)) == amount


@given(st.lists(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4,
                            allow_nan=False), max_size=50))
def test_sums_of_minor_units_equal_decimal_sums(amounts):
    assert money.to_decimal(sum(money.to_minor(a) for a in amounts)) == sum(amounts, Decimal(0))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_doubles_are_refused(value):
    with pytest.raises(money.MoneyError, match="not a finite amount"):
        money.from_double(value, field="paymoney")


@given(st.from_regex(r"\A-?[0-9]{0,16}(\.[0-9]{0,6})?\Z") | st.text(max_size=12))
def test_the_fast_spelling_agrees_with_the_decimal_path(text):
    """Plain amounts are read by integer arithmetic: wherever that path answers, Decimal gives the same."""
    fast = money._plain_decimal(text)
    if fast is not None:
        assert fast == money.to_minor(Decimal(text)) == money.to_minor(text)


@given(st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1), st.integers(min_value=0, max_value=6), st.booleans())
def test_display_formatting_agrees_with_decimal_rounding(minor, places, grouping):
    """Display text is computed on integers; it is exactly Decimal's half-to-even text, -0.00 included."""
    amount = money.to_decimal(minor).quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_EVEN")
    assert money.format_money(minor, places, grouping=grouping) == (f"{amount:,}" if grouping else f"{amount}")


def _each(texts: list[str]) -> list[int] | str:
    try:
        return [money.to_minor(text) for text in texts]
    except money.MoneyError:
        return "refused"


def _column(texts: list[str]) -> list[int] | str:
    try:
        return money.column_to_minor(texts)
    except money.MoneyError:
        return "refused"


@pytest.mark.parametrize("texts", [
    ["12.5000", "-0.0001", "+3.0000", " 7.0000", "-.2500", ".0001"], ["12.5000", "-0.0001", "+3.0000", "-.2500"],
    ["1.0000", "7.0000 "], [".-123"], ["1.0000", "1_0.0000"], ["12.3_45", "1.0000"], ["1.2.3456"],
    ["12.-345"], ["1 .0000"], ["٣.٠٠٠٠"], ["99999999999999999.0000"], ["1.0000", "1e5"], ["--1.0000"], [],
])
def test_a_column_of_amounts_reads_each_as_to_minor_does(texts):
    assert _column(texts) == _each(texts)


@given(st.lists(st.one_of(st.integers(-10**18, 10**18).map(lambda n: f"{n // 10_000}.{n % 10_000:04d}"),
                          st.text("0123456789.-_+ e", max_size=9))))
def test_any_column_of_amounts_reads_as_to_minor_reads_each(texts):
    assert _column(texts) == _each(texts)


LARGEST = 2**63 - 1  # the largest amount a BIGINT column of minor units holds


@given(st.lists(st.integers(min_value=-LARGEST, max_value=LARGEST), max_size=60))
def test_a_column_of_amounts_reads_as_each_amount_s_decimal_text(amounts):
    import numpy as np

    edges = [0, 1, -1, 9_999, -9_999, 10_000, -10_000, 5_000, -5_000, LARGEST, -LARGEST, 10**14, -(10**15 - 1)]
    column = [*amounts, *edges]
    assert list(money.exact_texts(np.array(column, dtype=np.int64))) == [str(money.to_decimal(m)) for m in column]
    assert list(money.exact_texts(np.array([5, -7]), np.array([False, True]))) == ["0.0005", None]


@pytest.mark.parametrize(("minor", "code", "shown"), [
    (50_000_000, "JPY", "5,000"), (-50_000_000, "JPY", "-5,000"), (0, "JPY", "0"),
    (10_005_000, "JPY", "1,000.5"),  # a yen amount the ledger holds with a fraction: shown, never rounded away
    (15_000, "KWD", "1.500"), (125_000, "USD", "12.50"), (1, "USD", "0.0001"),
    (125_000, "ZZZ", "12.50"),  # an imported account's code that is no currency of money: two places
])
def test_an_amount_reads_with_its_currencys_own_places_and_is_never_rounded(minor, code, shown):
    from vosbench.core.currencies import format_amount

    assert format_amount(minor, code) == shown


def test_exact_sum_of_an_int64_column_is_exact_where_numpy_wraps_around():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(18)
    extremes = np.array([2**63 - 1, 2**63 - 1, -(2**63), 2**62, -1, 0, 1], dtype=np.int64)
    for values in (extremes, rng.integers(-(2**63), 2**63 - 1, size=100_000, dtype=np.int64),
                   rng.integers(-(10**12), 10**12, size=50_000, dtype=np.int64), np.array([], dtype=np.int64)):
        assert money.exact_sum(values) == sum(int(value) for value in values.tolist())
    assert int(np.array([2**62] * 3, dtype=np.int64).sum()) < 0 < money.exact_sum(np.array([2**62] * 3)) == 3 * 2**62
    assert money.exact_sum(pd.Series([2**62, None, 2**62, 2**62], dtype="Int64")) == 3 * 2**62

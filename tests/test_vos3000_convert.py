"""The edge conversions: epoch milliseconds and doubles, against vosbench.core.money's rule."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vosbench.core import money
from vosbench.sources.vos3000.convert import Converter, from_epoch_ms, from_epoch_ms_many, to_epoch_ms


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_every_double_converts_by_the_written_rule(value):
    converter = Converter()
    assert converter.minor(value, field="fee", source_key="k") == money.from_double(value)
    flagged = bool(converter.take_inexact())
    assert flagged == (float(money.to_decimal(money.from_double(value))) != value)

@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e17, max_value=1e17))
def test_a_double_written_as_text_converts_as_the_double_does(value):
    # MariaDB writes a double as its shortest round-trip text, without Python's ".0" and "e+"
    written = repr(value).removesuffix(".0").replace("e+", "e")
    by_text, by_double = Converter(), Converter()
    if abs(Decimal(repr(value))) * money.UNIT > money.MAX_MINOR:  # past the ledger's range: both refuse it
        for convert in (lambda: by_text.minor_text(written, field="fee", source_key="k"),
                        lambda: by_double.minor(value, field="fee", source_key="k")):
            with pytest.raises(money.MoneyError, match="fee: .* is too large for the ledger"):
                convert()
        return
    assert by_text.minor_text(written, field="fee", source_key="k") == by_double.minor(value, field="fee", source_key="k")
    assert by_text.take_inexact() == by_double.take_inexact()


def test_exact_values_are_not_flagged_and_finer_ones_are():
    converter = Converter()
    assert [converter.minor(v, field="fee", source_key=str(v)) for v in (0.1, -0.5, 12.3456, 0.00005, 1e-05, 2.5e14)] == [
        1_000, -5_000, 123_456, 0, 0, 2_500_000_000_000_000_000]
    assert [item.source_key for item in converter.take_inexact()] == ["5e-05", "1e-05"]
    with pytest.raises(money.MoneyError, match="too large for the ledger"):  # past 2**63-1 minor units
        converter.minor(2.5e16, field="fee", source_key="k")

def test_epoch_milliseconds_round_trip_without_floats():
    moment = datetime(2026, 10, 5, 14, 30, 1, 123000)
    assert to_epoch_ms(moment) == 1_791_210_601_123
    assert from_epoch_ms(1_791_210_601_123) == moment
    assert to_epoch_ms(from_epoch_ms(-1)) == -1  # before 1970 too


# values around the places where doubles get coarse: 4-decimal amounts, more places, huge ones
written_doubles = st.one_of(
    st.integers(-10**16, 10**16).map(lambda m: m / 10**4),
    st.decimals(min_value=-10**12, max_value=10**12, places=6, allow_nan=False).map(float),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e17, max_value=1e17),
).map(lambda value: repr(value).removesuffix(".0").replace("e+", "e"))


@given(st.lists(written_doubles, max_size=40))
def test_texts_converted_together_convert_as_each_alone(texts):
    together, alone = Converter(), Converter()
    try:
        each = [alone.minor_text(text, field="fee", source_key=f"k{i}") for i, text in enumerate(texts)]
    except money.MoneyError:  # one is past the ledger's range: refused together too
        with pytest.raises(money.MoneyError, match="too large for the ledger"):
            together.minor_texts(texts, field="fee", source_key=lambda i: f"k{i}")
        return
    assert together.minor_texts(texts, field="fee", source_key=lambda i: f"k{i}") == each
    assert together.take_inexact() == alone.take_inexact()


@given(st.lists(st.integers(-62_135_596_800_000 - 5, 253_402_300_799_999 + 5), max_size=20))
def test_epoch_milliseconds_convert_together_as_alone(values):
    try:
        expected = [from_epoch_ms(value) for value in values]
    except OverflowError:  # beyond datetime's years: the same error either way
        with pytest.raises(OverflowError):
            from_epoch_ms_many(values)
        return
    assert from_epoch_ms_many(values) == expected

"""The edge between VOS3000's values and the ledger's: epoch milliseconds and doubles.

Times: VOS3000 keeps every time as BIGINT epoch milliseconds (UTC by definition); the
ledger keeps naive UTC datetimes.

Money: VOS3000 keeps ``double``. Each value is converted once, here, by
:func:`vosbench.core.money.from_double` — the double's shortest round-trip decimal text,
rounded half-to-even to 4 places. A value whose text has more than 4 decimal places is
*not representable* at the ledger's scale: it is still rounded by that rule, and
:class:`Converter` keeps it (with its source key) so the sync (or the import of an export)
can report it. A single value that must be exact (Pay's reply) is read by :func:`exact_minor`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from vosbench.core import money

_EPOCH = datetime(1970, 1, 1)
_FIRST_MS, _LAST_MS = -62_135_596_800_000, 253_402_300_799_999  # 0001-01-01 and 9999-12-31 23:59:59.999


def from_epoch_ms(value: int) -> datetime:
    """Epoch milliseconds as a naive UTC datetime (exact: no float on the way)."""
    return _EPOCH + timedelta(milliseconds=int(value))


def from_epoch_ms_many(values: Sequence[int]) -> list[datetime]:
    """:func:`from_epoch_ms` of many values at once (numpy's datetime64, exact)."""
    milliseconds = np.asarray(values, dtype=np.int64)
    if milliseconds.size and (milliseconds.min() < _FIRST_MS or milliseconds.max() > _LAST_MS):
        return list(map(from_epoch_ms, milliseconds.tolist()))  # beyond datetime's years: its error
    return milliseconds.astype("datetime64[ms]").astype("datetime64[us]").tolist()


def to_epoch_ms(moment: datetime) -> int:
    """A naive UTC (or aware) datetime as epoch milliseconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


@dataclass(frozen=True)
class Inexact:
    """A double with more than 4 decimal places, and what it was rounded to."""

    field: str
    source_key: str
    value: float
    minor: int

    def __str__(self) -> str:
        return (f"{self.field} of {self.source_key} is {self.value!r}: more than {money.SCALE} decimal places, "
                f"rounded half-to-even to {money.to_decimal(self.minor)}")


_MINOR_PER_UNIT = float(10 ** money.SCALE)
_EXACT_BELOW = 1e15  # minor units: 10¹¹ in money, where doubles are still 10⁵ times finer than 10⁻⁴
_SCALES = tuple(10 ** (money.SCALE - places) for places in range(money.SCALE + 1))


def _plain_minor(text: str) -> int | None:
    """Minor units of a plain decimal text with at most 4 decimal places ('-12.5', '300'), else None."""
    whole, _, fraction = text.partition(".")
    digits = whole + fraction
    if len(fraction) > money.SCALE or not digits.removeprefix("-").isdigit():
        return None  # more places, an exponent (1e-05, 1e+16), inf or nan: the general rule decides
    minor = int(digits) * _SCALES[len(fraction)]
    return minor if abs(minor) <= money.MAX_MINOR else None  # past the ledger's range: refused by the general rule


def exact_minor(value: float | int | str, *, field: str) -> int:
    """Minor units of one number VOS3000 gave (a double, an int or decimal text), refused unless exact.

    A double is read through its shortest round-trip text written out plainly (``1e+20`` →
    ``100000000000000000000``), then by :func:`vosbench.core.money.to_minor`: more than 4
    places or beyond the ledger's range raise its error naming ``field`` — never rounded.
    """
    if isinstance(value, float):
        value = format(Decimal(repr(value)), "f")  # nan and inf stay words, which to_minor refuses
    return money.to_minor(value, field=field)


def missing(field: str, source_key: str) -> str:
    """The one line refusing a value VOS3000 left NULL where the ledger needs one (its columns are all
    ``DEFAULT NULL``): the record and the column, and that nothing is guessed."""
    return (f"{source_key}: {field} is NULL (empty) in VOS3000, and the sync never guesses it: set it on that record "
            "in VOS3000 and sync again (what came before it is kept)")


def whole_numbers(texts: list[str], *, field: str, source_key: Callable[[int], str]) -> list[int]:
    """The integer column ``texts`` as the reader gives it (a NULL as ''), refused naming the record of a NULL."""
    if "" in texts:
        raise ValueError(missing(field, source_key(texts.index(""))))
    return list(map(int, texts))


@dataclass
class Converter:
    """Converts doubles to minor units, remembering the ones that were not exact."""

    inexact: list[Inexact] = field(default_factory=list)

    def minor(self, value: float | None, *, field: str, source_key: str) -> int:
        if value is None:
            raise ValueError(missing(field, source_key))
        exact = _plain_minor(repr(value))  # the double's shortest round-trip text
        if exact is not None:
            return exact
        minor = money.from_double(float(value), field=field)
        if float(value) != float(money.to_decimal(minor)):
            self.inexact.append(Inexact(field, source_key, float(value), minor))
        return minor

    def minor_text(self, text: str, *, field: str, source_key: str) -> int:
        """:meth:`minor` of a double the database wrote as text, read without a float when the
        text has at most 4 decimal places and 15 digits. No other decimal of at most 15 digits
        reads as the same double, so the double's shortest round-trip text has this text's
        value, and the result is the one :meth:`minor` gives (property-tested)."""
        whole, _, fraction = text.partition(".")
        if len(whole) + len(fraction) <= 15:
            exact = _plain_minor(text)
            if exact is not None:
                return exact
        return self.minor(float(text), field=field, source_key=source_key)

    def minor_texts(self, texts: list[str], *, field: str, source_key: Callable[[int], str]) -> list[int]:
        """:meth:`minor_text` of many texts at once; ``source_key(i)`` names the i-th value's record.

        Each text is read as the double it stands for, and a double ``d`` whose value
        times 10⁴ rounds to ``m`` with ``m / 10⁴ == d`` (|m| < 10¹⁵) is the double of the
        decimal m / 10⁴. Below 10¹¹ no other decimal of 4 places reads as that double, so
        its shortest round-trip text is that decimal and :meth:`minor` gives exactly ``m``
        (property-tested). Only the other values (more places, huge, inf, nan) go through
        :meth:`minor_text` one by one.
        """
        if "" in texts:  # a NULL, as the reader writes it
            raise ValueError(missing(field, source_key(texts.index(""))))
        doubles = np.fromiter(map(float, texts), np.float64, len(texts))
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.rint(doubles * _MINOR_PER_UNIT)
            exact = (scaled / _MINOR_PER_UNIT == doubles) & (np.abs(scaled) < _EXACT_BELOW)
            minor = np.where(exact, scaled, 0).astype(np.int64).tolist()
        for index in np.flatnonzero(~exact).tolist():
            minor[index] = self.minor_text(texts[index], field=field, source_key=source_key(index))
        return minor

    def take_inexact(self) -> list[Inexact]:
        """The inexact values seen since the last call (and forget them)."""
        found, self.inexact = self.inexact, []
        return found

"""The edge between VOS3000's values and the ledger's: epoch milliseconds and doubles.

Times: VOS3000 keeps every time as BIGINT epoch milliseconds (UTC by definition); the
ledger keeps naive UTC datetimes.

Money: VOS3000 keeps ``double``. Each value is converted once, here, by
:func:`vosbench.money.from_double` — the double's shortest round-trip decimal text,
rounded half-to-even to 4 places. A value whose text has more than 4 decimal places is
*not representable* at the ledger's scale: it is still rounded by that rule, and
:class:`Converter` keeps it (with its source key) so the sync can report it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from vosbench import money

_EPOCH = datetime(1970, 1, 1)


def from_epoch_ms(value: int) -> datetime:
    """Epoch milliseconds as a naive UTC datetime (exact: no float on the way)."""
    return _EPOCH + timedelta(milliseconds=int(value))


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


_SCALES = tuple(10 ** (money.SCALE - places) for places in range(money.SCALE + 1))


def _plain_minor(text: str) -> int | None:
    """Minor units of a plain decimal text with at most 4 decimal places ('-12.5', '300'), else None."""
    whole, _, fraction = text.partition(".")
    digits = whole + fraction
    if len(fraction) > money.SCALE or not digits.removeprefix("-").isdigit():
        return None  # more places, an exponent (1e-05, 1e+16), inf or nan: the general rule decides
    return int(digits) * _SCALES[len(fraction)]


@dataclass
class Converter:
    """Converts doubles to minor units, remembering the ones that were not exact."""

    inexact: list[Inexact] = field(default_factory=list)

    def minor(self, value: float, *, field: str, source_key: str) -> int:
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

    def take_inexact(self) -> list[Inexact]:
        """The inexact values seen since the last call (and forget them)."""
        found, self.inexact = self.inexact, []
        return found

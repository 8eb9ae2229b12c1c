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


def _exact_minor(value: float) -> int | None:
    """Minor units of a double whose shortest text has at most 4 decimal places, else None.

    The same result as :func:`vosbench.money.from_double` for those values (nothing to
    round), computed from the text directly because a sync converts millions of them.
    """
    text = repr(value)
    whole, _, fraction = text.partition(".")
    if len(fraction) > money.SCALE or not whole.lstrip("-").isdigit() or not fraction.isdigit():
        return None  # more places, an exponent (1e-05, 1e+16), inf or nan: the general rule decides
    minor = abs(int(whole)) * money.UNIT + int(fraction.ljust(money.SCALE, "0"))
    return -minor if whole.startswith("-") else minor


@dataclass
class Converter:
    """Converts doubles to minor units, remembering the ones that were not exact."""

    inexact: list[Inexact] = field(default_factory=list)

    def minor(self, value: float, *, field: str, source_key: str) -> int:
        exact = _exact_minor(value)
        if exact is not None:
            return exact
        minor = money.from_double(float(value), field=field)
        if float(value) != float(money.to_decimal(minor)):
            self.inexact.append(Inexact(field, source_key, float(value), minor))
        return minor

    def take_inexact(self) -> list[Inexact]:
        """The inexact values seen since the last call (and forget them)."""
        found, self.inexact = self.inexact, []
        return found

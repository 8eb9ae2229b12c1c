"""Reporting periods: a calendar month cut in a time zone, as naive UTC instants.

The store keeps times in naive UTC and charge days as calendar dates of the ledger's
time zone. A month ``'2026-10'`` in ``Asia/Dubai`` runs from local midnight of the 1st
(2026-09-30 20:00 UTC) up to, not including, local midnight of the next 1st — the
instant a month-end balance snapshot carries. A day's charges are deducted at the end
of that day, which is the local midnight that starts the next day (:func:`day_end`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vosbench.core.errors import VosbenchError

_LABEL = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits: a full-width "２０２６-１０" is no label
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
"""The days vosbench works with (the years of a month label): any instant of them converts to
and from every time zone, and a day either side of them still exists, so no date arithmetic overflows."""
NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})
"""Names the tz database answers to that are no place's zone: 'localtime' is whatever the machine is
set to, 'Factory' and 'posixrules' are placeholders. A ledger's days must not depend on them."""


class PeriodError(VosbenchError, ValueError):
    """A month label or time zone that cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class Period:
    """One calendar month in a time zone.

    ``start`` is inclusive and ``end`` exclusive for payments (naive UTC); ``end`` is
    also the instant of the month-end balance snapshot. ``first_day`` .. ``last_day``
    are the month's local calendar days.
    """

    label: str
    timezone: str
    start: datetime
    end: datetime
    first_day: date
    last_day: date


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` of a place, or an error naming it and the fix (see :data:`NOT_PLACES`)."""
    if name in NOT_PLACES:
        raise PeriodError(f"time zone {name!r} is not the zone of a place; give an IANA name such as "
                          "'UTC' or 'Asia/Dubai'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise PeriodError(
            f"time zone {name!r} is unknown; give an IANA name such as 'UTC' or 'Asia/Dubai'"
        ) from None


def check_day(day: date, what: str) -> date:
    """``day`` when it is one of the days vosbench works with; otherwise an error naming ``what`` and the range."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PeriodError(f"{what}: {day.isoformat()} is out of range; give a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def parse_day(text: str, what: str) -> date:
    """The day written ``YYYY-MM-DD`` in ``text``, within :func:`check_day`'s range; an error names ``what``."""
    try:
        day = date.fromisoformat(str(text).strip())
    except ValueError:
        raise PeriodError(f"{what}: {text!r} is not a day; give it as YYYY-MM-DD, e.g. 2026-10-01") from None
    return check_day(day, what)


def local_midnight(day: date, timezone: str) -> datetime:
    """The naive UTC instant at which local calendar ``day`` begins in ``timezone``."""
    moment = datetime.combine(day, time(0), tzinfo=zone(timezone))
    return moment.astimezone(UTC).replace(tzinfo=None)


def day_end(day: date, timezone: str) -> datetime:
    """The naive UTC instant when ``day``'s charges are deducted: local midnight starting the next day."""
    return local_midnight(day + timedelta(days=1), timezone)


def local_day(instant: datetime, timezone: str) -> date:
    """The local calendar day in ``timezone`` of the naive UTC ``instant``.

    A day's charges have been deducted by ``instant`` exactly when the day is before
    ``local_day(instant)``.
    """
    return local_instant(instant, timezone).date()


def local_instant(instant: datetime, timezone: str) -> datetime:
    """The naive UTC ``instant`` as an aware time in ``timezone`` (what a reader of that zone sees)."""
    return instant.replace(tzinfo=UTC).astimezone(zone(timezone))


def local_times(naive_utc, timezone: str):
    """A pandas Series of naive UTC instants as naive wall-clock times of ``timezone``.

    The one conversion every table shown to a person goes through; pandas is not imported
    here, the Series brings its own ``.dt`` accessor.
    """
    return naive_utc.dt.tz_localize("UTC").dt.tz_convert(zone(timezone).key).dt.tz_localize(None)


def parse_label(label: str) -> tuple[int, int]:
    """(year, month) of a 'YYYY-MM' label, or an error naming the label and the form to use."""
    match = _LABEL.fullmatch(str(label).strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(
            f"month {label!r} is not a month; give it as 'YYYY-MM' with a month 01-12, e.g. '2026-10'"
        )
    year, number = int(match.group(1)), int(match.group(2))
    if not 1900 <= year <= 9998:
        raise PeriodError(f"month {label!r}: the year must be between 1900 and 9998, e.g. '2026-10'")
    return year, number


def shift_label(label: str, months: int) -> str:
    """The month label ``months`` after ``label`` (before, when negative): shift_label('2026-01', -1) = '2025-12'."""
    year, number = parse_label(label)
    index = year * 12 + number - 1 + months
    if not 1900 * 12 <= index < 9999 * 12:  # a month the work needs beside the one given: named as given
        direction, instead = ("before", "later") if months < 0 else ("after", "earlier")
        raise PeriodError(f"month {label!r}: this needs the month {abs(months)} {direction} it, outside 1900-01 to "
                          f"9998-12; give a {instead} month")
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def labels_ending(label: str, count: int) -> list[str]:
    """The ``count`` consecutive month labels ending with ``label``, oldest first."""
    return [shift_label(label, offset) for offset in range(1 - count, 1)]


def month(label: str, timezone: str) -> Period:
    """The month ``label`` ('YYYY-MM') cut in ``timezone``."""
    year, number = parse_label(label)
    zone(timezone)
    first_day = date(year, number, 1)
    next_first = date(year + number // 12, number % 12 + 1, 1)
    return Period(
        label=f"{year:04d}-{number:02d}",
        timezone=timezone,
        start=local_midnight(first_day, timezone),
        end=local_midnight(next_first, timezone),
        first_day=first_day,
        last_day=next_first - timedelta(days=1),
    )


def previous(period: Period) -> Period:
    """The month before ``period``, in the same time zone."""
    return month(shift_label(period.label, -1), period.timezone)


def charge_days(period: Period, ledger_timezone: str) -> tuple[date, date]:
    """First and last charge day (a ledger-time-zone date) whose end falls in the period.

    A day's charges belong to the period whose ``start < day_end <= end``. When the
    period is cut in the ledger's own time zone this is simply the month's days.
    """
    first = local_day(period.start, ledger_timezone)
    last = local_day(period.end, ledger_timezone) - timedelta(days=1)
    return first, last

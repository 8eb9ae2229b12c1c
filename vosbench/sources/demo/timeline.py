"""The demo's calendar: its months, their local days, and the UTC instants that cut them.

The store keeps naive UTC times while days and months are cut in the ledger's time
zone, so every simulated moment is "local day + seconds into it", turned into UTC once
here. A day's charges are deducted at the end of that day (the start of the next).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from vosbench.core import periods

WORKING_WEEKDAYS = (0, 1, 2, 3, 4)
"""Monday to Friday: the UAE working week since 2022 (the demo's back office is in Dubai)."""


@dataclass(frozen=True)
class DemoMonth:
    """One simulated month in the ledger's time zone."""

    index: int  # 0 = the first month of the demo
    label: str  # YYYY-MM
    days: tuple[date, ...]
    day_starts: tuple[datetime, ...]  # naive UTC instant each local day starts
    end: datetime  # naive UTC: local midnight starting the next month (the snapshot instant)

    @property
    def number(self) -> int:
        """The calendar month (1–12), for seasonal campaigns."""
        return self.days[0].month

    def moment(self, day_index: int, seconds: int) -> datetime:
        """The naive UTC instant ``seconds`` into local day ``day_index``."""
        return self.day_starts[day_index] + timedelta(seconds=seconds)

    def is_working_day(self, day_index: int) -> bool:
        return self.days[day_index].weekday() in WORKING_WEEKDAYS


def months_ending(end_month: str, count: int, zone_name: str) -> list[DemoMonth]:
    """The ``count`` consecutive months ending with ``end_month``, oldest first."""
    months = []
    for index, label in enumerate(periods.labels_ending(end_month, count)):
        calendar = periods.month(label, "UTC")  # the days only: the zone's instants are computed below
        start, after = calendar.first_day, calendar.last_day + timedelta(days=1)
        days = tuple(start + timedelta(days=n) for n in range((after - start).days))
        months.append(DemoMonth(
            index=index, label=start.strftime("%Y-%m"), days=days,
            day_starts=tuple(periods.local_midnight(day, zone_name) for day in days),
            end=periods.local_midnight(after, zone_name)))
    return months


def first_instant_after(months: list[DemoMonth]) -> datetime:
    """Midnight UTC of the first calendar day after the demo: its fixed ``recorded_at``."""
    last = months[-1].days[-1] + timedelta(days=1)
    return datetime(last.year, last.month, last.day)

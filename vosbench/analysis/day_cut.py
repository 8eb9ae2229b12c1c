"""Which charges an instant has seen: a day's charges are deducted at the end of that day, in the ledger's time zone.

Portable SQL can only sum charges by UTC date; the exact sum by an instant is settled here
from that sum and the two boundary days, over whole columns (numpy, int64 minor units).
The rule is the one :mod:`vosbench.analysis.balance_continuity` (between payment records)
and :mod:`vosbench.analysis.reconcile` (after a reported balance) both apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from vosbench.core import periods

ONE_DAY = np.timedelta64(1, "D")


def charges_deducted_by(shift: np.ndarray, utc_day: np.ndarray, charge_on_day: np.ndarray, day_before: np.ndarray,
                        charge_day_before: np.ndarray) -> np.ndarray:
    """Charges deducted by each instant, minus the charges of the days before its UTC date (int64).

    By an instant t, the charges of the days before t's *local* day are deducted; SQL
    sums the days before t's *UTC* date. ``shift`` is local date − UTC date in days (at
    most one either way): +1 adds the UTC date's charges (``charge_on_day``); −1 removes
    the day before's (``charge_day_before``) when ``day_before`` (the account's last
    charge day before the UTC date, NaT if none) is that day. Days are datetime64[D];
    charges int64 with 0 where there are none.
    """
    added = np.where(shift > 0, charge_on_day, 0)
    removed = np.where((shift < 0) & (day_before == utc_day - ONE_DAY), charge_day_before, 0)
    return (added - removed).astype(np.int64)


def day_shift(instants: Sequence, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """(local date − UTC date in days, UTC date as datetime64[D]) of naive UTC ``instants`` (None: 0 and NaT).

    Each distinct instant is converted once: a month's reported balances mostly share
    the month-end instant.
    """
    shifts: dict = {}
    shift = np.zeros(len(instants), dtype=np.int64)
    utc_day = np.full(len(instants), np.datetime64("NaT", "D"))
    for index, instant in enumerate(instants):
        if instant is None:
            continue
        if instant not in shifts:
            shifts[instant] = (periods.local_day(instant, timezone) - instant.date()).days
        shift[index], utc_day[index] = shifts[instant], instant.date()
    return shift, utc_day


def days(values: Sequence[date | None]) -> np.ndarray:
    """Calendar days (None where missing) as datetime64[D] (NaT where missing)."""
    return np.array([np.datetime64("NaT") if value is None else value for value in values], dtype="datetime64[D]")

"""Dating: entries a person dated long before they entered them, and records dated after they were recorded.

A payment's date decides the month it counts in, the shift it falls in and the threshold
history it is read against, so choosing it is a way to bend the other checks: a clerk enters
today a credit dated last month, into figures already reported, or at an hour inside their
shift. The door refuses a person's entry dated in the future (:func:`vosbench.ledger.manual_entry.entry_time`);
an entry dated in the past is kept as dated, and this check names those entered more than
``back_dated_days`` after their date, and those dated into a month that had ended when they were
entered, however close to its end (measured from the approval request for entries that waited
for a supervisor, so the wait is not counted: :meth:`MonthData.entered_at`). Any record, imported or entered, dated
later than the moment it was recorded is named too: the write door refuses such a record, so one
found here was written behind its back (or before vosbench refused them).
"""

from __future__ import annotations

import pandas as pd

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.core import periods
from vosbench.ledger.write_door import CLOCK_SKEW


def back_dated_entries(data: MonthData) -> list[Finding]:
    """A person's entries dated more than ``back_dated_days`` before they were entered, or into a month that had
    ended when they were entered.

    High when both (the entry is late and that month's figures were open to reporting before it arrived),
    medium when only late, low when dated back across a month's end within the days allowed: a few days are
    enough to move money into figures already closed.
    """
    frame = data.payments
    if frame.empty:
        return []
    entered = data.entered_at()
    persons = frame[data.persons() & (entered > frame["occurred_at"])]
    if persons.empty:
        return []
    entered_local = periods.local_times(entered[persons.index], data.ledger_timezone)
    dated_local = persons["local_time"]
    later_month = ((entered_local.dt.year * 12 + entered_local.dt.month)
                   > (dated_local.dt.year * 12 + dated_local.dt.month)).to_numpy()
    late = (entered[persons.index] - persons["occurred_at"] > pd.Timedelta(days=data.settings.back_dated_days)).to_numpy()
    found = []
    for row, into_ended, too_late in zip(persons.itertuples(), later_month, late, strict=True):
        if not (into_ended or too_late):
            continue
        days = (entered[row.Index] - row.occurred_at).days
        found.append(Finding(
            "back_dated_entry", "high" if into_ended and too_late else "medium" if too_late else "low", data.month,
            (row.account,),
            f"{row.kind} of {data.money_text(row.amount, row.currency)} on {row.account} entered by {row.operator} on "
            f"{data.time_text(entered[row.Index])} but dated {data.time_text(row.occurred_at)}, {days} day(s) earlier"
            + (f", into {row.local_time:%Y-%m} after it ended" if into_ended else ""),
            (row.id,), row.operator, row.amount))
    return found


def future_dated_records(data: MonthData) -> list[Finding]:
    """Records dated later than the moment they were recorded (beyond the clocks' allowed skew)."""
    frame = data.payments
    ahead = frame[frame["occurred_at"] > frame["recorded_at"] + CLOCK_SKEW]
    if ahead.empty:
        return []
    return [Finding(
        "future_dated", "high", data.month, (row.account,),
        f"{row.kind} of {data.money_text(row.amount, row.currency)} on {row.account} (operator {row.operator}, source "
        f"{row.source}) is dated {data.time_text(row.occurred_at)} but was recorded earlier, on "
        f"{data.time_text(row.recorded_at)}: "
        "a record cannot precede the payment it records (a wrong clock or time zone at the source, or a date chosen)",
        (row.id,), row.operator, row.amount)
        for row in ahead.itertuples()]

"""Dating: entries a person dated long before they entered them, and records dated after they were recorded.

A payment's date decides the month it counts in, the shift it falls in and the threshold
history it is read against, so choosing it is a way to bend the other checks: a clerk enters
today a credit dated last month, into figures already reported, or at an hour inside their
shift. The door refuses a person's entry dated in the future (:func:`vosbench.ledger.manual_entry.entry_time`);
an entry dated in the past is kept as dated, and this check names those entered more than
``back_dated_days`` after their date (measured from the approval request for entries that
waited for a supervisor, so the wait is not counted). Any record, imported or entered, dated
later than the moment it was recorded is named too: the write door refuses such a record, so one
found here was written behind its back (or before vosbench refused them).
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from vosbench.controls.context import MonthData
from vosbench.controls.findings import Finding
from vosbench.core import periods
from vosbench.core.money import format_money
from vosbench.ledger import queries
from vosbench.ledger.guards import MANUAL_SOURCE
from vosbench.ledger.write_door import CLOCK_SKEW


def _entered_at(data: MonthData) -> pd.Series:
    """When each of the month's records was entered (naive UTC): its approval request's time where it waited
    for one, else the time it was recorded."""
    with data.engine.connect() as connection:
        requests = queries.frame(connection, "controls_entry_requests", {}, times={"requested_at": sa.DateTime()})
    requested = pd.Series(requests["requested_at"].to_numpy(dtype="datetime64[us]"),
                          index=requests["payment_id"].astype("int64"))
    entered = pd.Series(requested.reindex(data.payments["id"].to_numpy()).to_numpy(), index=data.payments.index)
    return entered.where(entered.notna(), data.payments["recorded_at"])


def back_dated_entries(data: MonthData) -> list[Finding]:
    """A person's entries dated more than ``back_dated_days`` before they were entered.

    High when entered in a later month than the one it is dated into (that month's figures were
    open to reporting before it arrived), medium otherwise.
    """
    frame = data.payments
    if frame.empty:
        return []
    entered = _entered_at(data)
    late = frame[(frame["source"] == MANUAL_SOURCE)
                 & (entered - frame["occurred_at"] > pd.Timedelta(days=data.settings.back_dated_days))]
    if late.empty:
        return []
    entered_local = periods.local_times(entered[late.index], data.ledger_timezone)
    found = []
    for row, when in zip(late.itertuples(), entered_local, strict=True):
        later_month = (when.year, when.month) > (row.local_time.year, row.local_time.month)
        days = (entered[row.Index] - row.occurred_at).days
        found.append(Finding(
            "back_dated_entry", "high" if later_month else "medium", data.month, (row.account,),
            f"{row.kind} of {format_money(row.amount)} on {row.account} entered by {row.operator} on "
            f"{when:%Y-%m-%d %H:%M} but dated {row.local_time:%Y-%m-%d %H:%M}, {days} day(s) earlier"
            + (f", into {row.local_time:%Y-%m} after it ended" if later_month else ""),
            (row.id,), row.operator, row.amount))
    return found


def future_dated_records(data: MonthData) -> list[Finding]:
    """Records dated later than the moment they were recorded (beyond the clocks' allowed skew)."""
    frame = data.payments
    ahead = frame[frame["occurred_at"] > frame["recorded_at"] + CLOCK_SKEW]
    if ahead.empty:
        return []
    recorded_local = periods.local_times(ahead["recorded_at"], data.ledger_timezone)
    return [Finding(
        "future_dated", "high", data.month, (row.account,),
        f"{row.kind} of {format_money(row.amount)} on {row.account} (operator {row.operator}, source {row.source}) "
        f"is dated {row.local_time:%Y-%m-%d %H:%M} but was recorded earlier, on {when:%Y-%m-%d %H:%M}: "
        "a record cannot precede the payment it records (a wrong clock or time zone at the source, or a date chosen)",
        (row.id,), row.operator, row.amount)
        for row, when in zip(ahead.itertuples(), recorded_local, strict=True)]

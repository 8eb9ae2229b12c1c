"""The balance chain: does each payment record's reported balance follow from the one before?

For consecutive records r1, r2 of an account (ordered by occurred_at, then id)::

    r2.balance_after == r1.balance_after − charges_between(r1, r2) + r2.amount

where a day's charges are deducted at the end of that day in the ledger's time zone.
Where it fails, the source system's balance did not move as its own records say: the
first break is where "payment recorded but balance not updated" starts. The source then
carries on from its wrong balance, so one missed update is one break, not a trail.

Every record of the period with a known ``balance_after`` is checked. The chain starts
at the account's anchor: its last record before the period with a known balance (the
records between the anchor and the period pass through); an account with no earlier
record starts from zero. A record without ``balance_after`` is not checked; the chain
passes through it with its expected balance. When an account has earlier records but
none with a known balance, its first known balance in the period starts the chain.

The database sums the charges between records by UTC date (portable SQL); the exact
cut at each record's local day is settled here, in int64 minor units.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vosbench.analysis import day_cut
from vosbench.core import periods
from vosbench.core.periods import Period
from vosbench.ledger import database, queries

COLUMNS = (
    "account", "payment_id", "occurred_at", "kind", "amount", "previous_payment_id",
    "previous_balance_after", "charges_between", "expected_balance_after",
    "reported_balance_after", "gap",
)
"""The columns of :func:`breaks` and :func:`steps`; money in minor units, gap = reported − expected."""

_EARLIEST_DAY = date(1, 1, 1)


def day_cut_correction(instants: pd.Series, ledger_timezone: str, charge_on_day: pd.Series,
                       day_before: pd.Series, charge_day_before: pd.Series) -> pd.Series:
    """Charges deducted by each instant, minus the charges of the days before its UTC date.

    :func:`vosbench.analysis.day_cut.charges_deducted_by` over a frame's columns, the
    local dates worked out by pandas all at once. ``instants`` are naive UTC; the result is
    Int64 minor units.
    """
    utc_day = instants.dt.normalize()
    shift = (periods.local_times(instants, ledger_timezone).dt.normalize() - utc_day).dt.days
    corrected = day_cut.charges_deducted_by(
        shift.fillna(0).to_numpy(dtype=np.int64), utc_day.to_numpy(dtype="datetime64[D]"),
        charge_on_day.astype("Int64").fillna(0).to_numpy(dtype=np.int64),
        pd.to_datetime(day_before).to_numpy(dtype="datetime64[D]"),
        charge_day_before.astype("Int64").fillna(0).to_numpy(dtype=np.int64))
    return pd.Series(corrected, index=instants.index, dtype="Int64")


def steps(connection: sa.Connection, period: Period, *,
          account_ids: list[int] | None = None) -> pd.DataFrame:
    """Every checked step of the chain in ``period``: one row per record, in :data:`COLUMNS`.

    ``expected_balance_after`` is NA where the chain has no known balance to start from
    yet; ``gap`` is NA where either side is unknown.
    """
    ledger_timezone = database.ledger_timezone(connection)
    rows = queries.frame(
        connection, "chain_steps",
        {"start": period.start, "end": period.end, "earliest_day": _EARLIEST_DAY},
        account_ids=account_ids, times={"occurred_at": sa.DateTime(), "day_before": sa.Date()},
    )
    if rows.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in COLUMNS})
    account = rows["account_id"]
    before_period = rows["before_period"] == 1
    first_of_account = ~account.duplicated()
    base = first_of_account & before_period  # the anchor the chain starts from
    opened_at_zero = first_of_account & ~before_period  # no record before this one
    reported = rows["balance_after"].astype("Int64")
    amount = rows["amount"].astype("Int64")

    correction = day_cut_correction(rows["occurred_at"], ledger_timezone, rows["charge_on_day"],
                                    rows["day_before"], rows["charge_day_before"])
    previous_correction = correction.groupby(account).shift(1).fillna(0)
    between = (rows["charges_since_previous"] + correction - previous_correction).astype("Int64")

    # X: the account's net movement since the anchor, as its records and charges say.
    movement = (amount - between).where(~base, 0)
    moved = movement.groupby(account).cumsum()
    # A known balance fixes the level the chain continues from: expected = level + X.
    level = (reported - moved).where(reported.notna())
    level_before = level.groupby(account).shift(1).mask(opened_at_zero, 0)
    level_before = level_before.groupby(account).ffill()
    expected = (level_before + moved).astype("Int64")

    balance = reported.fillna(expected)  # what the next record starts from
    previous_balance = balance.groupby(account).shift(1).mask(opened_at_zero, 0)

    result = pd.DataFrame({
        "account": rows["account"],
        "payment_id": rows["id"],
        "occurred_at": rows["occurred_at"],
        "kind": rows["kind"],
        "amount": amount,
        "previous_payment_id": rows["previous_id"].astype("Int64"),
        "previous_balance_after": previous_balance.astype("Int64"),
        "charges_between": between,
        "expected_balance_after": expected,
        "reported_balance_after": reported,
        "gap": (reported - expected).astype("Int64"),
    })
    return result[~before_period].reset_index(drop=True)


def breaks(connection: sa.Connection, period: Period, *,
           account_ids: list[int] | None = None) -> pd.DataFrame:
    """Records of ``period`` whose reported balance breaks the chain, in :data:`COLUMNS`.

    ``account_ids`` limits the check to those accounts (``None``: every account). Only a
    record with a known reported balance can break, so only the chains of the accounts
    holding one in the period are walked: a ledger imported without balances costs nothing here.
    """
    reported = queries.columns(connection, "chain_reported_accounts", {"start": period.start, "end": period.end},
                               account_ids=account_ids)["account_id"]
    checked = steps(connection, period, account_ids=reported)
    return checked[checked["gap"].fillna(0) != 0].reset_index(drop=True)

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
cut at each record's local day is settled here, in int64 minor units. The chain is
walked over numpy columns; :func:`steps` and :func:`breaks` hand it to the notebooks and
controls as DataFrames, :func:`break_records` to the reconciliation as plain records, so
that ``vosbench reconcile`` explains a difference without loading pandas.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import sqlalchemy as sa

from vosbench.analysis import day_cut, result_columns
from vosbench.core.periods import Period
from vosbench.ledger import database, queries

if TYPE_CHECKING:  # the frames are made for the notebooks and controls only
    import pandas as pd

COLUMNS = (
    "account", "payment_id", "occurred_at", "kind", "amount", "previous_payment_id",
    "previous_balance_after", "charges_between", "expected_balance_after",
    "reported_balance_after", "gap",
)
"""The columns of :func:`breaks` and :func:`steps`; money in minor units, gap = reported − expected."""

_EARLIEST_DAY = date(1, 1, 1)


class Break(NamedTuple):
    """One record whose reported balance breaks the chain, in :data:`COLUMNS` (None where unknown)."""

    account: str
    payment_id: int
    occurred_at: datetime
    kind: str
    amount: int
    previous_payment_id: int | None
    previous_balance_after: int | None
    charges_between: int
    expected_balance_after: int | None
    reported_balance_after: int
    gap: int


def _walk(connection: sa.Connection, period: Period, account_ids: list[int] | None) -> dict[str, list]:
    """Every checked step of the chain in ``period`` as columns of :data:`COLUMNS`: Python values, None where unknown.

    Rows come ordered per account (by occurred_at, then id), the account's lead-in first
    (:file:`queries/chain_steps.sql`); each account's running figures restart at its first row.
    """
    ledger_timezone = database.ledger_timezone(connection)
    rows = queries.columns(
        connection, "chain_steps",
        {"start": period.start, "end": period.end, "earliest_day": _EARLIEST_DAY},
        account_ids=account_ids, times={"occurred_at": sa.DateTime(), "day_before": sa.Date()},
    )
    count = len(rows["id"])
    if not count:
        return {name: [] for name in COLUMNS}
    account_id = result_columns.whole(rows["account_id"])[0]
    before_period = result_columns.whole(rows["before_period"])[0] == 1
    first_of_account = np.ones(count, dtype=bool)
    first_of_account[1:] = account_id[1:] != account_id[:-1]
    position = np.arange(count)
    account_start = np.maximum.accumulate(np.where(first_of_account, position, 0))  # each row's account's first row
    base = first_of_account & before_period  # the anchor the chain starts from
    opened_at_zero = first_of_account & ~before_period  # no record before this one
    reported, unreported = result_columns.whole(rows["balance_after"])
    amount = result_columns.whole(rows["amount"])[0]

    def previous(values: np.ndarray, first: np.ndarray | int) -> np.ndarray:
        """Each row's value of the row before it in its account; ``first`` for an account's first row."""
        return np.where(first_of_account, first, np.concatenate((values[:1], values[:-1])))

    shift, utc_day = day_cut.day_shift(rows["occurred_at"], ledger_timezone)
    correction = day_cut.charges_deducted_by(shift, utc_day, result_columns.whole(rows["charge_on_day"])[0],
                                             day_cut.days(rows["day_before"]),
                                             result_columns.whole(rows["charge_day_before"])[0])
    between = result_columns.whole(rows["charges_since_previous"])[0] + correction - previous(correction, 0)

    # X: the account's net movement since the anchor, as its records and charges say.
    movement = np.where(base, 0, amount - between)
    running = np.cumsum(movement)
    moved = running - (running[account_start] - movement[account_start])
    # A known balance fixes the level the chain continues from: expected = level + X, the level being
    # the last one known before the row in its account (0 for an account opened in the period).
    level = reported - moved
    last_known = np.maximum.accumulate(np.where(unreported, -1, position))
    known_before = np.concatenate(([-1], last_known[:-1]))
    has_level = known_before >= account_start
    expected_known = has_level | opened_at_zero[account_start]
    expected = np.where(has_level, level[np.maximum(known_before, 0)], 0) + moved

    balance = np.where(unreported, expected, reported)  # what the next record starts from
    balance_known = ~unreported | expected_known
    previous_balance = previous(balance, 0)
    previous_known = previous(balance_known, opened_at_zero)

    keep = ~before_period

    def kept(values, known: np.ndarray | None = None) -> list:
        listed = np.asarray(values, dtype=object if isinstance(values, list) else None)[keep].tolist()
        return listed if known is None else [v if k else None for v, k in zip(listed, known[keep].tolist())]

    previous_id, no_previous = result_columns.whole(rows["previous_id"])
    return {
        "account": kept(rows["account"]),
        "payment_id": kept(result_columns.whole(rows["id"])[0]),
        "occurred_at": kept(rows["occurred_at"]),
        "kind": kept(rows["kind"]),
        "amount": kept(amount),
        "previous_payment_id": kept(previous_id, ~no_previous),
        "previous_balance_after": kept(previous_balance, previous_known),
        "charges_between": kept(between),
        "expected_balance_after": kept(expected, expected_known),
        "reported_balance_after": kept(reported, ~unreported),
        "gap": kept(reported - expected, ~unreported & expected_known),
    }


def steps(connection: sa.Connection, period: Period, *,
          account_ids: list[int] | None = None) -> pd.DataFrame:
    """Every checked step of the chain in ``period``: one row per record, in :data:`COLUMNS`.

    ``expected_balance_after`` is NA where the chain has no known balance to start from
    yet; ``gap`` is NA where either side is unknown.
    """
    import pandas as pd

    walked = _walk(connection, period, account_ids)
    if not walked["payment_id"]:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in COLUMNS})
    return queries.result_frame(list(COLUMNS), zip(*walked.values()), times={"occurred_at"})


def _reported_accounts(connection: sa.Connection, period: Period, account_ids: list[int] | None) -> list[int]:
    """Of ``account_ids`` (None: every account), those holding a record with a known reported balance in ``period``.

    Only such a record can break, so only their chains are walked: a ledger imported
    without balances costs nothing here.
    """
    return queries.columns(connection, "chain_reported_accounts", {"start": period.start, "end": period.end},
                           account_ids=account_ids)["account_id"]


def breaks(connection: sa.Connection, period: Period, *,
           account_ids: list[int] | None = None) -> pd.DataFrame:
    """Records of ``period`` whose reported balance breaks the chain, in :data:`COLUMNS`.

    ``account_ids`` limits the check to those accounts (``None``: every account).
    """
    checked = steps(connection, period, account_ids=_reported_accounts(connection, period, account_ids))
    return checked[checked["gap"].fillna(0) != 0].reset_index(drop=True)


def break_records(connection: sa.Connection, period: Period, *,
                  account_ids: list[int] | None = None) -> list[Break]:
    """:func:`breaks` as plain records, in the chain's order (per account, by time): no DataFrame."""
    walked = _walk(connection, period, _reported_accounts(connection, period, account_ids))
    return [Break(*row) for row in zip(*walked.values()) if row[-1]]  # a gap that is neither unknown nor 0

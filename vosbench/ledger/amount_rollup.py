"""Count and sum of the payments per local month, amount bucket, kind, channel, method and currency.

An amount range ("at least 1,000", "10 to 50") makes the explore panel count records one by
one: a range read of the (kind, amount) index that at a million records passes 400,000
entries. This rollup keeps each month's records in buckets of their absolute amount on a
1-2-5 scale of minor units (…, 10, 20, 50, 100, …), so a range's count and sums are the
cells of the buckets it covers whole plus the records of at most two edge pieces (none
for a range between round figures). Months are cut in the ledger's time zone; the
currency is the account's, which never changes once it holds payments.

The rows are derived data, kept in the same transaction as every append
(:func:`add_payments`), rebuilt when records are purged (:func:`rebuild`), and
recomputed from the raw records by ``verify`` (:func:`recompute`).
"""

from __future__ import annotations

import bisect

import sqlalchemy as sa

from vosbench.ledger import coded_payments, payment_rollup, rollup_cells, tables

KEY_COLUMNS = ("month", "bucket", "kind", "channel", "method", "currency")
VALUE_COLUMNS = ("records", "amount")
BOUNDS = (0, *(step * 10**power for power in range(19) for step in (1, 2, 5) if step * 10**power < 2**63))
"""The buckets' lower bounds of |amount| in minor units; each bucket ends where the next begins."""


def bucket(amount: int) -> int:
    """The lower bound of the bucket holding ``amount``'s absolute value."""
    return BOUNDS[bisect.bisect_right(BOUNDS, abs(amount)) - 1]


def bucket_after(lower: int) -> int:
    """The bound after the bucket starting at ``lower`` (the last bucket ends at 2**63)."""
    index = bisect.bisect_right(BOUNDS, lower)
    return BOUNDS[index] if index < len(BOUNDS) else 2**63


def whole_buckets(low: int | None, high: int | None) -> tuple[int, int | None] | None:
    """The buckets ``low <= |amount| <= high`` covers whole, as (first bound, bound after the last; None: no end).

    None when it covers no bucket whole (its records are then all edge pieces).
    """
    first = bisect.bisect_left(BOUNDS, low or 0)
    if first == len(BOUNDS):
        return None
    if high is None:
        return BOUNDS[first], None
    after = bisect.bisect_right(BOUNDS, high + 1) - 1  # the last bound a bucket may end at (exclusive)
    if after <= first:
        return None
    return BOUNDS[first], BOUNDS[after]


def cells(payments: coded_payments.CodedPayments) -> rollup_cells.Cells:
    """The rollup cells of a batch of payments."""
    import numpy as np

    bounds = np.array(BOUNDS, dtype=np.int64)
    lower = np.searchsorted(bounds, np.abs(payments.amount).astype(np.int64), side="right") - 1
    key = (payments.month, coded_payments.Coded(lower, bounds.astype(object)), payments.kind, payments.channel,
           payments.method, payments.currency)
    return coded_payments.cells(key, (payments.records, payments.amount), payments.known)


def add_payments(payments: coded_payments.CodedPayments) -> None:
    """Fold newly appended payments into the rollup (in the append's transaction)."""
    rollup_cells.merge(payments.connection, tables.amount_rollup, KEY_COLUMNS, VALUE_COLUMNS, cells(payments))


def recompute(connection: sa.Connection) -> rollup_cells.Cells:
    """The rollup from the raw records (for ``verify`` and :func:`rebuild`)."""
    return rollup_cells.total(map(cells, coded_payments.read(connection)))


def stored(connection: sa.Connection) -> rollup_cells.Cells:
    """The rollup as kept."""
    return rollup_cells.stored(connection, tables.amount_rollup, KEY_COLUMNS, VALUE_COLUMNS)


def rebuild(connection: sa.Connection) -> None:
    """Replace the rollup with one recomputed from the raw records (a purge)."""
    rollup_cells.replace(connection, tables.amount_rollup, KEY_COLUMNS, VALUE_COLUMNS, recompute(connection))


def covers_ledger(connection: sa.Connection) -> bool:
    """Whether this connection may answer from the rollup (see :func:`payment_rollup.covers_ledger`)."""
    return payment_rollup.covers(connection, tables.amount_rollup)

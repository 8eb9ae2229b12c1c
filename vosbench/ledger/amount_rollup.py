"""Count and sum of the payments per local month, amount bucket, kind, channel, method and currency.

An amount range ("at least 1,000", "10 to 50") makes the explore panel count records one by
one: a range read of the (kind, amount) index that at a million records passes 400,000
entries. This rollup keeps each month's records in buckets of their absolute amount on a
1-2-5 scale of minor units (…, 10, 20, 50, 100, …), so a range's count and sums are the
cells of the buckets it covers whole plus the records of at most two edge pieces (none
for a range between round figures). Months are cut in the ledger's time zone; the
currency is the account's current one, as the panel's totals group by it.

The rows are derived data, kept in the same transaction as every append
(:func:`add_payments`), rebuilt when an account's currency changes or records are purged
(:func:`rebuild`), and recomputed from the raw records by ``verify`` (:func:`recompute`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from vosbench.ledger import database, payment_rollup, rollup_cells, tables

KEY_COLUMNS = ("month", "bucket", "kind", "channel", "method", "currency")
VALUE_COLUMNS = ("records", "amount")
BOUNDS = (0, *(step * 10**power for power in range(19) for step in (1, 2, 5) if step * 10**power < 2**63))
"""The buckets' lower bounds of |amount| in minor units; each bucket ends where the next begins."""


def bucket(amount: int) -> int:
    """The lower bound of the bucket holding ``amount``'s absolute value."""
    return BOUNDS[bisect.bisect_right(BOUNDS, abs(amount)) - 1]


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


def cells(connection: sa.Connection, account_ids: Sequence[int], times: Iterable[datetime], kinds: Iterable[str],
          channels: Iterable[str], methods: Iterable[str], amounts: Sequence[int]) -> rollup_cells.Cells:
    """The rollup cells of payments given as columns (one value per payment in each)."""
    keyer = payment_rollup.DayKeyer(database.ledger_timezone(connection))
    by_account: rollup_cells.Cells = {}
    for key, amount in zip(zip(account_ids, (keyer.of_instant(at)[:7] for at in times), map(bucket, amounts),
                               kinds, channels, methods), amounts):
        rollup_cells.fold(by_account, key, (1, amount))
    currency = payment_rollup.currencies(connection, account_ids)
    result: rollup_cells.Cells = {}
    for (account_id, month, lower, kind, channel, method), sums in by_account.items():
        if account_id in currency:  # an account removed behind the guards: its records join no account
            rollup_cells.fold(result, (month, lower, str(kind), str(channel), str(method), currency[account_id]), sums)
    return result


def add_payments(connection: sa.Connection, account_ids: Sequence[int], times: Iterable[datetime],
                 kinds: Iterable[str], channels: Iterable[str], methods: Iterable[str], amounts: Sequence[int]) -> None:
    """Fold newly appended payments into the rollup (in the append's transaction)."""
    added = cells(connection, account_ids, times, kinds, channels, methods, amounts)
    if added:
        table, months = tables.amount_rollup, [key[0] for key in added]
        rollup_cells.merge(connection, table, KEY_COLUMNS, VALUE_COLUMNS, added,
                           table.c.month.between(min(months), max(months)))


def recompute(connection: sa.Connection) -> rollup_cells.Cells:
    """The rollup from the raw records (for ``verify`` and :func:`rebuild`)."""
    payments = tables.payments
    return rollup_cells.recompute(connection, (payments.c.account_id, payments.c.occurred_at, payments.c.kind,
                                               payments.c.channel, payments.c.method,
                                               payments.c.amount), cells)


def stored(connection: sa.Connection) -> rollup_cells.Cells:
    """The rollup as kept."""
    return rollup_cells.stored(connection, tables.amount_rollup, KEY_COLUMNS, VALUE_COLUMNS)


def rebuild(connection: sa.Connection) -> None:
    """Replace the rollup with one recomputed from the raw records (a currency changed, a purge)."""
    rollup_cells.replace(connection, tables.amount_rollup, KEY_COLUMNS, VALUE_COLUMNS, recompute(connection))


def covers_ledger(connection: sa.Connection) -> bool:
    """Whether this connection may answer from the rollup (see :func:`payment_rollup.covers_ledger`)."""
    return payment_rollup.covers(connection, tables.amount_rollup)

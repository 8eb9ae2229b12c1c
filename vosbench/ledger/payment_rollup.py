"""Count and sum of the payments per local month and day, kind, channel, method and currency.

The explore panel's filters that name no account, amount or text (a period, kinds,
channels, methods, operators) select whole cells of this rollup: their count, per-kind
totals and charts are sums of at most a few thousand rows instead of a scan of every
record over history. Months ('M' rows) answer the whole months of a period and days ('D'
rows) its partial months; both are cut in the ledger's time zone, as month totals are.
Operators' months ('O' rows, one set per operator) answer a filter of operators over
whole months. The currency is the account's, which never changes once it holds payments.

The rows are derived data, kept in the same transaction as every append
(:func:`add_payments`), rebuilt when records are purged (:func:`rebuild`), and
recomputed from the raw records by ``verify`` (:func:`recompute`, :func:`stored`).
"""

from __future__ import annotations

import sqlalchemy as sa

from vosbench.ledger import coded_payments, rollup_cells, tables

MONTH, DAY, OPERATOR_MONTH = "M", "D", "O"
KEY_COLUMNS = ("grain", "operator", "period", "kind", "channel", "method", "currency")
VALUE_COLUMNS = ("records", "amount")
Cells = rollup_cells.Cells
"""(grain, operator, period, kind, channel, method, currency) → [records, amount]."""


def cells(payments: coded_payments.CodedPayments) -> Cells:
    """The rollup cells of a batch of payments (which must carry their operators)."""
    assert payments.operator is not None, "the payment rollup sums operators' months"
    words = (payments.kind, payments.channel, payments.method, payments.currency)
    values = (payments.records, payments.amount)
    result: Cells = {}
    for key in ((DAY, "", payments.day, *words), (MONTH, "", payments.month, *words),
                (OPERATOR_MONTH, payments.operator, payments.month, *words)):
        result.update(coded_payments.cells(key, values, payments.known))
    return result


def add_payments(payments: coded_payments.CodedPayments) -> None:
    """Fold newly appended payments into the rollup (in the append's transaction)."""
    rollup_cells.merge(payments.connection, tables.payment_rollup, KEY_COLUMNS, VALUE_COLUMNS, cells(payments))


def recompute(connection: sa.Connection) -> Cells:
    """The rollup from the raw records (for ``verify`` and :func:`rebuild`)."""
    return rollup_cells.total(map(cells, coded_payments.read(connection)))


def stored(connection: sa.Connection) -> Cells:
    """The rollup as kept."""
    return rollup_cells.stored(connection, tables.payment_rollup, KEY_COLUMNS, VALUE_COLUMNS)


def rebuild(connection: sa.Connection) -> None:
    """Replace the rollup with one recomputed from the raw records.

    For the rare change that moves records out of cells: a retention purge removed records.
    """
    rollup_cells.replace(connection, tables.payment_rollup, KEY_COLUMNS, VALUE_COLUMNS, recompute(connection))


def covers_ledger(connection: sa.Connection) -> bool:
    """Whether this connection may answer from the rollup: it holds rows, and so this login sees them.

    A scoped login (a reseller's or agent's) sees none of the rollup, which sums every
    account; its totals are counted from the records it sees. So does a login the rollup
    was not yet granted to or scoped for (a server ledger upgraded since ``server init``,
    until it is run again): the refusal is taken back to a savepoint, the transaction goes
    on. A ledger without payments has no rows either, and nothing to count.
    """
    return covers(connection, tables.payment_rollup)


def covers(connection: sa.Connection, table: sa.Table) -> bool:
    """Whether ``table`` (a rollup of every account) holds rows this login sees (see :func:`covers_ledger`)."""
    try:
        with connection.begin_nested():
            return connection.scalar(sa.select(sa.literal(1)).select_from(table).limit(1)) is not None
    except sa.exc.DBAPIError:
        return False


def operators(connection: sa.Connection) -> list[str]:
    """Every operator who recorded a payment, sorted: from the operators' month cells, or from the records when
    this login does not see the rollup (:func:`covers_ledger`; a scan, since no index holds the operator: the
    payment columns answer operator filters, see :data:`vosbench.ledger.tables.RETIRED_INDEXES`)."""
    if covers_ledger(connection):
        rollup = tables.payment_rollup
        found = connection.scalars(sa.select(rollup.c.operator).where(rollup.c.grain == OPERATOR_MONTH).distinct())
    else:
        found = connection.scalars(sa.select(tables.payments.c.operator).distinct())
    return sorted(found)

"""The totals the ledger keeps stay within the largest amount it can hold: a batch that would pass it is refused.

Each amount fits a signed 64-bit column (:data:`vosbench.core.money.MAX_MINOR` minor
units), but a sum of them need not: two deposits of 500 trillion into one account in one
month make a month total past it. SQLite would keep such a sum as a REAL — a float, money
no longer exact — where PostgreSQL and MariaDB raise an overflow. So the write door keeps
the totals of a batch (month totals, rollups) under a savepoint (:func:`kept_within`): when
the database refuses them — an overflow on a server, on SQLite the overflow a kept total's
sum raises instead of becoming a REAL (:func:`vosbench.ledger.database.kept_sum`), the SQLite
driver for a new total past 64 bits — or the
upkeep itself finds a change no BIGINT parameter holds (which MariaDB alone would add as a
DECIMAL), the savepoint is taken back, the total that would pass the bound is worked out exactly in
Python, and the batch is refused whole with one line naming it. Finding it costs reads
only on that rare path; a batch within bounds pays a savepoint.

:func:`non_integer_totals` is what ``verify`` reports of a SQLite ledger whose totals were
given a non-integer behind the ledger's back (the totals are derived data: ``verify`` also
recomputes them from the records).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

from vosbench.core.errors import VosbenchError
from vosbench.core.money import MAX_MINOR, format_money
from vosbench.ledger import (
    account_rollup,
    amount_rollup,
    coded_payments,
    month_totals,
    payment_rollup,
    rollup_cells,
    tables,
)

_ROLLUPS = ((payment_rollup, tables.payment_rollup, "period"), (account_rollup, tables.account_rollup, "month"),
            (amount_rollup, tables.amount_rollup, "month"))
"""Each rollup the payments keep: its module, table and the key column its kept cells are read by."""

_LARGEST = format_money(MAX_MINOR, 4)
KEPT_TOTALS = {
    "account_months": (*tables.MONTH_TOTAL_COLUMNS, "closing"),
    "payment_rollup": ("amount",),
    "account_rollup": ("amount", "moved"),
    "amount_rollup": ("amount",),
}
"""The money totals the ledger keeps (derived tables, updated by every append), by table: integers only."""
_MONTH_OF = {"account_months": "month", "payment_rollup": "period", "account_rollup": "month", "amount_rollup": "month"}
"""The column naming the month (or a day of it, 'YYYY-MM-DD', which sorts after 'YYYY-MM') of each table's totals."""


class TotalPastBound(VosbenchError, ValueError):
    """A batch would take a kept total past the largest amount the ledger can hold; nothing of it was written."""


@contextlib.contextmanager
def kept_within(connection: sa.Connection, file: str, deltas: month_totals.MonthDeltas,
                payments: coded_payments.CodedPayments | None = None) -> Iterator[None]:
    """Run the upkeep of a batch's totals (``deltas``, and the rollups of ``payments``) under a savepoint;
    refuse the batch with :class:`TotalPastBound` when a total it moves would pass the bound."""
    try:
        with connection.begin_nested():
            yield
    except (sa.exc.DBAPIError, OverflowError) as error:
        passed = first_past_bound(connection, deltas, payments)
        if passed is None:
            raise
        raise TotalPastBound(f"{file}: nothing was written: {passed}, past the largest amount the ledger can hold "
                             f"({_LARGEST}); check these amounts at their source") from error


def first_past_bound(connection: sa.Connection, deltas: month_totals.MonthDeltas,
                     payments: coded_payments.CodedPayments | None) -> str | None:
    """The first total the batch would take past the bound, in words; None when every one stays within it."""
    accounts = _account_numbers(connection)
    for account_id, month, what, value in month_totals.figures_after(connection, deltas):
        if abs(value) > MAX_MINOR:
            return f"account {accounts.get(account_id, account_id)}'s {what} of {month} would be {format_money(value, 4)}"
    if payments is None:
        return None
    for module, table, by in _ROLLUPS:
        keys, values = module.KEY_COLUMNS, module.VALUE_COLUMNS
        added = module.cells(payments)
        for change, cells in (("", rollup_cells.after(connection, table, keys, values, added, by)),
                              (" added by this batch", added)):
            for key, sums in sorted(cells.items(), key=lambda item: tuple(map(str, item[0]))):
                for name, value in zip(values, sums):
                    if abs(value) > MAX_MINOR:
                        return (f"{_cell_words(table.name, dict(zip(keys, key)), accounts)}: {_VALUE_WORDS[name]}{change} "
                                f"would be {format_money(value, 4)}")
    return None


_VALUE_WORDS = {"amount": "the total", "moved": "the money moved (sum of |amount|)", "records": "the count"}


def _cell_words(table: str, key: dict, accounts: dict[int, str]) -> str:
    """A rollup cell in words: whose payments, of which period, kind, channel, method and currency."""
    what = f"{key['kind']} payments by {key['channel']}/{key['method']} in {key['currency']}"
    if table == "account_rollup":
        account = accounts.get(key["account_id"], key["account_id"])
        whose = f"account {account}'s" if key["part"] == account_rollup.OWN else f"the accounts under {account}: their"
        return f"{whose} {what} of {key['month']}"
    if table == "payment_rollup" and key["grain"] == payment_rollup.OPERATOR_MONTH:
        return f"the {what} entered by {key['operator']} in {key['period']}"
    period = key["period"] if table == "payment_rollup" else key["month"]
    return f"the ledger's {what} of {period} (all accounts)"


def _account_numbers(connection: sa.Connection) -> dict[int, str]:
    return dict(connection.execute(sa.select(tables.accounts.c.id, tables.accounts.c.account)).all())


def non_integer_totals(connection: sa.Connection, since: str | None = None) -> list[tuple[str, str]]:
    """(table, what is wrong) of each kept total that is not an integer (a REAL written behind the ledger's back),
    in up to five rows per table; SQLite only, as the servers' BIGINT columns hold nothing else. ``since``
    (YYYY-MM) tests only the totals of that month and later (a month's audit: see
    :func:`vosbench.ledger.verification.verify`); without it, every total.

    One pass over each table tests all its columns (a pass per column read account_months
    fourteen times: 1.3 s of every audit at 1M payments).
    """
    if connection.dialect.name != "sqlite":
        return []
    found: list[tuple[str, str]] = []
    for name, columns in KEPT_TOTALS.items():
        table = tables.metadata.tables[name]
        keys = [column for column in table.primary_key.columns]
        kept = [table.c[column] for column in columns]
        span = [] if since is None else [table.c[_MONTH_OF[name]] >= since]  # tested first: the older rows cost a read
        for row in connection.execute(sa.select(*keys, *kept).where(
                *span, sa.or_(*(sa.func.typeof(column) != "integer" for column in kept))).limit(5)):
            where = " ".join(str(word) for word in row[:len(keys)] if word != "")
            found.extend((name, f"{name} {where}: {column} is {value!r}, not an integer: money kept as a float is no "
                                "longer exact (written behind the ledger's back)")
                         for column, value in zip(columns, row[len(keys):]) if not isinstance(value, int))
    return found

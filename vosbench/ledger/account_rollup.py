"""Count, sum and money moved of the payments per account (and per account's subtree), local month, kind, channel and method.

The explore panel's filters on accounts — one customer, or an agent's whole subtree — with
a period of whole months, kinds, channels and methods select whole cells of this rollup:
a subtree of 14,000 customers is one range of rows under its top account instead of
every record (or every month total) of every account in it. Each account has its own
records' cells (part ``OWN``) and, when accounts sit under it, their records' cells (part
``BELOW``, at any depth, following the kept account tree); a subtree is both parts of its
top account. ``moved`` (the sum of |amount|) ranks the top accounts of such a filter from
the own cells. Months are cut in the ledger's time zone; the currency is the account's
current one, as the panel's totals group by it.

The rows are derived data, kept in the same transaction as every append
(:func:`add_payments`), rebuilt when an account moves or changes currency or records are
purged (:func:`rebuild`), and recomputed from the raw records by ``verify`` (:func:`mismatches`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from vosbench.ledger import database, payment_rollup, rollup_cells, tables

OWN, BELOW = "A", "B"
KEY_COLUMNS = ("account_id", "part", "month", "kind", "channel", "method", "currency")
VALUE_COLUMNS = ("records", "amount", "moved")
_CHUNK = 500
_ACCOUNTS_AT_ONCE = 2_000
"""Accounts whose own cells are recomputed at once (at 10M records a fifth of a million records or fewer)."""
_TOPS_AT_ONCE = 50
"""Accounts whose below cells are summed at once (each holds up to months × kinds × channels × methods cells)."""


def _ancestors(connection: sa.Connection, account_ids: Iterable[int]) -> dict[int, list[int]]:
    """Each account's ancestors in the kept tree (itself left out)."""
    tree, wanted = tables.account_tree, sorted(set(account_ids))
    found: dict[int, list[int]] = {account_id: [] for account_id in wanted}
    for start in range(0, len(wanted), _CHUNK):
        for ancestor_id, account_id in connection.execute(
                sa.select(tree.c.ancestor_id, tree.c.account_id).where(tree.c.account_id.in_(wanted[start:start + _CHUNK]),
                                                                       tree.c.ancestor_id != tree.c.account_id)):
            found[account_id].append(ancestor_id)
    return found


def cells(connection: sa.Connection, account_ids: Sequence[int], times: Iterable[datetime], kinds: Iterable[str],
          channels: Iterable[str], methods: Iterable[str], amounts: Iterable[int], *, below: bool = True) -> rollup_cells.Cells:
    """The rollup cells of payments given as columns (one value per payment in each); ``below``: their
    ancestors' below cells too, else their accounts' own cells alone."""
    keyer = payment_rollup.DayKeyer(database.ledger_timezone(connection))
    by_account: rollup_cells.Cells = {}
    for key, amount in zip(zip(account_ids, (keyer.of_instant(at)[:7] for at in times), kinds, channels, methods), amounts):
        rollup_cells.fold(by_account, key, (1, amount, abs(amount)))
    currency = payment_rollup.currencies(connection, account_ids)
    above = _ancestors(connection, currency) if below else {}
    result: rollup_cells.Cells = {}
    for (account_id, month, kind, channel, method), sums in by_account.items():
        if account_id not in currency:  # an account removed behind the guards: its records join no account
            continue
        words = (month, str(kind), str(channel), str(method), currency[account_id])
        rollup_cells.fold(result, (account_id, OWN, *words), sums)
        for ancestor_id in above.get(account_id, ()):
            rollup_cells.fold(result, (ancestor_id, BELOW, *words), sums)
    return result


def add_payments(connection: sa.Connection, account_ids: Sequence[int], times: Iterable[datetime],
                 kinds: Iterable[str], channels: Iterable[str], methods: Iterable[str], amounts: Iterable[int]) -> None:
    """Fold newly appended payments into the rollup (in the append's transaction)."""
    added = cells(connection, account_ids, times, kinds, channels, methods, amounts)
    if not added:
        return
    table, touched = tables.account_rollup, sorted({key[0] for key in added})
    months = [key[2] for key in added]
    for start in range(0, len(touched), _CHUNK):  # each account's months are a range of the key
        chunk = set(touched[start:start + _CHUNK])
        rollup_cells.merge(connection, table, KEY_COLUMNS, VALUE_COLUMNS,
                           {key: sums for key, sums in added.items() if key[0] in chunk},
                           sa.and_(table.c.account_id.in_(sorted(chunk)), table.c.month.between(min(months), max(months))))


def _own_cells(connection: sa.Connection, first_id: int, last_id: int) -> rollup_cells.Cells:
    """The own cells of the accounts ``first_id``..``last_id``, from their raw records (one range of the account index)."""
    payments = tables.payments
    result: rollup_cells.Cells = {}
    for part in connection.execute(
            sa.select(payments.c.account_id, payments.c.occurred_at, payments.c.kind, payments.c.channel,
                      payments.c.method, payments.c.amount).where(payments.c.account_id.between(first_id, last_id)),
            execution_options={"yield_per": 100_000}).partitions():
        for key, sums in cells(connection, *zip(*part), below=False).items():
            rollup_cells.fold(result, key, sums)
    return result


def _below_cells(connection: sa.Connection, ancestor_ids: Sequence[int]) -> rollup_cells.Cells:
    """The below cells of ``ancestor_ids``: the kept own cells of every account under each, summed."""
    table, tree = tables.account_rollup, tables.account_tree
    words = [table.c[name] for name in KEY_COLUMNS[2:]]
    statement = (sa.select(tree.c.ancestor_id, *words, *(sa.func.sum(table.c[name]) for name in VALUE_COLUMNS))
                 .select_from(table.join(tree, tree.c.account_id == table.c.account_id))
                 .where(table.c.part == OWN, tree.c.ancestor_id.in_(ancestor_ids), tree.c.ancestor_id != tree.c.account_id)
                 .group_by(tree.c.ancestor_id, *words))
    return {(ancestor_id, BELOW, *rest[:len(words)]): [int(value) for value in rest[len(words):]]
            for ancestor_id, *rest in connection.execute(statement)}


def _chunks(connection: sa.Connection) -> tuple[list[tuple[int, int]], list[list[int]]]:
    """Account id ranges to recompute own cells by, and the accounts with accounts under them, in groups."""
    tree = tables.account_tree
    ids = list(connection.scalars(sa.select(tables.accounts.c.id).order_by(tables.accounts.c.id)))
    ranges = [(ids[start], ids[min(start + _ACCOUNTS_AT_ONCE, len(ids)) - 1]) for start in range(0, len(ids), _ACCOUNTS_AT_ONCE)]
    tops = sorted(connection.scalars(sa.select(tree.c.ancestor_id).where(tree.c.ancestor_id != tree.c.account_id).distinct()))
    return ranges, [tops[start:start + _TOPS_AT_ONCE] for start in range(0, len(tops), _TOPS_AT_ONCE)]


def rebuild(connection: sa.Connection) -> None:
    """Replace the rollup with one recomputed from the raw records (an account moved or changed currency, a purge).

    Account by account range (a whole ledger's cells do not fit in memory at ten million
    records): the own cells from the records, then each subtree's below cells from them.
    """
    table = tables.account_rollup
    connection.execute(table.delete())
    ranges, tops = _chunks(connection)
    for first_id, last_id in ranges:
        rollup_cells.insert(connection, table, KEY_COLUMNS, VALUE_COLUMNS, _own_cells(connection, first_id, last_id))
    for group in tops:
        rollup_cells.insert(connection, table, KEY_COLUMNS, VALUE_COLUMNS, _below_cells(connection, group))


def mismatches(connection: sa.Connection) -> list[str]:
    """What ``verify`` reports where the kept cells differ from the raw records: own cells recomputed from the
    records, below cells from the own cells (so from the records too), range by range as :func:`rebuild` works."""
    table, problems = tables.account_rollup, []
    ranges, tops = _chunks(connection)
    what = "the account rollup"
    for first_id, last_id in ranges:
        kept = rollup_cells.stored(connection, table, KEY_COLUMNS, VALUE_COLUMNS,
                                   sa.and_(table.c.part == OWN, table.c.account_id.between(first_id, last_id)))
        problems += rollup_cells.mismatches(kept, _own_cells(connection, first_id, last_id), what)
    kept = rollup_cells.stored(connection, table, KEY_COLUMNS, VALUE_COLUMNS,
                               sa.and_(table.c.part == BELOW, table.c.account_id.not_in([top for group in tops for top in group])))
    problems += rollup_cells.mismatches(kept, {}, what)  # below cells of an account nothing sits under
    for group in tops:
        kept = rollup_cells.stored(connection, table, KEY_COLUMNS, VALUE_COLUMNS,
                                   sa.and_(table.c.part == BELOW, table.c.account_id.in_(group)))
        problems += rollup_cells.mismatches(kept, _below_cells(connection, group), what)
    return problems


def covers_ledger(connection: sa.Connection) -> bool:
    """Whether this connection may answer from the rollup (see :func:`payment_rollup.covers_ledger`)."""
    return payment_rollup.covers(connection, tables.account_rollup)

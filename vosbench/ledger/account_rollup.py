"""Count, sum and money moved of the payments per account (and per account's subtree), local month, kind, channel and method.

The explore panel's filters on accounts — one customer, or an agent's whole subtree — with
a period of whole months, kinds, channels and methods select whole cells of this rollup:
a subtree of 14,000 customers is one range of rows under its top account instead of
every record (or every month total) of every account in it. Each account has its own
records' cells (part ``OWN``) and, when accounts sit under it, their records' cells (part
``BELOW``, at any depth, following the kept account tree); a subtree is both parts of its
top account. ``moved`` (the sum of |amount|) ranks the top accounts of such a filter from
the own cells. Months are cut in the ledger's time zone; the currency is the account's,
which never changes once it holds payments.

The rows are derived data, kept in the same transaction as every append
(:func:`add_payments`), rebuilt when an account moves or records are
purged (:func:`rebuild`), and recomputed from the raw records by ``verify`` (:func:`mismatches`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from vosbench.ledger import account_tree, coded_payments, payment_rollup, rollup_cells, tables

OWN, BELOW = "A", "B"
KEY_COLUMNS = ("account_id", "part", "month", "kind", "channel", "method", "currency")
VALUE_COLUMNS = ("records", "amount", "moved")
_CHUNK = 500
_ACCOUNTS_AT_ONCE = 2_000
"""Accounts whose own cells are recomputed at once (at 10M records a fifth of a million records or fewer)."""
_TOPS_AT_ONCE = 50
"""Accounts whose below cells are summed at once (each holds up to months × kinds × channels × methods cells)."""
WHOLE_TREE_FROM = 5_000
"""Accounts of a batch from which their ancestors are taken from the whole tree rather than read by chunks."""


def _ancestors(connection: sa.Connection, account_ids: Iterable[int]) -> dict[int, list[int]]:
    """Each account's ancestors in the kept tree (itself left out).

    Many accounts are taken from the whole tree, kept over a transaction
    (:func:`vosbench.ledger.account_tree.ancestors`: a bulk import touches most of them, part
    after part; the tree holds a few rows per account), a few are read by chunks of the tree's rows.
    """
    tree, wanted = tables.account_tree, sorted(set(account_ids))
    if len(wanted) > WHOLE_TREE_FROM:
        whole = account_tree.ancestors(connection)
        return {account_id: whole.get(account_id, []) for account_id in wanted}
    found: dict[int, list[int]] = {account_id: [] for account_id in wanted}
    pairs = sa.select(tree.c.ancestor_id, tree.c.account_id).where(tree.c.ancestor_id != tree.c.account_id)
    for start in range(0, len(wanted), _CHUNK):
        for ancestor_id, account_id in connection.execute(pairs.where(tree.c.account_id.in_(wanted[start:start + _CHUNK]))):
            found[account_id].append(ancestor_id)
    return found


def cells(payments: coded_payments.CodedPayments, *, below: bool = True) -> rollup_cells.Cells:
    """The rollup cells of a batch of payments; ``below``: their ancestors' below cells too, else their
    accounts' own cells alone."""
    import numpy as np

    words = (payments.month, payments.kind, payments.channel, payments.method, payments.currency)
    known = payments.known
    groups, sums = coded_payments.grouped(
        [column.codes[known] for column in (payments.account, *words)],
        [value[known] for value in (payments.records, payments.amount, np.abs(payments.amount))])
    result = coded_payments.as_cells((payments.account, OWN, *words), groups, sums)
    if not below or not len(groups[0]):
        return result
    # each own cell once per ancestor of its account, summed again per ancestor
    accounts = payments.account.words.tolist()
    above = _ancestors(payments.connection, accounts)
    pairs = [(code, ancestor_id) for code, account_id in enumerate(accounts) for ancestor_id in above[account_id]]
    if not pairs:
        return result
    pair_account = np.array([code for code, _ in pairs], dtype=np.int64)
    ancestor = coded_payments.coded([ancestor_id for _, ancestor_id in pairs])
    per_account = np.bincount(pair_account, minlength=len(accounts))
    first_pair = np.cumsum(per_account) - per_account  # pairs are in account code order
    repeats = per_account[groups[0]]
    cell = np.repeat(np.arange(len(groups[0])), repeats)
    pair = first_pair[groups[0]][cell] + np.arange(len(cell)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    regrouped, resummed = coded_payments.grouped([ancestor.codes[pair], *(group[cell] for group in groups[1:])],
                                                 [total[cell] for total in sums])
    result.update(coded_payments.as_cells((ancestor, BELOW, *words), regrouped, resummed))
    return result


def add_payments(payments: coded_payments.CodedPayments) -> None:
    """Fold newly appended payments into the rollup (in the append's transaction)."""
    rollup_cells.merge(payments.connection, tables.account_rollup, KEY_COLUMNS, VALUE_COLUMNS, cells(payments))


def _own_cells(connection: sa.Connection, first_id: int, last_id: int) -> rollup_cells.Cells:
    """The own cells of the accounts ``first_id``..``last_id``, from their raw records (one range of the account index)."""
    return rollup_cells.total(cells(part, below=False) for part in
                              coded_payments.read(connection, tables.payments.c.account_id.between(first_id, last_id)))


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
    """Replace the rollup with one recomputed from the raw records (an account moved, a purge).

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

"""Cells of a kept rollup: sums per key, folded in Python and merged into their table in the append's transaction.

The explore panel's rollups (:mod:`vosbench.ledger.payment_rollup`,
:mod:`vosbench.ledger.account_rollup`) are tables of integer sums (records, amounts) per
key. Each one computes the cells a batch of payments adds; this module folds them, adds
them to the rows already kept (one UPDATE per existing cell, one INSERT per new one, each
run as a batch) and reads, recomputes or replaces the whole table for ``verify`` and rebuilds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa

from vosbench.ledger import database

Cells = dict[tuple, list[int]]
"""Key → the sums kept for it (in the table's value column order)."""


def fold(sums: Cells, key: tuple, values: Sequence[int]) -> None:
    """Add ``values`` to the sums of ``key`` in ``sums``."""
    found = sums.get(key)
    if found is None:
        sums[key] = list(values)
    else:
        for index, value in enumerate(values):
            found[index] += value


def recompute(connection: sa.Connection, columns: Sequence[sa.Column], cells: Callable[..., Cells]) -> Cells:
    """A rollup from the raw records (for ``verify`` and rebuilds): ``columns`` read a part at a time, each
    part made into cells by ``cells(connection, *columns' values)`` and folded into one result."""
    result: Cells = {}
    for part in connection.execute(sa.select(*columns), execution_options={"yield_per": 100_000}).partitions():
        for key, sums in cells(connection, *zip(*part)).items():
            fold(result, key, sums)
    return result


def merge(connection: sa.Connection, table: sa.Table, keys: Sequence[str], values: Sequence[str], added: Cells,
          span: sa.ColumnElement[bool]) -> None:
    """Add ``added`` to ``table``'s rows: existing cells grow, new ones are inserted.

    ``span``: a condition selecting (at least) every kept row ``added`` may touch, read once
    to tell existing cells from new ones.
    """
    if not added:
        return
    present = set(connection.execute(sa.select(*(table.c[name] for name in keys)).where(span)).all())
    updates = [{**{f"b_{name}": value for name, value in zip(keys, key)},
                **{f"b_{name}": value for name, value in zip(values, sums)}}
               for key, sums in added.items() if key in present]
    inserts = [{**dict(zip(keys, key)), **dict(zip(values, sums))} for key, sums in added.items() if key not in present]
    database.execute_many(connection, table.update().where(*(table.c[name] == sa.bindparam(f"b_{name}") for name in keys))
                          .values({name: table.c[name] + sa.bindparam(f"b_{name}") for name in values}), updates)
    database.execute_many(connection, table.insert(), inserts)


def stored(connection: sa.Connection, table: sa.Table, keys: Sequence[str], values: Sequence[str],
           where: sa.ColumnElement[bool] | None = None) -> Cells:
    """``table``'s cells as kept (those ``where`` selects)."""
    statement = sa.select(*(table.c[name] for name in (*keys, *values)))
    return {tuple(row[:len(keys)]): [int(value) for value in row[len(keys):]]
            for row in connection.execute(statement if where is None else statement.where(where))}


def insert(connection: sa.Connection, table: sa.Table, keys: Sequence[str], values: Sequence[str], fresh: Cells) -> None:
    """Insert ``fresh`` as new rows of ``table``."""
    database.execute_many(connection, table.insert(), [{**dict(zip(keys, key)), **dict(zip(values, sums))}
                                                       for key, sums in fresh.items()])


def replace(connection: sa.Connection, table: sa.Table, keys: Sequence[str], values: Sequence[str], fresh: Cells) -> None:
    """Make ``fresh`` the whole of ``table``."""
    connection.execute(table.delete())
    insert(connection, table, keys, values, fresh)


def mismatches(kept: Cells, recomputed: Cells, what: str) -> list[str]:
    """One line per cell where the kept sums differ from the recomputed ones."""
    return [f"{what} for {' '.join(str(word) for word in key if word != '')} disagrees with the raw records "
            f"(kept {kept.get(key)}, recomputed {recomputed.get(key)})"
            for key in sorted(set(kept) | set(recomputed), key=lambda key: tuple(map(str, key)))
            if kept.get(key) != recomputed.get(key)]

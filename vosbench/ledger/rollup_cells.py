"""Cells of a kept rollup: sums per key, merged into their table in the append's transaction.

The explore panel's rollups (:mod:`vosbench.ledger.payment_rollup`,
:mod:`vosbench.ledger.account_rollup`) are tables of integer sums (records, amounts) per
key. Each one computes the cells a batch of payments adds (in bulk, from
:mod:`vosbench.ledger.coded_payments`); this module folds parts of them, adds
them to the rows already kept (one UPDATE per existing cell, one INSERT per new one, each
run as a batch) and reads, recomputes or replaces the whole table for ``verify`` and rebuilds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from vosbench.core.money import MAX_MINOR
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


def total(parts: Iterable[Cells]) -> Cells:
    """The cells of ``parts`` (a rollup's cells of the raw records, a part at a time) folded into one result."""
    result: Cells = {}
    for part in parts:
        for key, sums in part.items():
            fold(result, key, sums)
    return result


def merge(connection: sa.Connection, table: sa.Table, keys: Sequence[str], values: Sequence[str], added: Cells) -> None:
    """Add ``added`` to ``table``'s rows: existing cells grow, new ones are inserted — an upsert of every cell.

    The database tells existing cells from new ones by the table's primary key (``keys``):
    reading the kept cells first and splitting them into updates and inserts cost more than
    the writes themselves. SQLite and PostgreSQL say ``ON CONFLICT DO UPDATE``, MariaDB ``ON
    DUPLICATE KEY UPDATE``; each adds the new sums to the kept ones. SQLite takes every cell
    in one statement (:func:`vosbench.ledger.database.insert_many`), the servers one per cell.
    """
    if not added:
        return
    if min(map(min, added.values())) < -MAX_MINOR or max(map(max, added.values())) > MAX_MINOR:
        # no BIGINT parameter holds it: refused alike on every dialect, in words by vosbench.ledger.money_bounds
        raise OverflowError(f"a cell added to {table.name} passes 64 bits")
    dialect = connection.dialect.name

    def grown(new: sa.ColumnCollection) -> dict:  # each kept sum plus the new one
        return {name: database.kept_sum(dialect, table.c[name], new[name]) for name in values}

    # each dialect's upsert is imported where it is used: loading SQLAlchemy's PostgreSQL and MySQL
    # dialects costs a command's start-up a tenth of a second, and a ledger runs on one of them
    statement: sa.Insert
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects import mysql

        on_mariadb = mysql.insert(table)
        statement = on_mariadb.on_duplicate_key_update(grown(on_mariadb.inserted))
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        on_postgresql = postgresql.insert(table)
        statement = on_postgresql.on_conflict_do_update(index_elements=list(keys), set_=grown(on_postgresql.excluded))
    else:
        from sqlalchemy.dialects import sqlite

        on_sqlite = sqlite.insert(table)
        statement = on_sqlite.on_conflict_do_update(index_elements=list(keys), set_=grown(on_sqlite.excluded))
    database.insert_many(connection, statement, [(*key, *sums) for key, sums in added.items()], (*keys, *values))


def stored(connection: sa.Connection, table: sa.Table, keys: Sequence[str], values: Sequence[str],
           where: sa.ColumnElement[bool] | None = None) -> Cells:
    """``table``'s cells as kept (those ``where`` selects)."""
    statement = sa.select(*(table.c[name] for name in (*keys, *values)))
    return {tuple(row[:len(keys)]): [int(value) for value in row[len(keys):]]
            for row in connection.execute(statement if where is None else statement.where(where))}


def after(connection: sa.Connection, table: sa.Table, keys: Sequence[str], values: Sequence[str], added: Cells,
          by: str) -> Cells:
    """What :func:`merge` would make of ``added``'s cells: the kept sums plus the added ones.

    The kept cells are read by the key column ``by`` (a month or day: few values per batch),
    a few hundred values at a time.
    """
    place = list(keys).index(by)
    wanted = sorted({key[place] for key in added})
    result = {key: list(sums) for key, sums in added.items()}
    for start in range(0, len(wanted), 500):
        kept = stored(connection, table, keys, values, table.c[by].in_(wanted[start:start + 500]))
        for key, sums in result.items():
            for index, value in enumerate(kept.get(key, ())):
                sums[index] += value
    return result


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

"""Rows written the way a raw client (psql, sqlite3, a login's own script) would, linked to the chain head as the
write door links them: the database refuses a row of payments, charges or balances beside its head."""

from __future__ import annotations

import sqlalchemy as sa

from vosbench.ledger import tables


def insert_linked(connection: sa.Connection, table: sa.Table, row: dict) -> int:
    """Insert ``row`` into hash-chained ``table`` with the next id after its chain head, and move the head over it
    (its hash as the row gives it: ``verify`` names one that does not link); the row's id."""
    heads = tables.chain_heads
    last_id, count = connection.execute(sa.select(heads.c.last_id, heads.c.row_count)
                                        .where(heads.c.name == table.name)).one()
    connection.execute(table.insert().values(id=last_id + 1, **row))
    connection.execute(heads.update().where(heads.c.name == table.name)
                       .values(last_id=last_id + 1, head_hash=row["hash"], row_count=count + 1))
    return last_id + 1


def carry_head(connection: sa.Connection, table: str) -> None:
    """Move ``table``'s chain head over the rows a raw client just inserted past it, as the write door moves it (the
    database refuses, at commit, a row its head does not cover: a later write would take its id)."""
    heads = tables.chain_heads
    rows = tables.metadata.tables[table]
    last_id = connection.scalar(sa.select(sa.func.max(rows.c.id)))
    connection.execute(heads.update().where(heads.c.name == table, heads.c.last_id < last_id).values(
        row_count=heads.c.row_count + last_id - heads.c.last_id, last_id=last_id,
        head_hash=sa.select(rows.c.hash).where(rows.c.id == last_id).scalar_subquery()))

"""What someone holding the ledger file can do without any key: rewrite records and rebuild every chain.

After :func:`rebuild` the ledger is internally consistent again — every hash, link,
chain head and month total recomputed — so only an anchor kept elsewhere can show it.
"""

from __future__ import annotations

import sqlalchemy as sa

from vosbench.ledger import account_rollup, amount_rollup, database, guards, hashchain, month_totals, payment_rollup, tables


def rebuild(path, *statements: str) -> None:
    """Run ``statements`` with every guard lifted, then recompute every chain, month total and rollup and restore the guards."""
    engine = database.make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        for guard in guards.expected_guards("sqlite"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {guard.name}")
        for statement in statements:
            connection.exec_driver_sql(statement)
        for name in hashchain.CHAINED_TABLES:
            _rehash(connection, name)
        for name in hashchain.ROW_CHAINED_TABLES:
            _relink(connection, name)
        connection.execute(tables.account_months.delete())
        rows = [{"account_id": account_id, **figures} for (account_id, _month), figures in
                month_totals.recompute(connection).items()]
        if rows:
            connection.execute(tables.account_months.insert(), rows)
        payment_rollup.rebuild(connection)
        account_rollup.rebuild(connection)
        amount_rollup.rebuild(connection)
        for ddl in guards.append_only_ddl("sqlite"):
            connection.exec_driver_sql(ddl)
    engine.dispose()


def _rehash(connection: sa.Connection, name: str) -> None:
    table = tables.metadata.tables[name]
    columns = hashchain.chained_columns(table)
    previous, last_id, count = hashchain.GENESIS, 0, 0
    for row in connection.execute(sa.select(*(table.c[c] for c in columns)).order_by(table.c.id)).all():
        previous = hashchain.row_hash(previous, list(row))
        connection.execute(table.update().where(table.c.id == row[0]).values(hash=previous))
        last_id, count = row[0], count + 1
    _set_head(connection, name, last_id, previous, count)


def _relink(connection: sa.Connection, name: str) -> None:
    table, links = tables.metadata.tables[name], tables.row_links
    connection.execute(links.delete().where(links.c.table_name == name))
    previous, last_id, count = hashchain.GENESIS, 0, 0
    rowid = sa.literal_column("rowid")
    for row_id, text in connection.execute(
            sa.select(rowid, sa.func.json_array(*table.columns)).select_from(table).order_by(rowid)).all():
        previous = hashchain.link(previous, text)
        connection.execute(links.insert().values(table_name=name, row_id=row_id, hash=previous))
        last_id, count = row_id, count + 1
    _set_head(connection, name, last_id, previous, count)


def _set_head(connection: sa.Connection, name: str, last_id: int, head: str, count: int) -> None:
    heads = tables.chain_heads
    connection.execute(heads.update().where(heads.c.name == name)
                       .values(last_id=last_id, head_hash=head, row_count=count))

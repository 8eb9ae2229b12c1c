"""Moving a whole ledger between databases: SQLite to a server and back, row for row.

A copy is not a new recording: every table is carried over as stored (ids, hashes,
recorded times), so the hash chains of payments, charges and balances come out identical and
``verify`` holds at the destination. The other audit tables' row chains are made again by
the destination's own triggers as the rows arrive (each dialect links its own text of a row,
:mod:`vosbench.ledger.hashchain`): same rows, other heads. Verify the source before copying,
since a row changed there is linked as it stands. The destination must hold no records yet; it is
created (tables and append-only guards) if missing and takes the source's reporting
time zone and approval thresholds. The threshold triggers hold people, not a copy: on SQLite
they are lifted for it inside the transaction, on a server its owner copies. All of it is one
transaction at the destination: a copy is whole or absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from vosbench.core.config import mask_url
from vosbench.ledger import database, guards, readonly, setup, tables, text_index
from vosbench.ledger.database import StoreError
from vosbench.ledger.hashchain import CHAINED_TABLES
from vosbench.ledger.policy import ControlSettings

CHUNK = 20_000
"""Rows read and written at a time: memory stays bounded whatever the ledger's size."""

_REWRITTEN = ("ledger_meta", "chain_heads")
"""Tables a new ledger already fills (its time zone, empty chain heads): replaced by the source's rows
(the heads of the hashed chains only: the row chains' are the destination's own)."""

_LOCAL_META = (text_index.MARK_KEY,)
"""Meta values that describe the source database itself (SQLite's text index), not the ledger."""


class CopyError(StoreError):
    """The copy cannot be made (the destination already holds records); the message says what to do."""


@dataclass(frozen=True)
class CopyResult:
    """How many rows each table received."""

    rows: dict[str, int]


def copy_ledger(source_url: str, destination_url: str) -> CopyResult:
    """Copy the ledger at ``source_url`` into ``destination_url`` (new or empty)."""
    source = setup.open_ledger(source_url)
    try:
        with source.connect() as reading:
            timezone = database.ledger_timezone(reading)
        _check_no_other_tables(destination_url)
        # no thresholds of its own: the source's arrive with the other tables
        destination = setup.open_ledger(destination_url, create=True, timezone=timezone, controls=ControlSettings())
        try:
            with source.connect() as reading, destination.begin() as writing:
                _check_empty(writing, destination_url)
                on_sqlite = writing.dialect.name == "sqlite"
                if on_sqlite:  # a copy is no one's entry, nor linked row by row (on a server its owner is not held by these)
                    for guard in guards.threshold_guards("sqlite") + guards.chain_head_guards("sqlite"):
                        writing.exec_driver_sql(f"DROP TRIGGER {guard.name}")
                counts = {table.name: _copy_table(reading, writing, table) for table in tables.metadata.sorted_tables}
                if on_sqlite:
                    for ddl in guards.append_only_ddl("sqlite"):
                        writing.exec_driver_sql(ddl)
                if writing.dialect.name == "postgresql":
                    _advance_sequences(writing)
        finally:
            destination.dispose()
    finally:
        source.dispose()
    return CopyResult(counts)


def _check_no_other_tables(url: str) -> None:
    """Refuse a destination that holds tables of something other than a ledger (before any is made there): a copy
    goes into a new or empty database, or one that `server init` prepared, never beside another application's data."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:") or not Path(parsed.database).expanduser().is_file():
            return  # a new file
        engine = readonly.read_only_file(Path(parsed.database).expanduser().resolve())  # looked at, never written
    else:
        engine = database.make_engine(url)
    try:
        others = sorted(set(sa.inspect(engine).get_table_names()) - set(tables.metadata.tables))
    finally:
        engine.dispose()
    if others:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise CopyError(f"the destination {mask_url(url)} holds other tables ({shown}); copy into a new, empty "
                        "database (or one `vosbench server init` made)")


def _check_empty(connection: sa.Connection, url: str) -> None:
    held = [table.name for table in tables.metadata.sorted_tables
            if table.name not in _REWRITTEN and connection.scalar(sa.select(sa.literal(1)).select_from(table).limit(1))]
    if held:
        raise CopyError(f"the destination ledger {mask_url(url)} already holds rows in {', '.join(held)}; "
                        "copy into a new, empty database")


def _copy_table(reading: sa.Connection, writing: sa.Connection, table: sa.Table) -> int:
    if table.name == tables.row_links.name:
        return 0  # linked again at the destination as each row arrived
    statement = sa.select(table).order_by(*table.primary_key.columns)
    if table.name in _REWRITTEN:
        chosen = table.c.name.in_(CHAINED_TABLES) if table.name == "chain_heads" else sa.true()
        writing.execute(table.delete().where(chosen))  # both are kept-up tables, never journal ones
        statement = statement.where(chosen)
    if table.name == "ledger_meta":
        statement = statement.where(table.c.key.not_in(_LOCAL_META))
    copied = 0
    result = reading.execute(statement, execution_options={"stream_results": True, "yield_per": CHUNK})
    for rows in result.partitions(CHUNK):
        writing.execute(table.insert(), [row._asdict() for row in rows])
        copied += len(rows)
    return copied


def _advance_sequences(connection: sa.Connection) -> None:
    """PostgreSQL hands out ids from sequences that copied rows did not move: start them past the copy."""
    for table in tables.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue  # a table keyed otherwise has no sequence
        connection.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))

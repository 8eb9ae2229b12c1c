"""A bulk append to a row-chained table on SQLite: its rows linked a batch at a time instead of one trigger per row.

On SQLite each row inserted into a row-chained table fires its chain trigger, which
moves the chain head and inserts the row's link into ``row_links`` (itself guarded
against replacement by a trigger), and its guard against ``INSERT OR REPLACE``: on a
100k-line statement these per-row programs cost three times the inserts themselves.
Inside :func:`linked_in_batches` those three triggers are lifted for the length of the
writer's transaction, from its first batch on, and each batch appended is linked by
:func:`~vosbench.ledger.hashchain.seal_rows`, which computes every link exactly as the
trigger does: the same link function over SQLite's own ``json_array`` of the stored row,
in rowid order, from the locked chain head. ``verify`` recomputes them the same way.

SQLite serializes writers and its DDL is transactional: no other connection ever sees
the table without its triggers, and the caller's rows are plain INSERTs of new keys
(checked beforehand), so the uniqueness constraints still refuse any clash. The
triggers come back as the database held them, text for text, before the transaction
ends (a guard that was missing or altered stays so, for ``verify`` to report); a
transaction that fails is rolled back with them. A block that appends nothing (a file
imported again) changes no trigger. Other databases keep their triggers: there each
batch is appended as it is.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from vosbench.ledger import database, guards, hashchain, tables

Append = Callable[[], object]
"""Inserts one batch of rows into the table."""


def _lifted(name: str) -> tuple[str, ...]:
    """The triggers a bulk append to ``name`` runs without: its replacement guard and chain, and the links' guard."""
    return f"{name}_no_replace", f"{name}_chain", "row_links_no_replace"


@contextlib.contextmanager
def linked_in_batches(connection: sa.Connection, name: str) -> Iterator[Callable[[Append], int]]:
    """Append to row-chained table ``name`` in the block through what it yields: given a batch's ``append``,
    it runs it with the triggers lifted and links the rows it added (how many; none outside SQLite)."""
    if connection.dialect.name != "sqlite":
        def appended(append: Append) -> int:
            append()
            return 0

        yield appended
        return
    assert name in hashchain.ROW_CHAINED_TABLES, f"{name} carries its own hash chain"
    # the links go to the driver as tuples: SQLAlchemy's processing of each would cost more than the insert
    link = functools.partial(hashchain.seal_rows, connection, name, insert_links=functools.partial(
        database.execute_many, connection, tables.row_links.insert(), columns=("table_name", "row_id", "hash")))
    held: dict[str, str] | None = None  # the lifted triggers' text, once the first batch lifted them

    def linked(append: Append) -> int:
        nonlocal held
        if held is None:
            held = _lift(connection, name)
        append()
        return link()

    try:
        yield linked
    except BaseException:
        if held is not None:
            with contextlib.suppress(sa.exc.DBAPIError):  # the rollback that follows brings them back anyway
                _restore(connection, held)
        raise
    if held is not None:
        _restore(connection, held)


def _lift(connection: sa.Connection, name: str) -> dict[str, str]:
    """Drop the triggers of :func:`_lifted` that the database holds; their text, to put them back with."""
    present = guards.present_guards(connection)
    held = {trigger: present[trigger] for trigger in _lifted(name) if trigger in present}
    for trigger in held:  # names from this module, never from input
        connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
    return held


def _restore(connection: sa.Connection, held: dict[str, str]) -> None:
    for statement in held.values():  # the database's own text of each trigger
        connection.exec_driver_sql(statement)

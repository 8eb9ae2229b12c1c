"""A bulk append to a row-chained table on SQLite: its rows linked a batch at a time instead of one trigger per row.

On SQLite each row inserted into a row-chained table fires its chain trigger, which
moves the chain head and inserts the row's link into ``row_links`` (itself guarded
against replacement by a trigger), and its guard against ``INSERT OR REPLACE``: on a
100k-line statement these per-row programs cost three times the inserts themselves.
Inside :func:`linked_in_batches` those three triggers are lifted for the length of the
writer's transaction, and each batch appended is linked by
:func:`~vosbench.ledger.hashchain.seal_rows`, which computes every link exactly as the
trigger does: the same link function over SQLite's own ``json_array`` of the stored row,
in rowid order, from the locked chain head. ``verify`` recomputes them the same way.

SQLite serializes writers and its DDL is transactional: no other connection ever sees
the table without its triggers, and the caller's rows are plain INSERTs of new keys
(checked beforehand), so the uniqueness constraints still refuse any clash. The
triggers come back as the database held them, text for text, before the transaction
ends (a guard that was missing or altered stays so, for ``verify`` to report); a
transaction that fails is rolled back with them. Other databases keep their triggers:
the block then changes nothing.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from vosbench.ledger import database, guards, hashchain, tables


def _lifted(name: str) -> tuple[str, ...]:
    """The triggers a bulk append to ``name`` runs without: its replacement guard and chain, and the links' guard."""
    return f"{name}_no_replace", f"{name}_chain", "row_links_no_replace"


@contextlib.contextmanager
def linked_in_batches(connection: sa.Connection, name: str) -> Iterator[Callable[[], int]]:
    """Append to row-chained table ``name`` in the block, calling what it yields after each batch to link the batch.

    The call links every row past the chain head (how many); the rows left unlinked when
    the block ends are linked then. Outside SQLite the triggers link each row and the call
    links none.
    """
    if connection.dialect.name != "sqlite":
        yield lambda: 0
        return
    assert name in hashchain.ROW_CHAINED_TABLES, f"{name} carries its own hash chain"
    present = guards.present_guards(connection)
    held = {trigger: present[trigger] for trigger in _lifted(name) if trigger in present}
    for trigger in held:  # names from this module, never from input
        connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
    # the links go to the driver as tuples: SQLAlchemy's processing of each would cost more than the insert
    link = functools.partial(hashchain.seal_rows, connection, name, insert_links=functools.partial(
        database.execute_many, connection, tables.row_links.insert(), columns=("table_name", "row_id", "hash")))
    try:
        yield link
        link()
    except BaseException:
        with contextlib.suppress(sa.exc.DBAPIError):  # the rollback that follows brings them back anyway
            _restore(connection, held)
        raise
    _restore(connection, held)


def _restore(connection: sa.Connection, held: dict[str, str]) -> None:
    for statement in held.values():  # the database's own text of each trigger
        connection.exec_driver_sql(statement)

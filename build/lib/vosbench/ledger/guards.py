"""The append-only guards: the database itself refuses UPDATE and DELETE on the journal tables.

Each dialect gets its own DDL; an edit can then only happen behind the workbench's
back, and the hash chain (:mod:`vosbench.ledger.hashchain`) detects it.
"""

from __future__ import annotations

from vosbench.ledger.database import StoreError
from vosbench.ledger.tables import APPEND_ONLY_TABLES


def _sqlite_guards(table: str) -> list[str]:
    message = f"{table} is append-only: record a correction instead of editing"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        # INSERT OR REPLACE deletes the old row without firing delete triggers; refuse the key.
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    ]


def append_only_ddl(dialect: str) -> list[str]:
    """The statements that make the journal tables refuse UPDATE and DELETE."""
    if dialect == "sqlite":
        return [ddl for table in APPEND_ONLY_TABLES for ddl in _sqlite_guards(table)]
    raise StoreError(
        f"the append-only guard is not implemented for {dialect!r} yet; "
        "use an SQLite ledger (the default) until PostgreSQL/MariaDB support lands"
    )

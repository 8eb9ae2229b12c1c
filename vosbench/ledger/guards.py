"""The append-only guards: the database itself refuses UPDATE, DELETE and TRUNCATE on the journal tables.

Each dialect gets its own DDL, every statement idempotent so that creating or upgrading
a ledger may run it again; an edit can then only happen behind the workbench's back
(by the owner of the tables, who may drop a trigger), and the hash chain
(:mod:`vosbench.ledger.hashchain`) detects it. On a server the privileges given to the
application's roles (:mod:`vosbench.ledger.roles`) close the rest: the roles that write
may only INSERT into these tables and cannot drop what protects them.

- SQLite: BEFORE UPDATE/DELETE triggers, and a BEFORE INSERT trigger refusing an existing
  id, since ``INSERT OR REPLACE`` deletes the old row without firing delete triggers.
- PostgreSQL: one trigger function raising ``integrity_constraint_violation``, fired
  BEFORE UPDATE OR DELETE on every row and BEFORE TRUNCATE (upserts ``ON CONFLICT DO
  UPDATE`` fire the update trigger).
- MariaDB/MySQL: BEFORE UPDATE and BEFORE DELETE triggers that SIGNAL (``REPLACE`` and
  ``ON DUPLICATE KEY UPDATE`` fire them). TRUNCATE fires no trigger there: it needs the
  DROP privilege, which only the owner has.
"""

from __future__ import annotations

from vosbench.ledger.database import StoreError
from vosbench.ledger.tables import APPEND_ONLY_TABLES

REFUSAL = "is append-only: record a correction instead of editing"
"""The words every dialect's refusal carries after the table's name."""

_POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION vosbench_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' {REFUSAL}', "
    "ERRCODE = 'integrity_constraint_violation'; "
    "END $$"
)


def _sqlite_guards(table: str) -> list[str]:
    message = f"{table} {REFUSAL}"
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


def _postgresql_guards(table: str) -> list[str]:
    return [
        f"CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION vosbench_append_only()",
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION vosbench_append_only()",
    ]


def _mysql_guards(table: str) -> list[str]:
    refuse = f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{table} {REFUSAL}'"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW {refuse}",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW {refuse}",
    ]


_GUARDS = {"sqlite": _sqlite_guards, "postgresql": _postgresql_guards, "mysql": _mysql_guards,
           "mariadb": _mysql_guards}


def append_only_ddl(dialect: str) -> list[str]:
    """The statements that make the journal tables refuse UPDATE and DELETE (and TRUNCATE where it exists)."""
    guards = _GUARDS.get(dialect)
    if guards is None:
        raise StoreError(
            f"the append-only guard is not implemented for {dialect!r}; "
            "use SQLite (the default), PostgreSQL (postgresql+psycopg://…) or MariaDB (mysql+pymysql://…)"
        )
    preamble = [_POSTGRESQL_FUNCTION] if dialect == "postgresql" else []
    return preamble + [ddl for table in APPEND_ONLY_TABLES for ddl in guards(table)]

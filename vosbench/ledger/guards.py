"""The append-only guards: the database itself refuses UPDATE, DELETE and replacement on the audit tables.

Each dialect gets its own DDL; an edit can then only happen behind the workbench's
back, and a hash chain detects it. Tables with a ``hash`` column carry their chain
in the rows (:mod:`vosbench.ledger.hashchain`); every other guarded table is chained
by a trigger that folds each inserted row into its ``chain_heads`` entry, so an
accounts, back-office, statement or decision row edited behind the guards no longer
hashes to its link in ``row_links`` (see :data:`~vosbench.ledger.hashchain.ROW_CHAINED_TABLES`).

:func:`expected_guards` is what ``verify`` compares the database's own triggers with:
a guard that is missing or whose text differs is reported.

Per dialect:

- SQLite: BEFORE UPDATE/DELETE triggers (on payments, charges and balances a DELETE passes
  only for ids inside a ``purged_ranges`` row: the retention purge of :mod:`vosbench.ledger.archive`,
  which ``verify`` checks against its archive's manifest), and a BEFORE INSERT trigger refusing a
  row any of whose keys is taken, since ``INSERT OR REPLACE`` deletes the old row without firing delete
  triggers; the row-chain triggers above.
- PostgreSQL: one trigger function raising ``integrity_constraint_violation``, fired
  BEFORE UPDATE OR DELETE on every row and BEFORE TRUNCATE (upserts ``ON CONFLICT DO
  UPDATE`` fire the update trigger).
- MariaDB/MySQL: BEFORE UPDATE and BEFORE DELETE triggers that SIGNAL (``REPLACE`` and
  ``ON DUPLICATE KEY UPDATE`` fire them). TRUNCATE fires no trigger there: it needs the
  DROP privilege, which only the owner has.

On a server the privileges given to the application's roles (:mod:`vosbench.ledger.roles`)
close the rest: the roles that write may only INSERT into these tables and cannot drop what
protects them. Row chains and the comparison of installed guards are SQLite's for now.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vosbench.ledger.database import StoreError
from vosbench.ledger.hashchain import CHAINED_TABLES, LINK_FUNCTION, ROW_CHAINED_TABLES
from vosbench.ledger.tables import APPEND_ONLY_TABLES, metadata

GUARDED_TABLES = (*APPEND_ONLY_TABLES, "row_links")
"""The audit tables and the links that chain those without a hash column."""

REFUSAL = "is append-only: record a correction instead of editing"
"""The words every dialect's refusal carries after the table's name."""

_POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION vosbench_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' {REFUSAL}', "
    "ERRCODE = 'integrity_constraint_violation'; "
    "END $$"
)


@dataclass(frozen=True)
class Guard:
    """One trigger a guarded table must have: its name, table and the exact statement."""

    name: str
    table: str
    sql: str


def unique_keys(table: sa.Table) -> list[tuple[str, ...]]:
    """Every set of columns that identifies a row of ``table``: the primary key and each unique key."""
    unique = {tuple(column.name for column in constraint.columns) for constraint in table.constraints
              if isinstance(constraint, sa.UniqueConstraint)}
    unique |= {(column.name,) for column in table.columns if column.unique}
    # sorted: table.constraints is a set, and the guard's text must be the same in every process
    return list(dict.fromkeys([tuple(column.name for column in table.primary_key.columns), *sorted(unique)]))


def row_text_sql(table: sa.Table, prefix: str = "") -> str:
    """SQLite's canonical text of a row: ``json_array`` of every column in table order."""
    return "json_array(" + ", ".join(f"{prefix}{column.name}" for column in table.columns) + ")"


def _sqlite_guards(table: sa.Table) -> list[Guard]:
    name = table.name
    refuse = f"BEGIN SELECT RAISE(ABORT, '{name} is append-only: record a correction instead of editing'); END"
    # INSERT OR REPLACE deletes the old row without firing delete triggers: refuse every key it could use.
    taken = " OR ".join(
        f"EXISTS (SELECT 1 FROM {name} WHERE " + " AND ".join(f"{column} = NEW.{column}" for column in key) + ")"
        for key in unique_keys(table))
    # The journal's one deletion: a retention purge, of rows inside a range recorded with its archive.
    purged = (f" WHEN NOT EXISTS (SELECT 1 FROM purged_ranges WHERE table_name = '{name}' "
              "AND OLD.id BETWEEN first_id AND last_id)" if name in CHAINED_TABLES else "")
    guards = [
        Guard(f"{name}_no_update", name, f"CREATE TRIGGER {name}_no_update BEFORE UPDATE ON {name} {refuse}"),
        Guard(f"{name}_no_delete", name, f"CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {name}{purged} {refuse}"),
        Guard(f"{name}_no_replace", name,
              f"CREATE TRIGGER {name}_no_replace BEFORE INSERT ON {name} WHEN {taken} {refuse}"),
    ]
    if name in ROW_CHAINED_TABLES:
        guards.append(Guard(
            f"{name}_chain", name,
            f"CREATE TRIGGER {name}_chain AFTER INSERT ON {name} BEGIN UPDATE chain_heads SET "
            f"head_hash = {LINK_FUNCTION}(head_hash, {row_text_sql(table, 'NEW.')}), "
            f"row_count = row_count + 1, last_id = NEW.rowid WHERE name = '{name}'; "
            f"INSERT INTO row_links (table_name, row_id, hash) "
            f"SELECT name, NEW.rowid, head_hash FROM chain_heads WHERE name = '{name}'; END"))
    return guards


def _postgresql_guards(table: sa.Table) -> list[Guard]:
    name = table.name
    return [
        Guard(f"{name}_no_change", name, f"CREATE OR REPLACE TRIGGER {name}_no_change BEFORE UPDATE OR DELETE ON "
                                         f"{name} FOR EACH ROW EXECUTE FUNCTION vosbench_append_only()"),
        Guard(f"{name}_no_truncate", name, f"CREATE OR REPLACE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
                                           "FOR EACH STATEMENT EXECUTE FUNCTION vosbench_append_only()"),
    ]


def _mysql_guards(table: sa.Table) -> list[Guard]:
    name = table.name
    refuse = f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{name} {REFUSAL}'"
    return [
        Guard(f"{name}_no_update", name, f"CREATE TRIGGER {name}_no_update BEFORE UPDATE ON {name} FOR EACH ROW {refuse}"),
        Guard(f"{name}_no_delete", name, f"CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {name} FOR EACH ROW {refuse}"),
    ]


_GUARDS = {"sqlite": _sqlite_guards, "postgresql": _postgresql_guards, "mysql": _mysql_guards,
           "mariadb": _mysql_guards}


def expected_guards(dialect: str) -> list[Guard]:
    """The triggers the guarded tables must have on ``dialect`` (what ``verify`` compares them with)."""
    guards = _GUARDS.get(dialect)
    if guards is None:
        raise StoreError(
            f"the append-only guard is not implemented for {dialect!r}; "
            "use SQLite (the default), PostgreSQL (postgresql+psycopg://…) or MariaDB (mysql+pymysql://…)"
        )
    return [guard for name in GUARDED_TABLES for guard in guards(metadata.tables[name])]


def append_only_ddl(dialect: str) -> list[str]:
    """The statements that make the guarded tables refuse UPDATE, DELETE, TRUNCATE and replacement (idempotent)."""
    statements = [guard.sql if dialect == "postgresql" else
                  guard.sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
                  for guard in expected_guards(dialect)]
    return ([_POSTGRESQL_FUNCTION] if dialect == "postgresql" else []) + statements


def present_guards(connection: sa.Connection) -> dict[str, str]:
    """The triggers the database holds: name → statement as stored (SQLite; servers are not compared yet)."""
    if connection.dialect.name != "sqlite":
        raise StoreError(f"comparing the installed guards of a {connection.dialect.name!r} ledger is not "
                         "implemented yet; its roles' privileges are what holds there")
    return dict(connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all())

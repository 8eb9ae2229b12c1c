"""The append-only guards: the database itself refuses UPDATE, DELETE and replacement on the audit tables.

Each dialect gets its own DDL; an edit can then only happen behind the workbench's
back, and a hash chain detects it. Tables with a ``hash`` column carry their chain
in the rows (:mod:`vosbench.ledger.hashchain`); every other guarded table is chained
by a trigger that folds each inserted row into its ``chain_heads`` entry, so an
accounts, back-office, statement or decision row edited behind the guards no longer
hashes to its link in ``row_links`` (see :data:`~vosbench.ledger.hashchain.ROW_CHAINED_TABLES`).
On every dialect the link is sha256(previous head + the row's text), the text being that
dialect's own JSON of the row (:func:`~vosbench.ledger.hashchain.row_text_sql`), so
verification recomputes it on the same database.

:func:`expected_guards` is what ``verify`` compares the database's catalogue with
(:func:`present_guards`): a guard that is missing, whose text differs or that is disabled
is reported, and so is a trigger vosbench did not make on a guarded table.

Per dialect:

- SQLite: BEFORE UPDATE/DELETE triggers (on payments, charges and balances a DELETE passes
  only for ids inside a ``purged_ranges`` row: the retention purge of :mod:`vosbench.ledger.archive`,
  which ``verify`` checks against its archive's manifest), and a BEFORE INSERT trigger refusing a
  row any of whose keys is taken, since ``INSERT OR REPLACE`` deletes the old row without firing delete
  triggers; an AFTER INSERT trigger per row-chained table calling the link function the ledger's
  connections register. Writers are serialized by SQLite itself.
  The kept money totals get BEFORE INSERT/UPDATE triggers refusing a non-integer (:func:`integer_guards`).
- PostgreSQL: one trigger function raising ``integrity_constraint_violation``, fired
  BEFORE UPDATE OR DELETE on every row and BEFORE TRUNCATE (upserts ``ON CONFLICT DO
  UPDATE`` fire the update trigger; the same purged-range exception for DELETE). The row
  chain: ``row_to_json`` of the row hashed by the built-in ``sha256`` in an AFTER INSERT
  row trigger, and a BEFORE INSERT statement trigger that locks the chain head before the
  statement's rows draw their ids from the sequence, so writers side by side link in id
  order and never fork a chain. Both run as the owner (``SECURITY DEFINER``): the auditor's
  role appends notes but may not move chain heads. ``verify`` reads ``pg_trigger`` through
  ``pg_get_triggerdef`` (a trigger disabled with ``ALTER TABLE … DISABLE TRIGGER`` counts as
  tampering) and the functions' bodies in ``pg_proc``.
- MariaDB/MySQL: BEFORE UPDATE and BEFORE DELETE triggers that SIGNAL (``REPLACE`` and
  ``ON DUPLICATE KEY UPDATE`` fire them; DELETE passes for purged ranges). TRUNCATE fires no
  trigger there: it needs the DROP privilege, which only the owner has. The row chain:
  ``JSON_ARRAY`` of the row through ``SHA2(…, 256)`` in an AFTER INSERT trigger, and a BEFORE
  INSERT trigger locking the chain head's row before the row takes its AUTO_INCREMENT id.
  Triggers run with their definer's (the owner's) rights. ``verify`` reads
  ``information_schema.TRIGGERS``; MariaDB has no way to disable a trigger, only to drop it.

On a server the three back-office tables keyed without an id (operators, managed accounts,
commission rates) have their links numbered by place in the chain, and verification matches
rows to links by content. The privileges given to the application's roles
(:mod:`vosbench.ledger.roles`) close the rest: the roles that write may only INSERT into these
tables and cannot drop what protects them; the owner can, and the chains and the comparison
of installed guards are what show it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vosbench.ledger import hashchain
from vosbench.ledger.database import StoreError
from vosbench.ledger.hashchain import CHAINED_TABLES, LINK_FUNCTION, ROW_CHAINED_TABLES
from vosbench.ledger.tables import APPEND_ONLY_TABLES, MONTH_TOTAL_COLUMNS, metadata

GUARDED_TABLES = (*APPEND_ONLY_TABLES, "row_links")
"""The audit tables and the links that chain those without a hash column."""

REFUSAL = "is append-only: record a correction instead of editing"
"""The words every dialect's refusal carries after the table's name."""


@dataclass(frozen=True)
class Guard:
    """One trigger (or trigger function) a guarded table must have: its name, table, the statement that
    makes it, and how the database's catalogue shows it intact where that is not the statement itself."""

    name: str
    table: str
    sql: str
    installed: str = ""

    @property
    def catalogued(self) -> str:
        """What :func:`present_guards` gives for this guard when it is as vosbench made it."""
        return self.installed or self.sql


_PURGEABLE = ", ".join(f"'{name}'" for name in CHAINED_TABLES)
_PG_ROW_TEXT = hashchain.row_text_sql("postgresql", metadata.tables["accounts"], "NEW.")
"""``row_to_json(NEW)::text``: PostgreSQL's text is of the whole row, so one function serves every table."""

_POSTGRESQL_FUNCTIONS = {
    # the journal's one deletion: a retention purge, of rows inside a range recorded with its archive
    "vosbench_append_only": (
        "BEGIN "
        f"IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ({_PURGEABLE}) THEN "
        "IF EXISTS (SELECT 1 FROM purged_ranges WHERE table_name = TG_TABLE_NAME "
        "AND OLD.id BETWEEN first_id AND last_id) THEN RETURN OLD; END IF; "
        "END IF; "
        f"RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' {REFUSAL}', "
        "ERRCODE = 'integrity_constraint_violation'; "
        "END "),
    # before a statement's rows take their ids: concurrent writers then link in id order
    "vosbench_chain_lock": (
        "BEGIN UPDATE chain_heads SET row_count = row_count WHERE name = TG_TABLE_NAME; RETURN NULL; END "),
    "vosbench_chain_row": (
        "BEGIN "
        "UPDATE chain_heads SET head_hash = encode(sha256(convert_to(head_hash || "
        f"{_PG_ROW_TEXT}, 'UTF8')), 'hex'), "
        "row_count = row_count + 1, last_id = COALESCE((to_jsonb(NEW) ->> 'id')::integer, row_count + 1) "
        "WHERE name = TG_TABLE_NAME; "
        "INSERT INTO row_links (table_name, row_id, hash) "
        "SELECT name, last_id, head_hash FROM chain_heads WHERE name = TG_TABLE_NAME; "
        "RETURN NULL; END "),
}
"""The trigger functions' bodies, as ``pg_proc.prosrc`` holds them."""

_DEFINER = {"vosbench_chain_lock", "vosbench_chain_row"}
"""Functions that run as the ledger's owner: the auditor's role appends rows but may not move chain heads."""


def _postgresql_function(name: str, body: str) -> Guard:
    security = " SECURITY DEFINER SET search_path = public, pg_temp" if name in _DEFINER else ""
    return Guard(name, "", f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql{security} "
                           f"AS $${body}$$", installed=body)


def unique_keys(table: sa.Table) -> list[tuple[str, ...]]:
    """Every set of columns that identifies a row of ``table``: the primary key and each unique key."""
    unique = {tuple(column.name for column in constraint.columns) for constraint in table.constraints
              if isinstance(constraint, sa.UniqueConstraint)}
    unique |= {(column.name,) for column in table.columns if column.unique}
    # sorted: table.constraints is a set, and the guard's text must be the same in every process
    return list(dict.fromkeys([tuple(column.name for column in table.primary_key.columns), *sorted(unique)]))


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
            f"head_hash = {LINK_FUNCTION}(head_hash, {hashchain.row_text_sql('sqlite', table, 'NEW.')}), "
            f"row_count = row_count + 1, last_id = NEW.rowid WHERE name = '{name}'; "
            f"INSERT INTO row_links (table_name, row_id, hash) "
            f"SELECT name, NEW.rowid, head_hash FROM chain_heads WHERE name = '{name}'; END"))
    return guards


INTEGER_TOTALS = {
    "account_months": (*MONTH_TOTAL_COLUMNS, "closing"),
    "payment_rollup": ("amount",),
    "account_rollup": ("amount", "moved"),
    "amount_rollup": ("amount",),
}
"""The kept totals of money (derived tables, updated by every append) and their columns: SQLite must never
hold them as anything but integers (see :func:`integer_guards`)."""


def integer_guards() -> list[Guard]:
    """SQLite's guards keeping the money totals integers, whoever writes them.

    SQLite turns an integer sum past 64 bits into a REAL, and takes a REAL into an INTEGER
    column as it is: money would become a float. A BEFORE INSERT and a BEFORE UPDATE trigger
    per totals table refuse any row whose totals are not integers. The write door refuses a
    batch past the bound with its own words first (:mod:`vosbench.ledger.money_bounds`); these
    hold against SQL written behind the ledger's back. The servers' BIGINT columns hold integers only.
    """
    guards = []
    for name, columns in INTEGER_TOTALS.items():
        other = " OR ".join(f"typeof(NEW.{column}) != 'integer'" for column in columns)
        refuse = (f"BEGIN SELECT RAISE(ABORT, '{name}: a money total is not an integer (a sum past the largest "
                  "amount the ledger can hold, or a float); money stays exact'); END")
        guards += [Guard(f"{name}_integer_{event.lower()}", name,
                         f"CREATE TRIGGER {name}_integer_{event.lower()} BEFORE {event} ON {name} WHEN {other} {refuse}")
                   for event in ("INSERT", "UPDATE")]
    return guards


def _postgresql_guards(table: sa.Table) -> list[Guard]:
    name = table.name

    def trigger(suffix: str, when: str, function: str) -> Guard:
        # as pg_get_triggerdef shows it (schema left out), so that the catalogue can be compared with it
        shown = f"CREATE TRIGGER {name}_{suffix} {when} ON {name} {function}"
        return Guard(f"{name}_{suffix}", name, shown.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1), shown)

    guards = [
        trigger("no_change", "BEFORE DELETE OR UPDATE", "FOR EACH ROW EXECUTE FUNCTION vosbench_append_only()"),
        trigger("no_truncate", "BEFORE TRUNCATE", "FOR EACH STATEMENT EXECUTE FUNCTION vosbench_append_only()"),
    ]
    if name in ROW_CHAINED_TABLES:
        guards += [
            trigger("chain_lock", "BEFORE INSERT", "FOR EACH STATEMENT EXECUTE FUNCTION vosbench_chain_lock()"),
            trigger("chain", "AFTER INSERT", "FOR EACH ROW EXECUTE FUNCTION vosbench_chain_row()"),
        ]
    return guards


def _mysql_guards(table: sa.Table) -> list[Guard]:
    name = table.name
    refuse = f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{name} {REFUSAL}'"
    delete = refuse
    if name in CHAINED_TABLES:  # the journal's one deletion, as on SQLite: a recorded retention purge
        delete = (f"BEGIN IF NOT EXISTS (SELECT 1 FROM purged_ranges WHERE table_name = '{name}' "
                  f"AND OLD.id BETWEEN first_id AND last_id) THEN {refuse}; END IF; END")

    def trigger(suffix: str, when: str, body: str) -> Guard:
        # as information_schema.TRIGGERS gives it back (see present_guards)
        return Guard(f"{name}_{suffix}", name, f"CREATE TRIGGER {name}_{suffix} {when} ON {name} FOR EACH ROW {body}")

    guards = [trigger("no_update", "BEFORE UPDATE", refuse), trigger("no_delete", "BEFORE DELETE", delete)]
    if name in ROW_CHAINED_TABLES:
        text = hashchain.row_text_sql("mysql", table, "NEW.")
        # MySQL assigns left to right: row_count is already the new one where last_id reads it
        row_id = "NEW.id" if hashchain.row_key("mysql", table) else "row_count"
        guards += [
            # before the row takes its AUTO_INCREMENT id: concurrent writers then link in id order
            trigger("chain_lock", "BEFORE INSERT", f"UPDATE chain_heads SET row_count = row_count WHERE name = '{name}'"),
            trigger("chain", "AFTER INSERT",
                    f"BEGIN UPDATE chain_heads SET head_hash = SHA2(CONVERT(CONCAT(head_hash, {text}) USING utf8mb4), "
                    f"256), row_count = row_count + 1, last_id = {row_id} WHERE name = '{name}'; "
                    "INSERT INTO row_links (table_name, row_id, hash) "
                    f"SELECT name, last_id, head_hash FROM chain_heads WHERE name = '{name}'; END"),
        ]
    return guards


_GUARDS = {"sqlite": _sqlite_guards, "postgresql": _postgresql_guards, "mysql": _mysql_guards,
           "mariadb": _mysql_guards}


def expected_guards(dialect: str) -> list[Guard]:
    """The triggers (and on PostgreSQL their functions) the guarded tables must have on ``dialect``:
    what ``verify`` compares the database's catalogue with."""
    guards = _GUARDS.get(dialect)
    if guards is None:
        raise StoreError(
            f"the append-only guard is not implemented for {dialect!r}; "
            "use SQLite (the default), PostgreSQL (postgresql+psycopg://…) or MariaDB (mysql+pymysql://…)"
        )
    functions = ([_postgresql_function(name, body) for name, body in _POSTGRESQL_FUNCTIONS.items()]
                 if dialect == "postgresql" else [])
    totals = integer_guards() if dialect == "sqlite" else []
    return functions + [guard for name in GUARDED_TABLES for guard in guards(metadata.tables[name])] + totals


def append_only_ddl(dialect: str) -> list[str]:
    """The statements that make the guarded tables refuse UPDATE, DELETE, TRUNCATE and replacement and
    chain their rows (idempotent; on PostgreSQL they also replace a guard of an earlier form)."""
    return [guard.sql if dialect == "postgresql" else
            guard.sql.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
            for guard in expected_guards(dialect)]


DISABLED = "(disabled) "
"""What :func:`present_guards` puts before a trigger the database holds but does not fire."""

_PRESENT_SQL = {
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'",
    # 'O' fires in a normal session, 'A' always; 'D' (disabled) and 'R' (replica only) do not fire
    "postgresql": "SELECT t.tgname, CASE WHEN t.tgenabled IN ('O', 'A') THEN '' ELSE :disabled END || "
                  "regexp_replace(pg_get_triggerdef(t.oid), ' ON [^ ]+[.]', ' ON ') "
                  "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                  "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace "
                  "UNION ALL SELECT proname, prosrc FROM pg_proc "
                  "WHERE proname LIKE 'vosbench%' AND pronamespace = current_schema()::regnamespace",
    "mysql": "SELECT TRIGGER_NAME, CONCAT('CREATE TRIGGER ', TRIGGER_NAME, ' ', ACTION_TIMING, ' ', EVENT_MANIPULATION, "
             "' ON ', EVENT_OBJECT_TABLE, ' FOR EACH ROW ', ACTION_STATEMENT) "
             "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
}


_MYSQL_MAY_SEE_TRIGGERS = (
    "SELECT 1 FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'TRIGGER' "
    "UNION ALL SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES "
    "WHERE PRIVILEGE_TYPE = 'TRIGGER' AND TABLE_SCHEMA = DATABASE()")


def present_guards(connection: sa.Connection) -> dict[str, str]:
    """The triggers (and trigger functions) the database holds: name → as :attr:`Guard.catalogued` shows it.

    A PostgreSQL trigger that is there but disabled comes with :data:`DISABLED` before it.
    """
    dialect = "mysql" if connection.dialect.name == "mariadb" else connection.dialect.name
    if dialect not in _PRESENT_SQL:
        raise StoreError(f"comparing the installed guards of a {connection.dialect.name!r} ledger is not implemented")
    if dialect == "mysql" and not connection.execute(sa.text(_MYSQL_MAY_SEE_TRIGGERS)).first():
        raise StoreError("MariaDB shows a database's triggers only to logins holding its TRIGGER privilege, which "
                         "the application's roles do not; run `vosbench verify` as the ledger's owner to compare them")
    return {name: text for name, text in connection.execute(sa.text(_PRESENT_SQL[dialect]), {"disabled": DISABLED})}
